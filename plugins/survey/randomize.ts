/**
 * Client-side randomizers (browser-capable; Web-standard APIs only). Every
 * randomizer draws from a {@linkcode SurveySampler} over a core RandomSource:
 * `systemRandom` in production, `seededRandom` only for tests and simulations.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { UniformIntegers } from "../../core/permutation.ts";
import { type RandomSource, systemRandom } from "../../core/random.ts";
import type { SurveyDefinition, SurveyQuestion, SurveyQuestionPlan } from "./definition.ts";
import { surveyPlan } from "./definition.ts";
import { olhHash, olhHashKey } from "./olh_hash.ts";
import { OLH_SEED_BYTES, type SurveyOracleParams } from "./oracles.ts";
import type { SurveyReport } from "./report.ts";

/**
 * Uniform integers and doubles from a RandomSource (integers by the core's
 * rejection sampler, doubles from 53 uniform bits).
 *
 * @example
 * ```ts
 * import { seededRandom } from "../../core/random.ts";
 * import { SurveySampler } from "./randomize.ts";
 * const s = new SurveySampler(seededRandom("doc"));
 * const u = s.uniform();
 * console.assert(u >= 0 && u < 1);
 * ```
 */
export class SurveySampler {
  /** The underlying byte source. */
  readonly random: RandomSource;
  #integers: UniformIntegers;

  /**
   * Creates a sampler over a byte source.
   *
   * @param random byte source (default the system CSPRNG)
   */
  constructor(random: RandomSource = systemRandom) {
    this.random = random;
    this.#integers = new UniformIntegers(random);
  }

  /**
   * A uniform integer in [0, bound).
   *
   * @param bound exclusive upper bound
   * @returns the integer
   */
  below(bound: number): number {
    return this.#integers.below(bound);
  }

  /**
   * A uniform double in [0, 1) with 53 random bits.
   *
   * @returns the double
   */
  uniform(): number {
    return (this.#integers.below(2 ** 26) * 2 ** 27 + this.#integers.below(2 ** 27)) / 2 ** 53;
  }

  /**
   * Fresh random bytes.
   *
   * @param length number of bytes
   * @returns the bytes
   */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.random(out);
    return out;
  }
}

/** A uniform value of [0, k) other than `value`. */
function otherValue(value: number, k: number, sampler: SurveySampler): number {
  const y = sampler.below(k - 1);
  return y >= value ? y + 1 : y;
}

function checkValue(value: number, k: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value >= k) {
    throw new InvalidInputError(`Value '${what}' must be an integer in [0, ${k}), got ${value}`);
  }
}

/**
 * k-ary randomized response: keep the value with probability p = e^ε/(e^ε + k − 1),
 * otherwise report another value uniformly (Wang et al. 2017 §4.1).
 *
 * @param value the true value in [0, k)
 * @param options oracle `params` (krr) and a `sampler`
 * @returns the reported value
 * @example
 * ```ts
 * import { SurveySampler, randomizeKrr } from "./randomize.ts";
 * import { surveyOracleParams } from "./oracles.ts";
 * const y = randomizeKrr(1, { params: surveyOracleParams("krr", { k: 3, epsilon0: 1 }), sampler: new SurveySampler() });
 * console.assert(y >= 0 && y < 3);
 * ```
 */
export function randomizeKrr(
  value: number,
  options: { params: SurveyOracleParams; sampler: SurveySampler },
): number {
  const { params, sampler } = options;
  checkValue(value, params.k, "value");
  return sampler.uniform() < params.p ? value : otherValue(value, params.k, sampler);
}

/**
 * Optimized unary encoding: bit `value` is 1 with probability 1/2, every other bit
 * with probability 1/(e^ε + 1) (Wang et al. 2017 §4.3).
 *
 * @param value the true value in [0, k)
 * @param options oracle `params` (oue) and a `sampler`
 * @returns ⌈k/8⌉ bytes, least significant bit first
 * @example
 * ```ts
 * import { SurveySampler, randomizeOue } from "./randomize.ts";
 * import { surveyOracleParams } from "./oracles.ts";
 * const bits = randomizeOue(0, { params: surveyOracleParams("oue", { k: 10, epsilon0: 1 }), sampler: new SurveySampler() });
 * console.assert(bits.length === 2);
 * ```
 */
