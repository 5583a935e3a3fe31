/**
 * A minimal WebAssembly binary writer: just enough to build small SIMD kernels that run on the
 * wasm backend's own linear memory (imported as `env.memory`). tfjs-backend-wasm runs its
 * kernels in one compiled module; a gradient it has no fast kernel for would otherwise be a
 * JavaScript loop (~2.5 ns per multiply-add here, scalar) or a chain of generic kernels. A
 * 128-bit SIMD loop over the same heap does four lanes per instruction, with no copies.
 *
 * Only the few instructions the kernels use are encoded (opcodes from the WebAssembly core and
 * SIMD specifications); `WebAssembly.validate` checks every module built here.
 */

/** Value types. @internal */
export const I32 = 0x7f;
/** @internal */
export const F32 = 0x7d;
/** @internal */
export const V128 = 0x7b;

/** Unsigned LEB128. @internal */
export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (32-bit). @internal */
export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/**
 * Builds one function body. Locals are numbered after the parameters; every emitter appends to
 * the body and returns `this`, so code reads top to bottom.
 * @internal
 */
export class FunctionBuilder {
  /** The encoded instructions. */
  readonly code: number[] = [];
  /** Types of the declared locals (after the parameters). */
  readonly localTypes: number[] = [];

  /**
   * @param params - Parameter types.
   * @param results - Result types.
   */
  constructor(
    readonly params: number[],
    readonly results: number[] = [],
  ) {}

  /** Declares a local and returns its index. */
  local(type: number): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  /** Appends raw bytes. */
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  /** A SIMD-prefixed instruction. */
  simd(opcode: number, ...immediates: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...immediates);
  }

  get(index: number): this {
    return this.op(0x20, ...uleb(index));
  }

  set(index: number): this {
    return this.op(0x21, ...uleb(index));
  }

  i32(value: number): this {
    return this.op(0x41, ...sleb(value));
  }

  /** `local[index] += step`. */
  inc(index: number, step: number | { local: number }): this {
    this.get(index);
    if (typeof step === 'number') this.i32(step);
    else this.get(step.local);
    return this.op(0x6a).set(index);
  }

  /**
   * `while (local[counter] < limit) { body }` (signed compare). The counter is not reset or
   * advanced here: the body advances it.
   */
  whileLess(counter: number, limit: number, body: () => void): this {
    this.op(0x02, 0x40, 0x03, 0x40); // block, loop
    this.get(counter).get(limit).op(0x4e, 0x0d, 1); // i32.ge_s; br_if 1 (leave)
    body();
    this.op(0x0c, 0, 0x0b, 0x0b); // br 0 (repeat); end loop; end block
    return this;
  }

  /** `if (cond on the stack) { then } else { otherwise }`. */
  ifElse(then: () => void, otherwise?: () => void): this {
    this.op(0x04, 0x40);
    then();
    if (otherwise) {
      this.op(0x05);
      otherwise();
    }
    return this.op(0x0b);
  }

  /** Encoded body (locals then code). */
  encode(): number[] {
    const groups: number[][] = this.localTypes.map((t) => [1, t]);
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** Opcodes used by the kernels. @internal */
export const OP = {
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32GeS: 0x4e,
  i32LtS: 0x48,
  i32GtS: 0x4a,
  i32Load: 0x28,
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f32Add: 0x92,
  f32Mul: 0x94,
  f32Div: 0x95,
  f32Gt: 0x5e,
  select: 0x1b,
} as const;

/** SIMD opcodes (after the 0xfd prefix). @internal */
export const SIMD = {
  v128Load: 0x00,
  v128Store: 0x0b,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  f32x4Gt: 0x44,
  i32x4Eq: 0x37,
  v128And: 0x4e,
  v128Bitselect: 0x52,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  i8x16Shuffle: 0x0d,
} as const;

/** memarg for a 4-byte-aligned access at offset 0. @internal */
export const MEMARG = [2, 0] as const;

/**
 * Encodes a module importing `env.memory` and exporting the given functions.
 *
 * @param functions - Functions by export name.
 * @returns The module bytes.
 * @internal
 */
export function encodeModule(functions: Record<string, FunctionBuilder>): Uint8Array {
  const entries = Object.entries(functions);
  const types = entries.map(([, f]) => [
    0x60,
    ...vec(f.params.map((t) => [t])),
    ...vec(f.results.map((t) => [t])),
  ]);
  const imports = [[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(entries.map((_, i) => uleb(i)))),
    ...section(7, vec(entries.map(([n], i) => [...name(n), 0x00, ...uleb(i)]))),
    ...section(10, vec(entries.map(([, f]) => f.encode()))),
  ];
  return new Uint8Array(bytes);
}
