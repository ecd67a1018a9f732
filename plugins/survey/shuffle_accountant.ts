/**
 * Privacy amplification by shuffling: the central (ε, δ) that shuffling the
 * reports of n users, each ε0-LDP, gives against the analyst who sees only the
 * shuffled multiset.
 *
 * Method (Feldman, McMillan, Talwar, "Hiding Among the Clones", FOCS 2021, and
 * "Stronger Privacy Amplification by Shuffling", SODA 2023): every other user's
 * report is, with probability `pClone`, a "clone" of the target user's report on
 * x⁰ or x¹ (half each). The shuffled output is then a post-processing of
 *
 * - P = (A + Δ, C − A + 1 − Δ) versus Q = (A + 1 − Δ, C − A + Δ), with
 * - C ~ Bin(n − 1, pClone), A | C ~ Bin(C, 1/2), Δ ~ Bern(e^ε0 / (e^ε0 + 1)),
 *
 * so the shuffle is (ε, δ)-DP with δ = D_{e^ε}(P ‖ Q) (the hockey-stick
 * divergence). P and Q are mirror images (swap the two coordinates), so
 * D(P‖Q) = D(Q‖P) and one direction suffices.
 *
 * Numerical procedure (ours, documented in docs/survey.md):
 * 1. Conditional on C = c the likelihood ratio P/Q at first coordinate a is
 *    increasing in a/(c+1), so the positive part of P − e^ε Q is the tail
 *    a ≥ t_c = ⌈β (c+1)⌉, β = (α(1+e^ε) − 1)/((2α − 1)(1+e^ε)), α = e^ε0/(e^ε0+1);
 *    δ_c = [α − e^ε(1−α)]·B_c(t−1) + (1 − e^ε)·S_c(t), with B_c the Bin(c, 1/2)
 *    pmf and S_c(t) its upper tail (summed in log space from t upward).
 * 2. δ_c is non-increasing in c (more clones is a post-processing), so binning
 *    c over the mass-carrying range of Bin(n − 1, pClone) (mean ± (20 sd + 40))
 *    gives a rigorous upper bound (each bin at its lowest c, plus a Bernstein bound
 *    below 1e-25 on the mass outside the range) and lower bound (each bin at its
 *    highest c). Bins are single values when the range is short (≤ 600 values).
 * 3. Binary search on ε for δ(ε) = target δ, on the upper bound (published) and
 *    on the lower bound (reported to show tightness).
 *
 * The FMT21 closed form is provided as a cross-check.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";

/** How the clone probability is derived from the local randomizer. */
export type SurveyCloneModel = "generic" | "randomized-response";

/** Options of {@linkcode shuffleAmplification}. */
export interface ShuffleAmplificationOptions {
  /** Number of reports shuffled together (n ≥ 1). */
  n: number;
  /** Local privacy parameter of each report (ε0 > 0). */
  epsilon0: number;
  /** Target δ of the central guarantee (0 < δ < 1). */
  delta: number;
  /**
   * `"generic"` (pClone = e^−ε0, any ε0-LDP randomizer; default) or
   * `"randomized-response"` (pClone = 2/(e^ε0 + 1), valid for k-ary randomized
   * response of any k and for binary randomized response).
   */
  model?: SurveyCloneModel;
  /** Also search the lower bound `epsilonLower` (default true; false halves the work). */
  lowerBound?: boolean;
}

/** The central guarantee computed by {@linkcode shuffleAmplification}. */
export interface ShuffleAmplification {
  /** Number of reports. */
  n: number;
  /** Local ε0. */
  epsilon0: number;
  /** δ of the guarantee. */
  delta: number;
  /** Clone model used. */
  model: SurveyCloneModel;
  /** Central ε (rigorous upper bound of the numeric clone analysis; never above ε0). */
  epsilon: number;
  /** Lower bound of the same analysis (shows how tight `epsilon` is; NaN when not requested). */
  epsilonLower: number;
  /** FMT21 closed-form ε, or `undefined` where its validity condition fails. */
  closedForm: number | undefined;
  /** One sentence an analyst can read. */
  text: string;
}

