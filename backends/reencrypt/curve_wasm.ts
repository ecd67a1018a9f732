/**
 * The WebAssembly engine of ./group.ts: ristretto255 encoding and decoding (RFC 9496
 * §4.3.1–4.3.2), fixed-base tables, variable-base and multi-scalar multiplication, over the
 * field arithmetic of core/field25519.ts and the point formulas of ./edwards_wasm.ts — four
 * to eight times faster than the bigint arithmetic it replaces. Where many elements go
 * through the same steps, the batched functions (`wasmMulMany`, `wasmDecodeMany`,
 * `wasmEncodeMany`, `wasmFixedMulMany`, and the bucket method of `wasmMsm`) run two
 * elements at once in the WebAssembly SIMD lanes of core/field25519x2.ts
 * (./edwards_wasm_x2.ts, ./ristretto_wasm_x2.ts); where SIMD is refused the module is built
 * without them and they run one element at a time. Where WebAssembly is unavailable every
 * function returns undefined and ./group.ts keeps its bigint code (same results, tested).
 *
 * @module
 */

import {
  addField25519,
  FE_BYTES,
  FIELD_PRIME,
  FIELD_SCRATCH_BYTES,
} from "../../core/field25519.ts";
import {
  addField25519x2,
  addPow22523x2,
  PAIR_BYTES,
  PAIR_POW_SCRATCH_BYTES,
} from "../../core/field25519x2.ts";
import {
  instantiateCompiledWasm,
  shareWasmModule,
  WasmModuleBuilder,
} from "../../core/wasm_module.ts";
import { addEdwardsOps, EDWARDS_SCRATCH_BYTES, NIELS_BYTES, POINT_BYTES } from "./edwards_wasm.ts";
import {
  addDecodeCachedPairs,
  addDoubleEncode,
  addFixedProducts,
  addScalarDigits,
  addTableLoops,
  DOUBLE_ENCODE_BYTES,
  type FixedProductsLayout,
} from "./curve_loops_wasm.ts";
import { addRistrettoDecodeX2, RISTRETTO_X2_SCRATCH_BYTES } from "./ristretto_wasm_x2.ts";
import { prepareScalarEngine } from "./scalar_bytes.ts";
import { addEdwardsOpsX2, EDWARDS_X2_SCRATCH_BYTES, PAIR_POINT_BYTES } from "./edwards_wasm_x2.ts";

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
// The SIMD pair area: constants (0, 0), (1, 1), (2d, 2d), (d, d), (√−1, √−1); the pair exponentiation's and the
// pair point functions' scratch; a pair point in and out; two single points (the lanes);
// the second register bank (the other lane of pair decoding and encoding).
const X2_CONSTANTS_AT = DIGITS_AT + 1024;
const X2_NIELS_ID_AT = X2_CONSTANTS_AT + 5 * PAIR_BYTES; // single Niels (1, 1, 0)
const X2_CACHED_ID_AT = X2_NIELS_ID_AT + NIELS_BYTES; // pair cached (1, 1, 2, 0)
const X2_POW_AT = X2_CACHED_ID_AT + PAIR_POINT_BYTES;
const X2_EDWARDS_AT = X2_POW_AT + PAIR_POW_SCRATCH_BYTES;
const X2_IN_AT = X2_EDWARDS_AT + EDWARDS_X2_SCRATCH_BYTES;
const X2_OUT_AT = X2_IN_AT + PAIR_POINT_BYTES;
const LANE_AT = [X2_OUT_AT + PAIR_POINT_BYTES, X2_OUT_AT + PAIR_POINT_BYTES + POINT_BYTES];
const X2_DECODE_AT = LANE_AT[1]! + POINT_BYTES; // the pair decoding's scratch
const X2_BYTES_AT = X2_DECODE_AT + RISTRETTO_X2_SCRATCH_BYTES; // two encodings, 40 bytes apart
const BANK1_AT = X2_BYTES_AT + 80;
const HEAP_AT = BANK1_AT + REGISTERS * FE_BYTES;
if (X2_CONSTANTS_AT % 16 !== 0 || X2_EDWARDS_AT % 16 !== 0) throw new RangeError("Misaligned");
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
  readonly #doubleEncodePrepare: WasmFn;
  readonly #doubleEncodeFinish: WasmFn;
  readonly #scalarDigits: WasmFn;
  readonly #fixedProductsLoop: WasmFn;
  readonly #tableMultiples: WasmFn;
  readonly #tableNiels: WasmFn;
  readonly #decodeCachedPairs: ((src: number, count: number, dest: number) => number) | undefined;
  readonly #identity: WasmFn;
  readonly #dbl: WasmFn;
  readonly #subCached: WasmFn;
  /** The SIMD pair functions, or undefined where SIMD is refused. */
  readonly #x2?: {
    fromSingles: WasmFn;
    toSingles: WasmFn;
    pow22523: WasmFn;
    varMul: WasmFn;
    fixedMul: WasmFn;
    msmWindow: WasmFn;
    decode: (...args: number[]) => number;
  };

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
    this.#doubleEncodePrepare = fn("ristretto_double_encode_prepare");
    this.#doubleEncodeFinish = fn("ristretto_double_encode_finish");
    this.#scalarDigits = fn("scalar_digits");
    this.#fixedProductsLoop = fn("fixed_products");
    this.#tableMultiples = fn("fixed_table_multiples");
    this.#tableNiels = fn("fixed_table_niels");
    this.#decodeCachedPairs = exports["ristretto_decode_cached_pairs"];
    this.#identity = fn("ge_identity");
    this.#dbl = fn("ge_dbl");
    this.#subCached = fn("ge_sub_cached");
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
    if (exports["fe2_mul"] !== undefined) {
      this.#x2 = {
        fromSingles: fn("fe2_from_singles"),
        toSingles: fn("fe2_to_singles"),
        pow22523: fn("fe2_pow22523"),
        varMul: fn("ge2_var_mul"),
        fixedMul: fn("ge2_fixed_mul"),
        msmWindow: fn("ge2_msm_window"),
        decode: exports["ristretto2_decode"]!,
      };
      const mem = this.#memory;
      for (const [k, reg] of [ONE, ONE, ZERO].entries()) {
        mem.copyWithin(X2_NIELS_ID_AT + k * FE_BYTES, at(reg), at(reg) + FE_BYTES);
      }
      this.set(W, 2n);
      for (const [k, reg] of [ONE, ONE, W, ZERO].entries()) {
        this.#x2.fromSingles(X2_CACHED_ID_AT + k * PAIR_BYTES, at(reg), at(reg));
      }
      for (const [k, reg] of [ZERO, ONE, D2, D, SQRTM1].entries()) {
        this.#x2.fromSingles(X2_CONSTANTS_AT + k * PAIR_BYTES, at(reg), at(reg));
      }
      // Bank 1 starts as a copy of bank 0 (its constants).
      this.#memory.copyWithin(BANK1_AT, REGISTERS_AT, REGISTERS_AT + REGISTERS * FE_BYTES);
    }
  }

  /** Whether points decode in blocks in WebAssembly ({@linkcode msmEncoded}). */
  get decodesInBlocks(): boolean {
    return this.#decodeCachedPairs !== undefined && pairDecodeAllowed;
  }

  /** Whether the SIMD pair functions are there. */
  get pairs(): boolean {
    return this.#x2 !== undefined && pairsAllowed;
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
    v.setBigUint64(BYTES_AT, x, true);
    v.setBigUint64(BYTES_AT + 8, x >> 64n, true);
    v.setBigUint64(BYTES_AT + 16, x >> 128n, true);
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
    this.sqrtRatioStart(u, v);
    this.#pow22523(at(R), at(B));
    return this.sqrtRatioEnd(u, v);
  }

  /** The part of {@linkcode sqrtRatio} before the exponentiation: A = v³, B = u·v⁷. */
  sqrtRatioStart(u: number, v: number): void {
    this.sq(A, v);
    this.mul(A, A, v); // v³
    this.sq(B, A);
    this.mul(B, B, v); // v⁷
    this.mul(B, B, u); // u·v⁷
  }

  /** The part of {@linkcode sqrtRatio} after R = B^((p − 5)/8). */
  sqrtRatioEnd(u: number, v: number): boolean {
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
  decode(bytes: Uint8Array, from = 0): boolean {
    this.decodeStart(bytes, from);
    this.#pow22523(at(R), at(B));
    return this.decodeEnd();
  }

  /** {@linkcode decode} up to the exponentiation of its inverse square root. */
  decodeStart(bytes: Uint8Array, from = 0): void {
    this.#load32(BYTES_AT, bytes, from);
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
    this.sqrtRatioStart(ONE, E);
  }

  /** {@linkcode decode} after the exponentiation (R = B^((p − 5)/8)). */
  decodeEnd(): boolean {
    if (!this.sqrtRatioEnd(ONE, E)) return false;
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
    this.encodeStart(addr);
    this.#pow22523(at(R), at(B));
    this.encodeEnd(out, offset);
  }

  /** {@linkcode encodeAt} up to the exponentiation of its inverse square root. */
  encodeStart(addr: number): void {
    for (const [reg, k] of [[X0, 0], [Y0, 1], [Z0, 2], [T0, 3]] as const) {
      this.#carry(at(reg), addr + k * FE_BYTES);
    }
    this.add(A, Z0, Y0);
    this.sub(B, Z0, Y0);
    this.mul(U1, A, B); // u1 = (Z0 + Y0)(Z0 − Y0)
    this.mul(U2, X0, Y0); // u2 = X0·Y0
    this.sq(V, U2);
    this.mul(V, V, U1); // u1·u2²
    this.sqrtRatioStart(ONE, V);
  }

  /** {@linkcode encodeAt} after the exponentiation (R = B^((p − 5)/8)). */
  encodeEnd(out: Uint8Array, offset: number): void {
    this.sqrtRatioEnd(ONE, V); // invsqrt in R
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

  /** Copies a cached point. */
  copyCached(from: number, to: number): void {
    this.#memory.copyWithin(to, from, from + POINT_BYTES);
  }

  /** Runs `f` with the registers of bank 1 (the second lane), then returns to bank 0. */
  inBank1<T>(f: () => T): T {
    return this.#bank1(f);
  }

  /** Runs `f` with the registers of bank 1 (the second lane), then returns to bank 0. */
  #bank1<T>(f: () => T): T {
    bankAt = BANK1_AT;
    try {
      return f();
    } finally {
      bankAt = REGISTERS_AT;
    }
  }

  /** R = B^((p − 5)/8) in both banks at once, by one pair exponentiation. */
  #powBoth(): void {
    const x2 = this.#x2!;
    x2.fromSingles(X2_IN_AT, REGISTERS_AT + B * FE_BYTES, BANK1_AT + B * FE_BYTES);
    x2.pow22523(X2_IN_AT, X2_IN_AT);
    x2.toSingles(REGISTERS_AT + R * FE_BYTES, BANK1_AT + R * FE_BYTES, X2_IN_AT);
  }

  /**
   * {@linkcode decode} of two encodings at once (their inverse square roots by one pair
   * exponentiation), into the registers X0, Y0, T0 of bank 0 and of bank 1.
   *
   * @returns whether each decoded
   */
  decode2(a: Uint8Array, b: Uint8Array): [boolean, boolean] {
    const valid = this.decodePair(a, 0, b, 0);
    return [(valid & 1) === 1, (valid & 2) === 2];
  }

  /**
   * {@linkcode decode2} of the 32 bytes at a[aFrom] and at b[bFrom], with no view of them nor
   * array for the answer (issue 17): bit 1 set when the first decoded, bit 2 the second.
   */
  decodePair(a: Uint8Array, aFrom: number, b: Uint8Array, bFrom: number): number {
    if (pairDecodeAllowed) {
      // One WebAssembly function for both (./ristretto_wasm_x2.ts); points into X0..T0.
      this.#load32(X2_BYTES_AT, a, aFrom);
      this.#load32(X2_BYTES_AT + 40, b, bFrom);
      return this.#x2!.decode(at(X0), BANK1_AT + X0 * FE_BYTES, X2_BYTES_AT, X2_BYTES_AT + 40);
    }
    this.decodeStart(a, aFrom);
    this.#bank1(() => this.decodeStart(b, bFrom));
    this.#powBoth();
    return (this.decodeEnd() ? 1 : 0) | (this.#bank1(() => this.decodeEnd()) ? 2 : 0);
  }

  /** The 32 bytes at src[from] into memory at `addr`, byte by byte (no view). */
  #load32(addr: number, src: Uint8Array, from: number): void {
    const mem = this.#memory;
    for (let k = 0; k < 32; k++) mem[addr + k] = src[from + k]!;
  }

  /** The decoded point of bank 0 or 1 (X0, Y0, 1, T0) as a point at `addr`. */
  #decodedPoint(bank: 0 | 1, addr: number): void {
    const regs = bank === 0 ? REGISTERS_AT : BANK1_AT, mem = this.#memory;
    for (const [k, reg] of [X0, Y0, ONE, T0].entries()) {
      const from = regs + reg * FE_BYTES;
      mem.copyWithin(addr + k * FE_BYTES, from, from + FE_BYTES);
    }
  }

  /** {@linkcode encodeAt} of two points at once (one pair exponentiation). */
  encode2(addrA: number, addrB: number, out: Uint8Array, offsetA: number, offsetB: number): void {
    this.encodeStart(addrA);
    this.#bank1(() => this.encodeStart(addrB));
    this.#powBoth();
    this.encodeEnd(out, offsetA);
    this.#bank1(() => this.encodeEnd(out, offsetB));
  }

  /**
   * Decodes the 32-byte encodings of `bytes` two at a time.
   *
   * @returns the coordinates, or the index of the first invalid (or disallowed identity) one
   */
  decodeMany(bytes: Uint8Array, allowIdentity: boolean): ExtendedCoordinates[] | number {
    const out: ExtendedCoordinates[] = [];
    const bad = this.#decodeEach(bytes, allowIdentity, out);
    return bad >= 0 ? bad : out;
  }

  /**
   * Whether the 32-byte encodings of `bytes` decode, two at a time, without reading the
   * points out.
   *
   * @returns the index of the first invalid (or disallowed identity) one, or −1
   */
  validMany(bytes: Uint8Array, allowIdentity: boolean): number {
    // Its own loop (not decodeEach's with no output): each stays of one shape when compiled.
    const n = bytes.length / 32;
    if (!this.pairs) {
      for (let i = 0; i < n; i++) {
        if (!acceptable(bytes, allowIdentity, 32 * i) || !this.decode(bytes, 32 * i)) return i;
      }
      return -1;
    }
    // Always in pairs, an odd one out with itself: the loop has one path while valid (issue 17:
    // a path first taken by a chunk's last element made the compiled loop start over).
    for (let i = 0; i < n; i += 2) {
      const j = i + 1 < n ? i + 1 : i;
      if (!acceptable(bytes, allowIdentity, 32 * i)) return i;
      if (!acceptable(bytes, allowIdentity, 32 * j)) return this.decode(bytes, 32 * i) ? j : i;
      const ok = this.decodePair(bytes, 32 * i, bytes, 32 * j);
      if ((ok & 1) === 0) return i;
      if ((ok & 2) === 0) return j;
    }
    return -1;
  }

  /** Decodes each encoding (pairs in the SIMD lanes), keeping the points in `out`. */
  #decodeEach(bytes: Uint8Array, allowIdentity: boolean, out: ExtendedCoordinates[]): number {
    const n = bytes.length / 32;
    // Offsets into `bytes`, no view per element (issue 17).
    for (let i = 0; i < n; i += 2) {
      if (!acceptable(bytes, allowIdentity, 32 * i)) return i;
      if (i + 1 < n && acceptable(bytes, allowIdentity, 32 * i + 32) && this.pairs) {
        const ok = this.decodePair(bytes, 32 * i, bytes, 32 * i + 32);
        if ((ok & 1) === 0) return i;
        out.push(this.decodedCoordinates());
        if ((ok & 2) === 0) return i + 1;
        out.push(this.#bank1(() => this.decodedCoordinates()));
      } else {
        if (!this.decode(bytes, 32 * i)) return i;
        out.push(this.decodedCoordinates());
        if (i + 1 < n) i--; // the next one alone (it is invalid, or there are no pairs)
      }
    }
    return -1;
  }

  /** Encodes points into `out` (32 bytes each from offset 0), two at a time. */
  encodeMany(points: readonly ExtendedCoordinates[], out: Uint8Array): void {
    const n = points.length;
    let i = 0;
    if (this.pairs) {
      for (; i + 1 < n; i += 2) {
        this.setPoint(LANE_AT[0]!, points[i]!);
        this.setPoint(LANE_AT[1]!, points[i + 1]!);
        this.encode2(LANE_AT[0]!, LANE_AT[1]!, out, 32 * i, 32 * i + 32);
      }
    }
    for (; i < n; i++) this.encode(points[i]!, out, 32 * i);
  }

  /**
   * scalar·Pᵢ for the 32-byte encodings of `bytes`, two points at a time in the SIMD lanes
   * (same digits, so the same constant-time control flow in both), decoded and encoded
   * in pairs too.
   *
   * @returns the products' encodings, or the index of the first invalid (or disallowed
   *   identity) encoding
   */
  mulMany(bytes: Uint8Array, scalar: bigint, allowIdentity: boolean): Uint8Array | number {
    const x2 = this.#x2!;
    const n = bytes.length / 32, out = new Uint8Array(bytes.length);
    const valid = (i: number) => acceptable(bytes.subarray(32 * i, 32 * i + 32), allowIdentity);
    this.writeDigits(DIGITS_AT, scalar, 4, VAR_WINDOWS);
    const [laneA, laneB] = LANE_AT as [number, number];
    for (let i = 0; i < n; i += 2) {
      if (!valid(i)) return i;
      const a = bytes.subarray(32 * i, 32 * i + 32);
      const two = i + 1 < n;
      if (two) {
        if (!valid(i + 1)) return this.decode(a) ? i + 1 : i;
        const [okA, okB] = this.decode2(a, bytes.subarray(32 * i + 32, 32 * i + 64));
        if (!okA) return i;
        if (!okB) return i + 1;
        this.#decodedPoint(0, laneA);
        this.#decodedPoint(1, laneB);
      } else { // an odd one out runs alone: a pair operation costs more than a single one
        if (!this.decode(a)) return i;
        this.#decodedPoint(0, laneA);
        this.#varMul(laneB, laneA, DIGITS_AT, VAR_WINDOWS);
        this.encodeAt(laneB, out, 32 * i);
        break;
      }
      for (let c = 0; c < 4 * FE_BYTES; c += FE_BYTES) {
        x2.fromSingles(X2_IN_AT + c, laneA + c, laneB + c);
      }
      x2.varMul(X2_OUT_AT, X2_IN_AT, DIGITS_AT, VAR_WINDOWS);
      for (let c = 0; c < 4 * FE_BYTES; c += FE_BYTES) {
        x2.toSingles(laneA + c, laneB + c, X2_OUT_AT + c);
      }
      this.encode2(laneA, laneB, out, 32 * i, 32 * i + 32);
    }
    return out;
  }

  /**
   * Lagrange combination of decryption shares for many ciphertext elements, straight from
   * encodings: mₑ = c2ₑ − inv·Σⱼ nⱼ·dⱼₑ (combine), or whether D·(c2ₑ − mₑ) = Σⱼ nⱼ·dⱼₑ for
   * published mₑ (check). Encodings are decoded two at a time; the small multiples nⱼ·dⱼₑ
   * by doublings and additions; results encoded two at a time. Variable time: public data.
   *
   * @returns per element e and input r (0 c2, 1 + j share j, 1 + t the published mₑ) a byte
   *   `bad[e·q + r]`, 1 when that encoding does not decode (identities refused); and the
   *   encodings of the mₑ (combine) or a byte per element, 1 when the published mₑ does not
   *   match (check); elements with an input that does not decode are left zero
   */
  combineMany(input: {
    c2: Uint8Array;
    shares: readonly Uint8Array[];
    numerators: readonly number[];
    inverse: bigint;
    denominator: number;
    published?: Uint8Array | undefined;
  }): { bad: Uint8Array; out: Uint8Array } {
    const { c2, shares, published } = input;
    const n = c2.length / 32, t = shares.length;
    const q = 1 + t + (published === undefined ? 0 : 1); // inputs per element
    const block = Math.min(n, COMBINE_BLOCK);
    const mark = this.#heapEnd;
    // One state per call, read by the small steps below: each step is a short function of its
    // own, compiled once, not one long function re-optimized as its loops run (issue 17).
    const s: CombineState = {
      inputs: [c2, ...shares, ...(published === undefined ? [] : [published])],
      numerators: input.numerators,
      scaled: input.inverse !== 1n,
      denominator: input.denominator,
      check: published !== undefined,
      t,
      q,
      bad: new Uint8Array(n * q),
      failed: new Uint8Array(n),
      out: new Uint8Array(published === undefined ? 32 * n : n),
      pending: new Int32Array(block * q),
      done: new Int32Array(block),
      points: this.alloc(block * q * POINT_BYTES),
      results: this.alloc(block * POINT_BYTES),
      acc: this.alloc(POINT_BYTES),
      term: this.alloc(POINT_BYTES),
      cached: this.alloc(POINT_BYTES),
    };
    if (s.scaled) this.writeDigits(DIGITS_AT, input.inverse, 4, VAR_WINDOWS);
    for (let from = 0; from < n; from += block) {
      const count = Math.min(block, n - from);
      this.#combineDecode(s, from, count);
      if (s.check) this.#combineCheck(s, from, count);
      else {
        const done = this.#combineSums(s, from, count);
        this.#combineScale(s, done);
        this.#combineEncode(s, from, done);
      }
    }
    this.release(mark);
    return { bad: s.bad, out: s.out };
  }

  /** Input r (0 c2, 1 + j share j, 1 + t the published mₑ) of element e. */
  #combineInput(s: CombineState, e: number, r: number): Uint8Array {
    return s.inputs[r]!.subarray(32 * e, 32 * e + 32);
  }

  /** Marks input r of element e as not decoding. */
  #combineBad(s: CombineState, e: number, r: number): void {
    s.bad[e * s.q + r] = 1;
    s.failed[e] = 1;
  }

  /** Decodes every acceptable input of the block's elements, two at a time. */
  #combineDecode(s: CombineState, from: number, count: number): void {
    const { q, pending, points } = s;
    let pendingCount = 0;
    for (let e = 0; e < count; e++) {
      for (let r = 0; r < q; r++) {
        if (acceptable(this.#combineInput(s, from + e, r), false)) {
          pending[pendingCount++] = e * q + r;
        } else this.#combineBad(s, from + e, r);
      }
    }
    let i = 0;
    if (this.pairs) {
      for (; i + 1 < pendingCount; i += 2) {
        const a = pending[i]!, b = pending[i + 1]!;
        const ea = (a / q) | 0, eb = (b / q) | 0;
        const [okA, okB] = this.decode2(
          this.#combineInput(s, from + ea, a - ea * q),
          this.#combineInput(s, from + eb, b - eb * q),
        );
        if (okA) this.#decodedPoint(0, points + a * POINT_BYTES);
        else this.#combineBad(s, from + ea, a - ea * q);
        if (okB) this.#decodedPoint(1, points + b * POINT_BYTES);
        else this.#combineBad(s, from + eb, b - eb * q);
      }
    }
    for (; i < pendingCount; i++) {
      const a = pending[i]!, e = (a / q) | 0;
      if (this.decode(this.#combineInput(s, from + e, a - e * q))) {
        this.#decodedPoint(0, points + a * POINT_BYTES);
      } else this.#combineBad(s, from + e, a - e * q);
    }
  }

  /** term = |k|·p by double-and-add. */
  #smallMultiple(s: CombineState, p: number, k: number): void {
    const m = Math.abs(k);
    this.#memory.copyWithin(s.term, p, p + POINT_BYTES);
    if (m === 1) return;
    this.#toCached(s.cached, p);
    for (let bit = 31 - Math.clz32(m) - 1; bit >= 0; bit--) {
      this.#dbl(s.term, s.term);
      if ((m >> bit) & 1) this.#addCached(s.term, s.term, s.cached);
    }
  }

  /** acc ± (|k|·p), the sign of k. */
  #accumulate(s: CombineState, p: number, k: number): void {
    this.#smallMultiple(s, p, k);
    this.#toCached(s.cached, s.term);
    if (k > 0) this.#addCached(s.acc, s.acc, s.cached);
    else this.#subCached(s.acc, s.acc, s.cached);
  }

  /**
   * Σ nⱼ·dⱼ into the result slot of every element of the block whose inputs all decoded.
   *
   * @returns how many elements that is (their indices in `s.done`)
   */
  #combineSums(s: CombineState, from: number, count: number): number {
    const { t, q, points, results, acc, numerators, failed, done } = s;
    let doneCount = 0;
    for (let e = 0; e < count; e++) {
      if (failed[from + e] !== 0) continue;
      const base = points + e * q * POINT_BYTES, res = results + e * POINT_BYTES;
      this.#identity(acc);
      for (let j = 0; j < t; j++) this.#accumulate(s, base + (1 + j) * POINT_BYTES, numerators[j]!);
      this.#memory.copyWithin(res, acc, acc + POINT_BYTES); // Σ nⱼ·dⱼ, until #combineScale
      done[doneCount++] = e;
    }
    return doneCount;
  }

  /**
   * The check: out[e] = 0 exactly when D·(c2 − m) − Σ nⱼ·dⱼ is the identity, for every
   * element of the block whose inputs all decoded.
   */
  #combineCheck(s: CombineState, from: number, count: number): void {
    const { t, q, points, results, acc, term, cached, numerators, failed } = s;
    for (let e = 0; e < count; e++) {
      if (failed[from + e] !== 0) continue;
      const base = points + e * q * POINT_BYTES, res = results + e * POINT_BYTES;
      this.#toCached(cached, base + (1 + t) * POINT_BYTES);
      this.#subCached(res, base, cached);
      this.#smallMultiple(s, res, s.denominator);
      this.#memory.copyWithin(acc, term, term + POINT_BYTES);
      for (let j = 0; j < t; j++) {
        this.#accumulate(s, base + (1 + j) * POINT_BYTES, -numerators[j]!);
      }
      // A ristretto255 point is the identity exactly when X = 0 or Y = 0.
      this.#carry(at(W), acc);
      let identity = this.isZero(W);
      if (!identity) {
        this.#carry(at(W), acc + FE_BYTES);
        identity = this.isZero(W);
      }
      s.out[from + e] = identity ? 0 : 1;
    }
  }

  /** mₑ = c2ₑ − inv·Σ nⱼ·dⱼ for the done elements (inv·Σ two at a time in SIMD when D ≠ 1). */
  #combineScale(s: CombineState, doneCount: number): void {
    const { results, points, term, cached, done, q } = s;
    let k = 0;
    if (s.scaled && this.pairs) {
      for (; k + 1 < doneCount; k += 2) {
        this.#scalePair(results + done[k]! * POINT_BYTES, results + done[k + 1]! * POINT_BYTES);
      }
    }
    for (let m = 0; m < doneCount; m++) {
      const e = done[m]!, res = results + e * POINT_BYTES;
      if (s.scaled && m >= k) {
        this.#varMul(term, res, DIGITS_AT, VAR_WINDOWS);
        this.#toCached(cached, term);
      } else this.#toCached(cached, res);
      this.#subCached(res, points + e * q * POINT_BYTES, cached); // c2 − inv·Σ nⱼ·dⱼ
    }
  }

  /** The points at a and b times the digits at DIGITS_AT, in the two SIMD lanes. */
  #scalePair(a: number, b: number): void {
    const x2 = this.#x2!;
    for (let c = 0; c < 4 * FE_BYTES; c += FE_BYTES) x2.fromSingles(X2_IN_AT + c, a + c, b + c);
    x2.varMul(X2_OUT_AT, X2_IN_AT, DIGITS_AT, VAR_WINDOWS);
    for (let c = 0; c < 4 * FE_BYTES; c += FE_BYTES) x2.toSingles(a + c, b + c, X2_OUT_AT + c);
  }

  /** Encodes the done elements' combinations into `s.out`, two at a time. */
  #combineEncode(s: CombineState, from: number, doneCount: number): void {
    const { results, done, out } = s;
    let k = 0;
    if (this.pairs) {
      for (; k + 1 < doneCount; k += 2) {
        const a = done[k]!, b = done[k + 1]!;
        this.encode2(
          results + a * POINT_BYTES,
          results + b * POINT_BYTES,
          out,
          32 * (from + a),
          32 * (from + b),
        );
      }
    }
    for (; k < doneCount; k++) {
      const a = done[k]!;
      this.encodeAt(results + a * POINT_BYTES, out, 32 * (from + a));
    }
  }

  /** Signed base-2^bits digits of a scalar < 2^253 into the i32 array at `addr`. */
  writeDigits(addr: number, scalar: bigint, bits: number, windows: number): void {
    // setBigUint64 takes each word mod 2^64 itself: no BigInt.asUintN, a bigint per word.
    const v = this.#view;
    v.setBigUint64(BYTES_AT, scalar, true);
    v.setBigUint64(BYTES_AT + 8, scalar >> 64n, true);
    v.setBigUint64(BYTES_AT + 16, scalar >> 128n, true);
    v.setBigUint64(BYTES_AT + 24, scalar >> 192n, true);
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
    // In WebAssembly (./curve_loops_wasm.ts addScalarDigits): no loop per scalar here.
    this.#scalarDigits(bytesAt, addr, bits, windows, stride);
  }

  /**
   * Builds a fixed-base table (9-bit windows) of a point at `slot` (a heap address an
   * earlier table used) or at a new heap address; returns the address.
   */
  fixedBaseTable(p: ExtendedCoordinates, slot?: number): number {
    const table = slot ?? this.alloc(FIXED_WINDOWS * FIXED_HALF * NIELS_BYTES);
    // A window's multiples, and the prefix products of their Z for one inversion per window
    // (Montgomery's trick) instead of one per entry.
    const mark = this.#heapEnd;
    const multiples = this.alloc(FIXED_HALF * POINT_BYTES);
    const prefix = this.alloc(FIXED_HALF * FE_BYTES);
    this.setPoint(IN_AT, p); // the window's base
    // One window per call: a loop of loops here had its inner loops compiled on-stack and
    // thrown away at each window's end (issue 17: compilation per worker).
    for (let j = 0; j < FIXED_WINDOWS; j++) this.#tableWindow(table, j, multiples, prefix);
    this.release(mark);
    return table;
  }

  /** Window j of a fixed-base table: the multiples of the base at IN_AT, then 2^bits·base. */
  #tableWindow(table: number, j: number, multiples: number, prefix: number): void {
    const base = IN_AT, acc = OUT_AT, cached = at(16); // registers 16..19: one cached point
    this.#toCached(cached, base);
    this.#copyPoint(acc, base);
    // Both loops in WebAssembly (./curve_loops_wasm.ts addTableLoops).
    this.#tableMultiples(multiples, prefix, acc, cached, FIXED_HALF);
    this.#invert(at(E), prefix + (FIXED_HALF - 1) * FE_BYTES); // 1/(Z₀·…·Z_{half−1})
    this.#tableNiels(table + j * FIXED_HALF * NIELS_BYTES, multiples, prefix, FIXED_HALF, at(0));
    // acc = (half + 1)·base now: the next window's base is 2·(acc − base) = 2^8·base.
    this.#toCached(cached, base);
    this.#subPointCached(acc, cached);
    this.#toCached(cached, acc);
    this.#addCached(base, acc, cached);
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

  fixedMul(table: number, scalar: bigint): ExtendedCoordinates {
    this.writeDigits(DIGITS_AT, scalar, FIXED_BITS, FIXED_WINDOWS);
    this.#fixedMul(OUT_AT, table, DIGITS_AT, FIXED_WINDOWS, FIXED_HALF);
    return this.getPoint(OUT_AT);
  }

  /** scalarᵢ·base for many scalars from a table, two at a time in the SIMD lanes. */
  fixedMulMany(table: number, scalars: readonly bigint[]): ExtendedCoordinates[] {
    const x2 = this.#x2!, out: ExtendedCoordinates[] = [];
    const [laneA, laneB] = LANE_AT as [number, number];
    const digitsB = DIGITS_AT + 512;
    for (let i = 0; i < scalars.length; i += 2) {
      // An odd one out runs alone: a pair operation costs more than a single one.
      if (i + 1 === scalars.length) return out.push(this.fixedMul(table, scalars[i]!)), out;
      this.writeDigits(DIGITS_AT, scalars[i]!, FIXED_BITS, FIXED_WINDOWS);
      this.writeDigits(digitsB, scalars[i + 1]!, FIXED_BITS, FIXED_WINDOWS);
      x2.fixedMul(X2_OUT_AT, table, DIGITS_AT, digitsB, FIXED_WINDOWS, FIXED_HALF);
      for (let c = 0; c < 4 * FE_BYTES; c += FE_BYTES) {
        x2.toSingles(laneA + c, laneB + c, X2_OUT_AT + c);
      }
      out.push(this.getPoint(laneA), this.getPoint(laneB));
    }
    return out;
  }

  /**
   * The group elements of many ElGamal encryptions with their proof commitments, scalars
   * in, encodings out, without leaving WebAssembly memory per element (see
   * {@linkcode wasmEncryptMany}): for element i, P = sᵢ·G, Q = tᵢ·G and
   * R = mᵢ + uᵢ·Y by the fixed-base tables `gTable` and `yTable` (two scalars at a time
   * in the SIMD lanes); then the encodings of 2·P, 2·Q and 2·R (or of R itself when
   * `doubleR` is false) into `out` at 64·i, 64·n + 32·i and 64·i + 32.
   */
  encryptMany(
    gTable: number,
    yTable: number,
    input: WasmEncryptInput,
    out: Uint8Array,
  ): void {
    const { s, t, u, messages, messageOf, doubleR } = input;
    const n = scalarCount(s);
    const mark = this.#heapEnd;
    const cached = this.alloc(messages.length * POINT_BYTES);
    messages.forEach((m, k) => this.loadCached(m, cached + k * POINT_BYTES));
    const block = Math.min(n, ENCRYPT_BLOCK);
    const points = this.alloc(3 * block * POINT_BYTES);
    const scratch = this.alloc(3 * block * DOUBLE_ENCODE_BYTES);
    const encodings = this.alloc(3 * block * 32 + 8);
    const interleaved = this.alloc(64 * block);
    const staging = this.alloc(32 * block);
    const zero = new Uint8Array(3 * block);
    for (let from = 0; from < n; from += block) {
      const b = Math.min(block, n - from);
      const c1 = points, a = points + b * POINT_BYTES, c2 = points + 2 * b * POINT_BYTES;
      this.#fixedProducts(gTable, s, { from, count: b, dest: c1, staging });
      this.#fixedProducts(gTable, t, { from, count: b, dest: a, staging });
      this.#fixedProducts(yTable, u, { from, count: b, dest: c2, staging });
      for (let k = 0; k < b; k++) {
        const p = c2 + k * POINT_BYTES;
        this.#addCached(p, p, cached + messageOf[from + k]! * POINT_BYTES);
      }
      const doubled = doubleR ? 3 * b : 2 * b;
      this.#doubleAndEncodeBatch(points, doubled, scratch, encodings, zero);
      if (!doubleR) {
        const mem = this.#memory;
        for (let k = 0; k < b; k += 2) {
          const p = c2 + k * POINT_BYTES, at = encodings + 32 * (2 * b + k);
          if (k + 1 < b && this.pairs) {
            this.encode2(p, p + POINT_BYTES, mem, at, at + 32);
          } else {
            this.encodeAt(p, mem, at);
            k--;
          }
        }
      }
      // Out in ciphertext order (c1ᵢ ‖ c2ᵢ), interleaved here in WebAssembly memory, then the Aᵢ.
      const mem = this.#memory;
      for (let k = 0; k < b; k++) {
        const c1At = encodings + 32 * k, c2At = encodings + 32 * (2 * b + k);
        mem.copyWithin(interleaved + 64 * k, c1At, c1At + 32);
        mem.copyWithin(interleaved + 64 * k + 32, c2At, c2At + 32);
      }
      out.set(mem.subarray(interleaved, interleaved + 64 * b), 64 * from);
      out.set(mem.subarray(encodings + 32 * b, encodings + 64 * b), 64 * n + 32 * from);
    }
    this.release(mark);
  }

  /**
   * scalars[from..from+count)·base by a fixed-base table, into points at `dest`: the scalars'
   * bytes into `staging` (32 each), then one WebAssembly call for all (./curve_loops_wasm.ts
   * addFixedProducts), two at a time in the SIMD lanes.
   */
  #fixedProducts(
    table: number,
    scalars: readonly bigint[] | Uint8Array,
    block: { from: number; count: number; dest: number; staging: number },
  ): void {
    const { from, count, dest, staging } = block;
    if (scalars instanceof Uint8Array) {
      this.#memory.set(scalars.subarray(32 * from, 32 * (from + count)), staging);
    } else {
      // setBigUint64 takes each word mod 2^64 itself: no BigInt.asUintN, a bigint per word.
      const v = this.#view;
      for (let k = 0; k < count; k++) {
        const x = scalars[from + k]!, at = staging + 32 * k;
        v.setBigUint64(at, x, true);
        v.setBigUint64(at + 8, x >> 64n, true);
        v.setBigUint64(at + 16, x >> 128n, true);
        v.setBigUint64(at + 24, x >> 192n, true);
      }
    }
    this.#fixedProductsLoop(table, staging, count, dest, this.pairs ? 1 : 0);
    this.#memory.fill(0, staging, staging + 32 * count); // secret scalars do not stay behind
  }

  /**
   * {@linkcode #doubleAndEncode} with its per-point loops in WebAssembly (./curve_loops_wasm.ts):
   * the same bytes. A batch holding a point of order ≤ 2 (product of the e·g·f·h zero, rare)
   * goes to the JavaScript-driven {@linkcode #doubleAndEncode}, which looks for them.
   */
  #doubleAndEncodeBatch(
    points: number,
    count: number,
    scratch: number,
    encodings: number,
    zero: Uint8Array,
  ): void {
    const regs = at(0);
    this.#doubleEncodePrepare(points, count, scratch, regs);
    if (this.isZero(MU)) return this.#doubleAndEncode(points, count, scratch, encodings, zero);
    this.#invert(at(MUI), at(MU));
    this.#doubleEncodeFinish(scratch, count, encodings, regs, BYTES_AT);
  }

  /**
   * Encodings of 2·Pⱼ for `count` points at `points` into 32-byte slots at `encodings`,
   * with one field inversion for all (the batched "double and encode" of group.ts
   * `doubleAndEncodeBatch`, Hamburg's Decaf §4 and RFC 9496 §4.3.2); `scratch` holds
   * {@linkcode DOUBLE_ENCODE_BYTES} per point, `zero` a byte per point. Variable time
   * through the sign tests of the encoding (its output is public).
   */
  #doubleAndEncode(
    points: number,
    count: number,
    scratch: number,
    encodings: number,
    zero: Uint8Array,
  ): void {
    const FE = FE_BYTES, mul = this.#mul, sq = this.#sq, add = this.#add, sub = this.#sub;
    const carry = this.#carry, mem = this.#memory;
    // Per point: e = 2XY, f = Z² + dT², g = Y² + X², h = Z² − dT², e·g, f·h, their
    // product, and the prefix product of the earlier points' products.
    for (let j = 0; j < count; j++) {
      const p = points + j * POINT_BYTES, w = scratch + j * DOUBLE_ENCODE_BYTES;
      for (let k = 0; k < 4; k++) carry(at(X0 + k), p + k * FE);
      sq(at(A), at(X0));
      sq(at(B), at(Y0));
      sq(at(C), at(Z0));
      sq(at(E), at(T0));
      mul(at(E), at(E), at(D)); // d·T²
      mul(w, at(X0), at(Y0));
      add(w, w, w);
      carry(w, w); // e
      add(w + FE, at(C), at(E));
      carry(w + FE, w + FE); // f
      add(w + 2 * FE, at(B), at(A));
      carry(w + 2 * FE, w + 2 * FE); // g
      sub(w + 3 * FE, at(C), at(E));
      carry(w + 3 * FE, w + 3 * FE); // h
      mul(w + 4 * FE, w, w + 2 * FE); // e·g
      mul(w + 5 * FE, w + FE, w + 3 * FE); // f·h
      mul(w + 6 * FE, w + 4 * FE, w + 5 * FE); // e·g·f·h
    }
    // Prefix products; 2·P is the identity exactly when e·g·f·h = 0 (P of order ≤ 2 in the
    // ristretto group): such points are rare, so they are looked for only when the total is 0.
    zero.fill(0, 0, count);
    const prefixes = () => {
      mem.copyWithin(at(MU), at(ONE), at(ONE) + FE);
      for (let j = 0; j < count; j++) {
        const w = scratch + j * DOUBLE_ENCODE_BYTES;
        mem.copyWithin(w + 7 * FE, at(MU), at(MU) + FE);
        mul(at(MU), at(MU), w + 6 * FE);
      }
    };
    prefixes();
    if (this.isZero(MU)) {
      for (let j = 0; j < count; j++) {
        const w = scratch + j * DOUBLE_ENCODE_BYTES;
        if (this.#isZeroAt(w + 6 * FE)) {
          zero[j] = 1;
          mem.copyWithin(w + 6 * FE, at(ONE), at(ONE) + FE);
        }
      }
      prefixes();
    }
    this.#invert(at(MUI), at(MU));
    for (let j = count - 1; j >= 0; j--) {
      const w = scratch + j * DOUBLE_ENCODE_BYTES, slot = encodings + 32 * j;
      mul(at(R), at(MUI), w + 7 * FE); // 1/(e·g·f·h) of this point
      mul(at(MUI), at(MUI), w + 6 * FE);
      if (zero[j] === 1) { // the identity encodes as 32 zero bytes
        mem.fill(0, slot, slot + 32);
        continue;
      }
      mul(at(U1), w + 4 * FE, at(R)); // 1/(f·h)
      mul(at(U2), w + 5 * FE, at(R)); // 1/(e·g)
      let e = w, g = w + 2 * FE, h = w + 3 * FE, magic = at(INVSQRT_AMD);
      mul(at(H), w + 4 * FE, at(U1));
      if (this.#negativeAt(at(H))) { // rotate
        sub(at(G), at(ZERO), w);
        carry(at(G), at(G));
        mul(at(A), w + FE, at(SQRTM1));
        e = w + 2 * FE, g = at(G), h = at(A), magic = at(SQRTM1);
      }
      mul(at(H), h, e);
      mul(at(H), at(H), at(U1));
      if (this.#negativeAt(at(H))) {
        sub(at(G), at(ZERO), g);
        carry(at(G), at(G));
        g = at(G);
      }
      mul(at(S), g, at(U2));
      mul(at(S), at(S), magic);
      sub(at(V), h, g);
      carry(at(V), at(V));
      mul(at(S), at(V), at(S));
      this.#toBytes(slot, at(S));
      if ((mem[slot]! & 1) === 1) { // |s|
        sub(at(S), at(ZERO), at(S));
        carry(at(S), at(S));
        this.#toBytes(slot, at(S));
      }
    }
  }

  /** Whether the field element at `addr` is negative (RFC 9496 §4.1 IS_NEGATIVE). */
  #negativeAt(addr: number): boolean {
    this.#toBytes(BYTES_AT, addr);
    return (this.#memory[BYTES_AT]! & 1) === 1;
  }

  /** Whether the field element at `addr` is zero. */
  #isZeroAt(addr: number): boolean {
    this.#toBytes(BYTES_AT, addr);
    const v = this.#view;
    let bits = 0;
    for (let k = 0; k < 32; k += 4) bits |= v.getUint32(BYTES_AT + k);
    return bits === 0;
  }

  varMul(p: ExtendedCoordinates, scalar: bigint): ExtendedCoordinates {
    this.setPoint(IN_AT, p);
    this.writeDigits(DIGITS_AT, scalar, 4, VAR_WINDOWS);
    this.#varMul(OUT_AT, IN_AT, DIGITS_AT, VAR_WINDOWS);
    return this.getPoint(OUT_AT);
  }

  /**
   * Σ sᵢ·Pᵢ where point i is written in cached form by `load(i, addr)` and its scalar's 32
   * little-endian bytes by `scalarBytes(i, addr)`; `affine` when every point has Z = 1
   * (the bucket additions are then mixed additions, one multiplication fewer).
   */
  msm(
    n: number,
    load: (i: number, addr: number) => void,
    scalarBytes: (i: number, addr: number) => void,
    affine = false,
  ): ExtendedCoordinates {
    const mark = this.#heapEnd;
    const total = this.alloc(POINT_BYTES);
    this.#identity(total);
    for (let start = 0; start < n; start += MSM_CHUNK) {
      const count = Math.min(MSM_CHUNK, n - start);
      if (this.pairs && count >= MSM_PAIRS_MIN) {
        this.#msmPairs(total, start, count, load, scalarBytes, affine);
        continue;
      }
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
        const window = digits + 4 * j * count;
        this.#msmWindow(OUT_AT, buckets, half, points, window, count, bits, affine ? 1 : 0);
      }
      this.#toCached(at(16), OUT_AT);
      this.#addCached(total, total, at(16));
      this.release(chunkMark);
    }
    const result = this.getPoint(total);
    this.release(mark);
    return result;
  }

  /**
   * Σ sᵢ·Pᵢ for encoded points (their byte checks done) and 32-byte little-endian scalars,
   * the points decoded in blocks by one WebAssembly call each (pairs in the SIMD lanes; an
   * odd last one alone): ./curve_wasm.ts `wasmMsmEncoded` where the pair functions run.
   *
   * @returns the sum, or the index of the first encoding that is no point
   */
  msmEncoded(points: Uint8Array, scalars: Uint8Array): ExtendedCoordinates | number {
    const n = points.length / 32, decodeCached = this.#decodeCachedPairs!;
    const mark = this.#heapEnd;
    const src = this.alloc(32 * MSM_DECODE_BLOCK + 8),
      block = this.alloc(MSM_DECODE_BLOCK * POINT_BYTES);
    let from = 0, to = 0, bad = -1;
    const sum = this.msm(
      n,
      (i, addr) => {
        if (i >= to && bad < 0) {
          // The next block of points, decoded (an odd last one alone).
          from = i, to = Math.min(n, i + MSM_DECODE_BLOCK);
          const even = (to - from) & ~1;
          this.#memory.set(points.subarray(32 * from, 32 * to), src);
          const first = decodeCached(src, even, block);
          if (first >= 0) bad = from + first;
          else if (even < to - from) {
            if (this.decode(points, 32 * (to - 1))) {
              this.decodedToCached(block + even * POINT_BYTES);
            } else bad = to - 1;
          }
        }
        if (bad >= 0) return this.loadCached({ X: 0n, Y: 1n, Z: 1n, T: 0n }, addr);
        this.copyCached(block + (i - from) * POINT_BYTES, addr);
      },
      (i, addr) => this.#load32(addr, scalars, 32 * i),
      true,
    );
    this.release(mark);
    return bad >= 0 ? bad : sum;
  }

  /**
   * One chunk of {@linkcode msm} in the SIMD lanes: the first ⌈count/2⌉ points in lane 0,
   * the others in lane 1, each lane with its own buckets; adds both lanes' sums to `total`.
   */
  #msmPairs(
    total: number,
    start: number,
    count: number,
    load: (i: number, addr: number) => void,
    scalarBytes: (i: number, addr: number) => void,
    affine: boolean,
  ): void {
    const x2 = this.#x2!;
    const m = Math.ceil(count / 2);
    const bits = Math.max(4, Math.min(14, Math.round(Math.log2(m)) - 3));
    const windows = Math.ceil(253 / bits) + 1, half = 1 << (bits - 1);
    const chunkMark = this.#heapEnd;
    const singles = this.alloc(count * POINT_BYTES);
    const pairs = this.alloc(m * PAIR_POINT_BYTES);
    const digits = this.alloc(m * windows * 8);
    const buckets = this.alloc(half * PAIR_POINT_BYTES);
    const scalarAt = this.alloc(40);
    this.#memory.fill(0, digits, digits + m * windows * 8); // lane 1's missing point: digit 0
    for (let i = 0; i < count; i++) {
      load(start + i, singles + i * POINT_BYTES);
      this.#memory.fill(0, scalarAt, scalarAt + 40);
      scalarBytes(start + i, scalarAt);
      // window-major, lane-interleaved: digit of point k of lane L in window j at
      // digits[2(j·m + k) + L]
      const lane = i < m ? 0 : 1, k = i - lane * m;
      this.#digitsFromBytes(scalarAt, digits + 4 * (2 * k + lane), bits, windows, 2 * m);
    }
    for (let k = 0; k < m; k++) {
      const a = singles + k * POINT_BYTES;
      const b = m + k < count ? singles + (m + k) * POINT_BYTES : a;
      for (let c = 0; c < 4 * FE_BYTES; c += FE_BYTES) {
        x2.fromSingles(pairs + k * PAIR_POINT_BYTES + c, a + c, b + c);
      }
    }
    const [laneA, laneB] = LANE_AT as [number, number];
    this.#identity(laneA);
    for (let c = 0; c < 4 * FE_BYTES; c += FE_BYTES) {
      x2.fromSingles(X2_OUT_AT + c, laneA + c, laneA + c);
    }
    for (let j = windows - 1; j >= 0; j--) {
      const window = digits + 8 * j * m;
      x2.msmWindow(X2_OUT_AT, buckets, half, pairs, window, m, bits, affine ? 1 : 0);
    }
    for (let c = 0; c < 4 * FE_BYTES; c += FE_BYTES) {
      x2.toSingles(laneA + c, laneB + c, X2_OUT_AT + c);
    }
    for (const lane of [laneA, laneB]) {
      this.#toCached(at(16), lane);
      this.#addCached(total, total, at(16));
    }
    this.release(chunkMark);
  }

  /** Loads extended coordinates as a cached point at `addr`. */
  loadCached(p: ExtendedCoordinates, addr: number): void {
    this.setPoint(IN_AT, p);
    this.#toCached(addr, IN_AT);
  }

  /** Writes a bigint scalar's 32 little-endian bytes at `addr`. */
  writeScalarBytes(scalar: bigint, addr: number): void {
    const v = this.#view;
    v.setBigUint64(addr, scalar, true);
    v.setBigUint64(addr + 8, scalar >> 64n, true);
    v.setBigUint64(addr + 16, scalar >> 128n, true);
    v.setBigUint64(addr + 24, scalar >> 192n, true);
  }

  /** Copies 32 bytes into memory at `addr`. */
  writeBytes(bytes: Uint8Array, addr: number): void {
    this.#memory.set(bytes, addr);
  }

  /** Copies the 32 bytes at src[from] into memory at `addr`, with no view of them. */
  writeBytesAt(src: Uint8Array, from: number, addr: number): void {
    this.#load32(addr, src, from);
  }
}

