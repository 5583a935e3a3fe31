/**
 * Progress: fastai's results table, one line per epoch, and a bar per epoch on a terminal.
 */
import type { Callback, EventContext } from '../learner/events.js';
import type { Learner } from '../learner/learner.js';

/**
 * Writes the table `epoch train_loss valid_loss <metrics> time` through `learn.logger`, one
 * line per epoch; on a TTY also draws a progress bar on stderr. Added to every learner;
 * silenced by `learn.noLogging()`, the bar alone by `learn.noBar()`.
 *
 * @example
 * ```ts
 * await learn.noBar(() => learn.fit(1)); // table only
 * ```
 */
export class Progress implements Callback {
  /** Name. */
  readonly name = 'progress';
  /** After the Recorder. */
  readonly order = 60;
  /** Draw the bar (only on a TTY). */
  showBar = true;
  private headerDone = false;

  /** Prepares the header. */
  beforeFit(): void {
    this.headerDone = false;
  }

  /** Updates the bar. */
  afterBatch({ learn, iter, nIter, training }: EventContext): void {
    if (!this.barOn(learn)) return;
    const width = 30;
    const done = Math.round(((iter + 1) / Math.max(1, nIter)) * width);
    const phase = training ? 'train' : 'valid';
    process.stderr.write(
      `\r${phase} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${iter + 1}/${nIter}  `,
    );
  }

  /** Writes the epoch's row. */
  afterEpoch({ learn, epoch }: EventContext): void {
    if (this.barOn(learn)) process.stderr.write('\r\x1b[K');
    const rec = learn.recorder;
    const names = rec.metricNames;
    const widths = names.map((n) => Math.max(n.length, 10));
    if (!this.headerDone) {
      learn.logger(
        names
          .map((n, i) => n.padEnd(widths[i] as number))
          .join('  ')
          .trimEnd(),
      );
      this.headerDone = true;
    }
    const row = rec.values.at(-1) ?? [];
    const cells = [
      String(epoch),
      ...row.map((v) => (Number.isFinite(v) ? v.toFixed(6) : String(v))),
      formatTime(rec.times.at(-1) ?? 0),
    ];
    learn.logger(
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 10))
        .join('  ')
        .trimEnd(),
    );
  }

  private barOn(learn: Learner): boolean {
    return this.showBar && !learn.quiet && process.stderr.isTTY === true;
  }
}

/**
 * Formats seconds as `mm:ss` (or `hh:mm:ss`), like fastai's table.
 * @param seconds - Duration.
 * @returns The text.
 * @example
 * ```ts
 * tsf.formatTime(75); // '01:15'
 * ```
 */
export function formatTime(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${pad(h)}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}
