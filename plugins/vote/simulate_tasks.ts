/**
 * Simulated voters on the worker pool: each worker draws random valid answers and encrypts
 * the ballots (ciphertext and proof of knowledge) of a contiguous range of voters
 * `voter-(lo+1)` … `voter-hi`, so ballot generation in benchmarks and simulations uses
 * every worker instead of one core.
 *
 * Packing (task "vote/simulate-ballots"): args are the definition envelope (msgpack), the
 * fingerprint, the public key (32 bytes), u32be(start) ‖ u32be(count), a seed (empty, or
 * bytes from which voter i's randomness is derived as seededRandom(seed ‖ u32be(i))), the
 * blank rate (float64be), the answers (msgpack array, or empty to draw them), and whether
 * to return the answers (one byte, 1 or 0). The result is the ballots as a ballot
 * store keeps them (`encodeStoredBallots`: u32be(length) ‖ stored encoding, each) and the
 * answers (msgpack array, or empty when not asked for).
 *
 * @module
 */

import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { type RandomSource, seededRandom, systemRandom } from "../../core/random.ts";
import {
  registerWorkerTask,
  runWorkerJobs,
  splitRange,
  workerCount,
} from "../../core/worker_pool.ts";
import { concatBytes, joinBytes } from "../../core/bytes.ts";
import { decodePoint, encodePoint } from "../../backends/reencrypt/mod.ts";
import type { ElectionAnswer } from "./answers.ts";
import type { ElectionBallot, ElectionPublicInfo, EncryptBallotOptions } from "./ballot.ts";
import { decodeStoredBallots, encryptStoredBallots } from "./ballot_store.ts";
import { electionDefinitionFromEnvelope, electionDefinitionToEnvelope } from "./definition.ts";
import { randomElectionAnswers, type SimulatedBallots } from "./simulate.ts";
import type { VoteBatchOptions } from "./tasks.ts";

/** Task name of parallel simulated voters. */
export const SIMULATE_BALLOTS_TASK = "vote/simulate-ballots";

