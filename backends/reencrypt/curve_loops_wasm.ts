/**
 * Per-element loops of ./curve_wasm.ts as WebAssembly functions over the field functions of
 * core/field25519.ts, one call per batch instead of calls from JavaScript per element, so that
 * each worker's JavaScript engine has no large loop of calls to compile and run cold (issue 17:
 * every worker isolate compiled those loops again):
 * - {@linkcode addDoubleEncode}: the batched "double and encode" (encodings of 2·Pⱼ with one
 *   field inversion for all: Hamburg's Decaf §4, RFC 9496 §4.3.2);
 * - {@linkcode addScalarDigits}: the signed window digits of a scalar (fixed-base products and
 *   the bucket method);
 * - {@linkcode addTableLoops}: the multiples of a fixed-base table window and their affine
 *   Niels forms;
 * - {@linkcode addDecodeCachedPairs}: ristretto255 DECODE (RFC 9496 §4.3.1) of a block of
 *   encodings, two at a time in the SIMD lanes, into cached points.
 *
 * @module
 */

import { FE_BYTES, type Field25519 } from "../../core/field25519.ts";
import {
  countUp,
  I32,
  OP,
  unsignedLeb,
  WasmCode,
  type WasmModuleBuilder,
} from "../../core/wasm_module.ts";
import { POINT_BYTES } from "./edwards_wasm.ts";

/** Scratch bytes per point of the batch (8 field elements: e, f, g, h, eg, fh, egfh, prefix). */
export const DOUBLE_ENCODE_BYTES = 8 * FE_BYTES;

/** Register numbers (field elements at `regs + number·FE_BYTES`) the functions read and write. */
export interface DoubleEncodeRegisters {
  /** The constant 0. */
  zero: number;
  /** The constant 1. */
  one: number;
  /** The curve constant d. */
  d: number;
  /** √−1. */
  sqrtM1: number;
  /** 1/√(a − d). */
  invsqrtAmd: number;
  /** Scratch registers X, Y, Z, T of the point. */
  x: number;
  /** Y. */
  y: number;
  /** Z. */
  z: number;
  /** T. */
  t: number;
  /** Scratch registers. */
  a: number;
  /** Scratch. */
  b: number;
  /** Scratch. */
  c: number;
  /** Scratch. */
  e: number;
  /** Scratch. */
  g: number;
  /** Scratch. */
  h: number;
  /** Scratch. */
  r: number;
  /** Scratch. */
  v: number;
  /** Scratch. */
  u1: number;
  /** Scratch. */
  u2: number;
  /** Scratch. */
  s: number;
  /** The running product (prefix products), then its inverse's input. */
  mu: number;
  /** The inverse of the product, consumed point by point. */
  mui: number;
}

/** Indices of the two functions. */
export interface DoubleEncodeOps {
  /**
   * prepare(points, count, scratch, regs): per point j, e·g, f·h and their product, and the
   * prefix products (register mu ends as the product of all).
   */
  prepare: number;
  /**
   * finish(scratch, count, encodings, regs, bytes): with register mui = 1/mu, the encodings
   * of 2·Pⱼ into 32-byte slots at `encodings` (for a batch with no point of order ≤ 2);
   * `bytes` is 32 bytes of scratch for the sign tests.
   */
  finish: number;
}

type Addr = number | readonly [number, number];

/** Opcodes core/wasm_module.ts does not name (WebAssembly core specification §5.4). */
const I32_NE = 0x47, RETURN = 0x0f;

/** Pushes an address: an absolute one, or a local plus an offset. */
function push(c: WasmCode, x: Addr): void {
  if (typeof x === "number") c.i32(x);
  else {
    c.get(x[0]);
    if (x[1] !== 0) c.i32(x[1]).op(OP.i32Add);
  }
}

/** Pushes the arguments, then calls. */
function call(c: WasmCode, fn: number, ...args: Addr[]): WasmCode {
  for (const x of args) push(c, x);
  return c.call(fn);
}

