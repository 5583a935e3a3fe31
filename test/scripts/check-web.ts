/**
 * `npm run check:web`: fine-tunes MobileNet v1 0.75 briefly on real pet photos (64 px),
 * exports it with `exportForWeb`, serves examples/web and classifies 5 photos in headless
 * Chromium (wasm backend), compared with `learn.predict`. `--screenshot FILE` saves the page
 * after the last photo. The last line is JSON: `{"top1_agree": 5, "photos": 5, "max_prob_diff": ...}`.
 */
import { parseArgs } from 'node:util';
import { ready } from '../../src/backend/ready.js';
import { browserParity, fineTunePets, skipUnlessBrowser } from '../support/web-parity.js';

const { values } = parseArgs({ options: { screenshot: { type: 'string' } } });
const skip = skipUnlessBrowser();
if (skip) {
  console.error(skip);
  process.exit(1);
}
await ready();
const { learn, photos } = await fineTunePets(64);
const r = await browserParity(
  learn,
  photos,
  values.screenshot ? { screenshot: values.screenshot } : {},
);
console.log(
  `page backend ${r.backend}; the page's own decode path: top-1 agrees on ${r.own_decode_top1_agree}/${r.photos}, max prob diff ${r.own_decode_max_prob_diff.toFixed(3)}`,
);
for (const [i, top5] of r.shown.entries()) console.log(`${photos[i]}: ${top5.join(', ')}`);
console.log(
  JSON.stringify({ top1_agree: r.top1_agree, photos: r.photos, max_prob_diff: r.max_prob_diff }),
);
if (r.top1_agree !== r.photos || !(r.max_prob_diff <= 1e-4)) process.exitCode = 1;
