/**
 * Incremental aggregation: reports are counted as they arrive (typed-array
 * counters, O(1) per k-RR or numeric report, O(k) bit scan per OUE report, one
 * BLAKE2s call plus O(k) additions per OLH report), and estimates can be taken
 * at any time in O(k) per question.
 *
 * @module
 */

import { decodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { type SurveyPrivacy, surveyPrivacy } from "./composition.ts";
import { type SurveyDefinition, surveyPlan, type SurveyQuestionPlan } from "./definition.ts";
import {
  estimateSurveyFrequencies,
  estimateSurveyMean,
  type SurveyFrequencyEstimate,
  type SurveyMeanEstimate,
  surveyNormSub,
  surveyZScore,
} from "./estimate.ts";
import { olhAddSupport, olhHashKey } from "./olh_hash.ts";
import {
  checkSurveyReport,
  readSurveyReport,
  SURVEY_REPORT_MAX_BYTES,
  type SurveyReport,
} from "./report.ts";

/** Estimates for one question. */
export interface SurveyQuestionEstimate {
  /** Question id. */
  id: string;
  /** Question type. */
  type: "categorical" | "multiple" | "numeric";
  /** Report mechanism. */
  mechanism: string;
  /** Reports counted. */
  n: number;
  /** Option frequencies (fractions of respondents) with intervals; categorical and multiple choice. */
  frequencies?: SurveyFrequencyEstimate[];
  /**
   * Consistency-corrected frequencies: Norm-Sub (sum 1) for categorical questions;
   * clipped to [0, 1] for multiple choice.
   */
  consistent?: number[];
  /** Mean with interval; numeric questions. */
  mean?: SurveyMeanEstimate;
}

/** Estimates for a whole survey. */
export interface SurveyEstimate {
  /** Survey id. */
  survey: string;
  /** Confidence level of the intervals. */
  confidence: number;
  /** Per-question estimates in question order. */
  questions: SurveyQuestionEstimate[];
}

/** Envelope kind of an aggregator snapshot. */
export const SURVEY_AGGREGATE_KIND = "survey.aggregate";

/** The counters of a {@linkcode SurveyAggregator}, as plain data. */
export interface SurveyAggregateSnapshot {
  /** Format version. */
  v: 1;
  /** Envelope kind. */
  kind: typeof SURVEY_AGGREGATE_KIND;
  /** Survey id. */
  survey: string;
  /** Per question, in question order. */
  questions: {
    /** Question id. */
    id: string;
    /** Reports counted. */
    n: number;
    /** Support counts (oracles) or [ones] (numeric). */
    support: number[];
    /** Smallest shuffled batch ingested with ingestBatch, or null. */
    batchMin: number | null;
    /** Reports counted one by one (one more batch). */
    open: number;
  }[];
}

/** Options of {@linkcode SurveyAggregator.estimate}. */
export interface SurveyEstimateOptions {
  /** Confidence level of the intervals (default 0.95). */
  confidence?: number;
}

interface Accumulator {
  plan: SurveyQuestionPlan;
  n: number;
  /** Support counts (oracles) or [ones] (numeric). */
  support: Float64Array;
}

/**
 * Counts reports of one survey and estimates its statistics live.
 *
 * @example
 * ```ts
 * import { seededRandom } from "../../core/random.ts";
 * import { SurveyAggregator } from "./aggregate.ts";
 * import { surveyRespond } from "./randomize.ts";
 * const def = {
 *   id: "s", target: { epsilon: 1, delta: 1e-6 },
 *   questions: [{ id: "q", type: "categorical" as const, options: ["a", "b"], epsilon0: 2 }],
 * };
 * const agg = new SurveyAggregator(def);
 * const random = seededRandom("doc");
 * for (let i = 0; i < 100; i++) for (const r of surveyRespond(def, { answers: { q: "a" }, random })) agg.ingest(r);
 * console.assert(agg.estimate().questions[0]!.n === 100);
 * ```
 */
export class SurveyAggregator {
  /** The survey being aggregated. */
  readonly definition: SurveyDefinition;
  #byId = new Map<string, Accumulator>();
  #accumulators: Accumulator[];
  #privacyCache: { key: string; value: SurveyPrivacy } | undefined;
  /** Per question: reports ingested one by one (treated as one shuffled batch). */
  #open: number[];
  /** Per question: the smallest non-empty count over batches ingested with ingestBatch. */
  #batchMin: number[];
  #inBatch = false;

  /**
   * Creates an empty aggregator for a survey.
   *
   * @param definition a validated survey definition
   */
  constructor(definition: SurveyDefinition) {
    this.definition = definition;
    this.#accumulators = surveyPlan(definition).map((plan) => ({
      plan,
      n: 0,
      support: new Float64Array(plan.mechanism === "numeric" ? 1 : plan.oracle!.k),
    }));
    for (const acc of this.#accumulators) this.#byId.set(acc.plan.question.id, acc);
    this.#open = this.#accumulators.map(() => 0);
    this.#batchMin = this.#accumulators.map(() => Infinity);
  }

  /**
   * Per question, the number of reports in the smallest shuffled batch: the
   * accountant's n. A respondent is hidden only among the reports mixed in the
   * same batch, so the survey's central ε is that of its smallest batch. Reports
   * counted one by one with `ingest`/`ingestBytes` form one batch together; each
   * `ingestBatch` call is one batch.
   */
  get smallestBatchCounts(): number[] {
    return this.#accumulators.map((_, i) => {
      const open = this.#open[i]!;
      const min = Math.min(this.#batchMin[i]!, open > 0 ? open : Infinity);
      return Number.isFinite(min) ? min : 0;
    });
  }

  /** Reports counted per question, in question order. */
  get counts(): number[] {
    return this.#accumulators.map((a) => a.n);
  }

  /**
   * Counts one report.
   *
   * @param report a structurally valid report
   * @throws {InvalidInputError} when it belongs to another survey, an unknown question, or does not fit
   */
  ingest(report: SurveyReport): void {
    if (report.survey !== this.definition.id) {
      throw new InvalidInputError(
        `Value 'report.survey' must be '${this.definition.id}', got '${report.survey}'`,
      );
    }
    const acc = this.#byId.get(report.question);
    if (acc === undefined) {
      throw new InvalidInputError(
        `Value 'report.question' names unknown question '${report.question}'`,
      );
    }
    checkSurveyReport(report, acc.plan);
    const support = acc.support;
    switch (report.mechanism) {
      case "krr":
        support[report.value]!++;
        break;
      case "numeric":
        support[0]! += report.bit;
        break;
      case "oue": {
        const bits = report.bits;
        for (let i = 0; i < bits.length; i++) {
          let byte = bits[i]!;
          while (byte !== 0) {
            const low = byte & -byte;
            support[i * 8 + (31 - Math.clz32(low))]!++;
            byte ^= low;
          }
        }
        break;
      }
      case "olh":
        olhAddSupport(olhHashKey(report.seed), { y: report.value, g: acc.plan.oracle!.g, support });
        break;
    }
    acc.n++;
    if (!this.#inBatch) this.#open[this.#accumulators.indexOf(acc)]!++;
  }

  /**
   * Decodes and counts one encoded report (a mix-net output payload).
   *
   * @param bytes msgpack envelope of a report
   * @throws {InvalidInputError} naming the malformed field
   */
  ingestBytes(bytes: Uint8Array): void {
    if (bytes.length > SURVEY_REPORT_MAX_BYTES) {
      throw new InvalidInputError(
        `Value 'report' must be at most ${SURVEY_REPORT_MAX_BYTES} bytes, got ${bytes.length}`,
      );
    }
    this.ingest(readSurveyReport(decodeMsgpack(bytes, "report"), "report"));
  }

  /**
   * Counts the output of one mix batch (encoded reports), skipping malformed ones.
   * The batch's per-question sizes enter {@linkcode SurveyAggregator.smallestBatchCounts}.
   *
   * @param items encoded reports of one shuffled batch
   * @returns how many were accepted and why the others were rejected
   */
  ingestBatch(
    items: Iterable<Uint8Array>,
  ): { accepted: number; rejected: { index: number; error: InvalidInputError }[] } {
    let accepted = 0;
    const rejected: { index: number; error: InvalidInputError }[] = [];
    let index = 0;
    const before = this.counts;
    this.#inBatch = true;
    try {
      for (const bytes of items) {
        try {
          this.ingestBytes(bytes);
          accepted++;
        } catch (error) {
          if (!(error instanceof InvalidInputError)) throw error;
          rejected.push({ index, error });
        }
        index++;
      }
    } finally {
      this.#inBatch = false;
      this.counts.forEach((n, i) => {
        const added = n - before[i]!;
        if (added > 0) this.#batchMin[i] = Math.min(this.#batchMin[i]!, added);
      });
    }
    return { accepted, rejected };
  }

  /**
   * The counters as a plain, JSON-serialisable value (to persist and restore with
   * {@linkcode SurveyAggregator.restore}).
   *
   * @returns per question: reports, support counts and batch sizes
   */
  snapshot(): SurveyAggregateSnapshot {
    return {
      v: 1,
      kind: SURVEY_AGGREGATE_KIND,
      survey: this.definition.id,
      questions: this.#accumulators.map((acc, i) => ({
        id: acc.plan.question.id,
        n: acc.n,
        support: [...acc.support],
        batchMin: Number.isFinite(this.#batchMin[i]!) ? this.#batchMin[i]! : null,
        open: this.#open[i]!,
      })),
    };
  }

  /**
   * An aggregator holding the counters of a snapshot (or of several, added up:
   * the smallest batch is the smallest of all).
   *
   * @param definition the survey the snapshots belong to
   * @param snapshots snapshots from {@linkcode SurveyAggregator.snapshot}
   * @returns the aggregator
   * @throws {InvalidInputError} when a snapshot is of another survey or shape
   */
  static restore(
    definition: SurveyDefinition,
    ...snapshots: readonly SurveyAggregateSnapshot[]
  ): SurveyAggregator {
    const agg = new SurveyAggregator(definition);
    for (const snap of snapshots) {
      if (snap.survey !== definition.id || snap.questions.length !== agg.#accumulators.length) {
        throw new InvalidInputError(
          `Snapshot of survey '${snap.survey}' does not fit survey '${definition.id}'`,
        );
      }
      snap.questions.forEach((q, i) => {
        const acc = agg.#accumulators[i]!;
        if (q.id !== acc.plan.question.id || q.support.length !== acc.support.length) {
          throw new InvalidInputError(`Snapshot question '${q.id}' does not fit the survey`);
        }
        acc.n += q.n;
        q.support.forEach((c, j) => (acc.support[j]! += c));
        if (q.batchMin !== null) agg.#batchMin[i] = Math.min(agg.#batchMin[i]!, q.batchMin);
        if (q.open > 0) agg.#batchMin[i] = Math.min(agg.#batchMin[i]!, q.open);
      });
    }
    return agg;
  }

  /**
   * Current estimates with confidence intervals (O(k) per question; no privacy accounting).
   *
   * @param options confidence level
   * @returns estimates per question
   */
  estimate(options: SurveyEstimateOptions = {}): SurveyEstimate {
    const confidence = options.confidence ?? 0.95;
    const z = surveyZScore(confidence);
    const questions = this.#accumulators.map((acc): SurveyQuestionEstimate => {
      const question = acc.plan.question;
      const base = {
        id: question.id,
        type: question.type,
        mechanism: acc.plan.mechanism,
        n: acc.n,
      };
      if (question.type === "numeric") {
        return {
          ...base,
          mean: estimateSurveyMean({ ones: acc.support[0]!, n: acc.n, ...question, z }),
        };
      }
      const oracle = acc.plan.oracle!;
      const frequencies = estimateSurveyFrequencies({
        support: acc.support,
        n: acc.n,
        p: oracle.p,
        q: oracle.q,
        labels: question.options,
        z,
        scale: question.type === "multiple" ? question.maxSelections : 1,
      });
      const raw = frequencies.map((f) => f.estimate);
      const consistent = question.type === "categorical"
        ? surveyNormSub(raw, 1)
        : raw.map((x) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0));
      return { ...base, frequencies, consistent };
    });
    return { survey: this.definition.id, confidence, questions };
  }

  /**
   * The central privacy of publishing the current estimates, computed from the
   * smallest shuffled batch of every question (cached per batch sizes).
   *
   * @returns the composed guarantee and whether it meets the target
   */
  privacy(): SurveyPrivacy {
    const counts = this.smallestBatchCounts;
    const key = counts.join(",");
    if (this.#privacyCache?.key !== key) {
      this.#privacyCache = { key, value: surveyPrivacy(this.definition, counts) };
    }
    return this.#privacyCache.value;
  }
}
