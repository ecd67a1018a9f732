/**
 * Two X25519 Montgomery ladders (RFC 7748 §5) at once, one per SIMD lane of the field pairs of
 * core/field25519x2.ts: the batch unwrap of ./x25519_wasm.ts runs its ladders two by two. Each
 * lane keeps its own swap bit, and the swaps are masks, so the sequence of operations is the
 * same for every pair of scalars (constant time in both).
 *
 * @module
 */

import { FE_BYTES, type Field25519 } from "../../core/field25519.ts";
import { type Field25519x2, PAIR_BYTES } from "../../core/field25519x2.ts";
import { I32, OP, WasmCode, type WasmModuleBuilder } from "../../core/wasm_module.ts";

/** (A − 2)/4 for Curve25519, A = 486662 (RFC 7748 §5). */
const A24 = 121665;

/** Pair registers of the ladder, in order, at the scratch address. */
const PAIRS = [
  "x1",
  "x2",
  "z2",
  "x3",
  "z3",
  "a",
  "aa",
  "b",
  "bb",
  "e",
  "c",
  "d",
  "da",
  "cb",
  "t",
  "one",
] as const;

/** Bytes of scratch memory {@linkcode addLadder2} needs. */
export const LADDER2_SCRATCH_BYTES = PAIRS.length * PAIR_BYTES + 3 * FE_BYTES;

/**
 * Declares and defines `ladder2(ka, ua, kb, ub, xa, za, xb, zb)`: for the clamped 32-byte
 * scalars at ka, kb and the 32-byte u-coordinates at ua, ub, the projective results X/Z of
 * both ladders as single field elements (core/field25519.ts) at xa, za, xb, zb.
 *
 * @param m the module, which already holds the field functions
 * @param field the single-lane field functions
 * @param pair the pair field functions
 * @param scratch address of {@linkcode LADDER2_SCRATCH_BYTES} bytes (8-byte aligned)
 * @returns the function's index
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "../../core/wasm_module.ts";
 * import { addField25519 } from "../../core/field25519.ts";
 * import { addField25519x2 } from "../../core/field25519x2.ts";
 * import { addLadder2 } from "./x25519_ladder2.ts";
 * const m = new WasmModuleBuilder(1);
 * const field = addField25519(m, 0);
 * const ladder2 = addLadder2(m, field, addField25519x2(m), 1024);
 * console.assert(ladder2 > field.invert);
 * ```
 */
