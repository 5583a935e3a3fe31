/**
 * Progress: fastai's results table, one line per epoch, and fastprogress-style bars: on a
 * terminal one line per phase with elapsed<remaining time, items/s and the running loss; in a
 * tslab notebook an HTML bar updated in place; piped output gets the table alone.
 */
import type { Callback, EventContext } from '../learner/events.js';
import type { Learner } from '../learner/learner.js';
import { type HtmlDisplay, notebookDisplay } from './notebook-display.js';
import { type BarState, htmlBars, terminalBarLine } from './progress-bar.js';

/** Seconds between two redraws of a bar (the last step of a phase always draws). */
const REDRAW_SECONDS = { terminal: 0.1, html: 0.3 } as const;

/**
 * Writes the table `epoch train_loss valid_loss <metrics> time` through `learn.logger`, one
 * line per epoch. While it runs, a bar shows the current phase (`train`/`valid`) with
 * elapsed<remaining time, items/s and the smoothed training loss: on stderr when it is a TTY,
 * as an HTML bar (epochs and the current phase, updated in place) in a tslab notebook. Added to
 * every learner; silenced by `learn.noLogging()`, the bar alone by `learn.noBar()`.
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
  /** Draw the bar (on a TTY or in a notebook). */
  showBar = true;
  private headerDone = false;
  private mode: 'none' | 'terminal' | 'html' = 'none';
  private display: HtmlDisplay | undefined;
  private fitStart = 0;
  private phaseStart = 0;
  private items = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private epochsDone = 0;
  private nEpoch = 0;
  /** The last phase drawn: stays under the epoch bar, as fastprogress leaves its child bar. */
  private lastPhase: BarState | undefined;

  /** Prepares the header and chooses where the bar goes. */
  beforeFit({ learn, nEpoch }: EventContext): void {
    this.headerDone = false;
    this.fitStart = performance.now();
    this.epochsDone = 0;
    this.nEpoch = nEpoch;
    this.display = undefined;
    this.lastPhase = undefined;
    this.mode = this.chooseMode(learn);
    if (this.mode === 'html') {
      this.display = notebookDisplay()?.();
      this.drawHtml();
    }
  }

  /** Starts the training bar. */
  beforeTrain(): void {
    this.startPhase();
  }

  /** Starts the validation bar. */
  beforeValidate(): void {
    this.startPhase();
  }

  /** Updates the bar. */
  afterBatch({ learn, iter, nIter, training }: EventContext): void {
    if (this.mode === 'none') return;
    this.items += learn.yb?.shape[0] ?? 0;
    const now = performance.now();
    const last = iter + 1 >= nIter;
    if (!last && (now - this.lastDraw) / 1000 < REDRAW_SECONDS[this.mode]) return;
    this.lastDraw = now;
    const loss = training ? learn.recorder.losses.at(-1) : undefined;
    const phase: BarState = {
      label: training ? 'train' : 'valid',
      done: iter + 1,
      total: nIter,
      elapsed: (now - this.phaseStart) / 1000,
      items: this.items,
      ...(loss === undefined ? {} : { loss }),
    };
    this.lastPhase = phase;
    if (this.mode === 'terminal') process.stderr.write(`\r${terminalBarLine(phase)}\x1b[K`);
    else this.drawHtml();
  }

  /** Writes the epoch's row. */
  afterEpoch({ learn, epoch }: EventContext): void {
    if (this.mode === 'terminal') process.stderr.write('\r\x1b[K');
    this.epochsDone = epoch + 1;
    if (this.mode === 'html') this.drawHtml();
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

  /** Clears a terminal bar left by a cancelled epoch. */
  afterFit(): void {
    if (this.mode === 'terminal') process.stderr.write('\r\x1b[K');
    this.mode = 'none';
  }

  private startPhase(): void {
    this.phaseStart = performance.now();
    this.items = 0;
    this.lastDraw = Number.NEGATIVE_INFINITY;
  }

  private drawHtml(): void {
    if (this.display === undefined) return;
    const epochs: BarState = {
      label: 'epoch',
      done: this.epochsDone,
      total: this.nEpoch,
      elapsed: (performance.now() - this.fitStart) / 1000,
      items: 0,
    };
    this.display.html(htmlBars(this.lastPhase ? [epochs, this.lastPhase] : [epochs]));
  }

  private chooseMode(learn: Learner): 'none' | 'terminal' | 'html' {
    if (!this.showBar || learn.quiet) return 'none';
    if (notebookDisplay() !== undefined) return 'html';
    return process.stderr.isTTY === true ? 'terminal' : 'none';
  }
}

/**
 * Formats seconds as `mm:ss` (or `hh:mm:ss`), like fastai's table.
 * @param seconds - Duration.
 * @returns The text.
 * @example
 * ```ts
 * formatTime(75); // '01:15'
 * ```
 */
export function formatTime(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${pad(h)}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}
