/**
 * Small SVG-writing helpers shared by the charts: escaping, number formatting, nice ticks,
 * the colour palette and the font stack.
 * @internal
 */

/**
 * Font stack used by every chart. DejaVu Sans ships with Debian/Ubuntu (`fonts-dejavu-core`);
 * the fall-backs cover macOS and Windows, where librsvg finds Helvetica or Arial.
 * @example
 * ```ts
 * const svg = `<svg xmlns="http://www.w3.org/2000/svg" font-family="${FONT_FAMILY}">...</svg>`;
 * ```
 */
export const FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";

/**
 * Default series colours (matplotlib's `tab10`), so tsfast charts look like fastai's.
 *
 * @example
 * ```ts
 * const svg = tsf.lineChartSvg([{ name: 'a', x: [0, 1], y: [0, 1], color: tsf.PALETTE[3] }]);
 * ```
 */
export const PALETTE: readonly string[] = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/**
 * Escapes the five XML special characters for use in SVG text and attributes.
 * @param text - Any text.
 * @returns The text with `& < > " '` as entities.
 * @example
 * ```ts
 * escapeXml('cats & "dogs"'); // 'cats &amp; &quot;dogs&quot;'
 * ```
 */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Rounds a pixel coordinate to 2 decimals to keep the SVG small.
 * @param v - A coordinate.
 * @returns Its text with at most 2 decimals.
 * @example
 * ```ts
 * px(12.3456); // '12.35'
 * ```
 */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/**
 * Estimated rendered width of `text` in DejaVu Sans at `fontSize` (average advance ~0.6 em):
 * enough to size margins so labels fit.
 * @param text - The label.
 * @param fontSize - Font size in pixels.
 * @returns The estimated width in pixels.
 * @example
 * ```ts
 * textWidth('accuracy', 10); // 48
 * ```
 */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/** "Nice" number close to `x` (1, 2, 5 times a power of ten), as in Heckbert's algorithm. */
function niceNum(x: number, round: boolean): number {
  const exp = Math.floor(Math.log10(x));
  const f = x / 10 ** exp;
  let nf: number;
  if (round) nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nf * 10 ** exp;
}

/**
 * A linear axis domain widened to nice bounds, with its tick values and step.
 * @example
 * ```ts
 * const { min, max, ticks }: LinearTicks = linearTicks(0.13, 0.92); // 0, 1, [0, 0.2, ..., 1]
 * ```
 */
export interface LinearTicks {
  /** Lower end of the domain (the first tick). */
  min: number;
  /** Upper end of the domain (the last tick). */
  max: number;
  /** Spacing of the ticks (1, 2 or 5 times a power of ten). */
  step: number;
  /** Tick values, `min` to `max`. */
  ticks: number[];
}

/**
 * Nice ticks covering [lo, hi] for a linear axis: about `count` ticks at 1/2/5 x 10^k steps;
 * the domain is widened to the enclosing ticks.
 * @param lo - Smallest value to cover.
 * @param hi - Largest value to cover.
 * @param count - About how many ticks. Defaults to 6.
 * @returns The widened domain, step and ticks.
 * @example
 * ```ts
 * linearTicks(0.13, 0.92); // { min: 0, max: 1, step: 0.2, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] }
 * ```
 */
export function linearTicks(lo: number, hi: number, count = 6): LinearTicks {
  let a = lo;
  let b = hi;
  if (a === b) {
    const pad = a === 0 ? 1 : Math.abs(a) * 0.1;
    a -= pad;
    b += pad;
  }
  const step = niceNum((b - a) / Math.max(1, count - 1), true);
  const min = Math.floor(a / step + 1e-9) * step;
  const max = Math.ceil(b / step - 1e-9) * step;
  const ticks: number[] = [];
  const n = Math.round((max - min) / step);
  for (let i = 0; i <= n; i++) ticks.push(cleanFloat(min + i * step, step));
  return { min: cleanFloat(min, step), max: cleanFloat(max, step), step, ticks };
}

/** Removes floating-point noise (0.30000000000000004 -> 0.3) relative to a step. */
function cleanFloat(v: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(20, digits)));
}

/**
 * A log10 axis domain (powers of ten around the data) and its ticks.
 * @example
 * ```ts
 * const { ticks }: LogTicks = logTicks(1e-5, 3e-3); // [1e-5, 1e-4, 1e-3, 1e-2]
 * ```
 */
