/**
 * Rendering chart SVG to PNG with sharp (librsvg inside libvips).
 */
import sharp from 'sharp';
import { writeFileAtomic } from '../core/atomic-write.js';
import { ValueError } from '../core/errors.js';

/**
 * Renders an SVG document to PNG bytes.
 *
 * @param svg - A standalone SVG document (e.g. from {@link lineChartSvg}).
 * @returns The PNG file contents.
 * @throws {@link ValueError} when the SVG cannot be parsed or rendered.
 *
 * @example
 * ```ts
 * const png = await tsf.svgToPng(tsf.lineChartSvg([{ name: 'y', x: [0, 1], y: [0, 1] }]));
 * ```
 */
export async function svgToPng(svg: string): Promise<Buffer> {
  try {
    return await sharp(Buffer.from(svg, 'utf8')).png().toBuffer();
  } catch (err) {
    throw new ValueError(
      `svgToPng: cannot render the SVG (${(err as Error).message}); ` +
        `it starts with ${JSON.stringify(svg.slice(0, 60))}`,
      { cause: err },
    );
  }
}

/**
 * Renders an SVG document to a PNG file, creating the parent folder if needed. The file is
 * written beside it, flushed and renamed (`writeFileAtomic`), so a failed render or a
 * crash never leaves a broken PNG.
 *
 * @param svg - A standalone SVG document (e.g. from {@link lineChartSvg}).
 * @param file - Destination path, conventionally ending in `.png`.
 * @returns Resolves once the file is written.
 * @throws {@link ValueError} when the SVG cannot be rendered; file-system errors propagate.
 *
 * @example
 * ```ts
 * const svg = tsf.lineChartSvg([{ name: 'loss', x: [0, 1, 2], y: [1, 0.6, 0.5] }]);
 * await tsf.writePng(svg, 'out/loss.png');
 * ```
 */
export async function writePng(svg: string, file: string): Promise<void> {
  await writeFileAtomic(file, await svgToPng(svg));
}
