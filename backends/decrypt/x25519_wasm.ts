/**
 * X25519 (RFC 7748 §5) in WebAssembly on the shared GF(2^255−19) field functions of
 * core/field25519.ts and their SIMD pairs (core/field25519x2.ts): synchronous, no key import,
 * constant time in the secret scalars (the same sequence of field operations for every scalar,
 * swaps and table lookups by masks). Two algorithms:
 *
 * - a Montgomery ladder for one-off points, batched: ladders two at a time on the SIMD lanes
 *   (./x25519_ladder2.ts) and one shared inversion per batch (Montgomery's trick);
 * - a fixed-base comb on the Edwards form (ref10's ge_scalarmult_base) with precomputed tables
 *   (./edwards_table.ts) of the base point and of node keys used repeatedly; α_i and s_i of a
 *   Sphinx hop run side by side on the SIMD lanes (docs/sphinx.md §3.1).
 *
 * @module
 */

import { I32, I64, OP, signedLeb, unsignedLeb, WasmModuleBuilder } from "../../core/wasm_module.ts";
import { addField25519, FE_BYTES, FIELD_SCRATCH_BYTES } from "../../core/field25519.ts";
import { addField25519x2, PAIR_BYTES } from "../../core/field25519x2.ts";
import { addLadder2, LADDER2_SCRATCH_BYTES } from "./x25519_ladder2.ts";
import { addLadderLanes, LADDER_LANES_SCRATCH_BYTES } from "./x25519_ladder_lanes.ts";
import {
  edwardsAffineBytes,
  edwardsFromU,
  TABLE_COLUMNS,
  TABLE_ROWS,
  TWO_D_BYTES,
} from "./edwards_table.ts";

// Linear memory layout (bytes). The field functions keep no state of their own here.
const ZB_AT = 32; // 32-byte encoding of a ladder's Z, to test it for zero
const OUT1_AT = 96; // 32-byte outputs of the fixed-base functions
const OUT2_AT = 128;
const DIGITS_AT = 160; // 64 signed radix-16 digits of the scalar, one byte each
const FE_AT = 256; // field elements, FE_BYTES each
const FE_NAMES = [
  "one",
  "zero",
  "px",
  "t",
  // Edwards: accumulator h (extended X:Y:Z:T), selected Niels entry n, p1p1 temporaries.
  "hx",
  "hy",
  "hz",
  "ht",
  "ny",
  "nm",
  "nt",
  "ea",
  "eb",
  "ec",
  "ed",
  "ex",
  "ey",
  "ez",
  "et",
  "rn",
  "rd",
  "sn",
  "sd",
  // Table building: an affine point, the row's base, 2d, an inverse and a 1/Z.
  "ax",
  "ay",
  "bx",
  "by",
  "d2",
  "inv",
  "zi",
] as const;
const FE: Record<(typeof FE_NAMES)[number], number> = Object.fromEntries(
  FE_NAMES.map((name, i) => [name, FE_AT + i * FE_BYTES]),
) as Record<(typeof FE_NAMES)[number], number>;
/** Scratch memory of the field exponentiations (core/field25519.ts). */
const SCRATCH_AT = FE_AT + FE_NAMES.length * FE_BYTES;
/** Ladders per batch: they share one field inversion (Montgomery's trick). */
export const LADDER_BATCH = 64;
// Batch of ladders: clamped scalars, input u, projective results X and Z, prefix products
// of Z, the 32-byte outputs, and a zero flag per entry (low-order input).
const B_SCALARS = 4096;
const B_US = B_SCALARS + 32 * LADDER_BATCH;
const B_X = B_US + 32 * LADDER_BATCH;
const B_Z = B_X + FE_BYTES * LADDER_BATCH;
const B_P = B_Z + FE_BYTES * LADDER_BATCH;
const B_OUT = B_P + FE_BYTES * LADDER_BATCH;
const B_FLAGS = B_OUT + 32 * LADDER_BATCH;
/** Staging area of a table build: the affine point (x ‖ y) and 2d, 32 bytes each. */
const STAGING_AT = B_FLAGS + LADDER_BATCH;
/** Tables in memory: 256 entries × 3 field elements × 10 limbs as i32 (limbs fit in 27 bits). */
const TABLES_AT = STAGING_AT + 96;
const ENTRY_BYTES = 3 * 10 * 4;
const ROW_BYTES = TABLE_COLUMNS * ENTRY_BYTES;
const TABLE_LIMB_BYTES = TABLE_ROWS * ROW_BYTES;
/** Table slots: slot 0 holds the base point, the others cached public keys. */
export const TABLE_SLOTS = 17;
if (SCRATCH_AT + FIELD_SCRATCH_BYTES > B_SCALARS) throw new RangeError("Memory layout overlaps");
/** Scratch of the two-lane ladder (./x25519_ladder2.ts). */
const LADDER2_AT = TABLES_AT + TABLE_SLOTS * TABLE_LIMB_BYTES;
/** Pairs of the two-lane fixed-base multiplication (`comb2`), one lane per table. */
const PAIR_NAMES = [
  "zero",
  "one",
  "hx",
  "hy",
  "hz",
  "ht",
  "ny",
  "nm",
  "nt",
  "ea",
  "eb",
  "ec",
  "ed",
  "ex",
  "ey",
  "ez",
  "et",
  "t",
  "num",
  "den",
] as const;
const PAIRS_AT = LADDER2_AT + LADDER2_SCRATCH_BYTES;
const P2: Record<(typeof PAIR_NAMES)[number], number> = Object.fromEntries(
  PAIR_NAMES.map((name, i) => [name, PAIRS_AT + i * PAIR_BYTES]),
) as Record<(typeof PAIR_NAMES)[number], number>;
/** Scratch of the one-ladder-over-two-lanes function (./x25519_ladder_lanes.ts). */
const LANES_AT = PAIRS_AT + PAIR_NAMES.length * PAIR_BYTES;
const PAGES = Math.ceil((LANES_AT + LADDER_LANES_SCRATCH_BYTES) / 65536);

