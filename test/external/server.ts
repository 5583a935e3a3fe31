/**
 * A tiny HTTP server on 127.0.0.1 for the download tests: serves byte buffers (with Range
 * support), can cut a connection part-way, and logs every request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  body: Buffer;
  /** Cut the connection after this many body bytes, for the first `cutTimes` requests. */
  cutAfter?: number;
  cutTimes?: number;
  /** Ignore Range headers (answer 200 with the whole body). */
  noRange?: boolean;
  status?: number;
}

export interface TestServer {
  url: (path: string) => string;
  routes: Map<string, Route>;
  log: { path: string; range: string | undefined }[];
  close: () => Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const routes = new Map<string, Route>();
  const log: TestServer['log'] = [];
  const cuts = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const range = req.headers.range;
    log.push({ path, range });
    const route = routes.get(path);
    if (!route) {
      res.writeHead(404, 'Not Found').end('not found');
      return;
    }
    if (route.status !== undefined) {
      res.writeHead(route.status).end();
      return;
    }
    let start = 0;
    const m = range && !route.noRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= route.body.length) {
        res.writeHead(416, { 'content-range': `bytes */${route.body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': route.body.length - start,
        'content-range': `bytes ${start}-${route.body.length - 1}/${route.body.length}`,
      });
    } else {
      res.writeHead(200, { 'content-length': route.body.length });
    }
    const body = route.body.subarray(start);
    const done = cuts.get(path) ?? 0;
    if (route.cutAfter !== undefined && done < (route.cutTimes ?? 1)) {
      cuts.set(path, done + 1);
      res.write(body.subarray(0, route.cutAfter), () => {
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    res.end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    routes,
    log,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}
