/**
 * ristretto255 DECODE (RFC 9496 §4.3.1) of two encodings at once as one WebAssembly
 * function over the SIMD field pairs of core/field25519x2.ts, for ./curve_wasm.ts: the
 * arithmetic after the byte checks (which the caller does), with the inverse square root
 * of both lanes by one pair exponentiation and every comparison and conditional step
 * lane by lane on canonical bytes.
 *
 * @module
 */

import { FE_BYTES, type Field25519 } from "../../core/field25519.ts";
import { type Field25519x2, PAIR_BYTES } from "../../core/field25519x2.ts";
import { I32, I64, OP, WasmCode, type WasmModuleBuilder } from "../../core/wasm_module.ts";

/** Bytes of scratch memory {@linkcode addRistrettoDecodeX2} needs (8-byte aligned). */
export const RISTRETTO_X2_SCRATCH_BYTES = 20 * PAIR_BYTES + 2 * FE_BYTES + 64;

/** Indices of the functions. */
export interface RistrettoX2 {
  /**
   * flags(a) → i32: bit 0 = lane 0 is zero, bit 1 = lane 1 is zero, bit 2 = lane 0 is
   * negative (odd canonical value, RFC 9496 §4.1 IS_NEGATIVE), bit 3 = lane 1 is negative.
   */
  flags: number;
  /**
   * decode(outA, outB, bytesA, bytesB) → i32: decodes the 32 bytes at bytesA and bytesB
   * (both already checked canonical and non-negative) into the points outA and outB
   * (X, Y, Z = 1, T as single elements of core/field25519.ts); bit 0 of the result = lane 0
   * is valid, bit 1 = lane 1 is valid.
   */
  decode: number;
}

/**
 * Declares and defines the pair decoding.
 *
 * @param m the module
 * @param f the single field functions
 * @param f2 the pair field functions
 * @param pow2 the pair pow22523 function (core/field25519x2.ts `addPow22523x2`)
 * @param at {@linkcode RISTRETTO_X2_SCRATCH_BYTES} bytes of scratch
 * @param constants pairs (0, 0), (1, 1), (d, d), (√−1, √−1) and the single 1
 * @returns the functions' indices
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "../../core/wasm_module.ts";
 * import { addField25519 } from "../../core/field25519.ts";
 * import { addField25519x2, addPow22523x2 } from "../../core/field25519x2.ts";
 * import { addRistrettoDecodeX2 } from "./ristretto_wasm_x2.ts";
 * const m = new WasmModuleBuilder(1);
 * const f = addField25519(m, 0), f2 = addField25519x2(m);
 * const pow2 = addPow22523x2(m, f2, 1000);
 * const c = { zero: 2000, one: 2080, d: 2160, sqrtM1: 2240, oneSingle: 2320 };
 * console.assert(addRistrettoDecodeX2(m, f, f2, pow2, 4000, c).decode > 0);
 * ```
 */
