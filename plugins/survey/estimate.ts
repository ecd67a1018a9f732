/**
 * Estimators, variances and confidence intervals (pure functions over counts).
 *
 * Frequency oracles (Wang et al. 2017 §3): with C(v) supporting reports out of n,
 * f̂(v) = (C(v)/n − q)/(p − q). Each report is an independent Bernoulli(q + (p − q)f)
 * support indicator when respondents are drawn from a population, so
 * Var f̂ = [q(1 − q) + f(p − q)(1 − p − q)]/((p − q)² n)   (randomizer)
 *       + f(1 − f)/n                                       (sampling),
 * which sums to π(1 − π)/((p − q)² n), π = q + (p − q)f. Intervals are normal
 * approximations f̂ ± z·√Var with f clipped to [0, 1] in the plug-in.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";

/** An estimate with its normal-approximation confidence interval. */
export interface SurveyInterval {
  /** Point estimate (unbiased). */
  estimate: number;
  /** Lower end of the interval. */
  low: number;
  /** Upper end of the interval. */
  high: number;
  /** Standard error used for the interval. */
  standardError: number;
}

/** The estimated frequency of one option. */
export interface SurveyFrequencyEstimate extends SurveyInterval {
  /** Option label. */
  option: string;
  /** Variance from the local randomizer. */
  randomizerVariance: number;
  /** Variance from sampling the respondents (and, for multiple choice, the padded item). */
  samplingVariance: number;
}

/**
 * The two-sided standard-normal quantile for a confidence level (Acklam's rational
 * approximation of the inverse normal CDF, relative error below 1.2e-9).
 *
 * @param confidence level in (0, 1), e.g. 0.95
 * @returns z such that Pr[|Z| ≤ z] = confidence
 * @example
 * ```ts
 * import { surveyZScore } from "./estimate.ts";
 * console.assert(Math.abs(surveyZScore(0.95) - 1.959964) < 1e-5);
 * ```
 */
