/**
 * Serves the example web page on 127.0.0.1: the page itself, a model exported with
 * `tsf.exportForWeb` under `/model/`, and the `@tensorflow/tfjs` and
 * `@tensorflow/tfjs-backend-wasm` browser bundles straight from node_modules (no CDN).
 *
 *   npm run example:web -- --model path/to/web-model [--port 8080]
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Folder of an npm package's browser bundles (`dist/`). */
function distOf(pkg: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'dist');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** Folder written by `tsf.exportForWeb` (`model.json`, `weights.bin`, `inference.json`). */
  modelDir: string;
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
}

/** A running server and its URL. */
export interface RunningServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Starts the example's static server on 127.0.0.1.
 * @param options - The exported model folder and the port.
 * @returns The URL and a `close` function.
 * @example
 * ```ts
 * const { url, close } = await startServer({ modelDir: 'web-model', port: 0 });
 * ```
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const modelDir = resolve(options.modelDir);
  for (const f of ['model.json', 'weights.bin', 'inference.json']) {
    if (!existsSync(join(modelDir, f))) {
      throw new Error(
        `No web export in "${modelDir}" (${f} is missing): write one with ` +
          '`await tsf.exportForWeb(learn, dir)` (or `npx tsx examples/web/train.ts`), then pass --model dir',
      );
    }
  }
  const roots: [string, string][] = [
    ['/vendor/tfjs/', distOf('@tensorflow/tfjs')],
    ['/vendor/tfjs-backend-wasm/', distOf('@tensorflow/tfjs-backend-wasm')],
    ['/model/', modelDir],
    ['/', join(HERE, 'public')],
  ];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const route = roots.find(([prefix]) => path.startsWith(prefix));
    let file: string | undefined;
    if (route !== undefined && req.method === 'GET') {
      const [prefix, root] = route;
      const rel = path.slice(prefix.length) || 'index.html';
      const candidate = resolve(root, rel);
      // Never serve anything outside the route's folder (`..`, encoded slashes).
      if (
        candidate.startsWith(root + sep) &&
        existsSync(candidate) &&
        statSync(candidate).isFile()
      ) {
        file = candidate;
      }
    }
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, '127.0.0.1', ok);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const modelDir = argValue('--model') ?? join(HERE, 'model');
  const port = Number(argValue('--port') ?? process.env.PORT ?? 8080);
  startServer({ modelDir, port }).then(
    ({ url }) => console.log(`tsfast web example: open ${url} (model: ${resolve(modelDir)})`),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
