/**
 * The PyTorch round trip of exportSafetensors, shared by its test and `npm run check:pytorch`:
 * a vision learner (random weights, random BatchNorm statistics), its logits on a random
 * normalised input, the exported file loaded by examples/pytorch/tsfast_models.py under
 * Debian's PyTorch, and the largest logit difference.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { BatchStream, DataLoadersLike } from '../../src/data/batch.js';
import type { Learner } from '../../src/learner/learner.js';
import { exportSafetensors, type TorchNamingScheme } from '../../src/vision/export/torch-export.js';
import { visionLearner } from '../../src/vision/learner.js';
import { getArch } from '../../src/vision/models/archs.js';
import { writeSafetensors } from '../../src/vision/models/safetensors-writer.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const PYTHON = '/usr/bin/python3';
const EMPTY: BatchStream = { numBatches: 0, numItems: 0, async *[Symbol.asyncIterator]() {} };

/** `false` when Debian's PyTorch imports under /usr/bin/python3, else why to skip. */
export function skipUnlessTorch(): false | string {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  return r.status === 0
    ? false
    : `needs PyTorch under ${PYTHON} (apt-get install python3-torch python3-torchvision)`;
}

/** Random BatchNorm statistics (body and head), so eval-mode BatchNorm is not an identity. */
export function randomiseBnStats(learn: Learner, seed: number): void {
  let s = seed;
  for (const layer of learn.model.layers) {
    for (const w of layer.weights) {
      const name = w.originalName.split('/').pop();
      if (name !== 'moving_mean' && name !== 'moving_variance') continue;
      const v = tf.tidy(() =>
        name === 'moving_mean'
          ? tf.randomNormal(w.shape as number[], 0, 0.1, 'float32', s++)
          : tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', s++),
      );
      w.write(v);
      v.dispose();
    }
  }
}

/** What one round trip measured. */
export interface RoundTrip {
  arch: string;
  naming: TorchNamingScheme;
  keys: number;
  maxLogitDiff: number;
  logitRange: number;
}

/**
 * Builds `arch` with fastai's head for `nOut` classes, exports it, runs it in PyTorch and
 * compares logits on a `[2, size, size, 3]` input.
 */
export async function torchRoundTrip(
  arch: string,
  naming: TorchNamingScheme,
  work: string,
  { size = 64, nOut = 5, seed = 1 } = {},
): Promise<RoundTrip> {
  const dls: DataLoadersLike = { train: EMPTY, valid: EMPTY, vocab: undefined, c: nOut };
  const learn = await visionLearner(dls, getArch(arch), { pretrained: false, seed });
  try {
    randomiseBnStats(learn, seed + 100);
    const x = tf.randomNormal([2, size, size, 3], 0, 1, 'float32', seed);
    const logits = learn.model.predict(x) as tf.Tensor;
    const io = join(work, `${arch}-io.safetensors`);
    await writeSafetensors(
      io,
      new Map([
        ['input', { shape: x.shape, data: (await x.data()) as Float32Array }],
        ['logits', { shape: logits.shape, data: (await logits.data()) as Float32Array }],
      ]),
    );
    tf.dispose([x, logits]);
    const { file, keys } = await exportSafetensors(
      learn,
      join(work, `${arch}-${naming}.safetensors`),
      {
        naming,
      },
    );
    const out = execFileSync(
      PYTHON,
      [join(ROOT, 'test', 'vision', 'export', 'torch_roundtrip.py'), arch, String(nOut), file, io],
      {
        encoding: 'utf8',
        env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
        timeout: 300_000,
      },
    );
    const r = JSON.parse(out.trim().split('\n').at(-1) as string) as {
      max_logit_diff: number;
      logit_range: number;
    };
    return {
      arch,
      naming,
      keys: keys.length,
      maxLogitDiff: r.max_logit_diff,
      logitRange: r.logit_range,
    };
  } finally {
    learn.model.dispose();
  }
}
