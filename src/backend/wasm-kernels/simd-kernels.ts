/**
 * SIMD kernels written for tsfast (with {@link encodeModule}) that run directly on the wasm
 * backend's heap: the module imports tfjs-backend-wasm's own `WebAssembly.Memory`, so its
 * functions take byte addresses of tensors the backend allocated, read the inputs in place and
 * write into freshly allocated outputs. Products are rounded before they are added, as the cpu
 * backend's scalar float32 loops do, except in the dense filter-gradient kernel where relaxed
 * SIMD's fused multiply-add runs (see {@link useFusedMultiplyAdd}).
 */

import type { HeapBackend } from './heap.js';
import {
  batchNormGradRows,
  colGradSums,
  colShiftedMoments,
  normaliseRows,
  relu6GradFromOutput,
} from './simd-channel-kernels.js';
import {
  encodeModule,
  F32,
  FunctionBuilder,
  I32,
  MEMARG,
  OP,
  SIMD,
  V128,
} from './wasm-assembler.js';

/** The exported functions (all arguments are i32: byte addresses, counts, byte strides). */
export interface SimdKernels {
  /**
   * One tap of a depthwise filter gradient (channel multiplier 1):
   * `acc[c] += sum_{b < n, r < nh, q < nw} x[b*xBatch + r*xRow + q*xCol + c] * g[b*gBatch + r*gRow + q*gCol + c]`
   * for every channel `c` (`cb` bytes of channels; the first `cv` bytes, a multiple of 16, in
   * SIMD, 16 channels at a time up to `c16` bytes, the rest one float at a time). Per `(b, r)`
   * the row's products are summed in registers, in order, then added to `acc`.
   */
  dwFilterTap(
    x: number,
    g: number,
    acc: number,
    n: number,
    nh: number,
    nw: number,
    cv: number,
    cb: number,
    c16: number,
    xBatch: number,
    xRow: number,
    xCol: number,
    gBatch: number,
    gRow: number,
    gCol: number,
  ): void;
  /**
   * Sums the middle axis of `x` viewed as `[a, r, b]` into `out` (`[a, b]`, added to what is
   * there): `out[i, k] += sum_j x[i, j, k]`, rows in order. `bb` is `b` in bytes, `bv` its
   * largest multiple of 16 (done in SIMD).
   */
  sumRows(x: number, out: number, a: number, r: number, bv: number, bb: number): void;
  /** Divides `bb` bytes of floats at `out` by `d` in place (`bv`: the SIMD part). */
  divide(out: number, bv: number, bb: number, d: number): void;
  /**
   * One output row of a max-pool gradient, four channels per instruction (`cb` bytes of
   * channels, a multiple of 16). `x` and `dx` point at column 0 of the first input row inside
   * the windows (`rows` rows, `rowBytes` apart); `g` at the row of the output gradient. For
   * each of the `outW` outputs, the window is columns `[q*sw - padLeft, + fw)` clipped to
   * `[0, inW)`; per channel its first strict maximum (row-major, as the cpu backend) receives
   * the output gradient, added to `dx`. Windows of NaN only receive nothing.
   */
  maxPoolGradRow(
    x: number,
    g: number,
    dx: number,
    outW: number,
    cb: number,
    sw: number,
    padLeft: number,
    inW: number,
    fw: number,
    rows: number,
    rowBytes: number,
  ): void;
  /**
   * Transposes `batch` matrices of `r x c` floats at `x` into `c x r` at `out`, for the rows
   * and columns below `r4` and `c4` (multiples of 4), in 4x4 blocks; the caller does the rest.
   */
  transpose4(
    x: number,
    out: number,
    batch: number,
    r: number,
    c: number,
    r4: number,
    c4: number,
  ): void;
  /**
   * Depth-to-space copy: for each of `rows` input rows of `w` pixels and each block row
   * `i < s`, moves `runBytes` (`s*C` floats) from the input (read in order) to
   * `dst + (row*s + i)*outRowBytes + q*runBytes`.
   */
  depthToSpace(
    src: number,
    dst: number,
    rows: number,
    w: number,
    s: number,
    runBytes: number,
    outRowBytes: number,
  ): void;
  /**
   * Adds one filter row's taps into one row of a depthwise input gradient (multiplier 1):
   * for each tap `j < kw`, with `(q0, nq, iw0)` read as int32 from `table + 12*j`,
   * `dx[(iw0 + t*s)*C + c] += dy[(q0 + t)*C + c] * w[j*C + c]` for `t < nq` and every channel
   * (`cb` bytes, the first `cv` in SIMD). `sC` is `s*C*4`.
   */
  dwInputRow(
    dx: number,
    dy: number,
    w: number,
    table: number,
    kw: number,
    cv: number,
    cb: number,
    sC: number,
  ): void;
  /**
   * One tap of a dense convolution's filter gradient (output channels a multiple of 4):
   * `acc[ci, co] += sum_{b < n, r < nh, q < nw} x[b*xBatch + r*xRow + q*xCol + ci*ciStride] * g[b*gBatch + r*gRow + q*gCol + co]`
   * (`ciStride` in bytes: 4 for channels-last `x`), `cin` input channels, `coutBytes` bytes
   * of output channels (the first `c16` bytes in blocks of 16 channels, the rest 4 at a
   * time), `acc` rows `coutBytes` apart. Per `(b, r, ci)` the row's products are added in
   * order to the running sums. Any product `acc += A^T B` with `A`'s rows `ciStride` apart:
   * also a pointwise convolution's input gradient (`A` = the output gradient's pixels).
   */
  convFilterTap(
    x: number,
    g: number,
    acc: number,
    n: number,
    nh: number,
    nw: number,
    cin: number,
    coutBytes: number,
    c16: number,
    xBatch: number,
    xRow: number,
    xCol: number,
    gBatch: number,
    gRow: number,
    gCol: number,
    ciStride: number,
  ): void;
  /**
   * Adds `sum_r (x[r, c] - shift[c])` to `sum[c]` and its squares to `sumSq[c]`, over `m`
   * rows of `cb` bytes (see simd-channel-kernels.ts).
   */
  colShiftedMoments(
    x: number,
    shift: number,
    sum: number,
    sumSq: number,
    m: number,
    cb: number,
  ): void;
  /** Adds `sum_r dy[r, c]` to `sumDy[c]` and `sum_r dy[r, c] * (x[r, c] - mu[c])` to `sumDyXc[c]`. */
  colGradSums(
    dy: number,
    x: number,
    mu: number,
    sumDy: number,
    sumDyXc: number,
    m: number,
    cb: number,
  ): void;
  /** `out = (x - mu) * scale + shift`, per channel. */
  normaliseRows(
    x: number,
    mu: number,
    scale: number,
    shift: number,
    out: number,
    m: number,
    cb: number,
  ): void;
  /** `out = dy * a + (x - mu) * b + c`, per channel. */
  batchNormGradRows(
    dy: number,
    x: number,
    mu: number,
    a: number,
    b: number,
    c: number,
    out: number,
    m: number,
    cb: number,
  ): void;
  /** `out = dy` where `0 < y < 6`, else 0, over `bb` bytes (`bv`: the SIMD part). */
  relu6GradFromOutput(dy: number, y: number, out: number, bv: number, bb: number): void;
}

