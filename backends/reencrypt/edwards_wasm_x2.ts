/**
 * Point arithmetic on edwards25519 for TWO points at once, one per SIMD lane of the field
 * pairs of core/field25519x2.ts, for ./curve_wasm.ts: the same formulas as ./edwards_wasm.ts
 * (Hisil–Wong–Carter–Dawson 2008, extended coordinates, a = −1: "add-2008-hwcd-3",
 * "dbl-2008-hwcd"), so a pair operation costs about 0.65 of two single ones. Where the two
 * lanes need different data (fixed-base table entries, Pippenger buckets), it is gathered
 * into one pair by byte shuffles (`i8x16.shuffle`) and scattered back.
 *
 * Layouts (each field pair {@linkcode PAIR_BYTES} bytes, lane 0 and lane 1 side by side):
 * - pair point: X, Y, Z, T;
 * - pair cached point: Y+X, Y−X, 2Z, 2d·T.
 *
 * @module
 */

import { type Field25519x2, PAIR_BYTES } from "../../core/field25519x2.ts";
import { NIELS_BYTES } from "./edwards_wasm.ts";
import { I32, OP, unsignedLeb, WasmCode, type WasmModuleBuilder } from "../../core/wasm_module.ts";

/** Bytes of a pair point or pair cached point. */
export const PAIR_POINT_BYTES = 4 * PAIR_BYTES;
/** Bytes of scratch memory {@linkcode addEdwardsOpsX2} needs. */
export const EDWARDS_X2_SCRATCH_BYTES = 12 * PAIR_BYTES + 10 * PAIR_POINT_BYTES;

/** Indices of the pair point functions (all addresses are i32). */
export interface EdwardsOpsX2 {
  /** dbl(out, p, withT: i32): out = 2p in both lanes; T is computed only when withT ≠ 0. */
  dbl: number;
  /** toCached(out, p); out may not overlap p. */
  toCached: number;
  /** addCached(out, p, q, withT: i32): out = p + q for q cached (out may be p); T only when withT ≠ 0. */
  addCached: number;
  /**
   * varMul(out, p, digits, windows): Σ_j digit_j·16^j·p in both lanes with the SAME i32
   * digits in [−8, 8), in constant time in the digits (every window adds one table entry
   * chosen by a full scan and a constant-time conditional negation).
   */
  varMul: number;
  /**
   * fixedMul(out, table, digitsA, digitsB, windows, half): lane 0 = Σ_j digitsA_j·2^(bits·j)·B
   * and lane 1 the same with digitsB, from the SINGLE Niels table of ./edwards_wasm.ts
   * (d·2^(bits·j)·B, d = 1..half, window-major; i32 digits in [−half, half)); each window
   * gathers the two lanes' entries into one pair and adds it by one pair mixed addition.
   */
  fixedMul: number;
  /** maddCached(out, p, q): out = p + q for q cached with Z = 1 in both lanes (2Z not read). */
  maddCached: number;
  /**
   * msmWindow(acc, buckets, half, points, digits, m, bits, affine): in each lane L,
   * acc_L = 2^bits·acc_L + Σ_i digit_{i,L}·p_{i,L} over m cached pairs with i32 digits in
   * [−half, half] at digits[2i + L], by buckets (Pippenger 1980): each addition gathers
   * the two lanes' buckets (which differ) into one pair, adds by one pair operation and
   * scatters back. affine ≠ 0 when every point has Z = 1. Variable time: public inputs only.
   */
  msmWindow: number;
}

/** SIMD instructions used here (WebAssembly core specification 2.0 §5.4.8, prefix 0xfd). */
const SIMD = {
  load: (offset: number) => [0xfd, 0x00, 4, ...unsignedLeb(offset)],
  store: (offset: number) => [0xfd, 0x0b, 4, ...unsignedLeb(offset)],
  shuffle: (lanes: readonly number[]) => [0xfd, 0x0d, ...lanes],
  i32x4Splat: [0xfd, 0x11],
  i32x4ReplaceLane: (lane: number) => [0xfd, 0x1c, lane],
  i32x4Neg: [0xfd, 0xa1, 0x01],
  bitselect: [0xfd, 0x52],
} as const;

/** Value type v128. */
const V128 = 0x7b;

