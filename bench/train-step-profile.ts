/**
 * Where one training step's time goes, per kernel: MobileNet v1 0.75 at 224 px, 37 classes,
 * all layers trainable, Adam, the Learner's step path (bench/support/models.ts `trainStep`), on
 * tfjs wasm (one thread).
 *
 *   npx tsx bench/train-step-profile.ts [--batch 16] [--steps 2] [--warmup 2] [--top 30]
 *     [--cpu-profile out.cpuprofile]
 *
 * `--batch 8,16` trains the same model at both batch sizes, alternating step by step (so the
 * machine's drift reaches both alike), reports each, then splits every kernel's time and the
 * step's into a fixed part per step and a part per image (`t = F + n v` through the two
 * batches): what a data-parallel slice of 8 pays per thread on top of its share of 16.
 *
 * Every kernel registered for wasm is wrapped with a timer; a kernel that runs other kernels
 * (tsfast's tensor-op kernels) is charged only its own time ("self"), its children theirs.
 * Time spent outside any kernel (the layers' JavaScript, the gradient tape and its
 * bookkeeping, disposal, the optimizer's JavaScript) is reported as "outside kernels". The
 * step is also split into its phases: forward (inside the tape), backward, optimizer step.
 * Times are process CPU time (`process.cpuUsage`, microsecond resolution), as the benchmark's,
 * so other load on the machine disturbs them less than wall time; shares are of the step's
 * CPU time. PyTorch's breakdown of the same step: `bench/torch/train_step.py --profile`.
 *
 * `--cpu-profile FILE` records V8's sampling profile of the timed steps only (not the model's
 * construction or the warm-up; the kernels then run without their timers) and writes it to
 * FILE (Chrome DevTools' format; V8 samples the main thread's wall time);
 * `npx tsx bench/support/cpu-profile-summary.ts FILE` sums its self time per function and per
 * package, which splits the "outside kernels" time between tfjs-core, tfjs-layers and tsfast.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
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

/** Where the kernel timers add: the tallies of the batch size being stepped. */
let byKernel = new Map<string, Tally>();
let byShape = new Map<string, Tally>();
/** Kernel time and calls per phase of the step being recorded (`byPhase` of its run). */
let byPhase = new Map<string, Tally>();
let phase: Phase = 'forward';
type Phase = 'forward' | 'backward' | 'optimizer';
let recording = false;
/** Child time accumulated by each kernel on the stack. */
const stack: number[] = [];

/** Process CPU time in ms: on a shared machine, far steadier than wall time. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
}

/** Posts an inspector command synchronously (Node's inspector answers within the call). */
function post<T>(session: Session, method: string, params?: object): T {
  let result: T | undefined;
  let failure: Error | null = null;
  session.post(method, params ?? {}, (err, res) => {
    failure = err;
    result = res as T;
  });
  if (failure) throw failure;
  return result as T;
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
        add(byPhase, phase, ms - children);
        add(byPhase, `${phase} ${name}`, ms - children);
        add(byShape, `${name} ${shapes(args.inputs)}`, ms - children);
        return out;
      }) as unknown as tf.KernelFunc,
    });
  }
}

