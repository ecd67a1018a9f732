/**
 * Loopix-style per-hop delays (Piotrowska et al., "The Loopix Anonymity System", USENIX
 * Security 2017, §4.2): the sender draws each hop's delay from an exponential
 * distribution, so each mix behaves as a continuous-time (memoryless) mix.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { type RandomSource, systemRandom } from "../../core/random.ts";
import { SPHINX_MAX_DELAY_MS } from "./command.ts";

/**
 * Draws one exponential delay with the given mean, in whole milliseconds.
 * Uses 53 random bits: u ∈ (0, 1], delay = −mean · ln u, capped at the u32 maximum.
 *
 * @param meanMs mean delay in milliseconds (≥ 0)
 * @param random randomness (default the system CSPRNG)
 * @returns the delay in milliseconds
 * @throws {InvalidInputError} on a negative or non-finite mean
 * @example
 * ```ts
 * import { seededRandom } from "../../core/random.ts";
 * import { sphinxExponentialDelayMs } from "./delay.ts";
 * console.assert(sphinxExponentialDelayMs(100, seededRandom("d")) >= 0);
 * ```
 */
export function sphinxExponentialDelayMs(
  meanMs: number,
  random: RandomSource = systemRandom,
): number {
  if (!Number.isFinite(meanMs) || meanMs < 0) {
    throw new InvalidInputError(`Mean delay 'meanMs' must be a finite number ≥ 0, got ${meanMs}`);
  }
  const bytes = new Uint8Array(8);
  random(bytes);
  const view = new DataView(bytes.buffer);
  // 53 uniform bits → an integer in [0, 2^53); +1 shifts to (0, 2^53] so ln never sees 0.
  const k = (view.getUint32(0) >>> 11) * 2 ** 32 + view.getUint32(4);
  const u = (k + 1) / 2 ** 53;
  return Math.min(SPHINX_MAX_DELAY_MS, Math.round(-meanMs * Math.log(u)));
}

/**
 * Draws independent exponential delays for each hop of a route.
 *
 * @param hops number of hops
 * @param options mean delay and randomness
 * @returns one delay per hop, in milliseconds
 * @example
 * ```ts
 * import { sphinxRouteDelaysMs } from "./delay.ts";
 * console.assert(sphinxRouteDelaysMs(3, { meanMs: 50 }).length === 3);
 * ```
 */
export function sphinxRouteDelaysMs(
  hops: number,
  options: { meanMs: number; random?: RandomSource },
): number[] {
  const out: number[] = [];
  for (let i = 0; i < hops; i++) out.push(sphinxExponentialDelayMs(options.meanMs, options.random));
  return out;
}
