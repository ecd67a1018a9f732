/**
 * The ristretto255 group (RFC 9496) as used by the re-encryption backend:
 * scalar arithmetic modulo the group order, canonical point and scalar
 * decoding with typed errors, and fixed-base multiplication tables.
 *
 * @module
 */

import { pippenger } from "@noble/curves/abstract/curve.js";
import { expand_message_xmd } from "@noble/curves/abstract/hash-to-curve.js";
import { ed25519, ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { joinBytes } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { type RandomSource, systemRandom } from "../../core/random.ts";
import {
  wasmCombineMany,
  wasmDecode,
  wasmDecodeMany,
  wasmDeriveToCurve,
  wasmEncode,
  wasmEncodeMany,
  wasmEncryptMany,
  wasmFixedMul,
  wasmFixedMulMany,
  wasmMsm,
  wasmMsmEncoded,
  wasmMulMany,
  wasmValidateMany,
  wasmVarMul,
} from "./curve_wasm.ts";
import { scalarsFromWideInto } from "./scalar_bytes.ts";

/**
 * A ristretto255 group element (RFC 9496): the operations this backend uses of
 * @noble/curves' `ristretto255.Point`, which implements them.
 */
export interface Point {
  /**
   * Group operation.
   *
   * @param other another element
   * @returns this + other
   */
  add(other: Point): Point;
  /**
   * Group operation with the inverse.
   *
   * @param other another element
   * @returns this − other
   */
  subtract(other: Point): Point;
  /**
   * Inverse element.
   *
   * @returns −this
   */
  negate(): Point;
  /**
   * Doubling.
   *
   * @returns 2·this
   */
  double(): Point;
  /**
   * Constant-time scalar multiplication (scalar in [1, ℓ)).
   *
   * @param scalar the scalar
   * @returns scalar·this
   */
  multiply(scalar: bigint): Point;
  /**
   * Variable-time scalar multiplication (scalar in [0, ℓ)), for public scalars.
   *
   * @param scalar the scalar
   * @returns scalar·this
   */
  multiplyUnsafe(scalar: bigint): Point;
  /**
   * Element equality (RFC 9496 §4.3.3).
   *
   * @param other another element
   * @returns true when equal
   */
  equals(other: Point): boolean;
  /**
   * Identity test.
   *
   * @returns true for the identity
   */
  is0(): boolean;
  /**
   * Canonical encoding (RFC 9496 §4.3.2).
   *
   * @returns 32 bytes
   */
  toBytes(): Uint8Array;
}

type NoblePoint = InstanceType<typeof ristretto255.Point>;

/** The group order ℓ = 2^252 + 27742317777372353535851937790883648493 (RFC 9496 §4). */
export const GROUP_ORDER: bigint = ristretto255.Point.Fn.ORDER;

/** The field prime p = 2^255 − 19 (RFC 7748 §4.1). */
const FIELD_PRIME: bigint = ristretto255.Point.Fp.ORDER;

/** Bytes in a canonical point or scalar encoding. */
export const ELEMENT_BYTES = 32;

/** Label written into every transcript to name the group. */
export const GROUP_LABEL = "ristretto255";

/** The standard generator g (RFC 9496 §4.4). */
export const BASE_POINT: Point = ristretto255.Point.BASE as Point;

/** The identity element. */
export const IDENTITY: Point = ristretto255.Point.ZERO as Point;

/**
 * Reduces an integer modulo the group order into [0, ℓ).
 *
 * @param x any integer
 * @returns x mod ℓ
 * @example
 * ```ts
 * import { GROUP_ORDER, modL } from "./group.ts";
 * console.assert(modL(-1n) === GROUP_ORDER - 1n);
 * ```
 */
export function modL(x: bigint): bigint {
  const r = x % GROUP_ORDER;
  return r < 0n ? r + GROUP_ORDER : r;
}

/**
 * Modular inverse modulo the group order (extended Euclid).
 *
 * @param x a non-zero scalar
 * @returns x⁻¹ mod ℓ
 * @throws {InvalidInputError} when x ≡ 0
 * @example
 * ```ts
 * import { invertScalar, modL } from "./group.ts";
 * console.assert(modL(invertScalar(7n) * 7n) === 1n);
 * ```
 */
export function invertScalar(x: bigint): bigint {
  let a = modL(x);
  if (a === 0n) throw new InvalidInputError("Scalar '0' has no inverse");
  let b = GROUP_ORDER;
  let x0 = 1n, x1 = 0n;
  while (b !== 0n) {
    const q = a / b;
    [a, b] = [b, a - q * b];
    [x0, x1] = [x1, x0 - q * x1];
  }
  return modL(x0);
}

/**
 * Little-endian integer from bytes.
 *
 * @param bytes little-endian bytes
 * @returns the integer
 * @example
 * ```ts
 * import { bytesToNumberLE } from "./group.ts";
 * console.assert(bytesToNumberLE(new Uint8Array([1, 1])) === 257n);
 * ```
 */
export function bytesToNumberLE(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = 0n;
  let i = bytes.length;
  // Whole 64-bit words from the top, then the remaining low bytes.
  while (i >= 8 && i % 8 === 0) {
    i -= 8;
    out = (out << 64n) | view.getBigUint64(i, true);
  }
  for (let j = i - 1; j >= 0; j--) out = (out << 8n) | BigInt(bytes[j]!);
  return out;
}

/**
 * Where short wide inputs are read from: a DataView over a small caller's array would give
 * it an ArrayBuffer of its own (allocated outside the heap, swept by the GC's helper
 * threads) per scalar; copying 64 bytes here costs nothing of the kind (issue 17).
 */
const WIDE_SCRATCH = new Uint8Array(64 * 16);
const WIDE_VIEW = new DataView(WIDE_SCRATCH.buffer);
const WIDE_SCALAR = WIDE_SCRATCH.subarray(0, 32);

/**
 * A scalar from 64 uniform bytes by wide reduction (little-endian mod ℓ), as RFC 9496 §4.3.4
 * does for elements; bias is below 2^-259.
 *
 * @param bytes exactly 64 bytes
 * @returns a scalar in [0, ℓ)
 * @throws {InvalidInputError} when not 64 bytes
 * @example
 * ```ts
 * import { scalarFromWide } from "./group.ts";
 * console.assert(scalarFromWide(new Uint8Array(64)) === 0n);
 * ```
 */
export function scalarFromWide(bytes: Uint8Array): bigint {
  if (bytes.length !== 64) {
    throw new InvalidInputError(`Wide scalar input must be 64 bytes, got ${bytes.length}`);
  }
  WIDE_SCRATCH.set(bytes);
  const scalar = wideAt(WIDE_VIEW, 0);
  WIDE_SCRATCH.fill(0, 0, 64); // the random bytes of secret scalars do not stay behind
  return scalar;
}

/** 2^256 mod ℓ. */
const TWO_256_MOD_L = (1n << 256n) % GROUP_ORDER;

/** The 64 little-endian bytes at `at` mod ℓ, as two 256-bit halves (lo + hi·2^256 mod ℓ). */
function wideAt(v: DataView, at: number): bigint {
  const lo = v.getBigUint64(at, true) | (v.getBigUint64(at + 8, true) << 64n) |
    (v.getBigUint64(at + 16, true) << 128n) | (v.getBigUint64(at + 24, true) << 192n);
  const hi = v.getBigUint64(at + 32, true) | (v.getBigUint64(at + 40, true) << 64n) |
    (v.getBigUint64(at + 48, true) << 128n) | (v.getBigUint64(at + 56, true) << 192n);
  return (lo + hi * TWO_256_MOD_L) % GROUP_ORDER;
}

/**
 * Scalars from a long challenge: consecutive 64-byte blocks, each wide-reduced.
 *
 * @param bytes a multiple of 64 bytes
 * @returns one scalar per block
 * @example
 * ```ts
 * import { scalarsFromWide } from "./group.ts";
 * console.assert(scalarsFromWide(new Uint8Array(128)).length === 2);
 * ```
 */
export function scalarsFromWide(bytes: Uint8Array): bigint[] {
  let view: DataView = WIDE_VIEW;
  if (bytes.length <= WIDE_SCRATCH.length) WIDE_SCRATCH.set(bytes);
  else view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: bigint[] = new Array(Math.floor(bytes.length / 64));
  for (let i = 0; i < out.length; i++) out[i] = wideAt(view, 64 * i);
  if (view === WIDE_VIEW) WIDE_SCRATCH.fill(0, 0, bytes.length);
  return out;
}

/**
 * A uniformly random scalar in [0, ℓ) (64 random bytes, wide reduction).
 *
 * @param random byte source (default the system CSPRNG)
 * @returns the scalar
 * @example
 * ```ts
 * import { GROUP_ORDER, randomScalar } from "./group.ts";
 * console.assert(randomScalar() < GROUP_ORDER);
 * ```
 */
export function randomScalar(random: RandomSource = systemRandom): bigint {
  const buf = new Uint8Array(64);
  random(buf);
  return scalarFromWide(buf);
}

/**
 * Many random scalars at once (one call to the random source, 64·count bytes).
 *
 * @param count how many
 * @param random byte source (default the system CSPRNG)
 * @param scratch where the random bytes are drawn (at least 64·count bytes; its first
 *   64·count are zero again on return): for callers that draw many times, so that no new
 *   array is made per draw (issue 17: small arrays cost the GC most); default a new array
 * @returns the scalars
 * @throws {InvalidInputError} when the scratch buffer is too short
 * @example
 * ```ts
 * import { seededRandom } from "../../core/random.ts";
 * import { randomScalars } from "./group.ts";
 * console.assert(randomScalars(3).length === 3);
 * const scratch = new Uint8Array(128);
 * const [a] = randomScalars(2, seededRandom("s"), scratch);
 * console.assert(a === randomScalars(2, seededRandom("s"))[0] && scratch.every((b) => b === 0));
 * ```
 */
export function randomScalars(
  count: number,
  random: RandomSource = systemRandom,
  scratch?: Uint8Array,
): bigint[] {
  if (scratch === undefined) {
    const buf = new Uint8Array(64 * count);
    random(buf);
    return scalarsFromWide(buf);
  }
  if (scratch.length < 64 * count) {
    throw new InvalidInputError(
      `Scratch of ${scratch.length} bytes is too short for ${count} random scalars`,
    );
  }
  const bytes = scratch.length === 64 * count ? scratch : scratch.subarray(0, 64 * count);
  random(bytes);
  const scalars = scalarsFromWide(bytes);
  bytes.fill(0); // the random bytes of secret scalars do not stay behind
  return scalars;
}

/**
 * Random scalars as canonical 32-byte little-endian encodings written into a caller's buffer:
 * the values {@linkcode randomScalars} gives for the same source (64·count bytes drawn in one
 * call, each 64 wide-reduced), computed on bytes in constant time, with no bigint (issue 17).
 *
 * @param out where the scalars go (32·count bytes from `at`)
 * @param options `count`; `at` (default 0); `random` (default the system CSPRNG); `scratch`
 *   for the random bytes (at least 64·count; zero again on return; default a new array)
 * @throws {InvalidInputError} when `out` or the scratch is too short
 * @example
 * ```ts
 * import { seededRandom } from "../../core/random.ts";
 * import { encodeScalar, randomScalars, randomScalarsInto } from "./group.ts";
 * const out = new Uint8Array(64);
 * randomScalarsInto(out, { count: 2, random: seededRandom("s") });
 * const [, b] = randomScalars(2, seededRandom("s"));
 * console.assert(out.subarray(32).join() === encodeScalar(b!).join());
 * ```
 */
export function randomScalarsInto(
  out: Uint8Array,
  options: { count: number; at?: number; random?: RandomSource; scratch?: Uint8Array },
): void {
  const { count, at = 0, random = systemRandom } = options;
  if (!Number.isInteger(count) || count < 0 || at < 0 || at + 32 * count > out.length) {
    throw new InvalidInputError(`Buffer of ${out.length} bytes cannot take ${count} scalars`);
  }
  const scratch = options.scratch ?? new Uint8Array(64 * count);
  if (scratch.length < 64 * count) {
    throw new InvalidInputError(
      `Scratch of ${scratch.length} bytes is too short for ${count} random scalars`,
    );
  }
  const bytes = scratch.length === 64 * count ? scratch : scratch.subarray(0, 64 * count);
  random(bytes);
  scalarsFromWideInto(out, { count, outAt: at, wide: bytes });
  bytes.fill(0); // the random bytes of secret scalars do not stay behind
}

/**
 * A random non-zero scalar.
 *
 * @param random byte source (default the system CSPRNG)
 * @returns a scalar in [1, ℓ)
 * @example
 * ```ts
 * import { randomNonZeroScalar } from "./group.ts";
 * console.assert(randomNonZeroScalar() !== 0n);
 * ```
 */
export function randomNonZeroScalar(random: RandomSource = systemRandom): bigint {
  for (;;) {
    const s = randomScalar(random);
    if (s !== 0n) return s;
  }
}

/**
 * Canonical 32-byte little-endian encoding of a scalar.
 *
 * @param s a scalar in [0, ℓ)
 * @returns 32 bytes
 * @example
 * ```ts
 * import { encodeScalar } from "./group.ts";
 * console.assert(encodeScalar(1n)[0] === 1);
 * ```
 */
export function encodeScalar(s: bigint): Uint8Array {
  // Written through the shared scratch view, then copied: a DataView over `out` would give
  // this small array an ArrayBuffer outside the heap (issue 17).
  writeScalar(WIDE_VIEW, 0, modL(s));
  const out = new Uint8Array(ELEMENT_BYTES);
  out.set(WIDE_SCALAR);
  WIDE_SCALAR.fill(0); // nor those of a secret scalar
  return out;
}

/**
 * Canonical encodings of scalars written one after another into a caller's buffer (as
 * {@linkcode encodeScalar} each), with no array per scalar: for encoders that lay out many
 * records in one buffer (issue 17).
 *
 * @param out the buffer
 * @param at where the first encoding starts (32·count bytes must fit)
 * @param scalars the scalars (any integers, reduced mod ℓ)
 * @returns the offset after the last encoding
 * @throws {RangeError} when they do not fit
 * @example
 * ```ts
 * import { encodeScalar, encodeScalarsInto } from "./group.ts";
 * const out = new Uint8Array(66);
 * console.assert(encodeScalarsInto(out, 2, [1n, -1n]) === 66);
 * console.assert(out.subarray(34).join() === encodeScalar(-1n).join());
 * ```
 */
export function encodeScalarsInto(out: Uint8Array, at: number, scalars: readonly bigint[]): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const s of scalars) {
    writeScalar(view, at, s >= 0n && s < GROUP_ORDER ? s : modL(s));
    at += ELEMENT_BYTES;
  }
  return at;
}