/**
 * Declares and defines the two functions (variable time through the sign tests of the
 * encoding, whose output is public).
 *
 * @param m the module
 * @param f the field functions already added to it
 * @param regs the register numbers
 * @returns the functions' indices
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "../../core/wasm_module.ts";
 * import { addField25519 } from "../../core/field25519.ts";
 * import { addDoubleEncode } from "./curve_loops_wasm.ts";
 * const m = new WasmModuleBuilder(1);
 * const regs = { zero: 0, one: 1, d: 2, sqrtM1: 3, invsqrtAmd: 4, x: 5, y: 6, z: 7, t: 8,
 *   a: 9, b: 10, c: 11, e: 12, g: 13, h: 14, r: 15, v: 16, u1: 17, u2: 18, s: 19, mu: 20,
 *   mui: 21 };
 * const ops = addDoubleEncode(m, addField25519(m, 0), regs);
 * console.assert(ops.prepare !== ops.finish);
 * ```
 */
export function addDoubleEncode(
  m: WasmModuleBuilder,
  f: Field25519,
  regs: DoubleEncodeRegisters,
): DoubleEncodeOps {
  const R = regs, FE = FE_BYTES;
  const ops: DoubleEncodeOps = {
    prepare: m.declare("ristretto_double_encode_prepare", [I32, I32, I32, I32]),
    finish: m.declare("ristretto_double_encode_finish", [I32, I32, I32, I32, I32]),
  };
  // prepare(points=0, count=1, scratch=2, regs=3); locals 4 j, 5 p, 6 w.
  {
    const c = new WasmCode();
    const REGS = 3, J = 4, P = 5, W = 6;
    const reg = (r: number): Addr => [REGS, r * FE];
    const w = (k: number): Addr => [W, k * FE];
    countUp(c, J, 1, () => {
      c.get(0).get(J).i32(POINT_BYTES).op(OP.i32Mul, OP.i32Add).set(P);
      c.get(2).get(J).i32(DOUBLE_ENCODE_BYTES).op(OP.i32Mul, OP.i32Add).set(W);
      for (const [k, r] of [R.x, R.y, R.z, R.t].entries()) call(c, f.carry, reg(r), [P, k * FE]);
      call(c, f.sq, reg(R.a), reg(R.x));
      call(c, f.sq, reg(R.b), reg(R.y));
      call(c, f.sq, reg(R.c), reg(R.z));
      call(c, f.sq, reg(R.e), reg(R.t));
      call(c, f.mul, reg(R.e), reg(R.e), reg(R.d)); // d·T²
      call(c, f.mul, w(0), reg(R.x), reg(R.y));
      call(c, f.add, w(0), w(0), w(0));
      call(c, f.carry, w(0), w(0)); // e = 2XY
      call(c, f.add, w(1), reg(R.c), reg(R.e));
      call(c, f.carry, w(1), w(1)); // f = Z² + dT²
      call(c, f.add, w(2), reg(R.b), reg(R.a));
      call(c, f.carry, w(2), w(2)); // g = Y² + X²
      call(c, f.sub, w(3), reg(R.c), reg(R.e));
      call(c, f.carry, w(3), w(3)); // h = Z² − dT²
      call(c, f.mul, w(4), w(0), w(2)); // e·g
      call(c, f.mul, w(5), w(1), w(3)); // f·h
      call(c, f.mul, w(6), w(4), w(5)); // e·g·f·h
    });
    // Prefix products: slot 7 of point j holds the product of the points before it.
    call(c, f.copy, reg(R.mu), reg(R.one));
    countUp(c, J, 1, () => {
      c.get(2).get(J).i32(DOUBLE_ENCODE_BYTES).op(OP.i32Mul, OP.i32Add).set(W);
      call(c, f.copy, w(7), reg(R.mu));
      call(c, f.mul, reg(R.mu), reg(R.mu), w(6));
    });
    m.define(ops.prepare, [[3, I32]], c.code);
  }
  // finish(scratch=0, count=1, encodings=2, regs=3, bytes=4); locals 5 j (counting down),
  // 6 w, 7 slot, 8 e, 9 g, 10 h, 11 magic.
  {
    const c = new WasmCode();
    const REGS = 3, BYTES = 4, J = 5, W = 6, SLOT = 7, EE = 8, GG = 9, HH = 10, MAGIC = 11;
    const reg = (r: number): Addr => [REGS, r * FE];
    const w = (k: number): Addr => [W, k * FE];
    const setReg = (local: number, r: number) => c.get(REGS).i32(r * FE).op(OP.i32Add).set(local);
    const setW = (local: number, k: number) => c.get(W).i32(k * FE).op(OP.i32Add).set(local);
    /** Pushes whether the element at `x` is negative (RFC 9496 §4.1 IS_NEGATIVE). */
    const negative = (x: Addr) => {
      call(c, f.toBytes, [BYTES, 0], x);
      c.get(BYTES).op(OP.i32Load8U, 0, 0).i32(1).op(OP.i32And);
    };
    c.get(1).set(J);
    c.op(OP.block, 0x40, OP.loop, 0x40);
    c.get(J).op(OP.i32Eqz, OP.brIf, 1);
    c.get(J).i32(1).op(OP.i32Sub).set(J);
    c.get(0).get(J).i32(DOUBLE_ENCODE_BYTES).op(OP.i32Mul, OP.i32Add).set(W);
    c.get(2).get(J).i32(32).op(OP.i32Mul, OP.i32Add).set(SLOT);
    call(c, f.mul, reg(R.r), reg(R.mui), w(7)); // 1/(e·g·f·h) of this point
    call(c, f.mul, reg(R.mui), reg(R.mui), w(6));
    call(c, f.mul, reg(R.u1), w(4), reg(R.r)); // 1/(f·h)
    call(c, f.mul, reg(R.u2), w(5), reg(R.r)); // 1/(e·g)
    setW(EE, 0), setW(GG, 2), setW(HH, 3), setReg(MAGIC, R.invsqrtAmd);
    call(c, f.mul, reg(R.h), w(4), reg(R.u1));
    negative(reg(R.h));
    c.op(OP.if, 0x40); // rotate
    call(c, f.sub, reg(R.g), reg(R.zero), w(0));
    call(c, f.carry, reg(R.g), reg(R.g));
    call(c, f.mul, reg(R.a), w(1), reg(R.sqrtM1));
    setW(EE, 2), setReg(GG, R.g), setReg(HH, R.a), setReg(MAGIC, R.sqrtM1);
    c.op(OP.end);
    call(c, f.mul, reg(R.h), [HH, 0], [EE, 0]);
    call(c, f.mul, reg(R.h), reg(R.h), reg(R.u1));
    negative(reg(R.h));
    c.op(OP.if, 0x40);
    call(c, f.sub, reg(R.g), reg(R.zero), [GG, 0]);
    call(c, f.carry, reg(R.g), reg(R.g));
    setReg(GG, R.g);
    c.op(OP.end);
    call(c, f.mul, reg(R.s), [GG, 0], reg(R.u2));
    call(c, f.mul, reg(R.s), reg(R.s), [MAGIC, 0]);
    call(c, f.sub, reg(R.v), [HH, 0], [GG, 0]);
    call(c, f.carry, reg(R.v), reg(R.v));
    call(c, f.mul, reg(R.s), reg(R.v), reg(R.s));
    call(c, f.toBytes, [SLOT, 0], reg(R.s));
    c.get(SLOT).op(OP.i32Load8U, 0, 0).i32(1).op(OP.i32And);
    c.op(OP.if, 0x40); // |s|
    call(c, f.sub, reg(R.s), reg(R.zero), reg(R.s));
    call(c, f.carry, reg(R.s), reg(R.s));
    call(c, f.toBytes, [SLOT, 0], reg(R.s));
    c.op(OP.end);
    c.op(OP.br, 0, OP.end, OP.end);
    m.define(ops.finish, [[7, I32]], c.code);
  }
  return ops;
}

