/**
 * exportForWeb: the exported LayersModel holds only stock tfjs classes and, loaded by a
 * child process that imports nothing but @tensorflow/tfjs and its wasm backend, predicts what
 * `learn.predict` predicts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import type { BatchStream, DataLoadersLike } from '../../../src/data/batch.js';
import { STOCK_LAYER_CLASSES, toStockTopology } from '../../../src/vision/export/stock-layers.js';
import { exportForWeb, type WebInferenceSpec } from '../../../src/vision/export/web-export.js';
import { visionLearner } from '../../../src/vision/learner.js';
import { mobilenetV1, mobilenetV2, resnet18 } from '../../../src/vision/models/archs.js';
import { randomiseBnStats } from '../../support/torch-roundtrip.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const EMPTY: BatchStream = { numBatches: 0, numItems: 0, async *[Symbol.asyncIterator]() {} };
const STATS = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

function fakeData(size: number | undefined): DataLoadersLike {
  return {
    train: EMPTY,
    valid: EMPTY,
    vocab: ['cat', 'dog', 'fox'],
    c: 3,
    toConfig: () => ({
      itemTfms:
        size === undefined
          ? []
          : [{ name: 'Resize', size: [size, size], method: 'squish', padMode: 'zeros' }],
      batchTfms: [{ name: 'Normalize', mean: STATS.mean, std: STATS.std }],
    }),
  };
}

interface ChildResult {
  backend: string;
  tsfastClasses: string[];
  missingStock: string[];
  classes: string[];
  shape: number[];
  values: number[];
}

async function loadInFreshTfjs(dir: string, x: tf.Tensor, work: string): Promise<ChildResult> {
  const input = join(work, 'input.f32');
  await writeFile(input, new Uint8Array((await x.data()).buffer));
  const output = join(work, 'output.json');
  execFileSync(
    process.execPath,
    [
      join(HERE, 'load-stock.mjs'),
      dir,
      input,
      x.shape.join(','),
      output,
      STOCK_LAYER_CLASSES.join(','),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 },
  );
  return JSON.parse(await readFile(output, 'utf8')) as ChildResult;
}

describe('exportForWeb', () => {
  let work: string;
  before(async () => {
    await ready();
    work = await mkdtemp(join(tmpdir(), 'tsfast-web-export-'));
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const [label, arch, expected] of [
    ['MobileNet v1 0.25', mobilenetV1({ alpha: 0.25 }), { BatchNorm: 29, ReLU6: 27 }],
    ['MobileNet v2 0.35', mobilenetV2({ alpha: 0.35 }), { BatchNorm: 54, ReLU6: 35 }],
    ['ResNet-18', resnet18, { BatchNorm: 22, ReLUFromOutput: 17 }],
  ] as const) {
    it(`${label} + fastai head: stock classes only, same probabilities in a fresh tfjs`, async () => {
      const learn = await visionLearner(fakeData(32), arch, { pretrained: false, seed: 7 });
      randomiseBnStats(learn, 11);
      const before = tf.memory().numTensors;
      const { dir, inference, converted } = await exportForWeb(learn, join(work, label));
      assert.equal(tf.memory().numTensors, before, 'exportForWeb leaks no tensor');
      assert.deepEqual(converted, { ...expected, SeededDropout: 2 });
      assert.deepEqual(readdirSync(dir).sort(), ['inference.json', 'model.json', 'weights.bin']);
      assert.equal(readdirSync(work).filter((f) => f.startsWith('.')).length, 0, 'no temp left');
      const spec = JSON.parse(await readFile(join(dir, 'inference.json'), 'utf8'));
      assert.deepEqual(spec, inference);
      const want: WebInferenceSpec = {
        format: 'tsfast-web',
        version: 1,
        input: { height: 32, width: 32, channels: 3, scale: 1 / 255 },
        resize: { method: 'squish', padMode: 'zeros' },
        normalize: STATS,
        activation: 'softmax',
        vocab: ['cat', 'dog', 'fox'],
      };
      assert.deepEqual(inference, want);

      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3);
      const got = await loadInFreshTfjs(dir, x, work);
      assert.equal(got.backend, 'wasm');
      assert.deepEqual(got.tsfastClasses, [], 'the child registered no tsfast class');
      assert.deepEqual(got.missingStock, [], 'STOCK_LAYER_CLASSES are all stock');
      for (const c of got.classes) assert.ok(STOCK_LAYER_CLASSES.includes(c), c);
      assert.deepEqual(got.shape, [2, 3]);
      const probs = [
        ...(await learn.predict(x.slice(0, 1))).probs,
        ...(await learn.predict(x.slice(1, 1))).probs,
      ];
      const diff = Math.max(...probs.map((p, i) => Math.abs(p - (got.values[i] as number))));
      assert.ok(diff <= 1e-5, `max |tsfast - stock tfjs| = ${diff}`);
      console.log(`${label}: probs ${probs.map((p) => p.toFixed(4))}, max diff ${diff}`);
      x.dispose();
      learn.model.dispose();
    });
  }

  it('replaces an existing export and refuses what it cannot describe', async () => {
    const learn = await visionLearner(fakeData(undefined), mobilenetV1({ alpha: 0.25 }), {
      pretrained: false,
      seed: 1,
    });
    const dir = join(work, 'again');
    await assert.rejects(exportForWeb(learn, dir), /input size is unknown; pass `inputSize`/);
    assert.equal(existsSync(dir), false);
    await exportForWeb(learn, dir, { inputSize: [40, 48], activation: 'linear' });
    const first = JSON.parse(await readFile(join(dir, 'inference.json'), 'utf8'));
    assert.deepEqual([first.input.height, first.input.width, first.activation], [40, 48, 'linear']);
    await exportForWeb(learn, dir, { inputSize: 24 });
    const second = JSON.parse(await readFile(join(dir, 'inference.json'), 'utf8'));
    assert.deepEqual([second.input.height, second.activation], [24, 'softmax']);
    assert.deepEqual(
      readdirSync(work).filter((f) => f.startsWith('.')),
      [],
      'no temporary folder left beside',
    );
    await assert.rejects(
      exportForWeb(learn, dir, { inputSize: 24, size: 3 } as never),
      /exportForWeb.*size/,
    );
    await assert.rejects(exportForWeb(learn, dir, { activation: 'tanh' as never }), /activation/);
    learn.model.dispose();
  });

  it('names every layer whose class stock tfjs does not know', () => {
    const topology = {
      class_name: 'Model',
      config: {
        layers: [
          { name: 'input', class_name: 'InputLayer', config: { name: 'input' }, inbound_nodes: [] },
          { name: 'mine', class_name: 'MyLayer', config: { name: 'mine' }, inbound_nodes: [] },
          { name: 'bn', class_name: 'BatchNorm', config: { name: 'bn' }, inbound_nodes: [] },
        ],
      },
    };
    type Config = tf.serialization.ConfigDict;
    assert.throws(() => toStockTopology(topology as Config), /"mine" \(MyLayer\)/);
    const ok = toStockTopology({
      ...topology,
      config: { layers: [topology.config.layers[0], topology.config.layers[2]] },
    } as Config);
    assert.deepEqual(ok.converted, { BatchNorm: 1 });
    const layers = (ok.topology.config as { layers: { class_name: string }[] }).layers;
    assert.equal(layers[1]?.class_name, 'BatchNormalization');
    assert.equal(topology.config.layers[2]?.class_name, 'BatchNorm', 'input left unchanged');
  });
});
