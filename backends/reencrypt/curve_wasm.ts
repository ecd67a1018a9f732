/**
 * The WebAssembly engine of ./group.ts: ristretto255 encoding and decoding (RFC 9496
 * §4.3.1–4.3.2), fixed-base tables, variable-base and multi-scalar multiplication, over the
 * field arithmetic of core/field25519.ts and the point formulas of ./edwards_wasm.ts — four
 * to eight times faster than the bigint arithmetic it replaces. Where WebAssembly is
 * unavailable every function returns undefined and ./group.ts keeps its bigint code
 * (same results, tested).
 *
 * @module
 */

import {
  addField25519,
  FE_BYTES,
  FIELD_PRIME,
  FIELD_SCRATCH_BYTES,
} from "../../core/field25519.ts";
import { WasmModuleBuilder } from "../../core/wasm_module.ts";
import { addEdwardsOps, EDWARDS_SCRATCH_BYTES, NIELS_BYTES, POINT_BYTES } from "./edwards_wasm.ts";

/** Extended twisted Edwards coordinates X:Y:Z:T (x = X/Z, y = Y/Z, x·y = T/Z), reduced mod p. */
export interface ExtendedCoordinates {
  /** X. */
  X: bigint;
  /** Y. */
  Y: bigint;
  /** Z. */
  Z: bigint;
  /** T. */
  T: bigint;
}

// RFC 9496 §4.1 constants.
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;
const INVSQRT_A_MINUS_D =
  54469307008909316920995813868745141605393597292927456921205312896311721017578n;
const EDWARDS_D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
const ONE_MINUS_D_SQ =
  1159843021668779879193775521855586647937357759715417654439879720876111806838n;
const D_MINUS_ONE_SQ =
  40440834346308536858101042469323190826248399146238708352240133220865137265952n;
const SQRT_AD_MINUS_ONE =
  25063068953384623474111414158702152701244531502492656460079210482610430750235n;

// Linear memory: field scratch, then 32 registers of one field element each, then a
// 32-byte window (plus slack for the 8-byte loads of fromBytes) for encodings.
const REGISTERS_AT = FIELD_SCRATCH_BYTES;
const REGISTERS = 34;
const BYTES_AT = REGISTERS_AT + REGISTERS * FE_BYTES;
const EDWARDS_AT = 4096;
if (BYTES_AT + 64 > EDWARDS_AT) throw new RangeError("Memory layout overlaps");
// Work area: an output point, an input point, digits; then the heap (tables, MSM arrays).
const OUT_AT = EDWARDS_AT + EDWARDS_SCRATCH_BYTES;
const IN_AT = OUT_AT + POINT_BYTES;
const DIGITS_AT = IN_AT + POINT_BYTES;
const HEAP_AT = DIGITS_AT + 1024;
const PAGE = 65536;

// Named registers.
const ZERO = 0, ONE = 1, D = 2, SQRTM1 = 3, INVSQRT_AMD = 4, MINUS_ONE = 5, MINUS_SQRTM1 = 6;
const [X0, Y0, Z0, T0] = [7, 8, 9, 10];
const [A, B, C, E, F, G, H, R, W, V] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
const [U1, U2, S, D2, MU, MUI] = [21, 22, 23, 24, 25, 26];
const [MAP_T, MAP_R, MAP_U, MAP_V] = [27, 28, 29, 30];
// Constants of the element derivation (RFC 9496 §4.1).
const [ONE_MINUS_DSQ, D_MINUS_ONE_SQR, SQRT_AD_MINUS_1] = [31, 32, 33];

type WasmFn = (...args: number[]) => void;

class Engine {
  readonly #wasm: WebAssembly.Memory;
  #memory: Uint8Array;
  #view: DataView;
  #i32: Int32Array;
  #heapEnd = HEAP_AT;
  readonly #mul: WasmFn;
  readonly #sq: WasmFn;
  readonly #add: WasmFn;
  readonly #sub: WasmFn;
  readonly #carry: WasmFn;
  readonly #fromBytes: WasmFn;
  readonly #toBytes: WasmFn;
  readonly #pow22523: WasmFn;
  readonly #invert: WasmFn;
  readonly #toCached: WasmFn;
  readonly #addCached: WasmFn;
  readonly #fixedMul: WasmFn;
  readonly #varMul: WasmFn;
  readonly #msmWindow: WasmFn;
  readonly #identity: WasmFn;