/** Fixed-base windows: 9 bits (measured: 12 % fewer field operations than 8 per product). */
const FIXED_BITS = 9;
const FIXED_WINDOWS = Math.ceil(253 / FIXED_BITS) + 1; // + 1 for the last carry
const FIXED_HALF = 1 << (FIXED_BITS - 1);
// 4-bit windows of a scalar below 2^253: the top one (bits 252–255) is at most 1 plus a carry,
// below 8, so it never carries out and 64 windows suffice.
const VAR_WINDOWS = 64;
const MSM_CHUNK = 32768;
/**
 * What {@linkcode wasmEncryptMany} computes from: per element i the scalars sᵢ, tᵢ, uᵢ (below
 * 2^253) and its message `messages[messageOf[i]]`, and whether R is encoded doubled.
 */
export interface WasmEncryptInput {
  /** sᵢ, for P = sᵢ·G: bigints, or 32 little-endian bytes each. */
  s: readonly bigint[] | Uint8Array;
  /** tᵢ, for Q = tᵢ·G (as s). */
  t: readonly bigint[] | Uint8Array;
  /** uᵢ, for R = mᵢ + uᵢ·Y (as s). */
  u: readonly bigint[] | Uint8Array;
  /** The distinct messages. */
  messages: readonly ExtendedCoordinates[];
  /** Per element, the index of its message. */
  messageOf: ArrayLike<number>;
  /** Whether 2·R is encoded (else R). */
  doubleR: boolean;
}

