/**
 * Simulated voters on the worker pool: each worker draws random valid answers and encrypts
 * the ballots (ciphertext and proof of knowledge) of a contiguous range of voters
 * `voter-(lo+1)` … `voter-hi`, so ballot generation in benchmarks and simulations uses
 * every worker instead of one core.
 *
 * Packing (task "vote/simulate-ballots"): args are the definition envelope (msgpack), the
 * fingerprint, the public key (32 bytes), u32be(start) ‖ u32be(count), a seed (empty, or
 * bytes from which voter i's randomness is derived as seededRandom(seed ‖ u32be(i))), the
 * blank rate (float64be), and the answers (msgpack array, or empty to draw them). The
 * result is the ciphertexts (64·w bytes each), the proofs (packed as in ballot envelopes,
 * 64·w bytes each) and the answers (msgpack array).
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
import { concatBytes } from "../../core/bytes.ts";
import {
  Ciphertext,
  decodePoint,
  ELEMENT_BYTES,
  encodePoint,
} from "../../backends/reencrypt/mod.ts";
import { type ElectionAnswer, electionBallotLayout } from "./answers.ts";
import {
  type ElectionBallot,
  type ElectionPublicInfo,
  type EncryptBallotOptions,
  encryptElectionBallots,
  packBallotProof,
  unpackBallotProof,
} from "./ballot.ts";
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

function simulateBallotsTask(args: Uint8Array[]): Uint8Array[] {
  const definition = electionDefinitionFromEnvelope(decodeMsgpack(arg(args, 0), "definition"));
  const fingerprint = arg(args, 1);
  const publicKey = decodePoint(arg(args, 2), "public key");
  const range = new DataView(arg(args, 3).buffer, arg(args, 3).byteOffset, 8);
  const start = range.getUint32(0), count = range.getUint32(4);
  const seed = arg(args, 4);
  const blank = new DataView(arg(args, 5).buffer, arg(args, 5).byteOffset, 8).getFloat64(0);
  const given = arg(args, 6).length === 0
    ? undefined
    : decodeMsgpack(arg(args, 6), "answers") as ElectionAnswer[][];
  const election: ElectionPublicInfo = { definition, fingerprint, publicKey };
  const size = 2 * ELEMENT_BYTES * electionBallotLayout(definition).elements.length;
  const cts = new Uint8Array(count * size), proofs = new Uint8Array(count * size);
  const answers: ElectionAnswer[][] = [];
  const voters: EncryptBallotOptions[] = [];
  // Without a seed, the system CSPRNG drawn a block at a time (answers take a few bytes).
  const pooled = seed.length === 0 ? pooledSystemRandom() : undefined;
  for (let j = 0; j < count; j++) {
    const i = start + j;
    const random = pooled ?? voterRandom(seed, i);
    const a = given?.[j] ?? randomElectionAnswers(definition, random, { blank });
    answers.push(a);
    voters.push({ credential: `voter-${i + 1}`, answers: a, random });
  }
  // The whole chunk at once: fixed-base products and encodings batched (ballot.ts); voter i's
  // randomness is drawn from its own source in the order encryptElectionBallot draws it.
  encryptElectionBallots(election, voters).forEach((ballot, j) => {
    cts.set(ballot.ciphertext.bytes, j * size);
    proofs.set(packBallotProof(ballot.proof), j * size);
  });
  return [cts, proofs, encodeMsgpack(answers)];
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

/** Jobs of about 1,000 voters per window, per worker; two windows run at a time. */
const JOBS_PER_WINDOW_PER_WORKER = 2;

/**
 * Encrypts the ballots of `count` simulated voters `voter-1`… with random valid answers on
 * the worker pool, and yields them a chunk (one job, about 1,000 voters) at a time in voter
 * order, so a caller can cast each chunk as it is made and never hold all ballots (issue 17).
 * Jobs run in windows of two per worker, the next two windows while a window is yielded:
 * memory holds about three windows of ballots, whatever `count` is.
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
  const blank = options.blank ?? 0;
  if (!(blank >= 0 && blank <= 1)) {
    throw new InvalidInputError(`Blank rate must be between 0 and 1, got ${blank}`);
  }
  const { count } = options;
  const workers = options.workers ?? workerCount();
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
    ];
  };
  // One fingerprint shared by every ballot (a view, never transferred to a worker whole).
  const shared = new Uint8Array(2 * election.fingerprint.length);
  shared.set(election.fingerprint);
  const fingerprint = shared.subarray(0, election.fingerprint.length);
  const size = 2 * ELEMENT_BYTES * electionBallotLayout(election.definition).elements.length;
  const toChunk = ([lo, hi]: [number, number], [cts, proofs, answerBytes]: Uint8Array[]) => {
    const answers = decodeMsgpack(answerBytes!, "answers") as ElectionAnswer[][];
    const ballots: ElectionBallot[] = [];
    for (let j = 0; j < hi - lo; j++) {
      const i = lo + j;
      ballots.push({
        election: fingerprint,
        credential: `voter-${i + 1}`,
        // Made by the worker from valid points: not decoded again here.
        ciphertext: Ciphertext.unchecked(cts!.subarray(j * size, (j + 1) * size)),
        // Views into the chunk's buffer: one backing store per chunk, not per ballot.
        proof: unpackBallotProof(proofs!.subarray(j * size, (j + 1) * size), `ballot ${i}`, {
          view: true,
        }),
      });
    }
    return { lo, ballots, answers: answers.slice(0, hi - lo) };
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
        results[k] = []; // the chunk's views keep its buffers; the list need not
        yield chunk;
      }
    }
  } finally {
    // Nothing left running when the caller stops early or fails.
    await Promise.allSettled(pending);
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
