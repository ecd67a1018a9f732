/**
 * The `survey` section of a node's config: the surveys its collector runs.
 *
 * ```json
 * "survey": {
 *   "pollIntervalMs": 250,
 *   "surveys": [{
 *     "definition": "traffic.json", "cascade": "cascade.pub.json",
 *     "mixers": ["<mixer identity base64url>", "..."],
 *     "roundSeconds": 86400, "batchReports": 0, "maxBatchReports": 0
 *   }]
 * }
 * ```
 *
 * @module
 */

import { ConfigError } from "../../core/errors.ts";

/** One survey the collector runs. */
export interface SurveyRunConfig {
  /** Survey definition file (JSON); absolute after loading. */
  definition: string;
  /** Public `decrypt.cascade` key file the reports are sealed to; absolute after loading. */
  cascade: string;
  /** Identity keys (base64url) of the cascade's mixer nodes, in cascade order. */
  mixers: string[];
  /** Length of a round in seconds. */
  roundSeconds: number;
  /** Reports per mixed batch (0 = the survey's minimum batch for its target × its questions). */
  batchReports: number;
  /** Largest batch (0 = 4 × batchReports). */
  maxBatchReports: number;
}

/** The `survey` config section. */
export interface SurveySectionConfig {
  /** How often the collector moves batches along, in ms. */
  pollIntervalMs: number;
  /** Surveys run by the collector. */
  surveys: SurveyRunConfig[];
  /** Most reports being stored at once; beyond it `503 busy` with Retry-After. */
  maxAcceptQueue: number;
  /** Most reports acknowledged and not yet counted; beyond it `503 busy` with Retry-After. */
  maxPendingReports: number;
}

/** Documentation lines for `node init`. */
export const SURVEY_CONFIG_DOCS: Readonly<Record<string, string>> = {
  "survey.pollIntervalMs": "How often the survey collector forms, sends and counts batches, in ms",
  "survey.surveys":
    "Surveys the collector runs: [{definition, cascade, mixers, roundSeconds, batchReports, maxBatchReports}]",
  "survey.maxAcceptQueue":
    "Most reports being stored at once (their COMMIT pending); beyond it 503 busy with Retry-After",
  "survey.maxPendingReports":
    "Most reports acknowledged and not yet counted (waiting or mixing); beyond it 503 busy",
};

/**
 * Default `survey` section.
 *
 * @returns no surveys, polling every 250 ms
 * @example
 * ```ts
 * import { defaultSurveySection } from "./survey_config.ts";
 * console.assert(defaultSurveySection().surveys.length === 0);
 * ```
 */
export function defaultSurveySection(): SurveySectionConfig {
  return { pollIntervalMs: 250, surveys: [], maxAcceptQueue: 20_000, maxPendingReports: 5_000_000 };
}

/**
 * Validates the surveys list and resolves its paths.
 *
 * @param value the `survey.surveys` value
 * @param resolve resolves a path relative to the config file
 * @returns the validated list
 * @throws {ConfigError} naming the offending option
 * @example
 * ```ts
 * import { parseSurveyRuns } from "./survey_config.ts";
 * const runs = parseSurveyRuns([{ definition: "s.json", cascade: "c.json", mixers: [] }], (p) => `/x/${p}`);
 * console.assert(runs[0]!.definition === "/x/s.json" && runs[0]!.roundSeconds === 86400);
 * ```
 */
export function parseSurveyRuns(
  value: unknown,
  resolve: (path: string) => string,
): SurveyRunConfig[] {
  if (!Array.isArray(value)) throw new ConfigError("Config option 'survey.surveys' must be a list");
  return value.map((entry, i) => {
    const where = `survey.surveys[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`Config option '${where}' must be a map`);
    }
    const e = entry as Record<string, unknown>;
    const known = [
      "definition",
      "cascade",
      "mixers",
      "roundSeconds",
      "batchReports",
      "maxBatchReports",
    ];
    for (const key of Object.keys(e)) {
      if (!key.startsWith("_") && !known.includes(key)) {
        throw new ConfigError(`Unknown config option '${where}.${key}'`);
      }
    }
    const text = (key: string): string => {
      if (typeof e[key] !== "string" || e[key] === "") {
        throw new ConfigError(`Config option '${where}.${key}' must be a file path`);
      }
      return resolve(e[key] as string);
    };
    const count = (key: string, fallback: number, min: number): number => {
      const v = e[key] ?? fallback;
      if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
        throw new ConfigError(
          `Config option '${where}.${key}' must be an integer ≥ ${min}, got ${String(v)}`,
        );
      }
      return v;
    };
    const mixers = e.mixers;
    if (
      !Array.isArray(mixers) ||
      !mixers.every((k) => typeof k === "string" && /^[A-Za-z0-9_-]{43}$/.test(k))
    ) {
      throw new ConfigError(
        `Config option '${where}.mixers' must list the mixers' identity keys (base64url)`,
      );
    }
    return {
      definition: text("definition"),
      cascade: text("cascade"),
      mixers: mixers as string[],
      roundSeconds: count("roundSeconds", 86400, 1),
      batchReports: count("batchReports", 0, 0),
      maxBatchReports: count("maxBatchReports", 0, 0),
    };
  });
}
