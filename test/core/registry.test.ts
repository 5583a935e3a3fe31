import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataError, TsfastError, ValueError } from '../../src/core/errors.js';
import {
  fromRegistry,
  isRegistered,
  registeredNames,
  registerSerializable,
} from '../../src/core/registry.js';
import { imagenetStats, type JsonObject } from '../../src/data/batch.js';
import { Normalize } from '../../src/data/normalize.js';
import { transformFromConfig } from '../../src/data/registry.js';
import {
  CrossEntropyLossFlat,
  FocalLossFlat,
  type Loss,
  lossFromConfig,
} from '../../src/learner/losses.js';
import { expectConfigRoundTrip } from '../../src/testing/config-round-trip.js';
import { Resize } from '../../src/vision/image/resize.js';

describe('the serialization registry', () => {
  it('keeps one namespace per kind, refuses a duplicate, and lists the names on a miss', () => {
    registerSerializable('transform', 'RegistryTestTfm', (cfg: { k: number }) => cfg.k * 2);
    assert.equal(isRegistered('transform', 'RegistryTestTfm'), true);
    assert.equal(isRegistered('loss', 'RegistryTestTfm'), false);
    assert.equal(fromRegistry('transform', 'RegistryTestTfm', { k: 21 }, 'unused'), 42);
    assert.throws(
      () => registerSerializable('transform', 'RegistryTestTfm', () => 0),
      (err: unknown) =>
        err instanceof ValueError && err.message.includes('key transform:tsfast>RegistryTestTfm'),
    );
    assert.ok(registeredNames('loss').includes('FocalLossFlat'));
    assert.throws(
      () => fromRegistry('loss', 'NoSuchLoss', {}, 'Call registerLoss("NoSuchLoss", cls)'),
      (err: unknown) =>
        err instanceof DataError &&
        /Unknown loss "NoSuchLoss". Registered: .*CrossEntropyLossFlat/.test(err.message) &&
        err.message.includes('registerLoss'),
    );
  });

  it('transforms and losses survive the config round trip through JSON', () => {
    expectConfigRoundTrip(Normalize.fromStats(imagenetStats), transformFromConfig);
    expectConfigRoundTrip(Resize(224, { method: 'squish' }), transformFromConfig);
    const rebuildLoss = (name: string) => (cfg: JsonObject) => lossFromConfig(name, cfg) as Loss;
    const focal = expectConfigRoundTrip(
      new FocalLossFlat({ gamma: 3 }) as Loss,
      rebuildLoss('FocalLossFlat'),
    );
    assert.equal((focal as FocalLossFlat).gamma, 3);
    expectConfigRoundTrip(new CrossEntropyLossFlat() as Loss, rebuildLoss('CrossEntropyLossFlat'));
  });

  it('the round-trip check fails when the rebuilt object differs or the config is not JSON', () => {
    const lossy = { toConfig: () => ({ size: 3 }) };
    assert.throws(
      () => expectConfigRoundTrip(lossy, () => ({ toConfig: () => ({ size: 4 }) })),
      (err: unknown) => err instanceof TsfastError && /before: \{"size":3\}/.test(err.message),
    );
    const notJson = { toConfig: () => ({ when: new Date(0) }) };
    assert.throws(() => expectConfigRoundTrip(notJson, () => notJson), /not plain JSON/);
  });
});
