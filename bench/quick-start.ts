/**
 * The README quick start, exactly as written, run end to end on this machine: the first
 * TypeScript block under "## Quick start" in README.md is extracted and run in a temporary
 * project that imports the built package as `tsfast` (run `npm run build` first). Two lines
 * change, because nothing may download here: `untarData(URLs.PETS)` becomes the folder that holds
 * `images/` (default `../shared/data/pets`), and `visionLearner` gets `weights` (default
 * `../shared/models/mobilenet_v1_0.75_224`). `--bs N` changes the batch size and nothing else.
 *
 * Usage: `npx tsx bench/quick-start.ts [--bs 64] [--pets DIR] [--weights DIR] [--keep]`
 * The last line of output is JSON: `{"bs", "error_rate", "minutes", "lr", "out"}` where
 * `error_rate` is the recorder's last `error_rate` and `lr` the `valley` the script used.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '..');
const SHARED = resolve(REPO, '..', 'shared');

const { values } = parseArgs({
  options: {
    bs: { type: 'string' },
    pets: { type: 'string', default: join(SHARED, 'data', 'pets') },
    weights: { type: 'string', default: join(SHARED, 'models', 'mobilenet_v1_0.75_224') },
    keep: { type: 'boolean', default: false },
  },
});

/** The quick start's code block, with the two offline substitutions and the optional batch size. */
export function quickStartSource(
  readme: string,
  opts: { pets: string; weights: string; bs?: number },
): string {
  const section = readme.split(/^## Quick start$/m)[1];
  const block = section?.match(/```ts\n([\s\S]*?)```/);
  if (block?.[1] === undefined) throw new Error('README.md: no ```ts block under "## Quick start"');
  let code = block[1];
  const replace = (from: RegExp, to: string, what: string) => {
    if (!from.test(code)) throw new Error(`README quick start: cannot find ${what} (${from})`);
    code = code.replace(from, to);
  };
  replace(
    /await tsf\.untarData\(tsf\.URLs\.PETS\)/,
    JSON.stringify(opts.pets),
    'untarData(URLs.PETS)',
  );
  replace(
    /(visionLearner\([^\n]*\{\n)/,
    `$1  weights: ${JSON.stringify(opts.weights)},\n`,
    'the visionLearner options',
  );
  if (opts.bs !== undefined) replace(/\{ bs: \d+ \}/, `{ bs: ${opts.bs} }`, 'the batch size');
  // The recorder's figures, for the JSON line (the quick start itself prints a table).
  return `${code}\nconst last = learn.recorder.values.at(-1) ?? [];\nconsole.log('QUICK_START_RESULT ' + JSON.stringify({ metrics: learn.recorder.metricNames, last, valley }));\n`;
}

for (const [name, dir] of [
  ['--pets', join(values.pets as string, 'images')],
  ['--weights', values.weights as string],
] as const) {
  if (!existsSync(dir)) throw new Error(`${dir} does not exist (see ${name})`);
}
if (!existsSync(join(REPO, 'dist', 'index.js')))
  throw new Error('dist/ is missing: run `npm run build` first');

const bs = values.bs === undefined ? undefined : Number(values.bs);
const source = quickStartSource(readFileSync(join(REPO, 'README.md'), 'utf8'), {
  pets: values.pets as string,
  weights: values.weights as string,
  ...(bs !== undefined ? { bs } : {}),
});
const project = mkdtempSync(join(tmpdir(), 'tsfast-quick-start-'));
mkdirSync(join(project, 'node_modules'));
symlinkSync(REPO, join(project, 'node_modules', 'tsfast'));
writeFileSync(join(project, 'quick-start.mts'), source);
const start = performance.now();
const run = spawnSync(join(REPO, 'node_modules', '.bin', 'tsx'), ['quick-start.mts'], {
  cwd: project,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 64 * 1024 * 1024,
});
const minutes = (performance.now() - start) / 60_000;
process.stdout.write(run.stdout);
if (run.status !== 0)
  throw new Error(`the quick start failed with ${run.status} (project kept in ${project})`);
const line = run.stdout.split('\n').find((l) => l.startsWith('QUICK_START_RESULT '));
if (line === undefined) throw new Error('the quick start printed no result');
const result = JSON.parse(line.slice('QUICK_START_RESULT '.length)) as {
  metrics: string[];
  last: number[];
  valley: number;
};
// Recorder rows leave out the `epoch` column.
const errorIndex = result.metrics.indexOf('error_rate') - 1;
if (!values.keep) rmSync(project, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bs: bs ?? 'as written',
    error_rate: errorIndex >= 0 ? result.last[errorIndex] : null,
    minutes,
    lr: result.valley,
    out: values.keep ? join(project, 'out') : null,
  }),
);
