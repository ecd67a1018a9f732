/**
 * The `panoramix` application: every subcommand registered statically, errors
 * printed as one clear line and mapped to stable exit codes.
 *
 * @module
 */

import { buildApplication, buildRouteMap, run, text_en } from "@stricli/core";
import denoConfig from "../deno.json" with { type: "json" };
import { exitCodeFor, PanoramixError } from "../core/errors.ts";
import type { CliContext } from "./context.ts";
import {
  backendsCommand,
  genCommand,
  keygenCommand,
  mixCommand,
  verifyCommand,
} from "./mix_command.ts";
import { decryptBenchCommand } from "./decrypt_command.ts";
import { nodeRoutes } from "./node_command.ts";
import { reencryptBenchCommand, reencryptCascadeCommand } from "./reencrypt_command.ts";
import { surveyRoutes } from "./survey_command.ts";
import { voteRoutes } from "./vote_command.ts";
import { decryptCommand, encryptCommand } from "./crypt_command.ts";
import { jobRoutes } from "./job_command.ts";
import {
  commandWords,
  dropBlankLines,
  firstParseError,
  formatUnknownCommand,
} from "./usage_errors.ts";
import { tokenRoutes } from "./token_command.ts";
import { msgRoutes } from "./msg_command.ts";

/** The version printed by `panoramix --version`. */
export const VERSION: string = denoConfig.version;

/** Exit status for command-line usage errors (unknown flag, missing argument). */
const USAGE_EXIT = 2;

/**
 * An error text as one line with every control character escaped (issue 11 §14): raw
 * input quoted in a message must not span lines or reach the terminal as escapes.
 *
 * @param text the message
 * @returns the text with C0/C1 controls, DEL and U+2028/2029 as `\n`, `\t`, `\r` or `\xNN`/`\uNNNN`
 */
export function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    if (c === "\r") return "\\r";
    const code = c.charCodeAt(0);
    return code > 0xff
      ? `\\u${code.toString(16).padStart(4, "0")}`
      : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}

function formatError(error: unknown): string {
  if (error instanceof PanoramixError) return `panoramix: error: ${oneLine(error.message)}`;
  const detail = error instanceof Error ? error.message : String(error);
  return `panoramix: internal error: ${oneLine(detail)} (set PANORAMIX_DEBUG=1 for details)`;
}

const root = buildRouteMap({
  routes: {
    mix: mixCommand,
    verify: verifyCommand,
    keygen: keygenCommand,
    gen: genCommand,
    backends: backendsCommand,
    cascade: reencryptCascadeCommand,
    bench: buildRouteMap({
      routes: { reencrypt: reencryptBenchCommand, decrypt: decryptBenchCommand },
      docs: { brief: "Measure per-item costs of a backend on this machine" },
    }),
    vote: voteRoutes,
    encrypt: encryptCommand,
    decrypt: decryptCommand,
    job: jobRoutes,
    survey: surveyRoutes,
    node: nodeRoutes,
    msg: msgRoutes,
    token: tokenRoutes,
  },
  docs: {
    brief: "Panoramix: verifiable mix-nets for e-voting, private surveys and anonymous messaging",
    fullDescription:
      "A mix-net takes a batch of encrypted inputs, shuffles and transforms them through " +
      "independent mix servers, and outputs them so that no one can link an output to its sender.\n" +
      "Items travel as NDJSON (base64url bytes) or msgpack envelopes; diagnostics go to stderr.\n" +
      "Exit codes: 0 ok, 1 internal error, 2 usage, 3 verification failed, 4 invalid input, " +
      "5 bad configuration, 6 not found, 7 batch too small, 8 replay, 9 unavailable, " +
      "10 damaged store (a node refuses to serve it).",
  },
});

/**
 * Builds the application for a given debug setting.
 *
 * @param debug print stack traces of internal errors
 * @param args the run's arguments (name the command in parse errors)
 * @returns the stricli application
 */
function buildPanoramix(debug: boolean, args: readonly string[] = []) {
  return buildApplication<CliContext>(root, {
    name: "panoramix",
    versionInfo: { currentVersion: VERSION },
    scanner: { caseStyle: "allow-kebab-for-camel" },
    documentation: { caseStyle: "convert-camel-to-kebab", useAliasInUsageLine: true },
    determineExitCode: exitCodeFor,
    localization: {
      loadText: () => ({
        ...text_en,
        // One line with control characters escaped, as every error (issue 11 §14).
        exceptionWhileParsingArguments: (() => {
          const first = firstParseError(commandWords(root, args));
          return (error: unknown) => oneLine(first(error));
        })(),
        noCommandRegisteredForInput: (
          input: Parameters<typeof formatUnknownCommand>[0],
        ) => oneLine(formatUnknownCommand(input)),
        exceptionWhileRunningCommand: (error: unknown) =>
          debug && error instanceof Error && !(error instanceof PanoramixError)
            ? `${formatError(error)}\n${error.stack ?? ""}`
            : formatError(error),
      }),
    },
  });
}

/**
 * Accepts `--n` (as written in our docs and issues) for the one-letter flag `-n`:
 * stricli requires long flags to have at least two letters.
 *
 * @param arg one argument
 * @returns the argument stricli understands
 */
function spellShortFlags(arg: string): string {
  return arg === "--n" ? "-n" : arg;
}

/**
 * Runs the command line with the given arguments and context.
 *
 * @param args arguments after the program name
 * @param context streams and environment
 * @returns the process exit status
 * @example
 * ```ts ignore
 * const status = await runPanoramix(["--version"], context);
 * ```
 */
export async function runPanoramix(args: readonly string[], context: CliContext): Promise<number> {
  const app = buildPanoramix(context.env.PANORAMIX_DEBUG === "1", args);
  const ctx: CliContext = {
    ...context,
    process: { ...context.process, stderr: dropBlankLines(context.process.stderr) },
  };
  delete ctx.process.exitCode;
  await run(app, args.map(spellShortFlags), ctx);
  const status = Number(ctx.process.exitCode ?? 0);
  return status < 0 ? USAGE_EXIT : status;
}
