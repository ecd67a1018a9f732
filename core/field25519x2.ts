/**
 * Two independent GF(2^255 − 19) computations at once with WebAssembly SIMD: a "pair" holds
 * the same limb of two field elements side by side (10 limbs × 2 lanes of signed 32-bit
 * integers, radix 2^25.5 as in ./field25519.ts), and `i64x2.extmul_low_i32x4_s` forms both
 * lanes' 64-bit limb products in one instruction, so a pair multiplication costs about 0.65 of
 * two single ones. Carries round to the nearest multiple (limbs in [−2^25, 2^25], as in ref10)
 * so that 19·limb still fits 32 bits.
 *
 * Bound rule: `mul`, `sq` and `mulSmall` need |limb| ≤ 1.6·2^26, i.e. outputs of `mul`, `sq`,
 * `mulSmall`, `carry` or `fromSingles`, or ONE `add`/`sub` of such values.
 *
 * @module
 */

import { I32, I64, OP, unsignedLeb, WasmCode, type WasmModuleBuilder } from "./wasm_module.ts";
import { type Field25519ChainRegister, POW22523_STEPS } from "./field25519.ts";

/** Bytes a pair takes in linear memory (ten limbs × two 32-bit lanes). */
export const PAIR_BYTES = 80;

/** Value type v128 (WebAssembly SIMD). */
const V128 = 0x7b;

/** SIMD instructions used here (WebAssembly core specification 2.0 §5.4.8, prefix 0xfd). */
const SIMD = {
  load: (offset: number) => [0xfd, 0x00, 4, ...unsignedLeb(offset)],
  load64Zero: (offset: number) => [0xfd, 0x5d, 3, ...unsignedLeb(offset)],
  store: (offset: number) => [0xfd, 0x0b, 4, ...unsignedLeb(offset)],
  shuffle: (lanes: readonly number[]) => [0xfd, 0x0d, ...lanes],
  i32x4Splat: [0xfd, 0x11],
  i64x2Splat: [0xfd, 0x12],
  i32x4ReplaceLane: (lane: number) => [0xfd, 0x1c, lane],
  and: [0xfd, 0x4e],
  xor: [0xfd, 0x51],
  i32x4Add: [0xfd, 0xae, 0x01],
  i32x4Sub: [0xfd, 0xb1, 0x01],
  i32x4Mul: [0xfd, 0xb5, 0x01],
  i64x2Shl: [0xfd, 0xcb, 0x01],
  i64x2ShrS: [0xfd, 0xcc, 0x01],
  i64x2Add: [0xfd, 0xce, 0x01],
  i64x2Sub: [0xfd, 0xd1, 0x01],
  i64x2ExtmulLowI32x4S: [0xfd, 0xdc, 0x01],
  i64x2ReplaceLane: (lane: number) => [0xfd, 0x1e, lane],
} as const;

const WIDTH = [26, 25, 26, 25, 26, 25, 26, 25, 26, 25] as const;
/** Shuffle taking the low 32 bits of both 64-bit lanes of two vectors: (x₀, x₁, y₀, y₁). */
const NARROW_TWO = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27] as const;

/** Indices of the pair functions in the module they were added to (for `call`). */
export interface Field25519x2 {
  /** mul(out, a, b): both lanes' products, carried. */
  mul: number;
  /** sq(out, a): both lanes' squares, carried. */
  sq: number;
  /** add(out, a, b), not carried. */
  add: number;
  /** sub(out, a, b), not carried. */
  sub: number;
  /** mulSmall(out, a, k: i32): k·a for 0 ≤ k < 2^20, carried. */
  mulSmall: number;
  /** cswap(a, b, bit0: i32, bit1: i32): swaps lane 0 of a and b when bit0 = 1, lane 1 when bit1 = 1. */
  cswap: number;
  /** fromSingles(out, x, y): the pair (x, y) of two elements of ./field25519.ts. */
  fromSingles: number;
  /** toSingles(x, y, a): lanes 0 and 1 of a as elements of ./field25519.ts. */
  toSingles: number;
}

