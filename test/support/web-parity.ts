/**
 * The browser round trip of exportForWeb, shared by its test and `npm run check:web`: a
 * MobileNet v1 0.75 fine-tuned briefly by tsfast on real pet photos, exported for the web,
 * served by examples/web/serve.ts and classified by the example page in headless Chromium
 * (wasm backend), compared with `learn.predict` in Node.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chromium } from 'playwright-core';
import { startServer } from '../../examples/web/serve.js';
import { CategoryBlock } from '../../src/data/blocks.js';
import { DataBlock } from '../../src/data/data-block.js';
import { getImageFiles } from '../../src/data/getters.js';
import { RegexLabeller, usingAttr } from '../../src/data/labellers.js';
import { RandomSplitter } from '../../src/data/splitters.js';
import type { Learner } from '../../src/learner/learner.js';
import { exportForWeb, type WebInferenceSpec } from '../../src/vision/export/web-export.js';
import { ImageBlock } from '../../src/vision/image/image-block.js';
import { Resize } from '../../src/vision/image/resize.js';
import { visionLearner } from '../../src/vision/learner.js';
import { mobilenetV1 } from '../../src/vision/models/archs.js';
import { SHARED_DIR, skipUnlessShared } from './shared.js';

/** Debian's Chromium (override with `CHROMIUM_PATH`). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const IMAGES = join(SHARED_DIR, 'data', 'pets', 'images');
const WEIGHTS = join(SHARED_DIR, 'models', 'mobilenet_v1_0.75_224');
/** 3 breeds with 200 photos each in ../shared, 4 with 10. */
const BIG = ['Abyssinian', 'american_bulldog', 'Bengal'];
const SMALL = ['Birman', 'Bombay', 'boxer', 'pug'];

/** `false` when the browser test can run, else why it is skipped. */
export function skipUnlessBrowser(): false | string {
  if (!existsSync(CHROMIUM)) {
    return `no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH) to run the browser test`;
  }
  return (
    skipUnlessShared('data', 'pets', 'images') ||
    skipUnlessShared('models', 'mobilenet_v1_0.75_224')
  );
}

/** The flags the project launches Chromium with (no network side-traffic, no GPU). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const byNumber = (f: string) => Number(/_(\d+)\.jpg$/.exec(f)?.[1] ?? 0);

/**
 * Fine-tunes MobileNet v1 0.75 (the shared ImageNet weights, frozen body) for two short
 * epochs at `size` px on 24 photos of each of 3 breeds and 8 of 4 more (7 classes); returns
 * the learner and 5 other photos of the first 3 breeds (not trained on).
 */
export async function fineTunePets(size = 64): Promise<{ learn: Learner; photos: string[] }> {
  const all = await getImageFiles(IMAGES);
  const perBreed = (b: string) =>
    all
      .filter((f) => new RegExp(`^${b}_\\d+\\.jpg$`).test(basename(f)))
      .sort((x, y) => byNumber(x) - byNumber(y));
  const train = [
    ...BIG.flatMap((b) => perBreed(b).slice(0, 24)),
    ...SMALL.flatMap((b) => perBreed(b).slice(0, 8)),
  ];
  const photos = BIG.flatMap((b) => perBreed(b).slice(-2)).slice(0, 5);
  const pets = new DataBlock({
    blocks: [ImageBlock, CategoryBlock],
    getItems: async () => train,
    splitter: RandomSplitter({ seed: 42 }),
    getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
    itemTfms: Resize(size),
  });
  const dls = await pets.dataloaders(IMAGES, { bs: 16, seed: 42 });
  const learn = await visionLearner(dls, mobilenetV1({ alpha: 0.75 }), {
    weights: WEIGHTS,
    trainBn: false,
    seed: 42,
    logger: () => {},
  });
  await learn.fitOneCycle(2, 3e-3);
  return { learn, photos };
}

/** What {@link browserParity} measured. */
export interface BrowserParity {
  /** Photos whose top-1 is the same in the page (fed tsfast's pixels) and in `learn.predict`. */
  top1_agree: number;
  /** Photos compared. */
  photos: number;
  /** Largest |page - learn.predict| probability over every photo and class. */
  max_prob_diff: number;
  /** The page's own path (the browser decodes and resizes the file): top-1 agreeing. */
  own_decode_top1_agree: number;
  /** The page's own path: largest probability difference. */
  own_decode_max_prob_diff: number;
  /** The page's own path: largest mean |page pixel - tsfast pixel| (0..255) over the photos. */
  own_decode_pixel_mae: number;
  /** The backend the page ran on. */
  backend: string;
  /** Top-5 labels shown by the page for each photo (own path). */
  shown: string[][];
}