const LOG_FACTORIAL_TABLE_SIZE = 1024;
const logFactorialTable = (() => {
  const table = new Float64Array(LOG_FACTORIAL_TABLE_SIZE);
  for (let i = 2; i < LOG_FACTORIAL_TABLE_SIZE; i++) table[i] = table[i - 1]! + Math.log(i);
  return table;
})();
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln(k!) for an integer k ≥ 0: a table below 1024, Stirling's series above (error < 1e-16 relative). */
function logFactorial(k: number): number {
  if (k < LOG_FACTORIAL_TABLE_SIZE) return logFactorialTable[k]!;
  const x = k + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  // Stirling series for ln Γ(x): terms 1/(12x) − 1/(360x³) + 1/(1260x⁵).
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

/** ln of the Bin(c, 1/2) pmf at j (−∞ outside 0..c). */
function logHalfBinomial(c: number, j: number): number {
  if (j < 0 || j > c) return -Infinity;
  return logFactorial(c) - logFactorial(j) - logFactorial(c - j) - c * Math.LN2;
}

/**
 * Bin(c, 1/2) pmf at t − 1 and upper tail Pr[X ≥ t], summed in log-scaled space
 * from t upward until the terms no longer change the sum.
 */
function halfBinomialTail(c: number, t: number): { before: number; tail: number } {
  const before = Math.exp(logHalfBinomial(c, t - 1));
  if (t > c) return { before, tail: 0 };
  const start = Math.max(t, 0);
  const logFirst = logHalfBinomial(c, start);
  // Sum relative to the first term, then scale once (avoids underflow of each term).
  let term = 1;
  let sum = 1;
  for (let j = start; j < c; j++) {
    term *= (c - j) / (j + 1);
    sum += term;
    if (term < sum * 1e-15) break;
  }
  return { before, tail: Math.exp(logFirst + Math.log(sum)) };
}

/**
 * δ_c: the hockey-stick divergence D_{e^ε}(P_c ‖ Q_c) given C = c.
 *
 * @param c number of clones
 * @param alpha e^ε0/(e^ε0+1)
 * @param expEps e^ε
 */
function conditionalDelta(c: number, alpha: number, expEps: number): number {
  // Threshold on a/(c+1) where P/Q crosses e^ε (FMT23 §3, ratio monotone in a).
  const beta = (alpha * (1 + expEps) - 1) / ((2 * alpha - 1) * (1 + expEps));
  const t = Math.max(0, Math.ceil(beta * (c + 1)));
  if (t > c + 1) return 0;
  const { before, tail } = halfBinomialTail(c, t);
  const value = (alpha - expEps * (1 - alpha)) * before + (1 - expEps) * tail;
  return value > 0 ? value : 0;
}

/** Probability mass of C ~ Bin(n−1, p) over bins, prepared once per (n, p). */
interface CloneMass {
  /** First c of each bin, plus one past the last bin at the end. */
  edges: number[];
  /** Probability of each bin. */
  mass: number[];
  /** True when every bin holds a single c (the bounds coincide). */
  exact: boolean;
  /** Bernstein bound on the mass outside the range (added to the upper bound as δ_c ≤ 1). */
  outside: number;
}

const MAX_BINS = 600;

function cloneMass(trials: number, p: number): CloneMass {
  if (trials === 0 || p === 0) {
    return { edges: [0, 1], mass: [1], exact: true, outside: 0 };
  }
  const mean = trials * p;
  const sd = Math.sqrt(trials * p * (1 - p));
  const mode = Math.min(trials, Math.floor((trials + 1) * p));
  const reach = 20 * sd + 40;
  const lo = Math.max(0, Math.floor(mean - reach));
  const hi = Math.min(trials, Math.ceil(mean + reach));
  // Bernstein: Pr[|C − μ| ≥ t] ≤ 2 exp(−t²/(2(σ² + t/3))), below 1e-25 for t = 20σ + 40.
  const outside = 2 * Math.exp(-(reach * reach) / (2 * (sd * sd + reach / 3)));
  // Pmf by the ratio recurrence outward from the mode, normalised over [lo, hi].
  const width = hi - lo + 1;
  const pmf = new Float64Array(width);
  pmf[mode - lo] = 1;
  const odds = p / (1 - p);
  for (let c = mode; c < hi; c++) {
    pmf[c + 1 - lo] = pmf[c - lo]! * ((trials - c) / (c + 1)) * odds;
  }
  for (let c = mode; c > lo; c--) {
    pmf[c - 1 - lo] = pmf[c - lo]! * (c / (trials - c + 1)) / odds;
  }
  let total = 0;
  for (let i = 0; i < width; i++) total += pmf[i]!;
  const binWidth = Math.max(1, Math.ceil(width / MAX_BINS));
  const edges: number[] = [];
  const mass: number[] = [];
  for (let start = lo; start <= hi; start += binWidth) {
    let m = 0;
    const end = Math.min(hi + 1, start + binWidth);
    for (let c = start; c < end; c++) m += pmf[c - lo]!;
    edges.push(start);
    mass.push(m / total);
  }
  edges.push(Math.min(hi + 1, lo + edges.length * binWidth));
  return { edges, mass, exact: binWidth === 1, outside };
}

function deltaBounds(
  masses: CloneMass,
  alpha: number,
  epsilon: number,
): { upper: number; lower: number } {
  const expEps = Math.exp(epsilon);
  const { edges, mass } = masses;
  const atEdge = new Float64Array(edges.length);
  for (let i = 0; i < edges.length; i++) atEdge[i] = conditionalDelta(edges[i]!, alpha, expEps);
  let upper = masses.outside;
  let lower = 0;
  for (let i = 0; i < mass.length; i++) {
    upper += mass[i]! * atEdge[i]!;
    // Each bin at its highest c: edges[i+1] − 1 ≥ c for every c in the bin.
    lower += mass[i]! * (masses.exact ? atEdge[i]! : atEdge[i + 1]!);
  }
  return { upper, lower };
}

function cloneProbability(epsilon0: number, model: SurveyCloneModel): number {
  // Generic ε0-LDP: R(x) ≥ e^−ε0 R(x⁰) pointwise (FMT21 Lemma 3.3); randomized
  // response: min_y R(x)(y) / ((R(x⁰)(y) + R(x¹)(y))/2) = 2/(e^ε0 + 1).
  return model === "generic" ? Math.exp(-epsilon0) : 2 / (Math.exp(epsilon0) + 1);
}

function checkPositive(value: number, what: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(`Value '${what}' must be a positive number, got ${value}`);
  }
}

