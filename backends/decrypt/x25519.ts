/**
 * X25519 for Sphinx: three engines with identical results (WebAssembly, ./x25519_wasm.ts, by
 * default; WebCrypto `crypto.subtle` X25519 where WebAssembly is refused; `@noble/curves`
 * otherwise) and the scalar arithmetic that reconciles Sphinx blinding with X25519 clamping.
 *
 * Why the re-encoding: Sphinx header creation in O(n) (Danezis & Goldberg 2009, §3.2)
 * multiplies the blinding factors into one scalar e_i = x·b_0·…·b_{i-1} mod ℓ and then
 * computes α_i = e_i·G and s_i = e_i·Y_i directly. X25519 clamps its scalar input
 * (RFC 7748 §5), so e_i cannot be passed as is. Every point we multiply lies in the
 * prime-order subgroup, where c·P depends only on c mod ℓ, and the u-coordinate of −P
 * equals that of P. So we look for c ≡ ±e_i (mod ℓ) that is already a clamped scalar
 * (c = 8m, 2^254 ≤ c < 2^255); one of ±e_i always has such a representative except
 * with probability about 2^-125. Nodes keep using plain X25519 with clamped secrets and
 * blinding factors, so both sides compute the same points.
 *
 * @module
 */

import { x25519 as nobleX25519 } from "@noble/curves/ed25519.js";
import { VerificationError } from "../../core/errors.ts";
import {
  wasmX25519Available,
  x25519Wasm,
  x25519WasmBase,
  x25519WasmBasePair,
  x25519WasmMany,
} from "./x25519_wasm.ts";

/** Byte length of X25519 scalars, u-coordinates and shared secrets (RFC 7748 §5). */
export const X25519_SIZE = 32;

/** Order ℓ of the prime-order subgroup of Curve25519 (RFC 7748 §4.1). */
export const CURVE25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

// The base point u = 9 (RFC 7748 §4.1).
const BASE_U = new Uint8Array(32);
BASE_U[0] = 9;
// PKCS#8 prefix of an X25519 private key (RFC 8410 §7): the raw 32-byte scalar follows.
const PKCS8_X25519_PREFIX = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/** One implementation of X25519 scalar multiplication. */
export interface SphinxX25519 {
  /** "wasm", "webcrypto", "noble" or "wasm+<engine>" ({@linkcode withWasmFixedBase}). */
  readonly name: string;
  /**
   * Computes X25519(scalar, u) (RFC 7748 §5, clamping the scalar).
   *
   * @param scalar 32-byte scalar
   * @param u 32-byte u-coordinate
   * @returns the 32-byte u-coordinate of the product
   * @throws {VerificationError} when the result is the all-zero point (low-order input)
   */
  scalarMult(scalar: Uint8Array, u: Uint8Array): Promise<Uint8Array>;
  /**
   * Computes X25519(scalar, 9), the public key of a scalar.
   *
   * @param scalar 32-byte scalar
   * @returns the 32-byte u-coordinate
   */
  scalarMultBase(scalar: Uint8Array): Promise<Uint8Array>;
  /**
   * Like `scalarMult` for a long-lived secret (a node key): the engine may cache
   * per-scalar state keyed by the array object.
   *
   * @param scalar 32-byte long-lived scalar
   * @param u 32-byte u-coordinate
   * @returns the 32-byte u-coordinate of the product
   */
  scalarMultLongLived(scalar: Uint8Array, u: Uint8Array): Promise<Uint8Array>;
  /**
   * Both X25519(scalar, 9) and X25519(scalar, u) (Sphinx header creation needs α_i and s_i
   * for the same scalar); engines without it get two calls.
   *
   * @param scalar 32-byte scalar
   * @param u 32-byte u-coordinate (a node's public key)
   * @returns [X25519(scalar, 9), X25519(scalar, u)]
   * @throws {VerificationError} when the second result is zero (low-order u)
   */
  scalarMultPair?(scalar: Uint8Array, u: Uint8Array): Promise<[Uint8Array, Uint8Array]>;
  /**
   * X25519(scalars[i], points[i]) for a batch (a node unwrapping many packets): engines
   * may share work across the batch; engines without it get one call each.
   *
   * @param scalars 32-byte scalars
   * @param points 32-byte u-coordinates, one per scalar
   * @returns each result, or a {@linkcode VerificationError} where it is zero (low order)
   */
  scalarMultMany?(
    scalars: readonly Uint8Array[],
    points: readonly Uint8Array[],
  ): Promise<(Uint8Array | VerificationError)[]>;
}