interface Engine {
  memory: Uint8Array;
  digits: Int8Array;
  /** X25519 of the first n scalars and points of the batch area → outputs and zero flags. */
  many: (n: number) => void;
  /** Builds the table of the affine point (x, y) at STAGING_AT (2d after it) at the address. */
  buildTable: (table: number) => void;
  /** Fixed-base k·P for the table at the given address (digits at DIGITS_AT) → OUT1_AT. */
  base: (table: number) => void;
  /** k·P and k·Q for two tables, one shared inversion → OUT1_AT, OUT2_AT. */
  basePair: (table1: number, table2: number) => void;
}

function build(): Engine | undefined {
  const m = new WasmModuleBuilder(PAGES);
  const f = addField25519(m, SCRATCH_AT);
  const f2 = addField25519x2(m);
  const ladder2 = addLadder2(m, f, f2, LADDER2_AT);
  const ladderLanes = addLadderLanes(m, { field: f, pair: f2 }, LANES_AT);
  const many = m.declare("many", [I32]);

  const code: number[] = [];
  const i32 = (n: number) => code.push(OP.i32Const, ...signedLeb(n));
  const call = (fn: number, ...addresses: number[]) => {
    for (const a of addresses) i32(a);
    code.push(OP.call, ...unsignedLeb(fn));
  };

  // many(n): n ladders, then x_2·z_2^(p−2) for each (RFC 7748 §5) with one inversion for
  // all: prefix products P_i = Z_0⋯Z_i, 1/P_{n−1}, then back to front 1/Z_i = P_{i−1}/P_i.
  // A zero Z (low-order input: the result is zero) is flagged and counted as 1 so that it
  // does not zero the others; which inputs have low order is public.
  {
    const N = 0, I = 1, Z = 2;
    const at = (base: number, size: number) => (
      code.push(OP.localGet, I), i32(size), code.push(OP.i32Mul), i32(base), code.push(OP.i32Add)
    );
    // The ladders two at a time, one per SIMD lane (./x25519_ladder2.ts); an odd last one alone.
    i32(0), code.push(OP.localSet, I, OP.block, 0x40, OP.loop, 0x40);
    code.push(OP.localGet, I), i32(1), code.push(OP.i32Add, OP.localGet, N, OP.i32GeS, OP.brIf, 1);
    at(B_SCALARS, 32), at(B_US, 32), at(B_SCALARS + 32, 32), at(B_US + 32, 32);
    at(B_X, FE_BYTES),
      at(B_Z, FE_BYTES),
      at(B_X + FE_BYTES, FE_BYTES),
      at(B_Z + FE_BYTES, FE_BYTES);
    code.push(OP.call, ...unsignedLeb(ladder2));
    code.push(OP.localGet, I),
      i32(2),
      code.push(OP.i32Add, OP.localSet, I, OP.br, 0, OP.end, OP.end);
    code.push(OP.localGet, I, OP.localGet, N, OP.i32LtU, OP.if, 0x40);
    at(B_SCALARS, 32), at(B_US, 32), at(B_X, FE_BYTES), at(B_Z, FE_BYTES);
    code.push(
      OP.call,
      ...unsignedLeb(ladderLanes),
      OP.end,
    );
    i32(0), code.push(OP.localSet, I, OP.loop, 0x40);
    // flag_i = (Z_i ≡ 0); Z_i += flag_i.
    i32(ZB_AT), at(B_Z, FE_BYTES), code.push(OP.call, ...unsignedLeb(f.toBytes));
    for (let w = 0; w < 4; w++) {
      i32(ZB_AT), code.push(OP.i64Load, 3, ...unsignedLeb(8 * w));
      if (w > 0) code.push(OP.i64Or);
    }
    code.push(OP.i64Eqz, OP.localSet, Z);
    at(B_FLAGS, 1), code.push(OP.localGet, Z, OP.i32Store8, 0, 0);
    at(B_Z, FE_BYTES), at(B_Z, FE_BYTES), code.push(OP.i64Load, 3, 0, OP.localGet, Z);
    code.push(OP.i64ExtendI32U, OP.i64Add, OP.i64Store, 3, 0);
    // P_i = P_{i−1}·Z_i (P_0 = Z_0).
    code.push(OP.localGet, I, OP.i32Eqz, OP.if, 0x40);
    at(B_P, FE_BYTES), at(B_Z, FE_BYTES), code.push(OP.call, ...unsignedLeb(f.copy));
    code.push(OP.else);
    at(B_P, FE_BYTES), at(B_P - FE_BYTES, FE_BYTES), at(B_Z, FE_BYTES);
    code.push(OP.call, ...unsignedLeb(f.mul), OP.end);
    code.push(OP.localGet, I), i32(1), code.push(OP.i32Add, OP.localTee, I, OP.localGet, N);
    code.push(OP.i32LtU, OP.brIf, 0, OP.end);
    // acc = 1/P_{n−1}; for i = n−1 … 1: 1/Z_i = acc·P_{i−1}, acc = acc·Z_i; 1/Z_0 = acc.
    code.push(OP.localGet, N), i32(1), code.push(OP.i32Sub, OP.localSet, I);
    i32(FE.t), at(B_P, FE_BYTES), code.push(OP.call, ...unsignedLeb(f.invert));
    code.push(OP.loop, 0x40, OP.localGet, I, OP.if, 0x40);
    call(f.copy, FE.px, FE.t);
    i32(FE.px), i32(FE.px), at(B_P - FE_BYTES, FE_BYTES), code.push(OP.call, ...unsignedLeb(f.mul));
    i32(FE.t), i32(FE.t), at(B_Z, FE_BYTES), code.push(OP.call, ...unsignedLeb(f.mul));
    code.push(OP.else);
    call(f.copy, FE.px, FE.t);
    code.push(OP.end);
    i32(FE.px), i32(FE.px), at(B_X, FE_BYTES), code.push(OP.call, ...unsignedLeb(f.mul));
    at(B_OUT, 32), i32(FE.px), code.push(OP.call, ...unsignedLeb(f.toBytes));
    code.push(OP.localGet, I), i32(1), code.push(OP.i32Sub, OP.localTee, I), i32(0);
    code.push(OP.i32GeS, OP.brIf, 0, OP.end);
    m.define(many, [[2, I32]], code.splice(0));
  }

  // --- Fixed-base multiplication on the Edwards curve (ref10 ge_scalarmult_base) ---
  const select = m.declare("select", [I32, I32], [], false);
  const madd = m.declare("madd", [], [], false);
  const dbl = m.declare("dbl", [], [], false);
  const comb = m.declare("comb", [I32, I32, I32], [], false);
  const niels = m.declare("niels", [I32], [], false);
  const buildTable = m.declare("buildTable", [I32]);
  const base = m.declare("base", [I32]);
  const basePair = m.declare("basePair", [I32, I32]);
  const select2 = m.declare("select2", [I32, I32, I32], [], false);
  const madd2 = m.declare("madd2", [], [], false);
  const dbl2 = m.declare("dbl2", [], [], false);
  const comb2 = m.declare("comb2", [I32, I32], [], false);

  // select(row, digit): n = digit·(row's base) as Niels (y+x, y−x, 2dxy), constant time in
  // the digit: every entry of the row is read and masked in, and a negative digit (−(x, y) =
  // (−x, y)) swaps y+x with y−x and negates 2dxy by masks. Table limbs are i32, two per i64
  // word, so the masking runs over 15 words per entry. Locals: 2 neg, 3 |digit|, 4..11 masks,
  // 12..14 one word of each coordinate, 15 the sign mask, 16 a temporary.
  {
    const NEG = 2, ABS = 3, MASK = 4, ACC = 12, SIGN = 15, X = 16;
    code.push(OP.localGet, 1), i32(31), code.push(OP.i32ShrU, OP.localSet, NEG);
    // |digit| = (digit ⊕ −neg) + neg
    code.push(OP.localGet, 1), i32(0), code.push(OP.localGet, NEG, OP.i32Sub, OP.i32Xor);
    code.push(OP.localGet, NEG, OP.i32Add, OP.localSet, ABS);
    for (let j = 0; j < TABLE_COLUMNS; j++) {
      code.push(OP.i64Const, 0, OP.localGet, ABS), i32(j + 1);
      code.push(OP.i32Eq, OP.i64ExtendI32U, OP.i64Sub, OP.localSet, MASK + j);
    }
    code.push(OP.i64Const, 0, OP.localGet, NEG, OP.i64ExtendI32U, OP.i64Sub, OP.localSet, SIGN);
    const targets = [FE.ny, FE.nm, FE.nt];
    for (let w = 0; w < 5; w++) {
      for (let fe = 0; fe < 3; fe++) {
        // Start from the neutral element (1, 1, 0).
        code.push(OP.i64Const, fe < 2 && w === 0 ? 1 : 0, OP.localSet, ACC + fe);
        for (let j = 0; j < TABLE_COLUMNS; j++) {
          code.push(OP.localGet, ACC + fe, OP.localGet, ACC + fe, OP.localGet, 0);
          code.push(OP.i64Load, 3, ...unsignedLeb(j * ENTRY_BYTES + 40 * fe + 8 * w));
          code.push(OP.i64Xor, OP.localGet, MASK + j, OP.i64And, OP.i64Xor, OP.localSet, ACC + fe);
        }
      }
      // Swap the y+x and y−x words when the digit is negative.
      code.push(OP.localGet, ACC, OP.localGet, ACC + 1, OP.i64Xor, OP.localGet, SIGN);
      code.push(OP.i64And, OP.localSet, X);
      code.push(OP.localGet, ACC, OP.localGet, X, OP.i64Xor, OP.localSet, ACC);
      code.push(OP.localGet, ACC + 1, OP.localGet, X, OP.i64Xor, OP.localSet, ACC + 1);
      for (let fe = 0; fe < 3; fe++) {
        for (const high of [false, true]) {
          // The limb: the word's low or high 32 bits, sign-extended.
          i32(targets[fe]! + 16 * w + (high ? 8 : 0)), code.push(OP.localGet, ACC + fe);
          if (!high) code.push(OP.i64Const, 32, OP.i64Shl);
          code.push(OP.i64Const, 32, OP.i64ShrS);
          // 2dxy: −v = (v ⊕ sign) − sign when the sign mask is all ones.
          if (fe === 2) code.push(OP.localGet, SIGN, OP.i64Xor, OP.localGet, SIGN, OP.i64Sub);
          code.push(OP.i64Store, 3, 0);
        }
      }
    }
    m.define(select, [[2, I32], [8, I64], [3, I64], [2, I64]], code.splice(0));
  }

  // madd: h = h + n (ref10 ge_madd, then p1p1 → p3); every mul input is a carried value or
  // one add/sub of carried values.
  call(f.add, FE.ea, FE.hy, FE.hx), call(f.mul, FE.ea, FE.ea, FE.ny); // A = (Y+X)(y+x)
  call(f.sub, FE.eb, FE.hy, FE.hx), call(f.mul, FE.eb, FE.eb, FE.nm); // B = (Y−X)(y−x)
  call(f.mul, FE.ec, FE.nt, FE.ht); // C = 2d·xy·T
  i32(FE.ed), i32(FE.hz), code.push(OP.i64Const, 2, OP.call, ...unsignedLeb(f.mulSmall)); // D = 2Z
  call(f.sub, FE.ex, FE.ea, FE.eb), call(f.add, FE.ey, FE.ea, FE.eb);
  call(f.add, FE.ez, FE.ed, FE.ec), call(f.sub, FE.et, FE.ed, FE.ec);
  const toP3 = () => {
    call(f.mul, FE.hx, FE.ex, FE.et), call(f.mul, FE.hy, FE.ey, FE.ez);
    call(f.mul, FE.hz, FE.ez, FE.et), call(f.mul, FE.ht, FE.ex, FE.ey);
  };
  toP3();
  m.define(madd, [], code.splice(0));

  // dbl: h = 2h (ref10 ge_p2_dbl, then p1p1 → p3), with carries between chained add/subs.
  call(f.sq, FE.ea, FE.hx), call(f.sq, FE.eb, FE.hy); // XX, YY
  call(f.sq, FE.ec, FE.hz);
  i32(FE.ec), i32(FE.ec), code.push(OP.i64Const, 2, OP.call, ...unsignedLeb(f.mulSmall)); // 2ZZ
  call(f.add, FE.ed, FE.hx, FE.hy), call(f.sq, FE.ed, FE.ed); // (X+Y)²
  call(f.add, FE.ey, FE.eb, FE.ea), call(f.sub, FE.ez, FE.eb, FE.ea); // YY+XX, YY−XX
  call(f.carry, FE.t, FE.ey), call(f.sub, FE.ex, FE.ed, FE.t); // (X+Y)² − (YY+XX)
  call(f.carry, FE.t, FE.ez), call(f.sub, FE.et, FE.ec, FE.t); // 2ZZ − (YY−XX)
  toP3();
  m.define(dbl, [], code.splice(0));

  // comb(table, num, den): h = k·P from the signed digits at DIGITS_AT (Σ e_i·16^i·P, odd
  // digits first, then ×16, then even digits), output u = (Z+Y)/(Z−Y) as num/den
  // (RFC 7748 §4.1). Locals: 3 digit index.
  {
    const I = 3;
    call(f.copy, FE.hx, FE.zero), call(f.copy, FE.hy, FE.one);
    call(f.copy, FE.hz, FE.one), call(f.copy, FE.ht, FE.zero);
    for (const first of [1, 0]) {
      i32(first), code.push(OP.localSet, I, OP.loop, 0x40);
      // select(table + (i >> 1)·ROW_BYTES, digit[i]); madd
      code.push(OP.localGet, 0, OP.localGet, I), i32(1), code.push(OP.i32ShrU), i32(ROW_BYTES);
      code.push(0x6c, /* i32.mul */ OP.i32Add);
      code.push(OP.localGet, I, OP.i32Load8S, 0, ...unsignedLeb(DIGITS_AT));
      code.push(OP.call, ...unsignedLeb(select), OP.call, ...unsignedLeb(madd));
      code.push(OP.localGet, I), i32(2), code.push(OP.i32Add, OP.localTee, I), i32(64);
      code.push(OP.i32LtU, OP.brIf, 0, OP.end);
      if (first === 1) { for (let k = 0; k < 4; k++) code.push(OP.call, ...unsignedLeb(dbl)); }
    }
    code.push(OP.localGet, 1), i32(FE.hz), i32(FE.hy), code.push(OP.call, ...unsignedLeb(f.add));
    code.push(OP.localGet, 2), i32(FE.hz), i32(FE.hy), code.push(OP.call, ...unsignedLeb(f.sub));
    m.define(comb, [[1, I32]], code.splice(0));
  }

  // niels(entry): (y + x, y − x, 2d·x·y) of the affine point (ax, ay), carried, into the select
  // registers ny, nm, nt and as i32 limbs at the table entry's address.
  {
    call(f.add, FE.ny, FE.ay, FE.ax), call(f.carry, FE.ny, FE.ny);
    call(f.sub, FE.nm, FE.ay, FE.ax), call(f.carry, FE.nm, FE.nm);
    call(f.mul, FE.nt, FE.ax, FE.ay), call(f.mul, FE.nt, FE.nt, FE.d2);
    [FE.ny, FE.nm, FE.nt].forEach((fe, k) => {
      for (let l = 0; l < 10; l++) {
        code.push(OP.localGet, 0), i32(fe), code.push(OP.i64Load, 3, ...unsignedLeb(8 * l));
        code.push(OP.i32WrapI64, OP.i32Store, 2, ...unsignedLeb(40 * k + 4 * l));
      }
    });
    m.define(niels, [], code.splice(0));
  }

  // buildTable(table): entry (i, j) = (j+1)·256^i·P from the affine P = (x, y) at STAGING_AT
  // (2d at STAGING_AT + 64): per row, 7 mixed additions of the row's base and 8 doublings for
  // the next base, then one inversion for the 8 points (Montgomery's trick) and Niels forms.
  // P is public (a node key): nothing here depends on a secret. Locals: 1 row.
  {
    const ROW = 1;
    const TX = B_X, TY = B_X + 8 * FE_BYTES, TZ = B_X + 16 * FE_BYTES, TP = B_X + 24 * FE_BYTES;
    const entry = (column: number) => (
      code.push(OP.localGet, 0, OP.localGet, ROW),
        i32(ROW_BYTES),
        code.push(0x6c, OP.i32Add),
        i32(column * ENTRY_BYTES),
        code.push(OP.i32Add)
    );
    const fromBase = () => {
      call(f.copy, FE.hx, FE.bx), call(f.copy, FE.hy, FE.by);
      call(f.copy, FE.hz, FE.one), call(f.mul, FE.ht, FE.bx, FE.by);
    };
    i32(FE.bx), i32(STAGING_AT), code.push(OP.call, ...unsignedLeb(f.fromBytes));
    i32(FE.by), i32(STAGING_AT + 32), code.push(OP.call, ...unsignedLeb(f.fromBytes));
    i32(FE.d2), i32(STAGING_AT + 64), code.push(OP.call, ...unsignedLeb(f.fromBytes));
    i32(0), code.push(OP.localSet, ROW, OP.loop, 0x40);
    // Column 0: the base itself; its Niels form stays in n for the additions.
    call(f.copy, FE.ax, FE.bx), call(f.copy, FE.ay, FE.by);
    entry(0), code.push(OP.call, ...unsignedLeb(niels));
    fromBase();
    for (let j = 1; j < TABLE_COLUMNS; j++) {
      code.push(OP.call, ...unsignedLeb(madd)); // (j+1)·base
      call(f.copy, TX + j * FE_BYTES, FE.hx), call(f.copy, TY + j * FE_BYTES, FE.hy);
      call(f.copy, TZ + j * FE_BYTES, FE.hz);
    }
    fromBase();
    for (let k = 0; k < 8; k++) code.push(OP.call, ...unsignedLeb(dbl)); // 256·base
    call(f.copy, TX, FE.hx), call(f.copy, TY, FE.hy), call(f.copy, TZ, FE.hz);
    // Affine: prefix products of Z, one inversion, back-substitution.
    call(f.copy, TP, TZ);
    for (let k = 1; k < 8; k++) {
      call(f.mul, TP + k * FE_BYTES, TP + (k - 1) * FE_BYTES, TZ + k * FE_BYTES);
    }
    call(f.invert, FE.inv, TP + 7 * FE_BYTES);
    for (let k = 7; k >= 1; k--) {
      call(f.mul, FE.zi, FE.inv, TP + (k - 1) * FE_BYTES),
        call(f.mul, FE.inv, FE.inv, TZ + k * FE_BYTES);
      call(f.mul, FE.ax, TX + k * FE_BYTES, FE.zi), call(f.mul, FE.ay, TY + k * FE_BYTES, FE.zi);
      entry(k), code.push(OP.call, ...unsignedLeb(niels));
    }
    call(f.mul, FE.bx, TX, FE.inv), call(f.mul, FE.by, TY, FE.inv); // the next row's base
    code.push(OP.localGet, ROW), i32(1), code.push(OP.i32Add, OP.localTee, ROW), i32(TABLE_ROWS);
    code.push(OP.i32LtU, OP.brIf, 0, OP.end);
    m.define(buildTable, [[1, I32]], code.splice(0));
  }

  // base(table): u = num/den → OUT1.
  code.push(OP.localGet, 0), i32(FE.rn), i32(FE.rd), code.push(OP.call, ...unsignedLeb(comb));
  call(f.invert, FE.rd, FE.rd), call(f.mul, FE.rn, FE.rn, FE.rd), call(f.toBytes, OUT1_AT, FE.rn);
  m.define(base, [], code.splice(0));

  // --- The same two multiplications at once, one per SIMD lane (core/field25519x2.ts) ---
  // select2(rowA, rowB, digit): lane 0 from table A's row, lane 1 from table B's, same digit;
  // the masks of `select`, over i64 words of two packed limbs. Locals: 3 neg, 4 |digit|,
  // 5..12 masks, 13 sign mask, 14..19 one word of y+x, y−x, 2dxy from A then B, 20 a temporary,
  // 21 the sign mask as i32, 22 a limb.
  {
    const NEG = 3, ABS = 4, MASK = 5, SIGN = 13, V = 14, X = 20, SIGN32 = 21, L = 22;
    code.push(OP.localGet, 2), i32(31), code.push(OP.i32ShrU, OP.localSet, NEG);
    code.push(OP.localGet, 2), i32(0), code.push(OP.localGet, NEG, OP.i32Sub, OP.i32Xor);
    code.push(OP.localGet, NEG, OP.i32Add, OP.localSet, ABS);
    for (let j = 0; j < TABLE_COLUMNS; j++) {
      code.push(OP.i64Const, 0, OP.localGet, ABS), i32(j + 1);
      code.push(OP.i32Eq, OP.i64ExtendI32U, OP.i64Sub, OP.localSet, MASK + j);
    }
    code.push(OP.i64Const, 0, OP.localGet, NEG, OP.i64ExtendI32U, OP.i64Sub, OP.localSet, SIGN);
    i32(0), code.push(OP.localGet, NEG, OP.i32Sub, OP.localSet, SIGN32);
    const targets = [P2.ny, P2.nm, P2.nt];
    for (let w = 0; w < 5; w++) {
      for (const lane of [0, 1]) {
        for (let fe = 0; fe < 3; fe++) {
          const acc = V + 3 * lane + fe;
          code.push(OP.i64Const, fe < 2 && w === 0 ? 1 : 0, OP.localSet, acc); // (1, 1, 0)
          for (let j = 0; j < TABLE_COLUMNS; j++) {
            code.push(OP.localGet, acc, OP.localGet, acc, OP.localGet, lane);
            code.push(OP.i64Load, 3, ...unsignedLeb(j * ENTRY_BYTES + 40 * fe + 8 * w));
            code.push(OP.i64Xor, OP.localGet, MASK + j, OP.i64And, OP.i64Xor, OP.localSet, acc);
          }
        }
        // Negative digit: swap the y+x and y−x words.
        const yp = V + 3 * lane, ym = yp + 1;
        code.push(OP.localGet, yp, OP.localGet, ym, OP.i64Xor, OP.localGet, SIGN, OP.i64And);
        code.push(OP.localSet, X);
        code.push(OP.localGet, yp, OP.localGet, X, OP.i64Xor, OP.localSet, yp);
        code.push(OP.localGet, ym, OP.localGet, X, OP.i64Xor, OP.localSet, ym);
      }
      // Limbs 2w and 2w + 1 of each lane into the pairs; 2dxy negated ((v ⊕ sign) − sign).
      for (let fe = 0; fe < 3; fe++) {
        for (const lane of [0, 1]) {
          for (const high of [false, true]) {
            code.push(OP.localGet, V + 3 * lane + fe);
            if (high) code.push(OP.i64Const, 32, OP.i64ShrU);
            code.push(OP.i32WrapI64, OP.localSet, L);
            i32(targets[fe]! + 16 * w + (high ? 8 : 0) + 4 * lane), code.push(OP.localGet, L);
            if (fe === 2) {
              code.push(OP.localGet, SIGN32, OP.i32Xor, OP.localGet, SIGN32, OP.i32Sub);
            }
            code.push(OP.i32Store, 2, 0);
          }
        }
      }
    }
    m.define(select2, [[2, I32], [9, I64], [6, I64], [1, I64], [2, I32]], code.splice(0));
  }
  const call2 = (fn: number, ...addresses: number[]) => call(fn, ...addresses);
  const small2 = (
    out: number,
    a: number,
    k: number,
  ) => (i32(out), i32(a), i32(k), code.push(OP.call, ...unsignedLeb(f2.mulSmall)));
  const toP3x2 = () => {
    call2(f2.mul, P2.hx, P2.ex, P2.et), call2(f2.mul, P2.hy, P2.ey, P2.ez);
    call2(f2.mul, P2.hz, P2.ez, P2.et), call2(f2.mul, P2.ht, P2.ex, P2.ey);
  };
  // madd2: h = h + n in both lanes (as `madd`).
  call2(f2.add, P2.ea, P2.hy, P2.hx), call2(f2.mul, P2.ea, P2.ea, P2.ny);
  call2(f2.sub, P2.eb, P2.hy, P2.hx), call2(f2.mul, P2.eb, P2.eb, P2.nm);
  call2(f2.mul, P2.ec, P2.nt, P2.ht), small2(P2.ed, P2.hz, 2);
  call2(f2.sub, P2.ex, P2.ea, P2.eb), call2(f2.add, P2.ey, P2.ea, P2.eb);
  call2(f2.add, P2.ez, P2.ed, P2.ec), call2(f2.sub, P2.et, P2.ed, P2.ec);
  toP3x2();
  m.define(madd2, [], code.splice(0));
  // dbl2: h = 2h in both lanes (as `dbl`; mulSmall by 1 is the carry between chained sums).
  call2(f2.sq, P2.ea, P2.hx), call2(f2.sq, P2.eb, P2.hy), call2(f2.sq, P2.ec, P2.hz);
  small2(P2.ec, P2.ec, 2);
  call2(f2.add, P2.ed, P2.hx, P2.hy), call2(f2.sq, P2.ed, P2.ed);
  call2(f2.add, P2.ey, P2.eb, P2.ea), call2(f2.sub, P2.ez, P2.eb, P2.ea);
  small2(P2.t, P2.ey, 1), call2(f2.sub, P2.ex, P2.ed, P2.t);
  small2(P2.t, P2.ez, 1), call2(f2.sub, P2.et, P2.ec, P2.t);
  toP3x2();
  m.define(dbl2, [], code.splice(0));
  // comb2(tableA, tableB): the comb of `comb` for both tables with the digits at DIGITS_AT;
  // u = num/den of each lane into FE.rn/FE.rd (lane 0) and FE.sn/FE.sd (lane 1).
  {
    const I = 2;
    call2(f2.add, P2.hx, P2.zero, P2.zero), call2(f2.add, P2.hy, P2.one, P2.zero);
    call2(f2.add, P2.hz, P2.one, P2.zero), call2(f2.add, P2.ht, P2.zero, P2.zero);
    for (const first of [1, 0]) {
      i32(first), code.push(OP.localSet, I, OP.loop, 0x40);
      for (const table of [0, 1]) {
        code.push(OP.localGet, table, OP.localGet, I), i32(1), code.push(OP.i32ShrU);
        i32(ROW_BYTES), code.push(0x6c, /* i32.mul */ OP.i32Add);
      }
      code.push(OP.localGet, I, OP.i32Load8S, 0, ...unsignedLeb(DIGITS_AT));
      code.push(OP.call, ...unsignedLeb(select2), OP.call, ...unsignedLeb(madd2));
      code.push(OP.localGet, I), i32(2), code.push(OP.i32Add, OP.localTee, I), i32(64);
      code.push(OP.i32LtU, OP.brIf, 0, OP.end);
      if (first === 1) { for (let k = 0; k < 4; k++) code.push(OP.call, ...unsignedLeb(dbl2)); }
    }
    call2(f2.add, P2.num, P2.hz, P2.hy), call2(f2.sub, P2.den, P2.hz, P2.hy);
    call(f2.toSingles, FE.rn, FE.sn, P2.num), call(f2.toSingles, FE.rd, FE.sd, P2.den);
    m.define(comb2, [[1, I32]], code.splice(0));
  }

  // basePair(table1, table2): both combs at once, one inversion (Montgomery's trick).
  code.push(OP.localGet, 0, OP.localGet, 1, OP.call, ...unsignedLeb(comb2));
  call(f.mul, FE.t, FE.rd, FE.sd), call(f.invert, FE.t, FE.t);
  call(f.mul, FE.rn, FE.rn, FE.sd), call(f.mul, FE.rn, FE.rn, FE.t);
  call(f.mul, FE.sn, FE.sn, FE.rd), call(f.mul, FE.sn, FE.sn, FE.t);
  call(f.toBytes, OUT1_AT, FE.rn), call(f.toBytes, OUT2_AT, FE.sn);
  m.define(basePair, [], code.splice(0));

  const instance = m.instantiate("x25519");
  if (instance === undefined) return undefined;
  const memory = instance.memory;
  // Pair constants 0 and 1 (limb 0 of both 32-bit lanes).
  memory.fill(0, P2.zero, P2.zero + 2 * PAIR_BYTES);
  memory[P2.one] = 1;
  memory[P2.one + 4] = 1;
  // Constants 1 and 0 as limb vectors (little-endian i64, limb 0 first).
  memory.fill(0, FE.one, FE.one + 2 * FE_BYTES);
  memory[FE.one] = 1;
  return {
    memory,
    digits: new Int8Array(memory.buffer, DIGITS_AT, 64),
    many: instance.exports.many as (n: number) => void,
    buildTable: instance.exports.buildTable as (table: number) => void,
    base: instance.exports.base as (table: number) => void,
    basePair: instance.exports.basePair as (table1: number, table2: number) => void,
  };
}

