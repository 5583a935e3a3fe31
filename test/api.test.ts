/**
 * The public API as a committed snapshot: every name exported by the package's entry points
 * (`tsfast` = src/index.ts, `tsfast/testing` = src/testing/index.ts), values and type-only
 * exports listed apart. Adding, removing or renaming an export fails this test until the
 * snapshot is regenerated on purpose, so API changes show up in review as a diff of
 * test/api-snapshot.json.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '..');
const SNAPSHOT = join(ROOT, 'test', 'api-snapshot.json');
const UPDATE_VAR = 'UPDATE_API_SNAPSHOT';
const HOW_TO_UPDATE =
  `If the change is intended, regenerate the snapshot with\n` +
  `  ${UPDATE_VAR}=1 npx tsx --test test/api.test.ts\n` +
  'and commit test/api-snapshot.json with the change.';

/** Package entry point -> its source file. */
const ENTRY_POINTS: Record<string, string> = {
  tsfast: 'src/index.ts',
  'tsfast/testing': 'src/testing/index.ts',
};

/** The names one entry point exports. */
interface ApiEntry {
  /** Exports with a runtime value (functions, classes, constants), sorted. */
  values: string[];
  /** Type-only exports (interfaces, type aliases), sorted. */
  types: string[];
}

type ApiSnapshot = Record<string, ApiEntry>;

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Reads each entry point's exports with the TypeScript compiler (type-only ones included). */
function currentApi(): ApiSnapshot {
  const files = Object.values(ENTRY_POINTS).map((f) => join(ROOT, f));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const out: ApiSnapshot = {};
  for (const [entry, file] of Object.entries(ENTRY_POINTS)) {
    const source = program.getSourceFile(join(ROOT, file));
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    assert.ok(moduleSymbol, `${file} is not a module`);
    const values: string[] = [];
    const types: string[] = [];
    for (const sym of checker.getExportsOfModule(moduleSymbol)) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      const isTypeOnly =
        (target.flags & ts.SymbolFlags.Value) === 0 ||
        (sym.declarations ?? []).some(
          (d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly),
        );
      (isTypeOnly ? types : values).push(sym.getName());
    }
    out[entry] = { values: values.sort(byName), types: types.sort(byName) };
  }
  return out;
}

function diff(what: string, expected: readonly string[], actual: readonly string[]): string[] {
  const exp = new Set(expected);
  const act = new Set(actual);
  const added = actual.filter((n) => !exp.has(n));
  const removed = expected.filter((n) => !act.has(n));
  return [
    ...(added.length ? [`  ${what} added: ${added.join(', ')}`] : []),
    ...(removed.length ? [`  ${what} removed: ${removed.join(', ')}`] : []),
  ];
}

describe('public API', () => {
  const api = currentApi();

  if (process.env[UPDATE_VAR] === '1') {
    writeFileSync(SNAPSHOT, `${JSON.stringify(api, null, 2)}\n`);
    console.log(`api.test: wrote ${SNAPSHOT}`);
  }

  it('the exports of tsfast and tsfast/testing equal test/api-snapshot.json', () => {
    assert.ok(existsSync(SNAPSHOT), `test/api-snapshot.json is missing.\n${HOW_TO_UPDATE}`);
    const saved = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as ApiSnapshot;
    const problems: string[] = [];
    for (const entry of new Set([...Object.keys(saved), ...Object.keys(api)])) {
      const s = saved[entry] ?? { values: [], types: [] };
      const a = api[entry] ?? { values: [], types: [] };
      const lines = [...diff('values', s.values, a.values), ...diff('types', s.types, a.types)];
      if (lines.length) problems.push(`"${entry}":`, ...lines);
    }
    assert.ok(
      problems.length === 0,
      `The public API differs from test/api-snapshot.json:\n${problems.join('\n')}\n${HOW_TO_UPDATE}`,
    );
  });

  it('the runtime modules export exactly the value names the compiler sees', async () => {
    for (const [entry, file] of Object.entries(ENTRY_POINTS)) {
      const mod = (await import(join(ROOT, file))) as Record<string, unknown>;
      assert.deepEqual(
        Object.keys(mod).sort(byName),
        api[entry]?.values,
        `runtime exports of ${entry}`,
      );
      for (const name of api[entry]?.values ?? []) {
        assert.notEqual(mod[name], undefined, `${entry} exports ${name} as undefined`);
      }
    }
  });
});
