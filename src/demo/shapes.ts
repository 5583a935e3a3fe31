/**
 * A synthetic, labelled image set for the demo: shapes drawn as SVG over textured
 * backgrounds, rendered by sharp. Everything comes from a seed: no network, no data files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import { RandomGenerator } from '../core/random.js';

/**
 * The shapes the generator can draw.
 * @example
 * ```ts
 * await writeShapeImages('all-shapes', { classes: SHAPES, perClass: 4 });
 * ```
 */
export const SHAPES = [
  'circle',
  'square',
  'triangle',
  'star',
  'cross',
  'ring',
  'pentagon',
  'hexagon',
  'diamond',
  'arrow',
  'crescent',
  'heart',
] as const;

/**
 * One of {@link SHAPES}.
 * @example
 * ```ts
 * const shape: ShapeName = 'heart';
 * const svg = shapeSvg(shape, tsf.randomFor(1), 32);
 * ```
 */
export type ShapeName = (typeof SHAPES)[number];

/**
 * Options of {@link writeShapeImages}.
 * @example
 * ```ts
 * const images = await writeShapeImages('shapes', { classes: ['circle', 'star'], perClass: 10, size: 32, seed: 1 });
 * ```
 */
export interface ShapeImagesOptions {
  /** Classes to draw (one sub-folder each). */
  classes: readonly ShapeName[];
  /** Images per class. */
  perClass: number;
  /**
   * Side of the square images in pixels.
   * @defaultValue 48
   */
  size?: number;
  /**
   * Seed of the drawing (colours, sizes, positions, rotations, textures).
   * @defaultValue 0
   */
  seed?: number;
}

/**
 * A written image and its class.
 * @example
 * ```ts
 * const images: ShapeImage[] = await writeShapeImages('shapes', { classes: ['circle'], perClass: 2 });
 * for (const { file, label } of images) console.log(file, label);
 * ```
 */
export interface ShapeImage {
  /** Path of the PNG file. */
  file: string;
  /** Its class (the shape). */
  label: ShapeName;
}

function polygon(n: number, r: number, startDeg = -90): [number, number][] {
  return Array.from({ length: n }, (_, i) => {
    const a = ((startDeg + (360 * i) / n) * Math.PI) / 180;
    return [r * Math.cos(a), r * Math.sin(a)];
  });
}

function star(points: number, r: number, inner: number): [number, number][] {
  return Array.from({ length: points * 2 }, (_, i) => {
    const a = ((-90 + (180 * i) / points) * Math.PI) / 180;
    const rr = i % 2 === 0 ? r : r * inner;
    return [rr * Math.cos(a), rr * Math.sin(a)];
  });
}

const pts = (p: [number, number][]) =>
  p.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join(' ');

/** SVG markup of a shape centred on (0, 0) with radius about `r`. */
function shapeMarkup(shape: ShapeName, r: number, fill: string): string {
  const f = `fill="${fill}"`;
  switch (shape) {
    case 'circle':
      return `<circle r="${r}" ${f}/>`;
    case 'square':
      return `<rect x="${-r * 0.8}" y="${-r * 0.8}" width="${r * 1.6}" height="${r * 1.6}" ${f}/>`;
    case 'triangle':
      return `<polygon points="${pts(polygon(3, r * 1.1))}" ${f}/>`;
    case 'star':
      return `<polygon points="${pts(star(5, r * 1.1, 0.45))}" ${f}/>`;
    case 'cross': {
      const w = r * 0.36;
      return `<path d="M${-w},${-r}H${w}V${-w}H${r}V${w}H${w}V${r}H${-w}V${w}H${-r}V${-w}H${-w}Z" ${f}/>`;
    }
    case 'ring':
      return `<circle r="${r * 0.75}" fill="none" stroke="${fill}" stroke-width="${r * 0.45}"/>`;
    case 'pentagon':
      return `<polygon points="${pts(polygon(5, r))}" ${f}/>`;
    case 'hexagon':
      return `<polygon points="${pts(polygon(6, r, 0))}" ${f}/>`;
    case 'diamond':
      return `<polygon points="0,${-r * 1.1} ${r * 0.65},0 0,${r * 1.1} ${-r * 0.65},0" ${f}/>`;
    case 'arrow': {
      const s = r;
      return (
        `<path d="M${-s},${-s * 0.25}H${s * 0.1}V${-s * 0.7}L${s},0L${s * 0.1},${s * 0.7}` +
        `V${s * 0.25}H${-s}Z" ${f}/>`
      );
    }
    case 'crescent':
      return (
        `<path d="M0,${-r} A${r},${r} 0 1,0 0,${r} A${r * 0.75},${r} 0 1,1 0,${-r}Z" ` +
        `transform="translate(${r * 0.25},0)" ${f}/>`
      );
    case 'heart':
      return (
        `<path d="M0,${r * 0.9} C${-r * 1.4},${-r * 0.1} ${-r * 0.7},${-r * 1.1} 0,${-r * 0.35} ` +
        `C${r * 0.7},${-r * 1.1} ${r * 1.4},${-r * 0.1} 0,${r * 0.9}Z" ${f}/>`
      );
  }
}

