/**
 * Survey reports: one randomized answer to one question, carried as a versioned
 * envelope `{ v: 1, kind: "survey.report", survey, question, mechanism, ... }`
 * so it travels as an opaque mix-net item (msgpack bytes).
 *
 * Payload by mechanism: `krr` → `value` (integer in [0, k)); `oue` → `bits`
 * (⌈k/8⌉ bytes, bit v at byte ⌊v/8⌋, bit v mod 8, least significant first);
 * `olh` → `seed` (16 bytes) and `value` (integer in [0, g)); `numeric` → `bit` (0 or 1).
 *
 * @module
 */

import { decodeMsgpack, encodeMsgpack, type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { readBytes, readInteger, readString } from "../../core/fields.ts";
import type { SurveyQuestionPlan } from "./definition.ts";
import { OLH_SEED_BYTES } from "./oracles.ts";

/** Envelope kind of a survey report. */
export const SURVEY_REPORT_KIND = "survey.report";

/** Largest encoded report accepted, in bytes. */
export const SURVEY_REPORT_MAX_BYTES = 2048;

/** Fields every report carries. */
export interface SurveyReportFields {
  /** Survey identifier. */
  survey: string;
  /** Question identifier. */
  question: string;
}

/** A k-RR report. */
export interface SurveyKrrReport extends SurveyReportFields {
  /** Mechanism tag. */
  mechanism: "krr";
  /** Reported value in [0, k). */
  value: number;
}

/** An OUE report. */
export interface SurveyOueReport extends SurveyReportFields {
  /** Mechanism tag. */
  mechanism: "oue";
  /** Perturbed bit vector, ⌈k/8⌉ bytes. */
  bits: Uint8Array;
}

/** An OLH report. */
export interface SurveyOlhReport extends SurveyReportFields {
  /** Mechanism tag. */
  mechanism: "olh";
  /** Per-report hash seed (16 bytes). */
  seed: Uint8Array;
  /** Reported hash value in [0, g). */
  value: number;
}

/** A numeric report. */
export interface SurveyNumericReport extends SurveyReportFields {
  /** Mechanism tag. */
  mechanism: "numeric";
  /** Reported bit. */
  bit: number;
}

/** Any survey report. */
export type SurveyReport =
  | SurveyKrrReport
  | SurveyOueReport
  | SurveyOlhReport
  | SurveyNumericReport;

/**
 * The envelope of a report.
 *
 * @param report the report
 * @returns `{ v: 1, kind: "survey.report", ... }`
 * @example
 * ```ts
 * import { surveyReportEnvelope } from "./report.ts";
 * const env = surveyReportEnvelope({ survey: "s", question: "q", mechanism: "krr", value: 1 });
 * console.assert(env.kind === "survey.report");
 * ```
 */
export function surveyReportEnvelope(report: SurveyReport): Envelope {
  return { v: 1, kind: SURVEY_REPORT_KIND, ...report };
}

/**
 * Encodes a report as msgpack bytes (a mix-net payload).
 *
 * @param report the report
 * @returns the envelope as msgpack
 * @example
 * ```ts
 * import { decodeSurveyReport, encodeSurveyReport } from "./report.ts";
 * const bytes = encodeSurveyReport({ survey: "s", question: "q", mechanism: "numeric", bit: 1 });
 * console.assert(decodeSurveyReport(bytes).mechanism === "numeric");
 * ```
 */
export function encodeSurveyReport(report: SurveyReport): Uint8Array {
  return encodeMsgpack(surveyReportEnvelope(report));
}

/**
 * Validates the structure of a decoded report (msgpack or JSON view). Ranges that
 * depend on the question (k, g) are checked by {@linkcode checkSurveyReport}.
 *
 * @param value decoded envelope
 * @param what names the report in errors (default "report")
 * @returns the typed report
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts
 * import { readSurveyReport } from "./report.ts";
 * const r = readSurveyReport({ v: 1, kind: "survey.report", survey: "s", question: "q", mechanism: "krr", value: 0 });
 * console.assert(r.mechanism === "krr");
 * ```
 */
export function readSurveyReport(value: unknown, what = "report"): SurveyReport {
  const env = readEnvelope(value, SURVEY_REPORT_KIND, { what });
  const survey = readString(env.survey, `${what}.survey`);
  const question = readString(env.question, `${what}.question`);
  const mechanism = readString(env.mechanism, `${what}.mechanism`);
  switch (mechanism) {
    case "krr":
      return { survey, question, mechanism, value: readInteger(env.value, `${what}.value`) };
    case "oue":
      return {
        survey,
        question,
        mechanism,
        bits: readBytes(env.bits, `${what}.bits`, { maxLength: SURVEY_REPORT_MAX_BYTES }),
      };
    case "olh":
      return {
        survey,
        question,
        mechanism,
        seed: readBytes(env.seed, `${what}.seed`, { length: OLH_SEED_BYTES }),
        value: readInteger(env.value, `${what}.value`),
      };
    case "numeric":
      return { survey, question, mechanism, bit: readInteger(env.bit, `${what}.bit`, { max: 1 }) };
    default:
      throw new InvalidInputError(
        `Value '${what}.mechanism' must be one of krr, oue, olh, numeric, got '${mechanism}'`,
      );
  }
}

/**
 * Decodes msgpack bytes into a report.
 *
 * @param bytes the encoded envelope
 * @param what names the report in errors (default "report")
 * @returns the typed report
 * @throws {InvalidInputError} on malformed bytes or fields
 * @example
 * ```ts
 * import { decodeSurveyReport, encodeSurveyReport } from "./report.ts";
 * const r = decodeSurveyReport(encodeSurveyReport({ survey: "s", question: "q", mechanism: "krr", value: 2 }));
 * console.assert(r.mechanism === "krr" && r.value === 2);
 * ```
 */
export function decodeSurveyReport(bytes: Uint8Array, what = "report"): SurveyReport {
  if (bytes.length > SURVEY_REPORT_MAX_BYTES) {
    throw new InvalidInputError(
      `Value '${what}' must be at most ${SURVEY_REPORT_MAX_BYTES} bytes, got ${bytes.length}`,
    );
  }
  return readSurveyReport(decodeMsgpack(bytes, what), what);
}

/**
 * Checks a report against its question's plan: mechanism, value ranges, bit-vector length.
 *
 * @param report a structurally valid report
 * @param plan the plan of the question it answers
 * @throws {InvalidInputError} naming the field that does not fit
 * @example
 * ```ts
 * import { surveyQuestionPlan } from "./definition.ts";
 * import { checkSurveyReport } from "./report.ts";
 * const plan = surveyQuestionPlan({ id: "q", type: "categorical", options: ["a", "b"], epsilon0: 1 });
 * checkSurveyReport({ survey: "s", question: "q", mechanism: "krr", value: 1 }, plan);
 * ```
 */
export function checkSurveyReport(report: SurveyReport, plan: SurveyQuestionPlan): void {
  if (report.mechanism !== plan.mechanism) {
    throw new InvalidInputError(
      `Value 'report.mechanism' must be '${plan.mechanism}' for question '${plan.question.id}', got '${report.mechanism}'`,
    );
  }
  const oracle = plan.oracle;
  switch (report.mechanism) {
    case "krr":
      readInteger(report.value, "report.value", { max: oracle!.k - 1 });
      return;
    case "olh":
      readInteger(report.value, "report.value", { max: oracle!.g - 1 });
      return;
    case "oue": {
      const k = oracle!.k;
      const length = Math.ceil(k / 8);
      if (report.bits.length !== length) {
        throw new InvalidInputError(
          `Value 'report.bits' must be ${length} bytes, got ${report.bits.length}`,
        );
      }
      // Bits beyond k must be zero so every encoding is canonical.
      if (k % 8 !== 0 && (report.bits[length - 1]! >> (k % 8)) !== 0) {
        throw new InvalidInputError(`Value 'report.bits' sets bits beyond the domain of ${k}`);
      }
      return;
    }
    case "numeric":
      return;
  }
}
