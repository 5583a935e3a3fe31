/**
 * The package's entry points as other tools see them (needs `dist`: `npm run build`):
 * CommonJS `require` (what tslab compiles notebook cells to) and the old `node` module
 * resolution of tslab's TypeScript 5.0, which ignores `exports` and finds `tsfast/testing`
 * through `typesVersions`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from './notebook-runner.js';

describe('package entry points', () => {
  it('require() loads tsfast and tsfast/testing (CommonJS, as tslab runs cells)', () => {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        "const t = require('tsfast'); const s = require('tsfast/testing');" +
          'console.log(typeof t.Learner, typeof t.DataBlock, typeof s.makeBlobs)',
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'function function function');
  });

  it("tslab's TypeScript (node resolution, CommonJS) type-checks imports of both entry points", () => {
    // test/.fixtures is ignored by git: a fresh clone has none.
    mkdirSync(join(REPO, 'test', '.fixtures'), { recursive: true });
    const dir = mkdtempSync(join(REPO, 'test', '.fixtures', 'entry-'));
    try {
      writeFileSync(
        join(dir, 'cell.ts'),
        "import * as tsf from 'tsfast';\nimport { makeBlobs } from 'tsfast/testing';\n" +
          'const n: number = tsf.getImageFiles.length + makeBlobs.length;\nexport { n };\n',
      );
      const tsc = join(REPO, 'node_modules', '@tslab', 'typescript-for-tslab', 'bin', 'tsc');
      const args = ['--noEmit', '--module', 'commonjs', '--moduleResolution', 'node'];
      const flags = [...args, '--target', 'es2022', '--skipLibCheck', '--types', 'node'];
      const r = spawnSync(process.execPath, [tsc, ...flags, join(dir, 'cell.ts')], {
        cwd: REPO,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      // Without typesVersions the subpath is not found: the check can fail.
      writeFileSync(join(dir, 'bad.ts'), "import { x } from 'tsfast/nothing';\nexport { x };\n");
      const bad = spawnSync(process.execPath, [tsc, ...flags, join(dir, 'bad.ts')], {
        cwd: REPO,
        encoding: 'utf8',
      });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stdout, /Cannot find module 'tsfast\/nothing'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