function dwFilterTap(): FunctionBuilder {
  const f = new FunctionBuilder(Array(15).fill(I32));
  const [x, g, acc, n, nh, nw, cv, cb, c16, xBatch, xRow, xCol, gBatch, gRow, gCol] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  ] as const;
  const b = f.local(I32);
  const r = f.local(I32);
  const q = f.local(I32);
  const k = f.local(I32);
  const xr = f.local(I32);
  const gr = f.local(I32);
  const xp = f.local(I32);
  const gp = f.local(I32);
  const va = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const sa = f.local(F32);
  const at = (base: number, m: number): void => {
    f.get(base).get(k).op(OP.i32Add);
    if (m > 0) f.i32(m * 16).op(OP.i32Add);
  };
  /** `width` vectors of channels from byte `k`: the row's products summed in registers. */
  const block = (width: number): void => {
    for (let m = 0; m < width; m++) {
      at(acc, m);
      f.simd(SIMD.v128Load, ...MEMARG).set(va[m]!);
    }
    f.get(xr).set(xp).get(gr).set(gp).i32(0).set(q);
    f.whileLess(q, nw, () => {
      for (let m = 0; m < width; m++) {
        f.get(va[m]!);
        at(xp, m);
        f.simd(SIMD.v128Load, ...MEMARG);
        at(gp, m);
        f.simd(SIMD.v128Load, ...MEMARG);
        f.simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set(va[m]!);
      }
      f.inc(xp, { local: xCol }).inc(gp, { local: gCol }).inc(q, 1);
    });
    for (let m = 0; m < width; m++) {
      at(acc, m);
      f.get(va[m]!).simd(SIMD.v128Store, ...MEMARG);
    }
    f.inc(k, width * 16);
  };
  f.i32(0).set(b);
  f.whileLess(b, n, () => {
    f.get(x).get(b).get(xBatch).op(OP.i32Mul, OP.i32Add).set(xr);
    f.get(g).get(b).get(gBatch).op(OP.i32Mul, OP.i32Add).set(gr);
    f.i32(0).set(r);
    f.whileLess(r, nh, () => {
      f.i32(0).set(k);
      f.whileLess(k, c16, () => block(4));
      f.whileLess(k, cv, () => block(1));
      f.whileLess(k, cb, () => {
        at(acc, 0);
        f.op(...OP.f32Load).set(sa);
        f.get(xr).set(xp).get(gr).set(gp).i32(0).set(q);
        f.whileLess(q, nw, () => {
          f.get(sa);
          at(xp, 0);
          f.op(...OP.f32Load);
          at(gp, 0);
          f.op(...OP.f32Load);
          f.op(OP.f32Mul, OP.f32Add).set(sa);
          f.inc(xp, { local: xCol }).inc(gp, { local: gCol }).inc(q, 1);
        });
        at(acc, 0);
        f.get(sa).op(...OP.f32Store);
        f.inc(k, 4);
      });
      f.inc(xr, { local: xRow }).inc(gr, { local: gRow }).inc(r, 1);
    });
    f.inc(b, 1);
  });
  return f;
}