export function randomizeOue(
  value: number,
  options: { params: SurveyOracleParams; sampler: SurveySampler },
): Uint8Array {
  const { params, sampler } = options;
  checkValue(value, params.k, "value");
  const bits = new Uint8Array(Math.ceil(params.k / 8));
  for (let v = 0; v < params.k; v++) {
    if (sampler.uniform() < (v === value ? params.p : params.q)) bits[v >> 3]! |= 1 << (v & 7);
  }
  return bits;
}

/**
 * Optimized local hashing: a fresh seed picks h; report h(value) with probability
 * p = e^ε/(e^ε + g − 1), otherwise another hash value uniformly (Wang et al. 2017 §4.4).
 *
 * @param value the true value in [0, k)
 * @param options oracle `params` (olh) and a `sampler`
 * @returns the seed and the reported hash value
 * @example
 * ```ts
 * import { SurveySampler, randomizeOlh } from "./randomize.ts";
 * import { surveyOracleParams } from "./oracles.ts";
 * const r = randomizeOlh(3, { params: surveyOracleParams("olh", { k: 100, epsilon0: 1 }), sampler: new SurveySampler() });
 * console.assert(r.seed.length === 16);
 * ```
 */
export function randomizeOlh(
  value: number,
  options: { params: SurveyOracleParams; sampler: SurveySampler },
): { seed: Uint8Array; value: number } {
  const { params, sampler } = options;
  checkValue(value, params.k, "value");
  const seed = sampler.bytes(OLH_SEED_BYTES);
  const h = olhHash(olhHashKey(seed), { v: value, g: params.g });
  return { seed, value: sampler.uniform() < params.p ? h : otherValue(h, params.g, sampler) };
}

/**
 * Bounded numeric randomizer for means (Duchi, Jordan, Wainwright 2018, one
 * dimension): map x to t ∈ [−1, 1] and report bit 1 with probability
 * 1/2 + t(e^ε − 1)/(2(e^ε + 1)) — binary randomized response on a stochastically
 * rounded bit, so it is ε0-LDP.
 *
 * @param x the answer in [min, max]
 * @param options bounds, `epsilon0` and a `sampler`
 * @returns 0 or 1
 * @example
 * ```ts
 * import { SurveySampler, randomizeNumeric } from "./randomize.ts";
 * const bit = randomizeNumeric(30, { min: 0, max: 100, epsilon0: 1, sampler: new SurveySampler() });
 * console.assert(bit === 0 || bit === 1);
 * ```
 */
export function randomizeNumeric(
  x: number,
  options: { min: number; max: number; epsilon0: number; sampler: SurveySampler },
): number {
  const { min, max, epsilon0, sampler } = options;
  if (typeof x !== "number" || !(x >= min && x <= max)) {
    throw new InvalidInputError(`Answer '${x}' must be a number in [${min}, ${max}]`);
  }
  const t = (2 * (x - min)) / (max - min) - 1;
  const e = Math.exp(epsilon0);
  return sampler.uniform() < 0.5 + (t * (e - 1)) / (2 * (e + 1)) ? 1 : 0;
}

/** An answer: an option index or label, a list of them (multiple choice), or a number. */
export type SurveyAnswer = number | string | readonly (number | string)[];

function optionIndex(question: SurveyQuestion, answer: number | string, what: string): number {
  if (question.type === "numeric") {
    throw new InvalidInputError(`Question '${question.id}' is numeric`);
  }
  const index = typeof answer === "string" ? question.options.indexOf(answer) : answer;
  if (!Number.isSafeInteger(index) || index < 0 || index >= question.options.length) {
    throw new InvalidInputError(
      `Answer '${String(answer)}' to '${what}' is not one of its options`,
    );
  }
  return index;
}

function randomizeOracle(
  value: number,
  params: SurveyOracleParams,
  sampler: SurveySampler,
): Record<string, unknown> {
  switch (params.oracle) {
    case "krr":
      return { mechanism: "krr", value: randomizeKrr(value, { params, sampler }) };
    case "oue":
      return { mechanism: "oue", bits: randomizeOue(value, { params, sampler }) };
    case "olh":
      return { mechanism: "olh", ...randomizeOlh(value, { params, sampler }) };
  }
}