function lowOrder(cause?: unknown): VerificationError {
  return new VerificationError(
    "X25519 result 'shared secret' is zero: the group element has low order",
    cause === undefined ? {} : { cause },
  );
}

function isZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/**
 * The `@noble/curves` engine: synchronous JavaScript, available everywhere.
 *
 * @example
 * ```ts
 * import { nobleSphinxX25519 } from "./x25519.ts";
 * const pub = await nobleSphinxX25519.scalarMultBase(new Uint8Array(32).fill(7));
 * console.assert(pub.length === 32);
 * ```
 */
export const nobleSphinxX25519: SphinxX25519 = {
  name: "noble",
  scalarMult: (scalar, u) => {
    try {
      // noble rejects low-order u before the ladder; WebCrypto returns an error on the zero result.
      return Promise.resolve(nobleX25519.scalarMult(scalar, u));
    } catch (error) {
      return Promise.reject(lowOrder(error));
    }
  },
  scalarMultBase: (scalar) => Promise.resolve(nobleX25519.scalarMultBase(scalar)),
  scalarMultLongLived: (scalar, u) => nobleSphinxX25519.scalarMult(scalar, u),
};

// Imported keys, cached per array object: node keys and directory public keys are reused for
// every packet, and a scalar or α used twice in one step is imported once. Arrays handed to
// the engine must not be modified afterwards.
const privateKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
const publicKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function importPrivate(scalar: Uint8Array): Promise<CryptoKey> {
  let key = privateKeys.get(scalar);
  if (key === undefined) {
    const der = new Uint8Array(PKCS8_X25519_PREFIX.length + X25519_SIZE);
    der.set(PKCS8_X25519_PREFIX);
    der.set(scalar, PKCS8_X25519_PREFIX.length);
    key = crypto.subtle.importKey("pkcs8", der, { name: "X25519" }, false, ["deriveBits"]);
    privateKeys.set(scalar, key);
  }
  return key;
}

function importPublic(u: Uint8Array): Promise<CryptoKey> {
  let key = publicKeys.get(u);
  if (key === undefined) {
    key = crypto.subtle.importKey("raw", u.slice(), { name: "X25519" }, false, []);
    publicKeys.set(u, key);
  }
  return key;
}

async function webCryptoScalarMult(scalar: Uint8Array, u: Uint8Array): Promise<Uint8Array> {
  let out: Uint8Array;
  try {
    const [priv, pub] = await Promise.all([importPrivate(scalar), importPublic(u)]);
    out = new Uint8Array(
      await crypto.subtle.deriveBits({ name: "X25519", public: pub }, priv, 256),
    );
  } catch (error) {
    throw lowOrder(error);
  }
  if (isZero(out)) throw lowOrder();
  return out;
}

/**
 * The WebCrypto engine (`crypto.subtle` X25519, native in Deno, Node and recent browsers).
 * Use {@linkcode sphinxX25519} to pick it only where it works.
 *
 * @example
 * ```ts
 * import { nobleSphinxX25519, webCryptoSphinxX25519 } from "./x25519.ts";
 * const k = new Uint8Array(32).fill(7);
 * const a = await webCryptoSphinxX25519.scalarMultBase(k);
 * const b = await nobleSphinxX25519.scalarMultBase(k);
 * console.assert(a.join() === b.join());
 * ```
 */
export const webCryptoSphinxX25519: SphinxX25519 = {
  name: "webcrypto",
  scalarMult: webCryptoScalarMult,
  scalarMultBase: (scalar) => webCryptoScalarMult(scalar, BASE_U),
  scalarMultLongLived: webCryptoScalarMult,
};

// Runs a synchronous engine step as a promise, rejections included.
function settle<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (error) {
    return Promise.reject(error);
  }
}

function nonZero(out: Uint8Array | undefined): Uint8Array {
  if (out === undefined || isZero(out)) throw lowOrder();
  return out;
}

/**
 * The WebAssembly engine (./x25519_wasm.ts): a Montgomery ladder for variable points and a
 * fixed-base table multiplication for the base point and for node keys used repeatedly.
 * Synchronous underneath; available where WebAssembly compiles.
 *
 * @example
 * ```ts
 * import { nobleSphinxX25519, wasmSphinxX25519 } from "./x25519.ts";
 * const k = new Uint8Array(32).fill(7);
 * const a = await wasmSphinxX25519.scalarMultBase(k);
 * console.assert(a.join() === (await nobleSphinxX25519.scalarMultBase(k)).join());
 * ```
 */
