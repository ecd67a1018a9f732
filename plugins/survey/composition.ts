/**
 * Privacy of a whole survey: the central (ε, δ) of each question's shuffled
 * reports, composed over the questions, compared with the survey's target.
 *
 * Each respondent sends one report per question; every question's reports are
 * shuffled (mixed) so each question is a shuffled mechanism with its own central
 * (ε_i, δ_i), and the survey is their composition. Two rules, the smaller ε wins:
 *
 * - basic composition: ε = Σ ε_i, δ = Σ δ_i, with δ_i = δ/m;
 * - advanced composition (Dwork, Rothblum, Vadhan 2010, heterogeneous form):
 *   ε = √(2 ln(1/δ′) Σ ε_i²) + Σ ε_i(e^{ε_i} − 1), δ = Σ δ_i + δ′,
 *   with δ′ = δ/2 and δ_i = δ/(2m).
 *
 * @module
 */

import { BatchTooSmallError, InvalidInputError } from "../../core/errors.ts";
import type { SurveyDefinition } from "./definition.ts";
import { surveyPlan } from "./definition.ts";
import {
  formatSurveyEpsilon,
  type ShuffleAmplification,
  shuffleAmplification,
  surveySmallestPassing,
} from "./shuffle_accountant.ts";

/** An (ε, δ) pair. */
export interface SurveyBudget {
  /** ε. */
  epsilon: number;
  /** δ. */
  delta: number;
}

/**
 * Basic (sequential) composition: ε and δ add up.
 *
 * @param parts the guarantees of the composed mechanisms
 * @returns their sum
 * @example
 * ```ts
 * import { surveyBasicComposition } from "./composition.ts";
 * const c = surveyBasicComposition([{ epsilon: 0.1, delta: 1e-7 }, { epsilon: 0.2, delta: 1e-7 }]);
 * console.assert(Math.abs(c.epsilon - 0.3) < 1e-12);
 * ```
 */
export function surveyBasicComposition(parts: readonly SurveyBudget[]): SurveyBudget {
  let epsilon = 0;
  let delta = 0;
  for (const part of parts) {
    epsilon += part.epsilon;
    delta += part.delta;
  }
  return { epsilon, delta };
}

/**
 * Advanced composition (Dwork–Rothblum–Vadhan, heterogeneous ε_i):
 * ε = √(2 ln(1/δ′) Σ ε_i²) + Σ ε_i(e^{ε_i} − 1), δ = Σ δ_i + δ′.
 *
 * @param parts the guarantees of the composed mechanisms
 * @param deltaSlack δ′ > 0
 * @returns the composed guarantee
 * @example
 * ```ts
 * import { surveyAdvancedComposition } from "./composition.ts";
 * const parts = Array.from({ length: 100 }, () => ({ epsilon: 0.01, delta: 0 }));
 * console.assert(surveyAdvancedComposition(parts, 1e-6).epsilon < 1);
 * ```
 */
export function surveyAdvancedComposition(
  parts: readonly SurveyBudget[],
  deltaSlack: number,
): SurveyBudget {
  if (!(deltaSlack > 0 && deltaSlack < 1)) {
    throw new InvalidInputError(`Value 'deltaSlack' must be in (0, 1), got ${deltaSlack}`);
  }
  let squares = 0;
  let drift = 0;
  let delta = deltaSlack;
  for (const part of parts) {
    squares += part.epsilon * part.epsilon;
    drift += part.epsilon * Math.expm1(part.epsilon);
    delta += part.delta;
  }
  return { epsilon: Math.sqrt(2 * Math.log(1 / deltaSlack) * squares) + drift, delta };
}

/** The privacy of one question's published batch. */
export interface SurveyQuestionPrivacy {
  /** Question id. */
  id: string;
  /** Number of shuffled reports. */
  n: number;
  /** The accountant's result for this question at its share of δ. */
  central: ShuffleAmplification;
}

/** The privacy of a survey's published results. */
export interface SurveyPrivacy {
  /** Survey id. */
  survey: string;
  /** Composition rule that gave the smaller ε. */
  rule: "basic" | "advanced";
  /** Per-question guarantees under the chosen rule. */
  questions: SurveyQuestionPrivacy[];
  /** Composed central ε. */
  epsilon: number;
  /** Composed δ. */
  delta: number;
  /** The survey's target. */
  target: SurveyBudget;
  /** True when ε ≤ target ε and δ ≤ target δ. */
  meetsTarget: boolean;
  /** Sentences an analyst can read. */
  text: string;
}

function perQuestion(
  definition: SurveyDefinition,
  counts: readonly number[],
  options: { delta: number; lowerBound: boolean },
): SurveyQuestionPrivacy[] {
  return surveyPlan(definition).map((plan, i) => {
    const n = Math.max(1, counts[i] ?? 0);
    return {
      id: plan.question.id,
      n: counts[i] ?? 0,
      central: shuffleAmplification({
        n,
        epsilon0: plan.question.epsilon0,
        delta: options.delta,
        model: plan.cloneModel,
        lowerBound: options.lowerBound,
      }),
    };
  });
}