/**
 * Decodes a canonical scalar (32 bytes little-endian, below ℓ).
 *
 * @param bytes the encoding
 * @param what names the value in errors
 * @returns the scalar
 * @throws {InvalidInputError} when the length is wrong or the value is not below ℓ
 * @example
 * ```ts
 * import { decodeScalar, encodeScalar } from "./group.ts";
 * console.assert(decodeScalar(encodeScalar(5n), "s") === 5n);
 * ```
 */
export function decodeScalar(bytes: Uint8Array, what: string): bigint {
  if (bytes.length !== ELEMENT_BYTES) {
    throw new InvalidInputError(`Scalar '${what}' must be 32 bytes, got ${bytes.length}`);
  }
  const s = bytesToNumberLE(bytes);
  if (s >= GROUP_ORDER) {
    throw new InvalidInputError(`Scalar '${what}' is not canonical (not below the group order)`);
  }
  return s;
}

/**
 * Decodes a canonical ristretto255 element (RFC 9496 §4.3.1).
 *
 * @param bytes the 32-byte encoding
 * @param what names the value in errors
 * @param options `allowIdentity` (default false): accept the identity element
 * @returns the point
 * @throws {InvalidInputError} for a wrong length, a non-canonical encoding or a disallowed identity
 * @example
 * ```ts
 * import { BASE_POINT, decodePoint } from "./group.ts";
 * console.assert(decodePoint(BASE_POINT.toBytes(), "g").equals(BASE_POINT));
 * ```
 */
