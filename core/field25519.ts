/**
 * Arithmetic in GF(2^255 − 19) as WebAssembly functions assembled at load time, shared by
 * the backends that work over Curve25519 (ristretto255 and X25519). A field element is ten
 * signed 64-bit limbs in radix 2^25.5 (limb i starts at bit ⌈25.5·i⌉, widths 26, 25, 26, …),
 * the representation of Bernstein et al., "High-speed high-security signatures" (ref10),
 * written here from the paper's description. WebAssembly has 64-bit integer products, so
 * each 26-bit limb product fits with room for the ×19 reduction of 2^255 ≡ 19.
 *
 * Bound rule: `mul`, `sq` and `mulSmall` need |limb| < 2^27, i.e. outputs of `mul`, `sq`,
 * `carry`, `mulSmall` or `fromBytes`, or ONE `add`/`sub` of such values; their outputs have
 * |limb| < 2^26 + 2^13. Never chain two `add`/`sub` without a `carry`.
 *
 * @module
 */

import { I32, I64, OP, unsignedLeb, WasmCode, type WasmModuleBuilder } from "./wasm_module.ts";

/** Bytes a field element takes in linear memory (ten i64 limbs). */
export const FE_BYTES = 80;

/** Bytes of scratch memory {@linkcode addField25519} needs for `pow22523` and `invert`. */
export const FIELD_SCRATCH_BYTES = 4 * FE_BYTES;

/** The field prime p = 2^255 − 19. */
export const FIELD_PRIME: bigint = 2n ** 255n - 19n;

/** Bit offset of each limb. */
const SHIFT = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230] as const;
/** Bit width of each limb. */
const WIDTH = [26, 25, 26, 25, 26, 25, 26, 25, 26, 25] as const;

/** Indices of the field functions in the module they were added to (for `call`). */
export interface Field25519 {
  /** mul(out, a, b): out = a·b, carried. */
  mul: number;
  /** sq(out, a): out = a², carried. */
  sq: number;
  /** add(out, a, b): out = a + b, limb by limb, not carried. */
  add: number;
  /** sub(out, a, b): out = a − b, limb by limb, not carried. */
  sub: number;
  /** carry(out, a): out = a with every limb within its width (limb 1 may exceed by a little). */
  carry: number;
  /** copy(out, a). */
  copy: number;
  /** cswap(a, b, bit: i32): swaps a and b when bit = 1, in constant time. */
  cswap: number;
  /** mulSmall(out, a, k: i64): out = k·a for 0 ≤ k < 2^21, carried. */
  mulSmall: number;
  /** fromBytes(out, bytes): 32 little-endian bytes at `bytes`, bit 255 ignored. */
  fromBytes: number;
  /** toBytes(bytes, a): the canonical (fully reduced) 32-byte little-endian encoding. */
  toBytes: number;
  /** pow22523(out, a): a^((p − 5)/8) = a^(2^252 − 3), for square roots. */
  pow22523: number;
  /** invert(out, a): a^(p − 2), the inverse (0 for 0). */
  invert: number;
}

/** A function body with limb loads and stores. */
class Body extends WasmCode {
  /** Pushes limb `i` of the element whose address is in local `addr`. */
  loadLimb(addr: number, i: number): this {
    return this.get(addr).op(OP.i64Load, 3, ...unsignedLeb(8 * i));
  }
  /** Stores the value of local `value` as limb `i` of the element at local `addr`. */
  storeLimb(addr: number, i: number, value: number): this {
    return this.get(addr).get(value).op(OP.i64Store, 3, ...unsignedLeb(8 * i));
  }
}

/**
 * Carries locals h..h+9 in place in two interleaved chains (limbs 0→1→…→4→5 and 4→5→…→9→0,
 * for instruction-level parallelism), wrapping the top carry with ×19; afterwards every limb
 * is within its width except limbs 1 and 5, which may exceed it by a small carry.
 */
function emitCarry(b: Body, h: number, c: number): void {
  const step = (i: number) => {
    b.get(h + i).i64(WIDTH[i]!).op(OP.i64ShrS).set(c); // c = ⌊h_i / 2^w_i⌋
    b.get(h + i).i64((1 << WIDTH[i]!) - 1).op(OP.i64And).set(h + i);
    if (i < 9) b.get(h + i + 1).get(c).op(OP.i64Add).set(h + i + 1);
    else b.get(h).get(c).i64(19).op(OP.i64Mul, OP.i64Add).set(h); // 2^255 ≡ 19
  };
  for (const [x, y] of [[0, 4], [1, 5], [2, 6], [3, 7], [4, 8]]) step(x!), step(y!);
  step(9);
  step(0);
}

