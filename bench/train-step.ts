/**
 * Training-step benchmark: images/s of the forward pass and of a full training step (all
 * layers trainable, Adam) for a small CNN and MobileNet v1 alpha 0.25, on tfjs wasm and cpu,
 * and the same models in PyTorch 1.13 (1 thread) measured in the same run.
 *
 *   npx tsx bench/train-step.ts [--steps 5] [--warmup 3] [--cpu-steps 1] [--cpu-batch 4] [--no-cpu]
 *
 * Times are process CPU time (user + system): the machine is shared, and CPU time of a
 * single-threaded process is far less disturbed by other load than wall time (PyTorch is
 * timed with `time.process_time()` the same way). Wall-time figures are printed alongside.
 * The last line is one JSON object with the ratios.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/index.js';
import { Adam } from '../src/learner/adam.js';
import { forward, mobileNetV1, smallCnn, trainableVariables, trainStep } from './support/models.js';

interface Rate {
  /** Images per second of CPU time. */
  cpu: number;
  /** Images per second of wall time. */
  wall: number;
}

interface ModelRates {
  fwd: Rate;
  train: Rate;
}

interface Spec {
  name: 'smallcnn' | 'mobilenet';
  label: string;
  size: number;
  classes: number;
  build: () => tf.LayersModel;
}

const SPECS: Spec[] = [
  {
    name: 'smallcnn',
    label: 'small CNN 64x64',
    size: 64,
    classes: 10,
    build: () => smallCnn(64),
  },
  {
    name: 'mobilenet',
    label: 'MobileNet v1 0.25 128x128',
    size: 128,
    classes: 1000,
    build: () => mobileNetV1(128, 0.25, 1000),
  },
];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function timeRate(batch: number, steps: number, fn: () => void): Rate {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < steps; i++) fn();
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  return {
    cpu: (batch * steps) / ((cpu.user + cpu.system) / 1e6),
    wall: (batch * steps) / (wall / 1e3),
  };
}

/** Warm-up steps before timing, the same on both sides (`--warmup`). */
const WARMUP_STEPS = arg('warmup', 3);

function measure(spec: Spec, batch: number, steps: number, warmup: boolean): ModelRates {
  const model = spec.build();
  const x = tf.randomUniform([batch, spec.size, spec.size, 3], -1, 1, 'float32', 1);
  const labels = tf.randomUniform([batch], 0, spec.classes, 'int32', 2) as tf.Tensor1D;
  const y = tf.oneHot(labels, spec.classes);
  // tsfast's Adam (what the learner uses), set to torch.optim.Adam's defaults as in the PyTorch
  // reference: betas (0.9, 0.999), eps 1e-8, no weight decay.
  const optimizer = new Adam([trainableVariables(model)], {
    lr: 1e-3,
    mom: 0.9,
    sqrMom: 0.999,
    eps: 1e-8,
    wd: 0,
  });
  // Several warm-up steps: V8 compiles wasm code in tiers, and a MobileNet step settles only
  // after about 3 (CPU ms per step measured 1189, 477, 363, 338, then 265-300).
  for (let i = 0; i < (warmup ? WARMUP_STEPS : 0); i++) {
    forward(model, x);
    trainStep(model, optimizer, x, y);
  }
  const fwd = timeRate(batch, steps, () => forward(model, x));
  const before = tf.memory().numTensors;
  const train = timeRate(batch, steps, () => trainStep(model, optimizer, x, y));
  // The first step creates Adam's state; after that a step must leave nothing behind.
  const leaked = tf.memory().numTensors - before;
  if (warmup && leaked !== 0) throw new Error(`${spec.name}: ${leaked} tensors leaked`);
  tf.dispose([x, labels, y]);
  optimizer.dispose();
  model.dispose();
  return { fwd, train };
}

interface TorchResult {
  torch: string;
  threads: number;
  smallcnn: { fwd_img_s: number; train_img_s: number };
  mobilenet: { fwd_img_s: number; train_img_s: number };
}

function runTorch(steps: number): TorchResult {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch', 'train_step.py');
  const run = spawnSync(
    '/usr/bin/python3',
    [
      script,
      '--steps',
      String(steps),
      '--fwd-steps',
      String(steps),
      '--warmup',
      String(WARMUP_STEPS),
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      timeout: 600_000,
    },
  );
  if (run.status !== 0) throw new Error(`PyTorch reference failed:\n${run.stderr}`);
  const line = run.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as TorchResult;
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toPrecision(2);
}

async function main(): Promise<void> {
  const steps = arg('steps', 5);
  const cpuSteps = arg('cpu-steps', 1);
  const cpuBatch = arg('cpu-batch', 4);
  const withCpu = !process.argv.includes('--no-cpu');
  const batch = 32;

  const choice = await ready();
  if (choice.backend !== 'wasm') {
    throw new Error(`expected the wasm backend, got ${choice.backend} (unset TSFAST_BACKEND)`);
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  console.log(
    `tfjs ${tf.version.tfjs}, wasm (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}), batch ${batch}, ${steps} steps`,
  );

  const wasm = new Map<string, ModelRates>();
  for (const spec of SPECS) wasm.set(spec.name, measure(spec, batch, steps, true));

  const cpu = new Map<string, ModelRates>();
  if (withCpu) {
    await tf.setBackend('cpu');
    for (const spec of SPECS) cpu.set(spec.name, measure(spec, cpuBatch, cpuSteps, false));
    await tf.setBackend('wasm');
  }

  const torch = runTorch(steps);
  console.log(`PyTorch ${torch.torch}, ${torch.threads} thread(s)\n`);
  console.log(
    '| model, batch 32 | tfjs cpu train | tfjs wasm forward | tfjs wasm train | train/fwd time | PyTorch forward | PyTorch train | wasm/PyTorch train |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const figures: Record<string, number> = {};
  for (const spec of SPECS) {
    const w = wasm.get(spec.name)!;
    const c = cpu.get(spec.name);
    const t = torch[spec.name];
    const trainVsTorch = w.train.cpu / t.train_img_s;
    const trainOverFwd = w.fwd.cpu / w.train.cpu;
    figures[`${spec.name}_train_vs_torch`] = Number(trainVsTorch.toFixed(3));
    figures[`${spec.name}_train_over_fwd`] = Number(trainOverFwd.toFixed(3));
    console.log(
      `| ${spec.label} | ${c ? `${fmt(c.train.cpu)} img/s` : 'skipped'} | ${fmt(w.fwd.cpu)} img/s (wall ${fmt(w.fwd.wall)}) | ${fmt(w.train.cpu)} img/s (wall ${fmt(w.train.wall)}) | ${trainOverFwd.toFixed(2)} x | ${fmt(t.fwd_img_s)} img/s | ${fmt(t.train_img_s)} img/s | ${trainVsTorch.toFixed(2)} x |`,
    );
  }
  if (withCpu)
    console.log(
      `\n(cpu backend: batch ${cpuBatch}, ${cpuSteps} step(s), no warm-up: it is ~1000x slower)`,
    );
  console.log(
    JSON.stringify({
      smallcnn_train_vs_torch: figures.smallcnn_train_vs_torch,
      mobilenet_train_vs_torch: figures.mobilenet_train_vs_torch,
      smallcnn_train_over_fwd: figures.smallcnn_train_over_fwd,
      mobilenet_train_over_fwd: figures.mobilenet_train_over_fwd,
    }),
  );
}

await main();
