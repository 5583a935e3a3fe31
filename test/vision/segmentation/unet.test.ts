import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../../src/backend/ready.js';
import { SegmentationInterpretation } from '../../../src/interpret/segmentation-interpretation.js';
import { loadLearner } from '../../../src/learner/learner-io.js';
import { JaccardCoeffMulti, pixelAccuracy } from '../../../src/learner/segmentation-metrics.js';
import { expectKernelsSupported } from '../../../src/testing/kernel-guard.js';
import { expectNoLeaks } from '../../../src/testing/leak-check.js';
import { augTransforms } from '../../../src/vision/augment/aug-transforms.js';
import { Resize } from '../../../src/vision/image/resize.js';
import { cutModel, mobilenetV2, resnet18 } from '../../../src/vision/models/archs.js';
import { dynamicUnet } from '../../../src/vision/segmentation/dynamic-unet.js';
import { renderMaskResults } from '../../../src/vision/segmentation/results-renderer.js';
import { SegmentationDataLoaders } from '../../../src/vision/segmentation/segmentation-dataloaders.js';
import { showSegmentationResults } from '../../../src/vision/segmentation/show-results.js';
import { pixelShuffle } from '../../../src/vision/segmentation/unet-layers.js';
import { unetLearner } from '../../../src/vision/segmentation/unet-learner.js';
import { nodeKernelsWithOpWrappers } from '../models/node-kernels.js';

const dir = mkdtempSync(join(tmpdir(), 'tsfast-unet-'));

/** Eight 40x40 photos of a bright disc at random places, with masks (1 disc, 2 background). */
async function discFiles(): Promise<string[]> {
  const files: string[] = [];
  for (let k = 0; k < 8; k++) {
    const cx = 12 + ((k * 7) % 16);
    const cy = 10 + ((k * 11) % 18);
    const inside = (x: number, y: number) => (x - cx) ** 2 + (y - cy) ** 2 < 64;
    const rgb = Buffer.alloc(40 * 40 * 3);
    const grey = Buffer.alloc(40 * 40);
    for (let p = 0; p < 1600; p++) {
      const on = inside(p % 40, Math.floor(p / 40));
      rgb.set(on ? [230, 200, 40] : [30, 60, 120], 3 * p);
      grey[p] = on ? 1 : 2;
    }
    const file = join(dir, `disc_${k}.png`);
    await sharp(rgb, { raw: { width: 40, height: 40, channels: 3 } })
      .png()
      .toFile(file);
    await sharp(grey, { raw: { width: 40, height: 40, channels: 1 } })
      .png()
      .toFile(join(dir, `disc_${k}_mask.png`));
    files.push(file);
  }
  return files;
}

const maskOf = (f: unknown) => String(f).replace(/\.png$/, '_mask.png');

