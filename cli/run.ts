/**
 * Runs the `panoramix` process from its entry module: inside a Web Worker it serves
 * the statically registered tasks; otherwise it parses the arguments and runs the
 * command, with that same entry module as the workers' entry, so the compiled binary
 * and the single-file bundle need no separate worker file.
 *
 * @module
 */

import {
  closeWorkerPool,
  isWorkerContext,
  serveWorkerTasks,
  setWorkerEntry,
  setWorkerIdleTime,
} from "../core/worker_pool.ts";
import { runPanoramix } from "./app.ts";
import { denoContext } from "./deno_context.ts";

/** How long the command line keeps idle workers (ms). */
export const CLI_WORKER_IDLE_MS = 10_000;

/**
 * Runs the process as a worker or as the command line.
 *
 * @param entry URL of the process's entry module (the workers start from it too)
 * @example
 * ```ts ignore
 * if (import.meta.main) await runProcess(new URL(import.meta.url));
 * ```
 */
export async function runProcess(entry: URL): Promise<void> {
  if (isWorkerContext()) {
    serveWorkerTasks();
    return;
  }
  setWorkerEntry(entry);
  // The pool is closed below when the command ends, so idle workers may wait between phases
  // instead of loading the whole command line again (issue 17).
  setWorkerIdleTime(CLI_WORKER_IDLE_MS);
  try {
    Deno.exitCode = await runPanoramix(Deno.args, denoContext());
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  } finally {
    closeWorkerPool();
  }
}
