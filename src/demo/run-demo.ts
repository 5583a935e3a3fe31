/**
 * The demo: tsfast's main job on an embedded default. Pretrain a small CNN on one task
 * (six shapes, many images), transfer its body to a second task (six other shapes, a few
 * images per class), and compare with the same network trained from scratch for the same
 * number of epochs. No network and no data files: the images are drawn from a seed.
 */
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { activeBackend, ready } from '../backend/index.js';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import { setSeed } from '../core/random.js';
import { CategoryBlock } from '../data/blocks.js';
import { DataBlock } from '../data/data-block.js';
import type { DataLoaders } from '../data/data-loaders.js';
import { getImageFiles } from '../data/getters.js';
import { parentLabel } from '../data/labellers.js';
import { GrandparentSplitter } from '../data/splitters.js';
import { ClassificationInterpretation } from '../interpret/classification-interpretation.js';
import type { Callback } from '../learner/events.js';
import { Learner } from '../learner/learner.js';
import { accuracy } from '../learner/metrics.js';
import { lineChartSvg } from '../plot/line-chart.js';
import { writePng } from '../plot/render.js';
import { ImageBlock } from '../vision/image/index.js';
import { type ShapeName, writeShapeImages } from './shapes.js';
import { copyBodyWeights, smallCnn, smallCnnSplitter } from './small-cnn.js';

/**
 * Options of {@link runDemo}.
 * @example
 * ```ts no-run (trains for several seconds)
 * const r = await runDemo({ out: 'demo-out', seed: 1, quick: true, log: () => {} });
 * ```
 */
export interface DemoOptions {
  /**
   * Output folder for the generated images and the PNG plots.
   * @defaultValue 'tsfast-demo'
   */
  out?: string;
  /**
   * Seed of everything: images, splits, weights, shuffles.
   * @defaultValue 42
   */
  seed?: number;
  /**
   * Smaller data and fewer epochs (about 10x faster), for tests.
   * @defaultValue false
   */
  quick?: boolean;
  /**
   * Where progress lines go.
   * @defaultValue `console.log`
   */
  log?: (line: string) => void;
}

/**
 * What {@link runDemo} measured.
 * @example
 * ```ts no-run (trains for several seconds)
 * const r: DemoResult = await runDemo({ quick: true });
 * console.log(r.pretrainedAccuracy - r.scratchAccuracy);
 * ```
 */
export interface DemoResult {
  /** The backend that ran it. */
  backend: string;
  /** Validation accuracy of the pretraining task after pretraining. */
  pretrainAccuracy: number;
  /** Validation accuracy on the new task, fine-tuned from the pretrained body. */
  pretrainedAccuracy: number;
  /** Validation accuracy on the new task, same network and epochs, from scratch. */
  scratchAccuracy: number;
  /** Training images per class of the new task. */
  shotsPerClass: number;
  /** Epochs of each transfer run. */
  transferEpochs: number;
  /** Per-epoch validation accuracy on the new task: pretrained, then scratch. */
  curves: { pretrained: number[]; scratch: number[] };
  /** The PNG files written. */
  plots: string[];
  /** Most confused pairs of the fine-tuned model on the new task. */
  mostConfused: [string, string, number][];
  /** Wall time in seconds. */
  seconds: number;
}

/**
 * Pretraining task: shapes with many images.
 * @example
 * ```ts
 * PRETRAIN_CLASSES.length; // 6
 * ```
 */
export const PRETRAIN_CLASSES: readonly ShapeName[] = [
  'circle',
  'square',
  'triangle',
  'star',
  'cross',
  'ring',
];
/**
 * Transfer task: other shapes, few images.
 * @example
 * ```ts
 * TRANSFER_CLASSES.filter((c) => PRETRAIN_CLASSES.includes(c)); // [] (no class in common)
 * ```
 */
export const TRANSFER_CLASSES: readonly ShapeName[] = [
  'pentagon',
  'hexagon',
  'diamond',
  'arrow',
  'crescent',
  'heart',
];

const SIZE = 32;

async function writeSplit(
  dir: string,
  classes: readonly ShapeName[],
  train: number,
  valid: number,
  seed: number,
): Promise<void> {
  await writeShapeImages(join(dir, 'train'), { classes, perClass: train, size: SIZE, seed });
  await writeShapeImages(join(dir, 'valid'), {
    classes,
    perClass: valid,
    size: SIZE,
    seed: seed + 1,
  });
}

