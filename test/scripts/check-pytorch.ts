/**
 * `npm run check:pytorch`: exports ResNet-18, MobileNet v1 0.75 and MobileNet v2 1.0, each
 * with fastai's head (random weights and BatchNorm statistics, 64 px input), with
 * `exportSafetensors`, loads each into examples/pytorch/tsfast_models.py's model under
 * Debian's PyTorch (strict) and compares logits. The last line is JSON:
 * `{"resnet18_max_logit_diff": ..., "mobilenet_v1_max_logit_diff": ..., "mobilenet_v2_max_logit_diff": ...}`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ready } from '../../src/backend/ready.js';
import { skipUnlessTorch, torchRoundTrip } from '../support/torch-roundtrip.js';

const skip = skipUnlessTorch();
if (skip) {
  console.error(skip);
  process.exit(1);
}
await ready();
const work = await mkdtemp(join(tmpdir(), 'tsfast-check-pytorch-'));
try {
  const result: Record<string, number> = {};
  for (const [arch, key, naming] of [
    ['resnet18', 'resnet18', 'torchvision'],
    ['mobilenet_v1_0.75', 'mobilenet_v1', 'fastai'],
    ['mobilenet_v2_1', 'mobilenet_v2', 'torchvision'],
  ] as const) {
    const r = await torchRoundTrip(arch, naming, work);
    console.log(
      `${arch} (${naming} naming, ${r.keys} tensors): max |torch - tsfast| logit ${r.maxLogitDiff.toExponential(2)}, |logits| up to ${r.logitRange.toFixed(2)}`,
    );
    result[`${key}_max_logit_diff`] = r.maxLogitDiff;
  }
  console.log(JSON.stringify(result));
  if (Object.values(result).some((d) => !(d <= 1e-4))) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
