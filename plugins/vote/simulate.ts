/**
 * Simulated voters for examples, tests and benchmarks: random valid answers and their
 * encrypted ballots with credentials `voter-1`, `voter-2`, …
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { type RandomSource, systemRandom } from "../../core/random.ts";
import type { ElectionAnswer } from "./answers.ts";
import { type ElectionBallot, type ElectionPublicInfo, encryptElectionBallot } from "./ballot.ts";
import type { ElectionDefinition } from "./definition.ts";

/**
 * The word `uniform` draws into: a DataView over a new 4-byte array per draw would give each
 * an ArrayBuffer outside the heap, freed by the GC's helper threads (issue 17).
 */
const WORD = new Uint8Array(4);
const WORD_VIEW = new DataView(WORD.buffer);

function uniform(random: RandomSource, bound: number): number {
  // Rejection sampling over 32-bit words for an unbiased index below `bound`.
  const limit = Math.floor(0x100000000 / bound) * bound;
  for (;;) {
    random(WORD);
    const x = WORD_VIEW.getUint32(0);
    if (x < limit) return x % bound;
  }
}

/**
 * Random valid answers to every question of an election, as a voter gives them: each
 * question gets at least one choice (uniformly 1..max choices, or min..max when min > 1),
 * and a blank answer only with probability `blank` where the question allows one.
 *
 * @param definition the election
 * @param random randomness (default the system CSPRNG)
 * @param options `blank`: probability in [0, 1] of a blank answer to a question with
 *   min 0 (default 0: simulated voters never vote blank unless asked to)
 * @returns one answer per question
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { randomElectionAnswers } from "./simulate.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * console.assert(randomElectionAnswers(d).length === 1);
 * ```
 */
export function randomElectionAnswers(
  definition: ElectionDefinition,
  random: RandomSource = systemRandom,
  options: { blank?: number } = {},
): ElectionAnswer[] {
  const blank = options.blank ?? 0;
  if (!(blank >= 0 && blank <= 1)) {
    throw new InvalidInputError(`Blank rate must be between 0 and 1, got ${blank}`);
  }
  // Loops over numbers, no closure or array per draw: each worker compiles this for the
  // simulated voters (issue 17). The same draws, in the same order, as one splice per pick.
  const answers: ElectionAnswer[] = [];
  const pool: number[] = [];
  for (let qi = 0; qi < definition.questions.length; qi++) {
    const q = definition.questions[qi]!;
    // A blank answer only when asked for (probability `blank`, in steps of 10^-6).
    if (q.min === 0 && blank > 0 && uniform(random, 1_000_000) < blank * 1_000_000) {
      answers.push([]);
      continue;
    }
    const low = Math.min(Math.max(q.min, 1), q.max);
    const count = low + uniform(random, q.max - low + 1);
    let left = q.choices.length;
    for (let i = 0; i < left; i++) pool[i] = i;
    const picked: number[] = [];
    for (let k = 0; k < count; k++) {
      // Take the uniformly drawn one of the choices left, keeping the others in order.
      const at = uniform(random, left);
      picked.push(pool[at]!);
      left--;
      for (let i = at; i < left; i++) pool[i] = pool[i + 1]!;
    }
    if (q.type !== "ranked") {
      // Insertion sort: a handful of choices.
      for (let i = 1; i < picked.length; i++) {
        const v = picked[i]!;
        let j = i - 1;
        for (; j >= 0 && picked[j]! > v; j--) picked[j + 1] = picked[j]!;
        picked[j + 1] = v;
      }
    }
    answers.push(picked);
  }
  return answers;
}

/** A chunk of simulated ballots: voters lo+1 … lo+n. */
export interface SimulatedBallots {
  /** Index of the chunk's first voter (0-based: its credential is `voter-(lo+1)`). */
  lo: number;
  /** The ballots, in voter order. */
  ballots: ElectionBallot[];
  /** The answers each ballot holds, in the same order. */
  answers: ElectionAnswer[][];
}

/** Options of {@linkcode simulateElectionBallots} and {@linkcode simulatedBallotChunks}. */
export interface SimulationOptions {
  /** Number of simulated voters. */
  count: number;
  /** Randomness (default the system CSPRNG). */
  random?: RandomSource;
  /** Probability of a blank answer where allowed (default 0). */
  blank?: number;
  /** A fixed answer per voter index. */
  answers?: (index: number) => ElectionAnswer[];
  /** Progress, every 1,000 ballots and at the end. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Encrypts `count` ballots of simulated voters `voter-1`… with random valid answers on this
 * thread, a chunk at a time (issue 17: the caller casts each chunk and never holds them all).
 *
 * @param election the election (with its public key)
 * @param options count, randomness, blank rate, fixed answers, progress, and `chunk`: voters
 *   per chunk (default 4,096)
 * @returns the chunks, in voter order (the same ballots as {@linkcode simulateElectionBallots}
 *   for the same randomness)
 * @example
 * ```ts ignore
 * for (const { ballots } of simulatedBallotChunks(election, { count: 10_000 })) {
 *   await box.castMany(ballots);
 * }
 * ```
 */
export function* simulatedBallotChunks(
  election: ElectionPublicInfo,
  options: SimulationOptions & { chunk?: number },
): Generator<SimulatedBallots> {
  const random = options.random ?? systemRandom;
  const size = Math.max(1, Math.floor(options.chunk ?? 4096));
  for (let lo = 0; lo < options.count; lo += size) {
    const hi = Math.min(options.count, lo + size);
    const ballots: ElectionBallot[] = [];
    const answers: ElectionAnswer[][] = [];
    for (let i = lo; i < hi; i++) {
      const a = options.answers?.(i) ??
        randomElectionAnswers(election.definition, random, { blank: options.blank ?? 0 });
      answers.push(a);
      ballots.push(
        encryptElectionBallot(election, {
          credential: `voter-${i + 1}`,
          answers: a,
          ...(options.random ? { random } : {}),
        }),
      );
      if ((i + 1) % 1000 === 0 || i + 1 === options.count) {
        options.onProgress?.(i + 1, options.count);
      }
    }
    yield { lo, ballots, answers };
  }
}

/**
 * Encrypts `count` ballots of simulated voters `voter-1`… with random valid answers: every
 * chunk of {@linkcode simulatedBallotChunks}, collected.
 *
 * @param election the election (with its public key)
 * @param options count, randomness, the rate of blank answers (default 0), and an
 *   optional fixed answer per voter index
 * @returns the ballots and the answers they hold (in the same order)
 * @example
 * ```ts ignore
 * const { ballots, answers } = simulateElectionBallots(election, { count: 100 });
 * ```
 */
export function simulateElectionBallots(
  election: ElectionPublicInfo,
  options: SimulationOptions,
): { ballots: ElectionBallot[]; answers: ElectionAnswer[][] } {
  const ballots: ElectionBallot[] = [];
  const answers: ElectionAnswer[][] = [];
  for (const chunk of simulatedBallotChunks(election, options)) {
    for (const b of chunk.ballots) ballots.push(b);
    for (const a of chunk.answers) answers.push(a);
  }
  return { ballots, answers };
}
