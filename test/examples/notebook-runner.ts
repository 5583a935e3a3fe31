/**
 * Runs a tslab notebook (`examples/*.ipynb`) under plain Node, no Jupyter: its TypeScript code
 * cells are joined in order into one ES module and executed by tsx in a child process.
 *
 * - `import ... from 'tsfast'` (and `'tsfast/testing'`) is pointed at `src/`, so the test checks
 *   the sources.
 * - `import ... from 'tslab'` is pointed at a shim whose `display.*` functions record what a
 *   notebook would show (and check PNG bytes are real PNGs), since tslab needs a Jupyter kernel.
 * - Each cell is preceded by a marker, so a failure names the cell that threw.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');
const FIXTURES = join(REPO, 'test', '.fixtures', 'notebooks');

interface NotebookCell {
  cell_type: string;
  source: string | string[];
}

/** The code cells of a notebook, as source strings. */
export async function codeCells(file: string): Promise<string[]> {
  const nb = JSON.parse(await readFile(file, 'utf8')) as {
    cells: NotebookCell[];
    metadata?: { kernelspec?: { name?: string } };
  };
  if (nb.metadata?.kernelspec?.name !== 'tslab') {
    throw new Error(`${file}: kernelspec.name must be "tslab"`);
  }
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
}

/** Joins cells into one module, with imports redirected and cell markers. */
export function toModule(cells: readonly string[]): string {
  const src = pathToSpecifier(join(REPO, 'src', 'index.ts'));
  const testing = pathToSpecifier(join(REPO, 'src', 'testing', 'index.ts'));
  const shim = pathToSpecifier(join(HERE, 'tslab-shim.ts'));
  const parts = [`import { __cell } from ${JSON.stringify(shim)};`];
  cells.forEach((cell, i) => {
    const body = cell
      .replace(/from\s+['"]tsfast\/testing['"]/g, `from ${JSON.stringify(testing)}`)
      .replace(/from\s+['"]tsfast['"]/g, `from ${JSON.stringify(src)}`)
      .replace(/from\s+['"]tslab['"]/g, `from ${JSON.stringify(shim)}`);
    parts.push(`__cell(${i + 1});`, body);
  });
  parts.push('__cell(0);');
  return parts.join('\n');
}

function pathToSpecifier(p: string): string {
  return p.split('\\').join('/');
}

export interface NotebookRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Writes the module of a notebook to the fixtures folder and returns its path. */
export async function writeModule(file: string): Promise<string> {
  const cells = await codeCells(file);
  await mkdir(FIXTURES, { recursive: true });
  const mod = join(FIXTURES, `${basename(file, '.ipynb')}.mts`);
  await writeFile(mod, toModule(cells));
  return mod;
}

/**
 * Type-checks notebook modules with the repository's strict settings, as tslab type-checks
 * every cell before running it.
 * @returns The compiler's messages about these modules (empty when they type-check).
 */
export async function typecheckModules(modules: readonly string[]): Promise<string[]> {
  const config = join(FIXTURES, 'tsconfig.notebooks.json');
  await writeFile(
    config,
    JSON.stringify({
      extends: '../../../tsconfig.json',
      compilerOptions: { noEmit: true, allowImportingTsExtensions: true, rootDir: '../../..' },
      files: modules.map((m) => basename(m)),
    }),
  );
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = await spawnCollect(process.execPath, [tsc, '-p', config], REPO, {}, 300_000);
  return run.stdout
    .split('\n')
    .filter((line) => line.includes('.fixtures/notebooks/') && /error TS/.test(line));
}

function spawnCollect(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<NotebookRun> {
  return new Promise((ok) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      ok({ code, stdout, stderr });
    });
  });
}

/** Runs a notebook to completion; env entries are added to the child's environment. */
export async function runNotebook(
  file: string,
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<NotebookRun> {
  const mod = await writeModule(file);
  return spawnCollect(process.execPath, ['--import', 'tsx', mod], dirname(file), env, timeoutMs);
}