export function surveyZScore(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) {
    throw new InvalidInputError(`Value 'confidence' must be in (0, 1), got ${confidence}`);
  }
  const p = 1 - (1 - confidence) / 2;
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pHigh = 0.97575;
  if (p <= pHigh) {
    const q = p - 0.5;
    const r = q * q;
    return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  }
  const q = Math.sqrt(-2 * Math.log(1 - p));
  return -((((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1));
}

const clip01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Options of {@linkcode estimateSurveyFrequencies}. */
export interface SurveyFrequencyOptions {
  /** Support counts C(v) for the first `labels.length` values. */
  support: ArrayLike<number>;
  /** Number of reports. */
  n: number;
  /** Support probability of a report for its own value. */
  p: number;
  /** Support probability for any other value. */
  q: number;
  /** Option labels, one per estimated value. */
  labels: readonly string[];
  /** Two-sided normal quantile (1.96 for 95%). */
  z: number;
  /**
   * Multiplier from item frequency to answer frequency (maxSelections m for
   * padding-and-sampling; 1 for single choice).
   */
  scale?: number;
}

/**
 * Unbiased frequency estimates with intervals from oracle support counts.
 *
 * @param options counts, oracle parameters, labels and z
 * @returns one estimate per label (fractions of respondents)
 * @example
 * ```ts
 * import { estimateSurveyFrequencies } from "./estimate.ts";
 * const [a] = estimateSurveyFrequencies({ support: [60, 40], n: 100, p: 0.75, q: 0.25, labels: ["a", "b"], z: 1.96 });
 * console.assert(Math.abs(a!.estimate - 0.7) < 1e-12);
 * ```
 */
export function estimateSurveyFrequencies(
  options: SurveyFrequencyOptions,
): SurveyFrequencyEstimate[] {
  const { support, n, p, q, labels, z } = options;
  const scale = options.scale ?? 1;
  const gap = p - q;
  return labels.map((option, v) => {
    if (n === 0) {
      return {
        option,
        estimate: NaN,
        low: NaN,
        high: NaN,
        standardError: NaN,
        randomizerVariance: NaN,
        samplingVariance: NaN,
      };
    }
    const pi = (support[v]! / n - q) / gap; // item frequency
    const f = clip01(pi);
    const randomizerVariance = scale * scale * (q * (1 - q) + f * gap * (1 - p - q)) /
      (gap * gap * n);
    const samplingVariance = scale * scale * f * (1 - f) / n;
    const standardError = Math.sqrt(randomizerVariance + samplingVariance);
    const estimate = scale * pi;
    return {
      option,
      estimate,
      low: estimate - z * standardError,
      high: estimate + z * standardError,
      standardError,
      randomizerVariance,
      samplingVariance,
    };
  });
}

/**
 * Norm-Sub consistency (Wang, Lopuhaä-Zwakenberg, Li, Škorić, Li, "Locally
 * differentially private frequency estimation with consistency", NDSS 2020):
 * find θ with Σ max(0, f̂(v) − θ) = total and return max(0, f̂(v) − θ). This is
 * the Euclidean projection onto the scaled probability simplex.
 *
 * @param estimates unbiased estimates (may be negative)
 * @param total the sum the result must have (1 for frequencies)
 * @returns non-negative estimates summing to `total`
 * @example
 * ```ts
 * import { surveyNormSub } from "./estimate.ts";
 * const out = surveyNormSub([0.7, 0.5, -0.2], 1);
 * console.assert(Math.abs(out[0]! - 0.6) < 1e-12 && out[2] === 0);
 * ```
 */
export function surveyNormSub(estimates: readonly number[], total: number): number[] {
  const sorted = estimates.filter(Number.isFinite).sort((x, y) => y - x);
  let sum = 0;
  let theta = 0;
  for (let i = 0; i < sorted.length; i++) {
    sum += sorted[i]!;
    const candidate = (sum - total) / (i + 1);
    if (i + 1 === sorted.length || sorted[i + 1]! <= candidate) {
      theta = candidate;
      break;
    }
  }
  return estimates.map((x) => (Number.isFinite(x) ? Math.max(0, x - theta) : 0));
}

/** A mean estimate in the question's units. */
export interface SurveyMeanEstimate extends SurveyInterval {
  /** Total variance (randomizer and sampling; they are not separable from one bit). */
  variance: number;
}

/**
 * Unbiased mean from numeric (binary) reports: with π̂ the fraction of ones and
 * C = (e^ε + 1)/(e^ε − 1), t̂ = C(2π̂ − 1) and Var t̂ = 4C²π(1 − π)/n = (C² − t̄²)/n,
 * then rescaled from [−1, 1] to [min, max].
 *
 * @param options number of `ones` out of `n`, `epsilon0`, bounds and `z`
 * @returns the mean and its interval
 * @example
 * ```ts
 * import { estimateSurveyMean } from "./estimate.ts";
 * const m = estimateSurveyMean({ ones: 50, n: 100, epsilon0: 1, min: 0, max: 10, z: 1.96 });
 * console.assert(Math.abs(m.estimate - 5) < 1e-12);
 * ```
 */
export function estimateSurveyMean(options: {
  ones: number;
  n: number;
  epsilon0: number;
  min: number;
  max: number;
  z: number;
}): SurveyMeanEstimate {
  const { ones, n, epsilon0, min, max, z } = options;
  if (n === 0) return { estimate: NaN, low: NaN, high: NaN, standardError: NaN, variance: NaN };
  const e = Math.exp(epsilon0);
  const c = (e + 1) / (e - 1);
  const pi = ones / n;
  const t = c * (2 * pi - 1);
  const half = (max - min) / 2;
  const variance = half * half * 4 * c * c * pi * (1 - pi) / n;
  const standardError = Math.sqrt(variance);
  const estimate = min + (t + 1) * half;
  return {
    estimate,
    low: estimate - z * standardError,
    high: estimate + z * standardError,
    standardError,
    variance,
  };
}