/** A function body that calls functions with i32 address arguments. */
class Emitter extends WasmCode {
  /** Pushes an address: a parameter/local plus an offset, or an absolute address. */
  addr(x: Addr): this {
    if (typeof x === "number") return this.i32(x);
    this.get(x[0]);
    return x[1] === 0 ? this : this.i32(x[1]).op(OP.i32Add);
  }
  /** Pushes the arguments, then calls. */
  fn(index: number, ...args: (Addr | { k: number })[]): this {
    for (const a of args) {
      if (typeof a === "object" && !Array.isArray(a)) this.i32((a as { k: number }).k);
      else this.addr(a as Addr);
    }
    return this.call(index);
  }
}

/** A local holding an address plus a byte offset, or an absolute address. */
type Addr = number | readonly [number, number];

const X = 0, Y = PAIR_BYTES, Z = 2 * PAIR_BYTES, T = 3 * PAIR_BYTES;

/**
 * Declares and defines the pair point functions.
 *
 * @param m the module
 * @param f the pair field functions already added to it
 * @param at address of {@linkcode EDWARDS_X2_SCRATCH_BYTES} bytes of scratch (16-byte aligned)
 * @param constants addresses of the field pairs (0, 0), (1, 1) and (2d, 2d), of the
 *   single affine Niels identity (1, 1, 0) and of the pair cached identity (1, 1, 2, 0)
 *   (written by the caller)
 * @returns the functions' indices
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "../../core/wasm_module.ts";
 * import { addField25519x2 } from "../../core/field25519x2.ts";
 * import { addEdwardsOpsX2 } from "./edwards_wasm_x2.ts";
 * const m = new WasmModuleBuilder(1);
 * const ops = addEdwardsOpsX2(m, addField25519x2(m), 0, {
 *   zero: 8000,
 *   one: 8080,
 *   d2: 8160,
 *   nielsIdentity: 8240,
 *   cachedIdentity: 8480,
 * });
 * console.assert(ops.dbl !== ops.varMul);
 * ```
 */