function checkOptions(options: ShuffleAmplificationOptions): void {
  if (!Number.isSafeInteger(options.n) || options.n < 1) {
    throw new InvalidInputError(`Value 'n' must be a positive integer, got ${options.n}`);
  }
  checkPositive(options.epsilon0, "epsilon0");
  if (!(options.delta > 0 && options.delta < 1)) {
    throw new InvalidInputError(`Value 'delta' must be in (0, 1), got ${options.delta}`);
  }
  const model = options.model ?? "generic";
  if (model !== "generic" && model !== "randomized-response") {
    throw new InvalidInputError(
      `Value 'model' must be 'generic' or 'randomized-response', got '${String(model)}'`,
    );
  }
}

/**
 * The hockey-stick divergence δ(ε) of the clone reduction, as rigorous upper and lower bounds.
 *
 * @param options n, ε0, model and `epsilon` (the δ argument is ignored)
 * @returns `{ upper, lower }` bounds on δ at that ε
 * @example
 * ```ts
 * import { shuffleDelta } from "./shuffle_accountant.ts";
 * const { upper } = shuffleDelta({ n: 100000, epsilon0: 4, delta: 1e-6, epsilon: 0.17 });
 * console.assert(upper > 1e-7 && upper < 1e-5);
 * ```
 */
export function shuffleDelta(
  options: ShuffleAmplificationOptions & { epsilon: number },
): { upper: number; lower: number } {
  checkOptions(options);
  if (!(options.epsilon >= 0)) {
    throw new InvalidInputError(`Value 'epsilon' must be non-negative, got ${options.epsilon}`);
  }
  const p = cloneProbability(options.epsilon0, options.model ?? "generic");
  const alpha = Math.exp(options.epsilon0) / (Math.exp(options.epsilon0) + 1);
  return deltaBounds(cloneMass(options.n - 1, p), alpha, options.epsilon);
}

