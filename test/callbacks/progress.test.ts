/**
 * fastprogress-style bars: the figures (percent, elapsed<remaining, items/s, running loss)
 * computed by hand, the terminal line drawn during a real fit on a (faked) TTY, and nothing but
 * the table when stderr is piped.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ready } from '../../src/backend/ready.js';
import { htmlBars, progressText, terminalBarLine } from '../../src/callbacks/progress-bar.js';
import { blobsLearner, disposeAll } from '../learner/fixtures.js';

async function captureStderr(tty: boolean, fn: () => Promise<void>): Promise<string> {
  const stderr = process.stderr as NodeJS.WriteStream & { isTTY: boolean };
  const write = stderr.write;
  const wasTty = stderr.isTTY;
  let out = '';
  stderr.isTTY = tty;
  stderr.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof stderr.write;
  try {
    await fn();
  } finally {
    stderr.write = write;
    stderr.isTTY = wasTty;
  }
  return out;
}

describe('Progress bars', () => {
  before(async () => {
    await ready();
  });

  it('says percent, elapsed<remaining, items/s and the loss like fastprogress', () => {
    // 12 of 30 steps in 5 s: 5 / 12 * 18 = 7.5 s left (rounded to 8), 384 items / 5 s = 76.8/s.
    assert.equal(
      progressText({ label: 'train', done: 12, total: 30, elapsed: 5, items: 384, loss: 0.53 }),
      '40.00% [12/30 00:05<00:08, 76.8 items/s, loss 0.5300]',
    );
    // Before the first step there is no estimate; no items, no loss: left out.
    assert.equal(
      progressText({ label: 'valid', done: 0, total: 4, elapsed: 0, items: 0 }),
      '0.00% [0/4 00:00<--:--]',
    );
    assert.equal(
      progressText({ label: 'x', done: 3, total: 3, elapsed: 130, items: 30000, loss: Number.NaN }),
      '100.00% [3/3 02:10<00:00, 231 items/s]',
    );
    assert.equal(
      terminalBarLine({ label: 'train', done: 1, total: 2, elapsed: 1, items: 0 }, 10),
      'train |█████-----| 50.00% [1/2 00:01<00:01]',
    );
    const html = htmlBars([
      { label: 'epoch', done: 1, total: 3, elapsed: 10, items: 0 },
      { label: 'train', done: 2, total: 8, elapsed: 2, items: 64, loss: 1.25 },
    ]);
    assert.match(html, /<progress value="1" max="3"/);
    assert.match(html, /<progress value="2" max="8"/);
    assert.match(html, /25\.00% \[2\/8 00:02&lt;00:06, 32\.0 items\/s, loss 1\.2500\]/);
  });

  it('draws a bar per phase on a terminal, with the running loss, then the table row', async () => {
    const rows: string[] = [];
    const { learn, dls } = blobsLearner(7, { logger: (l) => rows.push(l) });
    const err = await captureStderr(true, () => learn.fit(2, 1e-2));
    const lines = err.split('\r').filter((l) => l.includes('|'));
    const train = lines.filter((l) => l.startsWith('train |'));
    const valid = lines.filter((l) => l.startsWith('valid |'));
    assert.ok(train.length >= 2 && valid.length >= 2, err.slice(0, 500));
    const n = dls.train.numBatches;
    // The last training draw of an epoch: all steps, the smoothed loss the recorder holds.
    const lastTrain = train.at(-1)!;
    assert.match(
      lastTrain,
      new RegExp(
        `100\\.00% \\[${n}/${n} \\d\\d:\\d\\d<00:00, [\\d.]+ items/s, loss \\d\\.\\d{4}\\]`,
      ),
    );
    const shown = Number(/loss (\d\.\d{4})/.exec(lastTrain)![1]);
    assert.ok(Math.abs(shown - learn.recorder.losses.at(-1)!) < 1e-4);
    assert.match(train[0]!, /\d\d:\d\d<(\d\d:\d\d|--:--)/);
    // The bar is erased before each epoch's row (fastprogress replaces it with the table).
    assert.ok(err.endsWith('\r\x1b[K'));
    assert.equal(rows.length, 3);
    assert.match(rows[0]!, /^epoch\s+train_loss\s+valid_loss\s+accuracy\s+time$/);
    disposeAll(learn, dls);
  });

  it('writes no bar when stderr is piped, or under noBar', async () => {
    const { learn, dls } = blobsLearner(8);
    assert.equal(await captureStderr(false, () => learn.fit(1, 1e-2)), '');
    assert.equal(await captureStderr(true, () => learn.noBar(() => learn.fit(1, 1e-2))), '');
    disposeAll(learn, dls);
  });
});