function storeAll(b: Body, out: number, h: number): void {
  for (let i = 0; i < 10; i++) b.storeLimb(out, i, h + i);
}

/**
 * Products a_i·b_j go to h_{(i+j) mod 10}; a wrap past 2^255 multiplies by 19, and two odd
 * limbs (each at a half-bit offset) by 2. `square` sums each unordered pair once, doubled.
 */
function emitProduct(
  b: Body,
  aL: number,
  bL: number,
  h: number,
  scaled: number,
  square: boolean,
): number {
  // Scaled copies k·b_j are made once each, in locals from `scaled` on.
  const cache = new Map<string, number>();
  let next = scaled;
  const operand = (j: number, k: number): number => {
    if (k === 1) return bL + j;
    const key = `${j}:${k}`;
    let local = cache.get(key);
    if (local === undefined) {
      local = next++;
      b.get(bL + j).i64(k).op(OP.i64Mul).set(local);
      cache.set(key, local);
    }
    return local;
  };
  const terms: [number, number, number][][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < 10; i++) {
    for (let j = square ? i : 0; j < 10; j++) {
      const k = (i % 2 === 1 && j % 2 === 1 ? 2 : 1) * (i + j >= 10 ? 19 : 1) *
        (square && i !== j ? 2 : 1);
      terms[(i + j) % 10]!.push([i, j, k]);
    }
  }
  for (let n = 0; n < 10; n++) {
    terms[n]!.forEach(([i, j, k], t) => {
      b.get(aL + i).get(operand(j, k)).op(OP.i64Mul);
      if (t > 0) b.op(OP.i64Add);
    });
    b.set(h + n);
  }
  return next;
}

/**
 * Declares and defines the field functions in a module.
 *
 * @param m the module under construction
 * @param scratch address of {@linkcode FIELD_SCRATCH_BYTES} bytes of memory the exponentiations
 *   use for temporaries (8-byte aligned; nothing else may use it)
 * @returns the functions' indices, for `call` from other functions of the module
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "./wasm_module.ts";
 * import { addField25519, FIELD_SCRATCH_BYTES } from "./field25519.ts";
 * const m = new WasmModuleBuilder(1);
 * const field = addField25519(m, 0);
 * console.assert(field.mul !== field.sq && FIELD_SCRATCH_BYTES === 320);
 * ```
 */
