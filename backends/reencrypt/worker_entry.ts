/**
 * Default Web Worker entry of the re-encryption backend: loads the backend's task
 * registrations and serves them. The CLI replaces it with its own main module.
 *
 * @module
 */

import "./shuffle_tasks.ts";
import "./decryption_batch_tasks.ts";
import "./elgamal_batch.ts";
import { isWorkerContext, serveWorkerTasks } from "../../core/worker_pool.ts";

if (isWorkerContext()) serveWorkerTasks();