export function addRistrettoDecodeX2(
  m: WasmModuleBuilder,
  f: Field25519,
  f2: Field25519x2,
  pow2: number,
  at: number,
  constants: { zero: number; one: number; d: number; sqrtM1: number; oneSingle: number },
): RistrettoX2 {
  const fns: RistrettoX2 = {
    flags: m.declare("ristretto2_flags", [I32], [I32]),
    decode: m.declare("ristretto2_decode", [I32, I32, I32, I32], [I32]),
  };
  const p = (k: number) => at + k * PAIR_BYTES;
  const singleA = p(20), singleB = singleA + FE_BYTES, bytesA = singleB + FE_BYTES;
  const bytesB = bytesA + 32;
  // flags(a=0); local 1 scratch (i64).
  {
    const b = new WasmCode();
    b.i32(singleA).i32(singleB).get(0).call(f2.toSingles);
    b.i32(bytesA).i32(singleA).call(f.toBytes).i32(bytesB).i32(singleB).call(f.toBytes);
    const zeroBit = (bytes: number, bit: number) => {
      b.i32(bytes).op(OP.i64Load, 3, 0).i32(bytes).op(OP.i64Load, 3, 8, OP.i64Or);
      b.i32(bytes).op(OP.i64Load, 3, 16, OP.i64Or).i32(bytes).op(OP.i64Load, 3, 24, OP.i64Or);
      b.op(OP.i64Eqz).i32(bit).op(OP.i32Shl);
    };
    zeroBit(bytesA, 0);
    zeroBit(bytesB, 1);
    b.op(OP.i32Or);
    b.i32(bytesA).op(OP.i32Load8U, 0, 0).i32(1).op(OP.i32And).i32(2).op(OP.i32Shl, OP.i32Or);
    b.i32(bytesB).op(OP.i32Load8U, 0, 0).i32(1).op(OP.i32And).i32(3).op(OP.i32Shl, OP.i32Or);
    m.define(fns.flags, [[1, I64]], b.code);
  }
  // decode(outA=0, outB=1, bytesA=2, bytesB=3); locals 4 flags, 5 wasSquare, 6 t.
  {
    const b = new WasmCode();
    const [S, SS, U1, U2, U2SQ, C, V, E, A, B] = [
      p(0),
      p(1),
      p(2),
      p(3),
      p(4),
      p(5),
      p(6),
      p(7),
      p(8),
      p(9),
    ];
    const [R, CHK, T0, RI, DX, DY, H, X, Y, T] = [
      p(10),
      p(11),
      p(12),
      p(13),
      p(14),
      p(15),
      p(16),
      p(17),
      p(18),
      p(19),
    ];
    const { zero, one, d, sqrtM1 } = constants;
    const call = (fn: number, ...args: number[]) => {
      for (const a of args) b.i32(a);
      b.call(fn);
    };
    const carry = (x: number) => b.i32(x).i32(x).i32(1).call(f2.mulSmall);
    const FLAGS = 4, SQUARE = 5, TMP = 6;
    // Lane bits (bit0, bit1) of the flags at `shift` on the stack, for cswap.
    const laneBits = (local: number, shift: number) => {
      b.get(local).i32(shift).op(OP.i32ShrU).i32(1).op(OP.i32And);
      b.get(local).i32(shift + 1).op(OP.i32ShrU).i32(1).op(OP.i32And);
    };
    // s from the bytes of both lanes
    b.i32(singleA).get(2).call(f.fromBytes).i32(singleB).get(3).call(f.fromBytes);
    call(f2.fromSingles, S, singleA, singleB);
    call(f2.sq, SS, S); // ss
    call(f2.sub, U1, one, SS); // u1 = 1 − ss
    call(f2.add, U2, one, SS); // u2 = 1 + ss
    call(f2.sq, U2SQ, U2);
    call(f2.sq, C, U1);
    call(f2.mul, C, C, d); // d·u1²
    call(f2.sub, V, zero, C);
    carry(V);
    call(f2.sub, V, V, U2SQ); // v = −(d·u1²) − u2²
    call(f2.mul, E, V, U2SQ); // v·u2²
    // SQRT_RATIO_M1(1, E) (RFC 9496 §4.2): r = (E³)·(E⁷)^((p−5)/8)
    call(f2.sq, A, E);
    call(f2.mul, A, A, E); // E³
    call(f2.sq, B, A);
    call(f2.mul, B, B, E); // E⁷
    call(pow2, R, B);
    call(f2.mul, R, R, A);
    call(f2.sq, CHK, R);
    call(f2.mul, CHK, CHK, E); // check = E·r²
    // correct: check = 1; flipped: check = −1; flipped_i: check = −√−1 (zero-flag bits 0, 1)
    call(f2.sub, T0, CHK, one);
    b.i32(T0).call(fns.flags).i32(3).op(OP.i32And).set(SQUARE);
    call(f2.add, T0, CHK, one);
    b.i32(T0).call(fns.flags).i32(3).op(OP.i32And).tee(TMP);
    b.get(SQUARE).op(OP.i32Or).set(SQUARE); // was_square = correct ∨ flipped
    call(f2.add, T0, CHK, sqrtM1);
    b.i32(T0).call(fns.flags).i32(3).op(OP.i32And).get(TMP).op(OP.i32Or).set(TMP);
    call(f2.mul, RI, R, sqrtM1);
    b.i32(R).i32(RI);
    laneBits(TMP, 0);
    b.call(f2.cswap); // r = r·√−1 where flipped or flipped_i
    // r = |r|
    b.i32(R).call(fns.flags).set(FLAGS);
    call(f2.sub, T0, zero, R);
    b.i32(R).i32(T0);
    laneBits(FLAGS, 2);
    b.call(f2.cswap);
    carry(R);
    call(f2.mul, DX, R, U2); // den_x = r·u2
    call(f2.mul, DY, R, DX);
    call(f2.mul, DY, DY, V); // den_y = r·den_x·v
    call(f2.add, H, S, S);
    call(f2.mul, H, H, DX); // 2s·den_x
    b.i32(H).call(fns.flags).set(FLAGS);
    call(f2.sub, T0, zero, H);
    b.i32(H).i32(T0);
    laneBits(FLAGS, 2);
    b.call(f2.cswap);
    call(f2.mulSmall, X, H, 1); // x = |2s·den_x|, carried
    call(f2.mul, Y, U1, DY); // y = u1·den_y
    call(f2.mul, T, X, Y); // t = x·y
    // valid = was_square ∧ ¬IS_NEGATIVE(t) ∧ y ≠ 0, lane by lane
    b.i32(T).call(fns.flags).i32(2).op(OP.i32ShrU).set(FLAGS); // negative bits → 0, 1
    b.i32(Y).call(fns.flags).get(FLAGS).op(OP.i32Or).i32(3).op(OP.i32Xor).get(SQUARE);
    b.op(OP.i32And).set(FLAGS);
    // the two points, single elements (X, Y, 1, T)
    for (const [k, src] of [[0, X], [1, Y], [3, T]] as const) {
      b.get(0).i32(k * FE_BYTES).op(OP.i32Add).get(1).i32(k * FE_BYTES).op(OP.i32Add);
      b.i32(src).call(f2.toSingles);
    }
    for (const out of [0, 1]) {
      b.get(out).i32(2 * FE_BYTES).op(OP.i32Add).i32(constants.oneSingle).call(f.copy);
    }
    b.get(FLAGS);
    m.define(fns.decode, [[3, I32]], b.code);
  }
  return fns;
}