export function decodePoint(
  bytes: Uint8Array,
  what: string,
  options: { allowIdentity?: boolean } = {},
): Point {
  if (bytes.length !== ELEMENT_BYTES) {
    throw new InvalidInputError(`Group element '${what}' must be 32 bytes, got ${bytes.length}`);
  }
  let point: Point;
  const decoded = wasmDecode(bytes);
  if (decoded === null) {
    throw new InvalidInputError(`Group element '${what}' is not a canonical ristretto255 encoding`);
  } else if (decoded !== undefined) {
    point = pointOfExtended(decoded);
  } else {
    try {
      point = ristretto255.Point.fromBytes(bytes) as Point;
    } catch (error) {
      throw new InvalidInputError(
        `Group element '${what}' is not a canonical ristretto255 encoding`,
        { cause: error },
      );
    }
  }
  if (options.allowIdentity !== true && point.is0()) {
    throw new InvalidInputError(`Group element '${what}' must not be the identity`);
  }
  return point;
}

/**
 * Canonical encoding of a point (RFC 9496 §4.3.2), in WebAssembly where available.
 *
 * @param point the point
 * @returns 32 bytes
 * @example
 * ```ts
 * import { BASE_POINT, encodePoint } from "./group.ts";
 * console.assert(encodePoint(BASE_POINT).join() === BASE_POINT.toBytes().join());
 * ```
 */
export function encodePoint(point: Point): Uint8Array {
  const out = new Uint8Array(ELEMENT_BYTES);
  return wasmEncode(extendedOf(point), out, 0) ? out : point.toBytes();
}

/**
 * RFC 9380 `hash_to_ristretto255` (expand_message_xmd with SHA-512, then RFC 9496 §4.3.4
 * element derivation), with the element derivation in WebAssembly where available.
 *
 * @param message the input
 * @param dst the domain-separation tag
 * @returns the point
 * @example
 * ```ts
 * import { hashToPoint } from "./group.ts";
 * const dst = new TextEncoder().encode("example/v1");
 * console.assert(hashToPoint(new Uint8Array(4), dst).equals(hashToPoint(new Uint8Array(4), dst)));
 * ```
 */
export function hashToPoint(message: Uint8Array, dst: Uint8Array): Point {
  const uniform = expand_message_xmd(message, dst, 64, sha512);
  const derived = wasmDeriveToCurve(uniform);
  if (derived !== undefined) return pointOfExtended(derived);
  return ristretto255_hasher.deriveToCurve!(uniform) as Point;
}

/**
 * scalar·point for any point and a secret or public scalar: 4-bit signed windows with a
 * constant-time table scan in WebAssembly where available, else @noble/curves' `multiply`.
 *
 * @param point the point
 * @param scalar any integer (reduced mod ℓ first)
 * @returns scalar·point
 * @example
 * ```ts
 * import { BASE_POINT, multiplyPoint } from "./group.ts";
 * console.assert(multiplyPoint(BASE_POINT, 3n).equals(BASE_POINT.multiply(3n)));
 * ```
 */
export function multiplyPoint(point: Point, scalar: bigint): Point {
  const k = modL(scalar);
  const product = wasmVarMul(extendedOf(point), k);
  if (product !== undefined) return pointOfExtended(product);
  return k === 0n ? IDENTITY : point.multiply(k);
}

/**
 * scalar·Pᵢ for many encoded points and one (secret or public) scalar, straight from
 * encodings to encodings: in WebAssembly SIMD two points at a time with the constant-time
 * table scan of {@linkcode multiplyPoint}, else one by one as {@linkcode decodePoint},
 * {@linkcode multiplyPoint} and {@linkcode encodePoint} do. The bytes and the errors are
 * those of that loop.
 *
 * @param points 32·n bytes of ristretto255 encodings
 * @param scalar any integer (reduced mod ℓ first)
 * @param name names element i in errors
 * @param options `allowIdentity` (default false)
 * @returns 32·n bytes: the encodings of scalar·Pᵢ
 * @throws {InvalidInputError} naming the first element that does not decode (or is a
 *   disallowed identity), as {@linkcode decodePoint} words it
 * @example
 * ```ts
 * import { BASE_POINT, multiplyEncodedMany } from "./group.ts";
 * const out = multiplyEncodedMany(BASE_POINT.toBytes(), 3n, (i) => `p[${i}]`);
 * console.assert(out.join() === BASE_POINT.multiply(3n).toBytes().join());
 * ```
 */
export function multiplyEncodedMany(
  points: Uint8Array,
  scalar: bigint,
  name: (index: number) => string,
  options: { allowIdentity?: boolean } = {},
): Uint8Array {
  if (points.length % ELEMENT_BYTES !== 0) {
    throw new InvalidInputError(
      `Element list must be a multiple of 32 bytes, got ${points.length}`,
    );
  }
  const k = modL(scalar);
  const result = wasmMulMany(points, k, options);
  if (result instanceof Uint8Array) return result;
  if (result !== undefined) refuse(points, result, name(result), options);
  const out = new Uint8Array(points.length);
  for (let i = 0; i < points.length / ELEMENT_BYTES; i++) {
    const bytes = points.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
    out.set(encodePoint(multiplyPoint(decodePoint(bytes, name(i), options), k)), i * ELEMENT_BYTES);
  }
  return out;
}

/** Throws decodePoint's error for element i, which the WebAssembly engine refused. */
function refuse(
  points: Uint8Array,
  i: number,
  what: string,
  options: { allowIdentity?: boolean },
): never {
  decodePoint(points.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), what, options);
  throw new InvalidInputError(`Group element '${what}' is not a canonical ristretto255 encoding`);
}

// ---------------------------------------------------------------------------
// Fixed-base multiplication. Tables hold, for each 8-bit window j, the multiples
// d·2^(8j)·P for d = 1..128 in affine "Niels" form (y+x, y−x, 2d·x·y), so each
// window costs one mixed addition (Hisil–Wong–Carter–Dawson 2008, madd-2008-hwcd-3)
// with signed digits in [−128, 127].

const P = FIELD_PRIME;
const D2 = (2n * ed25519.Point.CURVE().d) % P;

function fmod(x: bigint): bigint {
  const r = x % P;
  return r < 0n ? r + P : r;
}

function fpow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = fmod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

interface Extended {
  X: bigint;
  Y: bigint;
  Z: bigint;
  T: bigint;
}

function extendedOf(point: Point): Extended {
  const ep = (point as unknown as { ep: Extended }).ep;
  return { X: ep.X, Y: ep.Y, Z: ep.Z, T: ep.T };
}

/**
 * Wraps raw extended Edwards coordinates (already reduced mod p) as a ristretto point.
 *
 * @param e coordinates X:Y:Z:T of a point of the prime-order subgroup representative
 * @returns the ristretto point
 */
function pointOfExtended(e: Extended): Point {
  return new ristretto255.Point(
    new ed25519.Point(fmod(e.X), fmod(e.Y), fmod(e.Z), fmod(e.T)),
  ) as Point;
}

/** Batch inversion (Montgomery's trick) of non-zero field elements. */
function batchInvertField(values: bigint[]): bigint[] {
  const n = values.length;
  const prefix = new Array<bigint>(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    prefix[i] = acc;
    acc = (acc * values[i]!) % P;
  }
  let inv = fpow(acc, P - 2n);
  const out = new Array<bigint>(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]!) % P;
    inv = (inv * values[i]!) % P;
  }
  return out;
}

/**
 * A fixed-base multiplication table for one point (the generator, the public key,
 * a Pedersen generator). Multiplication is variable-time in the scalar digits only
 * through table indexing; use it for public bases.
 *
 * @example
 * ```ts
 * import { BASE_POINT, FixedBaseTable } from "./group.ts";
 * const table = new FixedBaseTable(BASE_POINT);
 * console.assert(table.multiply(5n).equals(BASE_POINT.multiply(5n)));
 * ```
 */
export class FixedBaseTable {
  /** The base point. */
  readonly base: Point;
  // Flat arrays indexed [window * HALF + (d − 1)] holding y+x, y−x and 2d·x·y.
  readonly #ypx: bigint[];
  readonly #ymx: bigint[];
  readonly #t2d: bigint[];
  readonly #bits: number;
  readonly #windows: number;
  readonly #wasmBase: Extended | undefined;