interface PageResult {
  pixels?: number[];
  probs: number[];
  top5: { label: string; prob: number }[];
}

/**
 * Exports `learn` for the web, serves the example page, and classifies each photo twice in
 * headless Chromium: from tsfast's own validation pixels (resized by sharp, before
 * normalisation), which isolates model, normalisation and activation; and through the page's
 * file input (the browser's decoder and canvas resize), as a user would.
 */
export async function browserParity(
  learn: Learner,
  photos: readonly string[],
  options: { screenshot?: string } = {},
): Promise<BrowserParity> {
  const work = await mkdtemp(join(tmpdir(), 'tsfast-web-parity-'));
  const server = { close: async () => {} };
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    const { dir, inference } = await exportForWeb(learn, join(work, 'model'));
    const running = await startServer({ modelDir: dir, port: 0 });
    server.close = running.close;
    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(running.url);
    const backend = await page.evaluate(async () => {
      const api = await (
        globalThis as unknown as { tsfastWeb: { ready: Promise<{ backend: string }> } }
      ).tsfastWeb.ready;
      return api.backend;
    });
    const result: BrowserParity = {
      top1_agree: 0,
      photos: photos.length,
      max_prob_diff: 0,
      own_decode_top1_agree: 0,
      own_decode_max_prob_diff: 0,
      own_decode_pixel_mae: 0,
      backend,
      shown: [],
    };
    for (const photo of photos) {
      const want = await learn.predict(photo);
      const pixels = await validationPixels(learn, photo, inference);
      const fed = await page.evaluate(async (px) => {
        const w = globalThis as unknown as {
          tsfastWeb: { ready: Promise<{ classifyPixels(p: Float32Array): Promise<PageResult> }> };
        };
        const api = await w.tsfastWeb.ready;
        return api.classifyPixels(new Float32Array(px));
      }, pixels);
      const argmax = (p: number[]) => p.indexOf(Math.max(...p));
      const diff = (p: number[]) =>
        Math.max(...p.map((v, i) => Math.abs(v - (want.probs[i] ?? 0))));
      if (argmax(fed.probs) === want.index) result.top1_agree++;
      result.max_prob_diff = Math.max(result.max_prob_diff, diff(fed.probs));

      await page.setInputFiles('#file', photo);
      const name = basename(photo);
      await page.waitForFunction(
        (n) =>
          (globalThis as unknown as { tsfastWeb: { last: { file: string } | null } }).tsfastWeb.last
            ?.file === n,
        name,
      );
      const own = (await page.evaluate(
        () => (globalThis as unknown as { tsfastWeb: { last: PageResult } }).tsfastWeb.last,
      )) as PageResult;
      assert.equal(own.pixels?.length, pixels.length, 'the page made an input of the right size');
      if (argmax(own.probs) === want.index) result.own_decode_top1_agree++;
      result.own_decode_max_prob_diff = Math.max(result.own_decode_max_prob_diff, diff(own.probs));
      const ownPixels = own.pixels ?? [];
      const mae =
        ownPixels.reduce((a, v, i) => a + Math.abs(v - (pixels[i] ?? 0)), 0) / pixels.length;
      result.own_decode_pixel_mae = Math.max(result.own_decode_pixel_mae, mae);
      result.shown.push(await page.locator('#results li').allTextContents());
    }
    if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: true });
    if (errors.length > 0) throw new Error(`the page threw: ${errors.join('; ')}`);
    return result;
  } finally {
    await context?.close();
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** tsfast's validation input for `photo` before normalisation, as 0..255 pixel values. */
async function validationPixels(
  learn: Learner,
  photo: string,
  spec: WebInferenceSpec,
): Promise<number[]> {
  const encode = learn.dls.encodeInputs;
  if (encode === undefined) throw new Error('the learner data cannot encode a file');
  const x = await encode.call(learn.dls, [photo]);
  const pixels = tf.tidy(() => {
    let y: tf.Tensor = x;
    if (spec.normalize) y = y.mul(spec.normalize.std).add(spec.normalize.mean);
    return y.div(spec.input.scale);
  });
  x.dispose();
  const out = Array.from(await pixels.data());
  pixels.dispose();
  return out;
}