export function addField25519(m: WasmModuleBuilder, scratch: number): Field25519 {
  const ADDR3 = [I32, I32, I32], ADDR2 = [I32, I32];
  const f: Field25519 = {
    mul: m.declare("fe_mul", ADDR3),
    sq: m.declare("fe_sq", ADDR2),
    add: m.declare("fe_add", ADDR3),
    sub: m.declare("fe_sub", ADDR3),
    carry: m.declare("fe_carry", ADDR2),
    copy: m.declare("fe_copy", ADDR2),
    cswap: m.declare("fe_cswap", ADDR3),
    mulSmall: m.declare("fe_mul_small", [I32, I32, I64]),
    fromBytes: m.declare("fe_from_bytes", ADDR2),
    toBytes: m.declare("fe_to_bytes", ADDR2),
    pow22523: m.declare("fe_pow22523", ADDR2),
    invert: m.declare("fe_invert", ADDR2),
  };
  const sqn = m.declare("fe_sqn", [I32, I32, I32], [], false);

  // mul(out=0, a=1, b=2): locals 3..12 a, 13..22 b, 23..32 h, then scaled copies of b.
  {
    const b = new Body();
    for (let i = 0; i < 10; i++) b.loadLimb(1, i).set(3 + i).loadLimb(2, i).set(13 + i);
    const end = emitProduct(b, 3, 13, 23, 33, false);
    emitCarry(b, 23, 33);
    storeAll(b, 0, 23);
    m.define(f.mul, [[end - 3, I64]], b.code);
  }
  // sq(out=0, a=1): locals 2..11 a, 12..21 h, then scaled copies of a.
  {
    const b = new Body();
    for (let i = 0; i < 10; i++) b.loadLimb(1, i).set(2 + i);
    const end = emitProduct(b, 2, 2, 12, 22, true);
    emitCarry(b, 12, 22);
    storeAll(b, 0, 12);
    m.define(f.sq, [[end - 2, I64]], b.code);
  }
  // add/sub(out=0, a=1, b=2): limb by limb.
  for (const [index, op] of [[f.add, OP.i64Add], [f.sub, OP.i64Sub]] as const) {
    const b = new Body();
    for (let i = 0; i < 10; i++) b.loadLimb(1, i).loadLimb(2, i).op(op).set(3 + i);
    storeAll(b, 0, 3);
    m.define(index, [[10, I64]], b.code);
  }
  // carry(out=0, a=1): locals 2..11 h, 12 c.
  {
    const b = new Body();
    for (let i = 0; i < 10; i++) b.loadLimb(1, i).set(2 + i);
    emitCarry(b, 2, 12);
    storeAll(b, 0, 2);
    m.define(f.carry, [[11, I64]], b.code);
  }
  // copy(out=0, a=1).
  {
    const b = new Body();
    for (let i = 0; i < 10; i++) b.get(0).loadLimb(1, i).op(OP.i64Store, 3, ...unsignedLeb(8 * i));
    m.define(f.copy, [], b.code);
  }
  // cswap(a=0, b=1, bit=2): mask = −bit; x = (a ⊕ b) ∧ mask; a ⊕= x; b ⊕= x.
  {
    const b = new Body();
    const MASK = 3, X = 4;
    b.i64(0).get(2).op(OP.i64ExtendI32U, OP.i64Sub).set(MASK);
    for (let i = 0; i < 10; i++) {
      b.loadLimb(0, i).loadLimb(1, i).op(OP.i64Xor).get(MASK).op(OP.i64And).set(X);
      b.get(0).loadLimb(0, i).get(X).op(OP.i64Xor, OP.i64Store, 3, ...unsignedLeb(8 * i));
      b.get(1).loadLimb(1, i).get(X).op(OP.i64Xor, OP.i64Store, 3, ...unsignedLeb(8 * i));
    }
    m.define(f.cswap, [[2, I64]], b.code);
  }
  // mulSmall(out=0, a=1, k=2): locals 3..12 h, 13 c.
  {
    const b = new Body();
    for (let i = 0; i < 10; i++) b.loadLimb(1, i).get(2).op(OP.i64Mul).set(3 + i);
    emitCarry(b, 3, 13);
    storeAll(b, 0, 3);
    m.define(f.mulSmall, [[11, I64]], b.code);
  }
  // fromBytes(out=0, bytes=1): limb i = bits [SHIFT_i, SHIFT_i + WIDTH_i) of the 255-bit value.
  {
    const b = new Body();
    for (let i = 0; i < 10; i++) {
      b.get(0).get(1).op(OP.i64Load, 0, ...unsignedLeb(SHIFT[i]! >> 3));
      b.i64(SHIFT[i]! & 7).op(OP.i64ShrU).i64((1 << WIDTH[i]!) - 1).op(OP.i64And);
      b.op(OP.i64Store, 3, ...unsignedLeb(8 * i));
    }
    m.define(f.fromBytes, [], b.code);
  }
  // toBytes(bytes=0, a=1): carry, add 2p (all limbs positive), carry, then subtract p once
  // if the value is ≥ p: q = ⌊(v + 19) / 2^255⌋, v + 19q with the carry out of bit 255 dropped.
  {
    const b = new Body();
    const H = 2, C = 12, Q = 13;
    for (let i = 0; i < 10; i++) b.loadLimb(1, i).set(H + i);
    emitCarry(b, H, C);
    for (let i = 0; i < 10; i++) {
      const twoP = 2 * ((2 ** WIDTH[i]!) - (i === 0 ? 19 : 1)); // 2p in limbs
      b.get(H + i).i64(twoP).op(OP.i64Add).set(H + i);
    }
    emitCarry(b, H, C);
    b.get(H).i64(19).op(OP.i64Add).i64(26).op(OP.i64ShrS).set(Q);
    for (let i = 1; i < 10; i++) {
      b.get(H + i).get(Q).op(OP.i64Add).i64(WIDTH[i]!).op(OP.i64ShrS).set(Q);
    }
    b.get(H).get(Q).i64(19).op(OP.i64Mul, OP.i64Add).set(H);
    for (let i = 0; i < 10; i++) {
      b.get(H + i).i64(WIDTH[i]!).op(OP.i64ShrS).set(C);
      b.get(H + i).i64((1 << WIDTH[i]!) - 1).op(OP.i64And).set(H + i);
      if (i < 9) b.get(H + i + 1).get(C).op(OP.i64Add).set(H + i + 1);
    }
    for (let w = 0; w < 4; w++) {
      b.get(0);
      let first = true;
      for (let i = 0; i < 10; i++) {
        const lo = SHIFT[i]!, hi = lo + WIDTH[i]!;
        if (hi <= 64 * w || lo >= 64 * w + 64) continue;
        b.get(H + i);
        if (lo < 64 * w) b.i64(64 * w - lo).op(OP.i64ShrU);
        else if (lo > 64 * w) b.i64(lo - 64 * w).op(OP.i64Shl);
        if (!first) b.op(OP.i64Or);
        first = false;
      }
      b.op(OP.i64Store, 0, ...unsignedLeb(8 * w));
    }
    m.define(f.toBytes, [[12, I64]], b.code);
  }
  // sqn(out=0, a=1, n=2): out = a^(2^n), n ≥ 1.
  {
    const b = new Body();
    b.get(0).get(1).call(f.sq);
    b.op(OP.block, 0x40, OP.loop, 0x40);
    b.get(2).i32(1).op(OP.i32Sub, OP.localTee, 2, OP.i32Eqz, OP.brIf, 1);
    b.get(0).get(0).call(f.sq).op(OP.br, 0, OP.end, OP.end);
    m.define(sqn, [], b.code);
  }
  // The addition chains of ref10 for 2^252 − 3 and 2^255 − 21 (comments: exponents reached).
  const t = [0, 1, 2, 3].map((k) => scratch + k * FE_BYTES);
  const chain = (index: number, steps: readonly Step[]) => {
    const b = new Body();
    const addr = (x: Reg) => (x === "z" ? b.get(1) : x === "out" ? b.get(0) : b.i32(t[x]!));
    for (const step of steps) {
      if (step[0] === "sq") addr(step[1]), addr(step[2]), b.i32(step[3]).call(sqn);
      else addr(step[1]), addr(step[2]), addr(step[3]), b.call(f.mul);
    }
    m.define(index, [], b.code);
  };
  chain(f.pow22523, POW22523_STEPS);
  chain(f.invert, [...CHAIN_TO_2_250_MINUS_1, ["sq", 1, 1, 5], ["mul", "out", 1, 0]]); // 2^255 − 32 + 11
  return f;
}