function searchEpsilon(
  epsilon0: number,
  delta: number,
  deltaAt: (epsilon: number) => number,
): number {
  // δ(ε) is non-increasing and δ(ε0) = 0 (the shuffle is at least ε0-DP). Root of
  // g(ε) = ln δ(ε) − ln δ_target by the Illinois variant of regula falsi, which keeps
  // a bracket [lo, hi] with g(lo) > 0 ≥ g(hi); we return hi, so the result always
  // satisfies δ(ε) ≤ δ_target whatever the stopping point.
  const logTarget = Math.log(delta);
  const g = (e: number) => Math.log(Math.max(deltaAt(e), 1e-300)) - logTarget;
  let lo = 0;
  let gLo = g(lo);
  if (gLo <= 0) return 0;
  let hi = epsilon0;
  let gHi = g(hi);
  let side = 0;
  for (let i = 0; i < 100; i++) {
    if (gHi > -1e-6 || hi - lo <= 1e-9 * hi) break;
    let x = hi - (gHi * (hi - lo)) / (gHi - gLo);
    // Fall back to bisection when the secant lands on or outside the bracket.
    if (!(x > lo && x < hi)) x = (lo + hi) / 2;
    const gx = g(x);
    if (gx > 0) {
      lo = x;
      gLo = gx;
      if (side === -1) gHi /= 2;
      side = -1;
    } else {
      hi = x;
      gHi = gx;
      if (side === 1) gLo /= 2;
      side = 1;
    }
  }
  return hi;
}

/**
 * FMT21 closed-form bound (Theorem 3.1 of "Hiding Among the Clones"), a cross-check.
 * Valid only when ε0 ≤ ln(n / (16 ln(4/δ))).
 *
 * @param options n, ε0 and δ
 * @returns the central ε, or `undefined` outside the validity condition
 * @example
 * ```ts
 * import { fmt21ClosedFormEpsilon } from "./shuffle_accountant.ts";
 * const eps = fmt21ClosedFormEpsilon({ n: 10000, epsilon0: 2, delta: 1e-6 });
 * console.assert(eps !== undefined && Math.abs(eps - 0.52) < 0.01);
 * ```
 */
export function fmt21ClosedFormEpsilon(options: ShuffleAmplificationOptions): number | undefined {
  checkOptions(options);
  const { n, epsilon0, delta } = options;
  const logTerm = Math.log(4 / delta);
  if (epsilon0 > Math.log(n / (16 * logTerm))) return undefined;
  const a = 8 * Math.sqrt(Math.exp(epsilon0) * logTerm / n);
  const b = 8 * Math.exp(epsilon0) / n;
  const factor = (1 - Math.exp(-epsilon0)) / (1 + Math.exp(-epsilon0) / (1 + a + b));
  return Math.log(1 + factor * (a + b));
}

const CACHE_LIMIT = 512;
const cache = new Map<string, ShuffleAmplification>();

function computeAmplification(options: ShuffleAmplificationOptions): ShuffleAmplification {
  const model = options.model ?? "generic";
  const { n, epsilon0, delta } = options;
  const p = cloneProbability(epsilon0, model);
  const alpha = Math.exp(epsilon0) / (Math.exp(epsilon0) + 1);
  const masses = cloneMass(n - 1, p);
  const epsilon = Math.min(
    epsilon0,
    searchEpsilon(epsilon0, delta, (e) => deltaBounds(masses, alpha, e).upper),
  );
  const epsilonLower = masses.exact
    ? epsilon
    : options.lowerBound === false
    ? NaN
    : Math.min(epsilon, searchEpsilon(epsilon0, delta, (e) => deltaBounds(masses, alpha, e).lower));
  const closedForm = fmt21ClosedFormEpsilon(options);
  const text =
    `central ε = ${formatSurveyEpsilon(epsilon)} at δ = ${delta.toExponential(0)} for n = ${n}` +
    ` shuffled reports with local ε0 = ${epsilon0} (numeric clone analysis, ${model} randomizer)`;
  return { n, epsilon0, delta, model, epsilon, epsilonLower, closedForm, text };
}

/**
 * Central (ε, δ) of n shuffled ε0-LDP reports by the numeric clone analysis.
 * ε is a rigorous upper bound, capped at ε0 (shuffling never hurts). Results are
 * memoised (the last 512 parameter sets), since composition and batch-size
 * searches ask for the same values repeatedly.
 *
 * @param options n, ε0, δ and the clone model
 * @returns ε with its lower bound, the closed-form cross-check and a readable sentence
 * @throws {InvalidInputError} on out-of-range parameters
 * @example
 * ```ts
 * import { shuffleAmplification } from "./shuffle_accountant.ts";
 * const r = shuffleAmplification({ n: 100000, epsilon0: 4, delta: 1e-6 });
 * console.assert(Math.abs(r.epsilon - 0.17) < 0.01);
 * console.log(r.text); // central ε = 0.170 at δ = 1e-6 for n = 100000 …
 * ```
 */
