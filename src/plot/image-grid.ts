/**
 * A grid of images with captions, rendered with sharp: tiles are composited onto a white
 * canvas and the captions drawn as one SVG text overlay (used by `showBatch` and
 * `plotTopLosses`).
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { writeFileAtomic } from '../core/atomic-write.js';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import { escapeXml, FONT_FAMILY } from './svg.js';

/** 8-bit RGB pixels, row-major, channels last. */
export interface RGBPixels {
  /** `height * width * 3` bytes. */
  readonly data: Uint8Array;
  /** Width. */
  readonly width: number;
  /** Height. */
  readonly height: number;
}

/** One tile of an {@link imageGrid}. */
export interface GridTile {
  /** RGB bytes, or a `[H, W, 3]` tensor in [0, 1] (not disposed by the grid). */
  readonly image: RGBPixels | tf.Tensor3D;
  /** Caption above the image (one line; `\n` starts another). */
  readonly title: string;
  /**
   * Colour of each caption line (CSS colour), e.g. fastai's green/red prediction line.
   * @defaultValue `'#111'` for every line
   */
  readonly lineColors?: readonly string[];
}

/** Options of {@link imageGrid}. */
export interface ImageGridOptions {
  /**
   * PNG file to write (folders are created; written atomically).
   * @defaultValue no file (the PNG bytes are still returned)
   */
  file?: string;
  /**
   * Columns.
   * @defaultValue `Math.ceil(Math.sqrt(tiles.length))`
   */
  ncols?: number;
  /**
   * Edge of each image in pixels (images are fitted inside, keeping their aspect ratio).
   * @defaultValue `192`
   */
  tileSize?: number;
}

/**
 * Writes a PNG grid of images with captions.
 *
 * @param tiles - Images and captions, in reading order.
 * @param options - File, columns and tile size.
 * @returns The PNG's size in pixels and its bytes.
 * @throws {@link ValueError} on no tiles or a tensor that is not `[H, W, 3]`.
 * @example
 * ```ts
 * const image = tf.randomUniform([32, 32, 3]) as tf.Tensor3D; // or await tsf.decodeImage('cat.jpg')
 * await tsf.imageGrid([{ image, title: 'noise' }], { file: 'grid.png', ncols: 4 });
 * ```
 */
export async function imageGrid(
  tiles: readonly GridTile[],
  options: ImageGridOptions,
): Promise<{
  /** Width of the PNG in pixels. */
  width: number;
  /** Height of the PNG in pixels. */
  height: number;
  /** The PNG bytes. */
  png: Buffer;
}> {
  checkOptionKeys('imageGrid', options, ['file', 'ncols', 'tileSize']);
  if (tiles.length === 0) throw invalidValue('tiles', 'a non-empty list', tiles);
  const ncols = options.ncols ?? Math.ceil(Math.sqrt(tiles.length));
  const tileSize = options.tileSize ?? 192;
  if (!(Number.isInteger(ncols) && ncols > 0))
    throw invalidValue('ncols', 'a positive integer', ncols);
  const lines = Math.max(...tiles.map((t) => t.title.split('\n').length));
  const fontSize = Math.max(10, Math.round(tileSize / 14));
  const captionH = Math.round(lines * fontSize * 1.3 + fontSize * 0.5);
  const pad = Math.round(tileSize / 24);
  const cellW = tileSize + 2 * pad;
  const cellH = tileSize + captionH + 2 * pad;
  const nrows = Math.ceil(tiles.length / ncols);
  const width = cellW * ncols;
  const height = cellH * nrows;
  const composites: sharp.OverlayOptions[] = [];
  const texts: string[] = [];
  for (let k = 0; k < tiles.length; k++) {
    const tile = tiles[k]!;
    const px = toPixels(tile.image);
    const img = await sharp(px.data, { raw: { width: px.width, height: px.height, channels: 3 } })
      .resize(tileSize, tileSize, { fit: 'contain', background: '#ffffff', kernel: 'lanczos3' })
      .png()
      .toBuffer();
    const col = k % ncols;
    const row = Math.floor(k / ncols);
    composites.push({ input: img, left: col * cellW + pad, top: row * cellH + pad + captionH });
    tile.title.split('\n').forEach((line, li) => {
      const color = tile.lineColors?.[li];
      texts.push(
        `<text x="${col * cellW + cellW / 2}" y="${row * cellH + pad + (li + 1) * fontSize * 1.3}" ` +
          `text-anchor="middle"${color === undefined ? '' : ` fill="${escapeXml(color)}"`}>` +
          `${escapeXml(line)}</text>`,
      );
    });
  }
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<g font-family="${escapeXml(FONT_FAMILY)}" font-size="${fontSize}" fill="#111">${texts.join('')}</g></svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  const png = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png()
    .toBuffer();
  if (options.file !== undefined) await writeFileAtomic(options.file, png);
  return { width, height, png };
}

function toPixels(image: RGBPixels | tf.Tensor3D): RGBPixels {
  if (!(image instanceof tf.Tensor)) return image;
  if (image.rank !== 3 || image.shape[2] !== 3) {
    throw invalidValue('tile.image', 'a [H, W, 3] tensor', image.shape);
  }
  const [h, w] = image.shape;
  const vals = image.dataSync();
  const data = new Uint8Array(vals.length);
  for (let i = 0; i < vals.length; i++)
    data[i] = Math.round(Math.min(1, Math.max(0, vals[i]!)) * 255);
  return { data, width: w, height: h };
}
