/**
 * Entry point of the `panoramix` binary. The same module is the entry of its Web
 * Workers: inside a worker it serves the statically registered tasks instead of
 * parsing arguments, so the compiled binary and the single-file bundle need no
 * separate worker file.
 *
 * @module
 */

import {
  closeWorkerPool,
  isWorkerContext,
  serveWorkerTasks,
  setWorkerEntry,
} from "../core/worker_pool.ts";
import { runPanoramix } from "./app.ts";
import { denoContext } from "./deno_context.ts";

if (isWorkerContext()) {
  serveWorkerTasks();
} else if (import.meta.main) {
  setWorkerEntry(new URL(import.meta.url));
  try {
    Deno.exitCode = await runPanoramix(Deno.args, denoContext());
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  } finally {
    closeWorkerPool();
  }
}