/**
 * Declares and defines digits(bytes, out, bits, windows, stride): the signed `bits`-bit
 * digits d₀…d_{windows−1} of the 32-byte little-endian scalar at `bytes` (followed by at least
 * 3 readable bytes), each in [−2^(bits−1), 2^(bits−1)), as i32s at out + 4·j·stride (the
 * recoding of the bucket method: a digit of 2^(bits−1) or more becomes negative and carries
 * one into the next window). No branch and no memory address depends on the scalar's value
 * (the carry is a comparison's 0 or 1): the secret scalars of the fixed-base products go
 * through it as well as the public ones of multi-scalar multiplication.
 *
 * @param m the module
 * @returns the function's index
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "../../core/wasm_module.ts";
 * import { addScalarDigits } from "./curve_loops_wasm.ts";
 * console.assert(addScalarDigits(new WasmModuleBuilder(1)) === 0);
 * ```
 */
export function addScalarDigits(m: WasmModuleBuilder): number {
  const index = m.declare("scalar_digits", [I32, I32, I32, I32, I32]);
  // params 0 bytes, 1 out, 2 bits, 3 windows, 4 stride; locals 5 j, 6 carry, 7 d, 8 bit,
  // 9 byte, 10 half, 11 mask.
  const c = new WasmCode();
  const J = 5, CARRY = 6, D = 7, BIT = 8, BYTE = 9, HALF = 10, MASK = 11;
  c.i32(1).get(2).i32(1).op(OP.i32Sub, OP.i32Shl).set(HALF);
  c.i32(1).get(2).op(OP.i32Shl).i32(1).op(OP.i32Sub).set(MASK);
  c.i32(0).set(CARRY);
  countUp(c, J, 3, () => {
    c.get(J).get(2).op(OP.i32Mul).tee(BIT).i32(3).op(OP.i32ShrU).set(BYTE);
    c.i32(0).set(D);
    c.get(BYTE).i32(32).op(OP.i32LtU, OP.if, 0x40);
    // word = b[byte] | b[byte + 1] << 8 | b[byte + 2] << 16; d = (word >>> (bit & 7)) & mask
    c.get(0).get(BYTE).op(OP.i32Add, OP.i32Load8U, 0, 0);
    c.get(0).get(BYTE).op(OP.i32Add, OP.i32Load8U, 0, 1).i32(8).op(OP.i32Shl, OP.i32Or);
    c.get(0).get(BYTE).op(OP.i32Add, OP.i32Load8U, 0, 2).i32(16).op(OP.i32Shl, OP.i32Or);
    c.get(BIT).i32(7).op(OP.i32And, OP.i32ShrU).get(MASK).op(OP.i32And).set(D);
    c.op(OP.end);
    c.get(D).get(CARRY).op(OP.i32Add).tee(D).get(HALF).op(OP.i32GeS).set(CARRY);
    // out[j·stride] = d − (carry << bits)
    c.get(1).get(J).get(4).op(OP.i32Mul).i32(2).op(OP.i32Shl, OP.i32Add);
    c.get(D).get(CARRY).get(2).op(OP.i32Shl, OP.i32Sub).op(OP.i32Store, 2, 0);
  });
  m.define(index, [[7, I32]], c.code);
  return index;
}