export const wasmSphinxX25519: SphinxX25519 = {
  name: "wasm",
  scalarMult: (scalar, u) => settle(() => nonZero(x25519Wasm(scalar, u))),
  scalarMultBase: (scalar) => settle(() => x25519WasmBase(scalar)),
  scalarMultLongLived: (scalar, u) => settle(() => nonZero(x25519Wasm(scalar, u))),
  scalarMultMany: (scalars, points) =>
    settle(() =>
      x25519WasmMany(scalars, points).map((out) => out === undefined ? lowOrder() : out)
    ),
  scalarMultPair: (scalar, u) =>
    settle(() => {
      const pair = x25519WasmBasePair(scalar, u);
      if (pair !== undefined) return [pair[0], nonZero(pair[1])];
      return [x25519WasmBase(scalar), nonZero(x25519Wasm(scalar, u))];
    }),
};

/**
 * An engine that multiplies the base point (and tabulated node keys) in WebAssembly and
 * every other point with `variable`: header creation mostly runs on precomputed tables,
 * unwrapping on the engine that is fastest for one-off points.
 *
 * @param variable the engine for points without a table
 * @returns the combined engine, named "wasm+<variable>"
 * @example
 * ```ts
 * import { webCryptoSphinxX25519, withWasmFixedBase } from "./x25519.ts";
 * console.assert(withWasmFixedBase(webCryptoSphinxX25519).name === "wasm+webcrypto");
 * ```
 */
export function withWasmFixedBase(variable: SphinxX25519): SphinxX25519 {
  return {
    name: `wasm+${variable.name}`,
    scalarMult: variable.scalarMult,
    scalarMultLongLived: variable.scalarMultLongLived,
    scalarMultBase: wasmSphinxX25519.scalarMultBase,
    scalarMultPair: async (scalar, u) => {
      const pair = x25519WasmBasePair(scalar, u);
      if (pair !== undefined) return [pair[0], nonZero(pair[1])];
      // α_i from the base table, s_i from the variable-point engine.
      const secret = variable.scalarMult(scalar, u);
      return [x25519WasmBase(scalar), await secret];
    },
  };
}

let selected: Promise<SphinxX25519> | undefined;

// Whether an engine agrees with noble bit for bit on fixed inputs (every method).
async function agreesWithNoble(engine: SphinxX25519): Promise<boolean> {
  try {
    const k = new Uint8Array(32).fill(0x5a);
    const u = nobleX25519.scalarMultBase(new Uint8Array(32).fill(0xa5));
    const same = (a: Uint8Array, b: Uint8Array) =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    const mult = nobleX25519.scalarMult(k, u), base = nobleX25519.scalarMultBase(k);
    const checks: [Uint8Array, Uint8Array][] = [
      [await engine.scalarMult(k, u), mult],
      [await engine.scalarMultBase(k), base],
    ];
    if (engine.scalarMultPair !== undefined) {
      const [alpha, secret] = await engine.scalarMultPair(k, u);
      checks.push([alpha, base], [secret, mult]);
    }
    return checks.every(([got, want]) => same(got, want));
  } catch {
    return false;
  }
}

async function probe(): Promise<SphinxX25519> {
  if (wasmX25519Available() && await agreesWithNoble(wasmSphinxX25519)) return wasmSphinxX25519;
  const webCrypto = typeof crypto !== "undefined" && crypto.subtle !== undefined &&
    await agreesWithNoble(webCryptoSphinxX25519);
  return webCrypto ? webCryptoSphinxX25519 : nobleSphinxX25519;
}

/**
 * The default engine, each candidate admitted only if it agrees with noble on a self-test:
 * WebAssembly ("wasm": synchronous, batched, fixed-base tables; as fast as Deno's native
 * WebCrypto X25519 per variable-point multiplication and much faster for header creation),
 * else WebCrypto, else noble.
 *
 * @returns the engine, chosen once per process
 * @example
 * ```ts
 * import { sphinxX25519 } from "./x25519.ts";
 * const engine = await sphinxX25519();
 * console.assert(["wasm", "webcrypto", "noble"].includes(engine.name));
 * ```
 */
export function sphinxX25519(): Promise<SphinxX25519> {
  selected ??= probe();
  return selected;
}