/** Rounding carries of the i64x2 locals h..h+9 (two interleaved chains, top carry × 19). */
function emitCarry(b: WasmCode, h: number, c: number): void {
  const step = (i: number) => {
    const w = WIDTH[i]!;
    b.get(h + i).i64(1n << BigInt(w - 1)).op(...SIMD.i64x2Splat, ...SIMD.i64x2Add);
    b.i32(w).op(...SIMD.i64x2ShrS).set(c); // c = round(h_i / 2^w)
    b.get(h + i).get(c).i32(w).op(...SIMD.i64x2Shl, ...SIMD.i64x2Sub).set(h + i);
    if (i < 9) {
      b.get(h + i + 1).get(c).op(...SIMD.i64x2Add).set(h + i + 1);
    } else { // h0 += 19·c = 16c + 2c + c (2^255 ≡ 19)
      b.get(h).get(c).i32(4).op(...SIMD.i64x2Shl, ...SIMD.i64x2Add);
      b.get(c).i32(1).op(...SIMD.i64x2Shl, ...SIMD.i64x2Add).get(c).op(...SIMD.i64x2Add).set(h);
    }
  };
  for (const [x, y] of [[0, 4], [1, 5], [2, 6], [3, 7], [4, 8]] as const) step(x), step(y);
  step(9);
  step(0);
}

/** Stores the i64x2 locals h..h+9 narrowed to 32-bit lanes at the address in local `out`. */
function emitStore(b: WasmCode, out: number, h: number): void {
  for (let i = 0; i < 10; i += 2) {
    b.get(out).get(h + i).get(h + i + 1).op(...SIMD.shuffle(NARROW_TWO), ...SIMD.store(8 * i));
  }
}

/**
 * Products of pairs a·b into h_n = Σ_{i+j ≡ n} k·a_i·b_j with k = 2 for two odd limbs and 19
 * for a wrap past 2^255 (the ×2 goes on a, the ×19 on b, both still 32-bit).
 */
function emitProduct(
  b: WasmCode,
  a: number,
  bb: number,
  h: number,
  scaled: number,
  square: boolean,
): void {
  const A2 = scaled, B19 = scaled + 10;
  for (let i = 1; i < 10; i += 2) b.get(a + i).get(a + i).op(...SIMD.i32x4Add).set(A2 + i);
  for (let j = 1; j < 10; j++) {
    b.get(bb + j).i32(19).op(...SIMD.i32x4Splat, ...SIMD.i32x4Mul).set(B19 + j);
  }
  if (square) {
    for (let i = 0; i < 10; i += 2) b.get(a + i).get(a + i).op(...SIMD.i32x4Add).set(A2 + i);
  }
  for (let n = 0; n < 10; n++) {
    let first = true;
    for (let i = 0; i < 10; i++) {
      const j = (n - i + 10) % 10;
      if (square && j < i) continue; // each unordered pair once, doubled
      const double = square && i !== j;
      const oddOdd = i % 2 === 1 && j % 2 === 1;
      // Factor 2 (odd·odd) and the doubling of a square's cross term both go on a, except
      // when both apply (×4): then a is doubled and the product added twice.
      const x = oddOdd || double ? A2 + i : a + i;
      const y = i + j >= 10 ? B19 + j : bb + j;
      const times = oddOdd && double ? 2 : 1;
      for (let t = 0; t < times; t++) {
        b.get(x).get(y).op(...SIMD.i64x2ExtmulLowI32x4S);
        if (!first) b.op(...SIMD.i64x2Add);
        first = false;
      }
    }
    b.set(h + n);
  }
}

/**
 * Declares and defines the pair functions in a module.
 *
 * @param m the module under construction
 * @returns the functions' indices, for `call` from other functions of the module
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "./wasm_module.ts";
 * import { addField25519x2 } from "./field25519x2.ts";
 * const m = new WasmModuleBuilder(1);
 * const pair = addField25519x2(m);
 * console.assert(pair.mul !== pair.sq);
 * ```
 */
