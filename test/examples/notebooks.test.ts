/**
 * Every example notebook runs in a real Jupyter kernel (tslab, driven by nbclient), cell by cell,
 * with the small settings (TSFAST_NOTEBOOK_TEST=1). The pets photos come from ../shared, so the
 * notebooks that read them skip when it is absent; everything skips when Jupyter is missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  EXAMPLES,
  exampleNotebooks,
  executeNotebook,
  jupyterMissing,
  notebookEnv,
  skipReason,
  tslabKernelPath,
} from './notebook-runner.js';

const NOTEBOOKS = exampleNotebooks();
const noJupyter = jupyterMissing();

function notebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source) => ({ cell_type: 'code', metadata: {}, source, outputs: [] })),
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

describe('example notebooks in the tslab kernel', { skip: noJupyter }, () => {
  let jupyterPath = '';
  before(() => {
    jupyterPath = tslabKernelPath();
  });
  after(() => {
    if (jupyterPath) rmSync(jupyterPath, { recursive: true, force: true });
  });

  it('there are the pets, custom callback and DataBlock tour notebooks', () => {
    for (const nb of ['pets.ipynb', 'custom-callback.ipynb', 'datablock-tour.ipynb']) {
      assert.ok(NOTEBOOKS.includes(nb), `examples/${nb} is missing`);
    }
  });

  it('a cell that fails in tslab fails the run and is named (not only whole-module errors)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsfast-nb-'));
    try {
      const file = join(dir, 'bad.ipynb');
      // Valid as one module, but tslab cannot see `a` from a shorthand property in a later cell.
      writeFileSync(file, notebook(['const a = 1;', 'console.log(a + 1);', 'const o = { a };']));
      const bad = await executeNotebook(file, { jupyterPath });
      assert.equal(bad.ok, false);
      assert.equal(bad.cell, 2);
      writeFileSync(file, notebook(['const a = 1;', 'const o = { a: a };\nconsole.log(o.a);']));
      const good = await executeNotebook(file, { jupyterPath, write: true });
      assert.equal(good.ok, true, good.error);
      assert.equal(good.cells, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const nb of NOTEBOOKS) {
    it(`${nb} runs every cell`, { skip: skipReason(nb) }, async () => {
      const r = await executeNotebook(join(EXAMPLES, nb), { jupyterPath, env: notebookEnv() });
      assert.ok(r.ok, `examples/${nb} failed in cell ${r.cell}:\n${r.error}`);
    });
  }
});
