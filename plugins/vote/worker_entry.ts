/**
 * Web Worker entry for programs that use the vote plugin outside the CLI (examples,
 * benchmarks): loads the plugin's and the backend's task registrations and serves them.
 * Call `setWorkerEntry(new URL("./worker_entry.ts", import.meta.url))` with this module.
 *
 * @module
 */

import "./tasks.ts";
import "./simulate_tasks.ts";
import "../../backends/reencrypt/mod.ts";
import { isWorkerContext, serveWorkerTasks } from "../../core/worker_pool.ts";

if (isWorkerContext()) serveWorkerTasks();
