#!/usr/bin/env node
// Makes `tsfast` resolvable from inside a clone (the example notebooks import 'tsfast', and
// tslab's TypeScript 5.0 resolves it through node_modules like Node's require does): creates
// node_modules/tsfast -> .. . Does nothing when this package is itself installed as a
// dependency (its folder sits inside a node_modules) or when the link already exists.
import { lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
if (!root.split(sep).includes('node_modules')) {
  const link = join(root, 'node_modules', 'tsfast');
  let exists = true;
  try {
    lstatSync(link);
  } catch {
    exists = false;
  }
  if (!exists) {
    mkdirSync(join(root, 'node_modules'), { recursive: true });
    symlinkSync('..', link, 'dir');
  }
}
