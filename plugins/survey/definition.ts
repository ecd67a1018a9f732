/**
 * Survey definitions: questions (categorical, multiple choice with bounded
 * selections, bounded numeric), each with a local ε0, and a target central
 * (ε, δ) for the whole survey. {@linkcode surveyPlan} fixes the randomizer of
 * every question so clients and the aggregator agree.
 *
 * @module
 */

import { readEnvelope } from "../../core/envelope.ts";
import { ConfigError, InvalidInputError } from "../../core/errors.ts";
import { readArray, readInteger, readNumber, readRecord, readString } from "../../core/fields.ts";
import {
  chooseSurveyOracle,
  SURVEY_MAX_DOMAIN,
  type SurveyOracle,
  type SurveyOracleParams,
  surveyOracleParams,
} from "./oracles.ts";
import type { SurveyCloneModel } from "./shuffle_accountant.ts";

/** Envelope kind of a survey definition. */
export const SURVEY_DEFINITION_KIND = "survey.definition";

/** Oracle choice of a categorical or multiple-choice question. */
export type SurveyOracleChoice = "auto" | SurveyOracle;

/** A single-choice question over `options`. */
export interface SurveyCategoricalQuestion {
  /** Identifier, unique in the survey. */
  id: string;
  /** Question type. */
  type: "categorical";
  /** Answer labels (2..10000). */
  options: readonly string[];
  /** Local privacy parameter of each report. */
  epsilon0: number;
  /** Oracle (default `"auto"`: smallest variance). */
  oracle?: SurveyOracleChoice;
}

/** A multiple-choice question: at most `maxSelections` of `options`. */
export interface SurveyMultipleChoiceQuestion {
  /** Identifier, unique in the survey. */
  id: string;
  /** Question type. */
  type: "multiple";
  /** Answer labels. */
  options: readonly string[];
  /** Largest number of options one respondent may select (≥ 1). */
  maxSelections: number;
  /** Local privacy parameter of each report. */
  epsilon0: number;
  /** Oracle over the padded domain (default `"auto"`). */
  oracle?: SurveyOracleChoice;
}

/** A numeric question with answers in [min, max]; the mean is estimated. */
export interface SurveyNumericQuestion {
  /** Identifier, unique in the survey. */
  id: string;
  /** Question type. */
  type: "numeric";
  /** Smallest answer. */
  min: number;
  /** Largest answer. */
  max: number;
  /** Local privacy parameter of each report. */
  epsilon0: number;
}

/** Any question. */
export type SurveyQuestion =
  | SurveyCategoricalQuestion
  | SurveyMultipleChoiceQuestion
  | SurveyNumericQuestion;

/** A survey: identifier, questions and the target central guarantee. */
export interface SurveyDefinition {
  /** Survey identifier, carried by every report. */
  id: string;
  /** Target central (ε, δ) after shuffling and composition over all questions. */
  target: { epsilon: number; delta: number };
  /** The questions (1..64). */
  questions: readonly SurveyQuestion[];
}

/** How one question is randomized and estimated. */
export interface SurveyQuestionPlan {
  /** The question. */
  question: SurveyQuestion;
  /** Report mechanism: a frequency oracle or the numeric (binary) randomizer. */
  mechanism: SurveyOracle | "numeric";
  /** Oracle parameters (domain k = options, or options + maxSelections for multiple choice). */
  oracle: SurveyOracleParams | undefined;
  /** Clone model for the shuffle accountant. */
  cloneModel: SurveyCloneModel;
}

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

function readId(value: unknown, what: string): string {
  const id = readString(value, what);
  if (!ID_PATTERN.test(id)) {
    throw new InvalidInputError(
      `Value '${what}' must be 1 to 64 characters of letters, digits and ._:-, got '${id}'`,
    );
  }
  return id;
}

function readEpsilon0(value: unknown, what: string): number {
  const e = readNumber(value, what);
  if (!(e > 0 && e <= 10)) {
    throw new InvalidInputError(`Value '${what}' must be in (0, 10], got ${e}`);
  }
  return e;
}

function readOptions(value: unknown, what: string): string[] {
  return readArray(value, what, { minLength: 2, maxLength: SURVEY_MAX_DOMAIN }).map((o, i) =>
    readString(o, `${what}[${i}]`)
  );
}

function readOracleChoice(value: unknown, what: string): SurveyOracleChoice {
  if (value === undefined) return "auto";
  const s = readString(value, what);
  if (s !== "auto" && s !== "krr" && s !== "oue" && s !== "olh") {
    throw new InvalidInputError(`Value '${what}' must be one of auto, krr, oue, olh, got '${s}'`);
  }
  return s;
}

