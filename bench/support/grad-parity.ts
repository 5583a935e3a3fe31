/**
 * Per-layer gradient parity of the real MobileNet v1 0.75 at full size: the ImageNet weights
 * from `../shared/models/mobilenet_v1_0.75_224`, a few real pet photos at 224 px, BatchNorm in
 * training mode (what an unfrozen fine-tuning step runs), global average pooling and a seeded
 * 37-class dense layer. The gradients of every weight are computed on wasm and on the cpu
 * backend in one process and compared layer by layer; with `--dump DIR` the inputs, weights and
 * both gradients are written for `bench/torch/grad_parity.py`, which adds PyTorch's.
 *
 *   npx tsx bench/support/grad-parity.ts [--n 4] [--size 224] [--bn train|eval] [--no-cpu]
 *     [--dump /tmp/grad-parity]
 *
 * `--bn eval` runs the BatchNorm layers on their moving statistics (what `BnFreeze` does);
 * `--no-cpu` skips the cpu backend (minutes at 224 px) and compares wasm with PyTorch only.
 *
 * The table shows, per weight, the relative L2 error ||g_cpu - g_wasm|| / ||g_cpu|| and the
 * largest absolute difference. The last line is JSON: the worst relative error and its weight.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../src/backend/index.js';
import { cutModel } from '../../src/vision/models/archs.js';
import { loadPretrainedWeights } from '../../src/vision/models/load-weights.js';
import { buildMobilenetV1, MOBILENET_V1_CUT } from '../../src/vision/models/mobilenet.js';

const SHARED = resolve(import.meta.dirname, '..', '..', '..', 'shared');
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '4' },
    size: { type: 'string', default: '224' },
    data: { type: 'string', default: join(SHARED, 'data', 'pets', 'images') },
    weights: { type: 'string', default: join(SHARED, 'models', 'mobilenet_v1_0.75_224') },
    dump: { type: 'string' },
    bn: { type: 'string', default: 'train' },
    'no-cpu': { type: 'boolean', default: false },
  },
});
const n = Number(values.n);
const size = Number(values.size);
const CLASSES = 37;
const bnTraining = values.bn !== 'eval';
const withCpu = !values['no-cpu'];

/** The first `n` JPEG photos of distinct breeds, resized to `size` and scaled to [-1, 1]. */
async function photos(dir: string): Promise<{ x: Float32Array; names: string[] }> {
  const seen = new Set<string>();
  const names: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const breed = f.replace(/_\d+\.jpg$/, '');
    if (!f.endsWith('.jpg') || seen.has(breed)) continue;
    const meta = await sharp(join(dir, f)).metadata();
    if (meta.format !== 'jpeg') continue;
    seen.add(breed);
    names.push(f);
    if (names.length === n) break;
  }
  const x = new Float32Array(n * size * size * 3);
  for (const [i, f] of names.entries()) {
    const raw = await sharp(join(dir, f))
      .removeAlpha()
      .resize(size, size, { fit: 'cover' })
      .raw()
      .toBuffer();
    for (let j = 0; j < raw.length; j++) x[i * raw.length + j] = raw[j]! / 127.5 - 1;
  }
  return { x, names };
}

async function buildModel(): Promise<tf.LayersModel> {
  const full = buildMobilenetV1({
    alpha: 0.75,
    includeTop: false,
    initialize: false,
    inputShape: [size, size, 3],
  });
  const body = cutModel(full, MOBILENET_V1_CUT);
  await loadPretrainedWeights(body, values.weights as string, { allowUnexpected: true });
  let y = tf.layers.globalAveragePooling2d({}).apply(body.outputs[0]!) as tf.SymbolicTensor;
  y = tf.layers
    .dense({
      units: CLASSES,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
      name: 'fc',
    })
    .apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: body.inputs, outputs: y });
}

function gradients(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
): { loss: number; grads: Map<string, Float32Array> } {
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: bnTraining }) as tf.Tensor;
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  }, vars);
  const out = new Map<string, Float32Array>();
  for (const v of vars) out.set(v.name, grads[v.name]!.dataSync() as Float32Array);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: out };
}

function compare(a: Float32Array, b: Float32Array): { rel: number; maxAbs: number; norm: number } {
  let d2 = 0;
  let n2 = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    d2 += d * d;
    n2 += a[i]! * a[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { rel: Math.sqrt(d2 / Math.max(n2, 1e-30)), maxAbs, norm: Math.sqrt(n2) };
}

async function main(): Promise<void> {
  const { backend } = await ready();
  if (backend !== 'wasm') throw new Error(`expected the wasm backend, got ${backend}`);
  const { x: pixels, names } = await photos(values.data as string);
  console.log(`${n} photos at ${size} px: ${names.join(', ')}`);
  const model = await buildModel();
  const labels = Int32Array.from(names, (_, i) => (i * 5) % CLASSES);
  const x = tf.tensor4d(pixels, [n, size, size, 3]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES);

  const t0 = performance.now();
  const wasm = gradients(model, x, y);
  console.log(
    `wasm: loss ${wasm.loss.toFixed(5)} (${((performance.now() - t0) / 1e3).toFixed(1)} s)`,
  );
  let cpu = wasm;
  if (withCpu) {
    await tf.setBackend('cpu');
    const t1 = performance.now();
    cpu = gradients(model, x, y);
    console.log(
      `cpu:  loss ${cpu.loss.toFixed(5)} (${((performance.now() - t1) / 1e3).toFixed(1)} s)`,
    );
  }

  console.log('\n| weight | shape | ‖g‖ (cpu) | rel. L2 cpu vs wasm | max abs diff |');
  console.log('| --- | --- | --- | --- | --- |');
  let worst = { name: '', rel: 0 };
  for (const w of model.trainableWeights) {
    const c = compare(cpu.grads.get(w.name)!, wasm.grads.get(w.name)!);
    if (c.rel > worst.rel) worst = { name: w.name, rel: c.rel };
    console.log(
      `| ${w.name} | ${w.shape.join('x')} | ${c.norm.toExponential(3)} | ${c.rel.toExponential(2)} | ${c.maxAbs.toExponential(2)} |`,
    );
  }

  if (values.dump) {
    const dir = values.dump;
    mkdirSync(dir, { recursive: true });
    const entries: { name: string; shape: number[]; kind: string }[] = [];
    const blobs: Buffer[] = [];
    const add = (name: string, shape: number[], kind: string, data: Float32Array) => {
      entries.push({ name, shape, kind });
      blobs.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    };
    add('input', [n, size, size, 3], 'input', pixels);
    add('labels', [n], 'labels', Float32Array.from(labels));
    for (const w of model.weights) {
      add(w.name, w.shape as number[], 'weight', w.read().dataSync() as Float32Array);
    }
    for (const w of model.trainableWeights) {
      add(w.name, w.shape as number[], 'grad_wasm', wasm.grads.get(w.name)!);
      add(w.name, w.shape as number[], 'grad_cpu', cpu.grads.get(w.name)!);
    }
    writeFileSync(
      join(dir, 'index.json'),
      JSON.stringify({ entries, bn: values.bn, losses: { wasm: wasm.loss, cpu: cpu.loss } }),
    );
    writeFileSync(join(dir, 'data.bin'), Buffer.concat(blobs));
    console.log(`\nwritten to ${dir} (run /usr/bin/python3 bench/torch/grad_parity.py ${dir})`);
  }
  tf.dispose([x, y]);
  console.log(
    JSON.stringify({
      worst_weight: worst.name,
      worst_rel_l2: worst.rel,
      loss_wasm: wasm.loss,
      loss_cpu: cpu.loss,
    }),
  );
}

await main();
