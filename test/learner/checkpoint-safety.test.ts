import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ready } from '../../src/backend/ready.js';
import { DataError } from '../../src/core/errors.js';
import { Learner } from '../../src/learner/learner.js';
import { loadLearner } from '../../src/learner/learner-io.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { loadTfjsModel, readTfjsModelFiles } from '../../src/vision/models/tfjs-folder.js';
import { wideMlp } from './fixtures/wide-mlp.js';
import { blobsDls, blobsLearner, disposeAll } from './fixtures.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const tmp = () => mkdtempSync(join(tmpdir(), 'tsfast-safety-'));

function editJson(file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(file, JSON.stringify(json));
}

type Manifest = { paths: string[] }[];

describe('files from someone else: nothing outside the folder is read', () => {
  let exported: string;
  let work: string;
  before(async () => {
    await ready();
    work = tmp();
    const { learn, dls } = blobsLearner(21, { path: work });
    await learn.fit(1, 1e-2);
    exported = await learn.export('export');
    disposeAll(learn, dls);
  });

  const refs: [string, (folder: string) => string, RegExp][] = [
    ['a ".." path', () => '../secret.bin', /"..\/secret.bin", which climbs out with ".."/],
    ['an absolute path', (f) => join(f, '..', 'secret.bin'), /which is an absolute path/],
  ];
  for (const [what, ref, pattern] of refs) {
    it(`a model.json listing ${what}: loadTfjsModel, readTfjsModelFiles and loadLearner refuse`, async () => {
      const dir = craftedSync(ref);
      for (const load of [
        () => loadTfjsModel(dir),
        () => readTfjsModelFiles(dir),
        () => loadLearner(dir),
      ]) {
        await assert.rejects(load(), (e: unknown) => {
          assert.ok(e instanceof DataError, String(e));
          assert.ok(e.message.includes('model.json"'), e.message);
          assert.match(e.message, pattern);
          return true;
        });
      }
    });
  }

  // A copy of the export whose manifest lists `ref`; a right-sized "secret" file sits just
  // outside it, so a loader that followed the path would load it without complaint.
  function craftedSync(ref: (folder: string) => string): string {
    const base = tmp();
    const folder = join(base, 'model');
    mkdirSync(folder, { recursive: true });
    for (const f of ['model.json', 'learner.json']) {
      writeFileSync(join(folder, f), readFileSync(join(exported, f)));
    }
    writeFileSync(join(base, 'secret.bin'), readFileSync(join(exported, 'weights.bin')));
    editJson(join(folder, 'model.json'), (j) => {
      (j.weightsManifest as Manifest)[0]!.paths = [ref(folder)];
    });
    return folder;
  }

  it('a shard that is a symbolic link leading out of the folder is refused', async () => {
    const dir = craftedSync(() => 'weights.bin');
    symlinkSync(join(dir, '..', 'secret.bin'), join(dir, 'weights.bin'));
    for (const load of [() => loadTfjsModel(dir), () => loadLearner(dir)]) {
      await assert.rejects(
        load(),
        (e: unknown) =>
          e instanceof DataError && /"weights.bin", which is a symbolic link to/.test(e.message),
      );
    }
  });

  it('a damaged learner.json is refused field by field', async () => {
    const dir = craftedSync(() => 'weights.bin');
    writeFileSync(join(dir, 'weights.bin'), readFileSync(join(exported, 'weights.bin')));
    await loadLearner(dir); // intact: loads
    for (const [edit, pattern] of [
      [
        (j: Record<string, unknown>) => {
          j.loss = null;
        },
        /"loss" has no name/,
      ],
      [
        (j: Record<string, unknown>) => {
          j.c = -1;
        },
        /"c" is -1/,
      ],
      [
        (j: Record<string, unknown>) => {
          j.vocab = [1, 2];
        },
        /"vocab" is not a list/,
      ],
    ] as const) {
      const copy = craftedSync(() => 'weights.bin');
      writeFileSync(join(copy, 'weights.bin'), readFileSync(join(exported, 'weights.bin')));
      editJson(join(copy, 'learner.json'), edit);
      await assert.rejects(
        loadLearner(copy),
        (e: unknown) => e instanceof DataError && pattern.test(e.message),
      );
    }
    writeFileSync(join(dir, 'learner.json'), 'null');
    await assert.rejects(loadLearner(dir), /does not hold a JSON object/);
  });

  it('a right-sized shard full of NaN is reported on load, naming the weights', async () => {
    const dir = craftedSync(() => 'weights.bin');
    const size = readFileSync(join(exported, 'weights.bin')).length;
    writeFileSync(
      join(dir, 'weights.bin'),
      Buffer.from(new Float32Array(size / 4).fill(Number.NaN).buffer),
    );
    for (const load of [() => loadTfjsModel(dir), () => loadLearner(dir)]) {
      await assert.rejects(load(), (e: unknown) => {
        assert.ok(e instanceof DataError, String(e));
        assert.match(
          e.message,
          /weight\(s\) hold NaN or infinite values: ".+" \(\d+ of \d+ values\)/,
        );
        return true;
      });
    }
  });

  it('a truncated checkpoint says which file is damaged and by how much', async () => {
    const { learn, dls } = blobsLearner(22, { path: tmp() });
    const dir = await learn.save('stage');
    const bin = readdirSync(dir).find((f) => /^weights\.[0-9a-f]{8}\.bin$/.test(f)) as string;
    const bytes = readFileSync(join(dir, bin));
    writeFileSync(join(dir, bin), bytes.subarray(0, 1000));
    await assert.rejects(learn.load('stage'), (e: unknown) => {
      assert.ok(e instanceof DataError, String(e));
      assert.ok(e.message.includes(bin), e.message);
      assert.match(
        e.message,
        new RegExp(`hold 1000 bytes, but ".+weights.json" needs ${bytes.length}`),
      );
      assert.match(e.message, /truncated \(weight ".+" onward is missing\)/);
      return true;
    });
    disposeAll(learn, dls);
  });
});