function hsl(h: number, s: number, l: number): string {
  return `hsl(${h.toFixed(0)},${s.toFixed(0)}%,${l.toFixed(0)}%)`;
}

/**
 * SVG of one random image of `shape`: a textured background (plain, stripes, dots or
 * checks in a random colour) and the shape in a contrasting colour, at a random scale,
 * position and rotation.
 * @param shape - The shape to draw.
 * @param rng - Generator of the colours, texture, scale, position and rotation.
 * @param size - Width and height in pixels.
 * @returns The SVG document.
 * @example
 * ```ts
 * import sharp from 'sharp';
 * const svg = shapeSvg('star', tsf.randomFor(1), 32);
 * const png = await sharp(Buffer.from(svg)).png().toBuffer();
 * ```
 */
export function shapeSvg(shape: ShapeName, rng: RandomGenerator, size: number): string {
  const hue = rng.uniform(0, 360);
  const bgLight = rng.bernoulli(0.5);
  const bg = hsl(hue, rng.uniform(10, 60), bgLight ? rng.uniform(70, 90) : rng.uniform(12, 30));
  const bg2 = hsl(hue + rng.uniform(-30, 30), rng.uniform(10, 60), bgLight ? 62 : 36);
  const fg = hsl(
    (hue + rng.uniform(90, 270)) % 360,
    rng.uniform(50, 95),
    bgLight ? rng.uniform(20, 45) : rng.uniform(60, 85),
  );
  const texture = rng.randInt(0, 4);
  const period = rng.uniform(size / 10, size / 5);
  const angle = rng.uniform(0, 180);
  let pattern = '';
  if (texture === 1) {
    pattern = `<rect width="${period}" height="${period / 2}" fill="${bg2}"/>`;
  } else if (texture === 2) {
    pattern = `<circle cx="${period / 2}" cy="${period / 2}" r="${period / 5}" fill="${bg2}"/>`;
  } else if (texture === 3) {
    const h = period / 2;
    pattern = `<rect width="${h}" height="${h}" fill="${bg2}"/><rect x="${h}" y="${h}" width="${h}" height="${h}" fill="${bg2}"/>`;
  }
  const r = size * rng.uniform(0.22, 0.36);
  const cx = size / 2 + rng.uniform(-0.12, 0.12) * size;
  const cy = size / 2 + rng.uniform(-0.12, 0.12) * size;
  const rot = rng.uniform(-25, 25);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
    (pattern
      ? `<defs><pattern id="t" width="${period}" height="${period}" patternUnits="userSpaceOnUse" ` +
        `patternTransform="rotate(${angle.toFixed(1)})">${pattern}</pattern></defs>`
      : '') +
    `<rect width="${size}" height="${size}" fill="${bg}"/>` +
    (pattern ? `<rect width="${size}" height="${size}" fill="url(#t)"/>` : '') +
    `<g transform="translate(${cx.toFixed(2)},${cy.toFixed(2)}) rotate(${rot.toFixed(1)})">` +
    `${shapeMarkup(shape, r, fg)}</g></svg>`
  );
}

/**
 * Writes a labelled image set as `<dir>/<class>/<class>_<n>.png`, the folder layout that
 * `parentLabel` reads.
 *
 * @param dir - Output folder (created).
 * @param options - Classes, images per class, size and seed.
 * @returns The files written with their labels, class by class.
 * @throws {@link ValueError} on an unknown shape, a bad count or size.
 *
 * @example
 * ```ts
 * await writeShapeImages('out/shapes', { classes: ['circle', 'square'], perClass: 20 });
 * ```
 */
export async function writeShapeImages(
  dir: string,
  options: ShapeImagesOptions,
): Promise<ShapeImage[]> {
  checkOptionKeys('writeShapeImages', options, ['classes', 'perClass', 'size', 'seed']);
  const size = options.size ?? 48;
  const rng = new RandomGenerator(options.seed ?? 0);
  if (!Number.isInteger(options.perClass) || options.perClass < 1) {
    throw invalidValue('perClass', 'a positive integer', options.perClass);
  }
  if (!Number.isInteger(size) || size < 16 || size > 512) {
    throw invalidValue('size', 'an integer number of pixels in [16, 512]', size);
  }
  for (const c of options.classes) {
    if (!SHAPES.includes(c)) throw invalidValue('classes', `shapes among ${SHAPES.join(', ')}`, c);
  }
  const out: ShapeImage[] = [];
  for (const label of options.classes) {
    const folder = join(dir, label);
    await mkdir(folder, { recursive: true });
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < options.perClass; i++) {
      const file = join(folder, `${label}_${i}.png`);
      const svg = shapeSvg(label, rng, size);
      out.push({ file, label });
      jobs.push(
        sharp(Buffer.from(svg))
          .removeAlpha()
          .png()
          .toBuffer()
          .then((b) => writeFile(file, b)),
      );
    }
    await Promise.all(jobs);
  }
  return out;
}