/** The part of the global `WebAssembly` API used here (the project's type libraries omit it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: abstract new (...args: never[]) => object;
}

const WASM = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

function sumRows(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32]);
  const [x, out, a, r, bv, bb] = [0, 1, 2, 3, 4, 5] as const;
  const i = f.local(I32);
  const j = f.local(I32);
  const k = f.local(I32);
  const xp = f.local(I32);
  const o = f.local(I32);
  const addr = (base: number): void => {
    f.get(base).get(k).op(OP.i32Add);
  };
  f.get(x).set(xp).i32(0).set(i);
  f.whileLess(i, a, () => {
    f.get(out).get(i).get(bb).op(OP.i32Mul, OP.i32Add).set(o);
    f.i32(0).set(j);
    f.whileLess(j, r, () => {
      f.i32(0).set(k);
      f.whileLess(k, bv, () => {
        addr(o);
        addr(o);
        f.simd(SIMD.v128Load, ...MEMARG);
        addr(xp);
        f.simd(SIMD.v128Load, ...MEMARG);
        f.simd(SIMD.f32x4Add).simd(SIMD.v128Store, ...MEMARG);
        f.inc(k, 16);
      });
      f.whileLess(k, bb, () => {
        addr(o);
        addr(o);
        f.op(...OP.f32Load);
        addr(xp);
        f.op(...OP.f32Load);
        f.op(OP.f32Add, ...OP.f32Store);
        f.inc(k, 4);
      });
      f.inc(xp, { local: bb }).inc(j, 1);
    });
    f.inc(i, 1);
  });
  return f;
}

function divide(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, F32]);
  const [out, bv, bb, d] = [0, 1, 2, 3] as const;
  const k = f.local(I32);
  const addr = (): void => {
    f.get(out).get(k).op(OP.i32Add);
  };
  f.i32(0).set(k);
  f.whileLess(k, bv, () => {
    addr();
    addr();
    f.simd(SIMD.v128Load, ...MEMARG);
    f.get(d)
      .simd(SIMD.f32x4Splat)
      .simd(SIMD.f32x4Div)
      .simd(SIMD.v128Store, ...MEMARG);
    f.inc(k, 16);
  });
  f.whileLess(k, bb, () => {
    addr();
    addr();
    f.op(...OP.f32Load);
    f.get(d).op(OP.f32Div, ...OP.f32Store);
    f.inc(k, 4);
  });
  return f;
}

function maxPoolGradRow(): FunctionBuilder {
  const f = new FunctionBuilder(Array(11).fill(I32));
  const [x, g, dx, outW, cb, sw, padLeft, inW, fw, rows, rowBytes] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
  ] as const;
  const q = f.local(I32);
  const corner = f.local(I32);
  const c0 = f.local(I32);
  const c1 = f.local(I32);
  const k = f.local(I32);
  const r = f.local(I32);
  const col = f.local(I32);
  const off = f.local(I32);
  const v = f.local(V128);
  const m = f.local(V128);
  const best = f.local(V128);
  const bestOff = f.local(V128);
  const gv = f.local(V128);
  /** `for r < rows, col in [c0, c1)`: `off` = byte offset of the window pixel's channels k. */
  const window = (body: () => void): void => {
    f.i32(0).set(r);
    f.whileLess(r, rows, () => {
      f.get(c0).set(col);
      f.whileLess(col, c1, () => {
        f.get(r).get(rowBytes).op(OP.i32Mul);
        f.get(col).get(cb).op(OP.i32Mul, OP.i32Add);
        f.get(k).op(OP.i32Add).set(off);
        body();
        f.inc(col, 1);
      });
      f.inc(r, 1);
    });
  };
  f.i32(0).set(q);
  f.whileLess(q, outW, () => {
    f.get(q).get(sw).op(OP.i32Mul).get(padLeft).op(OP.i32Sub).set(corner);
    // c0 = max(corner, 0); c1 = min(corner + fw, inW)
    f.get(corner).i32(0).get(corner).i32(0).op(OP.i32GtS, OP.select).set(c0);
    f.get(corner).get(fw).op(OP.i32Add).set(c1);
    f.get(c1).get(inW).get(c1).get(inW).op(OP.i32LtS, OP.select).set(c1);
    f.i32(0).set(k);
    f.whileLess(k, cb, () => {
      f.op(0x43, 0x00, 0x00, 0x80, 0xff).simd(SIMD.f32x4Splat).set(best); // -Infinity
      f.i32(-1).simd(SIMD.i32x4Splat).set(bestOff);
      window(() => {
        f.get(x)
          .get(off)
          .op(OP.i32Add)
          .simd(SIMD.v128Load, ...MEMARG)
          .set(v);
        f.get(v).get(best).simd(SIMD.f32x4Gt).set(m);
        f.get(v).get(best).get(m).simd(SIMD.v128Bitselect).set(best);
        f.get(off).simd(SIMD.i32x4Splat).get(bestOff).get(m).simd(SIMD.v128Bitselect).set(bestOff);
      });
      f.get(g).get(q).get(cb).op(OP.i32Mul, OP.i32Add).get(k).op(OP.i32Add);
      f.simd(SIMD.v128Load, ...MEMARG).set(gv);
      window(() => {
        f.get(dx).get(off).op(OP.i32Add);
        f.get(dx)
          .get(off)
          .op(OP.i32Add)
          .simd(SIMD.v128Load, ...MEMARG);
        f.get(gv).get(bestOff).get(off).simd(SIMD.i32x4Splat).simd(SIMD.i32x4Eq);
        f.simd(SIMD.v128And)
          .simd(SIMD.f32x4Add)
          .simd(SIMD.v128Store, ...MEMARG);
      });
      f.inc(k, 16);
    });
    f.inc(q, 1);
  });
  return f;
}