/** Elements decoded and combined at once by `combineMany` (bounds its heap). */
const COMBINE_BLOCK = 256;

/** What the steps of one `combineMany` call share (addresses are in WebAssembly memory). */
interface CombineState {
  /** Input lists: c2, each trustee's shares, then the published mₑ for a check. */
  inputs: readonly Uint8Array[];
  numerators: readonly number[];
  /** Whether the sums are multiplied by the inverse (its digits at DIGITS_AT): D ≠ 1. */
  scaled: boolean;
  denominator: number;
  check: boolean;
  t: number;
  q: number;
  bad: Uint8Array;
  failed: Uint8Array;
  out: Uint8Array;
  /** Inputs to decode in the block, as e·q + r. */
  pending: Int32Array;
  /** The block's elements whose inputs all decoded. */
  done: Int32Array;
  points: number;
  results: number;
  acc: number;
  term: number;
  cached: number;
}
/** How many scalars a list holds: bigints, or 32 bytes each. */
function scalarCount(scalars: readonly bigint[] | Uint8Array): number {
  return scalars instanceof Uint8Array ? scalars.length / 32 : scalars.length;
}

/** Elements per block of `encryptMany` (bounds its heap: about 1.3 KB per element). */
const ENCRYPT_BLOCK = 256;
/** Points decoded at a time by `msmEncoded` (bounds its heap: 352 bytes a point). */
const MSM_DECODE_BLOCK = 1024;
/** From this many points in a chunk on, the bucket method runs in the SIMD lanes. */
const MSM_PAIRS_MIN = 64;

