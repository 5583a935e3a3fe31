import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { ValueError } from '../../src/core/errors.js';
import { lineChartSvg } from '../../src/plot/line-chart.js';
import { svgToPng, writePng } from '../../src/plot/render.js';
import { formatNumber, linearTicks, logTicks } from '../../src/plot/svg.js';

async function rgb(svg: string) {
  const { data, info } = await sharp(Buffer.from(svg))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Pixels close to an RGB colour. */
function pixelsOf(
  img: { data: Buffer; width: number; height: number },
  [r, g, b]: [number, number, number],
): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 3;
      const d =
        Math.abs(img.data[i]! - r) +
        Math.abs(img.data[i + 1]! - g) +
        Math.abs(img.data[i + 2]! - b);
      if (d < 40) out.push({ x, y });
    }
  }
  return out;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('ticks', () => {
  it('linear ticks are 1/2/5 steps covering the data', () => {
    assert.deepEqual(linearTicks(0.13, 0.92), {
      min: 0,
      max: 1,
      step: 0.2,
      ticks: [0, 0.2, 0.4, 0.6, 0.8, 1],
    });
    const t = linearTicks(3, 47);
    assert.equal(t.step, 10);
    assert.deepEqual(t.ticks, [0, 10, 20, 30, 40, 50]);
    // A constant series still gets a usable axis.
    const c = linearTicks(2, 2);
    assert.ok(c.min < 2 && c.max > 2);
  });

  it('log ticks are whole decades, with 2 and 5 when the span is short', () => {
    assert.deepEqual(logTicks(1e-6, 0.5).ticks, [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1]);
    assert.deepEqual(logTicks(0.002, 0.04).ticks, [1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1]);
  });

  it('formats numbers compactly', () => {
    assert.equal(formatNumber(1e-5), '1e-5');
    assert.equal(formatNumber(0.2, 0.2), '0.2');
    assert.equal(formatNumber(0.25, 0.05), '0.25');
    assert.equal(formatNumber(1000, 500), '1000');
    assert.equal(formatNumber(0, 1), '0');
    assert.equal(formatNumber(3e-3), '0.003');
  });
});

