/**
 * Loop overhead: the same model trained on the same batches by tsfast's Learner (events,
 * callbacks, Recorder, param-group Adam) and by a bare tfjs loop (`tf.variableGrads` +
 * `tf.train.adam().applyGradients`, reading the loss each batch as any logging loop does).
 * Runs alternate (bare, learner, bare, learner, ...) after a warm-up. The machine is shared and
 * noisy, so times are this process's CPU time (not wall time), and the headline is the median
 * of the per-round ratios (the two runs of a round are adjacent, so they share the machine's
 * load); the ratios of medians and of best runs are printed too.
 * Last line: {"loop_overhead": median over rounds of learner_time / bare_time, ...} (CPU ms).
 *
 * Run: npx tsx bench/loop.ts   (TSFAST_BACKEND=cpu|wasm to choose the backend)
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import type { Batch, BatchStream } from '../src/data/batch.js';
import { Adam } from '../src/learner/adam.js';
import { Learner } from '../src/learner/learner.js';
import { CrossEntropyLossFlat } from '../src/learner/losses.js';

const BS = 64;
const N_BATCHES = 40;
const N_IN = 256;
const N_CLASSES = 10;
const ROUNDS = 11;

/** Replays fixed batches; each pass yields clones (the consumer disposes them). */
class FixedStream implements BatchStream {
  readonly numBatches: number;
  readonly numItems: number;
  constructor(private readonly batches: readonly Batch[]) {
    this.numBatches = batches.length;
    this.numItems = batches.length * BS;
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    for (const b of this.batches) yield { xs: b.xs.clone(), ys: b.ys.clone() };
  }
}

function makeModel(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 256,
        inputShape: [N_IN],
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ units: N_CLASSES, kernelInitializer: init(3) }),
    ],
  });
}

async function bare(model: tf.LayersModel, stream: FixedStream): Promise<number> {
  const loss = new CrossEntropyLossFlat();
  const opt = tf.train.adam(1e-3, 0.9, 0.99, 1e-5);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const t0 = cpuMs();
  for await (const { xs, ys } of stream) {
    const { value, grads } = tf.variableGrads(
      () => loss.compute(model.apply(xs, { training: true }) as tf.Tensor, ys) as tf.Scalar,
      vars,
    );
    opt.applyGradients(grads as Record<string, tf.Variable>);
    await value.data();
    tf.dispose([value, xs, ys, ...Object.values(grads)]);
  }
  const t = cpuMs() - t0;
  opt.dispose();
  return t;
}

async function learner(model: tf.LayersModel, stream: FixedStream): Promise<number> {
  const empty: BatchStream = { numBatches: 0, numItems: 0, async *[Symbol.asyncIterator]() {} };
  const learn = new Learner(
    { train: stream, valid: empty, vocab: undefined, c: N_CLASSES },
    model,
    {
      lossFunc: new CrossEntropyLossFlat(),
      optFunc: (groups, lr) => new Adam(groups, { lr, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0 }),
      logger: () => {},
    },
  );
  const t0 = cpuMs();
  await learn.fit(1, 1e-3);
  const t = cpuMs() - t0;
  learn.opt.dispose();
  return t;
}

/** CPU time of this process (user + system), in ms: less disturbed by other processes on a
 * shared machine than wall time; the backends here (wasm, cpu) run on this one thread. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const { backend } = await ready();
const batches: Batch[] = Array.from({ length: N_BATCHES }, (_, i) => ({
  xs: tf.randomNormal([BS, N_IN], 0, 1, 'float32', i),
  ys: tf.randomUniform([BS], 0, N_CLASSES, 'int32', 1000 + i),
}));
const stream = new FixedStream(batches);
const model = makeModel();
const before = tf.memory().numTensors;
await bare(model, stream); // warm-up (kernel compilation, allocations)
await learner(model, stream);
const bareTimes: number[] = [];
const learnTimes: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  bareTimes.push(await bare(model, stream));
  learnTimes.push(await learner(model, stream));
}
const leaked = tf.memory().numTensors - before;
const best = (xs: number[]) => Math.min(...xs);
const ratio = median(learnTimes.map((t, i) => t / (bareTimes[i] as number)));
const medianRatio = median(learnTimes) / median(bareTimes);
const bestRatio = best(learnTimes) / best(bareTimes);
console.log(
  `backend ${backend}; ${N_BATCHES} batches of ${BS} x ${N_IN} -> 256 -> 128 -> ${N_CLASSES}, ${ROUNDS} alternating rounds`,
);
for (const [name, xs] of [
  ['bare loop ', bareTimes],
  ['tsfast fit', learnTimes],
] as const) {
  const all = xs.map((t) => t.toFixed(0)).join(', ');
  console.log(
    `${name}  best ${best(xs).toFixed(1)} ms  median ${median(xs).toFixed(1)} ms  [${all}]`,
  );
}
console.log(
  `median per-round ratio ${ratio.toFixed(3)}; ratio of medians ${medianRatio.toFixed(3)}; of best runs ${bestRatio.toFixed(3)}`,
);
console.log(`tensors leaked across all runs: ${leaked}`);
console.log(
  JSON.stringify({
    loop_overhead: Number(ratio.toFixed(4)),
    median_ratio: Number(medianRatio.toFixed(4)),
    best_ratio: Number(bestRatio.toFixed(4)),
    bare_cpu_ms: Number(median(bareTimes).toFixed(1)),
    tsfast_cpu_ms: Number(median(learnTimes).toFixed(1)),
    backend,
  }),
);
tf.dispose(batches.flatMap((b) => [b.xs, b.ys]));
model.dispose();
