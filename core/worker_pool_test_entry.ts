// Worker entry used by worker_pool_test.ts: registers test tasks and serves them.
import { VerificationError } from "./errors.ts";
import { isWorkerContext, registerWorkerTask, serveWorkerTasks } from "./worker_pool.ts";

/** Registers the tasks the worker pool tests use. */
export function registerTestTasks(): void {
  registerWorkerTask("test/sum", sum);
  registerWorkerTask("test/fail", fail);
}

function sum(args: Uint8Array[]): Uint8Array[] {
  let s = 0;
  for (const b of args[0] ?? []) s += b;
  return [new Uint8Array([s & 0xff])];
}

function fail(): Uint8Array[] {
  throw new VerificationError("planned failure");
}

registerTestTasks();
if (isWorkerContext()) serveWorkerTasks();