export function addLadder2(
  m: WasmModuleBuilder,
  field: Field25519,
  pair: Field25519x2,
  scratch: number,
): number {
  const ladder2 = m.declare("ladder2", [I32, I32, I32, I32, I32, I32, I32, I32]);
  const R = Object.fromEntries(PAIRS.map((name, i) => [name, scratch + i * PAIR_BYTES])) as Record<
    (typeof PAIRS)[number],
    number
  >;
  const singleA = scratch + PAIRS.length * PAIR_BYTES, singleB = singleA + FE_BYTES;
  const singleOne = singleB + FE_BYTES;
  const KA = 0, UA = 1, KB = 2, UB = 3, XA = 4, ZA = 5, XB = 6, ZB = 7;
  const T = 8, SWAP_A = 9, SWAP_B = 10, BIT_A = 11, BIT_B = 12;
  const b = new WasmCode();
  const call = (fn: number, ...addresses: number[]) => {
    for (const a of addresses) b.i32(a);
    return b.call(fn);
  };
  // The constant pair (1, 1); x_1 = (u_a, u_b) (bit 255 masked by fromBytes).
  b.i32(singleOne).i64(1).op(OP.i64Store, 3, 0);
  for (let i = 1; i < 10; i++) b.i32(singleOne).i64(0).op(OP.i64Store, 3, 8 * i);
  call(pair.fromSingles, R.one, singleOne, singleOne);
  b.i32(singleA).get(UA).call(field.fromBytes).i32(singleB).get(UB).call(field.fromBytes);
  call(pair.fromSingles, R.x1, singleA, singleB);
  // x_2 = 1, z_2 = 0, x_3 = u, z_3 = 1 (RFC 7748 §5): z_2 = one − one.
  call(pair.sub, R.z2, R.one, R.one);
  call(pair.add, R.x2, R.one, R.z2);
  call(pair.add, R.x3, R.x1, R.z2);
  call(pair.add, R.z3, R.one, R.z2);
  b.i32(0).set(SWAP_A).i32(0).set(SWAP_B).i32(255).set(T); // t + 1, counting down to 1
  b.op(OP.loop, 0x40);
  // k_t of each scalar (the index is public, the bits secret).
  for (const [k, bit] of [[KA, BIT_A], [KB, BIT_B]] as const) {
    b.get(k).get(T).i32(1).op(OP.i32Sub).i32(3).op(OP.i32ShrU, OP.i32Add, OP.i32Load8U, 0, 0);
    b.get(T).i32(1).op(OP.i32Sub).i32(7).op(OP.i32And, OP.i32ShrU).i32(1).op(OP.i32And).set(bit);
  }
  // swap ^= k_t; cswap(swap, x_2, x_3); cswap(swap, z_2, z_3); swap = k_t.
  b.get(SWAP_A).get(BIT_A).op(OP.i32Xor).set(SWAP_A).get(SWAP_B).get(BIT_B).op(OP.i32Xor).set(
    SWAP_B,
  );
  b.i32(R.x2).i32(R.x3).get(SWAP_A).get(SWAP_B).call(pair.cswap);
  b.i32(R.z2).i32(R.z3).get(SWAP_A).get(SWAP_B).call(pair.cswap);
  b.get(BIT_A).set(SWAP_A).get(BIT_B).set(SWAP_B);
  // A = x_2 + z_2, AA = A², B = x_2 − z_2, BB = B², E = AA − BB, C = x_3 + z_3, D = x_3 − z_3,
  // DA = D·A, CB = C·B, x_3 = (DA + CB)², z_3 = x_1·(DA − CB)², x_2 = AA·BB,
  // z_2 = E·(AA + a24·E).
  call(pair.add, R.a, R.x2, R.z2);
  call(pair.sq, R.aa, R.a);
  call(pair.sub, R.b, R.x2, R.z2);
  call(pair.sq, R.bb, R.b);
  call(pair.sub, R.e, R.aa, R.bb);
  call(pair.add, R.c, R.x3, R.z3);
  call(pair.sub, R.d, R.x3, R.z3);
  call(pair.mul, R.da, R.d, R.a);
  call(pair.mul, R.cb, R.c, R.b);
  call(pair.add, R.x3, R.da, R.cb);
  call(pair.sq, R.x3, R.x3);
  call(pair.sub, R.z3, R.da, R.cb);
  call(pair.sq, R.z3, R.z3);
  call(pair.mul, R.z3, R.x1, R.z3);
  call(pair.mul, R.x2, R.aa, R.bb);
  b.i32(R.t).i32(R.e).i32(A24).call(pair.mulSmall);
  call(pair.add, R.t, R.aa, R.t);
  call(pair.mul, R.z2, R.e, R.t);
  b.get(T).i32(1).op(OP.i32Sub, OP.localTee, T, OP.brIf, 0, OP.end);
  // Final cswap(swap, …); both lanes' X and Z to the caller as single field elements.
  b.i32(R.x2).i32(R.x3).get(SWAP_A).get(SWAP_B).call(pair.cswap);
  b.i32(R.z2).i32(R.z3).get(SWAP_A).get(SWAP_B).call(pair.cswap);
  b.get(XA).get(XB).i32(R.x2).call(pair.toSingles);
  b.get(ZA).get(ZB).i32(R.z2).call(pair.toSingles);
  m.define(ladder2, [[5, I32]], b.code);
  return ladder2;
}
