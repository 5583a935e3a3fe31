/**
 * `learn.summary()` (fastai's `Learner.summary`): the layers with output shapes on a real
 * batch, parameter counts computed by hand (Conv2D 3x3x3x4 + 4 = 112, BatchNorm scale and
 * shift 2x4 = 8, Dense 4x2 + 2 = 10: running statistics are not parameters, as in PyTorch),
 * trainable flags that follow freezing and `trainBn`, totals, optimizer, loss, frozen groups,
 * callbacks; returned, not printed.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ready } from '../../src/backend/ready.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { skipUnlessShared } from '../support/shared.js';
import { hymenopteraDls, tinyImageLearner } from '../support/tiny-image.js';

const skip = skipUnlessShared('data', 'hymenoptera');

describe('learn.summary', { skip }, () => {
  before(async () => {
    await ready();
  });

  it('describes layers, shapes, parameters, trainable, totals, frozen groups', async () => {
    const dls = await hymenopteraDls(16);
    const learn = tinyImageLearner(dls);
    learn.freeze();
    const logged: string[] = [];
    learn.logger = (l) => logged.push(l);
    const text = await expectNoLeaks(() => learn.summary());
    assert.deepEqual(logged, [], 'summary returns its text, it does not print');
    const lines = text.split('\n');
    assert.equal(lines[0], 'Sequential (Input shape: 8 x 16 x 16 x 3)');
    const row = (type: string) => lines.find((l) => l.split(' ')[0] === type)!.split(/\s+/);
    assert.deepEqual(row('Conv2D'), ['Conv2D', '112', 'False']);
    assert.deepEqual(row('BatchNormalization'), ['BatchNormalization', '8', 'True']); // trainBn
    assert.deepEqual(row('Dense'), ['Dense', '10', 'True']);
    assert.deepEqual(row('GlobalAveragePooling2D'), ['GlobalAveragePooling2D']);
    // Output shapes: a 3x3 stride-2 valid convolution of 16 px gives 7 px; pooling; 2 classes.
    const shapes = lines.filter((l) => /^ {21}\d/.test(l)).map((l) => l.trim());
    assert.deepEqual(shapes, ['8 x 7 x 7 x 4', '8 x 4', '8 x 2']);
    assert.ok(lines.includes('Total params: 130'));
    assert.ok(lines.includes('Total trainable params: 18'));
    assert.ok(lines.includes('Total non-trainable params: 112'));
    assert.ok(lines.includes('Model frozen up to parameter group #1'));
    assert.match(text, /^Optimizer used: Adam .*lr=0\.001/m);
    assert.match(text, /^Loss function: CrossEntropyLossFlat/m);
    assert.match(text, /Callbacks:\n {2}- TrainEval\n {2}- Recorder\n {2}- Progress$/);

    learn.unfreeze();
    const unfrozen = await learn.summary();
    assert.match(unfrozen, /^Total trainable params: 130$/m);
    assert.match(unfrozen, /^Model unfrozen$/m);

    const noBn = tinyImageLearner(dls, { trainBn: false });
    noBn.freeze();
    const t = await noBn.summary();
    assert.match(t, /^BatchNormalization\s+8\s+False$/m);
    assert.match(t, /^Total trainable params: 10$/m);
  });
});