  /**
   * Precomputes the table.
   *
   * @param base the point to precompute (≈ 4096 multiples; a few tens of milliseconds)
   */
  constructor(base: Point, windowBits = 8) {
    this.base = base;
    const bits = windowBits;
    if (!Number.isInteger(bits) || bits < 2 || bits > 14) {
      throw new InvalidInputError(`Window size '${bits}' must be an integer from 2 to 14`);
    }
    if (bits === 8 && wasmFixedMul(this, extendedOf(base), 0n) !== undefined) {
      // The table lives in WebAssembly memory (./curve_wasm.ts).
      this.#wasmBase = extendedOf(base);
      this.#ypx = this.#ymx = this.#t2d = [];
      this.#bits = bits;
      this.#windows = 0;
      return;
    }
    const WINDOWS = Math.ceil(253 / bits) + 1;
    const HALF = 1 << (bits - 1);
    this.#bits = bits;
    this.#windows = WINDOWS;
    const points: Extended[] = [];
    let windowBase = extendedOf(base);
    for (let j = 0; j < WINDOWS; j++) {
      let acc = windowBase;
      for (let d = 1; d <= HALF; d++) {
        points.push(acc);
        if (d < HALF) acc = addExtended(acc, windowBase);
      }
      // next window base = 2^bits · windowBase = 2 · (2^(bits−1) · windowBase)
      windowBase = addExtended(acc, acc);
    }
    const invZ = batchInvertField(points.map((p) => fmod(p.Z)));
    const n = points.length;
    this.#ypx = new Array<bigint>(n);
    this.#ymx = new Array<bigint>(n);
    this.#t2d = new Array<bigint>(n);
    for (let i = 0; i < n; i++) {
      const p = points[i]!;
      const zi = invZ[i]!;
      const x = fmod(p.X * zi);
      const y = fmod(p.Y * zi);
      this.#ypx[i] = (y + x) % P;
      this.#ymx[i] = fmod(y - x);
      this.#t2d[i] = (((x * y) % P) * D2) % P;
    }
  }

