/**
 * Entry point of the `panoramix` binary.
 *
 * @module
 */

import { runPanoramix } from "./app.ts";
import { denoContext } from "./deno_context.ts";

if (import.meta.main) {
  try {
    Deno.exitCode = await runPanoramix(Deno.args, denoContext());
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0);
    throw error;
  }
}
