/**
 * Training-step benchmark: images/s of the forward pass and of a full training step (all
 * layers trainable, Adam) for a small CNN and MobileNet v1 alpha 0.25, on tfjs wasm and cpu,
 * and the same models in PyTorch 1.13 (1 thread) measured in the same run; then the real
 * workload, MobileNet v1 0.75 at 224 px, 37 classes, batch 16, against PyTorch.
 *
 *   npx tsx bench/train-step.ts [--steps 5] [--warmup 3] [--cpu-steps 1] [--cpu-batch 4] [--no-cpu]
 *     [--batch224 16] [--no-224]
 *
 * The 224 px model trains in a child process at batch 16; if that batch does not fit the wasm
 * heap (the memory guard's error, or the wasm module dying), it is measured at the largest of
 * 12 and 8 that fits and the output says so (PyTorch then runs the same batch).
 *
 * PyTorch runs with one thread for every pool (`OPENBLAS_NUM_THREADS=1` included) and with
 * `MALLOC_MMAP_MAX_=0` (glibc's mmap churn costs it ~3x at 224 px); the script prints the BLAS
 * torch runs on and refuses to compare against the reference BLAS (bench/support/torch.ts).
 *
 * Times are process CPU time (user + system): the machine is shared, and CPU time of a
 * single-threaded process is far less disturbed by other load than wall time (PyTorch is
 * timed with `time.process_time()` the same way). Wall-time figures are printed alongside.
 * The last line is one JSON object with the ratios.
 *
 * All cores (`--no-allcores` skips it, `--only-allcores` runs only it): the 224 px model's
 * training step in wall time, tsfast at 1 thread and at every core (data-parallel worker
 * threads, `threads` of the Learner) against PyTorch at every core (`torch.set_num_threads`,
 * OpenBLAS on as many threads), in the same run: keys `mobilenet224_train_vs_torch_allcores`
 * and `thread_scaling` (tsfast all cores over one thread). `--threads N` sets "all cores";
 * `--rounds R` (default 2) alternates the three runs R times and keeps the best of each.
 * Each round also runs as many one-thread copies side by side as there are threads (keys
 * `process_scaling`, `process_cpu_efficiency`; `--no-side-by-side` skips them): how far the
 * machine itself lets independent copies scale, against which `thread_scaling` is to be read.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/index.js';
import { Adam } from '../src/learner/adam.js';
import { allCoresTrainRate } from './support/all-cores.js';
import { forward, mobileNetV1, smallCnn, trainableVariables, trainStep } from './support/models.js';
import { checkTorchBlas, type TorchBlas, torchEnv } from './support/torch.js';

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
  name: 'smallcnn' | 'mobilenet' | 'mobilenet224';
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

/** The real workload: what `examples/pets.ts` fine-tunes once unfrozen. */
const SPEC_224: Spec = {
  name: 'mobilenet224',
  label: 'MobileNet v1 0.75 224x224, 37 classes',
  size: 224,
  classes: 37,
  build: () => mobileNetV1(224, 0.75, 37),
};

/** Batches tried for the 224 px model, largest first (16 is the target). */
const BATCHES_224 = [16, 12, 8];

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

/** Whether the all-cores section also runs one-thread copies side by side (`--no-side-by-side`). */
const sideBySideOn = !process.argv.includes('--no-side-by-side');

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

interface TorchRates {
  fwd_img_s: number;
  train_img_s: number;
}

interface TorchResult {
  torch: string;
  threads: number;
  blas: TorchBlas;
  smallcnn: TorchRates;
  mobilenet: TorchRates;
  mobilenet224?: TorchRates;
}

const SCRIPT = fileURLToPath(import.meta.url);

/**
 * The 224 px model at `batch` in a child process (`--worker-224`): a batch that does not fit
 * can kill the wasm module outright, which must not end the benchmark.
 */
function run224(batch: number, steps: number): { rates?: ModelRates; error?: string } {
  const tsx = join(dirname(SCRIPT), '..', 'node_modules', '.bin', 'tsx');
  const run = spawnSync(
    existsSync(tsx) ? tsx : 'npx',
    [
      ...(existsSync(tsx) ? [] : ['tsx']),
      SCRIPT,
      '--worker-224',
      String(batch),
      '--steps',
      String(steps),
      '--warmup',
      String(WARMUP_STEPS),
    ],
    { encoding: 'utf8', timeout: 1_200_000 },
  );
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status === 0 && last.startsWith('{')) return { rates: JSON.parse(last) as ModelRates };
  // The wasm module prints its own source with a crash: keep only the error's own line.
  const why = `${run.stderr}\n${run.stdout}`.match(/^\s*(?:\w*Error): [^\n]{0,240}/m)?.[0];
  return { error: (why ?? `exit status ${run.status}, signal ${run.signal}`).trim() };
}

