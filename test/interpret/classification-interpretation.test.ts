import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { ValueError } from '../../src/core/errors.js';
import { ClassificationInterpretation } from '../../src/interpret/classification-interpretation.js';

// 3 classes, 8 items. Targets and predictions chosen so every count is known by hand:
// actual a: predicted a, a, b      -> row [2, 1, 0]
// actual b: predicted b, c, c      -> row [0, 1, 2]
// actual c: predicted a, c         -> row [1, 0, 1]
const vocab = ['a', 'b', 'c'];
const probs = [
  [0.7, 0.2, 0.1],
  [0.6, 0.3, 0.1],
  [0.2, 0.5, 0.3],
  [0.1, 0.8, 0.1],
  [0.1, 0.3, 0.6],
  [0.2, 0.2, 0.6],
  [0.5, 0.1, 0.4],
  [0.1, 0.1, 0.8],
];
const targets = [0, 0, 0, 1, 1, 1, 2, 2];
// Cross-entropy computed independently: -ln p(actual).
const losses = probs.map((p, i) => -Math.log(p[targets[i]!]!));
const items = probs.map((_, i) => `img_${i}.jpg`);

const interp = () => new ClassificationInterpretation({ probs, targets, losses, vocab, items });

describe('ClassificationInterpretation', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('counts the confusion matrix with rows = actual', () => {
    const cm = interp().confusionMatrix();
    assert.deepEqual(cm, [
      [2, 1, 0],
      [0, 1, 2],
      [1, 0, 1],
    ]);
    assert.equal(
      cm.flat().reduce((a, b) => a + b, 0),
      targets.length,
    );
  });

  it('lists the most confused pairs, most frequent first, ties in class order', () => {
    assert.deepEqual(interp().mostConfused(), [
      ['b', 'c', 2],
      ['a', 'b', 1],
      ['c', 'a', 1],
    ]);
    assert.deepEqual(interp().mostConfused({ minVal: 2 }), [['b', 'c', 2]]);
    // Off-diagonal counts plus the diagonal give back the number of items.
    const off = interp()
      .mostConfused()
      .reduce((s, r) => s + r[2], 0);
    const cm = interp().confusionMatrix();
    assert.equal(off + cm[0]![0]! + cm[1]![1]! + cm[2]![2]!, targets.length);
  });

  it('returns the top losses with actual/predicted names and probabilities', () => {
    const top = interp().topLosses(3);
    // -ln p(actual) per item: .357 .511 1.609 .223 1.204 1.609 .916 .223 -> worst: 2, 5 (tie, stable), 4.
    const expected = losses
      .map((l, i) => [l, i] as const)
      .sort((x, y) => y[0] - x[0])
      .slice(0, 3)
      .map(([, i]) => i);
    assert.deepEqual(
      top.map((t) => t.index),
      expected,
    );
    assert.deepEqual(expected, [2, 5, 4]);
    assert.deepEqual(top[0], {
      index: 2,
      loss: -Math.log(0.2),
      actual: 'a',
      predicted: 'b',
      probability: 0.2,
      predictedProbability: 0.5,
      item: 'img_2.jpg',
    });
    assert.equal(interp().topLosses(1, { largest: false })[0]!.index, 3);
    assert.equal(interp().topLosses(100).length, 8);
    assert.throws(() => interp().topLosses(0), ValueError);
  });

  it('plots the confusion matrix as a PNG, optionally normalised per row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsfast-interp-'));
    dirs.push(dir);
    const file = join(dir, 'cm.png');
    const png = await interp().plotConfusionMatrix({ file, normalize: true });
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual((await sharp(file).metadata()).width, meta.width);
  });

  it('validates its inputs', () => {
    assert.throws(
      () => new ClassificationInterpretation({ probs, targets: [0], losses, vocab }),
      /`probs` has 8 entries but `targets` has 1/,
    );
    assert.throws(
      () =>
        new ClassificationInterpretation({
          probs: [[1, 0]],
          targets: [0],
          losses: [0],
          vocab,
        }),
      /probs\[0\] has 2 classes but vocab has 3/,
    );
    assert.throws(
      () =>
        new ClassificationInterpretation({ probs: [[1, 0, 0]], targets: [3], losses: [0], vocab }),
      /targets\[0\] = 3 is not a class index/,
    );
    assert.throws(() => interp().mostConfused({ min: 1 } as never), /unknown option `min`/);
  });
});
