/**
 * `npm run check:pack`: tsfast as a user installs it. Packs the package (`npm pack`, which
 * builds it), installs the tarball into a fresh project in a temporary folder outside the
 * repository (offline from npm's cache: everything it needs came with `npm ci`), then runs there
 * a small version of the README quick start (plain Node ESM, no tsx) and the custom-callback
 * notebook in the tslab kernel. Ends with `{"quick_start": "ok", "notebook": "ok"}`.
 *
 * npm installs with --offline, or with --prefer-offline when the cache lacks the registry's
 * metadata (it then fetches that, and takes the tarballs from the cache).
 * TSFAST_PACK_KEEP=1 keeps the temporary project for a look.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  EXAMPLES,
  executeNotebook,
  jupyterMissing,
  REPO,
  tslabKernelPath,
} from '../examples/notebook-runner.js';

const SHARED = resolve(REPO, '..', 'shared');
const PETS = join(SHARED, 'data', 'pets', 'images');
const WEIGHTS = join(SHARED, 'models', 'mobilenet_v1_0.75_224');

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status}:\n${(r.stderr || r.stdout).slice(-4000)}`,
    );
  }
  return r.stdout;
}

/**
 * The README quick start, small: the same calls on a few photos (the pets from ../shared, or
 * generated two-colour images when that folder is absent), tiny images, one short epoch.
 */
const QUICK_START = `
import { existsSync, mkdirSync } from 'node:fs';
import sharp from 'sharp';
import * as tsf from 'tsfast';

const PETS = ${JSON.stringify(PETS)};
const WEIGHTS = ${JSON.stringify(WEIGHTS)};
tsf.setSeed(42);
let path = PETS;
if (!existsSync(PETS)) {
  // No photos here: two classes of plain images, named like the pets (label_N.jpg).
  path = 'images';
  mkdirSync(path, { recursive: true });
  for (let i = 0; i < 24; i++) {
    for (const [name, r, b] of [['red', 220, 30], ['blue', 30, 220]]) {
      await sharp({ create: { width: 80, height: 72, channels: 3, background: { r: r, g: 60 + i, b: b } } })
        .jpeg()
        .toFile(\`\${path}/\${name}_\${i}.jpg\`);
    }
  }
}
const pets = new tsf.DataBlock({
  blocks: [tsf.ImageBlock, tsf.CategoryBlock],
  getItems: async (p) => {
    const files = (await tsf.getImageFiles(p)).filter((f) => /\\/(Abyssinian|Bengal|red|blue)_\\d+\\.jpg$/.test(f));
    const step = Math.max(1, Math.floor(files.length / 64)); // about 64 photos of both classes
    return files.filter((_, i) => i % step === 0);
  },
  splitter: tsf.RandomSplitter({ seed: 42 }),
  getY: tsf.usingAttr(tsf.RegexLabeller(/(.+)_\\d+.jpg$/), 'name'),
  itemTfms: tsf.Resize(80),
  batchTfms: tsf.augTransforms({ size: 64, minScale: 0.75 }),
});
const dls = await pets.dataloaders(path, { bs: 16 });
await dls.showBatch({ nrows: 2, ncols: 4, file: 'out/batch.png' });
const learn = await tsf.visionLearner(dls, tsf.mobilenetV1({ alpha: 0.75 }), {
  metrics: [tsf.errorRate],
  ...(existsSync(WEIGHTS) ? { weights: WEIGHTS } : { pretrained: false }),
});
const { valley } = await learn.lrFind({ numIt: 6, file: 'out/lr-find.png' });
await learn.fineTune(1, valley ?? 1e-3);
await learn.recorder.plotLoss({ file: 'out/loss.png', skipStart: 0 }); // a few steps only
const interp = await tsf.ClassificationInterpretation.fromLearner(learn);
await interp.plotConfusionMatrix({ file: 'out/confusion.png' });
console.table(interp.mostConfused().slice(0, 5));
learn.model.dispose();
console.log('QUICK_START_DONE ' + JSON.stringify({ vocab: dls.vocab, values: learn.recorder.values.at(-1) }));
`;

const missing = jupyterMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'tsfast-pack-'));
const result = { quick_start: 'failed', notebook: 'failed' };
let jupyterPath = '';
try {
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', work], REPO),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(work, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  for (const need of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/testing/index.d.ts',
    'bin/tsfast.js',
  ]) {
    if (!files.includes(need)) throw new Error(`the tarball lacks ${need}`);
  }
  if (files.some((f) => f.startsWith('test/') || f.startsWith('src/'))) {
    throw new Error('the tarball holds test/ or src/ files');
  }
  console.error(`packed ${packed[0]!.filename}: ${files.length} files`);

  const project = join(work, 'project');
  run('mkdir', ['-p', project], work);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'tsfast-user', version: '1.0.0', private: true, type: 'module' }),
  );
  // Offline first (npm's cache); the cache of an `npm ci` holds the tarballs but not always the
  // registry's metadata, so fall back to --prefer-offline (metadata fetched, tarballs cached).
  let mode = '--offline';
  try {
    run('npm', ['install', mode, '--no-audit', '--no-fund', tarball], project);
  } catch (err) {
    console.error(
      `npm install --offline failed (${(err as Error).message.split('\n').find((l) => l.includes('ENOTCACHED')) ?? 'see above'}); retrying with --prefer-offline`,
    );
    mode = '--prefer-offline';
    run('npm', ['install', mode, '--no-audit', '--no-fund', tarball], project);
  }
  console.error(`installed the tarball into ${project} (${mode})`);

  writeFileSync(join(project, 'quick-start.mjs'), QUICK_START);
  const out = run(process.execPath, ['quick-start.mjs'], project);
  const done = out.split('\n').find((l) => l.startsWith('QUICK_START_DONE '));
  if (!done) throw new Error(`the quick start did not finish:\n${out.slice(-2000)}`);
  for (const png of ['batch', 'lr-find', 'loss', 'confusion']) {
    const bytes = readFileSync(join(project, 'out', `${png}.png`));
    if (bytes.readUInt32BE(0) !== 0x89504e47) throw new Error(`out/${png}.png is not a PNG`);
  }
  console.error(`quick start: ${done.slice('QUICK_START_DONE '.length)}`);
  result.quick_start = 'ok';

  // The notebook as a user runs it: next to their project's node_modules (tslab itself is
  // the repository's, as a user's global install would be).
  copyFileSync(join(EXAMPLES, 'custom-callback.ipynb'), join(project, 'custom-callback.ipynb'));
  jupyterPath = tslabKernelPath(REPO);
  const nb = await executeNotebook(join(project, 'custom-callback.ipynb'), { jupyterPath });
  if (!nb.ok) throw new Error(`custom-callback.ipynb failed in cell ${nb.cell}:\n${nb.error}`);
  result.notebook = 'ok';
} catch (err) {
  console.error((err as Error).message);
} finally {
  if (jupyterPath) rmSync(jupyterPath, { recursive: true, force: true });
  if (process.env.TSFAST_PACK_KEEP === '1' && existsSync(work)) console.error(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(`{"quick_start": "${result.quick_start}", "notebook": "${result.notebook}"}`);
process.exit(result.quick_start === 'ok' && result.notebook === 'ok' ? 0 : 1);