  constructor(wasm: WebAssembly.Memory, exports: Record<string, (...args: number[]) => number>) {
    this.#wasm = wasm;
    this.#memory = new Uint8Array(wasm.buffer);
    this.#view = new DataView(wasm.buffer);
    this.#i32 = new Int32Array(wasm.buffer);
    const fn = (name: string): WasmFn => exports[name] as WasmFn;
    this.#mul = fn("fe_mul");
    this.#sq = fn("fe_sq");
    this.#add = fn("fe_add");
    this.#sub = fn("fe_sub");
    this.#carry = fn("fe_carry");
    this.#fromBytes = fn("fe_from_bytes");
    this.#toBytes = fn("fe_to_bytes");
    this.#pow22523 = fn("fe_pow22523");
    this.#invert = fn("fe_invert");
    this.#toCached = fn("ge_to_cached");
    this.#addCached = fn("ge_add_cached");
    this.#fixedMul = fn("ge_fixed_mul");
    this.#varMul = fn("ge_var_mul");
    this.#msmWindow = fn("ge_msm_window");
    this.#identity = fn("ge_identity");
    const constants: [number, bigint][] = [
      [ZERO, 0n],
      [ONE, 1n],
      [D, EDWARDS_D],
      [SQRTM1, SQRT_M1],
      [INVSQRT_AMD, INVSQRT_A_MINUS_D],
      [MINUS_ONE, FIELD_PRIME - 1n],
      [MINUS_SQRTM1, FIELD_PRIME - SQRT_M1],
      [D2, (2n * EDWARDS_D) % FIELD_PRIME],
      [ONE_MINUS_DSQ, ONE_MINUS_D_SQ],
      [D_MINUS_ONE_SQR, D_MINUS_ONE_SQ],
      [SQRT_AD_MINUS_1, SQRT_AD_MINUS_ONE],
    ];
    for (const [reg, value] of constants) this.set(reg, value);
  }

  /** Reserves heap bytes (8-byte aligned), growing the memory when needed. */
  alloc(bytes: number): number {
    const start = this.#heapEnd;
    this.#heapEnd = start + Math.ceil(bytes / 8) * 8;
    const need = Math.ceil(this.#heapEnd / PAGE) - this.#wasm.buffer.byteLength / PAGE;
    if (need > 0) {
      this.#wasm.grow(need);
      this.#memory = new Uint8Array(this.#wasm.buffer);
      this.#view = new DataView(this.#wasm.buffer);
      this.#i32 = new Int32Array(this.#wasm.buffer);
    }
    return start;
  }

  /** Marks the heap as free again from `mark` (what {@linkcode alloc} returned) on. */
  release(mark: number): void {
    this.#heapEnd = mark;
  }

  /** Loads a reduced field element at an address. */
  setAt(addr: number, x: bigint): void {
    const v = this.#view;
    v.setBigUint64(BYTES_AT, BigInt.asUintN(64, x), true);
    v.setBigUint64(BYTES_AT + 8, BigInt.asUintN(64, x >> 64n), true);
    v.setBigUint64(BYTES_AT + 16, BigInt.asUintN(64, x >> 128n), true);
    v.setBigUint64(BYTES_AT + 24, x >> 192n, true);
    this.#fromBytes(addr, BYTES_AT);
  }

  /** The canonical value of the field element at an address. */
  getAt(addr: number): bigint {
    this.#toBytes(BYTES_AT, addr);
    const v = this.#view;
    return v.getBigUint64(BYTES_AT, true) | (v.getBigUint64(BYTES_AT + 8, true) << 64n) |
      (v.getBigUint64(BYTES_AT + 16, true) << 128n) | (v.getBigUint64(BYTES_AT + 24, true) << 192n);
  }

  set(reg: number, x: bigint): void {
    this.setAt(at(reg), x);
  }

  get(reg: number): bigint {
    return this.getAt(at(reg));
  }

  setPoint(addr: number, p: ExtendedCoordinates): void {
    this.setAt(addr, p.X);
    this.setAt(addr + FE_BYTES, p.Y);
    this.setAt(addr + 2 * FE_BYTES, p.Z);
    this.setAt(addr + 3 * FE_BYTES, p.T);
  }

  getPoint(addr: number): ExtendedCoordinates {
    return {
      X: this.getAt(addr),
      Y: this.getAt(addr + FE_BYTES),
      Z: this.getAt(addr + 2 * FE_BYTES),
      T: this.getAt(addr + 3 * FE_BYTES),
    };
  }

  /** Canonical bytes of a register, left in the byte window; returns its first byte. */
  #canonical(reg: number): number {
    this.#toBytes(BYTES_AT, at(reg));
    return this.#memory[BYTES_AT]!;
  }