let engine: Engine | undefined | null = null;

function wasmEngine(): Engine | undefined {
  if (engine === null) engine = build();
  return engine;
}

/**
 * Whether this platform runs the WebAssembly X25519 (false where WebAssembly or its SIMD
 * instructions are missing or refused).
 *
 * @returns true when available
 * @example
 * ```ts
 * import { wasmX25519Available } from "./x25519_wasm.ts";
 * console.assert(typeof wasmX25519Available() === "boolean");
 * ```
 */
export function wasmX25519Available(): boolean {
  return wasmEngine() !== undefined;
}

/**
 * X25519(scalar, u) (RFC 7748 §5) in WebAssembly.
 *
 * @param scalar 32-byte scalar (clamped here)
 * @param u 32-byte u-coordinate (bit 255 ignored, non-canonical values reduced)
 * @returns the 32-byte result, or undefined for a low-order u (the result would be zero)
 * @throws {RangeError} when WebAssembly is unavailable (check {@linkcode wasmX25519Available})
 * @example
 * ```ts
 * import { x25519Wasm } from "./x25519_wasm.ts";
 * const u = new Uint8Array(32);
 * u[0] = 9;
 * console.assert(x25519Wasm(new Uint8Array(32).fill(1), u)?.length === 32);
 * ```
 */