function runTorch(steps: number, batch224: number): TorchResult {
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
      '--batch224',
      String(batch224),
    ],
    { encoding: 'utf8', env: torchEnv({ MALLOC_MMAP_MAX_: '0' }), timeout: 1_200_000 },
  );
  if (run.status !== 0) throw new Error(`PyTorch reference failed:\n${run.stderr}`);
  const line = run.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as TorchResult;
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toPrecision(2);
}

async function worker224(batch: number, steps: number): Promise<void> {
  const choice = await ready();
  if (choice.backend !== 'wasm')
    throw new Error(`expected the wasm backend, got ${choice.backend}`);
  console.log(JSON.stringify(measure(SPEC_224, batch, steps, true)));
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

  // The 224 px model: batch 16, or the largest smaller batch that fits the wasm heap.
  const want224 = arg('batch224', 16);
  let batch224 = 0;
  let wasm224: ModelRates | undefined;
  if (!process.argv.includes('--no-224')) {
    for (const b of [want224, ...BATCHES_224.filter((b) => b < want224)]) {
      const r = run224(b, steps);
      if (r.rates) {
        batch224 = b;
        wasm224 = r.rates;
        break;
      }
      console.log(`${SPEC_224.label}: batch ${b} does not train on wasm here (${r.error})`);
    }
    if (wasm224 === undefined) console.log(`${SPEC_224.label}: no batch of ${BATCHES_224} fits`);
    else if (batch224 !== want224) {
      console.log(
        `${SPEC_224.label}: measured at batch ${batch224}, the largest that fits (batch ${want224} does not yet)`,
      );
    }
  }

  const torch = runTorch(steps, batch224);
  console.log(`PyTorch ${torch.torch}, ${torch.threads} thread(s)`);
  console.log(`${checkTorchBlas(torch.blas)}\n`);
  console.log(
    '| model, batch 32 | tfjs cpu train | tfjs wasm forward | tfjs wasm train | train/fwd time | PyTorch forward | PyTorch train | wasm/PyTorch train |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const figures: Record<string, number> = {};
  for (const spec of SPECS) {
    const w = wasm.get(spec.name)!;
    const c = cpu.get(spec.name);
    const t = torch[spec.name]!;
    const trainVsTorch = w.train.cpu / t.train_img_s;
    const trainOverFwd = w.fwd.cpu / w.train.cpu;
    figures[`${spec.name}_train_vs_torch`] = Number(trainVsTorch.toFixed(3));
    figures[`${spec.name}_train_over_fwd`] = Number(trainOverFwd.toFixed(3));
    console.log(
      `| ${spec.label} | ${c ? `${fmt(c.train.cpu)} img/s` : 'skipped'} | ${fmt(w.fwd.cpu)} img/s (wall ${fmt(w.fwd.wall)}) | ${fmt(w.train.cpu)} img/s (wall ${fmt(w.train.wall)}) | ${trainOverFwd.toFixed(2)} x | ${fmt(t.fwd_img_s)} img/s | ${fmt(t.train_img_s)} img/s | ${trainVsTorch.toFixed(2)} x |`,
    );
  }
  if (wasm224 && torch.mobilenet224) {
    const w = wasm224;
    const t = torch.mobilenet224;
    figures.mobilenet224_train_vs_torch = Number((w.train.cpu / t.train_img_s).toFixed(3));
    figures.mobilenet224_train_over_fwd = Number((w.fwd.cpu / w.train.cpu).toFixed(3));
    console.log(
      `| ${SPEC_224.label}, batch ${batch224} | - | ${fmt(w.fwd.cpu)} img/s (wall ${fmt(w.fwd.wall)}) | ${fmt(w.train.cpu)} img/s (wall ${fmt(w.train.wall)}) | ${figures.mobilenet224_train_over_fwd.toFixed(2)} x | ${fmt(t.fwd_img_s)} img/s | ${fmt(t.train_img_s)} img/s | ${figures.mobilenet224_train_vs_torch.toFixed(2)} x |`,
    );
  }
  if (withCpu)
    console.log(
      `\n(cpu backend: batch ${cpuBatch}, ${cpuSteps} step(s), no warm-up: it is ~1000x slower)`,
    );
  const all = process.argv.includes('--no-allcores') ? {} : await allCores(steps);
  console.log(
    JSON.stringify({
      ...all,
      smallcnn_train_vs_torch: figures.smallcnn_train_vs_torch,
      mobilenet_train_vs_torch: figures.mobilenet_train_vs_torch,
      smallcnn_train_over_fwd: figures.smallcnn_train_over_fwd,
      mobilenet_train_over_fwd: figures.mobilenet_train_over_fwd,
      mobilenet224_train_vs_torch: figures.mobilenet224_train_vs_torch ?? null,
      mobilenet224_train_over_fwd: figures.mobilenet224_train_over_fwd ?? null,
      mobilenet224_batch: batch224 || null,
      torch_blas: torch.blas.blas,
    }),
  );
}

/** The 224 px model's wall-time training rate at `threads` threads, in a child process. */
function runAllCores224(
  batch: number,
  threads: number,
  steps: number,
): { wall: number; cpu: number } {
  const tsx = join(dirname(SCRIPT), '..', 'node_modules', '.bin', 'tsx');
  const run = spawnSync(
    existsSync(tsx) ? tsx : 'npx',
    [
      ...(existsSync(tsx) ? [] : ['tsx']),
      SCRIPT,
      '--worker-224-threads',
      String(threads),
      '--batch224',
      String(batch),
      '--steps',
      String(steps),
      '--warmup',
      String(WARMUP_STEPS),
    ],
    { encoding: 'utf8', timeout: 1_200_000 },
  );
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{')) {
    throw new Error(`tsfast at ${threads} thread(s) failed:\n${run.stderr}\n${run.stdout}`);
  }
  return JSON.parse(last) as { wall: number; cpu: number };
}

/**
 * `copies` one-thread children at once, each on its own batch: what the cores give fully
 * independent copies of the step (no exchanges, nothing shared but the hardware). Their
 * combined rate over one child alone bounds any data-parallel scaling on this machine; it
 * tells the threads' own overhead apart from what two busy cores cost each other (shared
 * caches and memory bandwidth, or a host that backs the vCPUs with one core's two threads).
 */
async function sideBySide(
  batch: number,
  copies: number,
  steps: number,
): Promise<{ wall: number; cpu: number }> {
  const tsx = join(dirname(SCRIPT), '..', 'node_modules', '.bin', 'tsx');
  const one = () =>
    new Promise<{ wall: number; cpu: number }>((resolve, reject) => {
      const child = spawn(
        existsSync(tsx) ? tsx : 'npx',
        [
          ...(existsSync(tsx) ? [] : ['tsx']),
          SCRIPT,
          '--worker-224-threads',
          '1',
          '--batch224',
          String(batch),
          '--steps',
          String(steps),
          '--warmup',
          String(WARMUP_STEPS),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => {
        const last = out.trim().split('\n').pop() ?? '';
        if (code !== 0 || !last.startsWith('{')) {
          reject(new Error(`a side-by-side copy failed (exit ${code}):\n${out}`));
        } else resolve(JSON.parse(last) as { wall: number; cpu: number });
      });
    });
  const runs = await Promise.all(Array.from({ length: copies }, one));
  // Images over total time: the rates' sum (wall), the harmonic mean of CPU rates (CPU).
  return {
    wall: runs.reduce((a, r) => a + r.wall, 0),
    cpu: copies / runs.reduce((a, r) => a + 1 / r.cpu, 0),
  };
}

/** PyTorch on `threads` threads (OpenBLAS too), wall time, the 224 px model only. */
function runTorchAllCores(batch: number, threads: number, steps: number): TorchResult {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch', 'train_step.py');
  const n = String(threads);
  const run = spawnSync(
    '/usr/bin/python3',
    [
      script,
      '--threads',
      n,
      '--steps',
      String(steps),
      '--fwd-steps',
      '1',
      '--warmup',
      String(WARMUP_STEPS),
      '--batch224',
      String(batch),
    ],
    {
      encoding: 'utf8',
      env: torchEnv({
        OMP_NUM_THREADS: n,
        MKL_NUM_THREADS: n,
        OPENBLAS_NUM_THREADS: n,
        MALLOC_MMAP_MAX_: '0',
      }),
      timeout: 1_200_000,
    },
  );
  if (run.status !== 0) throw new Error(`PyTorch all-cores reference failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as TorchResult;
}

/** tsfast at 1 thread and at all cores against PyTorch at all cores, wall time. */
async function allCores(steps: number): Promise<Record<string, number | string>> {
  const batch = arg('batch224', 16);
  const cores = arg('threads', availableParallelism());
  const load = (label: string) => `${label} load ${uptimeLoad()}`;
  console.log(
    `\n## All cores: ${SPEC_224.label}, batch ${batch}, wall time, ${cores} cores, best of ${arg('rounds', 2)} alternating rounds`,
  );
  console.log(load('before'));
  // Alternating rounds, best of each: other jobs on a shared machine come and go, and one
  // sequential pair can put all of a burst on one side.
  const rounds = arg('rounds', 2);
  const best = (a: { wall: number; cpu: number } | undefined, b: { wall: number; cpu: number }) =>
    a === undefined || b.wall > a.wall ? b : a;
  let one: { wall: number; cpu: number } | undefined;
  let all: { wall: number; cpu: number } | undefined;
  let torch: TorchResult | undefined;
  let apart: { wall: number; cpu: number } | undefined;
  for (let r = 0; r < rounds; r++) {
    one = best(one, runAllCores224(batch, 1, steps));
    all = best(all, runAllCores224(batch, cores, steps));
    if (sideBySideOn) apart = best(apart, await sideBySide(batch, cores, steps));
    const tr = runTorchAllCores(batch, cores, steps);
    const rate = (x: TorchResult | undefined) => x?.mobilenet224?.train_img_s ?? 0;
    if (rate(tr) > rate(torch)) torch = tr;
  }
  if (one === undefined || all === undefined || torch === undefined) {
    throw new Error('--rounds must be at least 1');
  }
  console.log(load('after'));
  const t = torch.mobilenet224 as TorchRates;
  console.log(`${checkTorchBlas(torch.blas)}`);
  console.log(
    '| MobileNet v1 0.75 224 px, batch ' +
      batch +
      ' | tsfast 1 thread | tsfast ' +
      cores +
      ' threads | PyTorch ' +
      torch.threads +
      ' threads | tsfast/PyTorch | thread scaling |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  const vs = all.wall / t.train_img_s;
  const scaling = all.wall / one.wall;
  // CPU time of all threads: how much extra work the threads cost (1 = none); unlike wall
  // time it barely moves with other load on the machine.
  const cpuEfficiency = all.cpu / one.cpu;
  console.log(
    `| train, wall img/s | ${fmt(one.wall)} | ${fmt(all.wall)} | ${fmt(t.train_img_s)} | ${vs.toFixed(2)} x | ${scaling.toFixed(2)} x |`,
  );
  console.log(
    `| train, img/s of CPU time (all threads) | ${fmt(one.cpu)} | ${fmt(all.cpu)} | - | - | CPU efficiency ${cpuEfficiency.toFixed(2)} |`,
  );
  if (apart !== undefined) {
    console.log(
      `| ${cores} one-thread processes side by side (no exchanges; the hardware's ceiling) | ${fmt(one.wall)} wall, ${fmt(one.cpu)} CPU | ${fmt(apart.wall)} wall, ${fmt(apart.cpu)} CPU | - | - | ${(apart.wall / one.wall).toFixed(2)} x, CPU efficiency ${(apart.cpu / one.cpu).toFixed(2)} |`,
    );
  }
  return {
    ...(apart === undefined
      ? {}
      : {
          process_scaling: Number((apart.wall / one.wall).toFixed(3)),
          process_cpu_efficiency: Number((apart.cpu / one.cpu).toFixed(3)),
        }),
    mobilenet224_train_vs_torch_allcores: Number(vs.toFixed(3)),
    thread_scaling: Number(scaling.toFixed(3)),
    thread_cpu_efficiency: Number(cpuEfficiency.toFixed(3)),
    allcores_threads: cores,
    allcores_tsfast_img_s: Number(one.wall.toFixed(2)),
    allcores_tsfast_all_img_s: Number(all.wall.toFixed(2)),
    allcores_torch_img_s: Number(t.train_img_s.toFixed(2)),
  };
}

function uptimeLoad(): string {
  const r = spawnSync('uptime', [], { encoding: 'utf8' });
  return r.stdout.trim().replace(/.*load average:\s*/, '');
}

async function workerAllCores(threads: number): Promise<void> {
  const choice = await ready();
  if (choice.backend !== 'wasm')
    throw new Error(`expected the wasm backend, got ${choice.backend}`);
  const batch = arg('batch224', 16);
  const rate = await allCoresTrainRate(
    SPEC_224.build,
    [batch, SPEC_224.size, SPEC_224.size, 3],
    SPEC_224.classes,
    threads,
    arg('steps', 5),
    WARMUP_STEPS,
  );
  console.log(JSON.stringify(rate));
}

const workerAt = process.argv.indexOf('--worker-224');
const threadsAt = process.argv.indexOf('--worker-224-threads');
if (workerAt >= 0) await worker224(Number(process.argv[workerAt + 1]), arg('steps', 5));
else if (threadsAt >= 0) await workerAllCores(Number(process.argv[threadsAt + 1]));
else if (process.argv.includes('--only-allcores'))
  console.log(JSON.stringify(await allCores(arg('steps', 5))));
else await main();
