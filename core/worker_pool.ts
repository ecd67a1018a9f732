/**
 * A small generic Web Worker pool. Tasks are plain functions over byte arrays,
 * registered statically by name ({@linkcode registerWorkerTask}) in every realm
 * that imports the registering module; a worker is started from an entry module
 * that imports those registrations and calls {@linkcode serveWorkerTasks}.
 *
 * The entry module is global ({@linkcode setWorkerEntry}); a backend may offer a
 * default ({@linkcode setDefaultWorkerEntry}). The CLI sets its own main module so
 * the compiled binary and the single-file bundle are their own worker entries.
 * Without `Worker`, with one worker, or with no entry, tasks run in the calling
 * thread with the same code. Messages carry only `Uint8Array`s (transferred).
 *
 * Workers that wait for tasks would keep a Deno or Node process alive, so a pool stops its
 * workers once it has had no task for {@linkcode WORKER_IDLE_MS} milliseconds (they start
 * again on the next task): a script ends on its own shortly after its work is done.
 * {@linkcode closeWorkerPool} stops them at once (the CLI calls it in its main module).
 *
 * Message protocol: request `{ task, id, args: Uint8Array[] }`; answer
 * `{ id, result: Uint8Array[] }` or `{ id, error: { name, code, message } }`.
 *
 * @module
 */

import {
  BatchTooSmallError,
  ConfigError,
  type ErrorCode,
  InvalidInputError,
  NotFoundError,
  PanoramixError,
  ReplayError,
  UsageError,
  VerificationError,
} from "./errors.ts";
import { adoptWasmModules, wasmModulesToShare } from "./wasm_module.ts";

/** A task: bytes in, bytes out. Must be pure (no state shared with the caller). */
export type WorkerTask = (args: Uint8Array[]) => Uint8Array[] | Promise<Uint8Array[]>;

const tasks = new Map<string, WorkerTask>();
let entryUrl: string | undefined;
let defaultEntryUrl: string | undefined;
let configuredSize: number | undefined;
let configuredIdleMs: number | undefined;
let sharedPool: WorkerPool | undefined;
// Set when a worker could not start (e.g. a bundled library whose entry URL does not exist):
// later calls run in-thread instead of failing.
let workersBroken = false;

/** A worker died or could not load its entry module (not a task error). */
class WorkerCrashError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = "WorkerCrashError";
  }
}

/**
 * Registers a task under a unique name (call at module load, in every realm).
 *
 * @param name task name, e.g. "reencrypt/shuffle-phase1"
 * @param fn the task
 * @example
 * ```ts
 * import { registerWorkerTask, runWorkerTasks } from "./worker_pool.ts";
 * registerWorkerTask("example/echo", (args) => args);
 * const [out] = await runWorkerTasks("example/echo", [[new Uint8Array([1])]], { workers: 1 });
 * console.assert(out![0]![0] === 1);
 * ```
 */
export function registerWorkerTask(name: string, fn: WorkerTask): void {
  const existing = tasks.get(name);
  if (existing !== undefined && existing !== fn) {
    throw new ConfigError(`Worker task '${name}' is already registered`);
  }
  tasks.set(name, fn);
}

/**
 * Sets the module URL workers are started from (overrides any default).
 *
 * @param url entry module URL, or undefined to clear
 * @example
 * ```ts
 * import { setWorkerEntry } from "./worker_pool.ts";
 * setWorkerEntry(undefined);
 * ```
 */
export function setWorkerEntry(url: URL | string | undefined): void {
  entryUrl = url === undefined ? undefined : String(url);
  workersBroken = false;
  closeWorkerPool();
}

/**
 * Sets the fallback entry module used when {@linkcode setWorkerEntry} was not called
 * (backends call this with their own worker entry).
 *
 * @param url entry module URL
 * @example
 * ```ts
 * import { setDefaultWorkerEntry } from "./worker_pool.ts";
 * setDefaultWorkerEntry(new URL("./worker_pool.ts", import.meta.url));
 * ```
 */