export function x25519Wasm(scalar: Uint8Array, u: Uint8Array): Uint8Array | undefined {
  return x25519WasmMany([scalar], [u])[0];
}

/**
 * X25519(scalars[i], points[i]) for every i, sharing one field inversion per
 * {@linkcode LADDER_BATCH} ladders (Montgomery's trick): a node unwrapping a batch of packets
 * saves most of an inversion per X25519.
 *
 * @param scalars 32-byte scalars (clamped here)
 * @param points 32-byte u-coordinates, as many as scalars
 * @returns the results in order; undefined where u has low order (the result would be zero)
 * @throws {RangeError} when WebAssembly is unavailable or the lengths differ
 * @example
 * ```ts
 * import { x25519WasmMany } from "./x25519_wasm.ts";
 * const u = new Uint8Array(32);
 * u[0] = 9;
 * const [a, b] = x25519WasmMany([new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)], [u, u]);
 * console.assert(a?.length === 32 && b?.length === 32);
 * ```
 */
export function x25519WasmMany(
  scalars: readonly Uint8Array[],
  points: readonly Uint8Array[],
): (Uint8Array | undefined)[] {
  const e = wasmEngine();
  if (e === undefined) throw new RangeError("WebAssembly X25519 is unavailable");
  if (scalars.length !== points.length) {
    throw new RangeError("X25519 batch needs as many points as scalars");
  }
  const out: (Uint8Array | undefined)[] = [];
  const memory = e.memory;
  for (let start = 0; start < scalars.length; start += LADDER_BATCH) {
    const n = Math.min(LADDER_BATCH, scalars.length - start);
    for (let i = 0; i < n; i++) {
      // decodeScalar25519: clear bits 0–2 and 255, set bit 254 (RFC 7748 §5).
      const at = B_SCALARS + 32 * i;
      memory.set(scalars[start + i]!, at);
      memory[at] = memory[at]! & 248;
      memory[at + 31] = (memory[at + 31]! & 127) | 64;
      memory.set(points[start + i]!, B_US + 32 * i);
    }
    e.many(n);
    for (let i = 0; i < n; i++) {
      const at = B_OUT + 32 * i;
      out.push(memory[B_FLAGS + i] ? undefined : memory.slice(at, at + 32));
    }
  }
  return out;
}

