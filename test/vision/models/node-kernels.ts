import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKernelList, TFJS_NODE_KERNELS_FILE } from '../../../src/testing/kernel-guard.js';

let file: string | undefined;

/**
 * The tfjs-node kernel list plus the names tf.profile gives custom-gradient wrappers
 * (`fusedConv2d__op`, ...): they are not kernels; the kernels they run (FusedConv2D, ...) are
 * recorded and checked themselves.
 */
export function nodeKernelsWithOpWrappers(): string {
  if (file !== undefined) return file;
  file = join(mkdtempSync(join(tmpdir(), 'tsfast-kernels-')), 'kernels.txt');
  const wrappers = ['fusedConv2d__op', 'fusedDepthwiseConv2d__op', 'fusedMatMul__op'];
  writeFileSync(file, [...readKernelList(TFJS_NODE_KERNELS_FILE), ...wrappers].join('\n'));
  return file;
}