  /**
   * Multiplies the base by many scalars: in WebAssembly SIMD two at a time (one pair mixed
   * addition per window), else one by one. Same results as {@linkcode multiply}.
   *
   * @param scalars any integers (each reduced mod ℓ first)
   * @returns scalarᵢ · base
   */
  multiplyMany(scalars: readonly bigint[]): Point[] {
    if (this.#wasmBase !== undefined) {
      const products = wasmFixedMulMany(this, this.#wasmBase, scalars.map(modL));
      if (products !== undefined) return products.map(pointOfExtended);
    }
    return scalars.map((k) => this.multiply(k));
  }

  /**
   * Multiplies the base by a scalar.
   *
   * @param scalar any integer (reduced mod ℓ first)
   * @returns scalar · base
   */
  multiply(scalar: bigint): Point {
    let k = modL(scalar);
    if (this.#wasmBase !== undefined) {
      return pointOfExtended(wasmFixedMul(this, this.#wasmBase, k)!);
    }
    const bits = this.#bits, HALF = 1 << (bits - 1), full = 1 << bits;
    const mask = BigInt(full - 1), shift = BigInt(bits);
    let X = 0n, Y = 1n, Z = 1n, T = 0n;
    let carry = 0;
    for (let j = 0; j < this.#windows; j++) {
      let digit = Number(k & mask) + carry;
      k >>= shift;
      if (digit >= HALF) {
        digit -= full;
        carry = 1;
      } else {
        carry = 0;
      }
      if (digit === 0) continue;
      const idx = j * HALF + (digit > 0 ? digit : -digit) - 1;
      let ypx = this.#ypx[idx]!, ymx = this.#ymx[idx]!, t2d = this.#t2d[idx]!;
      if (digit < 0) {
        const tmp = ypx;
        ypx = ymx;
        ymx = tmp;
        t2d = P - t2d;
      }
      // madd-2008-hwcd-3 with a = −1, Z2 = 1.
      const A = ((Y - X) * ymx) % P;
      const B = ((Y + X) * ypx) % P;
      const C = (T * t2d) % P;
      const D = Z + Z;
      const E = B - A, F = D - C, G = D + C, H = B + A;
      X = (E * F) % P;
      Y = (G * H) % P;
      T = (E * H) % P;
      Z = (F * G) % P;
    }
    // One spare window absorbs the last carry, so every scalar below 2^253 is covered.
    return pointOfExtended({ X, Y, Z, T });
  }
}

/**
 * What {@linkcode encodeEncryptionElements} encrypts: the scalars s, t and u (as bigints, or
 * as canonical 32-byte little-endian encodings in one byte list), the distinct messages M, per
 * element the index of its M, and whether Rᵢ is doubled.
 */
export interface EncryptionElementsInput<
  Scalars extends readonly bigint[] | Uint8Array = readonly bigint[] | Uint8Array,
> {
  /** sᵢ (n of them). */
  s: Scalars;
  /** tᵢ (n of them). */
  t: Scalars;
  /** uᵢ (n of them). */
  u: Scalars;
  /** The distinct points M. */
  messages: readonly Point[];
  /** Per element, the index of its M in `messages`. */
  messageOf: ArrayLike<number>;
  /** Encode 2·Rᵢ (true) or Rᵢ (false). */
  doubleR: boolean;
}

/**
 * How many scalars a list holds: bigints, or 32-byte encodings end to end (a length not a
 * multiple of 32 gives a fraction, which callers refuse).
 *
 * @param scalars the list
 * @returns its length in scalars
 * @example
 * ```ts
 * import { scalarCount } from "./group.ts";
 * console.assert(scalarCount([1n, 2n]) === 2 && scalarCount(new Uint8Array(96)) === 3);
 * ```
 */
export function scalarCount(scalars: readonly bigint[] | Uint8Array): number {
  return scalars instanceof Uint8Array ? scalars.length / ELEMENT_BYTES : scalars.length;
}

/**
 * The encodings of 2·(sᵢ·G), 2·(tᵢ·G) and 2·(Mᵢ + uᵢ·Y) (or Mᵢ + uᵢ·Y when `doubleR` is
 * false) for many elements in one WebAssembly call (./curve_wasm.ts `wasmEncryptMany`; where
 * WebAssembly is unavailable, with point objects, the same bytes),
 * by the fixed-base tables of G and Y: ElGamal encryption with proof commitments without
 * point objects, coordinates or small arrays per element. With s = r/2, t = a/2, u = r/2 and
 * M = m/2 these are the encodings of c1 = r·G, A = a·G and c2 = m + r·Y. Timing: the secret
 * scalars go only through the fixed-base products, variable time only through which table
 * entries are read; the encodings branch on the (public) outputs only.
 *
 * @param g G's table (`fixedBase(BASE_POINT)`)
 * @param y Y's table (`fixedBase(publicKey)`)
 * @param input s, t, u (n each: any integers, reduced mod ℓ here, or canonical 32-byte
 *   little-endian encodings in one byte list, read as they are), the distinct points M, per
 *   element the index of its M, and `doubleR`
 * @returns 96·n bytes: per element the encodings of 2·Pᵢ and of 2·Rᵢ (or Rᵢ), 64 bytes
 *   in ciphertext layout (c1 ‖ c2), then the n encodings of the 2·Qᵢ (without WebAssembly,
 *   the same bytes computed with point objects)
 * @throws {InvalidInputError} when the counts differ or a message index is out of range
 * @example
 * ```ts
 * import { BASE_POINT, encodeEncryptionElements, fixedBase, IDENTITY } from "./group.ts";
 * const g = fixedBase(BASE_POINT);
 * const bytes = encodeEncryptionElements(g, g, {
 *   s: [1n], t: [2n], u: [0n], messages: [IDENTITY], messageOf: [0], doubleR: true,
 * });
 * console.assert(bytes.length === 96);
 * ```
 */
export function encodeEncryptionElements(
  g: FixedBaseTable,
  y: FixedBaseTable,
  input: EncryptionElementsInput,
): Uint8Array {
  const n = scalarCount(input.s);
  if (
    !Number.isInteger(n) || scalarCount(input.t) !== n || scalarCount(input.u) !== n ||
    input.messageOf.length !== n
  ) {
    throw new InvalidInputError(
      `Encryption elements need as many s, t, u and message indices, got ${n}, ${
        scalarCount(input.t)
      }, ${scalarCount(input.u)} and ${input.messageOf.length}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const k = input.messageOf[i]!;
    if (!(Number.isInteger(k) && k >= 0 && k < input.messages.length)) {
      throw new InvalidInputError(`Message index ${k} of element ${i} is out of range`);
    }
  }
  const out = new Uint8Array(96 * n);
  // Byte scalars are canonical already (checked here: the engine reads them below 2^253).
  const reduced = (xs: readonly bigint[] | Uint8Array, name: string) => {
    if (!(xs instanceof Uint8Array)) return xs.map((x) => x >= 0n && x < GROUP_ORDER ? x : modL(x));
    for (let i = 31; i < xs.length; i += 32) {
      if (xs[i]! >= 0x20) {
        throw new InvalidInputError(`Encryption elements' ${name}[${i >> 5}] is not below 2^253`);
      }
    }
    return xs;
  };
  const ok = wasmEncryptMany(
    { owner: g, base: extendedOf(g.base) },
    { owner: y, base: extendedOf(y.base) },
    {
      s: reduced(input.s, "s"),
      t: reduced(input.t, "t"),
      u: reduced(input.u, "u"),
      messages: input.messages.map(extendedOf),
      messageOf: input.messageOf,
      doubleR: input.doubleR,
    },
    out,
  );
  if (ok) return out;
  const bigints = (xs: readonly bigint[] | Uint8Array) =>
    xs instanceof Uint8Array ? unpackScalarsLoose(xs) : xs;
  return encryptionElementsWithPoints(
    g,
    y,
    { ...input, s: bigints(input.s), t: bigints(input.t), u: bigints(input.u) },
    out,
  );
}

/** 32-byte little-endian numbers as bigints, unchecked (the WebAssembly-less path). */
function unpackScalarsLoose(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < bytes.length; i += ELEMENT_BYTES) {
    out.push(bytesToNumberLE(bytes.subarray(i, i + ELEMENT_BYTES)));
  }
  return out;
}

/**
 * {@linkcode encodeEncryptionElements} with point objects, where WebAssembly is unavailable:
 * the same bytes into `out`.
 */
function encryptionElementsWithPoints(
  g: FixedBaseTable,
  y: FixedBaseTable,
  input: EncryptionElementsInput<readonly bigint[]>,
  out: Uint8Array,
): Uint8Array {
  const n = input.s.length;
  // sᵢ·G and tᵢ·G in one fixed-base batch, uᵢ·Y in another.
  const products = g.multiplyMany([...input.s, ...input.t]);
  const yu = y.multiplyMany(input.u);
  const r: Point[] = new Array(n);
  for (let i = 0; i < n; i++) r[i] = input.messages[input.messageOf[i]!]!.add(yu[i]!);
  // Encodings of 2·P₁..2·Pₙ, 2·Q₁..2·Qₙ, then of the Rᵢ (doubled or not); out in the layout
  // above: 2·Pᵢ ‖ Rᵢ per element, then the 2·Qᵢ.
  const encoded = input.doubleR
    ? doubleAndEncodeBatch([...products, ...r])
    : joinBytes([doubleAndEncodeBatch(products), packPoints(r)]);
  for (let i = 0; i < n; i++) {
    out.set(encoded.subarray(32 * i, 32 * i + 32), 64 * i);
    out.set(encoded.subarray(32 * (2 * n + i), 32 * (2 * n + i) + 32), 64 * i + 32);
  }
  out.set(encoded.subarray(32 * n, 64 * n), 64 * n);
  return out;
}

/** Unified addition in extended coordinates (add-2008-hwcd-3, a = −1). */
function addExtended(p: Extended, q: Extended): Extended {
  const A = ((p.Y - p.X) * (q.Y - q.X)) % P;
  const B = ((p.Y + p.X) * (q.Y + q.X)) % P;
  const C = (((p.T * D2) % P) * q.T) % P;
  const D = (2n * p.Z * q.Z) % P;
  const E = B - A, F = D - C, G = D + C, H = B + A;
  return { X: fmod(E * F), Y: fmod(G * H), T: fmod(E * H), Z: fmod(F * G) };
}

const tableCache = new Map<string, FixedBaseTable>();
const TABLE_CACHE_LIMIT = 16;
const tableByPoint = new WeakMap<Point, FixedBaseTable>();

/**
 * A cached fixed-base table for a point (keyed by its encoding); the generator's table is
 * built once per process (or worker).
 *
 * @param point the base
 * @param key its canonical encoding when already known (saves an encoding)
 * @returns the table
 * @example
 * ```ts
 * import { BASE_POINT, fixedBase } from "./group.ts";
 * console.assert(fixedBase(BASE_POINT).multiply(2n).equals(BASE_POINT.double()));
 * ```
 */
export function fixedBase(point: Point, key?: Uint8Array): FixedBaseTable {
  const known = tableByPoint.get(point);
  if (known !== undefined) return known;
  const id = toKey(key ?? encodePoint(point));
  let table = tableCache.get(id);
  if (table === undefined) {
    if (tableCache.size >= TABLE_CACHE_LIMIT) {
      const oldest = tableCache.keys().next().value;
      if (oldest !== undefined) tableCache.delete(oldest);
    }
    table = new FixedBaseTable(point);
    tableCache.set(id, table);
  }
  tableByPoint.set(point, table);
  return table;
}

function toKey(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/**
 * Multi-scalar multiplication Σ sᵢ·Pᵢ (Pippenger's bucket method from @noble/curves).
 * Variable time: public inputs only.
 *
 * @param points the bases
 * @param scalars the scalars (any integers, reduced mod ℓ)
 * @returns the sum
 * @example
 * ```ts
 * import { BASE_POINT, multiScalarMul } from "./group.ts";
 * console.assert(multiScalarMul([BASE_POINT, BASE_POINT], [2n, 3n]).equals(BASE_POINT.multiply(5n)));
 * ```
 */
export function multiScalarMul(points: readonly Point[], scalars: readonly bigint[]): Point {
  if (points.length !== scalars.length) {
    throw new InvalidInputError(
      `Multi-scalar multiplication needs as many scalars as points, got ${scalars.length} and ${points.length}`,
    );
  }
  return msmImpl(points, scalars.map(modL));
}

/**
 * Σ sᵢ·Pᵢ straight from encodings, decoding every point in WebAssembly memory without
 * building point objects (the verifier's hot path). Variable time: public inputs only.
 *
 * @param points 32·n bytes of ristretto255 encodings (the identity is refused)
 * @param scalars 32·n bytes of little-endian scalars below 2^253
 * @returns the sum; the index of the first point that is not a valid non-identity encoding;
 *   or undefined where WebAssembly is unavailable (decode and use {@linkcode multiScalarMul})
 * @example
 * ```ts
 * import { BASE_POINT, multiScalarMulEncoded, packScalars } from "./group.ts";
 * const sum = multiScalarMulEncoded(BASE_POINT.toBytes(), packScalars([2n]));
 * console.assert(sum === undefined || (typeof sum === "object" && sum.equals(BASE_POINT.double())));
 * ```
 */
export function multiScalarMulEncoded(
  points: Uint8Array,
  scalars: Uint8Array,
): Point | number | undefined {
  if (points.length !== scalars.length || points.length % ELEMENT_BYTES !== 0) {
    throw new InvalidInputError(
      `Multi-scalar multiplication needs as many 32-byte scalars as points, got ${scalars.length} and ${points.length} bytes`,
    );
  }
  for (let i = 31; i < scalars.length; i += 32) {
    if (scalars[i]! >= 0x20) throw new InvalidInputError(`Scalar ${i >> 5} is not below 2^253`);
  }
  const sum = wasmMsmEncoded(points, scalars);
  return typeof sum === "object" ? pointOfExtended(sum) : sum;
}

/**
 * Σ sᵢ·Pᵢ over encoded points, decoding them in WebAssembly memory two at a time where
 * available (as {@linkcode multiScalarMulEncoded}), with the errors of decoding them one by
 * one with {@linkcode decodePoint} (the identity refused), element i named `name(i)`.
 * Variable time: public inputs only.
 *
 * @param points 32·n bytes of ristretto255 encodings
 * @param scalars n scalars (any integers, reduced mod ℓ)
 * @param name names element i in errors
 * @returns the sum
 * @throws {InvalidInputError} naming the first element that does not decode (or is the
 *   identity), or when the counts differ
 * @example
 * ```ts
 * import { BASE_POINT, multiScalarMulNamed } from "./group.ts";
 * const sum = multiScalarMulNamed(BASE_POINT.toBytes(), [2n], (i) => `p${i}`);
 * console.assert(sum.equals(BASE_POINT.double()));
 * ```
 */
export function multiScalarMulNamed(
  points: Uint8Array,
  scalars: readonly bigint[],
  name: (index: number) => string,
): Point {
  if (points.length !== scalars.length * ELEMENT_BYTES) {
    throw new InvalidInputError(
      `Multi-scalar multiplication needs as many scalars as points, got ${scalars.length} and ${
        points.length / ELEMENT_BYTES
      }`,
    );
  }
  const sum = multiScalarMulEncoded(points, packScalars(scalars));
  if (typeof sum === "object") return sum;
  // No WebAssembly, or a refused element: decode one by one (the first bad one is named).
  return multiScalarMul(decodePoints(points, name), scalars);
}

/** From this many points on, the WebAssembly bucket method beats the bigint one. */
const WASM_MSM_MIN = 64;

function msmImpl(points: readonly Point[], scalars: bigint[]): Point {
  if (points.length === 0) return IDENTITY;
  if (points.length === 1) return points[0]!.multiplyUnsafe(scalars[0]!);
  if (points.length < 32) {
    return pippenger(ristretto255.Point, points as NoblePoint[], scalars) as Point;
  }
  const sum = points.length >= WASM_MSM_MIN ? wasmMsm(points.map(extendedOf), scalars) : undefined;
  return sum === undefined ? bucketMsm(points, scalars) : pointOfExtended(sum);
}

/** Little-endian bytes of a scalar < 2^256, padded to 36 bytes for window reads. */
function scalarWindowBytes(s: bigint): Uint8Array {
  const out = new Uint8Array(40);
  writeScalar(new DataView(out.buffer), 0, s);
  return out;
}

/** Doubling in extended coordinates. */
function dblExtended(p: Extended): Extended {
  // dbl-2008-hwcd with a = −1.
  const A = (p.X * p.X) % P;
  const B = (p.Y * p.Y) % P;
  const C = (2n * p.Z * p.Z) % P;
  const D = -A;
  const xy = p.X + p.Y;
  const E = ((xy * xy) % P) - A - B;
  const G = D + B, F = G - C, H = D - B;
  return { X: (E * F) % P, Y: (G * H) % P, T: (E * H) % P, Z: (F * G) % P };
}

/**
 * Pippenger's bucket method (Pippenger 1980; Bernstein et al. 2012 §4) over raw extended
 * coordinates with signed c-bit digits: one mixed addition per point and window, buckets
 * summed by the running-sum trick. Variable time: public inputs only.
 */
function bucketMsm(points: readonly Point[], scalars: readonly bigint[]): Point {
  const n = points.length;
  const c = Math.max(4, Math.min(16, Math.round(Math.log2(n)) - 3));
  const windows = Math.ceil(253 / c) + 1;
  const half = 1 << (c - 1);
  const mask = (1 << c) - 1;
  // Affine coordinates of the points (batch inversion of Z).
  const ext = points.map(extendedOf);
  const invZ = batchInvertField(ext.map((e) => fmod(e.Z)));
  const xs = new Array<bigint>(n), ys = new Array<bigint>(n), ts = new Array<bigint>(n);
  const ypx = new Array<bigint>(n), ymx = new Array<bigint>(n), t2d = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    const x = fmod(ext[i]!.X * invZ[i]!), y = fmod(ext[i]!.Y * invZ[i]!);
    const t = (x * y) % P;
    xs[i] = x;
    ys[i] = y;
    ts[i] = t;
    ypx[i] = y + x;
    ymx[i] = y - x;
    t2d[i] = (t * D2) % P;
  }
  // Signed digits in [−2^(c−1), 2^(c−1)).
  const digits = new Int32Array(n * windows);
  for (let i = 0; i < n; i++) {
    const bytes = scalarWindowBytes(scalars[i]!);
    let carry = 0;
    for (let j = 0; j < windows; j++) {
      const bit = j * c;
      const byte = bit >> 3;
      let d = 0;
      if (byte < 32) {
        const word = bytes[byte]! | (bytes[byte + 1]! << 8) | (bytes[byte + 2]! << 16);
        d = (word >>> (bit & 7)) & mask;
      }
      d += carry;
      if (d >= half) {
        d -= 1 << c;
        carry = 1;
      } else {
        carry = 0;
      }
      digits[i * windows + j] = d;
    }
  }
  const bX = new Array<bigint>(half + 1), bY = new Array<bigint>(half + 1);
  const bZ = new Array<bigint>(half + 1), bT = new Array<bigint>(half + 1);
  const used = new Uint8Array(half + 1);
  let acc: Extended = { X: 0n, Y: 1n, Z: 1n, T: 0n };
  for (let j = windows - 1; j >= 0; j--) {
    for (let k = 0; k < c; k++) acc = dblExtended(acc);
    used.fill(0);
    for (let i = 0; i < n; i++) {
      const d = digits[i * windows + j]!;
      if (d === 0) continue;
      const idx = d > 0 ? d : -d;
      const neg = d < 0;
      if (used[idx] === 0) {
        used[idx] = 1;
        bX[idx] = neg ? -xs[i]! : xs[i]!;
        bY[idx] = ys[i]!;
        bZ[idx] = 1n;
        bT[idx] = neg ? -ts[i]! : ts[i]!;
        continue;
      }
      // madd-2008-hwcd-3 (a = −1): bucket += ±point, the point in (y+x, y−x, 2d·t) form.
      const X1 = bX[idx]!, Y1 = bY[idx]!, Z1 = bZ[idx]!, T1 = bT[idx]!;
      const A = ((Y1 - X1) * (neg ? ypx[i]! : ymx[i]!)) % P;
      const B = ((Y1 + X1) * (neg ? ymx[i]! : ypx[i]!)) % P;
      const C = (T1 * (neg ? -t2d[i]! : t2d[i]!)) % P;
      const D = Z1 + Z1;
      const E = B - A, F = D - C, G = D + C, H = B + A;
      bX[idx] = (E * F) % P;
      bY[idx] = (G * H) % P;
      bT[idx] = (E * H) % P;
      bZ[idx] = (F * G) % P;
    }
    // Σ d·bucket_d by running sums (top bucket first).
    let running: Extended | undefined;
    let sum: Extended | undefined;
    for (let idx = half; idx >= 1; idx--) {
      if (used[idx] === 1) {
        const b = { X: bX[idx]!, Y: bY[idx]!, Z: bZ[idx]!, T: bT[idx]! };
        running = running === undefined ? b : addExtendedRaw(running, b);
      }
      if (running !== undefined) sum = sum === undefined ? running : addExtendedRaw(sum, running);
    }
    if (sum !== undefined) acc = addExtendedRaw(acc, sum);
  }
  return pointOfExtended(acc);
}

/**
 * Σ sᵢ·Pᵢ for a few points by Straus's interleaving (Straus 1964; Bernstein et al. 2012 §4):
 * one table of 1·P..8·P per point, then 4 doublings and one addition per point per signed
 * 4-bit digit, so k terms share one doubling chain. Variable time: public inputs only.
 *
 * @param points the bases (a few; use {@linkcode multiScalarMul} for many)
 * @param scalars the scalars (any integers, reduced mod ℓ)
 * @returns the sum
 * @example
 * ```ts
 * import { BASE_POINT, linearCombination } from "./group.ts";
 * console.assert(linearCombination([BASE_POINT, BASE_POINT], [2n, 3n]).equals(BASE_POINT.multiply(5n)));
 * ```
 */
export function linearCombination(points: readonly Point[], scalars: readonly bigint[]): Point {
  if (points.length !== scalars.length) {
    throw new InvalidInputError(
      `Linear combination needs as many scalars as points, got ${scalars.length} and ${points.length}`,
    );
  }
  const n = points.length;
  const windows = 65; // ⌈253/4⌉ + 1 for the final carry
  const tables: Extended[][] = [];
  const digits = new Int8Array(n * windows);
  for (let i = 0; i < n; i++) {
    // Table 1·P..8·P for signed digits in [−8, 8).
    const base = extendedOf(points[i]!);
    const table: Extended[] = [base];
    for (let m = 1; m < 8; m++) table.push(addExtendedRaw(table[m - 1]!, base));
    tables.push(table);
    const bytes = scalarWindowBytes(modL(scalars[i]!));
    let carry = 0;
    for (let j = 0; j < windows; j++) {
      const byte = j >> 1;
      let d = (byte < 32 ? (bytes[byte]! >> ((j & 1) * 4)) & 15 : 0) + carry;
      carry = d >= 8 ? 1 : 0;
      if (carry === 1) d -= 16;
      digits[i * windows + j] = d;
    }
  }
  let acc: Extended = { X: 0n, Y: 1n, Z: 1n, T: 0n };
  for (let j = windows - 1; j >= 0; j--) {
    for (let k = 0; k < 4; k++) acc = dblExtended(acc);
    for (let i = 0; i < n; i++) {
      const d = digits[i * windows + j]!;
      if (d === 0) continue;
      const q = tables[i]![(d > 0 ? d : -d) - 1]!;
      // Negation in extended coordinates: (−X, Y, Z, −T).
      acc = addExtendedRaw(acc, d > 0 ? q : { X: -q.X, Y: q.Y, Z: q.Z, T: -q.T });
    }
  }
  return pointOfExtended(acc);
}

/** add-2008-hwcd-3 (a = −1) without final normalisation. */
function addExtendedRaw(p: Extended, q: Extended): Extended {
  const A = ((p.Y - p.X) * (q.Y - q.X)) % P;
  const B = ((p.Y + p.X) * (q.Y + q.X)) % P;
  const C = (((p.T * D2) % P) * q.T) % P;
  const D = (2n * p.Z * q.Z) % P;
  const E = B - A, F = D - C, G = D + C, H = B + A;
  return { X: (E * F) % P, Y: (G * H) % P, T: (E * H) % P, Z: (F * G) % P };
}

/**
 * Packs scalars as consecutive 32-byte little-endian encodings.
 *
 * @param scalars scalars (reduced mod ℓ)
 * @returns 32·n bytes
 * @example
 * ```ts
 * import { packScalars, unpackScalars } from "./group.ts";
 * console.assert(unpackScalars(packScalars([1n, 2n]), "s")[1] === 2n);
 * ```
 */
export function packScalars(scalars: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(ELEMENT_BYTES * scalars.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < scalars.length; i++) writeScalar(view, i * ELEMENT_BYTES, modL(scalars[i]!));
  return out;
}

function writeScalar(view: DataView, offset: number, x: bigint): void {
  // setBigUint64 takes each word mod 2^64 itself: no BigInt.asUintN, a bigint per word.
  view.setBigUint64(offset, x, true);
  view.setBigUint64(offset + 8, x >> 64n, true);
  view.setBigUint64(offset + 16, x >> 128n, true);
  view.setBigUint64(offset + 24, x >> 192n, true);
}

/**
 * Unpacks canonical scalars written by {@linkcode packScalars}.
 *
 * @param bytes 32·n bytes
 * @param what names the list in errors
 * @returns the scalars
 * @throws {InvalidInputError} when the length is not a multiple of 32 or a scalar is not below ℓ
 * @example
 * ```ts
 * import { packScalars, unpackScalars } from "./group.ts";
 * console.assert(unpackScalars(packScalars([7n]), "s")[0] === 7n);
 * ```
 */
export function unpackScalars(bytes: Uint8Array, what: string): bigint[] {
  if (bytes.length % ELEMENT_BYTES !== 0) {
    throw new InvalidInputError(`Scalar list '${what}' must be a multiple of 32 bytes`);
  }
  const out: bigint[] = [];
  for (let i = 0; i < bytes.length; i += ELEMENT_BYTES) {
    out.push(decodeScalar(bytes.subarray(i, i + ELEMENT_BYTES), `${what}[${i / ELEMENT_BYTES}]`));
  }
  return out;
}

/**
 * Decodes consecutive 32-byte point encodings.
 *
 * @param bytes 32·n bytes
 * @param what names the list in errors
 * @param options `allowIdentity` (default false); `offset` added to indices in errors
 * @returns the points
 * @throws {InvalidInputError} naming the first bad element
 * @example
 * ```ts
 * import { BASE_POINT, unpackPoints } from "./group.ts";
 * console.assert(unpackPoints(BASE_POINT.toBytes(), "p").length === 1);
 * ```
 */
export function unpackPoints(
  bytes: Uint8Array,
  what: string,
  options: { allowIdentity?: boolean; offset?: number } = {},
): Point[] {
  const offset = options.offset ?? 0;
  if (bytes.length % ELEMENT_BYTES !== 0) {
    throw new InvalidInputError(`Element list '${what}' must be a multiple of 32 bytes`);
  }
  return decodePoints(bytes, (i) => `${what}[${offset + i}]`, options);
}

/**
 * Decodes consecutive 32-byte point encodings (two at a time in WebAssembly SIMD where
 * available) with the errors {@linkcode decodePoint} gives for element i named `name(i)`.
 *
 * @param bytes 32·n bytes
 * @param name names element i in errors
 * @param options `allowIdentity` (default false)
 * @returns the points
 * @throws {InvalidInputError} naming the first bad element (or a length not a multiple of 32)
 * @example
 * ```ts
 * import { BASE_POINT, decodePoints } from "./group.ts";
 * console.assert(decodePoints(BASE_POINT.toBytes(), (i) => `p${i}`)[0]!.equals(BASE_POINT));
 * ```
 */
export function decodePoints(
  bytes: Uint8Array,
  name: (index: number) => string,
  options: { allowIdentity?: boolean } = {},
): Point[] {
  if (bytes.length % ELEMENT_BYTES !== 0) {
    throw new InvalidInputError(`Element list must be a multiple of 32 bytes, got ${bytes.length}`);
  }
  const decoded = wasmDecodeMany(bytes, options);
  if (typeof decoded === "object") return decoded.map(pointOfExtended);
  if (decoded !== undefined) refuse(bytes, decoded, name(decoded), options);
  const out: Point[] = [];
  for (let i = 0; i < bytes.length / ELEMENT_BYTES; i++) {
    out.push(
      decodePoint(bytes.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), name(i), options),
    );
  }
  return out;
}