/** Register numbers the fixed-base table functions use (field elements at regs + r·FE_BYTES). */
export interface TableRegisters {
  /** Scratch (x of an entry). */
  b: number;
  /** Scratch (y of an entry). */
  c: number;
  /** The running inverse 1/(Z₀·…·Z_d). */
  e: number;
  /** Scratch (1/Z_d). */
  f: number;
  /** The constant 2d. */
  d2: number;
}

/** Indices of the fixed-base table functions. */
export interface TableOps {
  /**
   * multiples(multiples, prefix, acc, cached, half): for d = 0 … half−1, point d of
   * `multiples` = acc, then acc += the cached point; the prefix products of their Z into
   * `prefix` (Montgomery's trick: one inversion per window).
   */
  multiples: number;
  /**
   * niels(out, multiples, prefix, half, regs): with register e = 1/(Z₀·…·Z_{half−1}), the
   * affine Niels form (y+x, y−x, 2d·x·y) of each multiple into `out`, entry d at
   * out + d·NIELS_BYTES.
   */
  niels: number;
}

/**
 * Declares and defines the two loops of a fixed-base table window (./curve_wasm.ts
 * `fixedBaseTable`): the multiples of the window's base and their affine Niels forms, so a
 * table is built in a few calls per window (issue 17: each worker builds its tables of the
 * generator and of the election key at its start, while its JavaScript is not yet compiled).
 *
 * @param m the module
 * @param f the field functions already added to it
 * @param options `addCached` (the point addition of ./edwards_wasm.ts) and the registers
 * @returns the functions' indices
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "../../core/wasm_module.ts";
 * import { addField25519 } from "../../core/field25519.ts";
 * import { addEdwardsOps } from "./edwards_wasm.ts";
 * import { addTableLoops } from "./curve_loops_wasm.ts";
 * const m = new WasmModuleBuilder(1);
 * const f = addField25519(m, 0);
 * const ops = addEdwardsOps(m, f, 1024, { zero: 4000, one: 4080, d2: 4160 });
 * const regs = { b: 1, c: 2, e: 3, f: 4, d2: 5 };
 * const table = addTableLoops(m, f, { addCached: ops.addCached, regs });
 * console.assert(table.multiples !== table.niels);
 * ```
 */