  isNegative(reg: number): boolean {
    return (this.#canonical(reg) & 1) === 1; // RFC 9496 §4.1 IS_NEGATIVE
  }

  isZero(reg: number): boolean {
    this.#canonical(reg);
    const v = this.#view;
    return (v.getUint32(BYTES_AT) | v.getUint32(BYTES_AT + 4) | v.getUint32(BYTES_AT + 8) |
      v.getUint32(BYTES_AT + 12) | v.getUint32(BYTES_AT + 16) | v.getUint32(BYTES_AT + 20) |
      v.getUint32(BYTES_AT + 24) | v.getUint32(BYTES_AT + 28)) === 0;
  }

  equal(a: number, b: number): boolean {
    this.#sub(at(W), at(a), at(b));
    return this.isZero(W);
  }

  mul(out: number, a: number, b: number): void {
    this.#mul(at(out), at(a), at(b));
  }
  sq(out: number, a: number): void {
    this.#sq(at(out), at(a));
  }
  add(out: number, a: number, b: number): void {
    this.#add(at(out), at(a), at(b));
    this.#carry(at(out), at(out));
  }
  sub(out: number, a: number, b: number): void {
    this.#sub(at(out), at(a), at(b));
    this.#carry(at(out), at(out));
  }
  /** out = |a| (RFC 9496 §4.1 CT_ABS; variable time, public data only). */
  abs(out: number, a: number): void {
    if (this.isNegative(a)) this.sub(out, ZERO, a);
    else if (out !== a) this.add(out, a, ZERO);
  }

  /**
   * SQRT_RATIO_M1(u, v) (RFC 9496 §4.2): r = |√(u/v)| or |√(i·u/v)|, in register R.
   * Uses registers A, B, C, W, MU and MUI; u and v must be other registers.
   *
   * @returns whether u/v was square
   */
  sqrtRatio(u: number, v: number): boolean {
    this.sq(A, v);
    this.mul(A, A, v); // v³
    this.sq(B, A);
    this.mul(B, B, v); // v⁷
    this.mul(B, B, u); // u·v⁷
    this.#pow22523(at(R), at(B));
    this.mul(R, R, A);
    this.mul(R, R, u); // r = (u·v³)·(u·v⁷)^((p−5)/8)
    this.sq(C, R);
    this.mul(C, C, v); // check = v·r²
    this.sub(MU, ZERO, u);
    this.mul(MUI, MU, SQRTM1);
    const correct = this.equal(C, u);
    const flipped = this.equal(C, MU);
    const flippedI = this.equal(C, MUI);
    if (flipped || flippedI) this.mul(R, R, SQRTM1);
    this.abs(R, R);
    return correct || flipped;
  }

  sqrtRatioOne(v: number): boolean {
    return this.sqrtRatio(ONE, v);
  }

  /**
   * RFC 9496 §4.3.4 MAP of 32 bytes (bit 255 ignored) to a point, written at `out`.
   */
  map(bytes: Uint8Array, out: number): void {
    this.#memory.set(bytes, BYTES_AT);
    this.#fromBytes(at(MAP_T), BYTES_AT);
    this.sq(MAP_R, MAP_T);
    this.mul(MAP_R, MAP_R, SQRTM1); // r = i·t²
    this.add(MAP_U, MAP_R, ONE);
    this.mul(MAP_U, MAP_U, ONE_MINUS_DSQ); // u = (r + 1)·(1 − d²)
    this.mul(E, MAP_R, D);
    this.sub(E, MINUS_ONE, E); // −1 − r·d
    this.add(F, MAP_R, D);
    this.mul(MAP_V, E, F); // v = (−1 − r·d)(r + d)
    const wasSquare = this.sqrtRatio(MAP_U, MAP_V); // s in R
    if (!wasSquare) {
      this.mul(R, R, MAP_T);
      this.abs(R, R);
      this.sub(R, ZERO, R); // s′ = −|s·t|
    }
    this.sub(E, MAP_R, ONE);
    this.mul(E, E, wasSquare ? MINUS_ONE : MAP_R); // c·(r − 1), c = −1 or r
    this.mul(E, E, D_MINUS_ONE_SQR);
    this.sub(E, E, MAP_V); // N = c·(r − 1)·(d − 1)² − v
    this.add(F, R, R);
    this.mul(F, F, MAP_V); // w0 = 2s·v
    this.mul(G, E, SQRT_AD_MINUS_1); // w1 = N·√(a·d − 1)
    this.sq(H, R);
    this.sub(U1, ONE, H); // w2 = 1 − s²
    this.add(U2, ONE, H); // w3 = 1 + s²
    this.#mul(out, at(F), at(U2)); // X = w0·w3
    this.#mul(out + FE_BYTES, at(U1), at(G)); // Y = w2·w1
    this.#mul(out + 2 * FE_BYTES, at(G), at(U2)); // Z = w1·w3
    this.#mul(out + 3 * FE_BYTES, at(F), at(U1)); // T = w0·w2
  }

  /** RFC 9496 §4.3.4 element derivation: MAP of each half of 64 bytes, added. */
  deriveToCurve(bytes: Uint8Array): ExtendedCoordinates {
    this.map(bytes.subarray(0, 32), IN_AT);
    this.map(bytes.subarray(32, 64), OUT_AT);
    this.#toCached(at(16), IN_AT);
    this.#addCached(OUT_AT, OUT_AT, at(16));
    return this.getPoint(OUT_AT);
  }

  /**
   * RFC 9496 §4.3.1 DECODE after the canonical and sign checks on the bytes, into the
   * registers X0, Y0, T0 (Z = 1).
   *
   * @returns false for an invalid encoding
   */
  decode(bytes: Uint8Array): boolean {
    this.#memory.set(bytes, BYTES_AT);
    this.#fromBytes(at(S), BYTES_AT);
    this.sq(A, S); // ss
    this.sub(U1, ONE, A); // u1 = 1 − ss
    this.add(U2, ONE, A); // u2 = 1 + ss
    this.sq(B, U2); // u2²
    this.sq(C, U1);
    this.mul(C, C, D); // D·u1²
    this.sub(V, ZERO, C);
    this.sub(V, V, B); // v = −(D·u1²) − u2²
    this.mul(E, V, B); // v·u2²
    if (!this.sqrtRatioOne(E)) return false;
    this.mul(F, R, U2); // den_x = invsqrt·u2
    this.mul(G, R, F);
    this.mul(G, G, V); // den_y = invsqrt·den_x·v
    this.add(H, S, S);
    this.mul(H, H, F);
    this.abs(X0, H); // x = |2s·den_x|
    this.mul(Y0, U1, G); // y = u1·den_y
    this.mul(T0, X0, Y0); // t = x·y
    return !this.isNegative(T0) && !this.isZero(Y0);
  }

  decodedCoordinates(): ExtendedCoordinates {
    return { X: this.get(X0), Y: this.get(Y0), Z: 1n, T: this.get(T0) };
  }

  /** Writes the decoded point (registers X0, Y0, T0; Z = 1) in cached form at `addr`. */
  decodedToCached(addr: number): void {
    this.#add(addr, at(Y0), at(X0));
    this.#carry(addr, addr);
    this.#sub(addr + FE_BYTES, at(Y0), at(X0));
    this.#carry(addr + FE_BYTES, addr + FE_BYTES);
    this.#add(addr + 2 * FE_BYTES, at(ONE), at(ONE));
    this.#mul(addr + 3 * FE_BYTES, at(T0), at(D2));
  }

  /** RFC 9496 §4.3.2 ENCODE of the point at `addr`, into `out` at `offset`. */
  encodeAt(addr: number, out: Uint8Array, offset: number): void {
    for (const [reg, k] of [[X0, 0], [Y0, 1], [Z0, 2], [T0, 3]] as const) {
      this.#carry(at(reg), addr + k * FE_BYTES);
    }
    this.add(A, Z0, Y0);
    this.sub(B, Z0, Y0);
    this.mul(U1, A, B); // u1 = (Z0 + Y0)(Z0 − Y0)
    this.mul(U2, X0, Y0); // u2 = X0·Y0
    this.sq(V, U2);
    this.mul(V, V, U1); // u1·u2²
    this.sqrtRatioOne(V); // invsqrt in R
    this.mul(E, R, U1); // den1
    this.mul(F, R, U2); // den2
    this.mul(G, E, F);
    this.mul(G, G, T0); // z_inv = den1·den2·T0
    this.mul(H, T0, G);
    let x = X0, y = Y0, denInv = F;
    if (this.isNegative(H)) { // rotate
      this.mul(A, Y0, SQRTM1); // iY0
      this.mul(B, X0, SQRTM1); // iX0
      this.mul(C, E, INVSQRT_AMD); // enchanted denominator
      x = A, y = B, denInv = C;
    }
    this.mul(H, x, G);
    if (this.isNegative(H)) this.sub(y, ZERO, y);
    this.sub(S, Z0, y);
    this.mul(S, S, denInv);
    this.abs(S, S);
    this.#toBytes(BYTES_AT, at(S));
    out.set(this.#memory.subarray(BYTES_AT, BYTES_AT + 32), offset);
  }

  encode(p: ExtendedCoordinates, out: Uint8Array, offset: number): void {
    this.setPoint(OUT_AT, p);
    this.encodeAt(OUT_AT, out, offset);
  }

  /** Signed base-2^bits digits of a scalar < 2^253 into the i32 array at `addr`. */
  writeDigits(addr: number, scalar: bigint, bits: number, windows: number): void {
    const v = this.#view;
    v.setBigUint64(BYTES_AT, BigInt.asUintN(64, scalar), true);
    v.setBigUint64(BYTES_AT + 8, BigInt.asUintN(64, scalar >> 64n), true);
    v.setBigUint64(BYTES_AT + 16, BigInt.asUintN(64, scalar >> 128n), true);
    v.setBigUint64(BYTES_AT + 24, BigInt.asUintN(64, scalar >> 192n), true);
    v.setBigUint64(BYTES_AT + 32, 0n, true);
    this.#digitsFromBytes(BYTES_AT, addr, bits, windows, 1);
  }

  /**
   * Signed digits of the 32-byte little-endian scalar at `bytesAt` (followed by at least 3
   * readable bytes) into i32s at `addr`, `stride` i32s apart.
   */
  #digitsFromBytes(
    bytesAt: number,
    addr: number,
    bits: number,
    windows: number,
    stride: number,
  ): void {
    const mem = this.#memory, i32 = this.#i32;
    const half = 1 << (bits - 1), mask = (1 << bits) - 1;
    let carry = 0;
    for (let j = 0; j < windows; j++) {
      const bit = j * bits, byte = bit >> 3;
      let d = 0;
      if (byte < 32) {
        const word = mem[bytesAt + byte]! | (mem[bytesAt + byte + 1]! << 8) |
          (mem[bytesAt + byte + 2]! << 16);
        d = (word >>> (bit & 7)) & mask;
      }
      d += carry;
      carry = d >= half ? 1 : 0;
      i32[(addr >> 2) + j * stride] = d - (carry << bits);
    }
  }

  /**
   * Builds a fixed-base table (8-bit windows) of a point at `slot` (a heap address an
   * earlier table used) or at a new heap address; returns the address.
   */
  fixedBaseTable(p: ExtendedCoordinates, slot?: number): number {
    const table = slot ?? this.alloc(FIXED_WINDOWS * FIXED_HALF * NIELS_BYTES);
    const base = IN_AT, acc = OUT_AT, cached = at(16); // registers 16..19: one cached point
    this.setPoint(base, p);
    for (let j = 0; j < FIXED_WINDOWS; j++) {
      this.#toCached(cached, base);
      this.#copyPoint(acc, base);
      for (let d = 1; d <= FIXED_HALF; d++) {
        this.#toNiels(table + (j * FIXED_HALF + d - 1) * NIELS_BYTES, acc);
        this.#addCached(acc, acc, cached);
      }
      // acc = (half + 1)·base now: the next window's base is 2·(acc − base) = 2^8·base.
      this.#toCached(cached, base);
      this.#subPointCached(acc, cached);
      this.#toCached(cached, acc);
      this.#addCached(base, acc, cached);
    }
    return table;
  }

  #copyPoint(out: number, p: number): void {
    this.#memory.copyWithin(out, p, p + POINT_BYTES);
  }