function loadDigits(e: Engine, scalar: Uint8Array): void {
  // The X25519 clamping (RFC 7748 §5), then signed radix-16 digits e_i ∈ [−8, 8] with
  // k = Σ e_i·16^i (ref10 ge_scalarmult_base); arithmetic only, no secret-dependent branch.
  const digits = e.digits;
  for (let i = 0; i < 32; i++) {
    let byte = scalar[i]!;
    if (i === 0) byte &= 248;
    if (i === 31) byte = (byte & 127) | 64;
    digits[2 * i] = byte & 15;
    digits[2 * i + 1] = byte >> 4;
  }
  let carry = 0;
  for (let i = 0; i < 63; i++) {
    const v = digits[i]! + carry;
    carry = (v + 8) >> 4;
    digits[i] = v - (carry << 4);
  }
  digits[63] = digits[63]! + carry; // ≤ 8: bit 255 is clear
}

/** Which points have a table in memory (slot 0 is the base point), most recent last. */
const slotOf = new Map<string, number>();
/** Table slots not in use (slot 0 is the base point's). */
const freeSlots = Array.from({ length: TABLE_SLOTS - 1 }, (_, i) => TABLE_SLOTS - 1 - i);
/**
 * Recent uses of each node key: counts halved every {@linkcode DECAY_EVERY} lookups, so the
 * keys of the current routes win the slots.
 */