export function setDefaultWorkerEntry(url: URL | string): void {
  defaultEntryUrl ??= String(url);
}

/**
 * Sets the number of workers of the shared pool (default `navigator.hardwareConcurrency`).
 *
 * @param count 1 or more; 1 runs everything in the calling thread
 * @example
 * ```ts
 * import { setWorkerCount, workerCount } from "./worker_pool.ts";
 * setWorkerCount(1);
 * console.assert(workerCount() === 1);
 * setWorkerCount(undefined);
 * ```
 */
export function setWorkerCount(count: number | undefined): void {
  if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > 1024)) {
    throw new ConfigError(`Worker count '${count}' must be an integer from 1 to 1024`);
  }
  configuredSize = count;
  closeWorkerPool();
}

/**
 * Sets how long the shared pool keeps idle workers (default {@linkcode WORKER_IDLE_MS}). A
 * program that stops the pool itself when done ({@linkcode closeWorkerPool}), as the CLI
 * does, can keep its workers for seconds: a worker restarted between two phases of a long
 * run loads its modules and warms up its compiled code again (issue 17).
 *
 * @param ms milliseconds (0 to 600,000), or undefined for the default
 * @example
 * ```ts
 * import { closeWorkerPool, setWorkerIdleTime } from "./worker_pool.ts";
 * setWorkerIdleTime(10_000);
 * closeWorkerPool(); // stops the workers at once whatever the idle time
 * setWorkerIdleTime(undefined);
 * ```
 */
export function setWorkerIdleTime(ms: number | undefined): void {
  if (ms !== undefined && (!Number.isInteger(ms) || ms < 0 || ms > 600_000)) {
    throw new ConfigError(`Worker idle time '${ms}' must be an integer from 0 to 600000 ms`);
  }
  configuredIdleMs = ms;
  closeWorkerPool();
}

/**
 * The number of workers the shared pool uses (1 when workers are unavailable).
 *
 * @returns the worker count
 * @example
 * ```ts
 * import { workerCount } from "./worker_pool.ts";
 * console.assert(workerCount() >= 1);
 * ```
 */
export function workerCount(): number {
  if (!workersAvailable()) return 1;
  const hw = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : undefined;
  return configuredSize ?? (typeof hw === "number" && hw > 0 ? hw : 1);
}

function workersAvailable(): boolean {
  return typeof Worker === "function" && currentEntry() !== undefined && !isWorkerContext() &&
    !workersBroken;
}

function currentEntry(): string | undefined {
  return entryUrl ?? defaultEntryUrl;
}

/**
 * True when the code runs inside a Web Worker (the CLI then serves tasks instead of parsing argv).
 *
 * @returns whether this realm is a worker
 * @example
 * ```ts
 * import { isWorkerContext } from "./worker_pool.ts";
 * console.assert(isWorkerContext() === false);
 * ```
 */
export function isWorkerContext(): boolean {
  const scope = (globalThis as { WorkerGlobalScope?: abstract new () => unknown })
    .WorkerGlobalScope;
  return typeof scope === "function" && globalThis instanceof scope;
}

interface Request {
  task: string;
  id: number;
  args: Uint8Array[];
}

interface ErrorPayload {
  name: string;
  code: string;
  message: string;
}

function transferList(values: readonly Uint8Array[]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const v of values) {
    // Only whole, non-shared buffers can be transferred.
    if (
      v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength
    ) {
      seen.add(v.buffer);
    }
  }
  return [...seen];
}

