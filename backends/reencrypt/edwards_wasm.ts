/**
 * Point arithmetic on the twisted Edwards curve −x² + y² = 1 + d·x²y² (edwards25519, the
 * curve under ristretto255) as WebAssembly functions over core/field25519.ts, for
 * ./curve_wasm.ts. Formulas: Hisil–Wong–Carter–Dawson 2008 in extended coordinates with
 * a = −1 ("add-2008-hwcd-3", "madd-2008-hwcd-3", "dbl-2008-hwcd"); the addition is
 * complete on this curve, so the identity and equal inputs need no special case.
 *
 * Layouts in linear memory (each field element {@linkcode FE_BYTES} bytes):
 * - point: X, Y, Z, T (x = X/Z, y = Y/Z, x·y = T/Z);
 * - cached point: Y+X, Y−X, 2Z, 2d·T (the second operand of an addition);
 * - affine "Niels" point: y+x, y−x, 2d·x·y (Z = 1; fixed-base tables).
 *
 * @module
 */

import { FE_BYTES, type Field25519 } from "../../core/field25519.ts";
import {
  I32,
  I64,
  OP,
  unsignedLeb,
  WasmCode,
  type WasmModuleBuilder,
} from "../../core/wasm_module.ts";

/** Bytes of a point or cached point. */
export const POINT_BYTES = 4 * FE_BYTES;
/** Bytes of an affine Niels point. */
export const NIELS_BYTES = 3 * FE_BYTES;
/** Bytes of scratch memory {@linkcode addEdwardsOps} needs. */
export const EDWARDS_SCRATCH_BYTES = 12 * FE_BYTES + 2 * POINT_BYTES + 9 * POINT_BYTES;

/** Indices of the point functions (all addresses are i32). */
export interface EdwardsOps {
  /** identity(out). */
  identity: number;
  /** dbl(out, p): out = 2p. */
  dbl: number;
  /** toCached(out, p). */
  toCached: number;
  /** addCached(out, p, q): out = p + q for q cached. */
  addCached: number;
  /** subCached(out, p, q): out = p − q for q cached. */
  subCached: number;
  /** madd(out, p, n): out = p + n for n Niels. */
  madd: number;
  /** msub(out, p, n): out = p − n for n Niels. */
  msub: number;
  /**
   * fixedMul(out, table, digits, windows, half): Σ_j digit_j·2^(bits·j)·B from a table of
   * Niels multiples d·2^(bits·j)·B, d = 1..half, window-major; digits are i32 in [−half, half).
   */
  fixedMul: number;
  /**
   * varMul(out, p, digits, windows): Σ_j digit_j·16^j·p with i32 digits in [−8, 8), in
   * constant time in the digits (every window adds one table entry chosen by a full scan).
   */
  varMul: number;
  /**
   * msmWindow(acc, buckets, half, points, digits, n, bits): acc = 2^bits·acc + Σ_i digit_i·p_i
   * over n cached points with i32 digits in [−half, half], by buckets (Pippenger 1980).
   */
  msmWindow: number;
}

/** A function body that calls functions with i32 address arguments. */
class Emitter extends WasmCode {
  /** Pushes an address: a parameter/local plus an offset, or an absolute address. */
  addr(x: Addr): this {
    if (typeof x === "number") return this.i32(x);
    this.get(x[0]);
    return x[1] === 0 ? this : this.i32(x[1]).op(OP.i32Add);
  }
  /** Pushes the arguments, then calls. */
  override call(fn: number, ...args: Addr[]): this {
    for (const a of args) this.addr(a);
    return super.call(fn);
  }
  /** local `mask` = all ones when local `value` equals k, else zero (i64). */
  i64Mask(value: number, k: number, mask: number): this {
    return this.i64(0).get(value).i32(k).op(OP.i32Eq, OP.i64ExtendI32U, OP.i64Sub).set(mask);
  }
  load64(): this {
    return this.op(OP.i64Load, 3, 0);
  }
  store64(): this {
    return this.op(OP.i64Store, 3, 0);
  }
}