  /** acc −= the cached point (swap of Y+X/Y−X and negated 2dT, done in JS memory). */
  #subPointCached(acc: number, cached: number): void {
    const swap = at(12); // register B as scratch
    this.#memory.copyWithin(swap, cached, cached + FE_BYTES);
    this.#memory.copyWithin(cached, cached + FE_BYTES, cached + 2 * FE_BYTES);
    this.#memory.copyWithin(cached + FE_BYTES, swap, swap + FE_BYTES);
    this.#sub(cached + 3 * FE_BYTES, at(ZERO), cached + 3 * FE_BYTES);
    this.#carry(cached + 3 * FE_BYTES, cached + 3 * FE_BYTES);
    this.#addCached(acc, acc, cached);
  }

  /** Affine Niels form (y+x, y−x, 2d·x·y) of the point at `p`. */
  #toNiels(out: number, p: number): void {
    this.#invert(at(A), p + 2 * FE_BYTES);
    this.#mul(at(B), p, at(A)); // x
    this.#mul(at(C), p + FE_BYTES, at(A)); // y
    this.#add(out, at(C), at(B));
    this.#carry(out, out);
    this.#sub(out + FE_BYTES, at(C), at(B));
    this.#carry(out + FE_BYTES, out + FE_BYTES);
    this.#mul(out + 2 * FE_BYTES, at(B), at(C));
    this.#mul(out + 2 * FE_BYTES, out + 2 * FE_BYTES, at(D2));
  }

  fixedMul(table: number, scalar: bigint): ExtendedCoordinates {
    this.writeDigits(DIGITS_AT, scalar, 8, FIXED_WINDOWS);
    this.#fixedMul(OUT_AT, table, DIGITS_AT, FIXED_WINDOWS, FIXED_HALF);
    return this.getPoint(OUT_AT);
  }

  varMul(p: ExtendedCoordinates, scalar: bigint): ExtendedCoordinates {
    this.setPoint(IN_AT, p);
    this.writeDigits(DIGITS_AT, scalar, 4, VAR_WINDOWS);
    this.#varMul(OUT_AT, IN_AT, DIGITS_AT, VAR_WINDOWS);
    return this.getPoint(OUT_AT);
  }

  /**
   * Σ sᵢ·Pᵢ where point i is written in cached form by `load(i, addr)` and its scalar's 32
   * little-endian bytes by `scalarBytes(i, addr)`.
   */
  msm(
    n: number,
    load: (i: number, addr: number) => void,
    scalarBytes: (i: number, addr: number) => void,
  ): ExtendedCoordinates {
    const mark = this.#heapEnd;
    const total = this.alloc(POINT_BYTES);
    this.#identity(total);
    for (let start = 0; start < n; start += MSM_CHUNK) {
      const count = Math.min(MSM_CHUNK, n - start);
      const bits = Math.max(4, Math.min(14, Math.round(Math.log2(count)) - 3));
      const windows = Math.ceil(253 / bits) + 1, half = 1 << (bits - 1);
      const chunkMark = this.#heapEnd;
      const points = this.alloc(count * POINT_BYTES);
      const digits = this.alloc(count * windows * 4);
      const buckets = this.alloc(half * POINT_BYTES);
      const scalarAt = this.alloc(40);
      for (let i = 0; i < count; i++) {
        load(start + i, points + i * POINT_BYTES);
        this.#memory.fill(0, scalarAt, scalarAt + 40);
        scalarBytes(start + i, scalarAt);
        // window-major: digit of point i in window j at digits[j·count + i]
        this.#digitsFromBytes(scalarAt, digits + 4 * i, bits, windows, count);
      }
      this.#identity(OUT_AT);
      for (let j = windows - 1; j >= 0; j--) {
        this.#msmWindow(OUT_AT, buckets, half, points, digits + 4 * j * count, count, bits);
      }
      this.#toCached(at(16), OUT_AT);
      this.#addCached(total, total, at(16));
      this.release(chunkMark);
    }
    const result = this.getPoint(total);
    this.release(mark);
    return result;
  }

  /** Loads extended coordinates as a cached point at `addr`. */
  loadCached(p: ExtendedCoordinates, addr: number): void {
    this.setPoint(IN_AT, p);
    this.#toCached(addr, IN_AT);
  }

  /** Writes a bigint scalar's 32 little-endian bytes at `addr`. */
  writeScalarBytes(scalar: bigint, addr: number): void {
    const v = this.#view;
    v.setBigUint64(addr, BigInt.asUintN(64, scalar), true);
    v.setBigUint64(addr + 8, BigInt.asUintN(64, scalar >> 64n), true);
    v.setBigUint64(addr + 16, BigInt.asUintN(64, scalar >> 128n), true);
    v.setBigUint64(addr + 24, BigInt.asUintN(64, scalar >> 192n), true);
  }

  /** Copies 32 bytes into memory at `addr`. */
  writeBytes(bytes: Uint8Array, addr: number): void {
    this.#memory.set(bytes, addr);
  }
}