/** Byte lane indices of an `i8x16.shuffle` picking float lanes (0-3: first, 4-7: second). */
function floatLanes(...lanes: number[]): number[] {
  return lanes.flatMap((l) => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]);
}

function transpose4(): FunctionBuilder {
  const f = new FunctionBuilder(Array(7).fill(I32));
  const [x, out, batch, r, c, r4, c4] = [0, 1, 2, 3, 4, 5, 6] as const;
  const bt = f.local(I32);
  const i = f.local(I32);
  const j = f.local(I32);
  const src = f.local(I32);
  const dst = f.local(I32);
  const rowBytes = f.local(I32);
  const colBytes = f.local(I32);
  const xb = f.local(I32);
  const ob = f.local(I32);
  const v = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const t = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.get(c).i32(4).op(OP.i32Mul).set(rowBytes);
  f.get(r).i32(4).op(OP.i32Mul).set(colBytes);
  f.get(x).set(xb).get(out).set(ob).i32(0).set(bt);
  f.whileLess(bt, batch, () => {
    f.i32(0).set(i);
    f.whileLess(i, r4, () => {
      f.i32(0).set(j);
      f.whileLess(j, c4, () => {
        // src = xb + i*rowBytes + j*4; dst = ob + j*colBytes + i*4
        f.get(xb).get(i).get(rowBytes).op(OP.i32Mul, OP.i32Add).get(j).i32(4);
        f.op(OP.i32Mul, OP.i32Add).set(src);
        f.get(ob).get(j).get(colBytes).op(OP.i32Mul, OP.i32Add).get(i).i32(4);
        f.op(OP.i32Mul, OP.i32Add).set(dst);
        for (let k = 0; k < 4; k++) {
          f.get(src);
          if (k > 0) f.get(rowBytes).i32(k).op(OP.i32Mul, OP.i32Add);
          f.simd(SIMD.v128Load, ...MEMARG).set(v[k]!);
        }
        const shuffle = (a: number, b: number, lanes: number[], into: number): void => {
          f.get(a)
            .get(b)
            .simd(SIMD.i8x16Shuffle, ...floatLanes(...lanes))
            .set(into);
        };
        shuffle(v[0]!, v[1]!, [0, 4, 1, 5], t[0]!);
        shuffle(v[0]!, v[1]!, [2, 6, 3, 7], t[1]!);
        shuffle(v[2]!, v[3]!, [0, 4, 1, 5], t[2]!);
        shuffle(v[2]!, v[3]!, [2, 6, 3, 7], t[3]!);
        shuffle(t[0]!, t[2]!, [0, 1, 4, 5], v[0]!);
        shuffle(t[0]!, t[2]!, [2, 3, 6, 7], v[1]!);
        shuffle(t[1]!, t[3]!, [0, 1, 4, 5], v[2]!);
        shuffle(t[1]!, t[3]!, [2, 3, 6, 7], v[3]!);
        for (let k = 0; k < 4; k++) {
          f.get(dst);
          if (k > 0) f.get(colBytes).i32(k).op(OP.i32Mul, OP.i32Add);
          f.get(v[k]!).simd(SIMD.v128Store, ...MEMARG);
        }
        f.inc(j, 4);
      });
      f.inc(i, 4);
    });
    f.get(r).get(rowBytes).op(OP.i32Mul).set(src); // matrix bytes
    f.inc(xb, { local: src }).inc(ob, { local: src }).inc(bt, 1);
  });
  return f;
}

