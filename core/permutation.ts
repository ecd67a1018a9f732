/**
 * Unbiased random permutations: Fisher–Yates (Knuth, TAOCP vol. 2, Algorithm P)
 * driven by rejection-sampled 32-bit integers from a CSPRNG.
 *
 * A permutation `pi` maps output position `i` to input position `pi[i]`:
 * `outputs[i] = inputs[pi[i]]`.
 *
 * @module
 */

import { InvalidInputError } from "./errors.ts";
import { type RandomSource, systemRandom } from "./random.ts";

const BUFFER_WORDS = 4096;

/**
 * Draws uniform integers below a bound by rejection sampling on 32-bit words,
 * buffering random bytes to amortise CSPRNG calls.
 *
 * @example
 * ```ts
 * import { UniformIntegers } from "./permutation.ts";
 * const draw = new UniformIntegers();
 * const x = draw.below(6);
 * console.assert(x >= 0 && x < 6);
 * ```
 */
export class UniformIntegers {
  #random: RandomSource;
  #words = new Uint32Array(BUFFER_WORDS);
  #next = BUFFER_WORDS;

  /**
   * Creates a sampler over a byte source.
   *
   * @param random byte source (default the system CSPRNG)
   */
  constructor(random: RandomSource = systemRandom) {
    this.#random = random;
  }

  #word(): number {
    if (this.#next === BUFFER_WORDS) {
      this.#random(new Uint8Array(this.#words.buffer));
      this.#next = 0;
    }
    return this.#words[this.#next++]!;
  }

  /**
   * A uniform integer in [0, bound).
   *
   * @param bound exclusive upper bound, 1 ≤ bound ≤ 2^32
   * @returns the integer
   */
  below(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > 2 ** 32) {
      throw new InvalidInputError(`Bound '${bound}' must be an integer in [1, 2^32]`);
    }
    // Reject the top partial range so every residue is equally likely.
    const limit = 2 ** 32 - (2 ** 32 % bound);
    for (;;) {
      const w = this.#word();
      if (w < limit) return w % bound;
    }
  }
}

/**
 * A uniformly random permutation of `n` positions.
 *
 * @param n number of positions
 * @param random byte source (default the system CSPRNG)
 * @returns `pi` with `outputs[i] = inputs[pi[i]]`
 * @example
 * ```ts
 * import { randomPermutation } from "./permutation.ts";
 * const pi = randomPermutation(5);
 * console.assert([...pi].sort().join() === "0,1,2,3,4");
 * ```
 */
export function randomPermutation(n: number, random: RandomSource = systemRandom): Uint32Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 32) {
    throw new InvalidInputError(`Permutation size '${n}' must be an integer in [0, 2^32]`);
  }
  const pi = new Uint32Array(n);
  for (let i = 0; i < n; i++) pi[i] = i;
  const draw = new UniformIntegers(random);
  for (let i = n - 1; i > 0; i--) {
    const j = draw.below(i + 1);
    const tmp = pi[i]!;
    pi[i] = pi[j]!;
    pi[j] = tmp;
  }
  return pi;
}

/**
 * Reorders items by a permutation: `result[i] = items[pi[i]]`.
 *
 * @param items the items
 * @param pi a permutation of the same length
 * @returns the reordered copy
 * @example
 * ```ts
 * import { applyPermutation } from "./permutation.ts";
 * console.assert(applyPermutation(["a", "b"], new Uint32Array([1, 0])).join() === "b,a");
 * ```
 */
export function applyPermutation<T>(items: readonly T[], pi: Uint32Array): T[] {
  if (items.length !== pi.length) {
    throw new InvalidInputError(
      `Permutation of length ${pi.length} cannot reorder ${items.length} items`,
    );
  }
  const out = new Array<T>(items.length);
  for (let i = 0; i < pi.length; i++) out[i] = items[pi[i]!]!;
  return out;
}

/**
 * The inverse permutation: `inverse[pi[i]] = i`.
 *
 * @param pi a permutation
 * @returns its inverse
 * @example
 * ```ts
 * import { invertPermutation } from "./permutation.ts";
 * console.assert(invertPermutation(new Uint32Array([2, 0, 1])).join() === "1,2,0");
 * ```
 */
export function invertPermutation(pi: Uint32Array): Uint32Array {
  const inverse = new Uint32Array(pi.length);
  for (let i = 0; i < pi.length; i++) inverse[pi[i]!] = i;
  return inverse;
}