/**
 * Lagrange combination of threshold-decryption shares for many ciphertext elements, straight
 * from encodings (in WebAssembly, decoding and encoding two at a time with SIMD, where
 * available; else with bigint points, same results): with λⱼ = nⱼ/D,
 * mₑ = c2ₑ − D⁻¹·Σⱼ nⱼ·dⱼₑ, or — given the published mₑ — whether D·(c2ₑ − mₑ) = Σⱼ nⱼ·dⱼₑ
 * (no full scalar multiplication). Variable time: public data only.
 *
 * @param input `c2`: 32·n bytes; `shares`: one 32·n-byte list per trustee; `numerators`:
 *   the nⱼ; `denominator`: D ≥ 1; `published`: the claimed mₑ (32·n bytes) for a check
 * @returns `bad`: n·q bytes, `bad[e·q + r]` = 1 when input r of element e does not decode
 *   as {@linkcode decodePoint} (identity refused) would refuse it (r = 0 the c2, 1 + j share j,
 *   1 + t the published mₑ; q = 1 + t, plus 1 for a check); `out`: the encodings of the mₑ
 *   (32·n bytes), or for a check a byte per element, 1 when the published mₑ is not the
 *   combination; an element with an input that does not decode is left zero in `out`
 * @throws {InvalidInputError} for lengths that do not match
 * @example
 * ```ts
 * import { BASE_POINT, combineSharesEncoded } from "./group.ts";
 * const g = BASE_POINT.toBytes(), g2 = BASE_POINT.double().toBytes();
 * // λ = (2, −1) for trustees {1, 2}: m = 3g − (2·2g − g) = 0 → identity
 * const r = combineSharesEncoded({
 *   c2: BASE_POINT.multiply(3n).toBytes(), shares: [g2, g], numerators: [2n, -1n], denominator: 1n,
 * });
 * console.assert(r.out.every((b) => b === 0) && r.bad.every((b) => b === 0));
 * ```
 */
