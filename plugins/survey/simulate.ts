/**
 * Simulation of a survey with a known true distribution: respondents are drawn
 * from the truth, randomize their answers, the reports are encoded, shuffled by
 * the plain backend in batches, decoded and aggregated; the result compares the
 * estimates and their intervals with the truth and states the central ε.
 * Deterministic for a given seed (seededRandom; never for production).
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { plainBackend } from "../../core/plain_backend.ts";
import { seededRandom } from "../../core/random.ts";
import { SurveyAggregator, type SurveyEstimate } from "./aggregate.ts";
import { surveyMinBatchSize, type SurveyPrivacy } from "./composition.ts";
import { type SurveyDefinition, surveyPlan } from "./definition.ts";
import { randomizeSurveyAnswer, type SurveyAnswer, SurveySampler } from "./randomize.ts";
import { encodeSurveyReport } from "./report.ts";
import { mixSurveyReports, plainSurveyTransport } from "./submit.ts";

/** The known truth of one question. */
export type SurveyTruth =
  | { type: "categorical"; probabilities: readonly number[] }
  | { type: "multiple"; profiles: readonly { options: readonly number[]; probability: number }[] }
  | { type: "numeric"; mixture: readonly { min: number; max: number; probability: number }[] };

/** The example survey: five questions covering k-RR, OUE, OLH, multiple choice and numeric. */
export const SURVEY_EXAMPLE: SurveyDefinition = {
  id: "example-2026",
  target: { epsilon: 1, delta: 1e-6 },
  questions: [
    {
      id: "color",
      type: "categorical",
      options: ["red", "green", "blue", "yellow", "black"],
      epsilon0: 4,
    },
    {
      id: "tools",
      type: "multiple",
      options: ["email", "chat", "wiki", "tracker", "video", "phone", "paper", "other"],
      maxSelections: 3,
      epsilon0: 4,
    },
    {
      id: "language",
      type: "categorical",
      options: Array.from({ length: 50 }, (_, i) => `lang-${i}`),
      epsilon0: 2,
    },
    {
      id: "city",
      type: "categorical",
      options: Array.from({ length: 200 }, (_, i) => `city-${i}`),
      epsilon0: 4,
    },
    { id: "age", type: "numeric", min: 18, max: 90, epsilon0: 4 },
  ],
};

function zipf(k: number, s: number): number[] {
  const w = Array.from({ length: k }, (_, i) => 1 / (i + 1) ** s);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** The known truth of {@linkcode SURVEY_EXAMPLE}, by question id. */
export const SURVEY_EXAMPLE_TRUTH: Readonly<Record<string, SurveyTruth>> = {
  color: { type: "categorical", probabilities: [0.4, 0.25, 0.15, 0.12, 0.08] },
  tools: {
    type: "multiple",
    profiles: [
      { options: [0], probability: 0.2 },
      { options: [0, 1], probability: 0.25 },
      { options: [1, 2, 3], probability: 0.15 },
      { options: [4], probability: 0.1 },
      { options: [], probability: 0.1 },
      { options: [5, 6, 7], probability: 0.05 },
      { options: [2, 5], probability: 0.15 },
    ],
  },
  language: { type: "categorical", probabilities: zipf(50, 1.2) },
  city: { type: "categorical", probabilities: zipf(200, 1.0) },
  age: {
    type: "numeric",
    mixture: [{ min: 18, max: 40, probability: 0.5 }, { min: 30, max: 90, probability: 0.5 }],
  },
};

/**
 * The population value each question's estimate targets: option frequencies or the mean.
 *
 * @param truth a question's truth
 * @param optionCount number of options (ignored for numeric)
 * @returns frequencies per option, or a one-element array holding the mean
 * @example
 * ```ts
 * import { surveyTruthValues } from "./simulate.ts";
 * const v = surveyTruthValues({ type: "numeric", mixture: [{ min: 0, max: 10, probability: 1 }] }, 0);
 * console.assert(v[0] === 5);
 * ```
 */
export function surveyTruthValues(truth: SurveyTruth, optionCount: number): number[] {
  switch (truth.type) {
    case "categorical":
      return [...truth.probabilities];
    case "multiple": {
      const f = new Array<number>(optionCount).fill(0);
      for (const p of truth.profiles) for (const o of p.options) f[o]! += p.probability;
      return f;
    }
    case "numeric":
      return [truth.mixture.reduce((s, c) => s + c.probability * (c.min + c.max) / 2, 0)];
  }
}

function pick(weights: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (u < acc) return i;
  }
  return weights.length - 1;
}