/** What one batch size accumulates over its recorded steps. */
interface Run {
  batch: number;
  x: tf.Tensor;
  labels: tf.Tensor1D;
  y: tf.Tensor;
  byKernel: Map<string, Tally>;
  byShape: Map<string, Tally>;
  byPhase: Map<string, Tally>;
  phases: { forward: number; backward: number; step: number };
  /** CPU ms of each recorded step. */
  cpu: number[];
  wall: number;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function report(run: Run, steps: number, warmup: number, top: number): void {
  const { batch, phases } = run;
  const total = run.cpu.reduce((a, b) => a + b, 0) / steps;
  const kernelMs = [...run.byKernel.values()].reduce((s, t) => s + t.ms, 0) / steps;
  console.log(
    `MobileNet v1 0.75 224x224, 37 classes, batch ${batch}: ${total.toFixed(0)} ms CPU per step (${(batch / (total / 1e3)).toFixed(1)} img/s; median step ${median(run.cpu).toFixed(0)} ms; wall ${(run.wall / steps).toFixed(0)} ms), ${steps} steps after ${warmup} warm-up`,
  );
  console.log(
    `phases per step: forward ${(phases.forward / steps).toFixed(0)} ms, backward ${(phases.backward / steps).toFixed(0)} ms, optimizer ${(phases.step / steps).toFixed(0)} ms`,
  );
  const kernelsIn = (p: Phase) => run.byPhase.get(p) ?? { ms: 0, calls: 0 };
  const outside = (p: Phase, ms: number) => (ms - kernelsIn(p).ms) / steps;
  console.log(
    `kernel calls per step: forward ${kernelsIn('forward').calls / steps}, backward ${kernelsIn('backward').calls / steps}, optimizer ${kernelsIn('optimizer').calls / steps}; ` +
      `time outside kernels: forward ${outside('forward', phases.forward).toFixed(0)} ms, backward ${outside('backward', phases.backward).toFixed(0)} ms, optimizer ${outside('optimizer', phases.step).toFixed(0)} ms`,
  );
  for (const p of ['forward', 'backward', 'optimizer'] as const) {
    const busiest = [...run.byPhase.entries()]
      .filter(([k]) => k.startsWith(`${p} `))
      .sort((a, b) => b[1].calls - a[1].calls)
      .slice(0, 8)
      .map(([k, t]) => `${k.slice(p.length + 1)} x${t.calls / steps}`);
    console.log(`  ${p}, most called: ${busiest.join(', ')}`);
  }
  console.log('\n| kernel | ms/step | share | calls/step |\n| --- | --- | --- | --- |');
  const rows = [...run.byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
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
  const shapeRows = [...run.byShape.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  for (const [key, t] of shapeRows) {
    console.log(`${(t.ms / steps).toFixed(1).padStart(7)}  x${t.calls / steps}  ${key}`);
  }
}

/**
 * Two batch sizes side by side: each row's time as `F + n v` (a fixed part per step and a
 * part per image), from the two batches' figures.
 */
function compare(a: Run, b: Run, steps: number): void {
  const fit = (ta: number, tb: number) => {
    const v = (tb - ta) / (b.batch - a.batch);
    return { fixed: ta - a.batch * v, perImage: v };
  };
  console.log(
    `\n## Batch ${a.batch} against batch ${b.batch} (interleaved step by step): step = fixed + batch x per image\n`,
  );
  console.log(
    `| where | batch ${a.batch} ms/step | batch ${b.batch} ms/step | fixed ms/step | ms per image |\n| --- | --- | --- | --- | --- |`,
  );
  const row = (name: string, ta: number, tb: number) => {
    const { fixed, perImage } = fit(ta, tb);
    console.log(
      `| ${name} | ${ta.toFixed(1)} | ${tb.toFixed(1)} | ${fixed.toFixed(1)} | ${perImage.toFixed(2)} |`,
    );
  };
  const ta = a.cpu.reduce((s, v) => s + v, 0) / steps;
  const tb = b.cpu.reduce((s, v) => s + v, 0) / steps;
  row('**step** (mean)', ta, tb);
  row('step (median)', median(a.cpu), median(b.cpu));
  for (const phase of ['forward', 'backward', 'step'] as const) {
    row(
      `phase: ${phase === 'step' ? 'optimizer' : phase}`,
      a.phases[phase] / steps,
      b.phases[phase] / steps,
    );
  }
  const names = [...new Set([...a.byKernel.keys(), ...b.byKernel.keys()])];
  const ms = (r: Run, k: string) => (r.byKernel.get(k)?.ms ?? 0) / steps;
  names.sort((x, y) => ms(b, y) - ms(b, x));
  for (const k of names) {
    if (ms(b, k) < 0.5 && ms(a, k) < 0.5) continue;
    row(k, ms(a, k), ms(b, k));
  }
  const kernels = (r: Run) => [...r.byKernel.values()].reduce((s, t) => s + t.ms, 0) / steps;
  row('outside kernels', ta - kernels(a), tb - kernels(b));
}

async function main(): Promise<void> {
  const batchAt = process.argv.indexOf('--batch');
  const batches = (batchAt >= 0 ? (process.argv[batchAt + 1] ?? '16') : '16')
    .split(',')
    .map(Number);
  if (batches.some((b) => !Number.isInteger(b) || b < 1)) {
    throw new Error(`--batch: positive integers separated by commas, got ${batches.join(',')}`);
  }
  const steps = arg('steps', 2);
  const warmup = arg('warmup', 2);
  const top = arg('top', 30);
  const choice = await ready();
  if (choice.backend !== 'wasm') throw new Error(`expected wasm, got ${choice.backend}`);
  const profileAt = process.argv.indexOf('--cpu-profile');
  const profilePath = profileAt >= 0 ? process.argv[profileAt + 1] : undefined;
  // The kernel timers' own calls (two `process.cpuUsage` per kernel) would fill the V8
  // profile: with it, kernels run untimed.
  if (profilePath === undefined) wrapKernels();
  const model = mobileNetV1(224, 0.75, 37);
  const runs: Run[] = batches.map((batch) => {
    const labels = tf.randomUniform([batch], 0, 37, 'int32', 2) as tf.Tensor1D;
    return {
      batch,
      x: tf.randomUniform([batch, 224, 224, 3], -1, 1, 'float32', 1),
      labels,
      y: tf.oneHot(labels, 37),
      byKernel: new Map(),
      byShape: new Map(),
      byPhase: new Map(),
      phases: { forward: 0, backward: 0, step: 0 },
      cpu: [],
      wall: 0,
    };
  });
  const vars = trainableVariables(model);
  const opt = new Adam([vars], { lr: 1e-3, mom: 0.9, sqrMom: 0.999, eps: 1e-8, wd: 0 });
  const step = (run: Run): void => {
    byKernel = run.byKernel;
    byShape = run.byShape;
    byPhase = run.byPhase;
    phase = 'forward';
    const w0 = performance.now();
    const t0 = cpuMs();
    let t1 = 0;
    const { value, grads } = variableGradsSafe(() => {
      const loss = learnerBatchLoss(model, run.x, run.y);
      t1 = cpuMs();
      phase = 'backward';
      return loss;
    }, vars);
    const t2 = cpuMs();
    phase = 'optimizer';
    opt.step(new Map(vars.map((v) => [v, grads[v.name]!])));
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    const t3 = cpuMs();
    if (recording) {
      run.phases.forward += t1 - t0;
      run.phases.backward += t2 - t1;
      run.phases.step += t3 - t2;
      run.cpu.push(t3 - t0);
      run.wall += performance.now() - w0;
    }
  };
  for (let i = 0; i < warmup; i++) for (const run of runs) step(run);
  const session = profilePath === undefined ? undefined : new Session();
  if (session !== undefined) {
    session.connect();
    post(session, 'Profiler.enable');
    // 200 us between samples: a step runs several hundred kernels of a few ms.
    post(session, 'Profiler.setSamplingInterval', { interval: 200 });
    post(session, 'Profiler.start');
  }
  recording = true;
  // Several batches alternate step by step: the machine's drift (other jobs, the host's
  // contention) then reaches them alike.
  for (let i = 0; i < steps; i++) for (const run of runs) step(run);
  recording = false;
  if (session !== undefined && profilePath !== undefined) {
    const { profile } = post<{ profile: object }>(session, 'Profiler.stop');
    session.disconnect();
    writeFileSync(profilePath, JSON.stringify(profile));
    console.log(`V8 CPU profile of the ${steps} timed steps written to ${profilePath}`);
  }
  for (const run of runs) {
    report(run, steps, warmup, top);
    console.log('');
  }
  for (let i = 1; i < runs.length; i++) compare(runs[i - 1]!, runs[i]!, steps);
  for (const run of runs) tf.dispose([run.x, run.labels, run.y]);
  opt.dispose();
  model.dispose();
}

await main();