function toPayload(error: unknown): ErrorPayload {
  if (error instanceof PanoramixError) {
    return { name: error.name, code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { name: "Error", code: "internal", message };
}

function fromPayload(payload: ErrorPayload): Error {
  const byCode: Partial<Record<ErrorCode, new (message: string) => PanoramixError>> = {
    invalid_input: InvalidInputError,
    verification_failed: VerificationError,
    config: ConfigError,
    usage: UsageError,
    not_found: NotFoundError,
    batch_too_small: BatchTooSmallError,
    replay: ReplayError,
  };
  const ctor = byCode[payload.code as ErrorCode];
  return ctor !== undefined ? new ctor(payload.message) : new Error(payload.message);
}

async function runLocal(task: string, args: Uint8Array[]): Promise<Uint8Array[]> {
  const fn = tasks.get(task);
  if (fn === undefined) throw new ConfigError(`Worker task '${task}' is not registered`);
  return await fn(args);
}

/**
 * Serves registered tasks in a worker: answers `{ task, id, args }` messages. Call it
 * once from the worker entry module.
 *
 * @example
 * ```ts
 * import { isWorkerContext, serveWorkerTasks } from "./worker_pool.ts";
 * if (isWorkerContext()) serveWorkerTasks();
 * ```
 */
export function serveWorkerTasks(): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<Request>) => void) | null;
    postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  };
  scope.onmessage = async (event) => {
    // First, from the pool: the WebAssembly modules the starting thread compiled.
    const modules = (event.data as { modules?: unknown }).modules;
    if (Array.isArray(modules)) {
      adoptWasmModules(modules);
      return;
    }
    const { task, id, args } = event.data;
    try {
      const result = await runLocal(task, args);
      scope.postMessage({ id, result }, transferList(result));
    } catch (error) {
      scope.postMessage({ id, error: toPayload(error) }, []);
    }
  };
}

/** How long a pool keeps idle workers before it stops them (they restart on demand). */
export const WORKER_IDLE_MS = 250;

