/**
 * Scalar arithmetic modulo the ristretto255 group order ℓ = 2^252 + δ (RFC 9496 §4,
 * RFC 8032 §5.1) over 32- and 64-byte little-endian buffers, with no bigint and no allocation
 * per scalar: wide reduction (as group.ts `scalarFromWide`), multiply-add a·b + c mod ℓ and
 * halving, each one call for a list of scalars. Issue 17: the bigint form of these made about a
 * kilobyte of heap garbage per scalar in the voters' encryption and the workers' ballot-proof
 * check, and their JavaScript form was compiled again by every worker isolate.
 *
 * The arithmetic runs in WebAssembly (./scalar_wasm.ts: 21-bit limbs in i64, constant time
 * for secret inputs), compiled once per process and handed to every worker a pool starts
 * (core/wasm_module.ts). Where WebAssembly is refused, bigint arithmetic gives the same bytes
 * (variable time, as the rest of that fallback: group.ts's noble path).
 *
 * @module
 */

import {
  instantiateCompiledWasm,
  shareWasmModule,
  type WasmInstance,
  WasmModuleBuilder,
} from "../../core/wasm_module.ts";
import { addScalarOps, SCALAR_ORDER } from "./scalar_wasm.ts";

const ORDER = SCALAR_ORDER;

/** Scalars per call into WebAssembly: the memory areas hold this many. */
const CHUNK = 256;
// One page of linear memory: the wide inputs, then a, b, c and the outputs (32 bytes per
// scalar); each function reads up to 7 bytes past its last input, still inside the page.
const WIDE_AT = 0;
const A_AT = WIDE_AT + 64 * CHUNK;
const B_AT = A_AT + 32 * CHUNK;
const C_AT = B_AT + 32 * CHUNK;
const OUT_AT = C_AT + 32 * CHUNK;
if (OUT_AT + 32 * CHUNK + 8 > 65536) throw new RangeError("Memory layout overflows its page");

/** Bits of scalar_muladd_many's `steps`: which of a, b, c and out step 32 bytes per scalar. */
const STEP_A = 1, STEP_B = 2, STEP_C = 4, STEP_OUT = 8;

const MODULE = "ristretto255 scalars";

function scalarModule(): WasmModuleBuilder {
  const m = new WasmModuleBuilder(1);
  addScalarOps(m);
  return m;
}

// Compiled once per process and handed to every worker a pool starts (issue 17).
shareWasmModule(MODULE, scalarModule);

interface ScalarEngine {
  memory: Uint8Array;
  wide: (out: number, wide: number, count: number) => void;
  mulAdd: (out: number, a: number, b: number, c: number, count: number, steps: number) => void;
  half: (out: number, x: number, count: number) => number;
}

let engine: ScalarEngine | undefined | null = null;

function scalarEngine(): ScalarEngine | undefined {
  if (engine === null) {
    // In a worker, the module its pool's thread compiled (shareWasmModule above), if any.
    const instance = instantiateCompiledWasm(MODULE) ?? scalarModule().instantiate(MODULE);
    engine = instance && engineOf(instance);
  }
  return engine;
}

function engineOf(instance: WasmInstance): ScalarEngine {
  return {
    memory: instance.memory,
    wide: instance.exports["scalar_wide_many"]!,
    mulAdd: instance.exports["scalar_muladd_many"]!,
    half: instance.exports["scalar_half_many"]!,
  };
}

/**
 * Compiles the scalar arithmetic's WebAssembly asynchronously, before first use: what a
 * browser page's main thread needs, where Chrome refuses the synchronous compilation of
 * modules over 4 KB (./curve_wasm.ts `prepareCurveEngine` calls it). Without WebAssembly
 * the bigint fallback stays.
 *
 * @returns true when the arithmetic runs in WebAssembly
 * @example
 * ```ts
 * import { prepareScalarEngine } from "./scalar_bytes.ts";
 * console.assert(typeof (await prepareScalarEngine()) === "boolean");
 * ```
 */
export async function prepareScalarEngine(): Promise<boolean> {
  if (engine === null) {
    const instance = await scalarModule().instantiateAsync(MODULE);
    // A synchronous first use may have raced this compilation: keep the first engine.
    if (engine === null) engine = instance && engineOf(instance);
  }
  return engine !== undefined;
}

/** Throws the caller's-bug error unless `count` scalars of `size` bytes at `at` fit `bytes`. */
function checkRange(what: string, bytes: Uint8Array, at: number, size: number): void {
  if (!(Number.isInteger(at) && at >= 0 && at + size <= bytes.length)) {
    throw new RangeError(
      `${what}: ${size} bytes at ${at} of ${bytes.length} are outside the buffer (a caller's bug)`,
    );
  }
}

