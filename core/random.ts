/**
 * Sources of randomness. Production code uses {@linkcode systemRandom}
 * (`crypto.getRandomValues`); {@linkcode seededRandom} gives a reproducible
 * ChaCha20 stream for test vectors and simulations only.
 *
 * @module
 */

import { chacha20 } from "@noble/ciphers/chacha.js";
import { sha256 } from "@noble/hashes/sha2.js";

/** Fills the given array with random bytes. */
export type RandomSource = (out: Uint8Array) => void;

const GET_RANDOM_VALUES_LIMIT = 65536;

/**
 * The platform CSPRNG (`crypto.getRandomValues`), for any length.
 *
 * @param out array to fill
 * @example
 * ```ts
 * import { systemRandom } from "./random.ts";
 * const key = new Uint8Array(32);
 * systemRandom(key);
 * ```
 */
export const systemRandom: RandomSource = (out) => {
  for (let i = 0; i < out.length; i += GET_RANDOM_VALUES_LIMIT) {
    crypto.getRandomValues(out.subarray(i, i + GET_RANDOM_VALUES_LIMIT));
  }
};

/**
 * A deterministic random source: the ChaCha20 keystream under SHA-256(label "panoramix/seeded-random/v1" || seed).
 * Only for reproducible test vectors and simulations; never for real keys.
 *
 * @param seed any bytes or text
 * @returns a random source that yields the same stream for the same seed
 * @example
 * ```ts
 * import { seededRandom } from "./random.ts";
 * const a = new Uint8Array(8), b = new Uint8Array(8);
 * seededRandom("x")(a);
 * seededRandom("x")(b);
 * console.assert(a.join() === b.join());
 * ```
 */
export function seededRandom(seed: Uint8Array | string): RandomSource {
  const seedBytes = typeof seed === "string" ? new TextEncoder().encode(seed) : seed;
  const label = new TextEncoder().encode("panoramix/seeded-random/v1");
  const material = new Uint8Array(label.length + seedBytes.length);
  material.set(label);
  material.set(seedBytes, label.length);
  const key = sha256(material);
  const nonce = new Uint8Array(12);
  let counter = 0;
  return (out) => {
    // Each call consumes whole 64-byte blocks so the stream position is exact.
    const blocks = Math.ceil(out.length / 64);
    const stream = chacha20(key, nonce, new Uint8Array(blocks * 64), undefined, counter);
    counter += blocks;
    out.set(stream.subarray(0, out.length));
  };
}

/**
 * Returns `length` fresh random bytes.
 *
 * @param length number of bytes
 * @param random source to draw from (default the system CSPRNG)
 * @returns new array of random bytes
 * @example
 * ```ts
 * import { randomBytes } from "./random.ts";
 * console.assert(randomBytes(16).length === 16);
 * ```
 */
export function randomBytes(length: number, random: RandomSource = systemRandom): Uint8Array {
  const out = new Uint8Array(length);
  random(out);
  return out;
}