const uses = new Map<string, number>();
let lookups = 0;
const DECAY_EVERY = 1024;
/** Keys that cannot have a table (on the twist, or u = −1): the ladder handles them. */
const noTable = new Set<string>();
/** Uses after which a point gets a free table slot (building one costs a few milliseconds). */
const TABULATE_AFTER = 4;
/**
 * Recent uses after which a point may take the slot of another: building a table (about 1 ms)
 * costs what about 17 uses of it save, so only keys used at least twice that often win a slot.
 */
const EVICT_AFTER = 32;
const BASE_U = new Uint8Array(32);
BASE_U[0] = 9;

// Table keys by content, remembered per array object (node keys are reused arrays).
const hexOf = new WeakMap<Uint8Array, string>();

function hex(bytes: Uint8Array): string {
  let out = hexOf.get(bytes);
  if (out === undefined) {
    out = "";
    for (const b of bytes) out += (b < 16 ? "0" : "") + b.toString(16);
    hexOf.set(bytes, out);
  }
  return out;
}

function tableAddress(slot: number): number {
  return TABLES_AT + slot * TABLE_LIMB_BYTES;
}

function load(e: Engine, slot: number, point: NonNullable<ReturnType<typeof edwardsFromU>>): void {
  // The affine point and 2d; the multiples are computed in WebAssembly (about 0.5 ms).
  e.memory.set(edwardsAffineBytes(point), STAGING_AT);
  e.memory.set(TWO_D_BYTES, STAGING_AT + 64);
  e.buildTable(tableAddress(slot));
}