function checkCount(what: string, count: number): void {
  if (!(Number.isInteger(count) && count >= 0)) {
    throw new RangeError(`${what}: count ${count} is not a whole number (a caller's bug)`);
  }
}

/** `length` bytes of `src` at `at` into the WebAssembly memory at `to`. */
function copyIn(mem: Uint8Array, to: number, src: Uint8Array, at: number, length: number): void {
  mem.set(src.subarray(at, at + length), to);
}

/** The little-endian number of `length` bytes at `bytes[at]` (the bigint fallback). */
function numberAt(bytes: Uint8Array, at: number, length: number): bigint {
  let x = 0n;
  for (let k = length - 1; k >= 0; k--) x = (x << 8n) | BigInt(bytes[at + k]!);
  return x;
}

/** x below 2^256 as 32 little-endian bytes at `out[at]` (the bigint fallback). */
function writeNumber(out: Uint8Array, at: number, x: bigint): void {
  for (let k = 0; k < 32; k++, x >>= 8n) out[at + k] = Number(x & 0xffn);
}

/**
 * The `count` 64-byte little-endian numbers at `wide[wideAt]` mod ℓ, as 32 canonical bytes
 * each at `out[outAt]` (RFC 9496 §4.3.4 wide reduction, as group.ts `scalarFromWide`).
 * Constant time.
 *
 * @param out where the scalars go (32·count bytes at `outAt`)
 * @param options `count`, `wide` (64·count bytes at `wideAt`, default 0) and `outAt`
 *   (default 0)
 * @throws {RangeError} when a range is outside its buffer: a programmer error (the library's
 *   callers check lengths and offsets first; no user input reaches it)
 * @example
 * ```ts
 * import { scalarsFromWideInto } from "./scalar_bytes.ts";
 * const out = new Uint8Array(64);
 * scalarsFromWideInto(out, { count: 2, wide: new Uint8Array(128).fill(0xff) });
 * console.assert(out[31]! < 0x10 && out[63] === out[31]);
 * ```
 */
export function scalarsFromWideInto(
  out: Uint8Array,
  options: { count: number; wide: Uint8Array; wideAt?: number; outAt?: number },
): void {
  const { count, wide, wideAt = 0, outAt = 0 } = options;
  checkCount("Wide reduction", count);
  checkRange("Wide reduction reads", wide, wideAt, 64 * count);
  checkRange("Wide reduction writes", out, outAt, 32 * count);
  const e = scalarEngine();
  if (e === undefined) return wideBigint(out, outAt, wide, wideAt, count);
  const mem = e.memory;
  for (let done = 0; done < count; done += CHUNK) {
    const n = Math.min(CHUNK, count - done);
    copyIn(mem, WIDE_AT, wide, wideAt + 64 * done, 64 * n);
    e.wide(OUT_AT, WIDE_AT, n);
    out.set(mem.subarray(OUT_AT, OUT_AT + 32 * n), outAt + 32 * done);
  }
  // The wide inputs and scalars (secrets, often) do not stay behind.
  const used = Math.min(count, CHUNK);
  mem.fill(0, WIDE_AT, WIDE_AT + 64 * used);
  mem.fill(0, OUT_AT, OUT_AT + 32 * used);
}

/** {@linkcode scalarsFromWideInto} without WebAssembly. */
function wideBigint(
  out: Uint8Array,
  outAt: number,
  wide: Uint8Array,
  wideAt: number,
  count: number,
) {
  for (let i = 0; i < count; i++) {
    writeNumber(out, outAt + 32 * i, numberAt(wide, wideAt + 64 * i, 64) % ORDER);
  }
}

/** Where a, b and c are read, how many products, and which of a, c and out step. */
interface MulAddInputs {
  a: Uint8Array;
  aAt: number;
  b: Uint8Array;
  bAt: number;
  c: Uint8Array | undefined;
  cAt: number;
  count: number;
  steps: number;
}

/**
 * a·b + c by scalar_muladd_many in chunks: b always steps; with neither c nor out stepping,
 * out = Σ a·b + out (c is out).
 */