const FIXED_WINDOWS = 33; // ⌈253/8⌉ + 1 for the last carry
const FIXED_HALF = 128;
const VAR_WINDOWS = 65; // ⌈253/4⌉ + 1
const MSM_CHUNK = 32768;

function at(reg: number): number {
  return REGISTERS_AT + reg * FE_BYTES;
}

let engine: Engine | undefined | null = null;

function curveModule(): WasmModuleBuilder {
  const m = new WasmModuleBuilder(Math.ceil(HEAP_AT / PAGE) + 1);
  const field = addField25519(m, 0);
  addEdwardsOps(m, field, EDWARDS_AT, { zero: at(ZERO), one: at(ONE), d2: at(D2) });
  return m;
}

function curveEngine(): Engine | undefined {
  if (engine === null) {
    const instance = curveModule().instantiate("ristretto255");
    engine = instance && new Engine(instance.wasmMemory, instance.exports);
  }
  return engine;
}

/**
 * Compiles the WebAssembly engine asynchronously, before first use. A browser page's main
 * thread calls this first: Chrome refuses the synchronous compilation the engine otherwise
 * does on first use there (modules over 4 KB), and the arithmetic would fall back to noble.
 * Without WebAssembly (or under a policy that refuses it) the fallback stays.
 *
 * @returns true when the WebAssembly engine runs, false when the noble fallback does
 * @example
 * ```ts
 * import { prepareCurveEngine } from "./curve_wasm.ts";
 * console.assert(typeof (await prepareCurveEngine()) === "boolean");
 * ```
 */
