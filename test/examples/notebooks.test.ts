/**
 * Every example notebook runs, cell by cell in order, without Jupyter (see notebook-runner.ts).
 * With TSFAST_NOTEBOOK_TEST=1 the notebooks use their small settings (few images, few steps);
 * the pets photos come from ../shared, so those notebooks skip when it is absent.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';
import {
  codeCells,
  REPO,
  runNotebook,
  toModule,
  typecheckModules,
  writeModule,
} from './notebook-runner.js';

const EXAMPLES = join(REPO, 'examples');
const NOTEBOOKS = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.ipynb'))
  .sort();

const NEEDS: Record<string, string[]> = {
  'pets.ipynb': ['data', 'pets', 'images'],
  'datablock-tour.ipynb': ['data', 'pets', 'images'],
};

const ENV = {
  TSFAST_NOTEBOOK_TEST: '1',
  PETS_DIR: join(SHARED_DIR, 'data', 'pets', 'images'),
  MOBILENET_WEIGHTS: join(SHARED_DIR, 'models', 'mobilenet_v1_0.75_224'),
};

describe('example notebooks', () => {
  it('there are the pets, custom callback and DataBlock tour notebooks', () => {
    for (const nb of ['pets.ipynb', 'custom-callback.ipynb', 'datablock-tour.ipynb']) {
      assert.ok(NOTEBOOKS.includes(nb), `examples/${nb} is missing`);
    }
  });

  it('the runner redirects imports and marks cells', () => {
    const mod = toModule(["import * as tsf from 'tsfast';", "import * as tslab from 'tslab';"]);
    assert.match(mod, /from ".*\/src\/index\.ts"/);
    assert.match(mod, /from ".*\/test\/examples\/tslab-shim\.ts"/);
    assert.match(mod, /__cell\(1\);[\s\S]*__cell\(2\);[\s\S]*__cell\(0\);/);
  });

  it('every notebook type-checks under strict TypeScript (tslab checks each cell)', async () => {
    const modules = await Promise.all(NOTEBOOKS.map((nb) => writeModule(join(EXAMPLES, nb))));
    assert.deepEqual(await typecheckModules(modules), []);
  });

  for (const nb of NOTEBOOKS) {
    const need = NEEDS[nb];
    const skip = need ? skipUnlessShared(...need) : false;
    it(`${nb} runs every cell`, { skip }, async () => {
      const file = join(EXAMPLES, nb);
      const cells = await codeCells(file);
      const run = await runNotebook(file, ENV, 240_000);
      assert.equal(
        run.code,
        0,
        `examples/${nb} failed (exit ${run.code}):\n${run.stderr.slice(-3000)}\n${run.stdout.slice(-1500)}`,
      );
      assert.match(run.stdout, new RegExp(`\\[notebook\\] ${cells.length} cells ran`));
    });
  }
});