function arg(args: Uint8Array[], i: number): Uint8Array {
  const a = args[i];
  if (a === undefined) throw new InvalidInputError(`Vote task argument ${i} is missing`);
  return a;
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** Voter i's own randomness, so a seeded simulation is the same on any number of workers. */
function voterRandom(seed: Uint8Array, index: number) {
  return seededRandom(concatBytes(seed, u32(index)));
}

/**
 * This worker's pooled system randomness, made at its first job: one function for all its
 * jobs, so the compiled code that calls it is not thrown away at each job for a new one
 * (issue 17).
 */
let systemPool: RandomSource | undefined;

/** The system CSPRNG read 4 KiB at a time (each byte handed out once). */
function pooledSystemRandom(): RandomSource {
  const pool = new Uint8Array(4096);
  let at = pool.length;
  return (out) => {
    if (out.length > pool.length) return systemRandom(out);
    if (at + out.length > pool.length) {
      systemRandom(pool);
      at = 0;
    }
    out.set(pool.subarray(at, at + out.length));
    at += out.length;
  };
}

/**
 * Voters encrypted at once within a job: what is alive at a time (their answers, scalars,
 * ballots and encodings) stays small enough for the young generation, so a scavenge finds it
 * dead instead of copying and promoting it (issue 17: with a whole job of 1,000 voters alive,
 * about 2 KB per ballot reached the old generation and cost mark-compacts and their helper
 * threads). 256 is also the block of the WebAssembly encryption (curve_wasm.ts).
 */
const VOTERS_PER_BATCH = 256;

/**
 * The election of the last job, by its definition, fingerprint and key bytes: the jobs of a
 * simulation on this worker share one definition and one key object, so what is kept per
 * definition (its answer layout and plan) or per key (its fixed-base table) is found again,
 * and the per-ballot code sees objects of one shape (issue 17: a definition decoded again
 * per job was laid out again and deoptimized the compiled encoding).
 */
let lastElection: { bytes: Uint8Array; election: ElectionPublicInfo } | undefined;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function jobElection(args: Uint8Array[]): ElectionPublicInfo {
  const d = arg(args, 0), fingerprint = arg(args, 1), key = arg(args, 2);
  const bytes = new Uint8Array(d.length + fingerprint.length + key.length + 8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, d.length), view.setUint32(4, fingerprint.length);
  bytes.set(d, 8),
    bytes.set(fingerprint, 8 + d.length),
    bytes.set(key, 8 + d.length + fingerprint.length);
  if (lastElection !== undefined && sameBytes(lastElection.bytes, bytes)) {
    return lastElection.election;
  }
  const election: ElectionPublicInfo = {
    definition: electionDefinitionFromEnvelope(decodeMsgpack(d, "definition")),
    fingerprint: fingerprint.slice(),
    publicKey: decodePoint(key, "public key"),
  };
  lastElection = { bytes, election };
  return election;
}

function simulateBallotsTask(args: Uint8Array[]): Uint8Array[] {
  const election = jobElection(args);
  const { definition } = election;
  const range = new DataView(arg(args, 3).buffer, arg(args, 3).byteOffset, 8);
  const start = range.getUint32(0), count = range.getUint32(4);
  const seed = arg(args, 4);
  const blank = new DataView(arg(args, 5).buffer, arg(args, 5).byteOffset, 8).getFloat64(0);
  const given = arg(args, 6).length === 0
    ? undefined
    : decodeMsgpack(arg(args, 6), "answers") as ElectionAnswer[][];
  const answersBack = arg(args, 7)[0] === 1;
  const answers: ElectionAnswer[][] = [];
  const parts: Uint8Array[] = [];
  // Without a seed, the system CSPRNG drawn a block at a time (answers take a few bytes).
  const pooled = seed.length === 0 ? (systemPool ??= pooledSystemRandom()) : undefined;
  for (let lo = 0; lo < count; lo += VOTERS_PER_BATCH) {
    const hi = Math.min(count, lo + VOTERS_PER_BATCH);
    const voters: EncryptBallotOptions[] = [];
    for (let j = lo; j < hi; j++) {
      const i = start + j;
      const random = pooled ?? voterRandom(seed, i);
      const a = given?.[j] ?? randomElectionAnswers(definition, random, { blank });
      if (answersBack) answers.push(a);
      voters.push({ credential: `voter-${i + 1}`, answers: a, random });
    }
    // A batch at once: fixed-base products and encodings batched (ballot.ts); voter i's
    // randomness is drawn from its own source in the order encryptElectionBallot draws it.
    // Encoded here as the ballot store keeps them: the main thread appends the buffer whole.
    parts.push(encryptStoredBallots(election, voters));
  }
  const ballots = parts.length === 1 ? parts[0]! : joinBytes(parts);
  return [ballots, answersBack ? encodeMsgpack(answers) : new Uint8Array(0)];
}

registerWorkerTask(SIMULATE_BALLOTS_TASK, simulateBallotsTask);

/** Options of {@linkcode simulateElectionBallotsInParallel}. */
export interface ParallelSimulationOptions extends VoteBatchOptions {
  /** Number of simulated voters. */
  count: number;
  /**
   * Seed of a reproducible simulation (voter i's randomness is derived from seed and i, so
   * the ballots are the same bytes on any number of workers); default the system CSPRNG.
   */
  seed?: Uint8Array;
  /** Probability of a blank answer where allowed (default 0). */
  blank?: number;
  /** A fixed answer per voter index (computed here, encrypted on the workers). */
  answers?: (index: number) => ElectionAnswer[];
}

/** Options of {@linkcode simulateEncodedBallotChunks}. */
export interface EncodedSimulationOptions extends ParallelSimulationOptions {
  /** Whether each chunk carries the answers its ballots hold (default false). */
  withAnswers?: boolean;
}

/** A chunk of simulated voters' ballots, encoded as a ballot store keeps them. */
export interface EncodedSimulatedBallots {
  /** Index of the chunk's first voter (0-based: its credential is `voter-(lo+1)`). */
  lo: number;
  /** Number of ballots in the chunk. */
  count: number;
  /**
   * The ballots as {@linkcode encodeStoredBallots} makes them (each u32be(length) ‖ stored
   * encoding), in voter order: one buffer of its own, for `EncodedBallotStore.appendEncoded`.
   */
  encoded: Uint8Array;
  /** The answers each ballot holds, in the same order (only when `withAnswers` is set). */
  answers?: ElectionAnswer[][];
}

/** Jobs of about 1,000 voters per window, per worker; two windows run at a time. */
const JOBS_PER_WINDOW_PER_WORKER = 2;

/**
 * Encrypts the ballots of `count` simulated voters `voter-1`… with random valid answers on
 * the worker pool, and yields them a chunk (one job, about 1,000 voters) at a time in voter
 * order, each chunk already encoded as a ballot store keeps it: a caller appends it whole
 * (`EncodedBallotStore.appendEncoded`) with no ballot object made, decoded or encoded on its
 * thread (issue 17). Jobs run in windows of two per worker, the next two windows while a
 * window is yielded: memory holds about three windows of ballots, whatever `count` is.
 *
 * @param election the election (with its public key)
 * @param options count, seed, blank rate, fixed answers, whether to return the answers,
 *   workers, and `onChunk` progress
 * @returns the encoded chunks, in voter order
 * @throws {InvalidInputError} when the blank rate is not in [0, 1] or fixed answers break the rules
 * @example
 * ```ts ignore
 * for await (const { encoded } of simulateEncodedBallotChunks(election, { count: 1_000_000 })) {
 *   store.appendEncoded(encoded);
 * }
 * ```
 */
export async function* simulateEncodedBallotChunks(
  election: ElectionPublicInfo,
  options: EncodedSimulationOptions,
): AsyncGenerator<EncodedSimulatedBallots> {
  const blank = options.blank ?? 0;
  if (!(blank >= 0 && blank <= 1)) {
    throw new InvalidInputError(`Blank rate must be between 0 and 1, got ${blank}`);
  }
  const { count } = options;
  const workers = options.workers ?? workerCount();
  const withAnswers = options.withAnswers === true;
  const definitionBytes = encodeMsgpack(electionDefinitionToEnvelope(election.definition));
  const pk = encodePoint(election.publicKey);
  const seed = options.seed ?? new Uint8Array(0);
  const blankBytes = new Uint8Array(8);
  new DataView(blankBytes.buffer).setFloat64(0, blank);
  // Chunks of ~1000 voters: progress between rounds, and the pool's copies stay small.
  const ranges = splitRange(count, Math.max(workers, Math.ceil(count / 1000)));
  const makeArgs = ([lo, hi]: [number, number]) => {
    const range = new Uint8Array(8);
    new DataView(range.buffer).setUint32(0, lo);
    new DataView(range.buffer).setUint32(4, hi - lo);
    const given = options.answers === undefined ? new Uint8Array(0) : encodeMsgpack(
      Array.from({ length: hi - lo }, (_, j) => options.answers!(lo + j)),
    );
    return [
      definitionBytes.slice(),
      election.fingerprint.slice(),
      pk.slice(),
      range,
      seed.slice(),
      blankBytes.slice(),
      given,
      new Uint8Array([withAnswers ? 1 : 0]),
    ];
  };
  const toChunk = ([lo, hi]: [number, number], [encoded, answerBytes]: Uint8Array[]) => {
    const chunk: EncodedSimulatedBallots = { lo, count: hi - lo, encoded: encoded! };
    if (withAnswers) {
      const answers = decodeMsgpack(answerBytes!, "answers") as ElectionAnswer[][];
      chunk.answers = answers.slice(0, hi - lo);
    }
    return chunk;
  };
  // Windows of jobs, two running while the one before them is yielded: every worker stays
  // busy across a window's end, and progress is reported as each job ends (issue 17).
  const window = JOBS_PER_WINDOW_PER_WORKER * Math.max(1, workers);
  const windows = Math.ceil(ranges.length / window);
  let done = 0;
  const start = (w: number) => {
    const first = w * window, jobs = Math.min(window, ranges.length - first);
    const running = runWorkerJobs(SIMULATE_BALLOTS_TASK, {
      count: jobs,
      args: (k) => makeArgs(ranges[first + k]!),
    }, {
      workers,
      onResult: (k) => {
        const [lo, hi] = ranges[first + k]!;
        done += hi - lo;
        options.onChunk?.(done, count);
      },
    });
    running.catch(() => {}); // awaited in order below; not an unhandled rejection meanwhile
    return running;
  };
  const pending = Array.from({ length: Math.min(2, windows) }, (_, w) => start(w));
  try {
    for (let w = 0; w < windows; w++) {
      const results = await pending.shift()!;
      if (w + 2 < windows) pending.push(start(w + 2));
      for (let k = 0; k < results.length; k++) {
        const chunk = toChunk(ranges[w * window + k]!, results[k]!);
        results[k] = []; // the chunk holds its buffer; the list need not
        yield chunk;
      }
    }
  } finally {
    // Nothing left running when the caller stops early or fails.
    await Promise.allSettled(pending);
  }
}

/**
 * Encrypts the ballots of `count` simulated voters `voter-1`… with random valid answers on
 * the worker pool, and yields them a chunk (one job, about 1,000 voters) at a time in voter
 * order, so a caller can cast each chunk as it is made and never hold all ballots (issue 17):
 * the chunks of {@linkcode simulateEncodedBallotChunks}, decoded (the ballots of a chunk are
 * views into its one buffer).
 *
 * @param election the election (with its public key)
 * @param options count, seed, blank rate, fixed answers, workers, and `onChunk` progress
 * @returns the chunks, in voter order
 * @throws {InvalidInputError} when the blank rate is not in [0, 1] or fixed answers break the rules
 * @example
 * ```ts ignore
 * for await (const { ballots } of simulateElectionBallotChunks(election, { count: 1_000_000 })) {
 *   await box.castMany(ballots, { receipts: false });
 * }
 * ```
 */
export async function* simulateElectionBallotChunks(
  election: ElectionPublicInfo,
  options: ParallelSimulationOptions,
): AsyncGenerator<SimulatedBallots> {
  // One fingerprint shared by every ballot (a view, never transferred to a worker whole).
  const shared = new Uint8Array(2 * election.fingerprint.length);
  shared.set(election.fingerprint);
  const fingerprint = shared.subarray(0, election.fingerprint.length);
  const chunks = simulateEncodedBallotChunks(election, { ...options, withAnswers: true });
  for await (const { lo, count, encoded, answers } of chunks) {
    const what = `simulated voters ${lo + 1}..${lo + count}`;
    const ballots = decodeStoredBallots(encoded, { fingerprint, what });
    if (ballots.length !== count || answers?.length !== count) {
      throw new InvalidInputError(
        `Chunk of ${what} holds ${ballots.length} ballots and ${answers?.length} answers`,
      );
    }
    yield { lo, ballots, answers };
  }
}

/**
 * Encrypts the ballots of `count` simulated voters `voter-1`… with random valid answers,
 * in parallel on the worker pool (chunks of voters per worker; one worker = this thread):
 * every chunk of {@linkcode simulateElectionBallotChunks}, collected.
 *
 * @param election the election (with its public key)
 * @param options count, seed, blank rate, fixed answers, workers, and `onChunk` progress
 * @returns the ballots and the answers they hold (in voter order)
 * @throws {InvalidInputError} when the blank rate is not in [0, 1] or fixed answers break the rules
 * @example
 * ```ts
 * import { createElectionDefinition, electionFingerprint } from "./definition.ts";
 * import { runLocalKeyCeremony } from "./ceremony.ts";
 * import { simulateElectionBallotsInParallel } from "./simulate_tasks.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const fingerprint = electionFingerprint(definition);
 * const { key } = runLocalKeyCeremony({ definition, fingerprint });
 * const election = { definition, fingerprint, publicKey: key.publicKey };
 * const { ballots } = await simulateElectionBallotsInParallel(election, { count: 3, workers: 1 });
 * console.assert(ballots[2]!.credential === "voter-3");
 * ```
 */
export async function simulateElectionBallotsInParallel(
  election: ElectionPublicInfo,
  options: ParallelSimulationOptions,
): Promise<{ ballots: ElectionBallot[]; answers: ElectionAnswer[][] }> {
  const ballots: ElectionBallot[] = [];
  const answers: ElectionAnswer[][] = [];
  for await (const chunk of simulateElectionBallotChunks(election, options)) {
    for (const b of chunk.ballots) ballots.push(b);
    for (const a of chunk.answers) answers.push(a);
  }
  return { ballots, answers };
}
