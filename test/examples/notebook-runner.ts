/**
 * Runs the example notebooks as Jupyter does: each notebook is executed cell by cell by
 * nbclient (Debian's python3-nbclient) in the tslab TypeScript kernel (the `tslab` npm
 * devDependency), so a cell that fails in a real kernel fails here.
 *
 * No global state: the tslab kernelspec is written to a temporary JUPYTER_PATH, and `tsfast`
 * resolves from the examples through the clone's self link (`node_modules/tsfast -> ..`, made
 * by test/scripts/link-self.mjs) or, in a user project, through its installed copy.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository's root folder. */
export const REPO = resolve(HERE, '..', '..');
/** The folder of the example notebooks. */
export const EXAMPLES = join(REPO, 'examples');
const SHARED = resolve(REPO, '..', 'shared');
const PYTHON = '/usr/bin/python3';
const EXECUTE_PY = join(REPO, 'test', 'scripts', 'execute_notebook.py');

/** The example notebooks, by file name, sorted. */
export function exampleNotebooks(): string[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
}

/**
 * Why `dist` cannot stand for the sources (missing, or older than a file of src/), or false.
 * The notebooks import the built package, as a user's would.
 */
export function distOutdated(): false | string {
  const built = join(REPO, 'dist', 'index.js');
  if (!existsSync(built)) return `${built} is missing: run \`npm run build\` first`;
  const builtAt = statSync(built).mtimeMs;
  const newer = readdirSync(join(REPO, 'src'), { recursive: true, encoding: 'utf8' }).find(
    (f) => f.endsWith('.ts') && statSync(join(REPO, 'src', f)).mtimeMs > builtAt,
  );
  return newer ? `src/${newer} is newer than dist: run \`npm run build\` first` : false;
}

/** The shared data each notebook reads (relative to ../shared); absent ones skip. */
export const NEEDS: Record<string, string[]> = {
  'pets.ipynb': ['data', 'pets', 'images'],
  'datablock-tour.ipynb': ['data', 'pets', 'images'],
};

/** `false` when a notebook can run here, otherwise why it is skipped. */
export function skipReason(notebook: string): false | string {
  const need = NEEDS[notebook];
  if (need && !existsSync(join(SHARED, ...need))) {
    return `needs ${join(SHARED, ...need)} (the shared photos folder is absent)`;
  }
  return false;
}

/** `false` when Jupyter's nbclient imports under /usr/bin/python3, otherwise the reason. */
export function jupyterMissing(): false | string {
  const r = spawnSync(PYTHON, ['-c', 'import nbclient, nbformat'], { encoding: 'utf8' });
  return r.status === 0
    ? false
    : `needs Jupyter's nbclient (apt install python3-nbclient): ${r.stderr.trim().split('\n').at(-1)}`;
}

/**
 * Writes the tslab kernelspec (what `tslab install` writes, without needing IPython) into a new
 * temporary folder, to pass as JUPYTER_PATH.
 * @param projectDir - Folder whose node_modules holds tslab.
 */
export function tslabKernelPath(projectDir = REPO): string {
  const bin = join(projectDir, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!existsSync(bin)) throw new Error(`tslab is not installed: ${bin} is missing (npm ci)`);
  const dir = mkdtempSync(join(tmpdir(), 'tsfast-jupyter-'));
  mkdirSync(join(dir, 'kernels', 'tslab'), { recursive: true });
  writeFileSync(
    join(dir, 'kernels', 'tslab', 'kernel.json'),
    JSON.stringify({
      argv: [process.execPath, bin, 'kernel', '--config-path', '{connection_file}'],
      display_name: 'TypeScript',
      language: 'typescript',
    }),
  );
  return dir;
}

/** The environment of the notebooks: the small settings and the local photos and weights. */
export function notebookEnv(): Record<string, string> {
  const env: Record<string, string> = { TSFAST_NOTEBOOK_TEST: '1' };
  const pets = join(SHARED, 'data', 'pets', 'images');
  const weights = join(SHARED, 'models', 'mobilenet_v1_0.75_224');
  if (existsSync(pets)) env.PETS_DIR = pets;
  if (existsSync(weights)) env.MOBILENET_WEIGHTS = weights;
  return env;
}

/** One notebook's result, as test/scripts/execute_notebook.py reports it. */
export interface NotebookResult {
  notebook: string;
  ok: boolean;
  cells?: number;
  seconds?: number;
  cell?: number | null;
  error?: string;
}

/** Options of {@link executeNotebook}. */
export interface ExecuteOptions {
  /** JUPYTER_PATH holding the tslab kernelspec (see {@link tslabKernelPath}). */
  jupyterPath: string;
  /** Save the outputs into the notebook. Default false. */
  write?: boolean;
  /** Save the executed notebook (with outputs) to this file instead. */
  output?: string;
  /** Extra environment of the kernel. */
  env?: Record<string, string>;
  /** Seconds a cell may run. Default 900. */
  cellTimeout?: number;
}

/** The outputs of a notebook's code cells, as saved by Jupyter. */
export interface CellOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}

/** Reads the outputs of each code cell of an executed notebook. */
export function cellOutputs(file: string): CellOutput[][] {
  const nb = JSON.parse(readFileSync(file, 'utf8')) as {
    cells: Array<{ cell_type: string; outputs?: CellOutput[] }>;
  };
  return nb.cells.filter((c) => c.cell_type === 'code').map((c) => c.outputs ?? []);
}

/** Executes one notebook in the tslab kernel; resolves with its result (never rejects). */
export function executeNotebook(file: string, opts: ExecuteOptions): Promise<NotebookResult> {
  const args = [
    EXECUTE_PY,
    file,
    '--kernel',
    'tslab',
    '--timeout',
    String(opts.cellTimeout ?? 900),
  ];
  if (opts.write) args.push('--write');
  else if (opts.output) args.push('--output', opts.output);
  return new Promise((ok) => {
    const child = spawn(PYTHON, ['-W', 'ignore', ...args], {
      cwd: dirname(file),
      env: { ...process.env, ...opts.env, JUPYTER_PATH: opts.jupyterPath },
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
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        ok(JSON.parse(line) as NotebookResult);
      } catch {
        ok({
          notebook: file,
          ok: false,
          error: `exit ${code}: ${(stderr || stdout).slice(-3000)}`,
        });
      }
    });
  });
}