export async function prepareCurveEngine(): Promise<boolean> {
  if (engine === null) {
    const instance = await curveModule().instantiateAsync("ristretto255");
    // A synchronous first use may have raced this compilation: keep the first engine.
    if (engine === null) engine = instance && new Engine(instance.wasmMemory, instance.exports);
  }
  return engine !== undefined;
}

/**
 * Whether 32 bytes are a canonical, non-negative field element (the byte checks of
 * RFC 9496 §4.3.1 DECODE): below p = 2^255 − 19 and even.
 */
function canonicalNonNegative(bytes: Uint8Array): boolean {
  if ((bytes[0]! & 1) === 1 || bytes[31]! > 0x7f) return false;
  if (bytes[31] !== 0x7f || bytes[0]! < 0xed) return true;
  for (let k = 1; k < 31; k++) if (bytes[k] !== 0xff) return true;
  return false; // p ≤ s < 2^255
}

/**
 * Decodes a ristretto255 encoding (RFC 9496 §4.3.1).
 *
 * @param bytes 32 bytes
 * @returns the coordinates, null for an invalid encoding, or undefined without WebAssembly
 * @example
 * ```ts
 * import { wasmDecode } from "./curve_wasm.ts";
 * console.assert(wasmDecode(new Uint8Array(32))?.Y !== 0n); // the identity: (0, 1)
 * ```
 */
