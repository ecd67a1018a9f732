/**
 * Independent generators for Pedersen commitments, derived by hash-to-curve
 * (RFC 9380 `hash_to_ristretto255`, expand_message_xmd with SHA-512) so that nobody
 * knows their discrete logarithms. Generator i is
 * `hash_to_ristretto255(msg = u32be(i), DST = "panoramix/reencrypt/generators/v1")`;
 * index 0 is the commitment base h, indices 1..N are h₁..h_N.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { encodePoint, hashToPoint, packPoints, type Point } from "./group.ts";

/** Public domain-separation tag of the generator derivation. */
export const GENERATORS_LABEL = "panoramix/reencrypt/generators/v1";

const DST = new TextEncoder().encode(GENERATORS_LABEL);
const cache: Point[] = [];
const encodedCache: Uint8Array[] = [];

/**
 * Generators below this index are kept as points once derived; higher ones are derived
 * each time (large batches keep them as 32-byte encodings instead, see
 * {@linkcode deriveGeneratorBytes}: no O(N) point objects per thread, issue 17).
 */
export const GENERATOR_POINT_CACHE = 4096;

/**
 * Generator number `index` (0 is h, 1..N are h₁..h_N); cached per thread below
 * {@linkcode GENERATOR_POINT_CACHE}.
 *
 * @param index a non-negative integer below 2^32
 * @returns the generator
 * @example
 * ```ts
 * import { generator } from "./generators.ts";
 * console.assert(!generator(1).equals(generator(2)));
 * ```
 */
export function generator(index: number): Point {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new InvalidInputError(`Generator index '${index}' must be an integer in [0, 2^32)`);
  }
  let g = cache[index];
  if (g === undefined) {
    const msg = new Uint8Array(4);
    new DataView(msg.buffer).setUint32(0, index);
    g = hashToPoint(msg, DST);
    if (index < GENERATOR_POINT_CACHE) cache[index] = g;
  }
  return g;
}

/**
 * Encodings of generators `from`..`from + count − 1`, derived afresh (not cached): what a
 * worker computes once per position for a process-wide compact cache of 32 bytes each.
 *
 * @param from first index
 * @param count how many
 * @returns 32·count bytes
 * @example
 * ```ts
 * import { deriveGeneratorBytes, generatorBytes } from "./generators.ts";
 * const two = deriveGeneratorBytes(1, 2);
 * console.assert(two.subarray(32).every((b, i) => b === generatorBytes(2)[i]));
 * ```
 */
export function deriveGeneratorBytes(from: number, count: number): Uint8Array {
  // Encoded two at a time in WebAssembly (packPoints), not by @noble/curves' bigint code.
  return packPoints(Array.from({ length: count }, (_, i) => generator(from + i)));
}

/**
 * Canonical encoding of generator `index` (cached).
 *
 * @param index generator index
 * @returns 32 bytes
 * @example
 * ```ts
 * import { generatorBytes } from "./generators.ts";
 * console.assert(generatorBytes(0).length === 32);
 * ```
 */
export function generatorBytes(index: number): Uint8Array {
  let b = encodedCache[index];
  if (b === undefined) {
    b = encodePoint(generator(index));
    if (index < GENERATOR_POINT_CACHE) encodedCache[index] = b;
  }
  return b;
}