/**
 * Draws one respondent's answer from a question's truth.
 *
 * @param truth the question's truth
 * @param sampler randomness
 * @returns an answer for {@linkcode randomizeSurveyAnswer}
 * @example
 * ```ts
 * import { SurveySampler } from "./randomize.ts";
 * import { drawSurveyAnswer } from "./simulate.ts";
 * const a = drawSurveyAnswer({ type: "categorical", probabilities: [1, 0] }, new SurveySampler());
 * console.assert(a === 0);
 * ```
 */
export function drawSurveyAnswer(truth: SurveyTruth, sampler: SurveySampler): SurveyAnswer {
  switch (truth.type) {
    case "categorical":
      return pick(truth.probabilities, sampler.uniform());
    case "multiple":
      return truth.profiles[pick(truth.profiles.map((p) => p.probability), sampler.uniform())]!
        .options;
    case "numeric": {
      const c = truth.mixture[pick(truth.mixture.map((m) => m.probability), sampler.uniform())]!;
      return c.min + (c.max - c.min) * sampler.uniform();
    }
  }
}

/** Options of {@linkcode simulateSurvey}. */
export interface SurveySimulationOptions {
  /** Number of respondents (each answers every question). */
  respondents: number;
  /** Seed of the simulation (respondents, randomizers and shuffles). */
  seed: string;
  /** Survey (default {@linkcode SURVEY_EXAMPLE}). */
  definition?: SurveyDefinition;
  /** Truth by question id (default {@linkcode SURVEY_EXAMPLE_TRUTH}). */
  truth?: Readonly<Record<string, SurveyTruth>>;
  /**
   * Respondents per mix batch, at least (default: the survey's minimum batch size);
   * respondents are split into equal batches no smaller than this.
   */
  batchSize?: number;
  /** Confidence level of the intervals (default 0.95). */
  confidence?: number;
  /** Shuffle batches through the plain backend (default true; false skips it for speed). */
  mix?: boolean;
  /** Progress callback (respondents done). */
  onProgress?: (done: number, total: number) => void;
}

/** Comparison of one question's estimates with the truth. */
export interface SurveySimulationQuestion {
  /** Question id. */
  id: string;
  /** True values (frequencies, or the mean). */
  truth: number[];
  /** Point estimates in the same order. */
  estimates: number[];
  /** Interval lower ends. */
  low: number[];
  /** Interval upper ends. */
  high: number[];
  /** Fraction of values whose interval covers the truth. */
  coverage: number;
  /** Largest absolute error. */
  maxError: number;
}

/** Result of {@linkcode simulateSurvey}. */
export interface SurveySimulation {
  /** Respondents simulated. */
  respondents: number;
  /** Respondents in the smallest mix batch (others hold at most one more). */
  batchSize: number;
  /** Smallest batch meeting the target (the accountant's answer). */
  minBatchSize: number;
  /** Reports rejected by the aggregator (0 for honest clients). */
  rejected: number;
  /** Full estimates. */
  estimate: SurveyEstimate;
  /** Per-question comparison with the truth. */
  questions: SurveySimulationQuestion[];
  /** Central privacy of publishing. */
  privacy: SurveyPrivacy;
}

/**
 * Runs a seeded simulation end to end (randomize → encode → mix → decode → aggregate → account).
 *
 * @param options respondents, seed and optional survey/truth
 * @returns estimates against the truth, and the privacy of publishing them
 * @throws {InvalidInputError} when the truth does not cover every question
 * @example
 * ```ts
 * import { simulateSurvey } from "./simulate.ts";
 * const sim = await simulateSurvey({ respondents: 2000, seed: "doc", batchSize: 500 });
 * console.assert(sim.questions.length === 5);
 * ```
 */