function shapesBlock(): DataBlock {
  return new DataBlock({
    blocks: [ImageBlock, CategoryBlock],
    getItems: getImageFiles,
    splitter: GrandparentSplitter({ trainName: 'train', validName: 'valid' }),
    getY: parentLabel,
  });
}

function lastValue(learn: Learner, name: string): number {
  const col = learn.recorder.metricNames.indexOf(name) - 1;
  return learn.recorder.values.at(-1)?.[col] ?? Number.NaN;
}

/**
 * A callback collecting one metric at the end of every epoch, across fits (the Recorder
 * starts afresh at each fit, and `fineTune` runs two): a small example of writing a callback.
 */
function metricLog(name: string, into: number[]): Callback {
  return {
    name: `log_${name}`,
    order: 70, // after the Recorder (50) has closed the epoch's row
    afterEpoch: ({ learn }) => {
      into.push(lastValue(learn, name));
    },
  };
}

/**
 * Runs the demo: draws the two image sets, pretrains, transfers, trains from scratch, and
 * writes the plots (`pretrain-loss.png`, `transfer-accuracy.png`, `transfer-confusion.png`).
 *
 * @param options - Output folder, seed, `quick`, logger.
 * @returns The accuracies, curves and files.
 * @throws {@link ValueError} on unknown options.
 *
 * @example
 * ```ts no-run (trains for several seconds)
 * const r = await runDemo({ out: 'demo-out' });
 * console.log(r.pretrainedAccuracy, r.scratchAccuracy);
 * ```
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  checkOptionKeys('runDemo', options, ['out', 'seed', 'quick', 'log']);
  const t0 = performance.now();
  const out = resolve(options.out ?? 'tsfast-demo');
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed)) throw invalidValue('seed', 'an integer', options.seed);
  const quick = options.quick ?? false;
  const log = options.log ?? ((line: string) => console.log(line));
  await ready();
  setSeed(seed);
  const backend = activeBackend() ?? tf.getBackend();
  const cfg = quick
    ? { preTrain: 30, preValid: 10, preEpochs: 2, shots: 5, newValid: 10, freeze: 2, epochs: 2 }
    : { preTrain: 150, preValid: 25, preEpochs: 8, shots: 10, newValid: 30, freeze: 3, epochs: 8 };
  log(`tsfast demo: backend ${backend}, output in ${out}`);

  log(
    `1. Drawing images: task A = ${PRETRAIN_CLASSES.join(', ')} (${cfg.preTrain} per class); ` +
      `task B = ${TRANSFER_CLASSES.join(', ')} (${cfg.shots} per class)`,
  );
  const dataDir = join(out, 'data');
  await writeSplit(join(dataDir, 'task-a'), PRETRAIN_CLASSES, cfg.preTrain, cfg.preValid, seed);
  await writeSplit(join(dataDir, 'task-b'), TRANSFER_CLASSES, cfg.shots, cfg.newValid, seed + 100);

  const plots: string[] = [];
  const disposables: { dispose(): void }[] = [];
  try {
    // --- Pretraining on task A -------------------------------------------------------
    log(`2. Pretraining a small CNN on task A for ${cfg.preEpochs} epochs`);
    const dlsA: DataLoaders = await shapesBlock().dataloaders(join(dataDir, 'task-a'), {
      bs: 32,
      seed,
    });
    const base = smallCnn(PRETRAIN_CLASSES.length, { size: SIZE, seed });
    disposables.push(base);
    const learnA = new Learner(dlsA, base, {
      metrics: [accuracy],
      splitter: smallCnnSplitter,
      logger: (l) => log(`   ${l}`),
    });
    await learnA.fitOneCycle(cfg.preEpochs, 1e-2);
    const pretrainAccuracy = lastValue(learnA, 'accuracy');
    plots.push(
      await learnA.recorder.plotLoss({ file: join(out, 'pretrain-loss.png'), skipStart: 0 }),
    );

    // --- Transfer to task B: pretrained body vs scratch, same epochs -------------------
    const total = cfg.freeze + cfg.epochs;
    const dlsB = await shapesBlock().dataloaders(join(dataDir, 'task-b'), { bs: 8, seed });
    log(
      `3. Task B with ${cfg.shots} images per class: fine-tuning the pretrained body ` +
        `(${cfg.freeze} epochs frozen + ${cfg.epochs} unfrozen)`,
    );
    const pre = smallCnn(TRANSFER_CLASSES.length, { size: SIZE, seed: seed + 7 });
    disposables.push(pre);
    copyBodyWeights(base, pre);
    const preCurve: number[] = [];
    const learnPre = new Learner(dlsB, pre, {
      metrics: [accuracy],
      splitter: smallCnnSplitter,
      logger: (l) => log(`   ${l}`),
      cbs: [metricLog('accuracy', preCurve)],
    });
    await learnPre.fineTune(cfg.epochs, 2e-2, { freezeEpochs: cfg.freeze });

    log(`4. Same network from scratch on task B: fitOneCycle for the same ${total} epochs`);
    const scratch = smallCnn(TRANSFER_CLASSES.length, { size: SIZE, seed: seed + 7 });
    disposables.push(scratch);
    const scratchCurve: number[] = [];
    const learnScratch = new Learner(dlsB, scratch, {
      metrics: [accuracy],
      splitter: smallCnnSplitter,
      logger: (l) => log(`   ${l}`),
      cbs: [metricLog('accuracy', scratchCurve)],
    });
    await learnScratch.fitOneCycle(total, 2e-2);

    const epochsX = preCurve.map((_, i) => i + 1);
    const curveFile = join(out, 'transfer-accuracy.png');
    await writePng(
      lineChartSvg(
        [
          { name: 'pretrained body', x: epochsX, y: preCurve },
          {
            name: 'from scratch',
            x: scratchCurve.map((_, i) => i + 1),
            y: scratchCurve,
            dashed: true,
          },
        ],
        {
          title: `Task B, ${cfg.shots} images per class: validation accuracy`,
          xLabel: 'epoch',
          yLabel: 'accuracy',
        },
      ),
      curveFile,
    );
    plots.push(curveFile);

    const interp = await ClassificationInterpretation.fromLearner(learnPre);
    const cmFile = join(out, 'transfer-confusion.png');
    await interp.plotConfusionMatrix({ file: cmFile, title: 'Task B (pretrained body)' });
    plots.push(cmFile);

    const result: DemoResult = {
      backend,
      pretrainAccuracy,
      pretrainedAccuracy: preCurve.at(-1)!,
      scratchAccuracy: scratchCurve.at(-1)!,
      shotsPerClass: cfg.shots,
      transferEpochs: total,
      curves: { pretrained: preCurve, scratch: scratchCurve },
      plots,
      mostConfused: interp.mostConfused().slice(0, 5),
      seconds: (performance.now() - t0) / 1000,
    };
    log('');
    log(formatDemoResult(result));
    return result;
  } finally {
    for (const d of disposables) d.dispose();
  }
}

/**
 * The demo's summary as text: accuracies side by side, the gain, the plots.
 *
 * @param r - A result of {@link runDemo}.
 * @returns Lines of text.
 *
 * @example
 * ```ts no-run (trains for several seconds)
 * console.log(formatDemoResult(await runDemo()));
 * ```
 */
export function formatDemoResult(r: DemoResult): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const chance = 1 / TRANSFER_CLASSES.length;
  return [
    `Task A (pretraining) validation accuracy: ${pct(r.pretrainAccuracy)}`,
    `Task B, ${r.shotsPerClass} training images per class, ${r.transferEpochs} epochs each ` +
      `(chance: ${pct(chance)}):`,
    `  pretrained body, fine-tuned : ${pct(r.pretrainedAccuracy)}`,
    `  same network from scratch   : ${pct(r.scratchAccuracy)}`,
    `  transfer learning gain      : ${((r.pretrainedAccuracy - r.scratchAccuracy) * 100).toFixed(1)} points`,
    `Most confused (actual -> predicted, count): ${
      r.mostConfused.map(([a, p, n]) => `${a} -> ${p} (${n})`).join(', ') || 'none'
    }`,
    `Plots: ${r.plots.join(', ')}`,
    `Backend ${r.backend}, ${r.seconds.toFixed(0)} s`,
  ].join('\n');
}
