/**
 * Private surveys: local differential privacy on the client, anonymity from the
 * mix-net, and shuffle-amplified central privacy accounting.
 *
 * - {@linkcode readSurveyDefinition}, {@linkcode surveyPlan}: questions and their randomizers.
 * - {@linkcode surveyRespond}: client-side randomization (k-RR, OUE, OLH, numeric).
 * - {@linkcode encodeSurveyReport}, {@linkcode decodeSurveyReport}: reports as mix-net bytes.
 * - {@linkcode mixSurveyReports}: submission through any Mixer backend.
 * - {@linkcode SurveyAggregator}: live estimates with confidence intervals.
 * - {@linkcode SurveyDevice}, {@linkcode sealSurveyReport}, {@linkcode submitSurveyPackets}: devices
 *   reporting every round to a collector, under a lifetime privacy budget.
 * - {@linkcode shuffleAmplification}, {@linkcode surveyPrivacy}, {@linkcode assertSurveyPublishable}:
 *   the central (ε, δ) and the refusal to publish below target.
 *
 * @example
 * ```ts
 * import { SurveyAggregator, surveyRespond } from "./mod.ts";
 * const def = {
 *   id: "s", target: { epsilon: 1, delta: 1e-6 },
 *   questions: [{ id: "q", type: "categorical" as const, options: ["a", "b"], epsilon0: 2 }],
 * };
 * const agg = new SurveyAggregator(def);
 * for (const r of surveyRespond(def, { answers: { q: "a" } })) agg.ingest(r);
 * console.assert(agg.counts[0] === 1);
 * ```
 *
 * @module
 */

export * from "./shuffle_accountant.ts";
export * from "./composition.ts";
export * from "./oracles.ts";
export * from "./olh_hash.ts";
export * from "./definition.ts";
export * from "./randomize.ts";
export * from "./report.ts";
export * from "./estimate.ts";
export * from "./aggregate.ts";
export * from "./submit.ts";
export * from "./simulate.ts";
export * from "./bench.ts";
export * from "./device.ts";

// Core names this entry's API refers to, so `@panoramix/panoramix/survey` is complete on its own.
export * from "../../core/errors.ts";
export type * from "../../core/envelope.ts";
export type * from "../../core/mixer.ts";
export type { RandomSource } from "../../core/random.ts";
export { Batcher } from "../../core/batcher.ts";
export type { PlainItem } from "../../core/plain_backend.ts";