interface Pending {
  resolve(value: Uint8Array[]): void;
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * A fixed set of workers started from one entry module. Tasks go to the least busy worker.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "./worker_pool.ts";
 * const pool = new WorkerPool({ size: 1, entry: new URL("./worker_pool.ts", import.meta.url) });
 * pool.close();
 * ```
 */
export class WorkerPool {
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #entry: string;
  readonly #size: number;
  readonly #idleMs: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #nextId = 0;

  /**
   * Creates a pool; workers start on the first task and stop after `idleMs` without one.
   *
   * @param options `size` (number of workers), `entry` (module URL serving the tasks) and
   *   `idleMs` (default {@linkcode WORKER_IDLE_MS})
   */
  constructor(options: { size: number; entry: URL | string; idleMs?: number }) {
    this.#size = options.size;
    this.#entry = String(options.entry);
    this.#idleMs = options.idleMs ?? WORKER_IDLE_MS;
  }

  /** Number of workers running now (0 before the first task and after an idle period). */
  get running(): number {
    return this.#slots.length;
  }

  #settled(): void {
    if (this.#pending.size > 0 || this.#slots.length === 0) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#pending.size === 0) this.#stopWorkers();
    }, this.#idleMs);
  }

  #stopWorkers(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    for (const s of this.#slots) s.worker.terminate();
    this.#slots.length = 0;
  }

  /** Number of workers. */
  get size(): number {
    return this.#size;
  }

  #start(): void {
    // The shared WebAssembly modules, compiled here once, go to every worker before its first
    // task: no worker assembles and compiles them again (issue 17).
    const modules = this.#slots.length < this.#size ? wasmModulesToShare() : [];
    while (this.#slots.length < this.#size) {
      const worker = new Worker(this.#entry, { type: "module" });
      if (modules.length > 0) {
        try {
          worker.postMessage({ modules });
        } catch {
          // A platform that cannot post compiled modules: the worker compiles its own.
        }
      }
      const slot: Slot = { worker, busy: 0 };
      worker.onmessage = (event: MessageEvent) => {
        const data = event.data as { id: number; result?: Uint8Array[]; error?: ErrorPayload };
        const pending = this.#pending.get(data.id);
        if (pending === undefined) return;
        this.#pending.delete(data.id);
        slot.busy--;
        if (data.error !== undefined) pending.reject(fromPayload(data.error));
        else pending.resolve(data.result ?? []);
        this.#settled();
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        const error = new WorkerCrashError(`Worker failed: ${event.message}`);
        for (const p of this.#pending.values()) p.reject(error);
        this.#pending.clear();
        this.close();
      };
      this.#slots.push(slot);
    }
  }

  /**
   * Runs one task on a worker.
   *
   * @param task registered task name
   * @param args byte arrays (their buffers are transferred when whole)
   * @returns the task result
   */
  run(task: string, args: Uint8Array[]): Promise<Uint8Array[]> {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#start();
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.busy < slot.busy) slot = s;
    const id = this.#nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      slot.worker.postMessage({ task, id, args } satisfies Request, transferList(args));
    });
  }

  /** Terminates all workers; pending tasks are rejected. */
  close(): void {
    this.#stopWorkers();
    const error = new ConfigError("Worker pool was closed");
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}

/**
 * Splits positions 0..count−1 into at most `parts` contiguous, non-empty ranges of nearly
 * equal length (the chunks a batch is cut into for the workers).
 *
 * @param count number of positions
 * @param parts how many ranges at most
 * @returns [lo, hi) pairs in order
 * @example
 * ```ts
 * import { splitRange } from "./worker_pool.ts";
 * console.assert(JSON.stringify(splitRange(5, 2)) === "[[0,2],[2,5]]");
 * ```
 */
export function splitRange(count: number, parts: number): Array<[number, number]> {
  const n = Math.max(1, Math.min(count, parts));
  const out: Array<[number, number]> = [];
  for (let p = 0; p < n; p++) {
    const lo = Math.floor((p * count) / n), hi = Math.floor(((p + 1) * count) / n);
    if (hi > lo) out.push([lo, hi]);
  }
  return out;
}

/**
 * Cuts n positions into chunks for the workers with guided scheduling: the bulk in equal
 * chunks of at most `maxChunk` (as many per worker), then a tail of 4·`minChunk` positions
 * per worker cut in shrinking chunks (about 1/(2·workers) of what is left, none shorter than
 * `minChunk` unless the batch is small), so a step ends with short chunks and a worker that
 * finishes early waits little for the others, while most positions stay in long chunks.
 * With one worker (in-thread): as few chunks of at most `maxChunk` as possible.
 *
 * @param n number of positions
 * @param workers workers that will take the chunks
 * @param sizes `maxChunk` (longest chunk) and `minChunk` (shortest chunk of the tail)
 * @returns [lo, hi) pairs in order, covering 0..n
 * @example
 * ```ts
 * import { guidedRanges } from "./worker_pool.ts";
 * const ranges = guidedRanges(10_000, 2, { maxChunk: 4096, minChunk: 256 });
 * console.assert(ranges.at(-1)![1] === 10_000 && ranges.at(-1)![1] - ranges.at(-1)![0] <= 512);
 * ```
 */
export function guidedRanges(
  n: number,
  workers: number,
  sizes: { maxChunk: number; minChunk: number },
): Array<[number, number]> {
  const { maxChunk, minChunk } = sizes;
  if (workers <= 1) return splitRange(n, Math.ceil(n / maxChunk));
  // Small batches still get several chunks.
  const least = Math.min(minChunk, Math.ceil(n / (4 * workers)));
  const tail = Math.min(n, 4 * workers * least);
  const bulk = n - tail;
  const out: Array<[number, number]> = bulk === 0
    ? []
    : splitRange(bulk, workers * Math.ceil(bulk / (maxChunk * workers)));
  for (let lo = bulk; lo < n;) {
    const left = n - lo;
    let size = Math.min(left, maxChunk, Math.max(least, Math.ceil(left / (2 * workers))));
    if (left - size < least / 2) size = left; // no sliver at the end
    out.push([lo, lo + size]);
    lo += size;
  }
  return out;
}

/**
 * Runs a task over many argument lists, in parallel on the shared pool when workers are
 * available and more than one is configured, else one after another in this thread.
 *
 * @param task registered task name
 * @param argsList one argument list per job
 * @param options `workers` overrides the pool size for this call (1 = in-thread); `onJobDone`
 *   is called after each job with the number done and the total
 * @returns results in job order
 * @example
 * ```ts
 * import { registerWorkerTask, runWorkerTasks } from "./worker_pool.ts";
 * registerWorkerTask("example/len", (args) => [new Uint8Array([args.length])]);
 * const out = await runWorkerTasks("example/len", [[], [new Uint8Array(1)]], { workers: 1 });
 * console.assert(out[1]![0]![0] === 1);
 * ```
 */
export async function runWorkerTasks(
  task: string,
  argsList: Uint8Array[][],
  options: { workers?: number; onJobDone?: (done: number, total: number) => void } = {},
): Promise<Uint8Array[][]> {
  return await runWorkerJobs(task, { count: argsList.length, args: (i) => argsList[i]! }, options);
}

/** Jobs made on demand: job i's arguments are built only when it is about to start. */
export interface WorkerJobs {
  /** Number of jobs. */
  count: number;
  /** Builds job i's arguments (called once per job, in order, when the job starts). */
  args: (index: number) => Uint8Array[];
}

/** Jobs in flight per worker by default: one running, one queued behind it. */
export const JOBS_IN_FLIGHT_PER_WORKER = 2;

/**
 * Runs a task over jobs whose arguments are built on demand, keeping at most `inFlight`
 * jobs (default two per worker) between "arguments built" and "result received": the next
 * job starts as soon as one finishes (no rounds), and memory holds the arguments of the jobs
 * in flight, not of all jobs (issue 17). Falls back to this thread like
 * {@linkcode runWorkerTasks}; a worker crash re-runs the unfinished jobs here.
 *
 * @param task registered task name
 * @param jobs how many jobs, and how to build each one's arguments
 * @param options `workers` (1 = in-thread), `inFlight` (at least 1; default two per worker),
 *   `onJobDone(done, total)` after each job, `onArgs(started, done)` after each job's
 *   arguments are built (for tests and memory accounting), `onResult(index, value)` with each
 *   job's result as it arrives (in completion order, before `onJobDone`; e.g. to hash results
 *   in job order while later jobs still run)
 * @returns results in job order
 * @example
 * ```ts
 * import { registerWorkerTask, runWorkerJobs } from "./worker_pool.ts";
 * registerWorkerTask("example/count", (args) => [new Uint8Array([args[0]!.length])]);
 * const out = await runWorkerJobs("example/count", {
 *   count: 3,
 *   args: (i) => [new Uint8Array(i)],
 * }, { workers: 1 });
 * console.assert(out[2]![0]![0] === 2);
 * ```
 */
export async function runWorkerJobs(
  task: string,
  jobs: WorkerJobs,
  options: {
    workers?: number;
    inFlight?: number;
    onJobDone?: (done: number, total: number) => void;
    onArgs?: (started: number, done: number) => void;
    onResult?: (index: number, value: Uint8Array[]) => void;
  } = {},
): Promise<Uint8Array[][]> {
  const workers = options.workers ?? workerCount();
  const total = jobs.count;
  const results: Uint8Array[][] = new Array(total);
  let done = 0, started = 0;
  const build = (i: number) => {
    const args = jobs.args(i);
    started++;
    options.onArgs?.(started, done);
    return args;
  };
  const finished = (i: number, value: Uint8Array[]) => {
    results[i] = value;
    options.onResult?.(i, value);
    done++; // not inside the optional call: `f?.(++x)` skips the increment when f is absent
    options.onJobDone?.(done, total);
  };
  const runHere = async (from: Iterable<[number, Uint8Array[] | undefined]>) => {
    for (const [i, args] of from) finished(i, await runLocal(task, args ?? build(i)));
  };
  if (workers <= 1 || !workersAvailable() || total <= 1) {
    await runHere(Array.from({ length: total }, (_, i) => [i, undefined] as [number, undefined]));
    return results;
  }
  if (sharedPool === undefined || sharedPool.size !== workers) {
    sharedPool?.close();
    sharedPool = new WorkerPool({
      size: workers,
      entry: currentEntry()!,
      ...(configuredIdleMs === undefined ? {} : { idleMs: configuredIdleMs }),
    });
  }
  const pool = sharedPool;
  const limit = Math.max(1, options.inFlight ?? JOBS_IN_FLIGHT_PER_WORKER * workers);
  // Copies of the jobs in flight only: transferring detaches the buffers, and a crash means
  // re-running those jobs here.
  const copies = new Map<number, Uint8Array[]>();
  let next = 0;
  let crash: WorkerCrashError | undefined;
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const pump = () => {
      if (failed) return;
      if (done === total) return resolve();
      while (next < total && copies.size < limit && crash === undefined) {
        const i = next++;
        const args = build(i);
        copies.set(i, args.map((a) => a.slice()));
        pool.run(task, args).then(
          (value) => {
            // The caller's callbacks (onResult, the next job's arguments) may throw, e.g. on a
            // record list that cannot be read: that fails the run, not the process.
            copies.delete(i);
            if (failed) return; // the run has failed: no callbacks after its rejection
            try {
              finished(i, value);
              pump();
            } catch (error) {
              failed = true;
              reject(error);
            }
          },
          (error) => {
            // A crash rejects every job in flight at once; they are re-run here below.
            if (error instanceof WorkerCrashError) {
              crash ??= error;
              resolve();
              return;
            }
            failed = true;
            reject(error);
          },
        );
      }
    };
    pump();
  });
  if (crash === undefined) return results;
  // Say so once: the work still completes, but on one thread.
  console.warn(`panoramix: ${crash.message}; continuing on one thread`);
  workersBroken = true;
  closeWorkerPool();
  const redo: Array<[number, Uint8Array[] | undefined]> = [];
  for (let i = 0; i < total; i++) {
    if (results[i] === undefined) redo.push([i, i < next ? copies.get(i) : undefined]);
  }
  await runHere(redo);
  return results;
}

/** A task every realm has: answers at once, so a caller knows a worker has loaded. */
const READY_TASK = "core/ready";
registerWorkerTask(READY_TASK, () => []);

/**
 * Starts the shared pool's workers and waits until each has loaded its entry module, so that
 * a measurement of the work that follows does not include starting them (e.g. `vote bench`,
 * which reports this time on its own). Does nothing in-thread (one worker, or no workers).
 *
 * @param workers how many workers to start (default the shared pool size)
 * @returns when every worker has answered
 * @example
 * ```ts
 * import { closeWorkerPool, startWorkers } from "./worker_pool.ts";
 * await startWorkers(1); // in-thread: nothing to start
 * closeWorkerPool();
 * ```
 */
export async function startWorkers(workers: number = workerCount()): Promise<void> {
  if (workers <= 1) return;
  // One job per worker at once: the pool hands each to the least busy worker.
  await runWorkerJobs(READY_TASK, { count: workers, args: () => [] }, {
    workers,
    inFlight: workers,
  });
}

/**
 * Terminates the shared pool's workers now (idle workers also stop on their own after
 * {@linkcode WORKER_IDLE_MS}; the pool restarts on demand).
 *
 * @example
 * ```ts
 * import { closeWorkerPool } from "./worker_pool.ts";
 * closeWorkerPool();
 * ```
 */
export function closeWorkerPool(): void {
  sharedPool?.close();
  sharedPool = undefined;
}
