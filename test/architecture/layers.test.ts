import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findDeepImports, findUpwardImports, LAYERS } from '../support/import-layers.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tsfast-layers-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

describe('the layering of design.md', () => {
  it('src/ imports only from its own layer or the layers above it', () => {
    const upward = findUpwardImports(SRC);
    assert.deepEqual(
      upward.map((u) => `${u.file} imports ${u.target} (${u.from} may not import from ${u.to})`),
      [],
      `Layers, top first: ${LAYERS.map((l) => l.join('+')).join(' > ')}`,
    );
  });

  it('finds an upward import, static or dynamic, and names it', () => {
    const root = tree({
      'core/errors.ts': "import { Learner } from '../learner/learner.js';\n",
      'data/blocks.ts':
        "export { thing } from '../core/errors.js';\nconst m = await import('../vision/learner.js');\n",
      'learner/learner.ts':
        "import type { Batch } from '../data/batch.js';\nimport { x } from '../callbacks/x.js';\n",
      'index.ts': "export * from './vision/learner.js';\n",
      'cli/main.ts': "import { fit } from '../index.js';\n",
      'vision/learner.ts': "import { fit } from '../index.js';\n",
    });
    try {
      assert.deepEqual(findUpwardImports(root), [
        { file: 'core/errors.ts', target: 'learner/learner.js', from: 'core', to: 'learner' },
        { file: 'data/blocks.ts', target: 'vision/learner.js', from: 'data', to: 'vision' },
        { file: 'vision/learner.ts', target: 'index.js', from: 'vision', to: 'cli' },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a folder that no layer names', () => {
    const root = tree({ 'gadgets/a.ts': "import { b } from '../core/b.js';\n" });
    try {
      assert.equal(findUpwardImports(root)[0]?.from, 'gadgets');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('imports into another folder go through its index', () => {
  it("src/ reaches another folder's subfolders (and backend/) only through their index.ts", () => {
    assert.deepEqual(
      findDeepImports(SRC).map((d) => `${d.file} imports ${d.target} (use ${d.through})`),
      [],
    );
  });

  it('finds an import past an index, static or dynamic, and names the index to use', () => {
    const root = tree({
      'interpret/a.ts':
        "import { decode } from '../vision/image/decode.js';\nimport { b } from '../vision/image/index.js';\n",
      'vision/augment/cpu.ts':
        "import { heap } from '../../backend/wasm-kernels/heap.js';\nimport { x } from '../image/resize.js';\n",
      'vision/learner.ts': "import { archs } from './models/archs.js';\n",
      'learner/adam.ts':
        "const k = await import('../backend/ready.js');\nimport { ready } from '../backend/index.js';\nimport { c } from '../core/errors.js';\n",
      'index.ts': "export * from './vision/image/decode.js';\n",
    });
    try {
      assert.deepEqual(findDeepImports(root), [
        {
          file: 'interpret/a.ts',
          target: 'vision/image/decode.js',
          through: 'vision/image/index.js',
        },
        { file: 'learner/adam.ts', target: 'backend/ready.js', through: 'backend/index.js' },
        {
          file: 'vision/augment/cpu.ts',
          target: 'backend/wasm-kernels/heap.js',
          through: 'backend/index.js',
        },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