function convFilterTap(fma: boolean): FunctionBuilder {
  const f = new FunctionBuilder(Array(16).fill(I32));
  const [x, g, acc, n, nh, nw, cin, coutBytes, c16, xBatch, xRow, xCol, gBatch, gRow, gCol] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  ] as const;
  /** Bytes between input channels `ci` and `ci + 1` of `x` (4 for a channels-last tensor). */
  const ciStride = 15;
  const b = f.local(I32);
  const r = f.local(I32);
  const q = f.local(I32);
  const ci = f.local(I32);
  const k = f.local(I32);
  const xr = f.local(I32);
  const gr = f.local(I32);
  const xp = f.local(I32);
  const gp = f.local(I32);
  const row = f.local(I32);
  const cin1 = f.local(I32);
  const sx = f.local(V128);
  const sx2 = f.local(V128);
  const d = f.local(V128);
  const a = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const a2 = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  /** Pushes the address of accumulator vector `m` (of input channel `ci + second`). */
  const accAddr = (m: number, second: boolean): void => {
    f.get(row).get(k).op(OP.i32Add);
    if (second) f.get(coutBytes).op(OP.i32Add);
    if (m > 0) f.i32(m * 16).op(OP.i32Add);
  };
  /**
   * Accumulates `width` vectors of output channels from byte `k` over the row, for input
   * channel `ci` (and `ci + 1` when `pair`: each output-gradient vector is loaded once for
   * both).
   */
  const block = (width: number, pair: boolean): void => {
    const sets = pair ? [a, a2] : [a];
    sets.forEach((acc2, s2) => {
      for (let m = 0; m < width; m++) {
        accAddr(m, s2 === 1);
        f.simd(SIMD.v128Load, ...MEMARG).set(acc2[m]!);
      }
    });
    f.get(xr).get(ci).get(ciStride).op(OP.i32Mul, OP.i32Add).set(xp);
    f.get(gr).get(k).op(OP.i32Add).set(gp);
    f.i32(0).set(q);
    f.whileLess(q, nw, () => {
      f.get(xp)
        .op(...OP.f32Load)
        .simd(SIMD.f32x4Splat)
        .set(sx);
      if (pair) {
        f.get(xp)
          .get(ciStride)
          .op(OP.i32Add, ...OP.f32Load)
          .simd(SIMD.f32x4Splat)
          .set(sx2);
      }
      for (let m = 0; m < width; m++) {
        f.get(gp);
        if (m > 0) f.i32(m * 16).op(OP.i32Add);
        f.simd(SIMD.v128Load, ...MEMARG).set(d);
        if (fma) f.get(sx).get(d).get(a[m]!).simd(RELAXED_MADD).set(a[m]!);
        else f.get(a[m]!).get(sx).get(d).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set(a[m]!);
        if (pair) {
          if (fma) f.get(sx2).get(d).get(a2[m]!).simd(RELAXED_MADD).set(a2[m]!);
          else f.get(a2[m]!).get(sx2).get(d).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set(a2[m]!);
        }
      }
      f.inc(xp, { local: xCol }).inc(gp, { local: gCol }).inc(q, 1);
    });
    sets.forEach((acc2, s2) => {
      for (let m = 0; m < width; m++) {
        accAddr(m, s2 === 1);
        f.get(acc2[m]!).simd(SIMD.v128Store, ...MEMARG);
      }
    });
    f.inc(k, width * 16);
  };
  f.get(cin).i32(1).op(OP.i32Sub).set(cin1);
  f.i32(0).set(b);
  f.whileLess(b, n, () => {
    f.i32(0).set(r);
    f.whileLess(r, nh, () => {
      f.get(x).get(b).get(xBatch).op(OP.i32Mul, OP.i32Add).get(r).get(xRow);
      f.op(OP.i32Mul, OP.i32Add).set(xr);
      f.get(g).get(b).get(gBatch).op(OP.i32Mul, OP.i32Add).get(r).get(gRow);
      f.op(OP.i32Mul, OP.i32Add).set(gr);
      f.i32(0).set(ci);
      // Input channels two at a time, then the last one alone when `cin` is odd.
      f.whileLess(ci, cin1, () => {
        f.get(acc).get(ci).get(coutBytes).op(OP.i32Mul, OP.i32Add).set(row);
        f.i32(0).set(k);
        f.whileLess(k, c16, () => block(4, true));
        f.whileLess(k, coutBytes, () => block(1, true));
        f.inc(ci, 2);
      });
      f.whileLess(ci, cin, () => {
        f.get(acc).get(ci).get(coutBytes).op(OP.i32Mul, OP.i32Add).set(row);
        f.i32(0).set(k);
        f.whileLess(k, c16, () => block(4, false));
        f.whileLess(k, coutBytes, () => block(1, false));
        f.inc(ci, 1);
      });
      f.inc(r, 1);
    });
    f.inc(b, 1);
  });
  return f;
}

