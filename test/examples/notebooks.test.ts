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
  cellOutputs,
  distOutdated,
  EXAMPLES,
  exampleNotebooks,
  executeNotebook,
  jupyterMissing,
  notebookEnv,
  skipReason,
  tslabKernelPath,
} from './notebook-runner.js';

const NOTEBOOKS = exampleNotebooks();
/** The notebooks that train a model (and so draw the progress bar). */
const TRAINS = ['pets.ipynb', 'custom-callback.ipynb'];
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
    const outdated = distOutdated();
    assert.equal(outdated, false, `the notebooks run the built package: ${outdated}`);
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
      const dir = mkdtempSync(join(tmpdir(), 'tsfast-nb-'));
      try {
        const output = join(dir, nb);
        const r = await executeNotebook(join(EXAMPLES, nb), {
          jupyterPath,
          env: notebookEnv(),
          output,
        });
        assert.ok(r.ok, `examples/${nb} failed in cell ${r.cell}:\n${r.error}`);
        const outputs = cellOutputs(output).flat();
        // Every notebook shows something: plots as PNGs, which must be real PNGs.
        const pngs = outputs.flatMap((o) => (o.data?.['image/png'] ? [o.data['image/png']] : []));
        for (const png of pngs) {
          const b64 = Array.isArray(png) ? png.join('') : png;
          assert.equal(Buffer.from(b64, 'base64').subarray(1, 4).toString(), 'PNG');
        }
        if (TRAINS.includes(nb)) {
          // Training in tslab draws fastprogress's HTML bar (updated in place), then the table.
          const html = outputs.flatMap((o) => {
            const h = o.data?.['text/html'];
            return h === undefined ? [] : [Array.isArray(h) ? h.join('') : h];
          });
          assert.ok(
            html.some((h) => /<progress value="\d+" max="\d+"/.test(h) && /items\/s/.test(h)),
            `no HTML progress bar in ${nb}'s outputs`,
          );
          const text = outputs
            .map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? '')))
            .join('');
          assert.match(text, /epoch\s+train_loss\s+valid_loss/);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