/**
 * Randomizes one answer to one planned question into a report.
 *
 * Multiple choice uses padding-and-sampling (Wang et al., "Locally differentially
 * private protocols for set-valued data", 2018 / LDPMiner): the selection S
 * (|S| ≤ m) is padded with dummy values k..k+m−1 to m items, one of the m is
 * picked uniformly and reported through the oracle over k + m values.
 *
 * @param plan the question's plan
 * @param options survey id, the `answer` and a `sampler`
 * @returns the report
 * @throws {InvalidInputError} when the answer does not fit the question
 * @example
 * ```ts
 * import { surveyQuestionPlan } from "./definition.ts";
 * import { SurveySampler, randomizeSurveyAnswer } from "./randomize.ts";
 * const plan = surveyQuestionPlan({ id: "q", type: "categorical", options: ["a", "b"], epsilon0: 1 });
 * const report = randomizeSurveyAnswer(plan, { survey: "s", answer: "b", sampler: new SurveySampler() });
 * console.assert(report.question === "q");
 * ```
 */
export function randomizeSurveyAnswer(
  plan: SurveyQuestionPlan,
  options: { survey: string; answer: SurveyAnswer; sampler: SurveySampler },
): SurveyReport {
  const { survey, answer, sampler } = options;
  const question = plan.question;
  const base = { survey, question: question.id };
  if (question.type === "numeric") {
    if (typeof answer !== "number") {
      throw new InvalidInputError(`Answer to '${question.id}' must be a number`);
    }
    const bit = randomizeNumeric(answer, { ...question, sampler });
    return { ...base, mechanism: "numeric", bit };
  }
  let value: number;
  if (question.type === "categorical") {
    if (Array.isArray(answer)) {
      throw new InvalidInputError(`Answer to '${question.id}' must be a single option`);
    }
    value = optionIndex(question, answer as number | string, question.id);
  } else {
    const list = Array.isArray(answer)
      ? answer as readonly (number | string)[]
      : [answer as number | string];
    const m = question.maxSelections;
    if (list.length > m) {
      throw new InvalidInputError(
        `Answer to '${question.id}' selects ${list.length} options, at most ${m} allowed`,
      );
    }
    const selected = [...new Set(list.map((a) => optionIndex(question, a, question.id)))];
    if (selected.length !== list.length) {
      throw new InvalidInputError(`Answer to '${question.id}' selects an option twice`);
    }
    const j = sampler.below(m);
    value = j < selected.length ? selected[j]! : question.options.length + j;
  }
  return { ...base, ...randomizeOracle(value, plan.oracle!, sampler) } as SurveyReport;
}

/**
 * Randomizes a respondent's answers to every question: one report per question.
 *
 * @param definition the survey
 * @param options `answers` by question id and the randomness (a RandomSource or a sampler)
 * @returns one report per question, in question order
 * @throws {InvalidInputError} when an answer is missing or does not fit
 * @example
 * ```ts
 * import { surveyRespond } from "./randomize.ts";
 * const reports = surveyRespond({
 *   id: "s", target: { epsilon: 1, delta: 1e-6 },
 *   questions: [{ id: "q", type: "categorical", options: ["yes", "no"], epsilon0: 1 }],
 * }, { answers: { q: "yes" } });
 * console.assert(reports.length === 1);
 * ```
 */
export function surveyRespond(
  definition: SurveyDefinition,
  options: {
    answers: Readonly<Record<string, SurveyAnswer>>;
    random?: RandomSource | SurveySampler;
  },
): SurveyReport[] {
  const sampler = options.random instanceof SurveySampler
    ? options.random
    : new SurveySampler(options.random ?? systemRandom);
  return surveyPlan(definition).map((plan) => {
    const answer = options.answers[plan.question.id];
    if (answer === undefined) {
      throw new InvalidInputError(`Answer to question '${plan.question.id}' is missing`);
    }
    return randomizeSurveyAnswer(plan, { survey: definition.id, answer, sampler });
  });
}