export function addEdwardsOpsX2(
  m: WasmModuleBuilder,
  f: Field25519x2,
  at: number,
  constants: {
    zero: number;
    one: number;
    d2: number;
    nielsIdentity: number;
    cachedIdentity: number;
  },
): EdwardsOpsX2 {
  const ops: EdwardsOpsX2 = {
    dbl: m.declare("ge2_dbl", [I32, I32, I32]),
    toCached: m.declare("ge2_to_cached", [I32, I32]),
    addCached: m.declare("ge2_add_cached", [I32, I32, I32, I32]),
    varMul: m.declare("ge2_var_mul", [I32, I32, I32, I32]),
    fixedMul: m.declare("ge2_fixed_mul", [I32, I32, I32, I32, I32, I32]),
    maddCached: m.declare("ge2_madd_cached", [I32, I32, I32]),
    msmWindow: m.declare("ge2_msm_window", [I32, I32, I32, I32, I32, I32, I32, I32]),
  };
  const tmp = (k: number) => at + k * PAIR_BYTES; // field pair temporaries 0..11
  const tA = tmp(0), tB = tmp(1), tC = tmp(2), tD = tmp(3), tE = tmp(4);
  const tF = tmp(5), tG = tmp(6), tH = tmp(7), t0 = tmp(8), t1 = tmp(9);
  const cachedTmp = at + 12 * PAIR_BYTES; // the selected table entry
  const cachedIdentity2Z = tmp(10); // (2, 2), written by varMul
  const entry0 = () => cachedTmp + PAIR_POINT_BYTES; // the msm's four pair points
  const tableAt = cachedTmp + PAIR_POINT_BYTES; // 8 cached multiples + the running multiple
  const { zero, one, d2 } = constants;
  const carry = (e: Emitter, out: Addr, a: Addr) => e.fn(f.mulSmall, out, a, { k: 1 });

  // dbl(out=0, p=1, withT=2) (dbl-2008-hwcd, a = −1): A = X², B = Y², C = 2Z², S = A + B,
  // E = (X+Y)² − S, G = B − A, F = C − G, H = S; X3 = EF, Y3 = GH, Z3 = FG, T3 = EH — the
  // formula's F and H both negated, which negates all four coordinates: the same point.
  // No carries: E and F add up three carried values, |limb| ≤ 3·2^25 < 1.6·2^26.
  {
    const e = new Emitter();
    e.fn(f.sq, tA, [1, X]).fn(f.sq, tB, [1, Y]).fn(f.sq, tC, [1, Z]);
    e.fn(f.mulSmall, tC, tC, { k: 2 });
    e.fn(f.add, t0, [1, X], [1, Y]).fn(f.sq, t0, t0);
    e.fn(f.add, tH, tA, tB); // S
    e.fn(f.sub, tE, t0, tH);
    e.fn(f.sub, tG, tB, tA);
    e.fn(f.sub, tF, tC, tG);
    e.fn(f.mul, [0, X], tE, tF).fn(f.mul, [0, Y], tG, tH).fn(f.mul, [0, Z], tF, tG);
    e.get(2).op(OP.if, 0x40).fn(f.mul, [0, T], tE, tH).op(OP.end);
    m.define(ops.dbl, [], e.code);
  }
  // addCached(out=0, p=1, q=2, withT=3) (add-2008-hwcd-3): A = (Y1−X1)(Y2−X2), B = (Y1+X1)(Y2+X2),
  // C = T1·2dT2, D = Z1·2Z2; E = B − A, F = D − C, G = D + C, H = B + A.
  {
    const e = new Emitter();
    e.fn(f.sub, t0, [1, Y], [1, X]).fn(f.mul, tA, t0, [2, PAIR_BYTES]);
    e.fn(f.add, t1, [1, Y], [1, X]).fn(f.mul, tB, t1, [2, 0]);
    e.fn(f.mul, tC, [1, T], [2, 3 * PAIR_BYTES]).fn(f.mul, tD, [1, Z], [2, 2 * PAIR_BYTES]);
    e.fn(f.sub, tE, tB, tA).fn(f.add, tH, tB, tA);
    e.fn(f.sub, tF, tD, tC).fn(f.add, tG, tD, tC);
    e.fn(f.mul, [0, X], tE, tF).fn(f.mul, [0, Y], tG, tH).fn(f.mul, [0, Z], tF, tG);
    e.get(3).op(OP.if, 0x40).fn(f.mul, [0, T], tE, tH).op(OP.end);
    m.define(ops.addCached, [], e.code);
  }
  // toCached(out=0, p=1): (Y+X, Y−X, 2Z, 2d·T), every pair carried.
  {
    const e = new Emitter();
    e.fn(f.add, [0, 0], [1, Y], [1, X]);
    carry(e, [0, 0], [0, 0]);
    e.fn(f.sub, [0, PAIR_BYTES], [1, Y], [1, X]);
    carry(e, [0, PAIR_BYTES], [0, PAIR_BYTES]);
    e.fn(f.mulSmall, [0, 2 * PAIR_BYTES], [1, Z], { k: 2 });
    e.fn(f.mul, [0, 3 * PAIR_BYTES], [1, T], d2);
    m.define(ops.toCached, [], e.code);
  }
  // varMul(out=0, p=1, digits=2, windows=3); locals 4 j, 5 d, 6 |d|, 7 sign, 8 mask (v128).
  {
    const e = new Emitter();
    const J = 4, DIGIT = 5, ABS = 6, SIGN = 7, MASK = 8, SEL = 9;
    const entry = (k: number) => tableAt + k * PAIR_POINT_BYTES;
    const acc = entry(8); // running multiple while building the table
    e.fn(ops.toCached, entry(0), [1, 0]);
    for (let k = 0; k < 4 * PAIR_BYTES; k += 16) {
      e.i32(acc + k).get(1).op(...SIMD.load(k), ...SIMD.store(0));
    }
    for (let k = 1; k < 8; k++) {
      e.fn(ops.addCached, acc, acc, entry(0), { k: 1 }).fn(ops.toCached, entry(k), acc);
    }
    // out = identity (0, 1, 1, 0)
    for (const [c, v] of [[X, zero], [Y, one], [Z, one], [T, zero]] as const) {
      for (let k = 0; k < PAIR_BYTES; k += 16) {
        e.get(0).i32(v).op(...SIMD.load(k), ...SIMD.store(c + k));
      }
    }
    e.fn(f.add, cachedIdentity2Z, one, one);
    e.get(3).set(J);
    e.op(OP.block, 0x40, OP.loop, 0x40);
    e.get(J).op(OP.i32Eqz, OP.brIf, 1);
    e.get(J).i32(1).op(OP.i32Sub).set(J);
    for (let k = 0; k < 4; k++) e.fn(ops.dbl, [0, 0], [0, 0], { k: k === 3 ? 1 : 0 });
    e.get(2).get(J).i32(2).op(OP.i32Shl, OP.i32Add, OP.i32Load, 2, 0).set(DIGIT);
    e.get(DIGIT).i32(31).op(OP.i32ShrU).set(SIGN); // 1 when negative
    e.get(DIGIT).get(DIGIT).i32(31).op(OP.i32ShrS).tee(ABS).op(OP.i32Xor).get(ABS).op(OP.i32Sub)
      .set(ABS);
    // Locals SEL.. (20 v128) = the cached identity (1, 1, 2, 0) in both lanes, then entry
    // k−1 when |d| = k by a full scan with a mask (no branch on the digit).
    for (let l = 0; l < PAIR_POINT_BYTES; l += 16) {
      const c = Math.floor(l / PAIR_BYTES), k = l % PAIR_BYTES;
      e.i32([one, one, cachedIdentity2Z, zero][c]!).op(...SIMD.load(k)).set(SEL + l / 16);
    }
    for (let k = 1; k <= 8; k++) {
      e.i32(0).get(ABS).i32(k).op(OP.i32Eq, OP.i32Sub, ...SIMD.i32x4Splat).set(MASK);
      for (let l = 0; l < PAIR_POINT_BYTES; l += 16) {
        e.i32(entry(k - 1) + l).op(...SIMD.load(0));
        e.get(SEL + l / 16).get(MASK).op(...SIMD.bitselect).set(SEL + l / 16);
      }
    }
    for (let l = 0; l < PAIR_POINT_BYTES; l += 16) {
      e.i32(cachedTmp + l).get(SEL + l / 16).op(...SIMD.store(0));
    }
    // Negative digit: swap Y+X with Y−X and negate 2dT, both by constant-time swaps.
    e.addr(cachedTmp).addr(cachedTmp + PAIR_BYTES).get(SIGN).get(SIGN).call(f.cswap);
    e.fn(f.sub, t0, zero, cachedTmp + 3 * PAIR_BYTES);
    e.addr(cachedTmp + 3 * PAIR_BYTES).addr(t0).get(SIGN).get(SIGN).call(f.cswap);
    // T of the sum only after the last window (doublings do not read T).
    e.addr([0, 0]).addr([0, 0]).addr(cachedTmp).get(J).op(OP.i32Eqz).call(ops.addCached);
    e.op(OP.br, 0, OP.end, OP.end);
    m.define(ops.varMul, [[4, I32], [21, V128]], e.code);
  }
  // fixedMul(out=0, table=1, digitsA=2, digitsB=3, windows=4, half=5); locals 6 j, 7 dA,
  // 8 dB, 9 entryA, 10 entryB. Pair Niels entry at `niels` (y+x, y−x, 2d·x·y).
  {
    const e = new Emitter();
    const J = 6, DA = 7, DB = 8, EA = 9, EB = 10, YA = 11, MA = 12, YB = 13, MB = 14;
    const MASK = 15, GATHERED = 16;
    const niels = cachedTmp;
    // The low 32 bits of limbs 2v and 2v+1 of two single elements: (a₂ᵥ, b₂ᵥ, a₂ᵥ₊₁, b₂ᵥ₊₁).
    const GATHER = [0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27];
    for (const [c, v] of [[X, zero], [Y, one], [Z, one], [T, zero]] as const) {
      for (let k = 0; k < PAIR_BYTES; k += 16) {
        e.get(0).i32(v).op(...SIMD.load(k), ...SIMD.store(c + k));
      }
    }
    e.i32(0).set(J);
    e.op(OP.block, 0x40, OP.loop, 0x40);
    e.get(J).get(4).op(OP.i32GeU, OP.brIf, 1);
    // entry = table + (j·half + |d| − 1)·NIELS_BYTES, or the Niels identity for d = 0; a
    // window where both digits are 0 is skipped (as the single fixedMul skips zero digits).
    for (const [digits, d] of [[2, DA], [3, DB]] as const) {
      e.get(digits).get(J).i32(2).op(OP.i32Shl, OP.i32Add, OP.i32Load, 2, 0).set(d);
    }
    e.get(DA).get(DB).op(OP.i32Or, OP.if, 0x40);
    for (const [d, entry] of [[DA, EA], [DB, EB]] as const) {
      e.get(J).get(5).op(OP.i32Mul);
      e.get(d).get(d).i32(31).op(OP.i32ShrS).tee(entry).op(OP.i32Xor).get(entry).op(OP.i32Sub);
      e.op(OP.i32Add).i32(1).op(OP.i32Sub).i32(NIELS_BYTES).op(OP.i32Mul).get(1);
      e.op(OP.i32Add).set(entry);
      e.get(entry).i32(constants.nielsIdentity).get(d).op(SELECT).set(entry);
    }
    // A negative digit takes y−x as y+x and y+x as y−x (by address) and −2d·x·y (limbs
    // negated, then chosen lane by lane with the mask of the signs).
    for (const [d, entry, ypx, ymx] of [[DA, EA, YA, MA], [DB, EB, YB, MB]] as const) {
      e.get(d).i32(31).op(OP.i32ShrU).i32(PAIR_BYTES).op(OP.i32Mul).set(ypx); // 80 if negative
      e.get(entry).i32(PAIR_BYTES).op(OP.i32Add).get(ypx).op(OP.i32Sub).set(ymx);
      e.get(entry).get(ypx).op(OP.i32Add).set(ypx);
    }
    e.get(DA).i32(31).op(OP.i32ShrS, ...SIMD.i32x4Splat);
    e.get(DB).i32(31).op(OP.i32ShrS, ...SIMD.i32x4ReplaceLane(1));
    e.get(DB).i32(31).op(OP.i32ShrS, ...SIMD.i32x4ReplaceLane(3)).set(MASK);
    for (let l = 0; l < PAIR_BYTES; l += 16) {
      e.i32(niels + l).get(YA).op(...SIMD.load(l)).get(YB).op(...SIMD.load(l));
      e.op(...SIMD.shuffle(GATHER), ...SIMD.store(0));
      e.i32(niels + PAIR_BYTES + l).get(MA).op(...SIMD.load(l)).get(MB).op(...SIMD.load(l));
      e.op(...SIMD.shuffle(GATHER), ...SIMD.store(0));
      e.i32(niels + 2 * PAIR_BYTES + l);
      e.get(EA).op(...SIMD.load(2 * PAIR_BYTES + l)).get(EB).op(...SIMD.load(2 * PAIR_BYTES + l));
      e.op(...SIMD.shuffle(GATHER)).tee(GATHERED).op(...SIMD.i32x4Neg).get(GATHERED);
      e.get(MASK).op(...SIMD.bitselect, ...SIMD.store(0));
    }
    // madd-2008-hwcd-3: A = (Y1−X1)(y−x), B = (Y1+X1)(y+x), C = T1·2dxy, D = 2Z1.
    e.fn(f.sub, t0, [0, Y], [0, X]).fn(f.mul, tA, t0, niels + PAIR_BYTES);
    e.fn(f.add, t1, [0, Y], [0, X]).fn(f.mul, tB, t1, niels);
    e.fn(f.mul, tC, [0, T], niels + 2 * PAIR_BYTES).fn(f.mulSmall, tD, [0, Z], { k: 2 });
    e.fn(f.sub, tE, tB, tA).fn(f.add, tH, tB, tA);
    e.fn(f.sub, tF, tD, tC).fn(f.add, tG, tD, tC);
    e.fn(f.mul, [0, X], tE, tF).fn(f.mul, [0, Y], tG, tH);
    e.fn(f.mul, [0, T], tE, tH).fn(f.mul, [0, Z], tF, tG);
    e.op(OP.end);
    e.get(J).i32(1).op(OP.i32Add).set(J).op(OP.br, 0, OP.end, OP.end);
    m.define(ops.fixedMul, [[9, I32], [2, V128]], e.code);
  }
  // maddCached(out=0, p=1, q=2): addCached with D = 2·Z1 (Z2 = 1).
  {
    const e = new Emitter();
    e.fn(f.sub, t0, [1, Y], [1, X]).fn(f.mul, tA, t0, [2, PAIR_BYTES]);
    e.fn(f.add, t1, [1, Y], [1, X]).fn(f.mul, tB, t1, [2, 0]);
    e.fn(f.mul, tC, [1, T], [2, 3 * PAIR_BYTES]).fn(f.mulSmall, tD, [1, Z], { k: 2 });
    e.fn(f.sub, tE, tB, tA).fn(f.add, tH, tB, tA);
    e.fn(f.sub, tF, tD, tC).fn(f.add, tG, tD, tC);
    e.fn(f.mul, [0, X], tE, tF).fn(f.mul, [0, Y], tG, tH);
    e.fn(f.mul, [0, T], tE, tH).fn(f.mul, [0, Z], tF, tG);
    m.define(ops.maddCached, [], e.code);
  }
  // msmWindow(acc=0, buckets=1, half=2, points=3, digits=4, m=5, bits=6, affine=7);
  // locals 8 i, 9 dA, 10 dB, 11 bucketA, 12 bucketB, 13 pointA, 14 pointB.
  {
    const e = new Emitter();
    const I = 8, DA = 9, DB = 10, BA = 11, BB = 12, PA = 13, PB = 14;
    const YA = 15, MA = 16, YB = 17, MB = 18, MASK = 19, GATHERED = 20;
    const tmpP = entry0(), tmpB = tmpP + PAIR_POINT_BYTES;
    const run = tmpB + PAIR_POINT_BYTES, sum = run + PAIR_POINT_BYTES;
    // Lanes 0 and 2 (lane 0 of two limbs) of the first vector, 1 and 3 of the second.
    const MIX = [0, 1, 2, 3, 20, 21, 22, 23, 8, 9, 10, 11, 28, 29, 30, 31];
    const loop = (body: () => void) => {
      e.op(OP.block, 0x40, OP.loop, 0x40);
      body();
      e.op(OP.br, 0, OP.end, OP.end);
    };
    const copy = (to: Addr, from: Addr, bytes: number) => {
      for (let l = 0; l < bytes; l += 16) {
        e.addr(to).addr(from).op(...SIMD.load(l), ...SIMD.store(l));
      }
    };
    // acc = 2^bits·acc
    e.get(6).set(I);
    loop(() => {
      e.get(I).op(OP.i32Eqz, OP.brIf, 1);
      e.fn(ops.dbl, [0, 0], [0, 0], { k: 1 });
      e.get(I).i32(1).op(OP.i32Sub).set(I);
    });
    // buckets 1..half = identity (0, 1, 1, 0) in both lanes
    e.i32(0).set(I);
    loop(() => {
      e.get(I).get(2).op(OP.i32GeU, OP.brIf, 1);
      e.get(1).get(I).i32(PAIR_POINT_BYTES).op(OP.i32Mul, OP.i32Add).set(BA);
      for (const [c, v] of [[X, zero], [Y, one], [Z, one], [T, zero]] as const) {
        copy([BA, c], v, PAIR_BYTES);
      }
      e.get(I).i32(1).op(OP.i32Add).set(I);
    });
    // bucket_{|dA|} lane 0 ±= p_{i,0} and bucket_{|dB|} lane 1 ±= p_{i,1} by one pair addition.
    e.i32(0).set(I);
    loop(() => {
      e.get(I).get(5).op(OP.i32GeU, OP.brIf, 1);
      e.get(4).get(I).i32(3).op(OP.i32Shl, OP.i32Add).tee(BA).op(OP.i32Load, 2, 0).set(DA);
      e.get(BA).op(OP.i32Load, 2, 4).set(DB);
      e.get(DA).get(DB).op(OP.i32Or, OP.if, 0x40);
      e.get(3).get(I).i32(PAIR_POINT_BYTES).op(OP.i32Mul, OP.i32Add).tee(PA).set(PB);
      for (const [d, bucket, point] of [[DA, BA, PA], [DB, BB, PB]] as const) {
        // bucket = buckets + (|d| − 1)·size, point = the pair or the identity for d = 0
        e.get(d).get(d).i32(31).op(OP.i32ShrS).tee(bucket).op(OP.i32Xor).get(bucket);
        e.op(OP.i32Sub).i32(1).op(OP.i32Sub).i32(PAIR_POINT_BYTES).op(OP.i32Mul).get(1);
        e.op(OP.i32Add).get(1).get(d).op(SELECT).set(bucket);
        e.get(point).i32(constants.cachedIdentity).get(d).op(SELECT).set(point);
      }
      // A negative digit takes Y−X as Y+X and Y+X as Y−X (by address) and −2dT (limbs
      // negated, chosen lane by lane with the mask of the signs).
      for (const [d, point, ypx, ymx] of [[DA, PA, YA, MA], [DB, PB, YB, MB]] as const) {
        e.get(d).i32(31).op(OP.i32ShrU).i32(PAIR_BYTES).op(OP.i32Mul).set(ypx);
        e.get(point).i32(PAIR_BYTES).op(OP.i32Add).get(ypx).op(OP.i32Sub).set(ymx);
        e.get(point).get(ypx).op(OP.i32Add).set(ypx);
      }
      e.get(DA).i32(31).op(OP.i32ShrS, ...SIMD.i32x4Splat);
      e.get(DB).i32(31).op(OP.i32ShrS, ...SIMD.i32x4ReplaceLane(1));
      e.get(DB).i32(31).op(OP.i32ShrS, ...SIMD.i32x4ReplaceLane(3)).set(MASK);
      for (let l = 0; l < PAIR_BYTES; l += 16) {
        e.i32(tmpP + l).get(YA).op(...SIMD.load(l)).get(YB).op(...SIMD.load(l));
        e.op(...SIMD.shuffle(MIX), ...SIMD.store(0));
        e.i32(tmpP + PAIR_BYTES + l).get(MA).op(...SIMD.load(l)).get(MB).op(...SIMD.load(l));
        e.op(...SIMD.shuffle(MIX), ...SIMD.store(0));
        const z = 2 * PAIR_BYTES + l, t = 3 * PAIR_BYTES + l;
        e.i32(tmpP + z).get(PA).op(...SIMD.load(z)).get(PB).op(...SIMD.load(z));
        e.op(...SIMD.shuffle(MIX), ...SIMD.store(0));
        e.i32(tmpP + t).get(PA).op(...SIMD.load(t)).get(PB).op(...SIMD.load(t));
        e.op(...SIMD.shuffle(MIX)).tee(GATHERED).op(...SIMD.i32x4Neg).get(GATHERED);
        e.get(MASK).op(...SIMD.bitselect, ...SIMD.store(0));
      }
      for (let l = 0; l < PAIR_POINT_BYTES; l += 16) {
        e.i32(tmpB + l).get(BA).op(...SIMD.load(l)).get(BB).op(...SIMD.load(l));
        e.op(...SIMD.shuffle(MIX), ...SIMD.store(0));
      }
      e.get(7).op(OP.if, 0x40);
      e.fn(ops.maddCached, tmpB, tmpB, tmpP);
      e.op(OP.else);
      e.fn(ops.addCached, tmpB, tmpB, tmpP, { k: 1 });
      e.op(OP.end);
      for (let l = 0; l < PAIR_POINT_BYTES; l += 16) {
        e.get(BA).i32(tmpB + l).op(...SIMD.load(0)).get(BA).op(...SIMD.load(l));
        e.op(...SIMD.shuffle(MIX), ...SIMD.store(l));
        e.get(BB).get(BB).op(...SIMD.load(l)).i32(tmpB + l).op(...SIMD.load(0));
        e.op(...SIMD.shuffle(MIX), ...SIMD.store(l));
      }
      e.op(OP.end);
      e.get(I).i32(1).op(OP.i32Add).set(I);
    });
    // running sums from the top bucket: run += bucket_k; acc += run (same in both lanes).
    for (const [c, v] of [[X, zero], [Y, one], [Z, one], [T, zero]] as const) {
      copy(run + c, v, PAIR_BYTES);
    }
    e.get(2).set(I);
    loop(() => {
      e.get(I).op(OP.i32Eqz, OP.brIf, 1);
      e.get(I).i32(1).op(OP.i32Sub).set(I);
      e.addr(sum).get(1).get(I).i32(PAIR_POINT_BYTES).op(OP.i32Mul, OP.i32Add).call(ops.toCached);
      e.fn(ops.addCached, run, run, sum, { k: 1 });
      e.fn(ops.toCached, sum, run).fn(ops.addCached, [0, 0], [0, 0], sum, { k: 1 });
    });
    m.define(ops.msmWindow, [[11, I32], [2, V128]], e.code);
  }
  return ops;
}

/** `select` (WebAssembly core §5.4.2): the first operand when the i32 condition ≠ 0. */
const SELECT = 0x1b;
