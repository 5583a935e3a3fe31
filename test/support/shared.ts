import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The read-only `../shared` folder beside the repository (photos, weights, kernel lists). */
export const SHARED_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'shared',
);

/**
 * `false` when `../shared` exists, otherwise the reason to pass as `{ skip }` to a test, so a
 * clone without the shared material skips those tests with a clear message.
 */
export function skipUnlessShared(...parts: string[]): false | string {
  const path = resolve(SHARED_DIR, ...parts);
  return existsSync(path) ? false : `needs ${path} (the shared photos/weights folder is absent)`;
}
