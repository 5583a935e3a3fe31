/**
 * Line charts as SVG: loss curves, the LR finder, schedules.
 */
import { checkOptionKeys, invalidValue, ValueError } from '../core/errors.js';
import {
  axisLabelsSvg,
  escapeXml,
  FONT_FAMILY,
  formatNumber,
  linearTicks,
  logTicks,
  PALETTE,
  px,
  textWidth,
} from './svg.js';

/**
 * One line of a {@link lineChartSvg} chart.
 *
 * @example
 * ```ts
 * const train: tsf.LineSeries = { name: 'train', x: [0, 1, 2], y: [1.2, 0.8, 0.6] };
 * ```
 */
export interface LineSeries {
  /** Legend entry. */
  name: string;
  /** X values, one per point. */
  x: readonly number[];
  /** Y values, one per point (same length as `x`). Non-finite values break the line. */
  y: readonly number[];
  /**
   * Any SVG/CSS colour.
   * @defaultValue the next colour of {@link PALETTE}
   */
  color?: string;
  /**
   * Draw the line dashed.
   * @defaultValue false
   */
  dashed?: boolean;
}

/**
 * A labelled point drawn over a {@link lineChartSvg} chart (e.g. an LR finder suggestion).
 *
 * @example
 * ```ts
 * const valley: tsf.ChartMarker = { x: 3e-3, y: 0.9, label: 'valley 3e-3' };
 * ```
 */
export interface ChartMarker {
  /** X position, in data units. */
  x: number;
  /** Y position, in data units. */
  y: number;
  /** Text shown next to the point (and in the legend). */
  label: string;
}

/**
 * Options of {@link lineChartSvg}.
 *
 * @example
 * ```ts
 * const opts: tsf.LineChartOptions = { title: 'LR finder', xLabel: 'Learning rate', logX: true };
 * ```
 */
export interface LineChartOptions {
  /**
   * Title above the plot.
   * @defaultValue no title
   */
  title?: string;
  /**
   * X axis label.
   * @defaultValue no label
   */
  xLabel?: string;
  /**
   * Y axis label.
   * @defaultValue no label
   */
  yLabel?: string;
  /**
   * Logarithmic x axis (points with x <= 0 are dropped).
   * @defaultValue false
   */
  logX?: boolean;
  /**
   * Logarithmic y axis (points with y <= 0 are dropped).
   * @defaultValue false
   */
  logY?: boolean;
  /**
   * Labelled points drawn over the lines.
   * @defaultValue none
   */
  markers?: readonly ChartMarker[];
  /**
   * Width in pixels.
   * @defaultValue 640
   */
  width?: number;
  /**
   * Height in pixels.
   * @defaultValue 420
   */
  height?: number;
}

const OPTION_KEYS = [
  'title',
  'xLabel',
  'yLabel',
  'logX',
  'logY',
  'markers',
  'width',
  'height',
] as const;
const MARKER_COLORS = ['#d62728', '#2ca02c', '#9467bd', '#e377c2', '#17becf'];

interface Axis {
  min: number;
  max: number;
  ticks: number[];
  step?: number;
  log: boolean;
}

function makeAxis(values: number[], log: boolean): Axis {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (log) {
    const t = logTicks(lo, hi);
    return { ...t, log: true };
  }
  const t = linearTicks(lo, hi);
  return { min: t.min, max: t.max, ticks: t.ticks, step: t.step, log: false };
}

function fraction(axis: Axis, v: number): number {
  if (axis.log) {
    return (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min));
  }
  return (v - axis.min) / (axis.max - axis.min);
}

function checkDimension(name: string, v: number | undefined, fallback: number): number {
  const value = v ?? fallback;
  if (!Number.isFinite(value) || value < 100 || value > 10000) {
    throw invalidValue(name, 'a number of pixels in [100, 10000]', v);
  }
  return value;
}

/**
 * Draws line series on shared axes, as a standalone SVG document: nice ticks, optional log
 * axes, a legend when there are several series or markers, and labelled marker points.
 * Write it to a PNG with {@link writePng}.
 *
 * Points whose x or y is not finite (or not positive on a log axis) are skipped and break
 * the line there, so a NaN loss shows as a gap instead of failing the whole chart.
 *
 * @param series - The lines; each needs `x.length === y.length`.
 * @param options - Title, axis labels, log axes, markers and size.
 * @returns The SVG document as a string.
 * @throws {@link ValueError} when there are no series, lengths differ, no point can be drawn,
 *   or an option is unknown or out of range.
 *
 * @example
 * ```ts
 * const svg = tsf.lineChartSvg(
 *   [
 *     { name: 'train', x: [0, 1, 2, 3], y: [1.0, 0.7, 0.5, 0.45] },
 *     { name: 'valid', x: [0, 1, 2, 3], y: [0.9, 0.65, 0.55, 0.52], dashed: true },
 *   ],
 *   { title: 'Loss', xLabel: 'Batch', yLabel: 'Loss' },
 * );
 * await tsf.writePng(svg, 'out/loss.png');
 * ```
 */