export function addTableLoops(
  m: WasmModuleBuilder,
  f: Field25519,
  options: { addCached: number; regs: TableRegisters },
): TableOps {
  const R = options.regs, FE = FE_BYTES;
  const ops: TableOps = {
    multiples: m.declare("fixed_table_multiples", [I32, I32, I32, I32, I32]),
    niels: m.declare("fixed_table_niels", [I32, I32, I32, I32, I32]),
  };
  // multiples(multiples=0, prefix=1, acc=2, cached=3, half=4); locals 5 d, 6 m.
  {
    const c = new WasmCode();
    const D = 5, M = 6;
    countUp(c, D, 4, () => {
      c.get(0).get(D).i32(POINT_BYTES).op(OP.i32Mul, OP.i32Add).set(M);
      for (let k = 0; k < 4; k++) call(c, f.copy, [M, k * FE], [2, k * FE]);
      c.get(D).op(OP.i32Eqz, OP.if, 0x40);
      call(c, f.copy, [1, 0], [M, 2 * FE]);
      c.op(OP.else);
      // prefix[d] = prefix[d − 1]·Z_d
      c.get(1).get(D).i32(FE).op(OP.i32Mul, OP.i32Add);
      c.get(1).get(D).i32(1).op(OP.i32Sub).i32(FE).op(OP.i32Mul, OP.i32Add);
      c.get(M).i32(2 * FE).op(OP.i32Add).call(f.mul);
      c.op(OP.end);
      call(c, options.addCached, [2, 0], [2, 0], [3, 0]);
    });
    m.define(ops.multiples, [[2, I32]], c.code);
  }
  // niels(out=0, multiples=1, prefix=2, half=3, regs=4); locals 5 d (counting down), 6 m, 7 o.
  {
    const c = new WasmCode();
    const REGS = 4, D = 5, M = 6, O = 7;
    const reg = (r: number): Addr => [REGS, r * FE];
    c.get(3).set(D);
    c.op(OP.block, 0x40, OP.loop, 0x40);
    c.get(D).op(OP.i32Eqz, OP.brIf, 1);
    c.get(D).i32(1).op(OP.i32Sub).set(D);
    c.get(1).get(D).i32(POINT_BYTES).op(OP.i32Mul, OP.i32Add).set(M);
    c.get(0).get(D).i32(3 * FE).op(OP.i32Mul, OP.i32Add).set(O);
    c.get(D).op(OP.if, 0x40);
    // 1/Z_d = e·(Z₀·…·Z_{d−1}); then e = 1/(Z₀·…·Z_{d−1}) for the next one down.
    push(c, reg(R.f)), push(c, reg(R.e));
    c.get(2).get(D).i32(1).op(OP.i32Sub).i32(FE).op(OP.i32Mul, OP.i32Add).call(f.mul);
    call(c, f.mul, reg(R.e), reg(R.e), [M, 2 * FE]);
    c.op(OP.else);
    call(c, f.copy, reg(R.f), reg(R.e));
    c.op(OP.end);
    // The affine Niels form (y+x, y−x, 2d·x·y), x = X/Z and y = Y/Z.
    call(c, f.mul, reg(R.b), [M, 0], reg(R.f));
    call(c, f.mul, reg(R.c), [M, FE], reg(R.f));
    call(c, f.add, [O, 0], reg(R.c), reg(R.b));
    call(c, f.carry, [O, 0], [O, 0]);
    call(c, f.sub, [O, FE], reg(R.c), reg(R.b));
    call(c, f.carry, [O, FE], [O, FE]);
    call(c, f.mul, [O, 2 * FE], reg(R.b), reg(R.c));
    call(c, f.mul, [O, 2 * FE], [O, 2 * FE], reg(R.d2));
    c.op(OP.br, 0, OP.end, OP.end);
    m.define(ops.niels, [[3, I32]], c.code);
  }
  return ops;
}