function mulAddMany(out: Uint8Array, outAt: number, inputs: MulAddInputs): void {
  const e = scalarEngine();
  if (e === undefined) return mulAddBigint(out, outAt, inputs);
  const { a, aAt, b, bAt, c, cAt, count, steps } = inputs;
  const aStep = (steps & STEP_A) === 0 ? 0 : 32, cStep = (steps & STEP_C) === 0 ? 0 : 32;
  const outStep = (steps & STEP_OUT) === 0 ? 0 : 32;
  // An accumulator is read where it is written (c = out in the WebAssembly memory).
  const cFrom = cStep === 0 && outStep === 0 ? OUT_AT : C_AT, mem = e.memory;
  for (let done = 0; done < count; done += CHUNK) {
    const n = Math.min(CHUNK, count - done);
    copyIn(mem, A_AT, a, aAt + aStep * done, aStep === 0 ? 32 : 32 * n);
    copyIn(mem, B_AT, b, bAt + 32 * done, 32 * n);
    if (c === undefined) mem.fill(0, cFrom, cFrom + 32);
    else copyIn(mem, cFrom, c, cAt + cStep * done, cStep === 0 ? 32 : 32 * n);
    e.mulAdd(OUT_AT, A_AT, B_AT, cFrom, n, steps);
    out.set(mem.subarray(OUT_AT, OUT_AT + (outStep === 0 ? 32 : 32 * n)), outAt + outStep * done);
  }
  // A secret's bytes do not stay behind.
  const used = 32 * Math.max(1, Math.min(count, CHUNK));
  mem.fill(0, A_AT, A_AT + used);
  mem.fill(0, B_AT, B_AT + used);
  mem.fill(0, C_AT, C_AT + used);
  mem.fill(0, OUT_AT, OUT_AT + used);
}

/** {@linkcode mulAddMany} without WebAssembly. */
function mulAddBigint(out: Uint8Array, outAt: number, inputs: MulAddInputs): void {
  const { a, aAt, b, bAt, c, cAt, count, steps } = inputs;
  const aStep = (steps & STEP_A) === 0 ? 0 : 32, cStep = (steps & STEP_C) === 0 ? 0 : 32;
  const accumulate = (steps & (STEP_C | STEP_OUT)) === 0;
  let acc = accumulate && c !== undefined ? numberAt(c, cAt, 32) : 0n;
  for (let i = 0; i < count; i++) {
    const x = numberAt(a, aAt + aStep * i, 32) * numberAt(b, bAt + 32 * i, 32);
    if (accumulate) acc = (x + acc) % ORDER;
    else {
      const y = c === undefined ? 0n : numberAt(c, cAt + cStep * i, 32);
      writeNumber(out, outAt + 32 * i, (x + y) % ORDER);
    }
  }
  if (accumulate && count > 0) writeNumber(out, outAt, acc);
}

/**
 * a·bₖ + cₖ mod ℓ for k < `count` (default 1), 32-byte little-endian numbers (any values below
 * 2^256, canonical or not): one scalar a, lists of bₖ and cₖ (32 bytes apart), the results as
 * 32 canonical bytes each from `out[outAt]`; c may be left out (0). Constant time.
 *
 * @param out where the results go (32·count bytes at `outAt`; may be where b or c is)
 * @param outAt its offset
 * @param inputs `a`, `b` and optionally `c`, each a buffer and the offset of its first 32
 *   bytes, and `count`
 * @throws {RangeError} when a range is outside its buffer: a programmer error (the library's
 *   callers check lengths and offsets first; no user input reaches it)
 * @example
 * ```ts
 * import { scalarMulAddInto } from "./scalar_bytes.ts";
 * const two = new Uint8Array(32), three = new Uint8Array(32), out = new Uint8Array(32);
 * two[0] = 2, three[0] = 3;
 * scalarMulAddInto(out, 0, { a: two, aAt: 0, b: three, bAt: 0, c: two, cAt: 0 });
 * console.assert(out[0] === 8);
 * ```
 */
export function scalarMulAddInto(
  out: Uint8Array,
  outAt: number,
  inputs: {
    a: Uint8Array;
    aAt: number;
    b: Uint8Array;
    bAt: number;
    c?: Uint8Array;
    cAt?: number;
    count?: number;
  },
): void {
  const { a, aAt, b, bAt, c, cAt = 0, count = 1 } = inputs;
  checkCount("Scalar multiply-add", count);
  checkRange("Scalar multiply-add reads a", a, aAt, 32);
  checkRange("Scalar multiply-add reads b", b, bAt, 32 * count);
  if (c !== undefined) checkRange("Scalar multiply-add reads c", c, cAt, 32 * count);
  checkRange("Scalar multiply-add writes", out, outAt, 32 * count);
  const steps = STEP_B | STEP_OUT | (c === undefined ? 0 : STEP_C);
  mulAddMany(out, outAt, { a, aAt, b, bAt, c, cAt, count, steps });
}

