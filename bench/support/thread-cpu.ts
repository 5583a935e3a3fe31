/**
 * CPU time per thread of this process, from Linux's `/proc/self/task/<tid>/stat`: what the
 * main thread, each data-parallel worker and V8's helper threads (garbage collection, wasm
 * compilation) spent, which `process.cpuUsage` only gives summed. Linux only; elsewhere the
 * snapshot is empty.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

/** CPU seconds per thread id, with the thread's name. */
export type ThreadCpu = Map<number, { name: string; s: number }>;

/** Clock ticks per second of `/proc`'s `utime` / `stime` (`getconf CLK_TCK`, 100 on Linux). */
const TICKS_PER_S = 100;

/** Every thread's CPU time now. */
export function threadCpu(): ThreadCpu {
  const out: ThreadCpu = new Map();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // The name sits in parentheses and may hold spaces; the fields follow the last ')'.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
      out.set(Number(tid), { name, s: ticks / TICKS_PER_S });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/**
 * Per-thread CPU seconds spent between two snapshots, one line per thread that used any,
 * the main thread first (its id is the process id).
 * @param before - Snapshot at the start.
 * @param after - Snapshot at the end.
 * @param per - Divides every figure (e.g. the number of steps).
 */
export function threadCpuLines(before: ThreadCpu, after: ThreadCpu, per = 1): string[] {
  const rows: [number, string, number][] = [];
  for (const [tid, a] of after) {
    const s = a.s - (before.get(tid)?.s ?? 0);
    if (s > 0) rows.push([tid, a.name, s / per]);
  }
  rows.sort((x, y) => (x[0] === process.pid ? -1 : y[0] === process.pid ? 1 : y[2] - x[2]));
  return rows.map(
    ([tid, name, s]) =>
      `${tid === process.pid && threadId === 0 ? 'main' : String(tid)} (${name}): ${(s * 1e3).toFixed(0)} ms`,
  );
}