function decayUses(): void {
  for (const [key, count] of uses) {
    if (count > 1) uses.set(key, count >> 1);
    else uses.delete(key);
  }
}

// The table slot of u, building the table when u is used often enough; undefined otherwise
// (or for points with no Edwards image, which the ladder handles). With all slots taken, the
// least recently used key gives its slot only to a key used often lately (EVICT_AFTER) and at
// least twice as often as itself: with more keys in use than slots (a large directory, random
// routes), tables stay instead of being rebuilt over and over.
function tableSlot(e: Engine, u: Uint8Array): number | undefined {
  if (slotOf.size === 0) {
    load(e, 0, edwardsFromU(BASE_U)!);
    slotOf.set(hex(BASE_U), 0);
  }
  const key = hex(u);
  const slot = slotOf.get(key);
  if (slot === 0) return 0;
  const count = (uses.get(key) ?? 0) + 1;
  uses.set(key, count);
  if (++lookups % DECAY_EVERY === 0) decayUses();
  if (slot !== undefined) {
    slotOf.delete(key); // most recently used last
    slotOf.set(key, slot);
    return slot;
  }
  if (count < TABULATE_AFTER || noTable.has(key)) return undefined;
  // A free slot, or the least recently used key's slot if this key has earned it.
  let victim: string | undefined;
  if (freeSlots.length === 0) {
    if (count < EVICT_AFTER) return undefined;
    for (const [oldKey, oldSlot] of slotOf) {
      if (oldSlot !== 0) {
        victim = oldKey;
        break;
      }
    }
    if (victim === undefined || count < 2 * (uses.get(victim) ?? 0)) return undefined;
  }
  const point = edwardsFromU(u);
  if (point === undefined) {
    if (noTable.size >= 4096) noTable.clear();
    noTable.add(key);
    return undefined;
  }
  if (victim !== undefined) {
    freeSlots.push(slotOf.get(victim)!);
    slotOf.delete(victim);
  }
  const free = freeSlots.pop()!;
  load(e, free, point);
  slotOf.set(key, free);
  return free;
}