/** Where {@linkcode addDecodeCachedPairs} finds its registers and scratch. */
export interface DecodeCachedLayout {
  /** The pair decoding function (./ristretto_wasm_x2.ts `decode`). */
  decode: number;
  /** Address of 80 bytes for the two encodings (40 apart, as the pair decoding reads them). */
  bytesAt: number;
  /** Addresses of the two register banks (the second lane's registers). */
  banks: readonly [number, number];
  /** Register numbers: the decoded point X, Y, Z, T (consecutive), and the constants 1 and 2d. */
  regs: { x: number; y: number; t: number; one: number; d2: number };
}

/**
 * Declares and defines decodeCached(src, count, dest) → i32: decodes the `count` (even)
 * 32-byte encodings at `src` two at a time in the SIMD lanes (their byte checks already done
 * by the caller) into cached points (Y+X, Y−X, 2Z, 2dT) at dest + i·POINT_BYTES; returns −1,
 * or the index of the first encoding that is no point (issue 17: the decoding of a batch
 * check's points, one call per block instead of calls per point from JavaScript).
 *
 * @param m the module
 * @param f the field functions already added to it
 * @param layout the pair decoding, its byte scratch, the register banks and registers
 * @returns the function's index
 * @example
 * ```ts ignore
 * addDecodeCachedPairs(m, field, { decode, bytesAt, banks: [bank0, bank1], regs });
 * ```
 */
export function addDecodeCachedPairs(
  m: WasmModuleBuilder,
  f: Field25519,
  layout: DecodeCachedLayout,
): number {
  const index = m.declare("ristretto_decode_cached_pairs", [I32, I32, I32], [I32]);
  // params 0 src, 1 count, 2 dest; locals 3 i, 4 ok, 5 out.
  const c = new WasmCode();
  const I = 3, OK = 4, OUT = 5, FE = FE_BYTES, { regs, bytesAt } = layout;
  c.i32(0).set(I);
  c.op(OP.block, 0x40, OP.loop, 0x40);
  c.get(I).get(1).op(OP.i32GeU, OP.brIf, 1);
  // The two encodings into the scratch, 8 bytes at a time.
  for (const [lane, from] of [[0, 0], [1, 32]] as const) {
    for (let k = 0; k < 32; k += 8) {
      c.i32(bytesAt + 40 * lane + k);
      c.get(0).get(I).i32(32).op(OP.i32Mul, OP.i32Add).op(OP.i64Load, 0, ...unsignedLeb(from + k));
      c.op(OP.i64Store, 0, 0);
    }
  }
  c.i32(layout.banks[0] + regs.x * FE).i32(layout.banks[1] + regs.x * FE);
  c.i32(bytesAt).i32(bytesAt + 40).call(layout.decode).tee(OK);
  c.i32(3).op(I32_NE, OP.if, 0x40);
  // The first invalid one: lane 0 if it failed, else lane 1.
  c.get(I).get(OK).i32(1).op(OP.i32And).op(OP.i32Add, RETURN);
  c.op(OP.end);
  for (const lane of [0, 1]) {
    const bank = layout.banks[lane]!;
    const reg = (r: number) => bank + r * FE;
    c.get(2).get(I).i32(lane).op(OP.i32Add).i32(POINT_BYTES).op(OP.i32Mul, OP.i32Add).set(OUT);
    // Cached form of the decoded (X, Y, 1, T): Y+X, Y−X, 2, 2d·T.
    call(c, f.add, [OUT, 0], reg(regs.y), reg(regs.x));
    call(c, f.carry, [OUT, 0], [OUT, 0]);
    call(c, f.sub, [OUT, FE], reg(regs.y), reg(regs.x));
    call(c, f.carry, [OUT, FE], [OUT, FE]);
    call(c, f.add, [OUT, 2 * FE], reg(regs.one), reg(regs.one));
    call(c, f.mul, [OUT, 3 * FE], reg(regs.t), reg(regs.d2));
  }
  c.get(I).i32(2).op(OP.i32Add).set(I).op(OP.br, 0, OP.end, OP.end);
  c.i32(-1);
  m.define(index, [[3, I32]], c.code);
  return index;
}

