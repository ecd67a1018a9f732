/**
 * A fast seeded pseudo-random generator for the discrete-event simulation.
 *
 * The simulation draws billions of numbers and must be reproducible from `--seed`, so it
 * uses xoshiro128** (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
 * 2021) seeded from {@linkcode seededRandom} (ChaCha20). It is NOT for cryptography: the
 * protocol code draws its delays and keys from the CSPRNG (`crypto.getRandomValues`).
 *
 * @module
 */

import { seededRandom } from "../../../core/random.ts";

/**
 * xoshiro128** over four 32-bit words: uniform doubles, integers and exponential variates.
 *
 * @example
 * ```ts
 * import { SimulationRandom } from "./prng.ts";
 * const a = new SimulationRandom("seed"), b = new SimulationRandom("seed");
 * console.assert(a.uniform() === b.uniform());
 * ```
 */
export class SimulationRandom {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /**
   * Seeds the generator.
   *
   * @param seed any text or bytes; the same seed gives the same stream
   */
  constructor(seed: string | Uint8Array) {
    const words = new Uint32Array(4);
    // The state must not be all zero; ChaCha20 output is, with probability 2^-128.
    seededRandom(seed)(new Uint8Array(words.buffer));
    if ((words[0]! | words[1]! | words[2]! | words[3]!) === 0) words[0] = 1;
    this.#s0 = words[0]!;
    this.#s1 = words[1]!;
    this.#s2 = words[2]!;
    this.#s3 = words[3]!;
  }

  /**
   * The next 32-bit output.
   *
   * @returns an integer in [0, 2^32)
   */
  nextUint32(): number {
    const s1 = this.#s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /**
   * A uniform double with 53 random bits.
   *
   * @returns a number in [0, 1)
   */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /**
   * A uniform integer below `n` (n ≤ 2^32; the bias is below 2^-21 for n ≤ 2^32 / 2^21).
   *
   * @param n number of outcomes
   * @returns an integer in [0, n)
   */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /**
   * An exponential variate: the gap between events of a Poisson process.
   *
   * @param rate events per unit of time (> 0)
   * @returns a positive number with mean 1 / rate
   */
  exponential(rate: number): number {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    return -Math.log(1 - this.uniform()) / rate;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