/**
 * aₖ·bₖ + cₖ mod ℓ for k < `count`, lists of 32-byte little-endian numbers (32 bytes apart,
 * any values below 2^256), the results as 32 canonical bytes each from `out[outAt]`; c may be
 * left out (0). Constant time.
 *
 * @param out where the results go (32·count bytes at `outAt`, default 0; may be where a, b or
 *   c is)
 * @param lists `count`, `a`, `b` and optionally `c`, each a buffer and the offset of its first
 *   32 bytes (default 0), and `outAt`
 * @throws {RangeError} when a range is outside its buffer: a programmer error (the library's
 *   callers check lengths and offsets first; no user input reaches it)
 * @example
 * ```ts
 * import { scalarsMulAddInto } from "./scalar_bytes.ts";
 * const a = new Uint8Array(64), b = new Uint8Array(64), out = new Uint8Array(64);
 * a[0] = 2, a[32] = 3, b[0] = 5, b[32] = 7;
 * scalarsMulAddInto(out, { count: 2, a, b, c: a });
 * console.assert(out[0] === 12 && out[32] === 24);
 * ```
 */
export function scalarsMulAddInto(
  out: Uint8Array,
  lists: {
    count: number;
    a: Uint8Array;
    aAt?: number;
    b: Uint8Array;
    bAt?: number;
    c?: Uint8Array;
    cAt?: number;
    outAt?: number;
  },
): void {
  const { count, a, aAt = 0, b, bAt = 0, c, cAt = 0, outAt = 0 } = lists;
  checkCount("Scalar multiply-add", count);
  checkRange("Scalar multiply-add reads a", a, aAt, 32 * count);
  checkRange("Scalar multiply-add reads b", b, bAt, 32 * count);
  if (c !== undefined) checkRange("Scalar multiply-add reads c", c, cAt, 32 * count);
  checkRange("Scalar multiply-add writes", out, outAt, 32 * count);
  const steps = STEP_A | STEP_B | STEP_OUT | (c === undefined ? 0 : STEP_C);
  mulAddMany(out, outAt, { a, aAt, b, bAt, c, cAt, count, steps });
}

/**
 * out + Σₖ aₖ·bₖ mod ℓ over k < `count`, for lists of 32-byte little-endian numbers (32 bytes
 * apart, any values below 2^256), into the 32 bytes at `out[outAt]` (the sum so far, any value
 * below 2^256; canonical afterwards). Constant time.
 *
 * @param out the accumulator's buffer
 * @param outAt its offset
 * @param inputs `a` and `b`, each a buffer and the offset of its first 32 bytes, and `count`
 * @throws {RangeError} when a range is outside its buffer: a programmer error (the library's
 *   callers check lengths and offsets first; no user input reaches it)
 * @example
 * ```ts
 * import { scalarDotAddInto } from "./scalar_bytes.ts";
 * const a = new Uint8Array(64), b = new Uint8Array(64), sum = new Uint8Array(32);
 * a[0] = 2, a[32] = 3, b[0] = 5, b[32] = 7, sum[0] = 1;
 * scalarDotAddInto(sum, 0, { a, aAt: 0, b, bAt: 0, count: 2 });
 * console.assert(sum[0] === 32); // 1 + 2·5 + 3·7
 * ```
 */
export function scalarDotAddInto(
  out: Uint8Array,
  outAt: number,
  inputs: { a: Uint8Array; aAt: number; b: Uint8Array; bAt: number; count: number },
): void {
  const { a, aAt, b, bAt, count } = inputs;
  checkCount("Scalar dot product", count);
  checkRange("Scalar dot product reads a", a, aAt, 32 * count);
  checkRange("Scalar dot product reads b", b, bAt, 32 * count);
  checkRange("Scalar dot product adds into", out, outAt, 32);
  const steps = STEP_A | STEP_B;
  mulAddMany(out, outAt, { a, aAt, b, bAt, c: out, cAt: outAt, count, steps });
}