export function combineSharesEncoded(input: {
  c2: Uint8Array;
  shares: readonly Uint8Array[];
  numerators: readonly bigint[];
  denominator: bigint;
  published?: Uint8Array;
}): { bad: Uint8Array; out: Uint8Array } {
  const { c2, shares, numerators, denominator, published } = input;
  const n = c2.length / ELEMENT_BYTES;
  if (
    c2.length % ELEMENT_BYTES !== 0 || shares.length !== numerators.length ||
    shares.some((s) => s.length !== c2.length) ||
    (published !== undefined && published.length !== c2.length) || denominator < 1n
  ) {
    throw new InvalidInputError("Share combination inputs do not match in length");
  }
  const small = (x: bigint) => x >= -(1n << 30n) && x <= 1n << 30n;
  const inverse = denominator === 1n ? 1n : invertScalar(modL(denominator));
  if (numerators.every(small) && small(denominator)) {
    const result = wasmCombineMany({
      c2,
      shares,
      numerators: numerators.map(Number),
      inverse,
      denominator: Number(denominator),
      published,
    });
    if (result !== undefined) return result;
  }
  // Bigint points, one element at a time.
  const t = shares.length, q = 1 + t + (published === undefined ? 0 : 1);
  const bad = new Uint8Array(n * q);
  const out = new Uint8Array(published === undefined ? ELEMENT_BYTES * n : n);
  for (let e = 0; e < n; e++) {
    const inputs = [c2, ...shares, ...(published === undefined ? [] : [published])].map(
      (list, r) => {
        try {
          return decodePoint(list.subarray(e * ELEMENT_BYTES, (e + 1) * ELEMENT_BYTES), "input");
        } catch (error) {
          if (!(error instanceof InvalidInputError)) throw error;
          bad[e * q + r] = 1;
          return undefined;
        }
      },
    );
    if (inputs.some((p) => p === undefined)) continue;
    const points = inputs as Point[];
    let sum = IDENTITY;
    for (let j = 0; j < t; j++) sum = sum.add(multiplyPoint(points[1 + j]!, numerators[j]!));
    if (published === undefined) {
      const m = points[0]!.subtract(denominator === 1n ? sum : multiplyPoint(sum, inverse));
      out.set(encodePoint(m), e * ELEMENT_BYTES);
    } else {
      const left = multiplyPoint(points[0]!.subtract(points[1 + t]!), denominator);
      out[e] = left.equals(sum) ? 0 : 1;
    }
  }
  return { bad, out };
}

