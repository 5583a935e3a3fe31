import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../core/atomic-write.js';
// The whole library, for its side effects too: every block and transform an export may name
// registers itself when its module loads, so loadLearner can rebuild any pipeline.
import {
  DataError,
  getImageFiles,
  loadLearner,
  type SkippedItem,
  TsfastError,
  ValueError,
} from '../index.js';

const USAGE = `Usage: tsfast predict --learner DIR --images DIR [--out FILE] [--bs N]

Predicts the class of every image under a folder with a learner saved by learn.export(),
and writes a CSV with one row per image: file, label, probability.
  --learner DIR  the exported learner (the folder holding learner.json and model.json)
  --images DIR   the images (sub-folders included)
  --out FILE     the CSV to write (default: predictions.csv)
  --bs N         images per batch (default: 64)
Images that cannot be read are reported and left out of the CSV.`;

/**
 * `tsfast predict`: classifies a folder of images with an exported learner and writes a CSV
 * of `file,label,probability` (file relative to `--images`; for multi-label learners the
 * labels and their probabilities are joined by `;`), written atomically.
 * @param args - The arguments after `predict`.
 * @returns The process exit code: 0 on success, 1 when nothing could be predicted (no
 *   images, an unusable learner), 2 on bad arguments.
 * @example
 * ```ts
 * process.exitCode = await predictCommand(['--learner', 'pets', '--images', 'photos']);
 * ```
 * @internal
 */
export async function predictCommand(args: readonly string[]): Promise<number> {
  let values: { learner?: string; images?: string; out?: string; bs?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        learner: { type: 'string' },
        images: { type: 'string' },
        out: { type: 'string' },
        bs: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.learner === undefined) return usageError('--learner DIR is required.');
  if (values.images === undefined) return usageError('--images DIR is required.');
  const bs = values.bs === undefined ? 64 : Number(values.bs);
  if (!(Number.isInteger(bs) && bs > 0)) {
    return usageError(`--bs must be a positive integer. Received: ${values.bs}`);
  }
  const out = values.out ?? 'predictions.csv';
  try {
    const rows = await predictFolder(values.learner, values.images, bs);
    await writeFileAtomic(out, toCsv([['file', 'label', 'probability'], ...rows.predicted]));
    for (const s of rows.skipped) console.error(`tsfast predict: skipped ${s.file}: ${s.reason}`);
    console.log(
      `Wrote ${rows.predicted.length} predictions to ${out}` +
        (rows.skipped.length > 0 ? ` (${rows.skipped.length} unreadable images left out).` : '.'),
    );
    return rows.predicted.length > 0 ? 0 : 1;
  } catch (err) {
    if (!(err instanceof TsfastError)) throw err;
    console.error(`tsfast predict: ${err.message}`);
    return 1;
  }
}

function usageError(message: string): number {
  console.error(`tsfast predict: ${message}\n\n${USAGE}`);
  return 2;
}

interface FolderPredictions {
  predicted: string[][];
  skipped: { file: string; reason: string }[];
}

async function predictFolder(
  learnerDir: string,
  imagesDir: string,
  bs: number,
): Promise<FolderPredictions> {
  const files = await getImageFiles(imagesDir);
  if (files.length === 0) {
    throw new DataError(`no images found under "${imagesDir}".`);
  }
  const learn = await loadLearner(learnerDir);
  const vocab = learn.dls.vocab;
  if (learn.dls.testDl === undefined || vocab === undefined) {
    throw new ValueError(
      `the learner in "${learnerDir}" is not an image classifier exported from a DataBlock ` +
        '(its learner.json describes no image pipeline with a vocab).',
    );
  }
  const dl = learn.dls.testDl(files, { bs, skipBadImages: true });
  const skippedItems = (dl as { skipped?: readonly SkippedItem[] }).skipped ?? [];
  const { preds, decoded } = await learn.getPreds({ dl, withDecoded: true });
  const dec = decoded as tf.Tensor;
  const probs = (await preds.array()) as number[][];
  const picks = (await dec.array()) as number[] | number[][];
  tf.dispose([preds, dec]);
  const skipped = new Set(skippedItems.map((s) => s.item));
  const kept = files.filter((f) => !skipped.has(f));
  const root = resolve(imagesDir);
  const name = (f: string) => relative(root, resolve(f)).split('\\').join('/');
  const predicted = kept.map((f, i) => {
    const p = probs[i]!;
    const pick = picks[i]!;
    if (typeof pick === 'number') return [name(f), vocab[pick] ?? String(pick), fmt(p[pick]!)];
    const on = pick.flatMap((v, k) => (v > 0.5 ? [k] : []));
    return [name(f), on.map((k) => vocab[k]).join(';'), on.map((k) => fmt(p[k]!)).join(';')];
  });
  return {
    predicted,
    skipped: skippedItems.map((s) => ({ file: name(String(s.item)), reason: s.reason })),
  };
}

function fmt(p: number): string {
  return p.toFixed(6);
}

/** RFC 4180: fields holding a comma, quote or line break are quoted, quotes doubled. */
function toCsv(rows: readonly (readonly string[])[]): string {
  const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return `${rows.map((r) => r.map(field).join(',')).join('\n')}\n`;
}