/** False to run the engine as where WebAssembly SIMD is refused (tests of that path). */
let pairsAllowed = true;
/** False to decode pairs by the JavaScript-driven path (two register banks), for tests. */
let pairDecodeAllowed = true;

/**
 * Turns the SIMD pair functions off (false) or back on, so that tests can check the
 * engine's path for platforms that refuse WebAssembly SIMD. Not for production use.
 *
 * @param allowed whether the pair functions may run
 * @param decodeInOneFunction false to decode pairs with the JavaScript-driven exponentiation
 *   of two register banks instead of the single WebAssembly function
 * @example
 * ```ts
 * import { allowWasmPairs } from "./curve_wasm.ts";
 * allowWasmPairs(false);
 * allowWasmPairs(true);
 * ```
 */
export function allowWasmPairs(allowed: boolean, decodeInOneFunction = true): void {
  pairsAllowed = allowed;
  pairDecodeAllowed = decodeInOneFunction;
}

/** The register bank in use: 0, or 1 for the second lane of pair decoding and encoding. */
let bankAt = REGISTERS_AT;

function at(reg: number): number {
  return bankAt + reg * FE_BYTES;
}

let engine: Engine | undefined | null = null;

/** The module, with the SIMD pair functions or (where SIMD is refused) without them. */
function curveModule(simd: boolean): WasmModuleBuilder {
  const m = new WasmModuleBuilder(Math.ceil(HEAP_AT / PAGE) + 1);
  const field = addField25519(m, 0);
  const edwards = addEdwardsOps(m, field, EDWARDS_AT, {
    zero: at(ZERO),
    one: at(ONE),
    d2: at(D2),
  });
  addTableLoops(m, field, {
    addCached: edwards.addCached,
    regs: { b: B, c: C, e: E, f: F, d2: D2 },
  });
  addDoubleEncode(m, field, {
    zero: ZERO,
    one: ONE,
    d: D,
    sqrtM1: SQRTM1,
    invsqrtAmd: INVSQRT_AMD,
    x: X0,
    y: Y0,
    z: Z0,
    t: T0,
    a: A,
    b: B,
    c: C,
    e: E,
    g: G,
    h: H,
    r: R,
    v: V,
    u1: U1,
    u2: U2,
    s: S,
    mu: MU,
    mui: MUI,
  });
  const digits = addScalarDigits(m);
  let pairProducts: FixedProductsLayout["pair"];
  if (simd) {
    const pair = addField25519x2(m);
    const pow2 = addPow22523x2(m, pair, X2_POW_AT);
    const [zero, one, d2, d, sqrtM1] = [0, 1, 2, 3, 4].map((k) => X2_CONSTANTS_AT + k * PAIR_BYTES);
    const edwardsX2 = addEdwardsOpsX2(m, pair, X2_EDWARDS_AT, {
      zero: zero!,
      one: one!,
      d2: d2!,
      nielsIdentity: X2_NIELS_ID_AT,
      cachedIdentity: X2_CACHED_ID_AT,
    });
    const x2 = addRistrettoDecodeX2(m, field, pair, pow2, X2_DECODE_AT, {
      zero: zero!,
      one: one!,
      d: d!,
      sqrtM1: sqrtM1!,
      oneSingle: at(ONE),
    });
    addDecodeCachedPairs(m, field, {
      decode: x2.decode,
      bytesAt: X2_BYTES_AT,
      banks: [REGISTERS_AT, BANK1_AT],
      regs: { x: X0, y: Y0, t: T0, one: ONE, d2: D2 },
    });
    pairProducts = { fixedMul: edwardsX2.fixedMul, toSingles: pair.toSingles, out: X2_OUT_AT };
  }
  addFixedProducts(m, {
    digits,
    fixedMul: edwards.fixedMul,
    ...(pairProducts === undefined ? {} : { pair: pairProducts }),
    bytesAt: BYTES_AT,
    digitsAt: [DIGITS_AT, DIGITS_AT + 512],
    bits: FIXED_BITS,
    windows: FIXED_WINDOWS,
    half: FIXED_HALF,
  });
  return m;
}