/**
 * x/2 mod ℓ for each of `count` canonical scalars x (below ℓ): (x + (x mod 2)·ℓ) / 2, the
 * odd case made even by adding ℓ, as 32 canonical bytes each from `out[outAt]`; and whether
 * every x was canonical. Constant time: the parity is a 0/1 factor and the comparison with ℓ
 * a borrow, never branched on; the answer is known only at the end.
 *
 * @param out where the results go (32·count bytes at `outAt`; may be where x is)
 * @param options `count`, `x` (32·count bytes at `xAt`, default 0) and `outAt` (default 0)
 * @returns 1 when every x is below ℓ, else 0 (then the results are of no use)
 * @throws {RangeError} when a range is outside its buffer: a programmer error (the library's
 *   callers check lengths and offsets first; no user input reaches it)
 * @example
 * ```ts
 * import { scalarsHalfInto } from "./scalar_bytes.ts";
 * const x = new Uint8Array(64);
 * x[0] = 6, x[32] = 10;
 * console.assert(scalarsHalfInto(x, { count: 2, x }) === 1);
 * console.assert(x[0] === 3 && x[32] === 5);
 * ```
 */
export function scalarsHalfInto(
  out: Uint8Array,
  options: { count: number; x: Uint8Array; xAt?: number; outAt?: number },
): number {
  const { count, x, xAt = 0, outAt = 0 } = options;
  checkCount("Scalar halving", count);
  checkRange("Scalar halving reads", x, xAt, 32 * count);
  checkRange("Scalar halving writes", out, outAt, 32 * count);
  const e = scalarEngine();
  if (e === undefined) return halfBigint(out, outAt, x, xAt, count);
  const mem = e.memory;
  let below = 1;
  for (let done = 0; done < count; done += CHUNK) {
    const n = Math.min(CHUNK, count - done);
    copyIn(mem, A_AT, x, xAt + 32 * done, 32 * n);
    below &= e.half(OUT_AT, A_AT, n);
    out.set(mem.subarray(OUT_AT, OUT_AT + 32 * n), outAt + 32 * done);
  }
  // A secret's bytes do not stay behind.
  const used = 32 * Math.min(count, CHUNK);
  mem.fill(0, A_AT, A_AT + used);
  mem.fill(0, OUT_AT, OUT_AT + used);
  return below;
}

/** {@linkcode scalarsHalfInto} without WebAssembly. */
function halfBigint(out: Uint8Array, outAt: number, x: Uint8Array, xAt: number, count: number) {
  let below = 1;
  for (let i = 0; i < count; i++) {
    const v = numberAt(x, xAt + 32 * i, 32);
    if (v >= ORDER) below = 0;
    writeNumber(out, outAt + 32 * i, (v + (v & 1n) * ORDER) >> 1n);
  }
  return below;
}

/**
 * 1 when the 32 bytes at `bytes[at]` are a canonical scalar (below ℓ), else 0, in constant
 * time (the borrow of x − ℓ, byte by byte, with no branch): for secret scalars.
 *
 * @param bytes the buffer
 * @param at the scalar's offset
 * @returns 1 or 0
 * @example
 * ```ts
 * import { scalarBelowOrder } from "./scalar_bytes.ts";
 * console.assert(scalarBelowOrder(new Uint8Array(32), 0) === 1);
 * console.assert(scalarBelowOrder(new Uint8Array(32).fill(0xff), 0) === 0);
 * ```
 */
export function scalarBelowOrder(bytes: Uint8Array, at: number): number {
  let borrow = 0;
  for (let k = 0; k < 32; k++) borrow = ((bytes[at + k]! - ORDER_BYTES[k]! - borrow) >>> 31) & 1;
  return borrow;
}

/**
 * Whether the 32 bytes at `bytes[at]` are a canonical scalar (below ℓ), comparing from the top
 * byte down. Variable time: for public scalars only (responses of a proof being checked).
 *
 * @param bytes the buffer
 * @param at the scalar's offset
 * @returns true when below ℓ
 * @example
 * ```ts
 * import { isCanonicalScalarAt } from "./scalar_bytes.ts";
 * console.assert(isCanonicalScalarAt(new Uint8Array(32), 0));
 * console.assert(!isCanonicalScalarAt(new Uint8Array(32).fill(0xff), 0));
 * ```
 */
export function isCanonicalScalarAt(bytes: Uint8Array, at: number): boolean {
  for (let k = 31; k >= 0; k--) {
    const x = bytes[at + k]!, l = ORDER_BYTES[k]!;
    if (x !== l) return x < l;
  }
  return false; // equal to ℓ
}

/** ℓ as 32 little-endian bytes. */
const ORDER_BYTES = new Uint8Array(32);
{
  let l = ORDER;
  for (let k = 0; k < 32; k++, l >>= 8n) ORDER_BYTES[k] = Number(l & 0xffn);
}
