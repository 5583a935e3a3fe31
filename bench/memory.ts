/**
 * Training memory benchmark: peak tensor memory of full training steps (forward, backward,
 * Adam; all layers trainable; fastai's head, 37 classes) per image, on wasm through the
 * Learner, and in PyTorch 1.13 for the same models and shapes in the same run.
 *
 *   npx tsx bench/memory.ts [--quick] [--no-verify] [--models resnet34,mobilenet_v2_1]
 *
 * How each peak is measured:
 * - tsfast (wasm): the wasm memory guard's high-water mark of live tensor bytes (every tensor
 *   of the wasm heap, counted at allocation and release) over `learn.fit(1)` on two batches,
 *   minus the bytes live before (weights, data). XNNPACK's own scratch buffers are not tensors
 *   and not counted; the guard leaves them 1 GiB of the 4 GiB.
 * - PyTorch: the high-water mark of live tensor bytes over the same two Adam steps, from the
 *   allocation and release events of its profiler (`profile_memory=True`), one thread,
 *   `MALLOC_MMAP_MAX_=0` (see bench/torch/memory.py, which also prints the peak RSS growth).
 * Both include the gradients and Adam's state. Per image is the slope between the two batch
 * sizes (what one more image costs); the totals are printed too.
 * `max_bs_224` is the largest batch the guard's limit admits by that slope for MobileNet v1
 * 0.75 at 224 px, and (unless `--no-verify`) a fit at that batch size is run to confirm it.
 * Last line: one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import {
  DEFAULT_WASM_TENSOR_LIMIT,
  resetWasmTensorPeak,
  wasmTensorBytes,
  wasmTensorPeakBytes,
} from '../src/backend/wasm-kernels/memory-guard.js';
import { syntheticDataLoaders } from '../src/testing/synthetic-data.js';
import { visionLearner } from '../src/vision/learner.js';

const MB = 2 ** 20;
const CLASSES = 37;
const SIZE = 224;
const quick = process.argv.includes('--quick');
const verify = !process.argv.includes('--no-verify');

interface Spec {
  /** tsfast architecture name (and the PyTorch script's model name). */
  arch: string;
  torch: string;
  label: string;
  batches: [number, number];
}

const SPECS: Spec[] = [
  {
    arch: 'mobilenet_v1_0.75',
    torch: 'mobilenet_v1_0.75',
    label: 'MobileNet v1 0.75',
    batches: [8, 16],
  },
  { arch: 'resnet34', torch: 'resnet34', label: 'ResNet-34', batches: [4, 8] },
  { arch: 'mobilenet_v2_1', torch: 'mobilenet_v2_1', label: 'MobileNet v2 1.0', batches: [2, 4] },
];

/** Peak growth of live wasm tensor bytes over `fit(1)` on two batches of `bs`. */
async function wasmPeak(arch: string, bs: number, batches = 2): Promise<number> {
  const n = bs * batches;
  const labels = Array.from({ length: n }, (_, i) => i % CLASSES);
  const dls = syntheticDataLoaders({
    xTrain: tf.randomUniform([n, SIZE, SIZE, 3], -1, 1, 'float32', 1),
    yTrain: tf.tensor1d(labels, 'int32'),
    xValid: tf.randomUniform([1, SIZE, SIZE, 3], -1, 1, 'float32', 2),
    yValid: tf.tensor1d([0], 'int32'),
    bs,
    vocab: Array.from({ length: CLASSES }, (_, i) => `c${i}`),
    seed: 0,
  });
  // No automatic micro-batching: a batch that does not fit must fail, not be split.
  const learn = await visionLearner(dls, arch, {
    pretrained: false,
    seed: 0,
    logger: () => {},
    autoMicroBatch: false,
    // One thread: the guard counts this heap only, and worker threads would each hold a slice.
    threads: 1,
  });
  const before = wasmTensorBytes() ?? 0;
  resetWasmTensorPeak();
  await learn.fit(1, 1e-3);
  const peak = (wasmTensorPeakBytes() ?? 0) - before;
  learn.opt.dispose();
  learn.model.dispose();
  dls.dispose();
  return peak;
}

interface TorchRun {
  torch: string;
  threads: number;
  blas: string[];
  peak_growth_mb: number;
  peak_tensor_mb: number;
}

