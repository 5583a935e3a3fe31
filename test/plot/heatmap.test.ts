import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { ValueError } from '../../src/core/errors.js';
import { blues, heatmapSvg } from '../../src/plot/heatmap.js';

const BREEDS = [
  'Abyssinian',
  'Bengal',
  'Birman',
  'Bombay',
  'British_Shorthair',
  'Egyptian_Mau',
  'Maine_Coon',
  'Persian',
  'Ragdoll',
  'Russian_Blue',
  'Siamese',
  'Sphynx',
  'american_bulldog',
  'american_pit_bull_terrier',
  'basset_hound',
  'beagle',
  'boxer',
  'chihuahua',
  'english_cocker_spaniel',
  'english_setter',
  'german_shorthaired',
  'great_pyrenees',
  'havanese',
  'japanese_chin',
  'keeshond',
  'leonberger',
  'miniature_pinscher',
  'newfoundland',
  'pomeranian',
  'pug',
  'saint_bernard',
  'samoyed',
  'scottish_terrier',
  'shiba_inu',
  'staffordshire_bull_terrier',
  'wheaten_terrier',
  'yorkshire_terrier',
];

function attrs(svg: string, cls: string): Record<string, string>[] {
  return [...svg.matchAll(new RegExp(`<(?:rect|text) class="${cls}"([^>]*)>`, 'g'))].map((m) =>
    Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])),
  );
}

describe('heatmapSvg', () => {
  it('maps values onto the Blues colour map', () => {
    assert.equal(blues(0), '#f7fbff');
    assert.equal(blues(1), '#08306b');
    assert.equal(blues(0.5), '#6baed6');
  });

  it('draws 37 labelled rows and columns of pet breeds that fit in the image', async () => {
    const n = BREEDS.length;
    const m = BREEDS.map((_, i) =>
      BREEDS.map((_, j) => (i === j ? 20 : (i + j) % 11 === 0 ? 2 : 0)),
    );
    const svg = heatmapSvg(m, {
      rowLabels: BREEDS,
      colLabels: BREEDS,
      title: 'Confusion matrix',
      xLabel: 'Predicted',
      yLabel: 'Actual',
    });
    const rows = [...svg.matchAll(/class="row-label"[^>]*>([^<]+)</g)].map((x) => x[1]);
    const cols = [...svg.matchAll(/class="col-label"[^>]*>([^<]+)</g)].map((x) => x[1]);
    assert.deepEqual(rows, BREEDS);
    assert.deepEqual(cols, BREEDS);
    const cells = attrs(svg, 'cell');
    assert.equal(cells.length, n * n);
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    const height = Number(/height="(\d+)"/.exec(svg)![1]);
    // The longest row label ends left of the grid and starts inside the image.
    const gridLeft = Number(cells[0]!.x);
    const cell = Number(cells[0]!.width);
    assert.ok(cell >= 14, `cells are ${cell}px`);
    const longest = 'staffordshire_bull_terrier'.length * 0.6 * 11;
    assert.ok(gridLeft - 6 - longest > 0, 'row labels fit on the left');
    const gridBottom = Number(cells.at(-1)!.y) + cell;
    assert.ok(gridBottom + 6 + longest < height, 'column labels fit below');
    assert.ok(Number(cells.at(-1)!.x) + cell < width);

    // Rendered: diagonal cells are dark blue, an off-diagonal zero cell is near white.
    const { data, info } = await sharp(Buffer.from(svg))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const at = (r: number, c: number) => {
      // Sample a cell corner region away from the printed value.
      const x = Math.round(gridLeft + c * cell + 2);
      const y = Math.round(Number(cells[0]!.y) + r * cell + 2);
      const i = (y * info.width + x) * 3;
      return [data[i]!, data[i + 1]!, data[i + 2]!];
    };
    for (const k of [0, 18, 36]) {
      const [r, g, b] = at(k, k);
      assert.ok(r < 30 && g < 70 && b > 90, `diagonal ${k}: ${[r, g, b]}`);
    }
    const [r, g, b] = at(0, 1);
    assert.ok(r > 240 && g > 245 && b > 250, `off-diagonal zero: ${[r, g, b]}`);
  });

  it('writes values, with decimals for fractions and blanks for zeros in big matrices', () => {
    const svg = heatmapSvg([
      [0.8, 0.2],
      [0, 1],
    ]);
    assert.match(svg, />0\.80</);
    assert.match(svg, />0\.00</);
    const big = Array.from({ length: 20 }, (_, i) =>
      Array.from({ length: 20 }, (_, j) => (i === j ? 3 : 0)),
    );
    const labels = big.map((_, i) => `c${i}`);
    const s = heatmapSvg(big, { showValues: true, rowLabels: labels, colLabels: labels });
    assert.equal((s.match(/>3</g) ?? []).length, 20);
    assert.equal((s.match(/>0</g) ?? []).length, 0);
  });

  it('rejects ragged matrices, wrong label counts and unknown options', () => {
    assert.throws(() => heatmapSvg([]), ValueError);
    assert.throws(() => heatmapSvg([[1, 2], [3]]), /row 1 has 1 values but row 0 has 2/);
    assert.throws(() => heatmapSvg([[1]], { rowLabels: ['a', 'b'] }), /`rowLabels`/);
    assert.throws(
      () => heatmapSvg([[1]], { normalise: true } as never),
      /unknown option `normalise`/,
    );
  });
});
