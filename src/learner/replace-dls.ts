/**
 * Swapping a Learner's data (fastai's `learn.dls = ...`), as progressive resizing does:
 * train at 128 px, then give the same learner 224 px batches and go on training.
 */
import { ValueError } from '../core/errors.js';
import type { DataLoadersLike, NormalizeStats } from '../data/batch.js';

/**
 * Checks that `next` can replace `prev` under the same model, and carries the input
 * normalisation over: when `prev` normalises its batches (e.g. with the statistics
 * `visionLearner` set for pretrained weights) and `next` does not, `next` gets the same
 * statistics, since the weights expect them.
 * @param prev - The learner's data now.
 * @param next - The new data.
 * @returns `next`.
 * @throws {@link ValueError} when `next` is not data, or its targets need a different number
 *   of outputs (`c`) or another vocab than the model was built for.
 * @example
 * ```ts
 * const checked = checkReplacementDls(learn.dls, dls); // what `learn.dls = dls` runs
 * ```
 */
export function checkReplacementDls(prev: DataLoadersLike, next: DataLoadersLike): DataLoadersLike {
  if (typeof next !== 'object' || next === null || !('train' in next) || !('valid' in next)) {
    throw new ValueError(
      'learn.dls: expected DataLoaders (with `train` and `valid`), e.g. from DataBlock.dataloaders().',
    );
  }
  if (next.c !== prev.c) {
    throw new ValueError(
      `learn.dls: the new data needs ${next.c} outputs but the model was built for ${prev.c}; ` +
        'build the new DataLoaders from the same labels (same vocab).',
    );
  }
  const a = prev.vocab;
  const b = next.vocab;
  if (a !== undefined && b !== undefined && a.some((v, i) => b[i] !== v)) {
    throw new ValueError(
      `learn.dls: the new vocab [${b.slice(0, 5).join(', ')}${b.length > 5 ? ', ...' : ''}] ` +
        `differs from the model's [${a.slice(0, 5).join(', ')}${a.length > 5 ? ', ...' : ''}]: ` +
        'class i would change meaning. Pass `vocab` to the new CategoryBlock.',
    );
  }
  const stats = normalizerStats(prev);
  if (stats !== undefined && normalizerStats(next) === undefined) next.normalize?.(stats);
  return next;
}

function normalizerStats(dls: DataLoadersLike): NormalizeStats | undefined {
  return (dls as { normalizer?: { stats?: NormalizeStats } }).normalizer?.stats;
}