/** A local holding an address plus a byte offset, or an absolute address. */
type Addr = number | readonly [number, number];

const X = 0, Y = FE_BYTES, Z = 2 * FE_BYTES, T = 3 * FE_BYTES;

/**
 * Declares and defines the point functions.
 *
 * @param m the module
 * @param f the field functions already added to it
 * @param at address of {@linkcode EDWARDS_SCRATCH_BYTES} bytes of scratch (8-byte aligned)
 * @param constants addresses of the field elements 0, 1 and 2d (written by the caller)
 * @returns the functions' indices
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "../../core/wasm_module.ts";
 * import { addField25519 } from "../../core/field25519.ts";
 * import { addEdwardsOps } from "./edwards_wasm.ts";
 * const m = new WasmModuleBuilder(1);
 * const ops = addEdwardsOps(m, addField25519(m, 0), 320, { zero: 8000, one: 8080, d2: 8160 });
 * console.assert(ops.dbl !== ops.madd);
 * ```
 */
export function addEdwardsOps(
  m: WasmModuleBuilder,
  f: Field25519,
  at: number,
  constants: { zero: number; one: number; d2: number },
): EdwardsOps {
  const P3 = [I32, I32, I32];
  const ops: EdwardsOps = {
    identity: m.declare("ge_identity", [I32]),
    dbl: m.declare("ge_dbl", [I32, I32]),
    toCached: m.declare("ge_to_cached", [I32, I32]),
    addCached: m.declare("ge_add_cached", P3),
    subCached: m.declare("ge_sub_cached", P3),
    madd: m.declare("ge_madd", P3),
    msub: m.declare("ge_msub", P3),
    fixedMul: m.declare("ge_fixed_mul", [I32, I32, I32, I32, I32]),
    varMul: m.declare("ge_var_mul", [I32, I32, I32, I32]),
    msmWindow: m.declare("ge_msm_window", [I32, I32, I32, I32, I32, I32, I32]),
  };
  const tmp = (k: number) => at + k * FE_BYTES; // field temporaries 0..11
  const tA = tmp(0), tB = tmp(1), tC = tmp(2), tD = tmp(3), tE = tmp(4);
  const tF = tmp(5), tG = tmp(6), tH = tmp(7), t0 = tmp(8), t1 = tmp(9);
  const cachedTmp = at + 12 * FE_BYTES; // one cached point for selections and sums
  const runAt = cachedTmp + POINT_BYTES; // running sum of the bucket method
  const tableAt = runAt + POINT_BYTES; // 8 cached multiples + 1 spare for varMul
  const { zero, one, d2 } = constants;

  // identity(out): (0, 1, 1, 0).
  {
    const e = new Emitter();
    e.call(f.copy, [0, X], zero).call(f.copy, [0, Y], one).call(f.copy, [0, Z], one);
    e.call(f.copy, [0, T], zero);
    m.define(ops.identity, [], e.code);
  }
  // The common tail E = B − A, F = D ∓ C, G = D ± C, H = B + A; X3 = EF, Y3 = GH, T3 = EH, Z3 = FG.
  const tail = (e: Emitter, out: number, negate: boolean) => {
    e.call(f.sub, tE, tB, tA).call(f.add, tH, tB, tA);
    e.call(negate ? f.add : f.sub, tF, tD, tC).call(negate ? f.sub : f.add, tG, tD, tC);
    e.call(f.mul, [out, X], tE, tF).call(f.mul, [out, Y], tG, tH);
    e.call(f.mul, [out, T], tE, tH).call(f.mul, [out, Z], tF, tG);
  };
  // madd/msub(out=0, p=1, n=2) (madd-2008-hwcd-3): A = (Y1−X1)·(y−x), B = (Y1+X1)·(y+x),
  // C = T1·2dxy, D = 2Z1; a subtraction swaps y+x and y−x and negates C.
  for (const [index, negate] of [[ops.madd, false], [ops.msub, true]] as const) {
    const e = new Emitter();
    e.call(f.sub, t0, [1, Y], [1, X]).call(f.mul, tA, t0, [2, negate ? 0 : FE_BYTES]);
    e.call(f.add, t1, [1, Y], [1, X]).call(f.mul, tB, t1, [2, negate ? FE_BYTES : 0]);
    e.call(f.mul, tC, [1, T], [2, 2 * FE_BYTES]);
    e.addr(tD).addr([1, Z]).op(OP.i64Const, 2, OP.call, ...unsignedLeb(f.mulSmall));
    tail(e, 0, negate);
    m.define(index, [], e.code);
  }
  // addCached/subCached(out=0, p=1, q=2) (add-2008-hwcd-3): as madd with D = Z1·2Z2.
  for (const [index, negate] of [[ops.addCached, false], [ops.subCached, true]] as const) {
    const e = new Emitter();
    e.call(f.sub, t0, [1, Y], [1, X]).call(f.mul, tA, t0, [2, negate ? 0 : FE_BYTES]);
    e.call(f.add, t1, [1, Y], [1, X]).call(f.mul, tB, t1, [2, negate ? FE_BYTES : 0]);
    e.call(f.mul, tC, [1, T], [2, 3 * FE_BYTES]).call(f.mul, tD, [1, Z], [2, 2 * FE_BYTES]);
    tail(e, 0, negate);
    m.define(index, [], e.code);
  }
  // toCached(out=0, p=1): (Y+X, Y−X, 2Z, 2d·T), every field carried.
  {
    const e = new Emitter();
    e.call(f.add, t0, [1, Y], [1, X]).call(f.sub, t1, [1, Y], [1, X]);
    e.call(f.mul, [0, 3 * FE_BYTES], [1, T], d2);
    e.addr([0, 2 * FE_BYTES]).addr([1, Z]).op(OP.i64Const, 2, OP.call, ...unsignedLeb(f.mulSmall));
    e.call(f.carry, [0, 0], t0).call(f.carry, [0, FE_BYTES], t1);
    m.define(ops.toCached, [], e.code);
  }
  // dbl(out=0, p=1) (dbl-2008-hwcd, a = −1): A = X², B = Y², C = 2Z², S = A + B,
  // E = (X+Y)² − S, G = B − A, F = G − C, H = −S.
  {
    const e = new Emitter();
    e.call(f.sq, tA, [1, X]).call(f.sq, tB, [1, Y]).call(f.sq, tC, [1, Z]);
    e.addr(tC).addr(tC).op(OP.i64Const, 2, OP.call, ...unsignedLeb(f.mulSmall));
    e.call(f.add, t0, [1, X], [1, Y]).call(f.sq, t0, t0);
    e.call(f.add, t1, tA, tB).call(f.carry, t1, t1); // S
    e.call(f.sub, tE, t0, t1).call(f.sub, tH, zero, t1);
    e.call(f.sub, tG, tB, tA).call(f.carry, tG, tG).call(f.sub, tF, tG, tC);
    e.call(f.mul, [0, X], tE, tF).call(f.mul, [0, Y], tG, tH);
    e.call(f.mul, [0, T], tE, tH).call(f.mul, [0, Z], tF, tG);
    m.define(ops.dbl, [], e.code);
  }
  // fixedMul(out=0, table=1, digits=2, windows=3, half=4); locals 5 j, 6 d, 7 entry.
  {
    const e = new Emitter();
    const J = 5, DIGIT = 6, ENTRY = 7;
    e.call(ops.identity, [0, 0]).i32(0).set(J);
    e.op(OP.block, 0x40, OP.loop, 0x40);
    e.get(J).get(3).op(OP.i32GeU, OP.brIf, 1);
    e.get(2).get(J).i32(2).op(OP.i32Shl, OP.i32Add, OP.i32Load, 2, 0).tee(DIGIT);
    e.op(OP.if, 0x40);
    // entry = table + (j·half + |d| − 1)·NIELS_BYTES
    e.get(J).get(4).op(OP.i32Mul);
    e.get(DIGIT).get(DIGIT).i32(31).op(OP.i32ShrS).tee(ENTRY).op(OP.i32Xor).get(ENTRY).op(
      OP.i32Sub,
    );
    e.op(OP.i32Add).i32(1).op(OP.i32Sub).i32(NIELS_BYTES).op(OP.i32Mul).get(1).op(OP.i32Add).set(
      ENTRY,
    );
    e.get(DIGIT).i32(0).op(OP.i32LtS, OP.if, 0x40);
    e.call(ops.msub, [0, 0], [0, 0], [ENTRY, 0]);
    e.op(OP.else);
    e.call(ops.madd, [0, 0], [0, 0], [ENTRY, 0]);
    e.op(OP.end, OP.end);
    e.get(J).i32(1).op(OP.i32Add).set(J).op(OP.br, 0, OP.end, OP.end);
    m.define(ops.fixedMul, [[3, I32]], e.code);
  }
  // varMul(out=0, p=1, digits=2, windows=3); locals 4 j, 5 d, 6 |d|, 7 sign.
  // Table: cached k·p for k = 1..8 at tableAt; each window selects |d|'s entry by a full
  // constant-time scan (or the cached identity for d = 0), then adds or subtracts it by a
  // constant-time swap of Y+X and Y−X and a negation of 2dT.
  {
    const e = new Emitter();
    const J = 4, DIGIT = 5, ABS = 6, SIGN = 7;
    const entry = (k: number) => tableAt + k * POINT_BYTES;
    const acc = tableAt + 8 * POINT_BYTES; // running multiple while building the table
    e.call(ops.toCached, entry(0), [1, 0]).call(f.copy, acc, [1, X]);
    e.call(f.copy, acc + Y, [1, Y]).call(f.copy, acc + Z, [1, Z]).call(f.copy, acc + T, [1, T]);
    for (let k = 1; k < 8; k++) {
      e.call(ops.addCached, acc, acc, entry(0)).call(ops.toCached, entry(k), acc);
    }
    e.call(ops.identity, [0, 0]);
    e.get(3).set(J);
    e.op(OP.block, 0x40, OP.loop, 0x40);
    e.get(J).op(OP.i32Eqz, OP.brIf, 1);
    e.get(J).i32(1).op(OP.i32Sub).set(J);
    for (let k = 0; k < 4; k++) e.call(ops.dbl, [0, 0], [0, 0]);
    e.get(2).get(J).i32(2).op(OP.i32Shl, OP.i32Add, OP.i32Load, 2, 0).set(DIGIT);
    e.get(DIGIT).i32(31).op(OP.i32ShrU).set(SIGN); // 1 when negative
    e.get(DIGIT).get(DIGIT).i32(31).op(OP.i32ShrS).tee(ABS).op(OP.i32Xor).get(ABS).op(OP.i32Sub)
      .set(ABS);
    // cachedTmp = cached identity (1, 1, 2, 0), then cmov entry k−1 when |d| = k.
    e.call(f.copy, cachedTmp, one).call(f.copy, cachedTmp + FE_BYTES, one);
    e.call(f.add, cachedTmp + 2 * FE_BYTES, one, one).call(f.copy, cachedTmp + 3 * FE_BYTES, zero);
    // cmov of entry k−1 when |d| = k, limb by limb with a mask (no branch on the digit).
    const MASK = 8;
    for (let k = 1; k <= 8; k++) {
      e.i64Mask(ABS, k, MASK);
      for (let l = 0; l < 40; l++) {
        const dst = cachedTmp + 8 * l, src = entry(k - 1) + 8 * l;
        e.i32(dst).i32(dst).load64().i32(src).load64().op(OP.i64Xor).get(MASK).op(OP.i64And);
        e.i32(dst).load64().op(OP.i64Xor).store64();
      }
    }
    // Negative digit: swap Y+X with Y−X and negate 2dT, both by constant-time swaps.
    e.addr(cachedTmp).addr(cachedTmp + FE_BYTES).get(SIGN).op(OP.call, ...unsignedLeb(f.cswap));
    e.call(f.sub, t0, zero, cachedTmp + 3 * FE_BYTES).call(f.carry, t0, t0);
    e.addr(cachedTmp + 3 * FE_BYTES).addr(t0).get(SIGN).op(OP.call, ...unsignedLeb(f.cswap));
    e.call(ops.addCached, [0, 0], [0, 0], cachedTmp);
    e.op(OP.br, 0, OP.end, OP.end);
    m.define(ops.varMul, [[4, I32], [1, I64]], e.code);
  }
  // msmWindow(acc=0, buckets=1, half=2, points=3, digits=4, n=5, bits=6); locals 7 i, 8 d, 9 b.
  {
    const e = new Emitter();
    const I = 7, DIGIT = 8, BUCKET = 9;
    // acc = 2^bits·acc
    e.get(6).set(I);
    e.op(OP.block, 0x40, OP.loop, 0x40);
    e.get(I).op(OP.i32Eqz, OP.brIf, 1);
    e.call(ops.dbl, [0, 0], [0, 0]);
    e.get(I).i32(1).op(OP.i32Sub).set(I).op(OP.br, 0, OP.end, OP.end);
    // buckets 1..half = identity
    e.i32(0).set(I);
    e.op(OP.block, 0x40, OP.loop, 0x40);
    e.get(I).get(2).op(OP.i32GeU, OP.brIf, 1);
    e.get(1).get(I).i32(POINT_BYTES).op(OP.i32Mul, OP.i32Add).op(
      OP.call,
      ...unsignedLeb(ops.identity),
    );
    e.get(I).i32(1).op(OP.i32Add).set(I).op(OP.br, 0, OP.end, OP.end);
    // bucket_|d| ±= p_i
    e.i32(0).set(I);
    e.op(OP.block, 0x40, OP.loop, 0x40);
    e.get(I).get(5).op(OP.i32GeU, OP.brIf, 1);
    e.get(4).get(I).i32(2).op(OP.i32Shl, OP.i32Add, OP.i32Load, 2, 0).tee(DIGIT);
    e.op(OP.if, 0x40);
    e.get(DIGIT).get(DIGIT).i32(31).op(OP.i32ShrS).tee(BUCKET).op(OP.i32Xor).get(BUCKET).op(
      OP.i32Sub,
    );
    e.i32(1).op(OP.i32Sub).i32(POINT_BYTES).op(OP.i32Mul).get(1).op(OP.i32Add).set(BUCKET);
    const bucketAdd = (fn: number) => {
      e.get(BUCKET).get(BUCKET).get(3).get(I).i32(POINT_BYTES).op(OP.i32Mul, OP.i32Add);
      e.op(OP.call, ...unsignedLeb(fn));
    };
    e.get(DIGIT).i32(0).op(OP.i32LtS, OP.if, 0x40);
    bucketAdd(ops.subCached);
    e.op(OP.else);
    bucketAdd(ops.addCached);
    e.op(OP.end, OP.end);
    e.get(I).i32(1).op(OP.i32Add).set(I).op(OP.br, 0, OP.end, OP.end);
    // running sums from the top bucket: run += bucket_k; acc += run.
    e.call(ops.identity, runAt);
    e.get(2).set(I);
    e.op(OP.block, 0x40, OP.loop, 0x40);
    e.get(I).op(OP.i32Eqz, OP.brIf, 1);
    e.get(I).i32(1).op(OP.i32Sub).set(I);
    e.addr(cachedTmp).get(1).get(I).i32(POINT_BYTES).op(OP.i32Mul, OP.i32Add);
    e.op(OP.call, ...unsignedLeb(ops.toCached));
    e.call(ops.addCached, runAt, runAt, cachedTmp);
    e.call(ops.toCached, cachedTmp, runAt).call(ops.addCached, [0, 0], [0, 0], cachedTmp);
    e.op(OP.br, 0, OP.end, OP.end);
    m.define(ops.msmWindow, [[3, I32]], e.code);
  }
  return ops;
}
