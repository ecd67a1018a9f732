// Worker entry used by worker_pool_test.ts: registers test tasks and serves them.
import { VerificationError } from "./errors.ts";
import {
  I32,
  instantiateCompiledWasm,
  OP,
  shareWasmModule,
  WasmModuleBuilder,
} from "./wasm_module.ts";
import { isWorkerContext, registerWorkerTask, serveWorkerTasks } from "./worker_pool.ts";

/** Registers the tasks the worker pool tests use. */
export function registerTestTasks(): void {
  registerWorkerTask("test/sum", sum);
  registerWorkerTask("test/fail", fail);
  registerWorkerTask("test/shared-wasm", sharedWasm);
}

/** A module the pool hands to its workers compiled (registered in every realm that loads this). */
function sharedTestModule(): WasmModuleBuilder {
  const m = new WasmModuleBuilder(1);
  m.define(m.declare("add", [I32, I32], [I32]), [], [OP.localGet, 0, OP.localGet, 1, OP.i32Add]);
  return m;
}
shareWasmModule("test/shared", sharedTestModule);

/** [1 when the worker holds the shared module without having compiled it, 2 + 3 by it]. */
function sharedWasm(): Uint8Array[] {
  // Nothing in a worker compiles "test/shared": found here means handed over by the pool.
  const instance = instantiateCompiledWasm("test/shared");
  return [new Uint8Array([instance === undefined ? 0 : 1, instance?.exports.add?.(2, 3) ?? 0])];
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