export function wasmDecode(bytes: Uint8Array): ExtendedCoordinates | null | undefined {
  const e = curveEngine();
  if (e === undefined) return undefined;
  if (bytes.length !== 32 || !canonicalNonNegative(bytes)) return null;
  return e.decode(bytes) ? e.decodedCoordinates() : null;
}

/**
 * Encodes a point given in extended coordinates (RFC 9496 §4.3.2) into `out` at `offset`.
 *
 * @param point coordinates reduced mod p
 * @param out destination with 32 bytes free at `offset`
 * @param offset where to write
 * @returns true, or false without WebAssembly (nothing written)
 * @example
 * ```ts
 * import { wasmEncode } from "./curve_wasm.ts";
 * const out = new Uint8Array(32);
 * wasmEncode({ X: 0n, Y: 1n, Z: 1n, T: 0n }, out, 0); // the identity encodes as zeros
 * console.assert(out.every((b) => b === 0));
 * ```
 */
export function wasmEncode(point: ExtendedCoordinates, out: Uint8Array, offset: number): boolean {
  const e = curveEngine();
  if (e === undefined) return false;
  e.encode(point, out, offset);
  return true;
}

/** Fixed-base tables kept in WebAssembly memory at once (about 1 MiB each). */
const TABLE_SLOTS = 16;
const tableSlots = new Map<object, number>(); // owner → heap address, oldest first

/**
 * scalar·base by a fixed-base table (8-bit signed windows, 33 × 128 affine multiples) kept
 * in WebAssembly memory for `owner`; at most 16 owners keep a table, the least recently
 * used one is rebuilt when needed again. Variable time in the scalar only through which
 * table entries are read.
 *
 * @param owner the object the table belongs to (one base point per owner)
 * @param base the base's coordinates
 * @param scalar a scalar below 2^253
 * @returns the product's coordinates, or undefined without WebAssembly
 * @example
 * ```ts
 * import { wasmFixedMul } from "./curve_wasm.ts";
 * const owner = {};
 * const p = wasmFixedMul(owner, { X: 0n, Y: 1n, Z: 1n, T: 0n }, 5n); // the identity's table
 * console.assert(p === undefined || p.X === 0n);
 * ```
 */
export function wasmFixedMul(
  owner: object,
  base: ExtendedCoordinates,
  scalar: bigint,
): ExtendedCoordinates | undefined {
  const e = curveEngine();
  if (e === undefined) return undefined;
  let table = tableSlots.get(owner);
  if (table === undefined) {
    let slot: number | undefined;
    if (tableSlots.size >= TABLE_SLOTS) {
      const [oldest, address] = tableSlots.entries().next().value!;
      tableSlots.delete(oldest);
      slot = address;
    }
    table = e.fixedBaseTable(base, slot);
  } else {
    tableSlots.delete(owner); // re-inserted below as the most recent
  }
  tableSlots.set(owner, table);
  return e.fixedMul(table, scalar);
}