function waitForLine(child: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`no "${text}" within ${timeoutMs} ms: ${out}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        ok();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!out.includes(text)) fail(new Error(`child exited (${code}) before "${text}": ${out}`));
    });
  });
}

const exitOf = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.on('exit', (code, signal) => ok({ code, signal })),
  );

describe('crashes and Ctrl-C keep the last good checkpoint', () => {
  before(async () => {
    await ready();
  });

  it('SIGKILL in the middle of saves: the previous checkpoint still loads, whole', async () => {
    const path = tmp();
    const learn = new Learner(blobsDls(1), wideMlp(), {
      lossFunc: new CrossEntropyLossFlat(),
      path,
      logger: () => {},
    });
    const generations = new Set<number>();
    for (const delay of [7, 23, 41]) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(HERE, 'fixtures', 'save-loop-child.ts'), path],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exit = exitOf(child);
      await waitForLine(child, 'saved', 60_000);
      await new Promise((ok) => setTimeout(ok, delay));
      child.kill('SIGKILL');
      assert.equal((await exit).signal, 'SIGKILL');
      await learn.load('best', { withOpt: false });
      // Every weight holds the same generation: the checkpoint is one save, not a mix.
      const values = new Set(
        learn.model.weights.flatMap((w) => Array.from(new Set(w.read().dataSync()))),
      );
      assert.equal(values.size, 1, `mixed generations: ${[...values].join(', ')}`);
      generations.add([...values][0] as number);
      const left = readdirSync(join(path, 'models', 'best'));
      assert.ok(left.includes('weights.json'), left.join(', '));
    }
    assert.ok(generations.size >= 1);
    learn.model.dispose();
    learn.opt.dispose();
  });

  it('SIGINT during fit: stops after the batch, afterFit runs, exit 130, checkpoint loads', async () => {
    const path = tmp();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(HERE, 'fixtures', 'sigint-child.ts'), path],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exit = exitOf(child);
    await waitForLine(child, 'epoch 1 done', 120_000);
    child.kill('SIGINT');
    const { code } = await exit;
    assert.equal(code, 130);
    const marker = JSON.parse(readFileSync(join(path, 'after-fit.json'), 'utf8')) as {
      events: string[];
    };
    assert.deepEqual(marker.events, ['afterCancelFit', 'afterFit']);
    assert.equal(existsSync(join(path, 'fit-returned')), false);
    const learn = new Learner(blobsDls(1), wideMlp(), {
      lossFunc: new CrossEntropyLossFlat(),
      path,
      logger: () => {},
    });
    await learn.load('best', { withOpt: false });
    for (const w of learn.model.weights) assert.ok(w.read().dataSync().every(Number.isFinite));
    assert.equal(process.listenerCount('SIGINT'), 0);
    learn.model.dispose();
    learn.opt.dispose();
  });
});
