/**
 * One X25519 Montgomery ladder (RFC 7748 §5) spread over the two SIMD lanes of the field
 * pairs of core/field25519x2.ts: each step's independent products run side by side, (x_2, z_2)
 * and (x_3, z_3) each live in one pair. ./x25519_wasm.ts uses it where a ladder has no partner
 * (one packet at a time, or the odd one of a batch). The swap is a mask over both pairs and the
 * sequence of operations is the same for every scalar (constant time).
 *
 * A step, with pairs written (lane 0, lane 1):
 *
 *   (A, B) = (x_2 + z_2, x_2 − z_2)        (D, C) = (x_3 − z_3, x_3 + z_3)
 *   (AA, BB) = (A, B)²                      (DA, CB) = (D, C)·(A, B)
 *   E = AA − BB, t = AA + a24·E            (S, R) = (DA + CB, DA − CB)
 *   (x_2, z_2) = (AA, E)·(BB, t)            (X, W) = (S, R)²
 *   (x_3, z_3) = (X, W)·(1, x_1)
 *
 * @module
 */

import { FE_BYTES, type Field25519 } from "../../core/field25519.ts";
import { type Field25519x2, PAIR_BYTES } from "../../core/field25519x2.ts";
import { I32, OP, unsignedLeb, WasmCode, type WasmModuleBuilder } from "../../core/wasm_module.ts";

/** (A − 2)/4 for Curve25519, A = 486662 (RFC 7748 §5). */
const A24 = 121665;

/** Pair registers, in order, at the scratch address. */
const PAIRS = [
  "p",
  "q",
  "oneX1",
  "ab",
  "dc",
  "aabb",
  "dacb",
  "ee",
  "e24",
  "aae",
  "bbt",
  "sr",
  "xw",
] as const;

/** Bytes of scratch memory {@linkcode addLadderLanes} needs. */
export const LADDER_LANES_SCRATCH_BYTES = PAIRS.length * PAIR_BYTES + 3 * FE_BYTES;

/**
 * Declares and defines `ladderLanes(k, u, x, z)`: for the clamped 32-byte scalar at k and the
 * 32-byte u-coordinate at u, the projective result X/Z as single field elements
 * (core/field25519.ts) at x and z.
 *
 * @param m the module, which already holds the field functions
 * @param fields the single-lane and the pair field functions
 * @param scratch address of {@linkcode LADDER_LANES_SCRATCH_BYTES} bytes (8-byte aligned)
 * @returns the function's index
 * @example
 * ```ts
 * import { WasmModuleBuilder } from "../../core/wasm_module.ts";
 * import { addField25519 } from "../../core/field25519.ts";
 * import { addField25519x2 } from "../../core/field25519x2.ts";
 * import { addLadderLanes } from "./x25519_ladder_lanes.ts";
 * const m = new WasmModuleBuilder(1);
 * const field = addField25519(m, 0);
 * const ladder = addLadderLanes(m, { field, pair: addField25519x2(m) }, 1024);
 * console.assert(ladder > field.invert);
 * ```
 */