function depthToSpace(): FunctionBuilder {
  const f = new FunctionBuilder(Array(7).fill(I32));
  const [src, dst, rows, w, s, runBytes, outRowBytes] = [0, 1, 2, 3, 4, 5, 6] as const;
  const a = f.local(I32);
  const q = f.local(I32);
  const i = f.local(I32);
  const sp = f.local(I32);
  const rowBase = f.local(I32);
  f.get(src).set(sp).i32(0).set(a);
  f.whileLess(a, rows, () => {
    f.get(dst).get(a).get(s).op(OP.i32Mul).get(outRowBytes).op(OP.i32Mul, OP.i32Add).set(rowBase);
    f.i32(0).set(q);
    f.whileLess(q, w, () => {
      f.i32(0).set(i);
      f.whileLess(i, s, () => {
        // memory.copy(rowBase + i*outRowBytes + q*runBytes, sp, runBytes)
        f.get(rowBase).get(i).get(outRowBytes).op(OP.i32Mul, OP.i32Add);
        f.get(q).get(runBytes).op(OP.i32Mul, OP.i32Add);
        f.get(sp).get(runBytes).op(0xfc, 0x0a, 0x00, 0x00);
        f.inc(sp, { local: runBytes }).inc(i, 1);
      });
      f.inc(q, 1);
    });
    f.inc(a, 1);
  });
  return f;
}