// The SIMD engine is compiled once per process and handed to every worker a pool starts
// (core/wasm_module.ts): no worker assembles and compiles it again (issue 17).
shareWasmModule("ristretto255", () => curveModule(true));

function curveEngine(): Engine | undefined {
  if (engine === null) {
    // In a worker, the module its pool's thread compiled (shareWasmModule above), if any.
    const instance = instantiateCompiledWasm("ristretto255") ??
      curveModule(true).instantiate("ristretto255") ??
      curveModule(false).instantiate("ristretto255 without SIMD");
    engine = instance && new Engine(instance.wasmMemory, instance.exports);
  }
  return engine;
}

/**
 * Compiles the WebAssembly engine (and the scalar arithmetic mod ℓ of ./scalar_bytes.ts)
 * asynchronously, before first use. A browser page's main thread calls this first: Chrome
 * refuses the synchronous compilation the engine otherwise does on first use there (modules
 * over 4 KB), and the arithmetic would fall back to noble (and bigints). Without WebAssembly
 * (or under a policy that refuses it) the fallback stays.
 *
 * @returns true when the WebAssembly engine runs, false when the noble fallback does
 * @example
 * ```ts
 * import { prepareCurveEngine } from "./curve_wasm.ts";
 * console.assert(typeof (await prepareCurveEngine()) === "boolean");
 * ```
 */
