/**
 * The survey benchmark behind `panoramix survey bench`: ingest rate (decode,
 * validate and count encoded reports, one thread) and estimate latency after a
 * large number of reports. Web-standard APIs only (`performance.now`).
 *
 * To keep memory flat the benchmark pre-encodes a pool of distinct reports (from
 * seeded simulated respondents) and ingests the pool cyclically until the
 * requested total; every ingest fully decodes and validates its bytes.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { SurveyAggregator } from "./aggregate.ts";
import { surveyPlan } from "./definition.ts";
import { randomizeSurveyAnswer, SurveySampler } from "./randomize.ts";
import { encodeSurveyReport } from "./report.ts";
import { drawSurveyAnswer, SURVEY_EXAMPLE, SURVEY_EXAMPLE_TRUTH } from "./simulate.ts";

/** Options of {@linkcode runSurveyBench}. */
export interface SurveyBenchOptions {
  /** Reports ingested in the mixed stream (default 5,000,000). */
  reports?: number;
  /** Simulated respondents in the pool (default 20,000; five reports each). */
  poolRespondents?: number;
  /** Reports ingested per mechanism for the per-mechanism rates (default 200,000). */
  perMechanismReports?: number;
  /** Progress callback (reports ingested so far in the mixed stream). */
  onProgress?: (done: number, total: number) => void;
}

/** Ingest rate of one question's mechanism. */
export interface SurveyBenchMechanism {
  /** Question id in the example survey. */
  question: string;
  /** Mechanism. */
  mechanism: string;
  /** Domain size (1 for numeric). */
  k: number;
  /** Reports per second on one core. */
  reportsPerSecond: number;
}

/** Result of {@linkcode runSurveyBench}. */
export interface SurveyBenchResult {
  /** Reports ingested in the mixed stream. */
  reports: number;
  /** Wall time of the mixed ingest in seconds. */
  ingestSeconds: number;
  /** Mixed-stream ingest rate, reports per second on one core. */
  reportsPerSecond: number;
  /** Per-mechanism ingest rates. */
  mechanisms: SurveyBenchMechanism[];
  /** Median latency of `estimate()` after all reports, milliseconds. */
  estimateMs: number;
  /** Latency of the first (uncached) privacy accounting for the five questions, milliseconds. */
  privacyMs: number;
  /** The privacy sentence for the ingested counts. */
  privacyText: string;
}

/**
 * Runs the benchmark on the example survey (k-RR, multiple choice, OUE k = 50,
 * OLH k = 200, numeric).
 *
 * @param options sizes and progress
 * @returns rates and latencies
 * @example
 * ```ts
 * import { runSurveyBench } from "./bench.ts";
 * const r = runSurveyBench({ reports: 20000, poolRespondents: 1000, perMechanismReports: 2000 });
 * console.assert(r.reportsPerSecond > 0);
 * ```
 */
export function runSurveyBench(options: SurveyBenchOptions = {}): SurveyBenchResult {
  const total = options.reports ?? 5_000_000;
  const poolRespondents = options.poolRespondents ?? 20_000;
  const perMechanism = options.perMechanismReports ?? 200_000;
  if (!Number.isSafeInteger(total) || total < 1) {
    throw new InvalidInputError(`Value 'reports' must be a positive integer, got ${total}`);
  }
  const definition = SURVEY_EXAMPLE;
  const plans = surveyPlan(definition);
  const sampler = new SurveySampler(seededRandom("panoramix/survey/bench/v1"));
  const byQuestion: Uint8Array[][] = plans.map(() => []);
  const pool: Uint8Array[] = [];
  for (let i = 0; i < poolRespondents; i++) {
    plans.forEach((plan, j) => {
      const answer = drawSurveyAnswer(SURVEY_EXAMPLE_TRUTH[plan.question.id]!, sampler);
      const bytes = encodeSurveyReport(
        randomizeSurveyAnswer(plan, { survey: definition.id, answer, sampler }),
      );
      byQuestion[j]!.push(bytes);
      pool.push(bytes);
    });
  }

  const mechanisms = plans.map((plan, j): SurveyBenchMechanism => {
    const agg = new SurveyAggregator(definition);
    const items = byQuestion[j]!;
    const start = performance.now();
    for (let i = 0; i < perMechanism; i++) agg.ingestBytes(items[i % items.length]!);
    const seconds = (performance.now() - start) / 1000;
    return {
      question: plan.question.id,
      mechanism: plan.mechanism,
      k: plan.oracle?.k ?? 1,
      reportsPerSecond: perMechanism / seconds,
    };
  });

  const aggregator = new SurveyAggregator(definition);
  const progressEvery = Math.max(1, Math.floor(total / 10));
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    aggregator.ingestBytes(pool[i % pool.length]!);
    if ((i + 1) % progressEvery === 0) options.onProgress?.(i + 1, total);
  }
  const ingestSeconds = (performance.now() - start) / 1000;

  const latencies: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t = performance.now();
    aggregator.estimate();
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  const t = performance.now();
  const privacy = aggregator.privacy();
  const privacyMs = performance.now() - t;
  return {
    reports: total,
    ingestSeconds,
    reportsPerSecond: total / ingestSeconds,
    mechanisms,
    estimateMs: latencies[10]!,
    privacyMs,
    privacyText: privacy.text,
  };
}
