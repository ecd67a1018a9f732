/**
 * ElGamal over ristretto255 with ciphertexts of width w ≥ 1: w independent pairs
 * (c1ₖ = g^rₖ, c2ₖ = mₖ·pk^rₖ) that a shuffle moves together. Ciphertexts keep their
 * canonical bytes (what is hashed and transmitted) and decode points lazily, once.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import type { RandomSource } from "../../core/random.ts";
import {
  BASE_POINT,
  decodePoints,
  ELEMENT_BYTES,
  fixedBase,
  multiplyPoint,
  packPoints,
  type Point,
  randomNonZeroScalar,
  randomScalars,
} from "./group.ts";

/** Largest ciphertext width accepted. */
export const MAX_WIDTH = 64;

function checkSize(bytes: Uint8Array, what: string): void {
  if (bytes.length === 0 || bytes.length % (2 * ELEMENT_BYTES) !== 0) {
    throw new InvalidInputError(
      `Ciphertext '${what}' must be a non-zero multiple of 64 bytes, got ${bytes.length}`,
    );
  }
  if (bytes.length / (2 * ELEMENT_BYTES) > MAX_WIDTH) {
    throw new InvalidInputError(`Ciphertext '${what}' is wider than ${MAX_WIDTH} elements`);
  }
}

/** An ElGamal key pair; the secret key is a scalar, the public key g^x. */
export interface KeyPair {
  /** Secret scalar x. */
  secretKey: bigint;
  /** Public key g^x. */
  publicKey: Point;
}

/**
 * An ElGamal ciphertext of width w, held as 64·w canonical bytes
 * (for each element k: c1ₖ then c2ₖ, 32 bytes each).
 *
 * @example
 * ```ts
 * import { Ciphertext, encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const { publicKey } = generateKeyPair();
 * const ct = encrypt(publicKey, [encodeInteger(1)]);
 * console.assert(Ciphertext.fromBytes(ct.bytes, "ct").width === 1);
 * ```
 */
export class Ciphertext {
  /** Canonical bytes: 64·width. */
  readonly bytes: Uint8Array;
  #points: Point[] | undefined;
  #what = "ciphertext";

  private constructor(bytes: Uint8Array, points: Point[] | undefined) {
    this.bytes = bytes;
    this.#points = points;
  }

  /**
   * Decodes and validates a ciphertext: every element canonical and not the identity.
   *
   * @param bytes 64·w bytes
   * @param what names the ciphertext in errors
   * @returns the ciphertext
   * @throws {InvalidInputError} naming the bad element
   */
  static fromBytes(bytes: Uint8Array, what: string): Ciphertext {
    checkSize(bytes, what);
    // Decoded two at a time where WebAssembly SIMD allows, errors as decodePoint's.
    const points = decodePoints(bytes, (i) => `${what}.${i % 2 === 0 ? "c1" : "c2"}[${i >> 1}]`);
    return new Ciphertext(bytes.slice(), points);
  }

  /**
   * Builds a ciphertext from its points (encodes them).
   *
   * @param c1 the g^r parts
   * @param c2 the m·pk^r parts, same length
   * @returns the ciphertext
   */
  static fromPoints(c1: readonly Point[], c2: readonly Point[]): Ciphertext {
    if (c1.length !== c2.length || c1.length === 0 || c1.length > MAX_WIDTH) {
      throw new InvalidInputError(
        `Ciphertext needs 1 to ${MAX_WIDTH} pairs, got ${c1.length} and ${c2.length}`,
      );
    }
    const points: Point[] = [];
    for (let k = 0; k < c1.length; k++) points.push(c1[k]!, c2[k]!);
    return new Ciphertext(packPoints(points), points); // encoded two at a time (SIMD)
  }

  /**
   * Wraps bytes whose size is checked now and whose elements are validated on first use
   * (decryption, re-encryption) or, for shuffles, by the prover's and verifier's workers in
   * parallel. Invalid elements then raise an error naming `what`.
   *
   * @param bytes 64·w bytes
   * @param what names the ciphertext in later errors
   * @returns the ciphertext
   * @throws {InvalidInputError} when the size is wrong
   */
  static unchecked(bytes: Uint8Array, what = "ciphertext"): Ciphertext {
    checkSize(bytes, what);
    const ct = new Ciphertext(bytes, undefined);
    ct.#what = what;
    return ct;
  }

  /** Number of group elements w. */
  get width(): number {
    return this.bytes.length / (2 * ELEMENT_BYTES);
  }

  #decoded(): Point[] {
    if (this.#points === undefined) {
      this.#points = Ciphertext.fromBytes(this.bytes, this.#what).#points!;
    }
    return this.#points;
  }

  /**
   * The g^r part of element k.
   *
   * @param k element index
   * @returns the point
   */
  c1(k: number): Point {
    return this.#decoded()[2 * k]!;
  }

  /**
   * The m·pk^r part of element k.
   *
   * @param k element index
   * @returns the point
   */
  c2(k: number): Point {
    return this.#decoded()[2 * k + 1]!;
  }
}