/**
 * The first of consecutive 32-byte encodings that {@linkcode decodePoint} would refuse,
 * checked two at a time in WebAssembly SIMD where available without building points.
 *
 * @param bytes 32·n bytes
 * @param options `allowIdentity` (default false)
 * @returns the index of the first encoding that does not decode (or is a disallowed
 *   identity), or −1 when all decode
 * @throws {InvalidInputError} for a length that is not a multiple of 32
 * @example
 * ```ts
 * import { BASE_POINT, firstInvalidPoint } from "./group.ts";
 * console.assert(firstInvalidPoint(BASE_POINT.toBytes()) === -1);
 * console.assert(firstInvalidPoint(new Uint8Array(32)) === 0); // the identity
 * ```
 */
export function firstInvalidPoint(
  bytes: Uint8Array,
  options: { allowIdentity?: boolean } = {},
): number {
  if (bytes.length % ELEMENT_BYTES !== 0) {
    throw new InvalidInputError(`Element list must be a multiple of 32 bytes, got ${bytes.length}`);
  }
  const first = wasmValidateMany(bytes, options);
  if (first !== undefined) return first;
  for (let i = 0; i < bytes.length / ELEMENT_BYTES; i++) {
    try {
      decodePoint(bytes.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), "point", options);
    } catch (error) {
      if (error instanceof InvalidInputError) return i;
      throw error;
    }
  }
  return -1;
}

/**
 * Encodes points as consecutive 32-byte canonical encodings.
 *
 * @param points the points
 * @returns 32·n bytes
 * @example
 * ```ts
 * import { BASE_POINT, packPoints } from "./group.ts";
 * console.assert(packPoints([BASE_POINT]).length === 32);
 * ```
 */
export function packPoints(points: readonly Point[]): Uint8Array {
  const out = new Uint8Array(ELEMENT_BYTES * points.length);
  if (wasmEncodeMany(points.map(extendedOf), out)) return out;
  for (let i = 0; i < points.length; i++) out.set(points[i]!.toBytes(), i * ELEMENT_BYTES);
  return out;
}

// RFC 9496 §4.1 constants.
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;
const INVSQRT_A_MINUS_D =
  54469307008909316920995813868745141605393597292927456921205312896311721017578n;
const EDWARDS_D: bigint = ed25519.Point.CURVE().d;

function isNegative(x: bigint): boolean {
  return (fmod(x) & 1n) === 1n;
}

/**
 * Canonical encodings of 2·Pᵢ for many points with one shared field inversion instead of
 * one inverse square root per point: the batched "double and encode" of ristretto
 * (Hamburg, "Decaf", §4 and RFC 9496 §4.3.2, as in curve25519-dalek's
 * `double_and_compress_batch`). Callers halve the scalars of what they want to encode.
 *
 * @param points the points P (their doubles are encoded)
 * @returns 32·n bytes: the encodings of 2·P₁ … 2·Pₙ
 * @example
 * ```ts
 * import { BASE_POINT, doubleAndEncodeBatch } from "./group.ts";
 * const bytes = doubleAndEncodeBatch([BASE_POINT]);
 * console.assert(bytes.join() === BASE_POINT.double().toBytes().join());
 * ```
 */
export function doubleAndEncodeBatch(points: readonly Point[]): Uint8Array {
  const n = points.length;
  const es = new Array<bigint>(n), fs = new Array<bigint>(n), gs = new Array<bigint>(n);
  const hs = new Array<bigint>(n), egs = new Array<bigint>(n), fhs = new Array<bigint>(n);
  const products = new Array<bigint>(n);
  const out = new Uint8Array(n * ELEMENT_BYTES);
  const zeroIndices: number[] = [];
  for (let i = 0; i < n; i++) {
    const { X, Y, Z, T } = extendedOf(points[i]!);
    const xx = (X * X) % P, yy = (Y * Y) % P, zz = (Z * Z) % P;
    const dtt = (((T * T) % P) * EDWARDS_D) % P;
    const e = (2n * X * Y) % P; // 2XY
    const f = fmod(zz + dtt); // Z² + d·T²
    const g = fmod(yy + xx); // Y² − a·X², a = −1
    const h = fmod(zz - dtt); // Z² − d·T²
    es[i] = e;
    fs[i] = f;
    gs[i] = g;
    hs[i] = h;
    egs[i] = (e * g) % P;
    fhs[i] = (f * h) % P;
    products[i] = (egs[i]! * fhs[i]!) % P;
    // 2·P is the identity exactly when e·g = 0 (P of order ≤ 2 in the ristretto group).
    if (products[i] === 0n) {
      zeroIndices.push(i);
      products[i] = 1n;
    }
  }
  const invs = batchInvertField(products);
  const zero = new Set(zeroIndices);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    if (zero.has(i)) continue; // the identity encodes as 32 zero bytes
    const inv = invs[i]!;
    const zInv = (egs[i]! * inv) % P;
    const tInv = (fhs[i]! * inv) % P;
    let e = es[i]!, g = gs[i]!, h = hs[i]!;
    let magic = INVSQRT_A_MINUS_D;
    if (isNegative(egs[i]! * zInv)) {
      const minusE = fmod(-e);
      e = g;
      g = minusE;
      h = (fs[i]! * SQRT_M1) % P;
      magic = SQRT_M1;
    }
    if (isNegative(((h * e) % P) * zInv)) g = fmod(-g);
    let s = fmod(((h - g) % P) * ((magic * ((g * tInv) % P)) % P));
    if (isNegative(s)) s = P - s;
    writeFieldLE(view, i * ELEMENT_BYTES, s);
  }
  return out;
}

function writeFieldLE(view: DataView, offset: number, x: bigint): void {
  view.setBigUint64(offset, x, true);
  view.setBigUint64(offset + 8, x >> 64n, true);
  view.setBigUint64(offset + 16, x >> 128n, true);
  view.setBigUint64(offset + 24, x >> 192n, true);
}