function readQuestion(value: unknown, what: string): SurveyQuestion {
  const r = readRecord(value, what);
  const id = readId(r.id, `${what}.id`);
  const type = readString(r.type, `${what}.type`);
  const epsilon0 = readEpsilon0(r.epsilon0, `${what}.epsilon0`);
  switch (type) {
    case "categorical":
      return {
        id,
        type,
        options: readOptions(r.options, `${what}.options`),
        epsilon0,
        oracle: readOracleChoice(r.oracle, `${what}.oracle`),
      };
    case "multiple": {
      const options = readOptions(r.options, `${what}.options`);
      const maxSelections = readInteger(r.maxSelections, `${what}.maxSelections`, {
        min: 1,
        max: options.length,
      });
      return {
        id,
        type,
        options,
        maxSelections,
        epsilon0,
        oracle: readOracleChoice(r.oracle, `${what}.oracle`),
      };
    }
    case "numeric": {
      const min = readNumber(r.min, `${what}.min`);
      const max = readNumber(r.max, `${what}.max`);
      if (!(max > min)) {
        throw new InvalidInputError(
          `Value '${what}.max' must exceed '${what}.min', got ${max} <= ${min}`,
        );
      }
      return { id, type, min, max, epsilon0 };
    }
    default:
      throw new InvalidInputError(
        `Value '${what}.type' must be categorical, multiple or numeric, got '${type}'`,
      );
  }
}

/**
 * Validates a survey definition (a plain object, e.g. parsed JSON, or a
 * `survey.definition` envelope).
 *
 * @param value the candidate definition
 * @param what names it in errors (default "survey")
 * @returns the definition with defaults filled in
 * @throws {InvalidInputError} naming the offending field
 * @example
 * ```ts
 * import { readSurveyDefinition } from "./definition.ts";
 * const def = readSurveyDefinition({
 *   id: "s1", target: { epsilon: 1, delta: 1e-6 },
 *   questions: [{ id: "q1", type: "categorical", options: ["a", "b"], epsilon0: 2 }],
 * });
 * console.assert(def.questions.length === 1);
 * ```
 */
export function readSurveyDefinition(value: unknown, what = "survey"): SurveyDefinition {
  const r = readRecord(value, what);
  if (r.kind !== undefined) readEnvelope(r, SURVEY_DEFINITION_KIND, { what });
  const id = readId(r.id, `${what}.id`);
  const target = readRecord(r.target, `${what}.target`);
  const epsilon = readNumber(target.epsilon, `${what}.target.epsilon`);
  const delta = readNumber(target.delta, `${what}.target.delta`);
  if (!(epsilon > 0)) {
    throw new InvalidInputError(`Value '${what}.target.epsilon' must be positive, got ${epsilon}`);
  }
  if (!(delta > 0 && delta < 1)) {
    throw new InvalidInputError(`Value '${what}.target.delta' must be in (0, 1), got ${delta}`);
  }
  const questions = readArray(r.questions, `${what}.questions`, { minLength: 1, maxLength: 64 })
    .map((q, i) => readQuestion(q, `${what}.questions[${i}]`));
  const seen = new Set<string>();
  for (const q of questions) {
    if (seen.has(q.id)) {
      throw new InvalidInputError(`Question id '${q.id}' appears twice in '${what}'`);
    }
    seen.add(q.id);
  }
  return { id, target: { epsilon, delta }, questions };
}

/**
 * Fixes the randomizer of one question.
 *
 * @param question a validated question
 * @returns its plan
 * @throws {ConfigError} when an explicitly chosen oracle does not fit
 * @example
 * ```ts
 * import { surveyQuestionPlan } from "./definition.ts";
 * const plan = surveyQuestionPlan({ id: "q", type: "categorical", options: ["a", "b", "c"], epsilon0: 2 });
 * console.assert(plan.mechanism === "krr");
 * ```
 */
export function surveyQuestionPlan(question: SurveyQuestion): SurveyQuestionPlan {
  if (question.type === "numeric") {
    // The numeric randomizer is binary randomized response on a stochastically rounded bit.
    return { question, mechanism: "numeric", oracle: undefined, cloneModel: "randomized-response" };
  }
  // Multiple choice: padding-and-sampling adds maxSelections dummy values to the domain.
  const k = question.options.length + (question.type === "multiple" ? question.maxSelections : 0);
  if (k > SURVEY_MAX_DOMAIN) {
    throw new ConfigError(
      `Question '${question.id}' has a domain of ${k}, above ${SURVEY_MAX_DOMAIN}`,
    );
  }
  const choice = question.oracle ?? "auto";
  const oracle = choice === "auto"
    ? chooseSurveyOracle({ k, epsilon0: question.epsilon0 })
    : surveyOracleParams(choice, { k, epsilon0: question.epsilon0 });
  return {
    question,
    mechanism: oracle.oracle,
    oracle,
    // k-RR decomposes with clone probability 2/(e^ε0 + 1); OUE and OLH use the generic e^−ε0.
    cloneModel: oracle.oracle === "krr" ? "randomized-response" : "generic",
  };
}

/**
 * Plans every question of a survey.
 *
 * @param definition a validated survey
 * @returns plans in question order
 * @example
 * ```ts
 * import { surveyPlan } from "./definition.ts";
 * const plans = surveyPlan({
 *   id: "s", target: { epsilon: 1, delta: 1e-6 },
 *   questions: [{ id: "age", type: "numeric", min: 0, max: 100, epsilon0: 1 }],
 * });
 * console.assert(plans[0]!.mechanism === "numeric");
 * ```
 */
export function surveyPlan(definition: SurveyDefinition): SurveyQuestionPlan[] {
  return definition.questions.map(surveyQuestionPlan);
}