/**
 * Generates a single-authority key pair.
 *
 * @param random byte source (default the system CSPRNG)
 * @returns the key pair
 * @example
 * ```ts
 * import { generateKeyPair } from "./elgamal.ts";
 * const { secretKey, publicKey } = generateKeyPair();
 * console.assert(secretKey > 0n && !publicKey.is0());
 * ```
 */
export function generateKeyPair(random?: RandomSource): KeyPair {
  const secretKey = randomNonZeroScalar(random);
  return { secretKey, publicKey: fixedBase(BASE_POINT).multiply(secretKey) };
}

/** Options for {@linkcode encrypt} and {@linkcode reencrypt}. */
export interface EncryptOptions {
  /** Byte source for the randomness (default the system CSPRNG). */
  random?: RandomSource;
  /** Explicit randomness, one scalar per element (for proofs of knowledge and vectors). */
  randomness?: readonly bigint[];
}

function pickRandomness(width: number, options: EncryptOptions): readonly bigint[] {
  if (options.randomness !== undefined) {
    if (options.randomness.length !== width) {
      throw new InvalidInputError(
        `Randomness has ${options.randomness.length} scalars for ${width} elements`,
      );
    }
    return options.randomness;
  }
  return randomScalars(width, options.random);
}

function checkKey(publicKey: Point): void {
  if (publicKey.is0()) throw new InvalidInputError("Public key must not be the identity");
}

/**
 * Encrypts w messages (group elements) under one public key (c1 = g^r, c2 = m·pk^r).
 *
 * @param publicKey the public key
 * @param messages 1..64 elements (see encoding.ts to embed bytes or integers)
 * @param options randomness
 * @returns the ciphertext
 * @example
 * ```ts
 * import { decrypt, encrypt, generateKeyPair } from "./elgamal.ts";
 * import { decodeInteger, encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ct = encrypt(keys.publicKey, [encodeInteger(3)]);
 * console.assert(decodeInteger(decrypt(keys.secretKey, ct)[0]!) === 3);
 * ```
 */
export function encrypt(
  publicKey: Point,
  messages: readonly Point[],
  options: EncryptOptions = {},
): Ciphertext {
  checkKey(publicKey);
  const r = pickRandomness(messages.length, options);
  const g = fixedBase(BASE_POINT);
  const pk = fixedBase(publicKey);
  return Ciphertext.fromPoints(
    r.map((rk) => g.multiply(rk)),
    messages.map((m, k) => m.add(pk.multiply(r[k]!))),
  );
}

/**
 * Re-encrypts a ciphertext: multiplies each pair by a fresh encryption of the identity.
 *
 * @param publicKey the public key it is encrypted under
 * @param ciphertext the ciphertext
 * @param options randomness
 * @returns a new ciphertext of the same messages
 * @example
 * ```ts
 * import { decrypt, encrypt, generateKeyPair, reencrypt } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ct = reencrypt(keys.publicKey, encrypt(keys.publicKey, [encodeInteger(3)]));
 * console.assert(decrypt(keys.secretKey, ct)[0]!.equals(encodeInteger(3)));
 * ```
 */
export function reencrypt(
  publicKey: Point,
  ciphertext: Ciphertext,
  options: EncryptOptions = {},
): Ciphertext {
  checkKey(publicKey);
  const w = ciphertext.width;
  const r = pickRandomness(w, options);
  const g = fixedBase(BASE_POINT);
  const pk = fixedBase(publicKey);
  const c1: Point[] = [], c2: Point[] = [];
  for (let k = 0; k < w; k++) {
    c1.push(ciphertext.c1(k).add(g.multiply(r[k]!)));
    c2.push(ciphertext.c2(k).add(pk.multiply(r[k]!)));
  }
  return Ciphertext.fromPoints(c1, c2);
}

/**
 * Decrypts with the full secret key: mₖ = c2ₖ · c1ₖ^(−x).
 *
 * @param secretKey the secret scalar
 * @param ciphertext the ciphertext
 * @returns the w message elements
 * @example
 * ```ts
 * import { decrypt, encrypt, generateKeyPair } from "./elgamal.ts";
 * import { embedBytes, extractBytes } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ct = encrypt(keys.publicKey, [embedBytes(new Uint8Array([1, 2]))]);
 * console.assert(extractBytes(decrypt(keys.secretKey, ct)[0]!)[1] === 2);
 * ```
 */
export function decrypt(secretKey: bigint, ciphertext: Ciphertext): Point[] {
  const out: Point[] = [];
  for (let k = 0; k < ciphertext.width; k++) {
    out.push(ciphertext.c2(k).subtract(multiplyPoint(ciphertext.c1(k), secretKey)));
  }
  return out;
}
