/**
 * Command-line parse errors (unknown flag, bad value, missing value or argument) in the
 * documented one-line form `panoramix: error: …`; the caller exits with status 2.
 *
 * @module
 */

import {
  AliasNotFoundError,
  ArgumentParseError,
  ArgumentScannerError,
  EnumValidationError,
  FlagNotFoundError,
  InvalidNegatedFlagSyntaxError,
  UnexpectedFlagError,
  UnexpectedPositionalError,
  UnsatisfiedFlagError,
  UnsatisfiedPositionalError,
} from "@stricli/core";
import { PanoramixError } from "../core/errors.ts";

const PREFIX = "panoramix: error: ";

function quoteList(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(", ");
}

function didYouMean(corrections: readonly string[]): string {
  return corrections.length > 0
    ? `; did you mean ${corrections.map((c) => `'${c.replaceAll("`", "")}'`).join(" or ")}?`
    : "";
}

function flagName(name: string): string {
  return name.startsWith("-") ? name : `--${name}`;
}

function parseFailure(error: ArgumentParseError): string {
  if (error.exception instanceof PanoramixError) return error.exception.message;
  const name = error.externalFlagNameOrPlaceholder;
  const what = /^[A-Z_]+$/.test(name) ? `Argument ${name}` : `Flag '${flagName(name)}'`;
  const detail = error.exception instanceof Error
    ? error.exception.message
    : String(error.exception);
  if (/to a number/.test(detail)) return `${what} must be a number, got '${error.input}'`;
  return `${what} got '${error.input}', which is not valid: ${detail}`;
}

/**
 * The message (without the prefix) for one stricli argument-scanner error.
 *
 * @param error what stricli threw while reading the arguments
 * @returns a sentence naming the flag or argument and what is wrong
 */
function scannerMessage(error: ArgumentScannerError): string {
  if (error instanceof FlagNotFoundError) {
    return `Unknown flag '${flagName(error.input)}'${didYouMean(error.corrections.map(flagName))}`;
  }
  if (error instanceof AliasNotFoundError) return `Unknown flag '-${error.input}'`;
  if (error instanceof ArgumentParseError) return parseFailure(error);
  if (error instanceof EnumValidationError) {
    return `Flag '${flagName(error.externalFlagName)}' must be one of ${
      quoteList(error.values)
    }, got '${error.input}'`;
  }
  if (error instanceof UnsatisfiedFlagError) {
    const next = error.nextFlagName === undefined
      ? ""
      : ` (found '${flagName(error.nextFlagName)}' where its value should be)`;
    return `Flag '${flagName(error.externalFlagName)}' needs a value${next}`;
  }
  if (error instanceof UnsatisfiedPositionalError) {
    return `Missing argument ${error.placeholder}`;
  }
  if (error instanceof UnexpectedPositionalError) {
    return `Unexpected argument '${error.input}' (this command takes ${
      error.expectedCount === 0 ? "none" : `at most ${error.expectedCount}`
    })`;
  }
  if (error instanceof UnexpectedFlagError) {
    return `Flag '${
      flagName(error.externalFlagName)
    }' given twice ('${error.previousInput}' and '${error.input}')`;
  }
  if (error instanceof InvalidNegatedFlagSyntaxError) {
    return `Flag '${flagName(error.externalFlagName)}' takes no value, got '${error.valueText}'`;
  }
  return error.message;
}

/**
 * Formats an error raised while the command line was being parsed.
 *
 * @param error a stricli scanner error, or an error thrown by one of our flag parsers
 * @param command the command as typed, e.g. "vote verify" (names the help to read)
 * @returns one line `panoramix: error: …` ending with a pointer to `--help`
 * @example
 * ```ts
 * import { formatParseError } from "./usage_errors.ts";
 * import { UsageError } from "../core/errors.ts";
 * console.assert(formatParseError(new UsageError("Bad")).startsWith("panoramix: error: Bad"));
 * ```
 */
export function formatParseError(error: unknown, command = ""): string {
  const message = error instanceof ArgumentScannerError
    ? scannerMessage(error)
    : error instanceof Error
    ? error.message
    : String(error);
  return `${PREFIX}${message} (see 'panoramix ${command === "" ? "" : `${command} `}--help')`;
}

/**
 * A parse-error formatter that reports only the first error of a run (stricli reports one
 * per bad flag; the first is what the user fixes first, and errors stay one line). Later
 * errors format to "", and {@linkcode dropBlankLines} removes the lone newline stricli
 * writes for them.
 *
 * @param command the words of the command ({@linkcode commandWords}), for the help pointer
 * @returns the formatter for one run
 * @example
 * ```ts
 * import { firstParseError } from "./usage_errors.ts";
 * const format = firstParseError(["gen"]);
 * console.assert(format(new Error("a")) !== "" && format(new Error("b")) === "");
 * ```
 */
export function firstParseError(command: readonly string[] = []): (error: unknown) => string {
  let reported = false;
  return (error) => {
    if (reported) return "";
    reported = true;
    return formatParseError(error, command.join(" "));
  };
}

/** What {@linkcode commandWords} needs of a stricli route map. */
interface Routes {
  getRoutingTargetForInput(input: string): unknown;
}

/**
 * The words of the command a run is for (`vote trustee deal`), for the pointer to its help.
 *
 * @param root the application's route map
 * @param args the run's arguments
 * @returns the leading arguments that name route maps and the command
 * @example
 * ```ts
 * import { buildCommand, buildRouteMap } from "@stricli/core";
 * import { commandWords } from "./usage_errors.ts";
 * const leaf = buildCommand({ func() {}, parameters: {}, docs: { brief: "b" } });
 * const root = buildRouteMap({ routes: { a: buildRouteMap({ routes: { b: leaf }, docs: { brief: "" } }) }, docs: { brief: "" } });
 * console.assert(commandWords(root, ["a", "b", "x", "--y"]).join(" ") === "a b");
 * ```
 */
export function commandWords(root: Routes, args: readonly string[]): string[] {
  const words: string[] = [];
  let target: unknown = root;
  for (const arg of args) {
    if (arg.startsWith("-") || typeof target !== "object" || target === null) break;
    if (!("getRoutingTargetForInput" in target)) break;
    const next = (target as Routes).getRoutingTargetForInput(arg);
    if (next === undefined) break;
    words.push(arg);
    target = next;
  }
  return words;
}

/**
 * Wraps stricli's stderr so the blank lines of suppressed parse errors are not written.
 *
 * @param stderr the text stream
 * @returns the same stream without writes of a lone newline
 * @example
 * ```ts
 * import { dropBlankLines } from "./usage_errors.ts";
 * const said: string[] = [];
 * dropBlankLines({ write: (t: string) => void said.push(t) }).write("\n");
 * console.assert(said.length === 0);
 * ```
 */
export function dropBlankLines(
  stderr: { write(text: string): void },
): { write(text: string): void } {
  return { write: (text) => text === "\n" ? undefined : stderr.write(text) };
}

/**
 * Formats a command that does not exist.
 *
 * @param args what the user typed and stricli's suggestions
 * @returns one line `panoramix: error: …`
 * @example
 * ```ts
 * import { formatUnknownCommand } from "./usage_errors.ts";
 * console.assert(
 *   formatUnknownCommand({ input: "mxi", corrections: ["mix"] }).includes("'mix'"),
 * );
 * ```
 */
export function formatUnknownCommand(
  args: { readonly input: string; readonly corrections: readonly string[] },
): string {
  return `${PREFIX}Unknown command '${args.input}'${
    didYouMean(args.corrections)
  } (see 'panoramix --help')`;
}
