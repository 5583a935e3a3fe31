/**
 * Every `@example` in `src/` is extracted, type-checked in one program, and run when the names
 * it uses can be given real values (see test/support/tsdoc-context.ts for the context and
 * test/support/tsdoc-examples.ts for the rules). Examples known to fail are listed in
 * tsdoc-known-failures.json (file:symbol -> "typecheck" | "run"); the list may only shrink: a
 * new failure fails this test, and so does a listed example that now passes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as tsf from '../../src/index.js';
import { CONTEXT_NAMES, makeJpegBytes, makeRunContext } from '../support/tsdoc-context.js';
import {
  compileExampleForRun,
  type ExampleCheck,
  exampleImports,
  extractExamples,
  type TsdocExample,
  typeCheckExamples,
} from '../support/tsdoc-examples.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KNOWN_FILE = join(ROOT, 'test', 'examples', 'tsdoc-known-failures.json');
/** How long one example may run. */
const EXAMPLE_TIMEOUT_MS = 10_000;

type Stage = 'typecheck' | 'run';
/** What an example's `import` line loads when run: the package's sources for `tsfast`. */
const importForExample = (spec: string): Promise<unknown> =>
  spec === 'tsfast'
    ? import('../../src/index.js')
    : spec === 'tsfast/testing'
      ? import('../../src/testing/index.js')
      : import(spec);
const known = JSON.parse(readFileSync(KNOWN_FILE, 'utf8')) as Record<string, Stage>;

const examples = extractExamples(ROOT);
const imports = exampleImports(ROOT, examples, CONTEXT_NAMES);
/** Examples checked in the same program to show the checker catches what it should. */
const PROBES: TsdocExample[] = [
  ['undefined-name', 'const n = notDefinedAnywhere + 1;'],
  ['wrong-type', "const rng = new tsf.RandomGenerator('seed');"],
  ['fine', 'const rng = new tsf.RandomGenerator(1);\nlearn.model.layers.length;'],
].map(([symbol, code]) => ({
  id: `src/probe.ts:${symbol}`,
  file: 'src/probe.ts',
  line: 10,
  symbol: symbol ?? '',
  code: code ?? '',
  noRun: undefined,
}));
let checks: ExampleCheck[] = [];
let probeChecks: ExampleCheck[] = [];
let workDir = '';
const startCwd = process.cwd();

before(() => {
  const all = typeCheckExamples(
    ROOT,
    [...examples, ...PROBES],
    [...imports, ...PROBES.map(() => ({ own: [], testing: [] }))],
    CONTEXT_NAMES,
  );
  checks = all.slice(0, examples.length);
  probeChecks = all.slice(examples.length);
  workDir = mkdtempSync(join(tmpdir(), 'tsfast-examples-'));
  process.chdir(workDir);
});

after(() => {
  process.chdir(startCwd);
  rmSync(workDir, { recursive: true, force: true });
});

test('extracts the @example blocks of src/ with file, line and symbol', () => {
  assert.ok(examples.length > 400, `only ${examples.length} examples found`);
  const ids = new Set(examples.map((e) => e.id));
  assert.equal(ids.size, examples.length, 'example ids are unique');
  const rng = examples.find((e) => e.id === 'src/core/random.ts:RandomGenerator');
  assert.ok(rng, 'RandomGenerator has an example');
  const line = readFileSync(join(ROOT, rng.file), 'utf8').split('\n')[rng.line - 1];
  assert.equal(line?.replace(/^\s*\* ?/, ''), rng.code.split('\n')[0]);
});

test('an example with an undefined name or a wrong type fails, naming file:line', async () => {
  const [undef, wrong, fine] = probeChecks;
  assert.match(
    undef?.errors.join('\n') ?? '',
    /^src\/probe\.ts:10: TS2304: Cannot find name 'notDefinedAnywhere'/,
  );
  assert.match(wrong?.errors.join('\n') ?? '', /^src\/probe\.ts:10: TS2345:/);
  assert.deepEqual(fine?.errors, []);
  assert.deepEqual(fine?.usesContext, ['learn']);
  const throws = compileExampleForRun(
    { ...PROBES[2], code: "throw new Error('no ' + x);" } as TsdocExample,
    ['x'],
  );
  await assert.rejects(throws({ x: 'luck' }), /no luck/);
});

