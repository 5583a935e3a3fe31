/**
 * SIMD function bodies for per-channel work on a `[rows, C]` view of a channels-last tensor
 * (BatchNorm's statistics, its normalisation and backward, ReLU6's backward), each one pass
 * over its full-size inputs. They are part of tsfast's SIMD module (simd-kernels.ts); every
 * address is a byte address in the wasm backend's heap, `cb` is `C * 4` (a multiple of 16).
 *
 * Column sums are two-level: 64 rows summed in registers, then added to the running total,
 * so float32 rounding grows with 64 + rows / 64 additions, not with the rows (200,000 in a
 * MobileNet layer at 224 px).
 */
import { F32, FunctionBuilder, I32, MEMARG, OP, SIMD, V128 } from './wasm-assembler.js';

/** Rows summed in registers before they join the running total. */
const CHUNK_ROWS = 64;

const SUB = 0xe5;
const LT = 0x43;
const GT = 0x44;
const F32_CONST = 0x43;

/** Little-endian bytes of a float32 constant. */
function f32Bytes(value: number): number[] {
  return [...new Uint8Array(new Float32Array([value]).buffer)];
}

/** One V128 scratch local per function, made on first use. */
const SCRATCH = {
  map: new WeakMap<FunctionBuilder, number>(),
  get(f: FunctionBuilder): number {
    let l = this.map.get(f);
    if (l === undefined) {
      l = f.local(V128);
      this.map.set(f, l);
    }
    return l;
  },
};

/**
 * What a column reduction adds per row: given the loaded input vectors (by input index) and
 * the channel block's mean vector, pushes one value per output onto the running parts.
 */
type RowTerm = (
  f: FunctionBuilder,
  load: (input: number) => void,
  mu: number | undefined,
  part: (output: number) => number,
) => void;

/**
 * Builds `(in..., [mu], out..., m, cb)`: per channel, `out_o[c] += sum over rows of term_o`
 * (the caller zeroes `out`). Rows go in chunks of {@link CHUNK_ROWS}, outermost, so a chunk
 * (a few KB per input) stays in cache while every block of channels is summed over it in
 * registers (`widths[0]` vectors of 16 bytes at a time while they fit, then narrower); each
 * chunk's sums are then added to `out`. Each input is read from memory once.
 */