export function shuffleAmplification(options: ShuffleAmplificationOptions): ShuffleAmplification {
  checkOptions(options);
  const key = `${options.n}|${options.epsilon0}|${options.delta}|${options.model ?? "generic"}|${
    options.lowerBound !== false
  }`;
  let result = cache.get(key);
  if (result === undefined) {
    result = computeAmplification(options);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, result);
  }
  return { ...result };
}

/**
 * Formats an ε for people: three significant digits.
 *
 * @param epsilon the value
 * @returns text such as "0.170"
 * @example
 * ```ts
 * import { formatSurveyEpsilon } from "./shuffle_accountant.ts";
 * console.assert(formatSurveyEpsilon(0.17049) === "0.170");
 * ```
 */
export function formatSurveyEpsilon(epsilon: number): string {
  return epsilon === 0 ? "0" : epsilon.toPrecision(3);
}

/** Options of {@linkcode shuffleMinBatchSize}. */
export interface ShuffleMinBatchOptions {
  /** Local ε0 of each report. */
  epsilon0: number;
  /** Central ε the batch must reach. */
  targetEpsilon: number;
  /** δ of the central guarantee. */
  delta: number;
  /** Clone model (default `"generic"`). */
  model?: SurveyCloneModel;
  /** Largest n searched (default 10^9). */
  maxN?: number;
}

/**
 * The smallest n whose shuffle gives central ε ≤ target at δ (binary search over n;
 * the central ε is non-increasing in n).
 *
 * @param options ε0, target ε, δ and the clone model
 * @returns the minimum batch size (1 when ε0 already meets the target)
 * @throws {InvalidInputError} when no n up to `maxN` meets the target
 * @example
 * ```ts
 * import { shuffleMinBatchSize } from "./shuffle_accountant.ts";
 * const n = shuffleMinBatchSize({ epsilon0: 4, targetEpsilon: 0.5, delta: 1e-6 });
 * console.assert(n > 1000 && n < 100000);
 * ```
 */
export function shuffleMinBatchSize(options: ShuffleMinBatchOptions): number {
  checkPositive(options.targetEpsilon, "targetEpsilon");
  const maxN = options.maxN ?? 1e9;
  const base = {
    epsilon0: options.epsilon0,
    delta: options.delta,
    model: options.model ?? "generic",
    lowerBound: false,
  };
  if (options.epsilon0 <= options.targetEpsilon) return 1;
  if (!Number.isSafeInteger(maxN) || maxN < 1) {
    throw new InvalidInputError(`Value 'maxN' must be a positive integer, got ${maxN}`);
  }
  const meets = (n: number) =>
    shuffleAmplification({ ...base, n }).epsilon <= options.targetEpsilon;
  return surveySmallestPassing(meets, {
    maxN,
    fail: () =>
      new InvalidInputError(
        `Target 'targetEpsilon' ${options.targetEpsilon} is not reached by any batch up to ${maxN} reports at ε0 = ${options.epsilon0}`,
      ),
  });
}

/**
 * The smallest n in [2, maxN] for a monotone predicate that fails at 1: doubling
 * from 2, then bisection; maxN is evaluated only if every smaller power of two fails.
 *
 * @param meets monotone predicate (false at 1)
 * @param options `maxN`, the largest n tried, and `fail`, building the error thrown when it fails too
 * @returns the smallest passing n
 * @throws the error from `fail` when no n up to maxN passes
 * @example
 * ```ts
 * import { surveySmallestPassing } from "./shuffle_accountant.ts";
 * console.assert(surveySmallestPassing((n) => n >= 37, { maxN: 1000, fail: () => new RangeError("none") }) === 37);
 * ```
 */
export function surveySmallestPassing(
  meets: (n: number) => boolean,
  options: { maxN: number; fail: () => Error },
): number {
  let lo = 1;
  let hi = Math.min(2, options.maxN);
  while (!meets(hi)) {
    if (hi >= options.maxN) throw options.fail();
    lo = hi;
    hi = Math.min(options.maxN, hi * 2);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (meets(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