/**
 * X25519(scalar, 9) (RFC 7748 §5) by fixed-base multiplication on the Edwards form with a
 * precomputed table of the base point: about a fifth of a ladder.
 *
 * @param scalar 32-byte scalar (clamped here)
 * @returns the 32-byte public u-coordinate
 * @throws {RangeError} when WebAssembly is unavailable
 * @example
 * ```ts
 * import { x25519WasmBase } from "./x25519_wasm.ts";
 * console.assert(x25519WasmBase(new Uint8Array(32).fill(1)).length === 32);
 * ```
 */
export function x25519WasmBase(scalar: Uint8Array): Uint8Array {
  const e = wasmEngine();
  if (e === undefined) throw new RangeError("WebAssembly X25519 is unavailable");
  const slot = tableSlot(e, BASE_U);
  if (slot === undefined) throw new RangeError("Base point table is unavailable");
  loadDigits(e, scalar);
  e.base(tableAddress(slot));
  return e.memory.slice(OUT1_AT, OUT1_AT + 32);
}

/**
 * X25519(scalar, 9) and X25519(scalar, u) together by fixed-base multiplication, when u
 * has a table (it gets one after a few uses: directory keys are used for many packets).
 *
 * @param scalar 32-byte scalar (clamped here)
 * @param u 32-byte u-coordinate (a node's public key)
 * @returns both results, or undefined when u has no table (yet); a low-order u gives zero
 *   for both
 * @throws {RangeError} when WebAssembly is unavailable
 * @example
 * ```ts
 * import { x25519WasmBasePair } from "./x25519_wasm.ts";
 * const u = new Uint8Array(32);
 * u[0] = 9;
 * const pair = x25519WasmBasePair(new Uint8Array(32).fill(1), u);
 * console.assert(pair === undefined || pair[0].join() === pair[1].join());
 * ```
 */
export function x25519WasmBasePair(
  scalar: Uint8Array,
  u: Uint8Array,
): [Uint8Array, Uint8Array] | undefined {
  const e = wasmEngine();
  if (e === undefined) throw new RangeError("WebAssembly X25519 is unavailable");
  const base = tableSlot(e, BASE_U);
  const slot = tableSlot(e, u);
  if (base === undefined || slot === undefined) return undefined;
  loadDigits(e, scalar);
  e.basePair(tableAddress(base), tableAddress(slot));
  return [e.memory.slice(OUT1_AT, OUT1_AT + 32), e.memory.slice(OUT2_AT, OUT2_AT + 32)];
}