describe('lineChartSvg', () => {
  it('writes one path per series, ticks, labels and a legend', () => {
    const svg = lineChartSvg(
      [
        { name: 'train', x: [0, 1, 2, 3], y: [1, 0.7, 0.5, 0.45] },
        { name: 'valid <b>', x: [0, 1, 2, 3], y: [0.9, 0.65, 0.55, 0.52], dashed: true },
      ],
      { title: 'Loss & more', xLabel: 'Batch', yLabel: 'Loss' },
    );
    assert.equal((svg.match(/class="series"/g) ?? []).length, 2);
    assert.match(svg, /Loss &amp; more/);
    assert.match(svg, /valid &lt;b&gt;/);
    assert.match(svg, /stroke-dasharray/);
    assert.match(svg, /class="legend"/);
    const xTicks = [...svg.matchAll(/class="x-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
    assert.deepEqual(xTicks, ['0', '0.5', '1.0', '1.5', '2.0', '2.5', '3.0']);
    const yTicks = [...svg.matchAll(/class="y-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
    assert.deepEqual(yTicks, ['0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '1.0']);
  });

  it('puts the legend in the corner that hides the fewest points', () => {
    const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const legendX = (svg: string) => Number(/class="legend"><rect x="([\d.]+)"/.exec(svg)![1]);
    const legendY = (svg: string) =>
      Number(/class="legend"><rect x="[\d.]+" y="([\d.]+)"/.exec(svg)![1]);
    // Rising lines fill the top right: the legend goes top left.
    const rising = lineChartSvg([
      { name: 'a', x, y: x },
      { name: 'b', x, y: x.map((v) => v * 0.9) },
    ]);
    assert.ok(
      legendX(rising) < 200 && legendY(rising) < 100,
      `${legendX(rising)}, ${legendY(rising)}`,
    );
    // Falling lines (a loss curve) leave the top right free.
    const falling = lineChartSvg([
      { name: 'a', x, y: x.map((v) => 10 - v) },
      { name: 'b', x, y: x.map((v) => 9 - v * 0.9) },
    ]);
    assert.ok(legendX(falling) > 400 && legendY(falling) < 100);
  });

  it('breaks the line at non-finite values instead of failing', () => {
    const svg = lineChartSvg([
      { name: 'loss', x: [0, 1, 2, 3, 4], y: [1, 0.8, Number.NaN, 0.6, 0.5] },
    ]);
    const d = /class="series"[^>]* d="([^"]+)"/.exec(svg)![1]!;
    assert.equal((d.match(/M/g) ?? []).length, 2);
    assert.equal((d.match(/L/g) ?? []).length, 2);
  });

  it('places an increasing red line low on the left and high on the right', async () => {
    const svg = lineChartSvg([{ name: 'up', x: [0, 10], y: [0, 10], color: '#ff0000' }], {
      width: 400,
      height: 300,
    });
    const img = await rgb(svg);
    const red = pixelsOf(img, [255, 0, 0]);
    assert.ok(red.length > 200, `expected a visible red line, found ${red.length} pixels`);
    const leftYs = red.filter((p) => p.x < img.width * 0.35).map((p) => p.y);
    const rightYs = red.filter((p) => p.x > img.width * 0.75).map((p) => p.y);
    assert.ok(mean(leftYs) > img.height * 0.55, `left mean y ${mean(leftYs)}`);
    assert.ok(mean(rightYs) < img.height * 0.45, `right mean y ${mean(rightYs)}`);
    // The line is straight: y decreases linearly with x (slope about -plotH/plotW).
    const xs = red.map((p) => p.x);
    const ys = red.map((p) => p.y);
    const mx = mean(xs);
    const my = mean(ys);
    const cov = mean(xs.map((x, i) => (x - mx) * (ys[i]! - my)));
    const corr =
      cov / Math.sqrt(mean(xs.map((x) => (x - mx) ** 2)) * mean(ys.map((y) => (y - my) ** 2)));
    assert.ok(corr < -0.99, `correlation ${corr}`);
  });

  it('uses a log x axis: a geometric sequence is evenly spaced', async () => {
    const x = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1];
    const svg = lineChartSvg([{ name: 'lr', x, y: [1, 1, 1, 1, 1] }], {
      logX: true,
      markers: [{ x: 1e-3, y: 1, label: 'valley 1e-3' }],
    });
    const d = /class="series"[^>]* d="([^"]+)"/.exec(svg)![1]!;
    const px = [...d.matchAll(/[ML]([\d.]+) /g)].map((m) => Number(m[1]));
    const gaps = px.slice(1).map((v, i) => v - px[i]!);
    for (const g of gaps) assert.ok(Math.abs(g - gaps[0]!) < 0.05, `gaps ${gaps}`);
    const xTicks = [...svg.matchAll(/class="x-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
    assert.deepEqual(xTicks, ['1e-5', '1e-4', '0.001', '0.01', '0.1']);
    assert.match(svg, /class="marker"/);
    assert.match(svg, /valley 1e-3/);
    // The marker sits at the middle tick.
    const cx = Number(/class="marker" cx="([\d.]+)"/.exec(svg)![1]);
    assert.ok(Math.abs(cx - px[2]!) < 0.05);
  });

  it('drops non-positive values on log axes and rejects a chart with nothing to draw', () => {
    const svg = lineChartSvg([{ name: 'y', x: [0, 1, 2], y: [0, 1, 10] }], { logY: true });
    assert.equal((svg.match(/class="series"/g) ?? []).length, 1);
    assert.throws(
      () => lineChartSvg([{ name: 'neg', x: [1, 2], y: [-1, -2] }], { logY: true }),
      (e: unknown) =>
        e instanceof ValueError && /"neg"/.test(e.message) && /positive/.test(e.message),
    );
  });

  it('rejects bad input with messages naming it', () => {
    assert.throws(() => lineChartSvg([]), ValueError);
    assert.throws(
      () => lineChartSvg([{ name: 'a', x: [1, 2], y: [1] }]),
      /series "a" has 2 x values but 1 y values/,
    );
    assert.throws(
      () => lineChartSvg([{ name: 'a', x: [1], y: [1] }], { widht: 3 } as never),
      /unknown option `widht`/,
    );
    assert.throws(() => lineChartSvg([{ name: 'a', x: [1], y: [1] }], { width: 5 }), /`width`/);
  });
});

describe('writePng', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('renders text (fonts are found) into a PNG in a new folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsfast-plot-'));
    dirs.push(dir);
    const file = join(dir, 'sub', 'chart.png');
    const svg = lineChartSvg([{ name: 'a', x: [0, 1], y: [0, 1], color: '#00ff00' }], {
      title: 'A TITLE WITH TEXT',
    });
    await writePng(svg, file);
    const meta = await sharp(await readFile(file)).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 640);
    // The title band (above the plot) holds dark glyph pixels only if a font was found.
    const { data, info } = await sharp(file)
      .extract({ left: 0, top: 0, width: 640, height: 34 })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    let dark = 0;
    for (let i = 0; i < data.length; i += info.channels) if (data[i]! < 120) dark++;
    assert.ok(dark > 150, `title glyph pixels: ${dark}`);
  });

  it('reports an unparseable SVG as a ValueError', async () => {
    await assert.rejects(svgToPng('<svg nope'), ValueError);
  });
});