function columnReduce(
  inputs: number,
  withMean: boolean,
  outputs: number,
  widths: readonly number[],
  term: RowTerm,
): FunctionBuilder {
  const nParams = inputs + (withMean ? 1 : 0) + outputs + 2;
  const f = new FunctionBuilder(Array(nParams).fill(I32));
  const muParam = inputs;
  const outParam = (o: number) => inputs + (withMean ? 1 : 0) + o;
  const m = nParams - 2;
  const cb = nParams - 1;
  const k = f.local(I32);
  const r = f.local(I32);
  const r0 = f.local(I32);
  const end = f.local(I32);
  const limit = f.local(I32);
  const base = f.local(I32);
  const ptr = Array.from({ length: inputs }, () => f.local(I32));
  const maxW = Math.max(...widths);
  const mus = Array.from({ length: maxW }, () => f.local(V128));
  const parts = Array.from({ length: outputs * maxW }, () => f.local(V128));
  f.i32(0).set(r0);
  f.i32(0).set(base);
  f.whileLess(r0, m, () => {
    // end = min(r0 + CHUNK_ROWS, m)
    f.get(r0).i32(CHUNK_ROWS).op(OP.i32Add).set(end);
    f.get(m).get(end).get(end).get(m).op(OP.i32GtS, OP.select).set(end);
    f.i32(0).set(k);
    for (const w of widths) {
      // Blocks of `w` vectors while k + 16w <= cb, i.e. k < cb - 16(w - 1).
      f.get(cb)
        .i32(16 * (w - 1))
        .op(OP.i32Sub)
        .set(limit);
      f.whileLess(k, limit, () => {
        if (withMean) {
          for (let j = 0; j < w; j++) {
            f.get(muParam).get(k).op(OP.i32Add);
            if (j > 0) f.i32(16 * j).op(OP.i32Add);
            f.simd(SIMD.v128Load, ...MEMARG).set(mus[j]!);
          }
        }
        for (let o = 0; o < outputs; o++) {
          for (let j = 0; j < w; j++) {
            f.op(F32_CONST, ...f32Bytes(0))
              .simd(SIMD.f32x4Splat)
              .set(parts[o * maxW + j]!);
          }
        }
        for (let i = 0; i < inputs; i++) {
          f.get(i).get(base).op(OP.i32Add).get(k).op(OP.i32Add).set(ptr[i]!);
        }
        f.get(r0).set(r);
        f.whileLess(r, end, () => {
          for (let j = 0; j < w; j++) {
            const load = (i: number): void => {
              f.get(ptr[i]!);
              if (j > 0) f.i32(16 * j).op(OP.i32Add);
              f.simd(SIMD.v128Load, ...MEMARG);
            };
            term(f, load, withMean ? mus[j] : undefined, (o) => parts[o * maxW + j]!);
          }
          for (let i = 0; i < inputs; i++) f.inc(ptr[i]!, { local: cb });
          f.inc(r, 1);
        });
        for (let o = 0; o < outputs; o++) {
          for (let j = 0; j < w; j++) {
            f.get(outParam(o)).get(k).op(OP.i32Add);
            if (j > 0) f.i32(16 * j).op(OP.i32Add);
            f.get(outParam(o)).get(k).op(OP.i32Add);
            if (j > 0) f.i32(16 * j).op(OP.i32Add);
            f.simd(SIMD.v128Load, ...MEMARG);
            f.get(parts[o * maxW + j]!)
              .simd(SIMD.f32x4Add)
              .simd(SIMD.v128Store, ...MEMARG);
          }
        }
        f.inc(k, 16 * w);
      });
    }
    // base += (end - r0) * cb; r0 = end
    f.get(base).get(end).get(r0).op(OP.i32Sub).get(cb).op(OP.i32Mul, OP.i32Add).set(base);
    f.get(end).set(r0);
  });
  return f;
}

/**
 * `(x, shift, sum, sumSq, m, cb)`: `sum[c] += sum_r (x[r, c] - shift[c])` and
 * `sumSq[c] += sum_r (x[r, c] - shift[c])^2` in one pass. With `shift` close to the mean
 * (e.g. the first row), the variance `(sumSq - sum^2 / m) / m` keeps its precision.
 * @internal
 */
export function colShiftedMoments(): FunctionBuilder {
  return columnReduce(1, true, 2, [2, 1], (f, load, mu, part) => {
    const d = SCRATCH.get(f)!;
    load(0);
    f.get(mu!).simd(SUB).set(d);
    f.get(part(0)).get(d).simd(SIMD.f32x4Add).set(part(0));
    f.get(part(1)).get(d).get(d).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set(part(1));
  });
}

/**
 * `(dy, x, mu, sumDy, sumDyXc, m, cb)`: adds `sum_r dy` and `sum_r dy * (x - mu)` per channel.
 * @internal
 */
export function colGradSums(): FunctionBuilder {
  return columnReduce(2, true, 2, [2, 1], (f, load, mu, part) => {
    const d = SCRATCH.get(f)!;
    load(0);
    f.set(d);
    f.get(part(0)).get(d).simd(SIMD.f32x4Add).set(part(0));
    f.get(part(1)).get(d);
    load(1);
    f.get(mu!).simd(SUB).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set(part(1));
  });
}

/**
 * Builds `(in..., params..., out, m, cb)`: per row and 16-byte block of channels, loads the
 * inputs' vectors and the per-channel parameters' vectors and lets `body` push the output.
 */
