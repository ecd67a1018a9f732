/// <reference lib="webworker" />
/**
 * Worker entry of the results page's verifier: the vote plugin's and the re-encryption
 * backend's task registrations, served to the library's worker pool
 * (`setWorkerEntry("/web/vote-verify-worker.js")`). Browser module.
 *
 * @module
 */

import "../../../../plugins/vote/worker_entry.ts";
