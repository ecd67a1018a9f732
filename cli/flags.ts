/**
 * Parsers for numeric command-line flags, with errors that name the flag and the
 * accepted range.
 *
 * @module
 */

import { numberParser } from "@stricli/core";
import { UsageError } from "../core/errors.ts";

/**
 * A parser for an integer flag within a range.
 *
 * @param what the flag as the user writes it, e.g. "--mixers"
 * @param range smallest and largest accepted value
 * @returns the parser
 * @example
 * ```ts
 * import { integerFlag } from "./flags.ts";
 * console.assert(integerFlag("--hops", { min: 1, max: 5 })("3") === 3);
 * ```
 */
export function integerFlag(
  what: string,
  range: { min: number; max: number },
): (text: string) => number {
  return (text) => {
    const value = numberParser(text);
    if (!Number.isInteger(value) || value < range.min || value > range.max) {
      throw new UsageError(
        `Flag '${what}' must be an integer from ${range.min} to ${range.max}, got '${text}'`,
      );
    }
    return value;
  };
}

/**
 * A parser for an integer flag from 1 to `max`.
 *
 * @param what the flag as the user writes it
 * @param max largest accepted value
 * @returns the parser
 * @example
 * ```ts
 * import { positiveInteger } from "./flags.ts";
 * console.assert(positiveInteger("--n", 10)("10") === 10);
 * ```
 */
export function positiveInteger(what: string, max: number): (text: string) => number {
  return integerFlag(what, { min: 1, max });
}

/**
 * A parser for a finite number greater than zero.
 *
 * @param what the flag as the user writes it
 * @returns the parser
 * @example
 * ```ts
 * import { positiveNumber } from "./flags.ts";
 * console.assert(positiveNumber("--delta")("1e-6") === 1e-6);
 * ```
 */
export function positiveNumber(what: string): (text: string) => number {
  return (text) => {
    const value = numberParser(text);
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new UsageError(`Flag '${what}' must be a positive number, got '${text}'`);
    }
    return value;
  };
}

/** The `--workers N` flag: Web Workers for heavy work, 1 to 1024 (default: all cores). */
export const workersFlag = {
  kind: "parsed",
  parse: positiveInteger("--workers", 1024),
  optional: true,
  brief: "Workers (default: all cores)",
} as const;

/** The `--progress` flag: progress lines on stderr even when it is not a terminal. */
export const progressFlag = {
  kind: "boolean",
  optional: true,
  brief: "Force progress lines on stderr",
} as const;

/**
 * `--context TEXT`: the bytes (UTF-8) a mix proof binds to, a job or election id.
 *
 * @example
 * ```ts
 * import { contextFlag } from "./flags.ts";
 * console.assert(contextFlag.optional);
 * ```
 */
export const contextFlag = {
  kind: "parsed",
  parse: String,
  optional: true,
  brief: "Text the proof binds to (a job or election id, UTF-8); verify with the same",
} as const;

/**
 * The `context` option of a mix, cascade or verification, from `--context`.
 *
 * @param context the flag's value
 * @returns `{ context }` as UTF-8 bytes, or nothing without the flag
 * @example
 * ```ts
 * import { contextOption } from "./flags.ts";
 * console.assert(contextOption("job-1").context?.length === 5);
 * ```
 */
export function contextOption(context: string | undefined): { context?: Uint8Array } {
  return context === undefined ? {} : { context: new TextEncoder().encode(context) };
}