export function addField25519x2(m: WasmModuleBuilder): Field25519x2 {
  const ADDR3 = [I32, I32, I32];
  const f: Field25519x2 = {
    mul: m.declare("fe2_mul", ADDR3),
    sq: m.declare("fe2_sq", [I32, I32]),
    add: m.declare("fe2_add", ADDR3),
    sub: m.declare("fe2_sub", ADDR3),
    mulSmall: m.declare("fe2_mul_small", ADDR3),
    cswap: m.declare("fe2_cswap", [I32, I32, I32, I32]),
    fromSingles: m.declare("fe2_from_singles", ADDR3),
    toSingles: m.declare("fe2_to_singles", ADDR3),
  };
  const load = (b: WasmCode, addr: number, i: number) => b.get(addr).op(...SIMD.load64Zero(8 * i));
  // mul(out=0, a=1, b=2): locals 3.. a, 13.. b, 23.. h, 33.. scaled (20), 53 carry.
  {
    const b = new WasmCode();
    for (let i = 0; i < 10; i++) load(b, 1, i).set(3 + i), load(b, 2, i).set(13 + i);
    emitProduct(b, 3, 13, 23, 33, false);
    emitCarry(b, 23, 53);
    emitStore(b, 0, 23);
    m.define(f.mul, [[51, V128]], b.code);
  }
  // sq(out=0, a=1): locals 2.. a, 12.. h, 22.. scaled, 42 carry.
  {
    const b = new WasmCode();
    for (let i = 0; i < 10; i++) load(b, 1, i).set(2 + i);
    emitProduct(b, 2, 2, 12, 22, true);
    emitCarry(b, 12, 42);
    emitStore(b, 0, 12);
    m.define(f.sq, [[41, V128]], b.code);
  }
  // add/sub: five 128-bit lane-wise operations.
  for (const [index, op] of [[f.add, SIMD.i32x4Add], [f.sub, SIMD.i32x4Sub]] as const) {
    const b = new WasmCode();
    for (let k = 0; k < 5; k++) {
      b.get(0).get(1).op(...SIMD.load(16 * k)).get(2).op(...SIMD.load(16 * k), ...op);
      b.op(...SIMD.store(16 * k));
    }
    m.define(index, [], b.code);
  }
  // mulSmall(out=0, a=1, k=2): locals 3.. h, 13 carry, 14 k splat.
  {
    const b = new WasmCode();
    b.get(2).op(...SIMD.i32x4Splat).set(14);
    for (let i = 0; i < 10; i++) load(b, 1, i).get(14).op(...SIMD.i64x2ExtmulLowI32x4S).set(3 + i);
    emitCarry(b, 3, 13);
    emitStore(b, 0, 3);
    m.define(f.mulSmall, [[12, V128]], b.code);
  }
  // cswap(a=0, b=1, bit0=2, bit1=3): mask lanes (−bit0, −bit1, −bit0, −bit1); x = (a ⊕ b) ∧ mask.
  {
    const b = new WasmCode();
    const MASK = 4, X = 5;
    b.i32(0).get(2).op(OP.i32Sub, ...SIMD.i32x4Splat);
    b.i32(0).get(3).op(OP.i32Sub, ...SIMD.i32x4ReplaceLane(1));
    b.i32(0).get(3).op(OP.i32Sub, ...SIMD.i32x4ReplaceLane(3)).set(MASK);
    for (let k = 0; k < 5; k++) {
      b.get(0).op(...SIMD.load(16 * k)).get(1).op(...SIMD.load(16 * k), ...SIMD.xor);
      b.get(MASK).op(...SIMD.and).set(X);
      b.get(0).get(0).op(...SIMD.load(16 * k)).get(X).op(...SIMD.xor, ...SIMD.store(16 * k));
      b.get(1).get(1).op(...SIMD.load(16 * k)).get(X).op(...SIMD.xor, ...SIMD.store(16 * k));
    }
    m.define(f.cswap, [[2, V128]], b.code);
  }
  // fromSingles(out=0, x=1, y=2): limbs (x_i, y_i) as i64x2, carried into rounding form.
  {
    const b = new WasmCode();
    const H = 3, C = 13;
    for (let i = 0; i < 10; i++) {
      b.get(1).op(OP.i64Load, 3, ...unsignedLeb(8 * i), ...SIMD.i64x2Splat);
      b.get(2).op(OP.i64Load, 3, ...unsignedLeb(8 * i), ...SIMD.i64x2ReplaceLane(1));
      b.set(H + i);
    }
    emitCarry(b, H, C);
    emitStore(b, 0, H);
    m.define(f.fromSingles, [[11, V128]], b.code);
  }
  // toSingles(x=0, y=1, a=2): sign-extended 64-bit limbs of each lane.
  {
    const b = new WasmCode();
    for (let i = 0; i < 10; i++) {
      b.get(2).op(OP.i32Load, 2, ...unsignedLeb(8 * i)).op(OP.i64ExtendI32S);
      b.set(3).get(0).get(3).op(OP.i64Store, 3, ...unsignedLeb(8 * i));
      b.get(2).op(OP.i32Load, 2, ...unsignedLeb(8 * i + 4)).op(OP.i64ExtendI32S);
      b.set(3).get(1).get(3).op(OP.i64Store, 3, ...unsignedLeb(8 * i));
    }
    m.define(f.toSingles, [[1, I64]], b.code);
  }
  return f;
}