function rowMap(
  inputs: number,
  params: number,
  body: (f: FunctionBuilder, input: (i: number) => void, param: (p: number) => void) => void,
): FunctionBuilder {
  const n = inputs + params + 3;
  const f = new FunctionBuilder(Array(n).fill(I32));
  const out = inputs + params;
  const m = n - 2;
  const cb = n - 1;
  const r = f.local(I32);
  const k = f.local(I32);
  const row = f.local(I32);
  f.i32(0).set(row);
  f.i32(0).set(r);
  f.whileLess(r, m, () => {
    f.i32(0).set(k);
    f.whileLess(k, cb, () => {
      f.get(out).get(row).op(OP.i32Add).get(k).op(OP.i32Add);
      body(
        f,
        (i) => {
          f.get(i).get(row).op(OP.i32Add).get(k).op(OP.i32Add);
          f.simd(SIMD.v128Load, ...MEMARG);
        },
        (p) => {
          f.get(inputs + p)
            .get(k)
            .op(OP.i32Add);
          f.simd(SIMD.v128Load, ...MEMARG);
        },
      );
      f.simd(SIMD.v128Store, ...MEMARG);
      f.inc(k, 16);
    });
    f.inc(row, { local: cb }).inc(r, 1);
  });
  return f;
}

/**
 * `(x, mu, scale, shift, out, m, cb)`: `out = (x - mu) * scale + shift` per channel.
 * @internal
 */
export function normaliseRows(): FunctionBuilder {
  return rowMap(1, 3, (f, input, param) => {
    input(0);
    param(0);
    f.simd(SUB);
    param(1);
    f.simd(SIMD.f32x4Mul);
    param(2);
    f.simd(SIMD.f32x4Add);
  });
}

/**
 * `(dy, x, mu, a, b, c, out, m, cb)`: `out = dy * a + (x - mu) * b + c` per channel.
 * @internal
 */
export function batchNormGradRows(): FunctionBuilder {
  return rowMap(2, 4, (f, input, param) => {
    input(0);
    param(1);
    f.simd(SIMD.f32x4Mul);
    input(1);
    param(0);
    f.simd(SUB);
    param(2);
    f.simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add);
    param(3);
    f.simd(SIMD.f32x4Add);
  });
}

/**
 * `(dy, y, out, bv, bb)`: ReLU6's gradient from its output, `out = dy` where `0 < y < 6`,
 * else `0` (PyTorch's `hardtanh_backward`), over `bb` bytes (the first `bv` in SIMD).
 * @internal
 */
export function relu6GradFromOutput(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32]);
  const [dy, y, out, bv, bb] = [0, 1, 2, 3, 4] as const;
  const k = f.local(I32);
  const yv = f.local(V128);
  const ys = f.local(F32);
  const zero = f.local(V128);
  const six = f.local(V128);
  f.op(F32_CONST, ...f32Bytes(0))
    .simd(SIMD.f32x4Splat)
    .set(zero);
  f.op(F32_CONST, ...f32Bytes(6))
    .simd(SIMD.f32x4Splat)
    .set(six);
  const at = (base: number): void => {
    f.get(base).get(k).op(OP.i32Add);
  };
  f.i32(0).set(k);
  f.whileLess(k, bv, () => {
    at(out);
    at(y);
    f.simd(SIMD.v128Load, ...MEMARG).set(yv);
    at(dy);
    f.simd(SIMD.v128Load, ...MEMARG);
    f.get(yv).get(zero).simd(GT).simd(SIMD.v128And);
    f.get(yv).get(six).simd(LT).simd(SIMD.v128And);
    f.simd(SIMD.v128Store, ...MEMARG);
    f.inc(k, 16);
  });
  f.whileLess(k, bb, () => {
    at(out);
    at(y);
    f.op(...OP.f32Load).set(ys);
    // select(dy, 0, 0 < y && y < 6)
    at(dy);
    f.op(...OP.f32Load);
    f.op(F32_CONST, ...f32Bytes(0));
    f.get(ys)
      .op(F32_CONST, ...f32Bytes(0))
      .op(OP.f32Gt);
    f.op(F32_CONST, ...f32Bytes(6))
      .get(ys)
      .op(OP.f32Gt);
    f.op(0x71); // i32.and
    f.op(OP.select, ...OP.f32Store);
    f.inc(k, 4);
  });
  return f;
}