/** What {@linkcode addFixedProducts} calls and where its scratch is. */
export interface FixedProductsLayout {
  /** The digit recoding ({@linkcode addScalarDigits}). */
  digits: number;
  /** The single fixed-base product ge_fixed_mul(out, table, digits, windows, half). */
  fixedMul: number;
  /**
   * The SIMD pair product ge2_fixed_mul(out, table, digitsA, digitsB, windows, half), the
   * pair-to-singles split fe2_to_singles(a, b, pair) and the pair point it writes; absent
   * in a module without SIMD.
   */
  pair?: { fixedMul: number; toSingles: number; out: number };
  /** 40 bytes of scratch: a scalar, then 8 zero bytes for the digits' reads past it. */
  bytesAt: number;
  /** Where the two scalars' digits go. */
  digitsAt: readonly [number, number];
  /** Digit bits, windows and table entries per window of the fixed-base tables. */
  bits: number;
  /** Windows. */
  windows: number;
  /** Entries per window. */
  half: number;
}

/**
 * Declares and defines fixedProducts(table, scalars, count, dest, pairs): scalarₖ·B for the
 * `count` 32-byte little-endian scalars at `scalars` by the fixed-base table of B at `table`,
 * into points at dest + k·POINT_BYTES; two at a time in the SIMD lanes when `pairs` is 1
 * (an odd one out alone). One call per block of an encryption batch instead of calls per
 * scalar from JavaScript (issue 17: each worker compiled that loop and its byte copies). The
 * scalars are secret: each is copied, recoded (constant time) and multiplied by the same
 * sequence of steps whatever its value.
 *
 * @param m the module
 * @param layout the functions it calls, its scratch and the tables' shape
 * @returns the function's index
 * @example
 * ```ts ignore
 * addFixedProducts(m, { digits, fixedMul, pair, bytesAt, digitsAt, bits, windows, half });
 * ```
 */
export function addFixedProducts(m: WasmModuleBuilder, layout: FixedProductsLayout): number {
  const index = m.declare("fixed_products", [I32, I32, I32, I32, I32]);
  // params 0 table, 1 scalars, 2 count, 3 dest, 4 pairs; locals 5 k, 6 p.
  const c = new WasmCode(), K = 5, P = 6, FE = FE_BYTES;
  const { bytesAt, digitsAt, bits, windows, half } = layout;
  /** Scalar k + next (padded with zeros) into the scratch, then its digits at `digits`. */
  const recode = (next: number, digits: number) => {
    for (let w = 0; w < 4; w++) {
      c.i32(bytesAt + 8 * w);
      c.get(1).get(K).i32(32).op(OP.i32Mul, OP.i32Add);
      c.op(OP.i64Load, 0, ...unsignedLeb(32 * next + 8 * w), OP.i64Store, 0, 0);
    }
    c.i32(bytesAt + 32).i64(0).op(OP.i64Store, 0, 0);
    c.i32(bytesAt).i32(digits).i32(bits).i32(windows).i32(1).call(layout.digits);
  };
  const point = () => c.get(3).get(K).i32(POINT_BYTES).op(OP.i32Mul, OP.i32Add).set(P);
  c.i32(0).set(K);
  if (layout.pair !== undefined) {
    const pair = layout.pair;
    c.get(4).op(OP.if, 0x40, OP.block, 0x40, OP.loop, 0x40);
    c.get(K).i32(1).op(OP.i32Add).get(2).op(OP.i32GeU, OP.brIf, 1);
    recode(0, digitsAt[0]);
    recode(1, digitsAt[1]);
    c.i32(pair.out).get(0).i32(digitsAt[0]).i32(digitsAt[1]).i32(windows).i32(half);
    c.call(pair.fixedMul);
    point();
    for (let k = 0; k < 4; k++) {
      call(c, pair.toSingles, [P, k * FE], [P, POINT_BYTES + k * FE], pair.out + k * FE);
    }
    c.get(K).i32(2).op(OP.i32Add).set(K).op(OP.br, 0, OP.end, OP.end, OP.end);
  }
  // An odd one out (or every one without pairs) alone.
  c.op(OP.block, 0x40, OP.loop, 0x40);
  c.get(K).get(2).op(OP.i32GeU, OP.brIf, 1);
  recode(0, digitsAt[0]);
  point();
  c.get(P).get(0).i32(digitsAt[0]).i32(windows).i32(half).call(layout.fixedMul);
  c.get(K).i32(1).op(OP.i32Add).set(K).op(OP.br, 0, OP.end, OP.end);
  m.define(index, [[2, I32]], c.code);
  return index;
}
