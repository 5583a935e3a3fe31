/**
 * `npm run check:notebooks`: executes every notebook of examples/ in a real Jupyter kernel
 * (tslab) without saving, and ends with `{"notebooks": N, "failed": F}`.
 * `npm run notebooks:execute`: the same, saving each notebook with its outputs (plots inline).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  distOutdated,
  EXAMPLES,
  exampleNotebooks,
  executeNotebook,
  jupyterMissing,
  notebookEnv,
  REPO,
  skipReason,
  tslabKernelPath,
} from '../examples/notebook-runner.js';

const write = process.argv.includes('--write');
const missing = jupyterMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const outdated = distOutdated();
if (outdated) {
  console.error(`the notebooks run the built package: ${outdated}`);
  process.exit(1);
}
spawnSync(process.execPath, [join(REPO, 'scripts', 'link-self.mjs')], { stdio: 'inherit' });
const jupyterPath = tslabKernelPath();
let ran = 0;
let failed = 0;
const skipped: string[] = [];
try {
  for (const nb of exampleNotebooks()) {
    const why = skipReason(nb);
    if (why) {
      console.error(`skip ${nb}: ${why}`);
      skipped.push(nb);
      continue;
    }
    const r = await executeNotebook(join(EXAMPLES, nb), { jupyterPath, write, env: notebookEnv() });
    ran++;
    if (r.ok) {
      console.error(`ok   ${nb} (${r.cells} code cells, ${r.seconds} s)`);
    } else {
      failed++;
      console.error(`FAIL ${nb}, code cell ${r.cell ?? '?'}:\n${r.error}`);
    }
  }
} finally {
  rmSync(jupyterPath, { recursive: true, force: true });
}
console.log(
  JSON.stringify({ notebooks: ran, failed, ...(skipped.length ? { skipped } : {}) })
    .replace(/,"/g, ', "')
    .replace(/":/g, '": '),
);
process.exit(failed === 0 ? 0 : 1);