export async function prepareCurveEngine(): Promise<boolean> {
  await prepareScalarEngine(); // the scalar arithmetic mod ℓ: a module of its own
  if (engine === null) {
    const instance = await curveModule(true).instantiateAsync("ristretto255") ??
      await curveModule(false).instantiateAsync("ristretto255 without SIMD");
    // A synchronous first use may have raced this compilation: keep the first engine.
    if (engine === null) engine = instance && new Engine(instance.wasmMemory, instance.exports);
  }
  return engine !== undefined;
}

/** The index of the first encoding of `points` failing the byte checks of DECODE, or −1. */
function firstUnacceptable(points: Uint8Array, allowIdentity: boolean): number {
  const n = points.length / 32;
  for (let i = 0; i < n; i++) if (!acceptable(points, allowIdentity, 32 * i)) return i;
  return -1;
}

/**
 * Whether 32 bytes are a canonical, non-negative field element (the byte checks of
 * RFC 9496 §4.3.1 DECODE): below p = 2^255 − 19 and even.
 */
function canonicalNonNegative(bytes: Uint8Array, at = 0): boolean {
  if ((bytes[at]! & 1) === 1 || bytes[at + 31]! > 0x7f) return false;
  if (bytes[at + 31] !== 0x7f || bytes[at]! < 0xed) return true;
  for (let k = 1; k < 31; k++) if (bytes[at + k] !== 0xff) return true;
  return false; // p ≤ s < 2^255
}

