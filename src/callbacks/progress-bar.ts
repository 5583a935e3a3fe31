/**
 * fastprogress-style bars for {@link Progress}: what a bar says (done/total, elapsed<remaining,
 * items/s, running loss), drawn as one terminal line or as HTML for a notebook.
 */
import { formatTime } from './progress.js';

/** The state of a bar at one moment. */
export interface BarState {
  /** Label in front (`train`, `valid`, `epoch`). */
  label: string;
  /** Steps done. */
  done: number;
  /** Steps in all. */
  total: number;
  /** Seconds since the bar started. */
  elapsed: number;
  /** Items (samples) processed, for the rate; 0 to leave the rate out. */
  items: number;
  /** Running (smoothed) loss; NaN or undefined to leave it out. */
  loss?: number;
}

/**
 * The bar's figures as fastprogress writes them: `40.00% [12/30 00:05<00:08, 40.3 items/s,
 * loss 0.5321]`. The remaining time is `elapsed / done * (total - done)`.
 * @param s - The bar's state.
 * @returns The text after the bar.
 * @example
 * ```ts
 * progressText({ label: 'train', done: 12, total: 30, elapsed: 5, items: 384, loss: 0.53 });
 * // '40.00% [12/30 00:05<00:08, 76.8 items/s, loss 0.5300]'
 * ```
 */
export function progressText(s: BarState): string {
  const pct = s.total > 0 ? (100 * s.done) / s.total : 100;
  const remaining = s.done > 0 ? (s.elapsed / s.done) * Math.max(0, s.total - s.done) : Number.NaN;
  const eta = Number.isFinite(remaining) ? formatTime(remaining) : '--:--';
  const parts = [`${s.done}/${s.total} ${formatTime(s.elapsed)}<${eta}`];
  if (s.items > 0 && s.elapsed > 0) parts.push(`${formatRate(s.items / s.elapsed)} items/s`);
  if (s.loss !== undefined && Number.isFinite(s.loss)) parts.push(`loss ${s.loss.toFixed(4)}`);
  return `${pct.toFixed(2)}% [${parts.join(', ')}]`;
}

function formatRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r.toFixed(1);
}

/**
 * One terminal line: `train |██████------| 40.00% [12/30 00:05<00:08, ...]`.
 * @param s - The bar's state.
 * @param width - Characters of the bar itself.
 * @returns The line, without a line break.
 * @example
 * ```ts
 * terminalBarLine({ label: 'train', done: 1, total: 2, elapsed: 1, items: 0 }, 10);
 * // 'train |█████-----| 50.00% [1/2 00:01<00:01]'
 * ```
 */
export function terminalBarLine(s: BarState, width = 30): string {
  const filled = s.total > 0 ? Math.round((Math.min(s.done, s.total) / s.total) * width) : width;
  return `${s.label} |${'█'.repeat(filled)}${'-'.repeat(width - filled)}| ${progressText(s)}`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * HTML bars for a notebook, one per state (e.g. the epochs and the current phase), each a
 * `<progress>` element followed by {@link progressText}, as fastprogress draws them.
 * @param bars - The states, top to bottom.
 * @returns The HTML.
 * @example
 * ```ts
 * htmlBars([{ label: 'epoch', done: 1, total: 3, elapsed: 10, items: 0 }]);
 * ```
 */
export function htmlBars(bars: readonly BarState[]): string {
  const rows = bars.map(
    (s) =>
      `<div class="tsfast-progress"><span style="display:inline-block;min-width:3.5em">${escapeHtml(s.label)}</span>` +
      `<progress value="${Math.min(s.done, s.total)}" max="${Math.max(1, s.total)}" style="width:300px;height:1em;vertical-align:middle"></progress>` +
      ` <span>${escapeHtml(progressText(s))}</span></div>`,
  );
  return `<div>${rows.join('')}</div>`;
}
