/**
 * A stand-alone entry point that runs only the `panoramix node …` commands
 * (`deno run … cli/node/daemon.ts node run -c node.json`), with the same arguments,
 * errors and exit codes as the full `panoramix` binary. Useful for a minimal daemon
 * image and for tests that must not depend on the rest of the command line.
 *
 * @module
 */

import { buildApplication, buildRouteMap, run, text_en } from "@stricli/core";
import { exitCodeFor, PanoramixError } from "../../core/errors.ts";
import type { CliContext } from "../context.ts";
import { denoContext } from "../deno_context.ts";
import { nodeRoutes } from "../node_command.ts";

const app = buildApplication<CliContext>(
  buildRouteMap({
    routes: { node: nodeRoutes },
    docs: { brief: "Panoramix mix node daemon" },
  }),
  {
    name: "panoramix",
    scanner: { caseStyle: "allow-kebab-for-camel" },
    documentation: { caseStyle: "convert-camel-to-kebab" },
    determineExitCode: exitCodeFor,
    localization: {
      loadText: () => ({
        ...text_en,
        exceptionWhileRunningCommand: (error: unknown) =>
          error instanceof PanoramixError
            ? `panoramix: error: ${error.message}`
            : `panoramix: internal error: ${error instanceof Error ? error.stack : String(error)}`,
      }),
    },
  },
);

/**
 * Runs `panoramix node …` arguments with a context.
 *
 * @param args arguments, starting with "node"
 * @param context streams and environment
 * @returns the exit status
 * @example
 * ```ts ignore
 * const status = await runNodeApp(["node", "selftest", "--json"], context);
 * ```
 */
export async function runNodeApp(args: readonly string[], context: CliContext): Promise<number> {
  const ctx: CliContext = { ...context, process: { ...context.process } };
  delete ctx.process.exitCode;
  await run(app, args, ctx);
  const status = Number(ctx.process.exitCode ?? 0);
  return status < 0 ? 2 : status;
}

if (import.meta.main) {
  Deno.exitCode = await runNodeApp(Deno.args, denoContext());
}
