/**
 * Scalar arithmetic modulo the ristretto255 group order ℓ = 2^252 + δ (RFC 9496 §4,
 * RFC 8032 §5.1) as WebAssembly functions over 32- and 64-byte little-endian numbers in
 * linear memory, each one call for a whole list (issue 17: each worker isolate compiled the
 * JavaScript form of these again in the voters' encryption):
 * - `scalar_wide_many(out, wide, count)`: wide reduction of 64-byte numbers mod ℓ
 *   (RFC 9496 §4.3.4, RFC 8032 §5.1.7);
 * - `scalar_muladd_many(out, a, b, c, count, steps)`: a·b + c mod ℓ (RFC 8032 §5.1.6 S = r + k·s),
 *   each of a, b, c and out stepping 32 bytes per scalar or staying (bits 1, 2, 4, 8 of `steps`);
 * - `scalar_half_many(out, x, count) → i32`: x/2 mod ℓ = (x + (x mod 2)·ℓ)/2, and 1 when
 *   every x is below ℓ, else 0.
 *
 * Numbers are held as 21-bit limbs in i64 locals (21·12 = 252, so 2^252 ≡ −δ folds limb
 * k ≥ 12 onto limbs k−12…k−7 with the six signed 21-bit digits of −δ; every intermediate stays
 * below 2^53). Constant time for secret inputs: the code per scalar is straight-line (loads at
 * fixed offsets, multiplications, shifts and additions, the conditional addition of ℓ and the
 * halving's odd case as products by a 0/1 value); the only branch is the loop over the count,
 * and no memory address depends on a value.
 *
 * @module
 */

import {
  countUp,
  I32,
  I64,
  OP,
  unsignedLeb,
  WasmCode,
  type WasmModuleBuilder,
} from "../../core/wasm_module.ts";

/** The group order ℓ (RFC 9496 §4). */
export const SCALAR_ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;

/** Bits per limb. */
const BITS = 21;
/** Limbs of the scratch: a 512-bit product or wide input with carry room (27·21 = 567 bits). */
const LIMBS = 27;

/** The signed 21-bit digits of −δ = 2^252 − ℓ (six of them: |δ| < 2^125). */
const MINUS_DELTA: bigint[] = [];
/** ℓ in unsigned 21-bit limbs 0…12. */
const ORDER_LIMBS: bigint[] = [];
{
  let x = (1n << 252n) - SCALAR_ORDER; // −δ
  for (let j = 0; j < 6; j++) {
    let d = BigInt.asUintN(BITS, x);
    if (d >= 1n << 20n) d -= 1n << 21n;
    MINUS_DELTA.push(d);
    x = (x - d) >> 21n;
  }
  if (x !== 0n) throw new RangeError("−δ does not fit six 21-bit digits");
  let l = SCALAR_ORDER;
  for (let j = 0; j < 13; j++, l >>= 21n) ORDER_LIMBS.push(BigInt.asUintN(BITS, l));
}

/** Indices of the three functions. */
export interface ScalarOps {
  /** scalar_wide_many(out, wide, count). */
  wideMany: number;
  /** scalar_muladd_many(out, a, b, c, count, steps). */
  mulAddMany: number;
  /** scalar_half_many(out, x, count) → i32. */
  halfMany: number;
}

/** Straight-line code over i64 limb locals x[0…26] and one i64 temporary `t`. */
class Limbs {
  constructor(readonly c: WasmCode, readonly x: readonly number[], readonly t: number) {}

  /** Limbs 0…count−1 of the `bytes`-byte number at local `ptr` into limb locals `into`. */
  unpack(into: readonly number[], count: number, ptr: number, bytes: number): void {
    const c = this.c;
    for (let j = 0; j < count; j++) {
      const bit = BITS * j, width = Math.min(BITS, 8 * bytes - bit);
      // An 8-byte load at the limb's byte (bytes past the number are masked off; the
      // positions are public).
      c.get(ptr).op(OP.i64Load, 0, ...unsignedLeb(bit >> 3));
      if ((bit & 7) !== 0) c.i64(bit & 7).op(OP.i64ShrU);
      c.i64((1n << BigInt(width)) - 1n).op(OP.i64And).set(into[j]!);
    }
  }

  /**
   * Carries of limbs to − 1 down to `from`, each into the limb above and all from the limbs'
   * values before the pass: limb j keeps x − 2^21·⌊(x + 2^20)/2^21⌋ ∈ [−2^20, 2^20).
   */
  carryPass(from: number, to: number): void {
    const { c, x, t } = this;
    for (let j = to - 1; j >= from; j--) {
      c.get(x[j]!).i64(1 << 20).op(OP.i64Add).i64(BITS).op(OP.i64ShrS).set(t);
      c.get(x[j]!).get(t).i64(BITS).op(OP.i64Shl, OP.i64Sub).set(x[j]!);
      c.get(x[j + 1]!).get(t).op(OP.i64Add).set(x[j + 1]!);
    }
  }