export async function simulateSurvey(options: SurveySimulationOptions): Promise<SurveySimulation> {
  const definition = options.definition ?? SURVEY_EXAMPLE;
  const truth = options.truth ?? SURVEY_EXAMPLE_TRUTH;
  if (!Number.isSafeInteger(options.respondents) || options.respondents < 1) {
    throw new InvalidInputError(
      `Value 'respondents' must be a positive integer, got ${options.respondents}`,
    );
  }
  const plans = surveyPlan(definition);
  for (const plan of plans) {
    if (truth[plan.question.id] === undefined) {
      throw new InvalidInputError(`Truth for question '${plan.question.id}' is missing`);
    }
  }
  const minBatchSize = surveyMinBatchSize(definition);
  // Split the respondents into equal batches of at least the minimum size (one batch when
  // there are fewer respondents than the minimum: the privacy check then fails honestly).
  const batchTarget = options.batchSize ?? minBatchSize;
  const batches = Math.max(1, Math.floor(options.respondents / batchTarget));
  const batchSize = Math.floor(options.respondents / batches);
  // Respondent i goes to batch ⌊i·batches/N⌋: every batch holds ⌊N/batches⌋ or one more.
  const batchOf = (i: number) => Math.floor((i * batches) / options.respondents);
  const sampler = new SurveySampler(seededRandom(`panoramix/survey/simulate/${options.seed}`));
  const mixRandom = seededRandom(`panoramix/survey/simulate-mix/${options.seed}`);
  const aggregator = new SurveyAggregator(definition);
  const { publicKey } = await plainBackend.generateKeys();
  let rejected = 0;
  let pending: Uint8Array[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    if (options.mix === false) {
      rejected += aggregator.ingestBatch(pending).rejected.length;
      pending = [];
      return;
    }
    const { payloads } = await mixSurveyReports(pending, {
      backend: plainBackend,
      key: publicKey,
      transport: plainSurveyTransport,
      // The accountant's minimum, in reports; a lone short batch is mixed and then fails the check.
      minBatchSize: Math.min(minBatchSize * plans.length, pending.length),
      random: mixRandom,
    });
    rejected += aggregator.ingestBatch(payloads).rejected.length;
    pending = [];
  };
  for (let i = 0; i < options.respondents; i++) {
    for (const plan of plans) {
      const answer = drawSurveyAnswer(truth[plan.question.id]!, sampler);
      pending.push(
        encodeSurveyReport(randomizeSurveyAnswer(plan, { survey: definition.id, answer, sampler })),
      );
    }
    // A batch holds one report per question from each of `batchSize` respondents.
    if (i + 1 === options.respondents || batchOf(i + 1) !== batchOf(i)) {
      await flush();
      options.onProgress?.(i + 1, options.respondents);
    }
  }
  const estimate = aggregator.estimate({ confidence: options.confidence ?? 0.95 });
  const questions = plans.map((plan, i): SurveySimulationQuestion => {
    const q = plan.question;
    const truthValues = surveyTruthValues(
      truth[q.id]!,
      q.type === "numeric" ? 0 : q.options.length,
    );
    const est = estimate.questions[i]!;
    const intervals = est.mean !== undefined ? [est.mean] : est.frequencies!;
    let covered = 0;
    let maxError = 0;
    intervals.forEach((iv, j) => {
      const t = truthValues[j]!;
      if (iv.low <= t && t <= iv.high) covered++;
      maxError = Math.max(maxError, Math.abs(iv.estimate - t));
    });
    return {
      id: q.id,
      truth: truthValues,
      estimates: intervals.map((iv) => iv.estimate),
      low: intervals.map((iv) => iv.low),
      high: intervals.map((iv) => iv.high),
      coverage: covered / intervals.length,
      maxError,
    };
  });
  return {
    respondents: options.respondents,
    batchSize,
    minBatchSize,
    rejected,
    estimate,
    questions,
    privacy: aggregator.privacy(),
  };
}
