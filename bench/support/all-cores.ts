/**
 * Wall-time training steps of a model the way the Learner runs them on wasm with `threads`
 * threads: above 1, the data-parallel backward (slices on worker threads and the main thread,
 * synchronised BatchNorm); at 1, the Learner's one-thread backward. The step includes the
 * weights' trip to the workers and the Adam update, as in `learn.fit`.
 */
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../../src/learner/adam.js';
import {
  closeTrainingThreads,
  DataParallel,
} from '../../src/learner/data-parallel/data-parallel.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { lowMemoryApply } from '../../src/learner/low-memory-forward.js';
import { lowMemoryVariableGrads } from '../../src/learner/low-memory-grads.js';
import { trainableVariables } from './models.js';
import { threadCpu, threadCpuLines } from './thread-cpu.js';

/**
 * Training images per second of wall time, and per second of CPU time of all the process's
 * threads (what the threads cost together, which load on the machine disturbs far less).
 * @param build - Builds the model (the same seeds every call).
 * @param shape - Input shape `[batch, h, w, c]`.
 * @param classes - Output classes.
 * @param threads - Threads (1: no workers).
 * @param steps - Timed steps.
 * @param warmup - Untimed steps first.
 */
export async function allCoresTrainRate(
  build: () => tf.LayersModel,
  shape: [number, number, number, number],
  classes: number,
  threads: number,
  steps: number,
  warmup: number,
): Promise<{ wall: number; cpu: number }> {
  const model = build();
  const loss = new CrossEntropyLossFlat();
  const x = tf.randomUniform(shape, -1, 1, 'float32', 1);
  const y = tf.randomUniform([shape[0]], 0, classes, 'int32', 2);
  const vars = trainableVariables(model);
  const opt = new Adam([vars], { lr: 1e-3, mom: 0.9, sqrMom: 0.999, eps: 1e-8, wd: 0 });
  const dp = new DataParallel((line) => console.log(line));
  const parallel = await dp.prepare({ threads, explicit: true }, model, loss, [], []);
  if (threads > 1 && !parallel) throw new Error(`${threads} threads asked, data-parallel refused`);
  const forward = (xs: tf.Tensor, ys: tf.Tensor) => {
    const pred = lowMemoryApply(model, xs, true);
    return { pred, loss: loss.compute(pred, ys) as tf.Scalar };
  };
  const step = () => {
    let grads: Map<tf.Variable, tf.Tensor>;
    let disposeAlso: tf.Tensor[];
    if (parallel) {
      const r = dp.backward(x, y, model, vars, [], forward);
      grads = r.grads;
      disposeAlso = [r.pred, r.loss];
      r.loss.dataSync();
    } else {
      let pred: tf.Tensor | undefined;
      const r = lowMemoryVariableGrads(() => {
        const out = forward(x, y);
        pred = tf.keep(out.pred);
        return out.loss;
      }, vars);
      grads = new Map(vars.map((v) => [v, r.grads[v.name] as tf.Tensor]));
      disposeAlso = [r.value, pred as unknown as tf.Tensor];
      r.value.dataSync();
    }
    opt.step(grads);
    tf.dispose([...grads.values(), ...disposeAlso]);
  };
  for (let i = 0; i < warmup; i++) step();
  const tasks0 = threadCpu();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage(); // every thread of the process, workers included
  for (let i = 0; i < steps; i++) step();
  const cpuUsed = process.cpuUsage(cpu0);
  if (process.env.TSFAST_BENCH_THREAD_CPU === '1') {
    // Where the CPU time went, per thread and step (stderr: stdout's last line is the result).
    for (const line of threadCpuLines(tasks0, threadCpu(), steps)) console.error(line);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = (cpuUsed.user + cpuUsed.system) / 1e6;
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  await closeTrainingThreads();
  return { wall: (shape[0] * steps) / wall, cpu: (shape[0] * steps) / cpu };
}
