import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataError } from '../../../src/core/errors.js';
import { parseSafetensors } from '../../../src/vision/models/safetensors.js';
import { encodeSafetensors } from './safetensors-encode.js';

describe('safetensors', () => {
  it('reads F32, F16, BF16 and I64 tensors with their shapes and metadata', () => {
    const f32 = Buffer.alloc(6 * 4);
    [1.5, -2, 0, 3.25, 1e-3, -7].forEach((v, i) => {
      f32.writeFloatLE(v, i * 4);
    });
    // 1.0, -2.0, 0.5 in IEEE half precision; 1.0 and -3.0 as bfloat16 (top half of float32).
    const f16 = Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x3800]).buffer);
    const bf16 = Buffer.from(new Uint16Array([0x3f80, 0xc040]).buffer);
    const i64 = Buffer.alloc(8);
    i64.writeBigInt64LE(42n);
    const st = parseSafetensors(
      encodeSafetensors({
        w: { dtype: 'F32', shape: [2, 3], bytes: f32 },
        h: { dtype: 'F16', shape: [3], bytes: f16 },
        b: { dtype: 'BF16', shape: [2], bytes: bf16 },
        n: { dtype: 'I64', shape: [], bytes: i64 },
      }),
      'mem',
    );
    assert.deepEqual(st.metadata, { format: 'pt' });
    assert.deepEqual(st.tensors.get('w')?.shape, [2, 3]);
    assert.deepEqual(
      [...(st.tensors.get('w')?.data ?? [])],
      [1.5, -2, 0, 3.25, Math.fround(1e-3), -7],
    );
    assert.deepEqual([...(st.tensors.get('h')?.data ?? [])], [1, -2, 0.5]);
    assert.deepEqual([...(st.tensors.get('b')?.data ?? [])], [1, -3]);
    assert.deepEqual([...(st.tensors.get('n')?.data ?? [])], [42]);
  });

  it('rejects truncated files and byte ranges that do not fit the shape, naming the tensor', () => {
    const good = encodeSafetensors({ w: { dtype: 'F32', shape: [4], bytes: Buffer.alloc(16) } });
    assert.throws(
      () => parseSafetensors(good.subarray(0, good.length - 4), 'cut.safetensors'),
      (err: Error) => {
        assert.ok(err instanceof DataError);
        assert.match(err.message, /"cut\.safetensors", tensor "w".*truncated/);
        return true;
      },
    );
    const wrong = encodeSafetensors({ w: { dtype: 'F32', shape: [5], bytes: Buffer.alloc(16) } });
    assert.throws(() => parseSafetensors(wrong, 'x'), /tensor "w": byte range/);
    assert.throws(() => parseSafetensors(Buffer.from('not a file at all'), 'junk'), DataError);
  });
});
