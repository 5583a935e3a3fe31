/**
 * Rich output in a Jupyter notebook run by the tslab kernel. A library cannot `import 'tslab'`
 * (tslab hooks that import for notebook cells only), so this finds the kernel's own module from
 * the running tslab binary: the same module instance, hence the same connection to Jupyter.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** A display entry that each call overwrites (tslab's `newDisplay()`). */
export interface HtmlDisplay {
  /** Shows (or replaces) the entry's content with HTML. */
  html(s: string): void;
}

interface TslabModule {
  newDisplay(): HtmlDisplay;
}

let cached: TslabModule | null | undefined;

/**
 * tslab's `newDisplay`, when this process is a tslab kernel (`tslab kernel ...`), else undefined.
 * @returns A function making display entries that update in place, or undefined.
 * @internal
 */
export function notebookDisplay(): (() => HtmlDisplay) | undefined {
  if (cached === undefined) cached = findTslab();
  const mod = cached;
  return mod ? () => mod.newDisplay() : undefined;
}

function findTslab(): TslabModule | null {
  const [, script, command] = process.argv;
  if (script === undefined || command !== 'kernel') return null;
  try {
    // node_modules/.bin/tslab -> node_modules/tslab/bin/tslab: the package is two levels up.
    const bin = realpathSync(script);
    const pkg = dirname(dirname(bin));
    const req = createRequire(bin);
    const manifest = req(`${pkg}/package.json`) as { name?: string };
    if (manifest.name !== 'tslab') return null;
    const mod = req(pkg) as Partial<TslabModule>;
    return typeof mod.newDisplay === 'function' ? (mod as TslabModule) : null;
  } catch {
    return null;
  }
}