/**
 * Reads 32 bytes as an X25519 scalar after clamping (RFC 7748 §5 decodeScalar25519).
 *
 * @param bytes 32-byte scalar
 * @returns the clamped scalar as an integer
 * @example
 * ```ts
 * import { clampedScalar } from "./x25519.ts";
 * console.assert(clampedScalar(new Uint8Array(32)) === 2n ** 254n);
 * ```
 */
export function clampedScalar(bytes: Uint8Array): bigint {
  // Little-endian bytes read through one hex string (one bigint, not 32 intermediate ones).
  let hex = "0x";
  for (let i = 31; i >= 0; i--) hex += HEX[bytes[i]!];
  let n = BigInt(hex);
  n &= ~7n; // clear the three low bits (cofactor 8)
  n &= (1n << 255n) - 1n; // clear bit 255
  n |= 1n << 254n; // set bit 254
  return n;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

function modOrder(n: bigint): bigint {
  const r = n % CURVE25519_ORDER;
  return r < 0n ? r + CURVE25519_ORDER : r;
}

function invertOrder(n: bigint): bigint {
  // Fermat: n^(ℓ-2) mod ℓ; ℓ is prime.
  let result = 1n, base = modOrder(n), exp = CURVE25519_ORDER - 2n;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % CURVE25519_ORDER;
    base = (base * base) % CURVE25519_ORDER;
    exp >>= 1n;
  }
  return result;
}

const INV8 = invertOrder(8n);
const M_LOW = 1n << 251n;
const M_HIGH = 1n << 252n;

/**
 * Multiplies two scalars modulo ℓ (accumulating Sphinx blinding factors, D&G 2009 §3.2).
 *
 * @param a first scalar
 * @param b second scalar
 * @returns a·b mod ℓ
 * @example
 * ```ts
 * import { mulScalars } from "./x25519.ts";
 * console.assert(mulScalars(3n, 5n) === 15n);
 * ```
 */
export function mulScalars(a: bigint, b: bigint): bigint {
  return modOrder(a * b);
}

/**
 * Encodes a scalar e mod ℓ as 32 bytes c that X25519 leaves unchanged when clamping,
 * with c ≡ ±e (mod ℓ): X25519(c, u) is then the u-coordinate of e·P for any P of order ℓ.
 *
 * @param e scalar modulo ℓ, non-zero
 * @returns the 32-byte little-endian clamped representative
 * @throws {VerificationError} in the negligible case (probability ≈ 2^-125) where neither
 *   sign has a clamped representative
 * @example
 * ```ts
 * import { clampedScalar, encodeClampedScalar } from "./x25519.ts";
 * const c = encodeClampedScalar(12345n);
 * console.assert(clampedScalar(c) % 8n === 0n);
 * ```
 */
export function encodeClampedScalar(e: bigint): Uint8Array {
  // c = 8m with 2^251 ≤ m < 2^252 is a fixed point of clamping.
  let m = modOrder(modOrder(e) * INV8);
  if (m < M_LOW || m >= M_HIGH) m = CURVE25519_ORDER - m; // u(−P) = u(P)
  if (m < M_LOW || m >= M_HIGH) {
    throw new VerificationError(
      "Scalar 'e' has no clamped representative; retry with new randomness",
    );
  }
  // c = 8m < 2^255 as 32 little-endian bytes, through one hex string.
  const hex = (m * 8n).toString(16).padStart(64, "0");
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(62 - 2 * i, 64 - 2 * i), 16);
  return out;
}

/**
 * Checks that 32 bytes are a canonical u-coordinate: top bit clear and below 2^255 − 19.
 * Rejecting other encodings makes every group element have one byte form on the wire.
 *
 * @param u 32 bytes
 * @returns true when canonical
 * @example
 * ```ts
 * import { isCanonicalU } from "./x25519.ts";
 * console.assert(isCanonicalU(new Uint8Array(32).fill(0)));
 * console.assert(!isCanonicalU(new Uint8Array(32).fill(255)));
 * ```
 */
export function isCanonicalU(u: Uint8Array): boolean {
  if (u.length !== X25519_SIZE || u[31]! > 0x7f) return false;
  if (u[31]! < 0x7f || u[0]! < 0xed) return true;
  // Top byte 0x7f and low byte ≥ 0xed: canonical only if some middle byte is below 0xff.
  for (let i = 1; i < 31; i++) if (u[i]! !== 0xff) return true;
  return false;
}