function dwInputRow(): FunctionBuilder {
  const f = new FunctionBuilder(Array(8).fill(I32));
  const [dx, dy, w, table, kw, cv, cb, sC] = [0, 1, 2, 3, 4, 5, 6, 7] as const;
  const j = f.local(I32);
  const t = f.local(I32);
  const nq = f.local(I32);
  const k = f.local(I32);
  const dxp = f.local(I32);
  const dyp = f.local(I32);
  const wp = f.local(I32);
  const entry = f.local(I32);
  const addr = (base: number): void => {
    f.get(base).get(k).op(OP.i32Add);
  };
  f.i32(0).set(j);
  f.whileLess(j, kw, () => {
    f.get(table).get(j).i32(12).op(OP.i32Mul, OP.i32Add).set(entry);
    // dyp = dy + q0*cb; nq; dxp = dx + iw0*cb; wp = w + j*cb
    f.get(dy).get(entry).op(OP.i32Load, 2, 0).get(cb).op(OP.i32Mul, OP.i32Add).set(dyp);
    f.get(entry).op(OP.i32Load, 2, 4).set(nq);
    f.get(dx).get(entry).op(OP.i32Load, 2, 8).get(cb).op(OP.i32Mul, OP.i32Add).set(dxp);
    f.get(w).get(j).get(cb).op(OP.i32Mul, OP.i32Add).set(wp);
    f.i32(0).set(t);
    f.whileLess(t, nq, () => {
      f.i32(0).set(k);
      f.whileLess(k, cv, () => {
        addr(dxp);
        addr(dxp);
        f.simd(SIMD.v128Load, ...MEMARG);
        addr(dyp);
        f.simd(SIMD.v128Load, ...MEMARG);
        addr(wp);
        f.simd(SIMD.v128Load, ...MEMARG);
        f.simd(SIMD.f32x4Mul)
          .simd(SIMD.f32x4Add)
          .simd(SIMD.v128Store, ...MEMARG);
        f.inc(k, 16);
      });
      f.whileLess(k, cb, () => {
        addr(dxp);
        addr(dxp);
        f.op(...OP.f32Load);
        addr(dyp);
        f.op(...OP.f32Load);
        addr(wp);
        f.op(...OP.f32Load);
        f.op(OP.f32Mul, OP.f32Add, ...OP.f32Store);
        f.inc(k, 4);
      });
      f.inc(dxp, { local: sC }).inc(dyp, { local: cb }).inc(t, 1);
    });
    f.inc(j, 1);
  });
  return f;
}

/** `f32x4.relaxed_madd` (relaxed SIMD): `a * b + c`, one fused instruction where the CPU has FMA. */
const RELAXED_MADD = 0x105;

/** Environment variable that turns the fused multiply-add off (`0`). */
export const WASM_FMA_ENV_VAR = 'TSFAST_WASM_FMA';

let fmaChoice: boolean | undefined;

function relaxedSimdValidates(): boolean {
  const f = new FunctionBuilder([V128, V128, V128], [V128]);
  f.get(0).get(1).get(2).simd(RELAXED_MADD);
  return WASM?.validate(encodeModule({ probe: f })) === true;
}