/**
 * scalar·point by 4-bit signed windows, constant time in the scalar's digits.
 *
 * @param point coordinates reduced mod p
 * @param scalar a scalar below 2^253
 * @returns the product's coordinates, or undefined without WebAssembly
 * @example
 * ```ts
 * import { wasmVarMul } from "./curve_wasm.ts";
 * const p = wasmVarMul({ X: 0n, Y: 1n, Z: 1n, T: 0n }, 7n);
 * console.assert(p === undefined || p.X === 0n);
 * ```
 */
export function wasmVarMul(
  point: ExtendedCoordinates,
  scalar: bigint,
): ExtendedCoordinates | undefined {
  return curveEngine()?.varMul(point, scalar);
}

/**
 * Σ sᵢ·Pᵢ by Pippenger's bucket method in WebAssembly. Variable time: public inputs only.
 *
 * @param points coordinates reduced mod p
 * @param scalars scalars below 2^253, one per point
 * @returns the sum's coordinates, or undefined without WebAssembly
 * @example
 * ```ts
 * import { wasmMsm } from "./curve_wasm.ts";
 * const identity = { X: 0n, Y: 1n, Z: 1n, T: 0n };
 * console.assert(wasmMsm([identity, identity], [1n, 2n])?.X !== 1n);
 * ```
 */
export function wasmMsm(
  points: readonly ExtendedCoordinates[],
  scalars: readonly bigint[],
): ExtendedCoordinates | undefined {
  const e = curveEngine();
  return e?.msm(
    points.length,
    (i, addr) => e.loadCached(points[i]!, addr),
    (i, addr) => e.writeScalarBytes(scalars[i]!, addr),
  );
}

/**
 * Σ sᵢ·Pᵢ over encoded points and scalars, decoding every point (RFC 9496 §4.3.1) straight
 * into WebAssembly memory. Variable time: public inputs only.
 *
 * @param points 32·n bytes of ristretto255 encodings
 * @param scalars 32·n bytes of little-endian scalars below 2^253
 * @param options `allowIdentity` (default false)
 * @returns the sum's coordinates; the index of the first invalid (or disallowed identity)
 *   encoding; or undefined without WebAssembly
 * @example
 * ```ts
 * import { wasmMsmEncoded } from "./curve_wasm.ts";
 * const r = wasmMsmEncoded(new Uint8Array(32), new Uint8Array(32)); // the identity: refused
 * console.assert(r === undefined || r === 0);
 * ```
 */
export function wasmMsmEncoded(
  points: Uint8Array,
  scalars: Uint8Array,
  options: { allowIdentity?: boolean } = {},
): ExtendedCoordinates | number | undefined {
  const e = curveEngine();
  if (e === undefined) return undefined;
  const n = points.length / 32;
  for (let i = 0; i < n; i++) {
    const bytes = points.subarray(32 * i, 32 * i + 32);
    if (!canonicalNonNegative(bytes)) return i;
    if (options.allowIdentity !== true && bytes.every((b) => b === 0)) return i;
  }
  let bad = -1;
  const sum = e.msm(
    n,
    (i, addr) => {
      if (bad >= 0 || !e.decode(points.subarray(32 * i, 32 * i + 32))) {
        if (bad < 0) bad = i;
        e.loadCached({ X: 0n, Y: 1n, Z: 1n, T: 0n }, addr);
        return;
      }
      e.decodedToCached(addr);
    },
    (i, addr) => e.writeBytes(scalars.subarray(32 * i, 32 * i + 32), addr),
  );
  return bad >= 0 ? bad : sum;
}

/**
 * RFC 9496 §4.3.4 element derivation of 64 uniform bytes (the last step of RFC 9380
 * `hash_to_ristretto255`), with the square roots in WebAssembly.
 *
 * @param bytes 64 bytes
 * @returns the point's coordinates, or undefined without WebAssembly
 * @example
 * ```ts
 * import { wasmDeriveToCurve } from "./curve_wasm.ts";
 * const p = wasmDeriveToCurve(new Uint8Array(64));
 * console.assert(p === undefined || typeof p.X === "bigint");
 * ```
 */
export function wasmDeriveToCurve(bytes: Uint8Array): ExtendedCoordinates | undefined {
  return curveEngine()?.deriveToCurve(bytes);
}