export interface LogTicks {
  /** Lower end of the domain, a power of ten. */
  min: number;
  /** Upper end of the domain, a power of ten. */
  max: number;
  /** Tick values, `min` to `max`. */
  ticks: number[];
}

/**
 * Ticks for a log axis over positive [lo, hi]: the domain spans whole decades; ticks are the
 * powers of ten, plus 2x and 5x when the axis spans at most two decades.
 * @param lo - Smallest value to cover (positive).
 * @param hi - Largest value to cover.
 * @returns The whole-decade domain and its ticks.
 * @example
 * ```ts
 * logTicks(3e-7, 4).ticks; // [1e-7, 1e-6, ..., 1, 10]
 * ```
 */
export function logTicks(lo: number, hi: number): LogTicks {
  let e0 = Math.floor(Math.log10(lo) + 1e-9);
  let e1 = Math.ceil(Math.log10(hi) - 1e-9);
  if (e1 <= e0) e1 = e0 + 1;
  if (e1 - e0 > 12) e0 = e1 - 12;
  const ticks: number[] = [];
  const dense = e1 - e0 <= 2;
  for (let e = e0; e <= e1; e++) {
    const p = Number(`1e${e}`);
    ticks.push(p);
    if (dense && e < e1) ticks.push(Number(`2e${e}`), Number(`5e${e}`));
  }
  return { min: Number(`1e${e0}`), max: Number(`1e${e1}`), ticks };
}

/**
 * Short, readable label for a tick or value: fixed notation for ordinary magnitudes, `1e-3`
 * style for very small or large ones.
 *
 * @param v - The value.
 * @param step - Spacing of neighbouring ticks, which decides the decimals (linear axes).
 * @returns The label.
 * @example
 * ```ts
 * formatNumber(0.25, 0.05); // '0.25'
 * formatNumber(1e-4); // '1e-4'
 * ```
 */
export function formatNumber(v: number, step?: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs < 1e-3 || abs >= 1e5) {
    const [m, e] = v.toExponential().split('e');
    const mant = Number(Number(m).toPrecision(3));
    return `${mant}e${Number(e)}`;
  }
  if (step !== undefined && step > 0) {
    const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    return v.toFixed(Math.min(10, digits));
  }
  return String(Number(v.toPrecision(4)));
}

/** Where {@link axisLabelsSvg} puts the axis titles. */
export interface AxisLabelPlacement {
  /** Horizontal centre of the plotted area (the x title's centre). */
  readonly centreX: number;
  /** Vertical centre of the plotted area (the y title's centre). */
  readonly centreY: number;
  /** Height of the whole chart: the x title sits 10 px above its bottom edge. */
  readonly height: number;
  /** Distance of the rotated y title's centre from the left edge. */
  readonly yLabelX: number;
}

/**
 * The axis titles of a chart, as SVG `<text>` elements: the x title centred under the plot,
 * the y title rotated a quarter turn, centred left of it. Every chart draws its titles here so
 * they look the same.
 * @param labels - The titles; an absent or empty one is not drawn.
 * @param place - Where they go.
 * @returns Zero, one or two SVG elements.
 * @example
 * ```ts
 * const svg = axisLabelsSvg(
 *   { xLabel: 'epoch', yLabel: 'loss' },
 *   { centreX: 200, centreY: 150, height: 300, yLabelX: 16 },
 * );
 * svg.length; // 2
 * ```
 * @internal
 */
export function axisLabelsSvg(
  labels: { readonly xLabel?: string | undefined; readonly yLabel?: string | undefined },
  place: AxisLabelPlacement,
): string[] {
  const out: string[] = [];
  if (labels.xLabel) {
    out.push(
      `<text class="x-label" x="${px(place.centreX)}" y="${px(place.height - 10)}" font-size="14" ` +
        `text-anchor="middle" fill="#222">${escapeXml(labels.xLabel)}</text>`,
    );
  }
  if (labels.yLabel) {
    const cx = px(place.yLabelX);
    const cy = px(place.centreY);
    out.push(
      `<text class="y-label" x="${cx}" y="${cy}" font-size="14" text-anchor="middle" ` +
        `fill="#222" transform="rotate(-90 ${cx} ${cy})">${escapeXml(labels.yLabel)}</text>`,
    );
  }
  return out;
}
