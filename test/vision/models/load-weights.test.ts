import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { DataError } from '../../../src/core/errors.js';
import { DownloadError } from '../../../src/external/download.js';
import { loadPretrainedWeights, weightsFormatOf } from '../../../src/vision/models/load-weights.js';
import { encodeSafetensors } from './safetensors-encode.js';

/** A small conv net named like a PyTorch module (for safetensors) and saved as tfjs. */
function tinyNet(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  let x = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      useBias: false,
      name: 'conv1',
      kernelInitializer: tf.initializers.glorotNormal({ seed }),
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const y = tf.layers
    .dense({
      units: 2,
      name: 'fc',
      kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }),
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

function f32(t: tf.Tensor): Buffer {
  return Buffer.from((t.dataSync() as Float32Array).slice().buffer);
}

/** The tiny net's weights as a PyTorch state dict (NCHW kernels, [out, in] linear). */
function torchStateDict(model: tf.LayersModel): Buffer {
  const [k] = model.getLayer('conv1').getWeights();
  const [g, b, m, v] = model.getLayer('bn1').getWeights();
  const [w, bias] = model.getLayer('fc').getWeights();
  const e = (t: tf.Tensor) => ({ dtype: 'F32', shape: t.shape, bytes: f32(t) });
  return tf.tidy(() =>
    encodeSafetensors({
      'conv1.weight': e(tf.transpose(k as tf.Tensor, [3, 2, 0, 1])),
      'bn1.weight': e(g as tf.Tensor),
      'bn1.bias': e(tf.add(b as tf.Tensor, 0.5)),
      'bn1.running_mean': e(tf.add(m as tf.Tensor, 0.1)),
      'bn1.running_var': e(tf.add(v as tf.Tensor, 2)),
      'fc.weight': e(tf.transpose(w as tf.Tensor)),
      'fc.bias': e(bias as tf.Tensor),
    }),
  );
}

describe('loadPretrainedWeights from local files and URLs (local HTTP server)', () => {
  let dir: string;
  let server: Server;
  let base: string;
  const requests: string[] = [];
  let reference: tf.LayersModel;
  const x = () => tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 3);

  before(async () => {
    await ready();
    dir = mkdtempSync(join(tmpdir(), 'tsfast-weights-'));
    reference = tinyNet(11);
    writeFileSync(join(dir, 'tiny.safetensors'), torchStateDict(reference));
    // The same tweak of the BN statistics as in the state dict, so both files agree.
    const [g, b, m, v] = reference.getLayer('bn1').getWeights();
    reference
      .getLayer('bn1')
      .setWeights(
        tf.tidy(() => [
          g as tf.Tensor,
          tf.add(b as tf.Tensor, 0.5),
          tf.add(m as tf.Tensor, 0.1),
          tf.add(v as tf.Tensor, 2),
        ]),
      );
    mkdirSync(join(dir, 'tiny_tfjs'));
    await reference.save(
      tf.io.withSaveHandler(async (artifacts) => {
        writeFileSync(
          join(dir, 'tiny_tfjs', 'model.json'),
          JSON.stringify({
            modelTopology: artifacts.modelTopology,
            weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }],
          }),
        );
        writeFileSync(
          join(dir, 'tiny_tfjs', 'group1-shard1of1.bin'),
          Buffer.from(artifacts.weightData as ArrayBuffer),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      try {
        const body = readFileSync(
          join(dir, decodeURIComponent(req.url ?? '').replace(/^\/files\//, '')),
        );
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
      } catch {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files`;
  });

  after(() => {
    server.close();
    reference.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const predictDiff = (model: tf.LayersModel) =>
    tf.tidy(() => {
      const input = x();
      const d = tf.abs(
        tf.sub(model.predict(input) as tf.Tensor, reference.predict(input) as tf.Tensor),
      );
      return tf.max(d).dataSync()[0] as number;
    });

  it('chooses the format from the name', () => {
    assert.equal(weightsFormatOf('a/b/model.safetensors'), 'safetensors');
    assert.equal(weightsFormatOf('https://h/x.safetensors?download=true'), 'safetensors');
    assert.equal(weightsFormatOf('../shared/models/mobilenet_v1_0.75_224'), 'tfjs');
  });

  it('loads a local safetensors file and a local tfjs folder into equal models', async () => {
    const a = tinyNet(99);
    await loadPretrainedWeights(a, join(dir, 'tiny.safetensors'));
    assert.ok(predictDiff(a) < 1e-6);
    const b = tinyNet(98);
    await loadPretrainedWeights(b, join(dir, 'tiny_tfjs'));
    assert.ok(predictDiff(b) < 1e-6);
    a.dispose();
    b.dispose();
  });

  it('downloads safetensors and tfjs folders into the cache once, then works offline', async () => {
    const cacheDir = join(dir, 'cache');
    const a = tinyNet(97);
    await loadPretrainedWeights(a, `${base}/tiny.safetensors`, { download: { cacheDir } });
    assert.ok(predictDiff(a) < 1e-6);
    const b = tinyNet(96);
    await loadPretrainedWeights(b, `${base}/tiny_tfjs/model.json`, { download: { cacheDir } });
    assert.ok(predictDiff(b) < 1e-6);
    assert.deepEqual(requests.sort(), [
      '/files/tiny.safetensors',
      '/files/tiny_tfjs/group1-shard1of1.bin',
      '/files/tiny_tfjs/model.json',
    ]);
    // Cached: no new request.
    const c = tinyNet(95);
    await loadPretrainedWeights(c, `${base}/tiny_tfjs/model.json`, { download: { cacheDir } });
    assert.equal(requests.length, 3);
    assert.ok(predictDiff(c) < 1e-6);
    [a, b, c].forEach((m) => {
      m.dispose();
    });
  });

  it('names the URL when a file cannot be downloaded, and the shard when one is missing', async () => {
    const cacheDir = join(dir, 'cache2');
    const m = tinyNet(94);
    await assert.rejects(
      loadPretrainedWeights(m, `${base}/absent.safetensors`, { download: { cacheDir } }),
      (err: Error) =>
        err instanceof DownloadError && err.message.includes('/files/absent.safetensors'),
    );
    rmSync(join(dir, 'tiny_tfjs', 'group1-shard1of1.bin'));
    await assert.rejects(loadPretrainedWeights(m, join(dir, 'tiny_tfjs')), (err: Error) => {
      assert.ok(err instanceof DataError);
      assert.match(err.message, /weight file "group1-shard1of1\.bin" is missing/);
      assert.match(err.message, /conv1\/kernel/);
      return true;
    });
    m.dispose();
  });
});
