/**
 * The hash family of optimized local hashing (OLH). Each report carries a fresh
 * 16-byte seed; the seed keys BLAKE2s (RFC 7693, keyed mode) over the label
 * "panoramix/survey/olh-hash/v1", whose 8-byte output gives the coefficients
 * (a, b) of a Carter–Wegman hash h(v) = ((a·v + b) mod P) mod g with P = 2^31 − 1.
 *
 * Why this shape: OLH needs Pr[h(v) = h(v')] = 1/g for v ≠ v' over the seed
 * (Wang et al. 2017 §4.4); the Carter–Wegman family gives that up to O(1/P).
 * The aggregator must evaluate h for every v of every report; after one BLAKE2s
 * call the whole row costs one addition and two reductions per value, which is
 * what keeps OLH ingest fast. All products stay below 2^53 (a < 2^31, v < 2^22).
 *
 * @module
 */

import { blake2s } from "@noble/hashes/blake2.js";

/** Domain-separation label of the OLH hash (keyed by the per-report seed). */
export const OLH_HASH_LABEL = "panoramix/survey/olh-hash/v1";

/** The Mersenne prime 2^31 − 1 of the Carter–Wegman family. */
export const OLH_PRIME = 2147483647;

const LABEL_BYTES = new TextEncoder().encode(OLH_HASH_LABEL);

/** Coefficients (a, b) of one report's hash function. */
export interface OlhHashKey {
  /** Multiplier in [1, P). */
  a: number;
  /** Offset in [0, P). */
  b: number;
}

/**
 * Derives a report's hash coefficients from its seed.
 *
 * @param seed the per-report seed (16 bytes)
 * @returns the coefficients
 * @example
 * ```ts
 * import { olhHashKey } from "./olh_hash.ts";
 * const key = olhHashKey(new Uint8Array(16));
 * console.assert(key.a >= 1 && key.b >= 0);
 * ```
 */
export function olhHashKey(seed: Uint8Array): OlhHashKey {
  // Keyed BLAKE2s (RFC 7693 §2.9 key block) of the label, 8-byte output.
  const out = blake2s(LABEL_BYTES, { key: seed, dkLen: 8 });
  const view = new DataView(out.buffer, out.byteOffset, 8);
  return {
    a: 1 + (view.getUint32(0, true) % (OLH_PRIME - 1)),
    b: view.getUint32(4, true) % OLH_PRIME,
  };
}

/**
 * The hash of one value: ((a·v + b) mod P) mod g.
 *
 * @param key the report's coefficients
 * @param options the value `v` (< 2^22) and hash range `g`
 * @returns h(v) in [0, g)
 * @example
 * ```ts
 * import { olhHash } from "./olh_hash.ts";
 * console.assert(olhHash({ a: 3, b: 5 }, { v: 2, g: 7 }) === 4);
 * ```
 */
export function olhHash(key: OlhHashKey, options: { v: number; g: number }): number {
  return ((key.a * options.v + key.b) % OLH_PRIME) % options.g;
}

/**
 * Adds one to `support[v]` for every v in [0, k) with h(v) = y: the aggregator's
 * per-report work, O(k) additions.
 *
 * @param key the report's coefficients
 * @param options reported `y`, hash range `g` and the `support` counters (length k)
 * @example
 * ```ts
 * import { olhAddSupport } from "./olh_hash.ts";
 * const support = new Float64Array(3);
 * olhAddSupport({ a: 1, b: 0 }, { y: 1, g: 2, support });
 * console.assert(support.join() === "0,1,0");
 * ```
 */
export function olhAddSupport(
  key: OlhHashKey,
  options: { y: number; g: number; support: Float64Array },
): void {
  const { y, g, support } = options;
  // Walk x = (a·v + b) mod P and r = x mod g together with additions only:
  // x += a (minus P on wrap-around), r += a mod g (minus P mod g on wrap-around).
  const aModG = key.a % g;
  const pModG = OLH_PRIME % g;
  let x = key.b;
  let r = x % g;
  for (let v = 0; v < support.length; v++) {
    if (r === y) support[v]!++;
    x += key.a;
    r += aModG;
    if (x >= OLH_PRIME) {
      x -= OLH_PRIME;
      r -= pModG;
      if (r < 0) r += g;
    }
    if (r >= g) r -= g;
  }
}