export function addLadderLanes(
  m: WasmModuleBuilder,
  fields: { field: Field25519; pair: Field25519x2 },
  scratch: number,
): number {
  const { field, pair } = fields;
  const ladder = m.declare("ladderLanes", [I32, I32, I32, I32]);
  const enter = m.declare("ladderLanesEnter", [I32], [], false);
  const middle = m.declare("ladderLanesMiddle", [], [], false);
  const finish = m.declare("ladderLanesPairs", [], [], false);
  const R = Object.fromEntries(PAIRS.map((name, i) => [name, scratch + i * PAIR_BYTES])) as Record<
    (typeof PAIRS)[number],
    number
  >;
  const single = scratch + PAIRS.length * PAIR_BYTES, one = single + FE_BYTES;
  const zero = one + FE_BYTES;
  // Lane l of limb i of the pair at `at`: an i32 at at + 8i + 4l.
  const lane = (b: WasmCode, at: number, i: number, l: number) =>
    b.i32(0).op(OP.i32Load, 2, ...unsignedLeb(at + 8 * i + 4 * l));
  const store = (b: WasmCode, at: number, i: number, l: number) =>
    b.op(OP.i32Store, 2, ...unsignedLeb(at + 8 * i + 4 * l));

  // enter(bit): swap (x_2, z_2) ↔ (x_3, z_3) by a mask when bit = 1, then (A, B) and (D, C).
  // The swapped pairs are not stored: the step overwrites both. Locals: 1 mask, 2..5 limbs, 6.
  {
    const b = new WasmCode();
    const MASK = 1, V = 2, X = 6;
    b.i32(0).get(0).op(OP.i32Sub).set(MASK);
    for (let i = 0; i < 10; i++) {
      lane(b, R.p, i, 0).set(V), lane(b, R.p, i, 1).set(V + 1);
      lane(b, R.q, i, 0).set(V + 2), lane(b, R.q, i, 1).set(V + 3);
      for (const k of [0, 1]) {
        b.get(V + k).get(V + 2 + k).op(OP.i32Xor).get(MASK).op(OP.i32And).set(X);
        b.get(V + k).get(X).op(OP.i32Xor).set(V + k);
        b.get(V + 2 + k).get(X).op(OP.i32Xor).set(V + 2 + k);
      }
      b.i32(0).get(V).get(V + 1).op(OP.i32Add), store(b, R.ab, i, 0); // A = x_2 + z_2
      b.i32(0).get(V).get(V + 1).op(OP.i32Sub), store(b, R.ab, i, 1); // B = x_2 − z_2
      b.i32(0).get(V + 2).get(V + 3).op(OP.i32Sub), store(b, R.dc, i, 0); // D = x_3 − z_3
      b.i32(0).get(V + 2).get(V + 3).op(OP.i32Add), store(b, R.dc, i, 1); // C = x_3 + z_3
    }
    m.define(enter, [[6, I32]], b.code);
  }
  // middle: E in both lanes (for a24·E), and (S, R) = (DA + CB, DA − CB).
  {
    const b = new WasmCode();
    for (let i = 0; i < 10; i++) {
      for (const l of [0, 1]) {
        b.i32(0), lane(b, R.aabb, i, 0), lane(b, R.aabb, i, 1), b.op(OP.i32Sub);
        store(b, R.ee, i, l);
      }
      b.i32(0), lane(b, R.dacb, i, 0), lane(b, R.dacb, i, 1), b.op(OP.i32Add);
      store(b, R.sr, i, 0);
      b.i32(0), lane(b, R.dacb, i, 0), lane(b, R.dacb, i, 1), b.op(OP.i32Sub);
      store(b, R.sr, i, 1);
    }
    m.define(middle, [], b.code);
  }
  // pairs: (AA, E) and (BB, t) with t = AA + a24·E (a24·E carried by mulSmall).
  {
    const b = new WasmCode();
    for (let i = 0; i < 10; i++) {
      b.i32(0), lane(b, R.aabb, i, 0), store(b, R.aae, i, 0);
      b.i32(0), lane(b, R.ee, i, 0), store(b, R.aae, i, 1);
      b.i32(0), lane(b, R.aabb, i, 1), store(b, R.bbt, i, 0);
      b.i32(0), lane(b, R.aabb, i, 0), lane(b, R.e24, i, 1), b.op(OP.i32Add);
      store(b, R.bbt, i, 1);
    }
    m.define(finish, [], b.code);
  }

  // ladder(k, u, x, z): locals 4 bit index t + 1, 5 swap, 6 k_t.
  const b = new WasmCode();
  const K = 0, U = 1, XOUT = 2, ZOUT = 3, T = 4, SWAP = 5, KT = 6;
  const call = (fn: number, ...addresses: number[]) => {
    for (const a of addresses) b.i32(a);
    return b.call(fn);
  };
  // Singles 1 and 0; (x_2, z_2) = (1, 0), (x_3, z_3) = (u, 1), (1, x_1) (RFC 7748 §5).
  b.i32(one).i64(1).op(OP.i64Store, 3, 0);
  for (let i = 1; i < 10; i++) b.i32(one).i64(0).op(OP.i64Store, 3, 8 * i);
  for (let i = 0; i < 10; i++) b.i32(zero).i64(0).op(OP.i64Store, 3, 8 * i);
  b.i32(single).get(U).call(field.fromBytes); // bit 255 masked
  call(pair.fromSingles, R.p, one, zero);
  call(pair.fromSingles, R.q, single, one);
  call(pair.fromSingles, R.oneX1, one, single);
  b.i32(0).set(SWAP).i32(255).set(T);
  b.op(OP.loop, 0x40);
  // k_t with t = T − 1 (the index is public, the bit secret); swap ^= k_t; enter; swap = k_t.
  b.get(K).get(T).i32(1).op(OP.i32Sub).i32(3).op(OP.i32ShrU, OP.i32Add, OP.i32Load8U, 0, 0);
  b.get(T).i32(1).op(OP.i32Sub).i32(7).op(OP.i32And, OP.i32ShrU).i32(1).op(OP.i32And).set(KT);
  b.get(SWAP).get(KT).op(OP.i32Xor).call(enter).get(KT).set(SWAP);
  call(pair.sq, R.aabb, R.ab); // (AA, BB)
  call(pair.mul, R.dacb, R.dc, R.ab); // (DA, CB)
  b.call(middle); // (E, E), (S, R)
  b.i32(R.e24).i32(R.ee).i32(A24).call(pair.mulSmall); // a24·E
  b.call(finish); // (AA, E), (BB, t)
  call(pair.mul, R.p, R.aae, R.bbt); // (x_2, z_2) = (AA·BB, E·t)
  call(pair.sq, R.xw, R.sr); // ((DA + CB)², (DA − CB)²)
  call(pair.mul, R.q, R.xw, R.oneX1); // (x_3, z_3) = ((DA + CB)², x_1·(DA − CB)²)
  b.get(T).i32(1).op(OP.i32Sub, OP.localTee, T, OP.brIf, 0, OP.end);
  // Final cswap(swap, …), then X and Z to the caller.
  b.i32(R.p).i32(R.q).get(SWAP).get(SWAP).call(pair.cswap);
  b.get(XOUT).get(ZOUT).i32(R.p).call(pair.toSingles);
  m.define(ladder, [[3, I32]], b.code);
  return ladder;
}
