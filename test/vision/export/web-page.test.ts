/**
 * The example web page in headless Chromium (wasm backend) classifies real pet photos with a
 * model fine-tuned by tsfast exactly as `learn.predict` does in Node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ready } from '../../../src/backend/ready.js';
import { browserParity, fineTunePets, skipUnlessBrowser } from '../../support/web-parity.js';

describe('examples/web in Chromium', { skip: skipUnlessBrowser() }, () => {
  it('same top-1 for 5 real photos, probabilities within 1e-4 of learn.predict', async () => {
    await ready();
    const { learn, photos } = await fineTunePets(64);
    try {
      const r = await browserParity(learn, photos);
      console.log(JSON.stringify(r));
      assert.equal(r.backend, 'wasm');
      assert.equal(r.photos, 5);
      assert.equal(r.top1_agree, 5);
      assert.ok(r.max_prob_diff <= 1e-4, `max prob diff ${r.max_prob_diff}`);
      // The page's own decode and canvas resize differ from sharp's by a few grey levels:
      // it must still classify every file, and agree with tsfast on most.
      for (const shown of r.shown) assert.equal(shown.length, 5, 'the page shows a top 5');
      assert.ok(r.own_decode_top1_agree >= 4, `own decode agrees on ${r.own_decode_top1_agree}/5`);
      assert.ok(r.own_decode_pixel_mae < 8, `own decode pixels off by ${r.own_decode_pixel_mae}`);
    } finally {
      learn.model.dispose();
    }
  });
});
