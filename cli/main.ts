/**
 * Entry point of the `panoramix` command run from source. The same module is the
 * entry of its Web Workers (see {@linkcode runProcess}). Builds (`deno task bundle`,
 * `deno task compile`) start from an entry written by `cli/web/build.ts` that also
 * carries the web pages.
 *
 * @module
 */

import { isWorkerContext } from "../core/worker_pool.ts";
import { runProcess } from "./run.ts";

if (isWorkerContext() || import.meta.main) await runProcess(new URL(import.meta.url));