/** A register of an addition chain: scratch 0..3, the input z, or the output. */
export type Field25519ChainRegister = 0 | 1 | 2 | 3 | "z" | "out";
/** One step of an addition chain: `["sq", out, a, n]` (out = a^(2^n)) or `["mul", out, a, b]`. */
export type Field25519ChainStep =
  | readonly ["sq", Field25519ChainRegister, Field25519ChainRegister, number]
  | readonly ["mul", Field25519ChainRegister, Field25519ChainRegister, Field25519ChainRegister];
type Reg = Field25519ChainRegister;
type Step = Field25519ChainStep;

// ref10's addition chain up to z^(2^250 − 1) in scratch 1 (comments: exponents reached).
const CHAIN_TO_2_250_MINUS_1: readonly Field25519ChainStep[] = [
  ["sq", 0, "z", 1], // t0 = z^2
  ["sq", 1, 0, 2], // t1 = z^8
  ["mul", 1, "z", 1], // t1 = z^9
  ["mul", 0, 0, 1], // t0 = z^11
  ["sq", 2, 0, 1], // t2 = z^22
  ["mul", 1, 1, 2], // t1 = z^(2^5 − 1)
  ["sq", 2, 1, 5],
  ["mul", 1, 2, 1], // 2^10 − 1
  ["sq", 2, 1, 10],
  ["mul", 2, 2, 1], // 2^20 − 1
  ["sq", 3, 2, 20],
  ["mul", 2, 3, 2], // 2^40 − 1
  ["sq", 2, 2, 10],
  ["mul", 1, 2, 1], // 2^50 − 1
  ["sq", 2, 1, 50],
  ["mul", 2, 2, 1], // 2^100 − 1
  ["sq", 3, 2, 100],
  ["mul", 2, 3, 2], // 2^200 − 1
  ["sq", 2, 2, 50],
  ["mul", 1, 2, 1], // t1 = z^(2^250 − 1)
];

/** ref10's addition chain for z^(2^252 − 3) (the inverse square root's exponent), shared by the SIMD pair field (./field25519x2.ts). */
export const POW22523_STEPS: readonly Field25519ChainStep[] = [
  ...CHAIN_TO_2_250_MINUS_1,
  ["sq", 1, 1, 2], // 2^252 − 4
  ["mul", "out", 1, "z"], // 2^252 − 3
];
