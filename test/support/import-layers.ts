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
  for (const path of sourceFiles(root).sort()) {
    const file = relative(root, path);
    const from = file.split(sep)[0];
    if (from === file) continue;
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const target = relative(root, join(dirname(path), match[1] ?? match[2]));
      // The package entry (`index.ts` at the root) gathers every layer: importing it is
      // importing from all of them, which only the bottom layers (the CLI) may do.
      const to = target === 'index.js' ? 'cli' : (target.split(sep)[0] as string);
      if (to === from || to.startsWith('..')) continue;
      const fromLayer = layerOf(from);
      const toLayer = layerOf(to);
      if (fromLayer < 0 || toLayer < 0 || toLayer > fromLayer)
        found.push({ file, target, from, to });
    }
  }
  return found;
}