test('extracts symbols, lines and no-run fences from a source tree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfast-extract-'));
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(
      join(dir, 'src', 'a.ts'),
      [
        '/** A class.',
        ' * @example',
        ' * ```ts',
        ' * new A();',
        ' * ```',
        ' */',
        'export class A {',
        '  /**',
        '   * Loads.',
        '   * @example',
        '   * ```ts no-run (needs photos)',
        "   * await new A().load('cat.jpg');",
        '   * ```',
        '   */',
        '  async load(_f: string): Promise<void> {}',
        '}',
        '',
      ].join('\n'),
    );
    const found = extractExamples(dir);
    assert.deepEqual(
      found.map((e) => [e.id, e.line, e.code, e.noRun]),
      [
        ['src/a.ts:A', 4, 'new A();', undefined],
        ['src/a.ts:A.load', 12, "await new A().load('cat.jpg');", '(needs photos)'],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the known-failure list names existing examples only', () => {
  const ids = new Set(examples.map((e) => e.id));
  const stale = Object.keys(known).filter((id) => !ids.has(id));
  assert.deepEqual(stale, [], 'remove these entries from tsdoc-known-failures.json');
});

test('every @example type-checks (or is in the known-failure list)', () => {
  const newFailures: string[] = [];
  const nowPass: string[] = [];
  let ok = 0;
  for (const c of checks) {
    const listed = known[c.example.id] === 'typecheck';
    if (c.errors.length === 0) {
      ok++;
      if (listed) nowPass.push(c.example.id);
    } else if (listed) {
      console.log(`known failure (typecheck) ${c.example.id}\n  ${c.errors.join('\n  ')}`);
    } else {
      newFailures.push(
        `${c.example.id} (${c.example.file}:${c.example.line})\n  ${c.errors.join('\n  ')}`,
      );
    }
  }
  console.log(`@example: ${examples.length} extracted, ${ok} type-check`);
  assert.deepEqual(newFailures, [], `examples that do not compile:\n${newFailures.join('\n')}`);
  assert.deepEqual(
    nowPass,
    [],
    'these examples now compile: remove them from tsdoc-known-failures.json (or list them as "run" if they fail to run)',
  );
});

test('the examples whose names have real values run', { timeout: 600_000 }, async () => {
  const modules = new Map<string, Record<string, unknown>>();
  const moduleOf = async (file: string) => {
    let mod = modules.get(file);
    if (!mod) {
      mod = (await import(pathToFileURL(join(ROOT, file)).href)) as Record<string, unknown>;
      modules.set(file, mod);
    }
    return mod;
  };
  const testingModule = await moduleOf('src/testing/index.ts');
  const jpeg = await makeJpegBytes();
  let ran = 0;
  let optedOut = 0;
  let contextOnly = 0;
  let knownRunFailures = 0;
  const newFailures: string[] = [];
  const nowPass: string[] = [];
  const started = Date.now();
  for (const [i, c] of checks.entries()) {
    const ex = c.example;
    if (c.errors.length > 0) continue;
    if (ex.noRun !== undefined) {
      optedOut++;
      continue;
    }
    const dir = mkdtempSync(join(workDir, 'ex-'));
    const run = makeRunContext(dir, jpeg);
    const values = run.values as Record<string, unknown>;
    if (c.usesContext.some((n) => values[n] === undefined)) {
      run.dispose();
      contextOnly++;
      continue;
    }
    const own = await moduleOf(ex.file);
    const scope: Record<string, unknown> = {
      tf,
      tsf,
      __import: importForExample,
      ...values,
    };
    for (const n of imports[i]?.own ?? []) scope[n] = own[n];
    for (const n of imports[i]?.testing ?? []) scope[n] = testingModule[n];
    let error: unknown;
    process.chdir(dir);
    try {
      const fn = compileExampleForRun(ex, Object.keys(scope));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        fn(scope),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`timed out after ${EXAMPLE_TIMEOUT_MS} ms`)),
            EXAMPLE_TIMEOUT_MS,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    } catch (e) {
      error = e;
    } finally {
      process.chdir(workDir);
      run.dispose();
      // CLI examples set the exit code; it must not become this test's.
      process.exitCode = undefined;
    }
    ran++;
    const listed = known[ex.id] === 'run';
    if (error === undefined) {
      if (listed) nowPass.push(ex.id);
    } else {
      const msg = error instanceof Error ? error.message.split('\n')[0] : String(error);
      knownRunFailures += listed ? 1 : 0;
      if (listed) console.log(`known failure (run) ${ex.id}: ${msg}`);
      else newFailures.push(`${ex.id} (${ex.file}:${ex.line}): ${msg}`);
    }
  }
  console.log(
    `@example: ${ran} run (${ran - newFailures.length - knownRunFailures} ok, ${knownRunFailures} known failures), ${optedOut} opted out (no-run), ` +
      `${contextOnly} type-checked only (they use a context name with no run value); ${Date.now() - started} ms`,
  );
  assert.deepEqual(newFailures, [], `examples that fail when run:\n${newFailures.join('\n')}`);
  assert.deepEqual(
    nowPass,
    [],
    'these examples now run: remove them from tsdoc-known-failures.json',
  );
});