/** The byte checks of DECODE, and the identity (32 zero bytes) unless allowed (at `at`). */
function acceptable(bytes: Uint8Array, allowIdentity: boolean, at = 0): boolean {
  if (!canonicalNonNegative(bytes, at)) return false;
  if (allowIdentity) return true;
  for (let k = 0; k < 32; k++) if (bytes[at + k] !== 0) return true;
  return false;
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

/** Fixed-base tables kept in WebAssembly memory at once (about 1.8 MiB each). */
const TABLE_SLOTS = 16;
const tableSlots = new Map<object, number>(); // owner → heap address, oldest first

/**
 * scalar·base by a fixed-base table (9-bit signed windows, 30 × 256 affine multiples) kept
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
  return e.fixedMul(tableOf(e, owner, base), scalar);
}

/** The table of `owner` in WebAssembly memory, built (or rebuilt) when needed. */
function tableOf(e: Engine, owner: object, base: ExtendedCoordinates): number {
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
  return table;
}

/**
 * scalarᵢ·base for many scalars by the fixed-base table of {@linkcode wasmFixedMul}, two
 * scalars at a time in the SIMD lanes (each window gathers the two lanes' table entries
 * and adds them by one pair mixed addition). Variable time in the scalars only through
 * which table entries are read, as {@linkcode wasmFixedMul}.
 *
 * @param owner the object the table belongs to (one base point per owner)
 * @param base the base's coordinates
 * @param scalars scalars below 2^253
 * @returns the products' coordinates, or undefined without WebAssembly SIMD
 * @example
 * ```ts
 * import { wasmFixedMulMany } from "./curve_wasm.ts";
 * const r = wasmFixedMulMany({}, { X: 0n, Y: 1n, Z: 1n, T: 0n }, [5n, 7n, 9n]);
 * console.assert(r === undefined || r.length === 3);
 * ```
 */
export function wasmFixedMulMany(
  owner: object,
  base: ExtendedCoordinates,
  scalars: readonly bigint[],
): ExtendedCoordinates[] | undefined {
  const e = curveEngine();
  if (e === undefined || !e.pairs) return undefined;
  return e.fixedMulMany(tableOf(e, owner, base), scalars);
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
    points.every((p) => p.Z === 1n),
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
  // The byte checks in a function of their own: this one has no loop before the engine's
  // calls below (issue 17: compiled during its first call, it left its code there in every
  // later call for want of type feedback).
  const unacceptable = firstUnacceptable(points, options.allowIdentity === true);
  if (unacceptable >= 0) return unacceptable;
  if (e.pairs && e.decodesInBlocks) return e.msmEncoded(points, scalars);
  let bad = -1, stashed = -1, failed = -1;
  const stash = LANE_AT[1]!;
  const sum = e.msm(
    n,
    (i, addr) => {
      // Two at a time where SIMD allows: point i+1 waits decoded in `stash`.
      if (bad < 0 && i === stashed) return e.copyCached(stash, addr);
      if (bad < 0 && i === failed) bad = i;
      if (bad < 0 && e.pairs && i + 1 < n) {
        const valid = e.decodePair(points, 32 * i, points, 32 * i + 32);
        if ((valid & 1) === 1) {
          e.decodedToCached(addr);
          if ((valid & 2) === 2) e.inBank1(() => e.decodedToCached(stash)), stashed = i + 1;
          else failed = i + 1;
          return;
        }
        bad = i;
      } else if (bad < 0 && e.decode(points, 32 * i)) {
        return e.decodedToCached(addr);
      }
      if (bad < 0) bad = i;
      e.loadCached({ X: 0n, Y: 1n, Z: 1n, T: 0n }, addr);
    },
    (i, addr) => e.writeBytesAt(scalars, 32 * i, addr),
    true,
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

/**
 * scalar·Pᵢ for many encoded points and ONE scalar (a trustee's decryption shares): two
 * points at a time in the SIMD lanes with the same 4-bit signed digits and the same
 * constant-time table scan as {@linkcode wasmVarMul}, decoding (RFC 9496 §4.3.1) and
 * encoding (§4.3.2) in pairs too.
 *
 * @param points 32·n bytes of ristretto255 encodings
 * @param scalar a scalar below 2^253 (secret: constant time in its digits)
 * @param options `allowIdentity` (default false)
 * @returns 32·n bytes of the products' encodings; the index of the first invalid (or
 *   disallowed identity) encoding; or undefined without WebAssembly SIMD
 * @example
 * ```ts
 * import { wasmMulMany } from "./curve_wasm.ts";
 * const r = wasmMulMany(new Uint8Array(32), 5n); // the identity: refused
 * console.assert(r === undefined || r === 0);
 * ```
 */
export function wasmMulMany(
  points: Uint8Array,
  scalar: bigint,
  options: { allowIdentity?: boolean } = {},
): Uint8Array | number | undefined {
  const e = curveEngine();
  if (e === undefined || !e.pairs) return undefined;
  return e.mulMany(points, scalar, options.allowIdentity === true);
}

/**
 * Lagrange combination of decryption shares straight from encodings, in WebAssembly
 * (decoding and encoding two at a time with SIMD where available): mₑ = c2ₑ − inv·Σⱼ nⱼ·dⱼₑ,
 * or, given published mₑ, whether D·(c2ₑ − mₑ) = Σⱼ nⱼ·dⱼₑ. Variable time: public data.
 *
 * @param input c2 (32·n bytes), shares (32·n bytes per trustee), numerators nⱼ (small
 *   integers), inverse = D⁻¹ mod ℓ, denominator D, and the published mₑ for a check
 * @returns `bad[e·q + r]` = 1 for an input encoding that does not decode (r = 0 c2, 1 + j
 *   share j, 1 + t published; q inputs per element) and `out` (the mₑ encodings, or per
 *   element 1 for a mismatch); or undefined without WebAssembly
 * @example
 * ```ts
 * import { wasmCombineMany } from "./curve_wasm.ts";
 * const r = wasmCombineMany({
 *   c2: new Uint8Array(32), shares: [new Uint8Array(32)], numerators: [1], inverse: 1n, denominator: 1,
 * });
 * console.assert(r === undefined || r.bad.join() === "1,1"); // identities are refused
 * ```
 */
export function wasmCombineMany(input: {
  c2: Uint8Array;
  shares: readonly Uint8Array[];
  numerators: readonly number[];
  inverse: bigint;
  denominator: number;
  published?: Uint8Array | undefined;
}): { bad: Uint8Array; out: Uint8Array } | undefined {
  return curveEngine()?.combineMany(input);
}

/**
 * Decodes many ristretto255 encodings (RFC 9496 §4.3.1), two at a time with WebAssembly
 * SIMD (one pair exponentiation for both inverse square roots) where available.
 *
 * @param points 32·n bytes
 * @param options `allowIdentity` (default false)
 * @returns the coordinates; the index of the first invalid (or disallowed identity)
 *   encoding; or undefined without WebAssembly
 * @example
 * ```ts
 * import { wasmDecodeMany } from "./curve_wasm.ts";
 * const r = wasmDecodeMany(new Uint8Array(64), { allowIdentity: true });
 * console.assert(r === undefined || (typeof r === "object" && r.length === 2));
 * ```
 */
export function wasmDecodeMany(
  points: Uint8Array,
  options: { allowIdentity?: boolean } = {},
): ExtendedCoordinates[] | number | undefined {
  return curveEngine()?.decodeMany(points, options.allowIdentity === true);
}

/**
 * Checks that many ristretto255 encodings decode (RFC 9496 §4.3.1), two at a time with
 * WebAssembly SIMD where available, without reading the points out.
 *
 * @param points 32·n bytes
 * @param options `allowIdentity` (default false)
 * @returns −1 when all decode; the index of the first invalid (or disallowed identity)
 *   encoding; or undefined without WebAssembly
 * @example
 * ```ts
 * import { wasmValidateMany } from "./curve_wasm.ts";
 * const r = wasmValidateMany(new Uint8Array(64), { allowIdentity: true });
 * console.assert(r === undefined || r === -1);
 * ```
 */
export function wasmValidateMany(
  points: Uint8Array,
  options: { allowIdentity?: boolean } = {},
): number | undefined {
  return curveEngine()?.validMany(points, options.allowIdentity === true);
}

/**
 * Encodes many points (RFC 9496 §4.3.2), two at a time with WebAssembly SIMD where
 * available.
 *
 * @param points coordinates reduced mod p
 * @param out destination of 32·n bytes
 * @returns true, or false without WebAssembly (nothing written)
 * @example
 * ```ts
 * import { wasmEncodeMany } from "./curve_wasm.ts";
 * const identity = { X: 0n, Y: 1n, Z: 1n, T: 0n };
 * const out = new Uint8Array(64);
 * wasmEncodeMany([identity, identity], out);
 * console.assert(out.every((b) => b === 0));
 * ```
 */
export function wasmEncodeMany(points: readonly ExtendedCoordinates[], out: Uint8Array): boolean {
  const e = curveEngine();
  if (e === undefined) return false;
  e.encodeMany(points, out);
  return true;
}

/**
 * The group elements of many ElGamal encryptions with their proof commitments, from scalars
 * to encodings in one call (issue 17: no coordinates, points or small arrays per element):
 * for element i, Pᵢ = sᵢ·G and Qᵢ = tᵢ·G by G's fixed-base table, Rᵢ = M + uᵢ·Y by Y's
 * (M = `messages[messageOf[i]]`), two scalars at a time in the SIMD lanes as
 * {@linkcode wasmFixedMulMany}; then 2·Pᵢ, 2·Qᵢ and 2·Rᵢ encoded (RFC 9496 §4.3.2) with one
 * field inversion per block of 256 elements (Hamburg's batched "double and encode"), or Rᵢ
 * itself encoded one inverse square root per pair when `doubleR` is false. Callers that
 * want the encodings of r·G, a·G and m + r·Y pass the halves s = r/2, t = a/2, u = r/2 and
 * M = m/2 (then 2·R = m + r·Y), as group.ts `encryptionElements` does.
 *
 * Timing: the secret scalars s, t, u go only through the fixed-base multiplications, which
 * are variable time in them only through which table entries are read (as
 * {@linkcode wasmFixedMul}); the additions are complete formulas; the encodings branch on
 * the signs of values of the outputs (public ciphertexts and commitments) and on whether
 * an output is the identity.
 *
 * @param g the owner of G's table and G's coordinates (tables as {@linkcode wasmFixedMul})
 * @param y the owner of Y's table and Y's coordinates
 * @param input the scalars s, t, u (below 2^253, bigints or 32 little-endian bytes each; the
 *   same count n), the distinct message
 *   points M, per element the index of its message, and `doubleR`
 * @param out 96·n bytes: per element the encodings of 2·Pᵢ and 2·Rᵢ (or Rᵢ) — the ciphertext
 *   layout c1ᵢ ‖ c2ᵢ, so an item's elements are one range — then the encodings of the 2·Qᵢ
 * @returns true, or false without WebAssembly (nothing written)
 * @example
 * ```ts
 * import { wasmEncryptMany } from "./curve_wasm.ts";
 * const identity = { X: 0n, Y: 1n, Z: 1n, T: 0n };
 * const out = new Uint8Array(96);
 * const input = { s: [1n], t: [2n], u: [3n], messages: [identity], messageOf: [0], doubleR: true };
 * wasmEncryptMany({ owner: {}, base: identity }, { owner: {}, base: identity }, input, out);
 * console.assert(out.every((b) => b === 0)); // multiples of the identity
 * ```
 */
export function wasmEncryptMany(
  g: { owner: object; base: ExtendedCoordinates },
  y: { owner: object; base: ExtendedCoordinates },
  input: WasmEncryptInput,
  out: Uint8Array,
): boolean {
  const e = curveEngine();
  if (e === undefined) return false;
  const n = scalarCount(input.s);
  if (
    scalarCount(input.t) !== n || scalarCount(input.u) !== n || input.messageOf.length !== n ||
    !Number.isInteger(n)
  ) {
    throw new RangeError("wasmEncryptMany needs as many s, t, u and message indices");
  }
  if (out.length !== 96 * n) throw new RangeError(`wasmEncryptMany writes ${96 * n} bytes`);
  if (n === 0) return true;
  const gTable = tableOf(e, g.owner, g.base), yTable = tableOf(e, y.owner, y.base);
  e.encryptMany(gTable, yTable, input, out);
  return true;
}
