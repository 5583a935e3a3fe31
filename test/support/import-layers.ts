/**
 * Reads the relative imports of a source tree and finds those that go against the layering of
 * design.md: a folder of `src/` may import only from its own layer or the layers above it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/**
 * The layers of design.md, top first. Folders in one entry form one layer (the learner and its
 * built-in callbacks see each other's types; the CLI runs the demo). `testing` is the
 * `tsfast/testing` entry point and, like `src/index.ts`, may import from everything.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['plot'],
  ['external'],
  ['backend'],
  ['data'],
  ['learner', 'callbacks'],
  ['vision'],
  ['interpret'],
  ['cli', 'demo'],
  ['testing'],
];

/** One import that goes against the layering. */
export interface UpwardImport {
  /** The importing file, relative to the tree's root. */
  file: string;
  /** The imported file, relative to the tree's root. */
  target: string;
  /** The importing file's layer folder. */
  from: string;
  /** The imported file's layer folder. */
  to: string;
}

const IMPORT =
  /(?:\bimport|\bexport)\s[^;]*?\sfrom\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function layerOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Every relative import under `root` whose target sits in a lower layer than its importer
 * (files at the root, such as `index.ts`, may import from any layer).
 * @param root - The source tree (`src/`).
 * @returns The upward imports, in file order; empty when the tree follows the layering.
 */
export function findUpwardImports(root: string): UpwardImport[] {
  const found: UpwardImport[] = [];
  for (const { file, from, target } of relativeImports(root)) {
    // The package entry (`index.ts` at the root) gathers every layer: importing it is
    // importing from all of them, which only the bottom layers (the CLI) may do.
    const to = target === 'index.js' ? 'cli' : (target.split(sep)[0] as string);
    if (to === from || to.startsWith('..')) continue;
    const fromLayer = layerOf(from);
    const toLayer = layerOf(to);
    if (fromLayer < 0 || toLayer < 0 || toLayer > fromLayer) found.push({ file, target, from, to });
  }
  return found;
}

/**
 * Every relative import of the files in the folders under `root` (files at the root, the
 * package entries, are skipped), in file order.
 */
function* relativeImports(root: string): Generator<{ file: string; from: string; target: string }> {
  for (const path of sourceFiles(root).sort()) {
    const file = relative(root, path);
    const from = file.split(sep)[0] as string;
    if (from === file) continue;
    for (const match of readFileSync(path, 'utf8').matchAll(IMPORT)) {
      yield { file, from, target: relative(root, join(dirname(path), match[1] ?? match[2])) };
    }
  }
}

/**
 * Folders whose files other folders may import only through the folder's own `index.ts`,
 * subfolders included: `backend/` keeps everything engine-specific behind one boundary.
 */
export const SEALED: readonly string[] = ['backend'];

/** One import that reaches past a folder's index. */
export interface DeepImport {
  /** The importing file, relative to the tree's root. */
  file: string;
  /** The imported file, relative to the tree's root. */
  target: string;
  /** The index the import should go through. */
  through: string;
}

/**
 * Every relative import under `root` that reaches inside another top folder's subfolder
 * (`vision/image/decode.js` from `interpret/`) instead of going through that subfolder's
 * `index.ts`, and every import into a {@link SEALED} folder from outside it that does not go
 * through the folder's `index.ts`. Within one top folder a file may import its own subfolders
 * directly (`vision/learner.ts` -> `vision/models/archs.js`): the folder is one unit, and
 * routing its internal imports through barrels invites load-order cycles. Files at the root
 * (the package entries) are exempt.
 * @param root - The source tree (`src/`).
 * @param sealed - Folders reached only through their index.
 * @returns The offending imports, in file order; empty when every import goes through an index.
 */
export function findDeepImports(root: string, sealed: readonly string[] = SEALED): DeepImport[] {
  const found: DeepImport[] = [];
  for (const { file, from, target } of relativeImports(root)) {
    const parts = target.split(sep);
    const to = parts[0] as string;
    if (to === from || to.startsWith('..') || parts.length < 2) continue;
    const through = sealed.includes(to)
      ? join(to, 'index.js')
      : parts.length > 2
        ? join(to, parts[1] as string, 'index.js')
        : undefined;
    if (through !== undefined && target !== through) found.push({ file, target, through });
  }
  return found;
}
