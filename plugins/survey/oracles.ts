/**
 * Frequency oracles of Wang, Blocki, Li, Jha, "Locally Differentially Private
 * Protocols for Frequency Estimation" (USENIX Security 2017): parameters,
 * variances, report sizes and the automatic choice.
 *
 * Every oracle reduces to "does this report support value v?", an indicator that
 * is 1 with probability p when v is the respondent's value and q otherwise, so
 * the estimator is ĉ(v) = (C(v) − n q)/(p − q) for all three (Wang et al. §4).
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";

/** A categorical frequency oracle. */
export type SurveyOracle = "krr" | "oue" | "olh";

/** Parameters of one frequency oracle instance. */
export interface SurveyOracleParams {
  /** Which oracle. */
  oracle: SurveyOracle;
  /** Domain size (number of values a report encodes). */
  k: number;
  /** Local ε0. */
  epsilon0: number;
  /** Hash range of OLH (equal to `k` for the other oracles). */
  g: number;
  /** Probability that a report supports the respondent's own value. */
  p: number;
  /** Probability that a report supports any other given value. */
  q: number;
}

/** Largest domain a question may have (bounds per-report work and OLH hashing). */
export const SURVEY_MAX_DOMAIN = 10000;

/** Candidates whose variance is within this factor of the best are tie-broken by report size. */
export const SURVEY_VARIANCE_TOLERANCE = 1.01;

function olhParams(k: number, epsilon0: number, g: number): SurveyOracleParams {
  const e = Math.exp(epsilon0);
  // OLH: hash to [g], then k-RR over [g] (Wang et al. §4.4); q* = 1/g over random hashes.
  return { oracle: "olh", k, epsilon0, g, p: e / (e + g - 1), q: 1 / g };
}

/**
 * Parameters of an oracle for a domain and ε0.
 *
 * @param oracle which oracle
 * @param options domain size `k` (2..10000) and `epsilon0`
 * @returns p, q (and g for OLH)
 * @throws {InvalidInputError} on a bad domain or ε0
 * @example
 * ```ts
 * import { surveyOracleParams } from "./oracles.ts";
 * const krr = surveyOracleParams("krr", { k: 4, epsilon0: 1 });
 * console.assert(Math.abs(krr.p - Math.E / (Math.E + 3)) < 1e-12);
 * ```
 */
export function surveyOracleParams(
  oracle: SurveyOracle,
  options: { k: number; epsilon0: number },
): SurveyOracleParams {
  const { k, epsilon0 } = options;
  if (!Number.isSafeInteger(k) || k < 2 || k > SURVEY_MAX_DOMAIN) {
    throw new InvalidInputError(
      `Domain size 'k' must be an integer in [2, ${SURVEY_MAX_DOMAIN}], got ${k}`,
    );
  }
  if (!(epsilon0 > 0 && epsilon0 <= 10)) {
    throw new InvalidInputError(`Value 'epsilon0' must be in (0, 10], got ${epsilon0}`);
  }
  const e = Math.exp(epsilon0);
  switch (oracle) {
    case "krr":
      // Direct encoding / k-RR (Wang et al. §4.1).
      return { oracle, k, epsilon0, g: k, p: e / (e + k - 1), q: 1 / (e + k - 1) };
    case "oue":
      // Optimized unary encoding (Wang et al. §4.3): p = 1/2, q = 1/(e^ε + 1).
      return { oracle, k, epsilon0, g: k, p: 0.5, q: 1 / (e + 1) };
    case "olh": {
      // Optimal g = e^ε + 1 (Wang et al. §4.4); take the better integer neighbour.
      const lo = Math.max(2, Math.floor(e + 1));
      const a = olhParams(k, epsilon0, lo);
      const b = olhParams(k, epsilon0, lo + 1);
      return surveyOracleVariance(a) <= surveyOracleVariance(b) ? a : b;
    }
    default:
      throw new InvalidInputError(`Oracle '${String(oracle)}' is not one of krr, oue, olh`);
  }
}

/**
 * Variance of ĉ(v)/n per report for a value of frequency zero: q(1 − q)/(p − q)²
 * (Wang et al. eq. (1); multiply by n for counts).
 *
 * @param params oracle parameters
 * @returns the variance factor
 * @example
 * ```ts
 * import { surveyOracleParams, surveyOracleVariance } from "./oracles.ts";
 * const oue = surveyOracleParams("oue", { k: 100, epsilon0: 1 });
 * const e = Math.E;
 * console.assert(Math.abs(surveyOracleVariance(oue) - 4 * e / (e - 1) ** 2) < 1e-12);
 * ```
 */
export function surveyOracleVariance(params: SurveyOracleParams): number {
  const { p, q } = params;
  return q * (1 - q) / ((p - q) * (p - q));
}

/**
 * Bytes a report of this oracle carries in its payload (value, bit vector or seed + value).
 *
 * @param params oracle parameters
 * @returns payload size in bytes
 * @example
 * ```ts
 * import { surveyOracleParams, surveyOracleReportBytes } from "./oracles.ts";
 * console.assert(surveyOracleReportBytes(surveyOracleParams("oue", { k: 64, epsilon0: 1 })) === 8);
 * ```
 */
export function surveyOracleReportBytes(params: SurveyOracleParams): number {
  switch (params.oracle) {
    case "krr":
      return params.k <= 256 ? 1 : 2;
    case "oue":
      return Math.ceil(params.k / 8);
    case "olh":
      return OLH_SEED_BYTES + (params.g <= 256 ? 1 : 2);
  }
}

/** Bytes of the per-report OLH seed. */
export const OLH_SEED_BYTES = 16;

/**
 * Chooses the oracle with the smallest variance for the domain and ε0; candidates
 * within 1% of the best variance are tie-broken by the smaller report (so OLH
 * replaces OUE, whose variance it matches, once k bits outgrow a seed).
 *
 * @param options domain size `k` and `epsilon0`
 * @returns the chosen oracle's parameters
 * @example
 * ```ts
 * import { chooseSurveyOracle } from "./oracles.ts";
 * console.assert(chooseSurveyOracle({ k: 4, epsilon0: 2 }).oracle === "krr");
 * console.assert(chooseSurveyOracle({ k: 1000, epsilon0: 1 }).oracle === "olh");
 * ```
 */
export function chooseSurveyOracle(options: { k: number; epsilon0: number }): SurveyOracleParams {
  const candidates = (["krr", "oue", "olh"] as const).map((o) => surveyOracleParams(o, options));
  const best = Math.min(...candidates.map(surveyOracleVariance));
  const close = candidates.filter((c) =>
    surveyOracleVariance(c) <= best * SURVEY_VARIANCE_TOLERANCE
  );
  close.sort((a, b) =>
    surveyOracleReportBytes(a) - surveyOracleReportBytes(b) ||
    surveyOracleVariance(a) - surveyOracleVariance(b)
  );
  return close[0]!;
}