/** Bytes of scratch memory {@linkcode addPow22523x2} needs (four pairs). */
export const PAIR_POW_SCRATCH_BYTES = 4 * PAIR_BYTES;

/**
 * Declares and defines pow22523(out, a): both lanes' a^((p − 5)/8) = a^(2^252 − 3), the
 * exponent of the inverse square roots of RFC 9496 §4.2, by the addition chain of
 * ./field25519.ts (ref10's) in pair arithmetic: 252 pair squarings and 11 pair products.
 *
 * @param m the module under construction
 * @param f the pair functions already added to it
 * @param scratch address of {@linkcode PAIR_POW_SCRATCH_BYTES} bytes nothing else uses
 * @returns the function's index
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "./wasm_module.ts";
 * import { addField25519x2, addPow22523x2 } from "./field25519x2.ts";
 * const m = new WasmModuleBuilder(1);
 * console.assert(addPow22523x2(m, addField25519x2(m), 0) >= 0);
 * ```
 */
export function addPow22523x2(m: WasmModuleBuilder, f: Field25519x2, scratch: number): number {
  const pow = m.declare("fe2_pow22523", [I32, I32]);
  const sqn = m.declare("fe2_sqn", [I32, I32, I32], [], false);
  // sqn(out=0, a=1, n=2): out = a^(2^n), n ≥ 1.
  {
    const b = new WasmCode();
    b.get(0).get(1).call(f.sq);
    b.op(OP.block, 0x40, OP.loop, 0x40);
    b.get(2).i32(1).op(OP.i32Sub, OP.localTee, 2, OP.i32Eqz, OP.brIf, 1);
    b.get(0).get(0).call(f.sq).op(OP.br, 0, OP.end, OP.end);
    m.define(sqn, [], b.code);
  }
  const t = [0, 1, 2, 3].map((k) => scratch + k * PAIR_BYTES);
  type Reg = Field25519ChainRegister;
  const b = new WasmCode();
  const addr = (x: Reg) => (x === "z" ? b.get(1) : x === "out" ? b.get(0) : b.i32(t[x]!));
  const steps = POW22523_STEPS; // the single-lane field's chain (./field25519.ts)
  for (const step of steps) {
    if (step[0] === "sq") addr(step[1]), addr(step[2]), b.i32(step[3]).call(sqn);
    else addr(step[1]), addr(step[2]), addr(step[3]), b.call(f.mul);
  }
  m.define(pow, [], b.code);
  return pow;
}
