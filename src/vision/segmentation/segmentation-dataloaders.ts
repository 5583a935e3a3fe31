/**
 * fastai's `SegmentationDataLoaders`: the segmentation DataBlock in one call.
 */
import { DataBlock } from '../../data/data-block.js';
import type { DataLoaders, DataLoadersOptions } from '../../data/data-loaders.js';
import type { Getter } from '../../data/datasets.js';
import { RandomSplitter } from '../../data/splitters.js';
import type { BatchTransform, Transform } from '../../data/transforms.js';
import { ImageBlock } from '../image/image-block.js';
import { MaskBlock } from './mask-block.js';

/** Options of {@link SegmentationDataLoaders.fromLabelFunc}: the data's, then the loaders'. */
export interface SegmentationFromLabelFuncOptions extends DataLoadersOptions {
  /** Class names (see {@link MaskBlockOptions.codes}). */
  codes: readonly string[];
  /**
   * Pixel value of each code in the mask files.
   * @defaultValue `[0, 1, ..., codes.length - 1]`
   */
  values?: readonly number[];
  /**
   * Fraction of the images held out for validation.
   * @defaultValue 0.2
   */
  validPct?: number;
  /**
   * Item transforms (applied to image and mask alike).
   * @defaultValue `[]`
   */
  itemTfms?: Transform | readonly Transform[];
  /**
   * Batch transforms (the affine part applied to image and mask alike).
   * @defaultValue `[]`
   */
  batchTfms?: BatchTransform | readonly BatchTransform[];
}

/**
 * fastai's `SegmentationDataLoaders`.
 * @example
 * ```ts
 * // images/a.jpg -> labels/a.png
 * const labelFunc = (f: unknown) => String(f).replace('images', 'labels').replace(/\.jpg$/, '.png');
 * const dls = await tsf.SegmentationDataLoaders.fromLabelFunc(files, labelFunc, {
 *   codes: ['pet', 'background', 'border'], values: [1, 2, 3], seed: 42,
 * });
 * ```
 */
export const SegmentationDataLoaders = {
  /**
   * DataLoaders from image files and a function giving each one's mask file, split at random
   * (`RandomSplitter({ validPct, seed })`): a DataBlock of `[ImageBlock, MaskBlock]`.
   *
   * @param fnames - Image paths.
   * @param labelFunc - Image path -> mask path.
   * @param options - Codes, mask values, split, transforms, and any DataLoaders option (`bs`,
   *   `seed`, ...).
   * @returns The DataLoaders (targets int32 `[N, H, W]`, `vocab` the codes).
   * @throws {@link ValueError} for an unknown option (named by `dataloaders`) or bad codes; {@link DataError} for an
   *   empty file list.
   * @example
   * ```ts
   * const dls = await tsf.SegmentationDataLoaders.fromLabelFunc(files,
   *   (f) => String(f).replace('/images/', '/trimaps/').replace(/\.jpg$/, '.png'),
   *   { codes: ['pet', 'background', 'border'], values: [1, 2, 3], itemTfms: tsf.Resize(128), bs: 16 });
   * ```
   */
  async fromLabelFunc(
    fnames: readonly string[],
    labelFunc: Getter,
    options: SegmentationFromLabelFuncOptions,
  ): Promise<DataLoaders> {
    const { codes, values, validPct, itemTfms, batchTfms, ...dlsOptions } = options;
    const block = new DataBlock({
      blocks: [ImageBlock, MaskBlock({ codes, ...(values ? { values } : {}) })],
      splitter: RandomSplitter({
        ...(validPct === undefined ? {} : { validPct }),
        ...(dlsOptions.seed === undefined ? {} : { seed: dlsOptions.seed }),
      }),
      getY: labelFunc,
      ...(itemTfms === undefined ? {} : { itemTfms }),
      ...(batchTfms === undefined ? {} : { batchTfms }),
    });
    return block.dataloaders([...fnames], dlsOptions);
  },
};