describe('DynamicUnet', () => {
  before(async () => {
    await ready();
  });

  it('pixelShuffle moves channel (i r + j) C + c to sub-pixel (i, j), and back in the gradient', async () => {
    const [n, h, w, r, c] = [2, 3, 2, 2, 3];
    const x = tf.randomNormal([n, h, w, r * r * c], 0, 1, 'float32', 3);
    const weight = tf.randomNormal([n, h * r, w * r, c], 0, 1, 'float32', 4);
    const y = pixelShuffle(x, r);
    const xv = (await x.array()) as number[][][][];
    const yv = (await y.array()) as number[][][][];
    const wv = (await weight.array()) as number[][][][];
    const g = tf.grad((t: tf.Tensor) => pixelShuffle(t, r).mul(weight).sum())(x);
    const gv = (await g.array()) as number[][][][];
    for (let b = 0; b < n; b++)
      for (let a = 0; a < h; a++)
        for (let e = 0; e < w; e++)
          for (let i = 0; i < r; i++)
            for (let j = 0; j < r; j++)
              for (let k = 0; k < c; k++) {
                const ch = (i * r + j) * c + k;
                assert.equal(yv[b]![a * r + i]![e * r + j]![k], xv[b]![a]![e]![ch]);
                assert.equal(gv[b]![a]![e]![ch], wv[b]![a * r + i]![e * r + j]![k]);
              }
    tf.dispose([x, weight, y, g]);
  });

  it('hooks the last block output of each MobileNetV2 stage, and starts ICNR upsampling', async () => {
    const arch = mobilenetV2({ alpha: 0.35 });
    const full = await arch.body({ initialize: true, seed: 1, inputShape: [32, 32, 3] });
    const unet = dynamicUnet(cutModel(full, 'block_16_project_BN'), 3, { seed: 2 });
    assert.deepEqual(
      unet.skips.map((s) => s.layer),
      ['expanded_conv_project_BN', 'block_2_add', 'block_5_add', 'block_12_add'],
    );
    assert.deepEqual(unet.model.outputs[0]!.shape, [null, 32, 32, 3]);
    // ICNR: the four sub-pixel filters of each output channel start equal.
    const conv = unet.model.getLayer('unet.block0.shuf.conv');
    const k = (await conv.weights[0]!.read().array()) as number[][][][];
    const cout = k[0]![0]![0]!.length / 4;
    for (const row of k[0]![0]!) {
      for (let s = 1; s < 4; s++) {
        assert.deepEqual(row.slice(s * cout, (s + 1) * cout), row.slice(0, cout));
      }
    }
    unet.model.dispose();
  });

  it('hooks what fastai hooks on a ResNet: the stem ReLU and the outputs of layer1-3', async () => {
    const full = await resnet18.body({ initialize: true, seed: 1, inputShape: [32, 32, 3] });
    const unet = dynamicUnet(cutModel(full, resnet18.cut), 2, { seed: 2 });
    assert.deepEqual(
      unet.skips.map((s) => [s.layer, ...s.shape]),
      [
        ['relu', 16, 16, 64],
        ['layer1.1.relu', 8, 8, 64],
        ['layer2.1.relu', 4, 4, 128],
        ['layer3.1.relu', 2, 2, 256],
      ],
    );
    assert.deepEqual(unet.model.outputs[0]!.shape, [null, 32, 32, 2]);
    unet.model.dispose();
  });

  it('trains, predicts, shows and exports a U-Net with no tensor leak, tfjs-node kernels only', async () => {
    const files = await discFiles();
    const dls = await SegmentationDataLoaders.fromLabelFunc(files, maskOf, {
      codes: ['disc', 'background'],
      values: [1, 2],
      validPct: 0.25,
      seed: 5,
      bs: 2,
      itemTfms: Resize(32),
      batchTfms: augTransforms(),
    });
    const learn = await unetLearner(dls, mobilenetV2({ alpha: 0.35 }), {
      pretrained: false,
      cut: 'block_16_project_BN',
      selfAttention: true,
      metrics: [pixelAccuracy, JaccardCoeffMulti()],
      seed: 3,
      path: dir,
      logger: () => {},
    });
    assert.equal(learn.nGroups, 3);
    learn.freeze();
    const frozenBody = learn.model.getLayer('block_13_expand').weights[0]!.read().clone();
    await expectKernelsSupported(() => learn.fit(1, 1e-3), {
      kernelsFile: nodeKernelsWithOpWrappers(),
    });
    await expectNoLeaks(() => learn.fit(1, 1e-3));
    const same = learn.model.getLayer('block_13_expand').weights[0]!.read().equal(frozenBody).all();
    assert.equal((await same.data())[0], 1, 'the frozen body does not train');
    tf.dispose([same, frozenBody]);
    learn.unfreeze();
    await learn.fit(1, 1e-3);
    await expectNoLeaks(() => learn.fit(1, 1e-3));

    const preds = await expectNoLeaks(() => learn.getPreds({ withLoss: true }), 3);
    assert.deepEqual(preds.preds.shape, [2, 32, 32, 2]);
    assert.deepEqual(preds.targs?.shape, [2, 32, 32]);
    assert.deepEqual(preds.losses!.shape, [2]);
    const file = join(dir, 'results.png');
    await expectNoLeaks(() => showSegmentationResults(learn, { file, maxN: 2 }));
    const meta = await sharp(file).metadata();
    assert.ok(meta.width! > 2 * 32 && meta.height! > 2 * 32);
    // learn.showResults draws masks through the MaskBlock renderer: target | prediction.
    const png = await expectNoLeaks(() =>
      learn.showResults({ maxN: 2, shuffle: false, ncols: 2, tileSize: 64 }),
    );
    const { info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.ok(info.width >= 2 * 64, `two tiles side by side (${info.width} px)`);
    const interp = await expectNoLeaks(() => SegmentationInterpretation.fromLearner(learn));
    const top = interp.topLosses();
    assert.equal(top.length, 2);
    assert.ok(top[0]!.loss >= top[1]!.loss);
    const losses = Array.from(await preds.losses!.data()).sort((a, b) => b - a);
    assert.ok(Math.abs(top[0]!.loss - losses[0]!) < 1e-5);
    await expectNoLeaks(() => interp.plotTopLosses(1, { file: join(dir, 'worst.png') }));

    const exported = await learn.export('unet');
    const loaded = await loadLearner(exported);
    assert.deepEqual(loaded.dls.vocab, ['disc', 'background']);
    const again = await loaded.getPreds({ dl: dls.valid });
    const diff = tf.tidy(() => again.preds.sub(preds.preds).abs().max());
    assert.ok((await diff.data())[0]! < 1e-5, 'the loaded U-Net predicts as the trained one');
    tf.dispose([diff, again.preds, again.targs, preds.preds, preds.targs, preds.losses!]);
    loaded.model.dispose();
    learn.model.dispose();
  });

  it('renders a mask result as the target and prediction overlays side by side', async () => {
    const images = tf.tensor4d([1, 0, 0, 0, 0, 1], [1, 1, 2, 3]);
    const targets = tf.tensor3d([[[0, 1]]], [1, 1, 2], 'int32');
    const decoded = tf.tensor3d([[[1, 1]]], [1, 1, 2], 'int32');
    const [tile] = await renderMaskResults({
      images,
      targets,
      preds: decoded,
      decoded,
      vocab: ['a', 'b'],
    });
    tf.dispose([images, targets, decoded]);
    const { data, width } = tile!.image as { data: Uint8Array; width: number };
    assert.equal(width, 2 + 4 + 2);
    // 0.5 * image + 0.5 * colour: red under class 0 (#1f77b4), blue under class 1 (#ff7f0e)
    assert.deepEqual(Array.from(data.subarray(0, 6)), [143, 60, 90, 128, 64, 135]);
    assert.deepEqual(Array.from(data.subarray(6 * 3, 8 * 3)), [255, 64, 7, 128, 64, 135]);
    assert.equal(tile!.title, 'target | prediction');
  });
});