  /**
   * Two {@linkcode carryPass}es: limbs from…to − 1 below 2^k become within 2^20 + 2^(k−42) + 1
   * (within 2^20 + 2 for k ≤ 42), carries into limb `to`.
   */
  carryBalanced(from: number, to: number): void {
    this.carryPass(from, to);
    this.carryPass(from, to);
  }

  /** Floor carries from limb 0 up to limb `to` − 1 into limb `to`: limbs in [0, 2^21). */
  carryUnsigned(to: number, x: readonly number[] = this.x): void {
    const { c, t } = this;
    for (let j = 0; j < to; j++) {
      c.get(x[j]!).i64(BITS).op(OP.i64ShrS).set(t); // ⌊x / 2^21⌋
      c.get(x[j]!).i64((1 << BITS) - 1).op(OP.i64And).set(x[j]!);
      c.get(x[j + 1]!).get(t).op(OP.i64Add).set(x[j + 1]!);
    }
  }

  /** Limbs k = hi down to lo (lo ≥ 12) folded by 2^252 ≡ −δ onto limbs k−12…k−7, then zeroed. */
  fold(hi: number, lo: number): void {
    const { c, x } = this;
    for (let k = hi; k >= lo; k--) {
      for (let j = 0; j < 6; j++) {
        c.get(x[k - 12 + j]!).get(x[k]!).i64(MINUS_DELTA[j]!).op(OP.i64Mul, OP.i64Add);
        c.set(x[k - 12 + j]!);
      }
      c.i64(0).set(x[k]!);
    }
  }

  /** x_j += factor·ℓ_j for j ≤ 12 (`factor` a local holding 0 or 1). */
  addOrder(factor: number): void {
    const { c, x } = this;
    for (let j = 0; j <= 12; j++) {
      c.get(x[j]!).get(factor).i64(ORDER_LIMBS[j]!).op(OP.i64Mul, OP.i64Add).set(x[j]!);
    }
  }

  /** Limbs 0…12 (each in [0, 2^21), limb 12 below 2^4) as 32 bytes at local `ptr`. */
  pack(ptr: number): void {
    const { c, x } = this;
    for (let w = 0; w < 4; w++) {
      c.get(ptr);
      let terms = 0;
      for (let j = 0; j <= 12; j++) {
        const shift = BITS * j - 64 * w;
        if (shift >= 64 || shift + BITS <= 0) continue;
        c.get(x[j]!);
        if (shift > 0) c.i64(shift).op(OP.i64Shl);
        if (shift < 0) c.i64(-shift).op(OP.i64ShrU);
        if (terms++ > 0) c.op(OP.i64Or);
      }
      c.op(OP.i64Store, 0, ...unsignedLeb(8 * w)); // alignment hint 0: any address
    }
  }

  /**
   * The value of limbs 0…26 (each below 2^50 in magnitude; below 2^21 when `normalized`, with
   * limbs `top` + 1… zero) mod ℓ, as 32 canonical bytes at local `ptr`. A fixed schedule.
   */
  reduce(ptr: number, normalized: boolean, top: number): void {
    const { c, x, t } = this;
    // Limbs 0…25 within 2^20 + 2^8 + 1, limb 26 small.
    if (!normalized) this.carryBalanced(0, 26);
    // Seven limbs at a time: their images (limbs ≤ hi − 7) are below the limbs folded.
    this.fold(normalized ? top : 26, 20);
    this.carryBalanced(0, 20);
    this.fold(20, 14);
    this.carryBalanced(0, 14);
    this.fold(14, 12);
    // Now limbs 12…26 are 0, limbs 8…11 within 2^20 + 2^3 + 1 and limbs 0…7 below 2^45, so
    // the value v (which the carries below keep) has |v| < (2^20 + 9)·2^231·(1 + 2^−20) +
    // 2^193 < 2^252. Hence ⌊v / 2^252⌋ ∈ {−1, 0}, and since ℓ > 2^252, v or v + ℓ is in [0, ℓ).
    this.carryBalanced(0, 12);
    this.carryUnsigned(12); // x₁₂ = ⌊v / 2^252⌋: −1 when v < 0, else 0
    c.i64(0).get(x[12]!).op(OP.i64Sub).set(t); // 0 or 1
    this.addOrder(t); // v + ℓ if v < 0
    this.carryUnsigned(12); // 0 ≤ v < ℓ < 2^253: limbs 0…11 in [0, 2^21), x₁₂ ∈ {0, 1}
    this.pack(ptr);
  }
}

/** local p += step (both locals). */
function advance(c: WasmCode, p: number, step: number | readonly [number]): void {
  c.get(p);
  if (typeof step === "number") c.i32(step);
  else c.get(step[0]);
  c.op(OP.i32Add).set(p);
}

/** Indices of 27 + 13 + 13 i64 locals from `first` on: the limbs x, and a and b. */
function limbLocals(first: number): { x: number[]; a: number[]; b: number[]; t: number } {
  const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);
  return {
    x: range(first, LIMBS),
    a: range(first + LIMBS, 13),
    b: range(first + LIMBS + 13, 13),
    t: first + LIMBS + 26,
  };
}
/** i64 locals {@linkcode limbLocals} uses. */
const I64_LOCALS = LIMBS + 26 + 1;