/**
 * Whether tsfast's SIMD module multiplies and adds in one instruction (relaxed SIMD's
 * `f32x4.relaxed_madd`): the dense filter-gradient kernel is bound by its multiplies and adds,
 * and runs ~25 % faster fused (MobileNet v1 0.75's pointwise filter gradients at 224 px,
 * batch 16: 276 -> 220 CPU ms). Node 22+ (V8 11.4+) has relaxed SIMD; Node 20's V8 has it
 * behind `--experimental-wasm-relaxed-simd`, which is set here for the process (it only adds
 * instructions to WebAssembly). `TSFAST_WASM_FMA=0` keeps separate multiplies and adds, whose
 * products are rounded before they are added, as the cpu backend's loops round them. Decided
 * once per process.
 * @returns `true` when the module uses fused multiply-adds.
 * @internal
 */
export function useFusedMultiplyAdd(): boolean {
  if (fmaChoice !== undefined) return fmaChoice;
  fmaChoice = false;
  if (WASM === undefined || globalThis.process?.env?.[WASM_FMA_ENV_VAR] === '0') return fmaChoice;
  if (!relaxedSimdValidates()) {
    const node = globalThis.process as
      | { getBuiltinModule?: (id: string) => { setFlagsFromString?(flags: string): void } }
      | undefined;
    node?.getBuiltinModule?.('node:v8')?.setFlagsFromString?.('--experimental-wasm-relaxed-simd');
  }
  fmaChoice = relaxedSimdValidates();
  return fmaChoice;
}

const moduleBytes = new Map<boolean, Uint8Array>();
let compiled: object | null | undefined;
const instances = new WeakMap<object, SimdKernels>();

/**
 * The bytes of tsfast's SIMD module.
 * @param fma - Fused multiply-adds in the filter-gradient kernel (relaxed SIMD); by default
 *   {@link useFusedMultiplyAdd}'s choice.
 * @internal
 */
export function simdModuleBytes(fma = useFusedMultiplyAdd()): Uint8Array {
  const cached = moduleBytes.get(fma);
  if (cached) return cached;
  const bytes = encodeModule({
    dwFilterTap: dwFilterTap(),
    sumRows: sumRows(),
    divide: divide(),
    maxPoolGradRow: maxPoolGradRow(),
    transpose4: transpose4(),
    convFilterTap: convFilterTap(fma),
    depthToSpace: depthToSpace(),
    dwInputRow: dwInputRow(),
    colShiftedMoments: colShiftedMoments(),
    colGradSums: colGradSums(),
    normaliseRows: normaliseRows(),
    batchNormGradRows: batchNormGradRows(),
    relu6GradFromOutput: relu6GradFromOutput(),
  });
  moduleBytes.set(fma, bytes);
  return bytes;
}

function wasmMemory(backend: HeapBackend): object | undefined {
  const mod = backend.wasm as unknown as {
    asm?: { memory?: unknown };
    wasmMemory?: unknown;
  };
  const memory = mod.asm?.memory ?? mod.wasmMemory;
  return WASM !== undefined && memory instanceof WASM.Memory ? memory : undefined;
}

/**
 * tsfast's SIMD kernels bound to the wasm backend's memory, or `undefined` where they cannot
 * run (no WebAssembly SIMD in this engine, or a tfjs-backend-wasm build that does not expose
 * its memory); callers then use their tensor-op formulation.
 *
 * @param backend - The wasm backend.
 * @returns The kernels, instantiated once per memory.
 * @internal
 */
export function simdKernels(backend: HeapBackend): SimdKernels | undefined {
  const memory = wasmMemory(backend);
  if (memory === undefined || WASM === undefined) return undefined;
  const cached = instances.get(memory);
  if (cached) return cached;
  if (compiled === undefined) {
    const bytes = simdModuleBytes();
    compiled = WASM.validate(bytes) ? new WASM.Module(bytes) : null;
  }
  if (compiled === null) return undefined;
  const instance = new WASM.Instance(compiled, { env: { memory } });
  const kernels = instance.exports as unknown as SimdKernels;
  instances.set(memory, kernels);
  return kernels;
}
