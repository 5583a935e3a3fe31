/**
 * Where one training step's time goes, per kernel: MobileNet v1 0.75 at 224 px, 37 classes,
 * all layers trainable, Adam, the Learner's step path (bench/support/models.ts `trainStep`), on
 * tfjs wasm (one thread).
 *
 *   npx tsx bench/train-step-profile.ts [--batch 16] [--steps 2] [--warmup 2] [--top 30]
 *
 * Every kernel registered for wasm is wrapped with a timer; a kernel that runs other kernels
 * (tsfast's tensor-op kernels) is charged only its own time ("self"), its children theirs.
 * Time spent outside any kernel (the layers' JavaScript, the gradient tape and its
 * bookkeeping, disposal, the optimizer's JavaScript) is reported as "outside kernels". The
 * step is also split into its phases: forward (inside the tape), backward, optimizer step.
 * Times are process CPU time (`process.cpuUsage`, microsecond resolution), as the benchmark's,
 * so other load on the machine disturbs them less than wall time; shares are of the step's
 * CPU time. PyTorch's breakdown of the same step: `bench/torch/train_step.py --profile`.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/index.js';
import { Adam } from '../src/learner/adam.js';
import { variableGradsSafe } from '../src/learner/tape.js';
import { learnerBatchLoss, mobileNetV1, trainableVariables } from './support/models.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

interface Tally {
  ms: number;
  calls: number;
}

const byKernel = new Map<string, Tally>();
const byShape = new Map<string, Tally>();
let recording = false;
/** Child time accumulated by each kernel on the stack. */
const stack: number[] = [];

/** Process CPU time in ms: on a shared machine, far steadier than wall time. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
}

function add(map: Map<string, Tally>, key: string, ms: number): void {
  const t = map.get(key) ?? { ms: 0, calls: 0 };
  t.ms += ms;
  t.calls += 1;
  map.set(key, t);
}

function shapes(inputs: tf.NamedTensorInfoMap): string {
  return Object.values(inputs)
    .filter((t) => t !== undefined)
    .map((t) => `[${t!.shape.join(',')}]`)
    .join(' ');
}

/** Replaces every wasm kernel by a timed one (self time: minus the kernels it runs). */
function wrapKernels(): void {
  for (const config of tf.getKernelsForBackend('wasm')) {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...config,
      kernelFunc: ((args: { inputs: tf.NamedTensorInfoMap }) => {
        if (!recording) return inner(args as Parameters<tf.KernelFunc>[0]);
        stack.push(0);
        const t0 = cpuMs();
        const out = inner(args as Parameters<tf.KernelFunc>[0]);
        const ms = cpuMs() - t0;
        const children = stack.pop()!;
        if (stack.length > 0) stack[stack.length - 1]! += ms;
        add(byKernel, name, ms - children);
        add(byShape, `${name} ${shapes(args.inputs)}`, ms - children);
        return out;
      }) as unknown as tf.KernelFunc,
    });
  }
}

async function main(): Promise<void> {
  const batch = arg('batch', 16);
  const steps = arg('steps', 2);
  const warmup = arg('warmup', 2);
  const top = arg('top', 30);
  const choice = await ready();
  if (choice.backend !== 'wasm') throw new Error(`expected wasm, got ${choice.backend}`);
  wrapKernels();
  const model = mobileNetV1(224, 0.75, 37);
  const x = tf.randomUniform([batch, 224, 224, 3], -1, 1, 'float32', 1);
  const labels = tf.randomUniform([batch], 0, 37, 'int32', 2) as tf.Tensor1D;
  const y = tf.oneHot(labels, 37);
  const vars = trainableVariables(model);
  const opt = new Adam([vars], { lr: 1e-3, mom: 0.9, sqrMom: 0.999, eps: 1e-8, wd: 0 });
  const phases = { forward: 0, backward: 0, step: 0 };
  const step = (): void => {
    const t0 = cpuMs();
    let t1 = 0;
    const { value, grads } = variableGradsSafe(() => {
      const loss = learnerBatchLoss(model, x, y);
      t1 = cpuMs();
      return loss;
    }, vars);
    const t2 = cpuMs();
    opt.step(new Map(vars.map((v) => [v, grads[v.name]!])));
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    const t3 = cpuMs();
    if (recording) {
      phases.forward += t1 - t0;
      phases.backward += t2 - t1;
      phases.step += t3 - t2;
    }
  };
  for (let i = 0; i < warmup; i++) step();
  recording = true;
  const cpu0 = cpuMs();
  const wall0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const wallMs = (performance.now() - wall0) / steps;
  const total = (cpuMs() - cpu0) / steps;
  recording = false;
  const kernelMs = [...byKernel.values()].reduce((s, t) => s + t.ms, 0) / steps;
  console.log(
    `MobileNet v1 0.75 224x224, 37 classes, batch ${batch}: ${total.toFixed(0)} ms CPU per step (${(batch / (total / 1e3)).toFixed(1)} img/s; wall ${wallMs.toFixed(0)} ms), ${steps} steps after ${warmup} warm-up`,
  );
  console.log(
    `phases per step: forward ${(phases.forward / steps).toFixed(0)} ms, backward ${(phases.backward / steps).toFixed(0)} ms, optimizer ${(phases.step / steps).toFixed(0)} ms`,
  );
  console.log('\n| kernel | ms/step | share | calls/step |\n| --- | --- | --- | --- |');
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  for (const [name, t] of rows) {
    if (t.ms / steps < 0.5) continue;
    console.log(
      `| ${name} | ${(t.ms / steps).toFixed(1)} | ${((100 * t.ms) / steps / total).toFixed(1)} % | ${t.calls / steps} |`,
    );
  }
  console.log(
    `| outside kernels | ${(total - kernelMs).toFixed(1)} | ${((100 * (total - kernelMs)) / total).toFixed(1)} % | |`,
  );
  console.log(`\ntop ${top} by kernel and input shapes (ms/step):`);
  const shapeRows = [...byShape.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  for (const [key, t] of shapeRows) {
    console.log(`${(t.ms / steps).toFixed(1).padStart(7)}  x${t.calls / steps}  ${key}`);
  }
  tf.dispose([x, labels, y]);
  opt.dispose();
  model.dispose();
}

await main();