/**
 * The central privacy of publishing a survey's estimates from `counts[i]` shuffled
 * reports for question i, composed over the questions.
 *
 * @param definition the survey
 * @param counts number of reports per question, in question order
 * @returns the composed guarantee, whether it meets the target, and readable text
 * @example
 * ```ts
 * import { surveyPrivacy } from "./composition.ts";
 * const privacy = surveyPrivacy({
 *   id: "s", target: { epsilon: 0.5, delta: 1e-6 },
 *   questions: [{ id: "q", type: "categorical", options: ["a", "b", "c"], epsilon0: 4 }],
 * }, [100000]);
 * console.assert(privacy.meetsTarget);
 * ```
 */
export function surveyPrivacy(
  definition: SurveyDefinition,
  counts: readonly number[],
): SurveyPrivacy {
  return composeSurvey(definition, counts, true);
}

function composeSurvey(
  definition: SurveyDefinition,
  counts: readonly number[],
  lowerBound: boolean,
): SurveyPrivacy {
  const m = definition.questions.length;
  const { epsilon: targetEpsilon, delta: targetDelta } = definition.target;
  const basicParts = perQuestion(definition, counts, { delta: targetDelta / m, lowerBound });
  const basic = surveyBasicComposition(basicParts.map((q) => q.central));
  let rule: "basic" | "advanced" = "basic";
  let chosen = basic;
  let parts = basicParts;
  if (m > 1) {
    const advancedParts = perQuestion(definition, counts, {
      delta: targetDelta / (2 * m),
      lowerBound,
    });
    const advanced = surveyAdvancedComposition(
      advancedParts.map((q) => q.central),
      targetDelta / 2,
    );
    if (advanced.epsilon < basic.epsilon) {
      rule = "advanced";
      chosen = advanced;
      parts = advancedParts;
    }
  }
  const meetsTarget = chosen.epsilon <= targetEpsilon && chosen.delta <= targetDelta * (1 + 1e-9);
  const lines = parts.map((q) => `question '${q.id}': ${q.central.text}`);
  lines.push(
    `survey '${definition.id}': central ε = ${formatSurveyEpsilon(chosen.epsilon)} at δ = ${
      chosen.delta.toExponential(1)
    } by ${rule} composition over ${m} question${m === 1 ? "" : "s"}; target ε = ${targetEpsilon} ${
      meetsTarget ? "is met" : "is NOT met"
    }`,
  );
  return {
    survey: definition.id,
    rule,
    questions: parts,
    epsilon: chosen.epsilon,
    delta: chosen.delta,
    target: { epsilon: targetEpsilon, delta: targetDelta },
    meetsTarget,
    text: lines.join("\n"),
  };
}

/**
 * Refuses to publish when the target is not met.
 *
 * @param privacy the survey's privacy
 * @throws {BatchTooSmallError} stating the reached ε, the target and the batch sizes
 * @example
 * ```ts
 * import { assertSurveyPublishable, surveyPrivacy } from "./composition.ts";
 * const def = {
 *   id: "s", target: { epsilon: 0.5, delta: 1e-6 },
 *   questions: [{ id: "q", type: "categorical" as const, options: ["a", "b"], epsilon0: 4 }],
 * };
 * assertSurveyPublishable(surveyPrivacy(def, [100000]));
 * ```
 */
export function assertSurveyPublishable(privacy: SurveyPrivacy): void {
  if (!privacy.meetsTarget) {
    const sizes = privacy.questions.map((q) => `${q.id}: ${q.n}`).join(", ");
    throw new BatchTooSmallError(
      `Survey '${privacy.survey}' reaches central ε = ${
        formatSurveyEpsilon(privacy.epsilon)
      } at δ = ${
        privacy.delta.toExponential(1)
      }, above its target ε = ${privacy.target.epsilon}; refusing to publish (reports per question: ${sizes})`,
    );
  }
}

/**
 * The smallest number of respondents n (each answering every question) for which
 * the survey meets its target (binary search over n).
 *
 * @param definition the survey
 * @param maxN largest n searched (default 10^9)
 * @returns the minimum batch size
 * @throws {InvalidInputError} when no n up to `maxN` meets the target
 * @example
 * ```ts
 * import { surveyMinBatchSize } from "./composition.ts";
 * const n = surveyMinBatchSize({
 *   id: "s", target: { epsilon: 0.5, delta: 1e-6 },
 *   questions: [{ id: "q", type: "categorical", options: ["a", "b"], epsilon0: 4 }],
 * });
 * console.assert(n > 1000 && n < 100000);
 * ```
 */
export function surveyMinBatchSize(definition: SurveyDefinition, maxN = 1e9): number {
  const m = definition.questions.length;
  const meets = (n: number) =>
    composeSurvey(definition, new Array<number>(m).fill(n), false).meetsTarget;
  if (meets(1)) return 1;
  return surveySmallestPassing(meets, {
    maxN,
    fail: () =>
      new InvalidInputError(
        `Target of survey '${definition.id}' (ε = ${definition.target.epsilon}) is not reached by any batch up to ${maxN} respondents`,
      ),
  });
}