/**
 * Declares and defines the three scalar functions.
 *
 * @param m the module (its memory holds the numbers; each function reads up to 7 bytes past
 *   its last input, which must still be in the memory)
 * @returns the functions' indices
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "../../core/wasm_module.ts";
 * import { addScalarOps } from "./scalar_wasm.ts";
 * const ops = addScalarOps(new WasmModuleBuilder(1));
 * console.assert(ops.wideMany !== ops.mulAddMany);
 * ```
 */
export function addScalarOps(m: WasmModuleBuilder): ScalarOps {
  const ops: ScalarOps = {
    wideMany: m.declare("scalar_wide_many", [I32, I32, I32]),
    mulAddMany: m.declare("scalar_muladd_many", [I32, I32, I32, I32, I32, I32]),
    halfMany: m.declare("scalar_half_many", [I32, I32, I32], [I32]),
  };
  // wide_many(out=0, wide=1, count=2); locals 3 i; i64 limbs from 4.
  {
    const c = new WasmCode(), OUT = 0, WIDE = 1, I = 3;
    const { x, t } = limbLocals(4), l = new Limbs(c, x, t);
    countUp(c, I, 2, () => {
      l.unpack(x, 25, WIDE, 64);
      l.reduce(OUT, true, 24);
      advance(c, OUT, 32);
      advance(c, WIDE, 64);
    });
    m.define(ops.wideMany, [[1, I32], [I64_LOCALS, I64]], c.code);
  }
  // muladd_many(out=0, a=1, b=2, c=3, count=4, steps=5); locals 6 i, 7…10 the steps of a, b,
  // c, out; i64 limbs from 11.
  {
    const c = new WasmCode(), OUT = 0, A = 1, B = 2, C = 3, I = 6, STEP = [7, 8, 9, 10];
    const { x, a, b, t } = limbLocals(11), l = new Limbs(c, x, t);
    // Step of pointer k: 32 when bit k of `steps` is set, else 0 (public).
    for (let k = 0; k < 4; k++) {
      c.get(5).i32(k).op(OP.i32ShrU).i32(1).op(OP.i32And).i32(5).op(OP.i32Shl).set(STEP[k]!);
    }
    countUp(c, I, 4, () => {
      l.unpack(a, 13, A, 32);
      l.unpack(b, 13, B, 32);
      l.unpack(x, 13, C, 32);
      // Schoolbook product by columns: limb k sums at most 13 products below 2^42 (< 2^46).
      for (let k = 0; k < 25; k++) {
        const lo = k < 13 ? 0 : k - 12, hi = k < 13 ? k : 12;
        if (k < 13) c.get(x[k]!);
        for (let i = lo; i <= hi; i++) {
          c.get(a[i]!).get(b[k - i]!).op(OP.i64Mul);
          if (k < 13 || i > lo) c.op(OP.i64Add);
        }
        c.set(x[k]!);
      }
      c.i64(0).set(x[25]!).i64(0).set(x[26]!);
      l.reduce(OUT, false, 26);
      for (const [p, step] of [[A, 7], [B, 8], [C, 9], [OUT, 10]] as const) advance(c, p, [step]);
    });
    m.define(ops.mulAddMany, [[5, I32], [I64_LOCALS, I64]], c.code);
  }
  // half_many(out=0, x=1, count=2) → all below ℓ; locals 3 i, 4 below; i64 limbs from 5.
  {
    const c = new WasmCode(), OUT = 0, X = 1, I = 3, BELOW = 4;
    const { x, b: y, t } = limbLocals(5), l = new Limbs(c, x, t);
    c.i32(1).set(BELOW);
    countUp(c, I, 2, () => {
      l.unpack(x, 13, X, 32);
      // x − ℓ with floor carries: its top limb is negative exactly when x < ℓ.
      for (let j = 0; j <= 12; j++) c.get(x[j]!).i64(ORDER_LIMBS[j]!).op(OP.i64Sub).set(y[j]!);
      l.carryUnsigned(12, y);
      c.get(BELOW).get(y[12]!).i64(63).op(OP.i64ShrU, OP.i32WrapI64, OP.i32And).set(BELOW);
      // x + (x mod 2)·ℓ (below 2^257), then halved limb by limb.
      c.get(x[0]!).i64(1).op(OP.i64And).set(t);
      l.addOrder(t);
      l.carryUnsigned(12);
      for (let j = 0; j < 12; j++) {
        c.get(x[j]!).i64(1).op(OP.i64ShrU);
        c.get(x[j + 1]!).i64(1).op(OP.i64And).i64(BITS - 1).op(OP.i64Shl, OP.i64Or).set(x[j]!);
      }
      c.get(x[12]!).i64(1).op(OP.i64ShrU).set(x[12]!);
      l.pack(OUT);
      advance(c, OUT, 32);
      advance(c, X, 32);
    });
    c.get(BELOW);
    m.define(ops.halfMany, [[2, I32], [I64_LOCALS, I64]], c.code);
  }
  return ops;
}
