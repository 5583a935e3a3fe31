// Loads an exportForWeb folder with stock @tensorflow/tfjs + the wasm backend only (no tsfast
// code, no tsfast classes registered) and predicts on a raw float32 NHWC input file.
// Usage: node load-stock.mjs <export dir> <input.f32> <n,h,w,c> <output.json> [classes,...]
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const [dir, inputFile, shapeArg, outFile, classArg] = process.argv.slice(2);
await tf.setBackend('wasm');
await tf.ready();
const map = tf.serialization.SerializationMap.getMap().classNameMap;
const tsfastClasses = ['BatchNorm', 'ReLU6', 'SeededDropout'].filter((c) => c in map);
const missingStock = (classArg ?? '').split(',').filter((c) => c && !(c in map));
const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
const handler = {
  async load() {
    const buf = await readFile(join(dir, json.weightsManifest[0].paths[0]));
    return {
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
    };
  },
};
const model = await tf.loadLayersModel(handler);
const raw = await readFile(inputFile);
const x = tf.tensor(
  new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4),
  shapeArg.split(',').map(Number),
);
const y = model.predict(x);
const classes = [...new Set(model.layers.map((l) => l.getClassName()))];
await writeFile(
  outFile,
  JSON.stringify({
    backend: tf.getBackend(),
    tsfastClasses,
    missingStock,
    classes,
    shape: y.shape,
    values: Array.from(await y.data()),
  }),
);