export function lineChartSvg(
  series: readonly LineSeries[],
  options: LineChartOptions = {},
): string {
  checkOptionKeys('lineChartSvg', options, OPTION_KEYS);
  const width = checkDimension('width', options.width, 640);
  const height = checkDimension('height', options.height, 420);
  const logX = options.logX ?? false;
  const logY = options.logY ?? false;
  const markers = options.markers ?? [];
  if (!Array.isArray(series) || series.length === 0) {
    throw new ValueError('lineChartSvg: `series` must hold at least one line. Received: []');
  }

  const usable = (x: number, y: number): boolean =>
    Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new ValueError(
        `lineChartSvg: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values; ` +
          'pass one y per x',
      );
    }
    for (let i = 0; i < s.x.length; i++) {
      if (usable(s.x[i]!, s.y[i]!)) {
        xs.push(s.x[i]!);
        ys.push(s.y[i]!);
      }
    }
  }
  for (const m of markers) {
    if (usable(m.x, m.y)) {
      xs.push(m.x);
      ys.push(m.y);
    }
  }
  if (xs.length === 0) {
    const names = series.map((s) => `"${s.name}"`).join(', ');
    throw new ValueError(
      `lineChartSvg: no finite point to draw in series ${names}` +
        (logX || logY ? ' (log axes need positive values)' : ''),
    );
  }
  const xAxis = makeAxis(xs, logX);
  const yAxis = makeAxis(ys, logY);

  const tickFont = 12;
  const yTickLabels = yAxis.ticks.map((t) => formatNumber(t, yAxis.step));
  const maxYLabel = Math.max(...yTickLabels.map((l) => textWidth(l, tickFont)));
  const xTickLabels = xAxis.ticks.map((t) => formatNumber(t, xAxis.step));
  const halfFirstX = textWidth(xTickLabels[0] ?? '', tickFont) / 2;
  const halfLastX = textWidth(xTickLabels[xTickLabels.length - 1] ?? '', tickFont) / 2;
  const left = Math.max(16 + maxYLabel + (options.yLabel ? 22 : 0), halfFirstX + 6);
  const right = Math.max(24, halfLastX + 8);
  const top = options.title ? 40 : 18;
  const bottom = 36 + (options.xLabel ? 20 : 0);
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const sx = (v: number): number => left + fraction(xAxis, v) * plotW;
  const sy = (v: number): number => top + (1 - fraction(yAxis, v)) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<defs><clipPath id="plot-area"><rect x="${px(left)}" y="${px(top)}" width="${px(plotW)}" ` +
      `height="${px(plotH)}"/></clipPath></defs>`,
  );
  if (options.title) {
    out.push(
      `<text class="title" x="${px(left + plotW / 2)}" y="24" font-size="16" ` +
        `text-anchor="middle" fill="#222">${escapeXml(options.title)}</text>`,
    );
  }
  // Grid and ticks.
  const grid: string[] = [];
  const labels: string[] = [];
  xAxis.ticks.forEach((t, i) => {
    const x = px(sx(t));
    grid.push(`<line x1="${x}" y1="${px(top)}" x2="${x}" y2="${px(top + plotH)}"/>`);
    labels.push(
      `<text class="x-tick" x="${x}" y="${px(top + plotH + 18)}" text-anchor="middle">` +
        `${escapeXml(xTickLabels[i]!)}</text>`,
    );
  });
  yAxis.ticks.forEach((t, i) => {
    const y = px(sy(t));
    grid.push(`<line x1="${px(left)}" y1="${y}" x2="${px(left + plotW)}" y2="${y}"/>`);
    labels.push(
      `<text class="y-tick" x="${px(left - 6)}" y="${px(sy(t) + 4)}" text-anchor="end">` +
        `${escapeXml(yTickLabels[i]!)}</text>`,
    );
  });
  out.push(`<g stroke="#e6e6e6" stroke-width="1">${grid.join('')}</g>`);
  out.push(
    `<rect x="${px(left)}" y="${px(top)}" width="${px(plotW)}" height="${px(plotH)}" ` +
      'fill="none" stroke="#444" stroke-width="1"/>',
  );
  out.push(`<g font-size="${tickFont}" fill="#333">${labels.join('')}</g>`);
  out.push(
    ...axisLabelsSvg(options, {
      centreX: left + plotW / 2,
      centreY: top + plotH / 2,
      height,
      yLabelX: 16,
    }),
  );

  // Lines.
  const colors = series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]!);
  out.push('<g clip-path="url(#plot-area)" fill="none" stroke-width="2" stroke-linejoin="round">');
  series.forEach((s, i) => {
    let d = '';
    let pen = false;
    for (let j = 0; j < s.x.length; j++) {
      const x = s.x[j]!;
      const y = s.y[j]!;
      if (!usable(x, y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${px(sx(x))} ${px(sy(y))}`;
      pen = true;
    }
    if (d === '') return;
    const dash = s.dashed ? ' stroke-dasharray="7 4"' : '';
    out.push(
      `<path class="series" data-name="${escapeXml(s.name)}" d="${d}" stroke="${escapeXml(colors[i]!)}"${dash}/>`,
    );
    // A lone point would be invisible as a path: draw a dot.
    if (!d.includes('L')) {
      const [mx, my] = d.slice(1).split(' ');
      out.push(`<circle cx="${mx}" cy="${my}" r="3" fill="${escapeXml(colors[i]!)}"/>`);
    }
  });
  out.push('</g>');

  // Markers.
  markers.forEach((m, i) => {
    if (!usable(m.x, m.y)) return;
    const color = MARKER_COLORS[i % MARKER_COLORS.length]!;
    const x = sx(m.x);
    const y = sy(m.y);
    const onRight = x < left + plotW * 0.7;
    // Stagger labels vertically so neighbouring suggestions do not overlap.
    const ty = y - 10 - 17 * i;
    out.push(
      `<circle class="marker" cx="${px(x)}" cy="${px(y)}" r="6" fill="${color}" stroke="#fff" stroke-width="1.5"/>`,
      `<text class="marker-label" x="${px(onRight ? x + 10 : x - 10)}" y="${px(ty)}" ` +
        `font-size="13" fill="${color}" text-anchor="${onRight ? 'start' : 'end'}">` +
        `${escapeXml(m.label)}</text>`,
    );
  });

  // Legend when it says something the axes do not, in the plot corner that hides the
  // fewest points (top right first, as matplotlib's "best").
  if (series.length > 1) {
    const rowH = 20;
    const legendW = 40 + Math.max(...series.map((s) => textWidth(s.name, 13)));
    const legendH = series.length * rowH + 8;
    const corners: [number, number][] = [
      [left + plotW - legendW - 8, top + 8],
      [left + 8, top + 8],
      [left + plotW - legendW - 8, top + plotH - legendH - 8],
      [left + 8, top + plotH - legendH - 8],
    ];
    const hidden = corners.map(([cx, cy]) => {
      let n = 0;
      for (const s of series) {
        // Sample along segments too, so a line crossing the box counts even between points.
        for (let j = 0; j < s.x.length; j++) {
          if (!usable(s.x[j]!, s.y[j]!)) continue;
          const x1 = sx(s.x[j]!);
          const y1 = sy(s.y[j]!);
          const next = j + 1 < s.x.length && usable(s.x[j + 1]!, s.y[j + 1]!);
          const x2 = next ? sx(s.x[j + 1]!) : x1;
          const y2 = next ? sy(s.y[j + 1]!) : y1;
          for (let t = 0; t <= 1; t += 0.125) {
            const x = x1 + (x2 - x1) * t;
            const y = y1 + (y2 - y1) * t;
            if (x >= cx - 4 && x <= cx + legendW + 4 && y >= cy - 4 && y <= cy + legendH + 4) n++;
          }
        }
      }
      return n;
    });
    const best = hidden.indexOf(Math.min(...hidden));
    const [lx, ly] = corners[best]!;
    out.push(
      `<g class="legend"><rect x="${px(lx)}" y="${px(ly)}" width="${px(legendW)}" ` +
        `height="${px(legendH)}" fill="#ffffff" fill-opacity="0.85" stroke="#ccc"/>`,
    );
    series.forEach((s, i) => {
      const y = ly + 4 + rowH * i + rowH / 2;
      const dash = s.dashed ? ' stroke-dasharray="7 4"' : '';
      out.push(
        `<line x1="${px(lx + 6)}" y1="${px(y)}" x2="${px(lx + 30)}" y2="${px(y)}" ` +
          `stroke="${escapeXml(colors[i]!)}" stroke-width="2"${dash}/>`,
        `<text x="${px(lx + 36)}" y="${px(y + 4.5)}" font-size="13" fill="#222">${escapeXml(s.name)}</text>`,
      );
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n');
}
