/**
 * Blocks of a long Fiat–Shamir challenge (docs/transcript.md): a challenge of more than 64
 * bytes is SHA-512(S ‖ u32be(0)) ‖ SHA-512(S ‖ u32be(1)) ‖ … from its seed S
 * (`Transcript.challengeSeed`). The blocks are independent, so workers can expand the parts
 * they need.
 *
 * @module
 */

import { expandSha512At } from "./sha512_wasm.ts";

/**
 * Blocks `from`..`from+count−1` of a long challenge (docs/transcript.md): block i is
 * SHA-512(seed || u32be(i)), 64 bytes. Blocks are independent, so workers can expand parts.
 *
 * @param seed the challenge's seed (`Transcript.challengeSeed`)
 * @param from first block
 * @param count number of blocks
 * @returns 64·count bytes
 * @example
 * ```ts
 * import { expandChallenge } from "./challenge_blocks.ts";
 * const seed = new Uint8Array(64);
 * console.assert(expandChallenge(seed, 1, 1).join() === expandChallenge(seed, 0, 2).subarray(64).join());
 * ```
 */
export function expandChallenge(seed: Uint8Array, from: number, count: number): Uint8Array {
  return expandSha512At(seed, Uint32Array.from({ length: count }, (_, k) => from + k));
}

/**
 * Blocks of a long challenge at chosen indices: block `indices[k]` (see
 * {@linkcode expandChallenge}) at offset 64·k, e.g. the challenges of a permuted batch.
 *
 * @param seed the challenge's seed (`Transcript.challengeSeed`)
 * @param indices block indices (each below 2^32)
 * @returns 64·indices.length bytes
 * @example
 * ```ts
 * import { expandChallenge, expandChallengeAt } from "./challenge_blocks.ts";
 * const seed = new Uint8Array(64);
 * console.assert(expandChallengeAt(seed, [2]).join() === expandChallenge(seed, 2, 1).join());
 * ```
 */
export function expandChallengeAt(seed: Uint8Array, indices: ArrayLike<number>): Uint8Array {
  return expandSha512At(seed, indices);
}
