import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataError } from '../../../src/core/errors.js';
import { parseSafetensors } from '../../../src/vision/models/safetensors.js';

// A file with a hand-written header followed by `data`: the cases a crafted file would use.
function withHeader(header: unknown, data: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);

describe('safetensors headers are validated field by field', () => {
  it('reads a well-formed header (the reference for the cases below)', () => {
    const { tensors } = parseSafetensors(
      withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32([1.5, -2])),
      'ok.safetensors',
    );
    assert.deepEqual(Array.from(tensors.get('w')?.data ?? []), [1.5, -2]);
  });

  const cases: [string, unknown, RegExp][] = [
    ['a null header', null, /header is not a JSON object/],
    ['an array header', [1, 2], /header is not a JSON object/],
    ['a null tensor entry', { w: null }, /tensor "w": the entry is null, not an object/],
    [
      'negative data_offsets (reading the header itself)',
      { w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } },
      /tensor "w": data_offsets \[-8,0\] is not a pair of non-negative integers/,
    ],
    [
      'a negative dimension',
      { w: { dtype: 'F32', shape: [-2, -1], data_offsets: [0, 8] } },
      /tensor "w": shape \[-2,-1\] is not a list of non-negative integers/,
    ],
    [
      'a fractional dimension',
      { w: { dtype: 'F32', shape: [0.5, 4], data_offsets: [0, 8] } },
      /shape \[0.5,4\]/,
    ],
    ['missing data_offsets', { w: { dtype: 'F32', shape: [2] } }, /data_offsets undefined/],
    [
      'a reversed range',
      { w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } },
      /byte range \[8, 0\)/,
    ],
    [
      'a range past the data',
      { w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      /byte range \[4, 12\).*8 bytes after the header/,
    ],
    ['an unknown dtype', { w: { dtype: 'F8', shape: [2], data_offsets: [0, 8] } }, /"F8"/],
    ['a non-string dtype', { w: { dtype: null, shape: [2], data_offsets: [0, 8] } }, /dtype null/],
    ['metadata that is not strings', { __metadata__: { a: 1 } }, /__metadata__/],
  ];
  for (const [what, header, pattern] of cases) {
    it(`refuses ${what} with a DataError naming the file`, () => {
      assert.throws(
        () => parseSafetensors(withHeader(header, f32([1, 2])), 'crafted.safetensors'),
        (e: unknown) =>
          e instanceof DataError &&
          e.message.includes('"crafted.safetensors"') &&
          pattern.test(e.message),
      );
    });
  }

  it('a right-sized tensor holding NaN or Inf is reported, naming it', () => {
    const file = withHeader(
      {
        ok: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      f32([1, Number.NaN, Number.POSITIVE_INFINITY]),
    );
    assert.throws(
      () => parseSafetensors(file, 'nan.safetensors'),
      (e: unknown) =>
        e instanceof DataError &&
        /"nan.safetensors": 1 tensor\(s\) hold NaN or infinite values: "w" \(2 of 2 values\)/.test(
          e.message,
        ),
    );
  });

  it('accepts a null __metadata__ as empty', () => {
    const st = parseSafetensors(withHeader({ __metadata__: null }), 'm.safetensors');
    assert.deepEqual(st.metadata, {});
    assert.equal(st.tensors.size, 0);
  });
});