function torchPeak(model: string, bs: number): TorchRun {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch', 'memory.py');
  const run = spawnSync('/usr/bin/python3', [script, '--model', model, '--batch', String(bs)], {
    encoding: 'utf8',
    env: {
      ...process.env,
      OPENBLAS_NUM_THREADS: '1',
      OMP_NUM_THREADS: '1',
      MKL_NUM_THREADS: '1',
      MALLOC_MMAP_MAX_: '0',
    },
    timeout: 600_000,
  });
  if (run.status !== 0) throw new Error(`PyTorch reference failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as TorchRun;
}

const r1 = (n: number) => Number(n.toFixed(1));
const r3 = (n: number) => Number(n.toFixed(3));

interface Row {
  label: string;
  batches: [number, number];
  wasm: [number, number];
  torch: [number, number];
  perImg: number;
  torchPerImg: number;
}

async function main(): Promise<void> {
  const choice = await ready();
  if (choice.backend !== 'wasm') {
    throw new Error(`expected the wasm backend, got ${choice.backend} (unset TSFAST_BACKEND)`);
  }
  const rows: Row[] = [];
  let blasShown = false;
  // `--models resnet34,mobilenet_v2_1` measures those only (MobileNet v1 0.75 always runs).
  const mi = process.argv.indexOf('--models');
  const only = mi >= 0 ? (process.argv[mi + 1] ?? '').split(',') : undefined;
  const specs = quick
    ? SPECS.slice(0, 1)
    : SPECS.filter((s, i) => i === 0 || only === undefined || only.includes(s.arch));
  for (const spec of specs) {
    const [a, b] = spec.batches;
    const wasm: [number, number] = [
      (await wasmPeak(spec.arch, a)) / MB,
      (await wasmPeak(spec.arch, b)) / MB,
    ];
    const ta = torchPeak(spec.torch, a);
    const tb = torchPeak(spec.torch, b);
    if (!blasShown) {
      console.log(`PyTorch ${ta.torch}, ${ta.threads} thread, BLAS ${ta.blas.join(', ')}`);
      blasShown = true;
    }
    const row: Row = {
      label: spec.label,
      batches: [a, b],
      wasm,
      torch: [ta.peak_tensor_mb, tb.peak_tensor_mb],
      perImg: (wasm[1] - wasm[0]) / (b - a),
      torchPerImg: (tb.peak_tensor_mb - ta.peak_tensor_mb) / (b - a),
    };
    rows.push(row);
    console.log(
      `${row.label} ${SIZE}px, bs ${a}/${b}: tsfast wasm ${wasm.map((v) => v.toFixed(0)).join('/')} MB ` +
        `(${row.perImg.toFixed(1)} MB/img), PyTorch ${row.torch.map((v) => v.toFixed(0)).join('/')} MB ` +
        `(${row.torchPerImg.toFixed(1)} MB/img; peak RSS growth ${ta.peak_growth_mb.toFixed(0)}/` +
        `${tb.peak_growth_mb.toFixed(0)} MB): ${(row.perImg / row.torchPerImg).toFixed(2)}x`,
    );
  }
  const v1 = rows[0]!;
  // Largest batch under the guard's limit: the bytes live before the fit (weights, data of
  // that batch) are small beside it, and the fit's peak grows by `perImg` per image from the
  // first measured batch.
  const fixed = v1.wasm[0] - v1.perImg * v1.batches[0];
  let maxBs = Math.floor((DEFAULT_WASM_TENSOR_LIMIT / MB - 64 - fixed) / v1.perImg);
  if (verify) {
    // Confirm with one training batch at that size; step down if the guard refuses it.
    for (;;) {
      try {
        const peak = (await wasmPeak(SPECS[0]!.arch, maxBs, 1)) / MB;
        console.log(
          `MobileNet v1 0.75 ${SIZE}px trains at bs ${maxBs} (peak ${peak.toFixed(0)} MB)`,
        );
        break;
      } catch (err) {
        console.log(`bs ${maxBs}: ${(err as Error).message.slice(0, 120)}`);
        maxBs -= 4;
        if (maxBs < 1) throw err;
      }
    }
  }
  const resnet = rows.find((r) => r.label === 'ResNet-34');
  console.log(
    JSON.stringify({
      mb_per_img: r1(v1.perImg),
      torch_mb_per_img: r1(v1.torchPerImg),
      train_mem_vs_torch: r3(v1.perImg / v1.torchPerImg),
      resnet34_mem_vs_torch: resnet ? r3(resnet.perImg / resnet.torchPerImg) : null,
      mobilenet_v2_mem_vs_torch: rows[2] ? r3(rows[2].perImg / rows[2].torchPerImg) : null,
      max_bs_224: maxBs,
    }),
  );
}

await main();
