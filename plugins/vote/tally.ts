/**
 * Tally computation from decoded ballots. A ballot whose plaintext does not decode to
 * valid answers counts as invalid (Zeus does the same: there are no validity proofs
 * on ballots, so a malformed vote spoils itself and nothing else).
 *
 * Per question: `counts[i]` is the number of valid ballots choosing i (for ranked
 * questions: ranking i anywhere), `blank` the valid ballots choosing nothing; for ranked
 * questions `ranks[i][j]` counts ballots putting choice i at position j (so `ranks[i][0]`
 * are first preferences). The decoded ballots themselves are published with the tally
 * so any other counting method (STV, Condorcet) can be applied. A tally is counted a chunk
 * of ballots at a time ({@linkcode tallyAccumulator}).
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { readArray, readInteger, readRecord } from "../../core/fields.ts";
import type { ElectionAnswer } from "./answers.ts";
import type { ElectionDefinition } from "./definition.ts";

/** The result for one question. */
export interface QuestionTally {
  /** Valid ballots choosing (or ranking) each choice, by choice index. */
  counts: number[];
  /** Valid ballots leaving the question blank. */
  blank: number;
  /** Ranked questions only: `ranks[choice][position]`. */
  ranks?: number[][];
}

/** The result of an election. */
export interface ElectionTally {
  /** Ballots decrypted (after cleansing and mixing). */
  ballots: number;
  /** Ballots that decoded to valid answers. */
  valid: number;
  /** Ballots that did not (counted, never thrown on). */
  invalid: number;
  /** One result per question. */
  questions: QuestionTally[];
}

/** A tally counted chunk by chunk: memory holds the counts, never the ballots. */
export interface TallyAccumulator {
  /** Counts a chunk of decoded ballots (null or undefined: invalid ballot). */
  add(answers: readonly (readonly ElectionAnswer[] | null | undefined)[]): void;
  /**
   * Adds a chunk's counts in the flat form of {@linkcode tallyCountsLayout} (counted where the
   * ballots are, e.g. from the slots on the workers: slot_tally.ts).
   */
  addCounts(counts: ArrayLike<number>): void;
  /** The tally of every ballot added so far (a fresh copy each call). */
  result(): ElectionTally;
}

/** Where each count of a tally sits in its flat form (an array of counts). */
export interface TallyCountsLayout {
  /** Length of the flat form. */
  length: number;
  /** Per question: the index of its first choice count, of its blank count, and (ranked
   * questions) of `ranks[0][0]`, rows of `max` positions per choice. */
  questions: { counts: number; blank: number; ranks?: number; max: number }[];
}

/** Index of the number of ballots in the flat form of a tally. */
export const TALLY_BALLOTS_AT = 0;
/** Index of the number of valid ballots in the flat form of a tally. */
export const TALLY_VALID_AT = 1;

/**
 * The flat form of a tally's counts: the ballots, the valid ballots, then per question its
 * choice counts, its blank count and (ranked questions) its ranks choice by choice. A chunk's
 * tally travels between threads in this form: one small array, not an object per ballot
 * (issue 17).
 *
 * @param definition the election
 * @returns the index of each count and the length
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { tallyCountsLayout } from "./tally.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const layout = tallyCountsLayout(d);
 * console.assert(layout.length === 5 && layout.questions[0]!.blank === 4);
 * ```
 */
export function tallyCountsLayout(definition: ElectionDefinition): TallyCountsLayout {
  let at = 2;
  const questions = definition.questions.map((q) => {
    const c = q.choices.length;
    const out: TallyCountsLayout["questions"][number] = { counts: at, blank: at + c, max: q.max };
    at += c + 1;
    if (q.type === "ranked") {
      out.ranks = at;
      at += c * q.max;
    }
    return out;
  });
  return { length: at, questions };
}

/**
 * Starts a tally that counts decoded ballots a chunk at a time (issue 17: the answers of a
 * million ballots are never held at once).
 *
 * @param definition the election
 * @returns the accumulator
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { tallyAccumulator } from "./tally.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const tally = tallyAccumulator(d);
 * tally.add([[[0]], [[1]]]);
 * tally.add([null, [[1]]]);
 * const t = tally.result();
 * console.assert(t.ballots === 4 && t.invalid === 1 && t.questions[0]!.counts[1] === 2);
 * ```
 */
export function tallyAccumulator(definition: ElectionDefinition): TallyAccumulator {
  const questions: QuestionTally[] = definition.questions.map((q) => {
    const t: QuestionTally = { counts: q.choices.map(() => 0), blank: 0 };
    if (q.type === "ranked") t.ranks = q.choices.map(() => new Array<number>(q.max).fill(0));
    return t;
  });
  let ballots = 0, valid = 0;
  const layout = tallyCountsLayout(definition);
  return {
    add(answers) {
      ballots += answers.length;
      for (const ballot of answers) {
        if (ballot === undefined || ballot === null) continue;
        valid++;
        ballot.forEach((answer, qi) => {
          const t = questions[qi]!;
          if (answer.length === 0) t.blank++;
          answer.forEach((choice, position) => {
            t.counts[choice]!++;
            if (t.ranks !== undefined) t.ranks[choice]![position]!++;
          });
        });
      }
    },
    addCounts(counts) {
      if (counts.length !== layout.length) {
        throw new InvalidInputError(
          `Tally counts hold ${counts.length} numbers, the election's hold ${layout.length}`,
        );
      }
      ballots += counts[TALLY_BALLOTS_AT]!;
      valid += counts[TALLY_VALID_AT]!;
      layout.questions.forEach((at, qi) => {
        const t = questions[qi]!;
        for (let c = 0; c < t.counts.length; c++) t.counts[c]! += counts[at.counts + c]!;
        t.blank += counts[at.blank]!;
        if (t.ranks === undefined || at.ranks === undefined) return;
        t.ranks.forEach((row, c) => {
          for (let p = 0; p < row.length; p++) row[p]! += counts[at.ranks! + c * at.max + p]!;
        });
      });
    },
    result: () => ({
      ballots,
      valid,
      invalid: ballots - valid,
      questions: questions.map((q) => ({
        counts: [...q.counts],
        blank: q.blank,
        ...(q.ranks === undefined ? {} : { ranks: q.ranks.map((row) => [...row]) }),
      })),
    }),
  };
}

/**
 * Counts decoded ballots (a wrapper of {@linkcode tallyAccumulator} over one list).
 *
 * @param definition the election
 * @param ballots decoded answers per ballot, undefined for an invalid ballot
 * @returns the tally
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { computeElectionTally } from "./tally.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const t = computeElectionTally(d, [[[0]], [[1]], [[1]], undefined, [[]]]);
 * console.assert(t.questions[0]!.counts[1] === 2 && t.invalid === 1 && t.questions[0]!.blank === 1);
 * ```
 */
export function computeElectionTally(
  definition: ElectionDefinition,
  ballots: readonly (readonly ElectionAnswer[] | undefined)[],
): ElectionTally {
  const tally = tallyAccumulator(definition);
  tally.add(ballots);
  return tally.result();
}

/**
 * Compares two tallies field by field.
 *
 * @param a first tally
 * @param b second tally
 * @returns true when they are equal
 * @example
 * ```ts
 * import { electionTalliesEqual } from "./tally.ts";
 * const t = { ballots: 0, valid: 0, invalid: 0, questions: [] };
 * console.assert(electionTalliesEqual(t, { ...t }));
 * ```
 */
export function electionTalliesEqual(a: ElectionTally, b: ElectionTally): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

function normalise(t: ElectionTally): unknown {
  return {
    ballots: t.ballots,
    valid: t.valid,
    invalid: t.invalid,
    questions: t.questions.map((q) => ({
      counts: q.counts,
      blank: q.blank,
      ranks: q.ranks ?? null,
    })),
  };
}

/**
 * Reads a tally from its decoded form (msgpack or JSON), checking its shape.
 *
 * @param value decoded value
 * @param what names it in errors
 * @returns the tally
 * @throws {InvalidInputError} on a malformed tally
 * @example
 * ```ts
 * import { readElectionTally } from "./tally.ts";
 * const t = readElectionTally({ ballots: 0, valid: 0, invalid: 0, questions: [] }, "tally");
 * console.assert(t.ballots === 0);
 * ```
 */
export function readElectionTally(value: unknown, what: string): ElectionTally {
  const r = readRecord(value, what);
  const ints = (v: unknown, w: string) =>
    readArray(v, w).map((x, i) => readInteger(x, `${w}[${i}]`));
  const questions = readArray(r.questions, `${what}.questions`).map((raw, i) => {
    const w = `${what}.questions[${i}]`;
    const q = readRecord(raw, w);
    const t: QuestionTally = {
      counts: ints(q.counts, `${w}.counts`),
      blank: readInteger(q.blank, `${w}.blank`),
    };
    if (q.ranks !== undefined && q.ranks !== null) {
      t.ranks = readArray(q.ranks, `${w}.ranks`).map((row, j) => ints(row, `${w}.ranks[${j}]`));
    }
    return t;
  });
  const tally = {
    ballots: readInteger(r.ballots, `${what}.ballots`),
    valid: readInteger(r.valid, `${what}.valid`),
    invalid: readInteger(r.invalid, `${what}.invalid`),
    questions,
  };
  if (tally.valid + tally.invalid !== tally.ballots) {
    throw new InvalidInputError(`Value '${what}' has valid + invalid different from ballots`);
  }
  return tally;
}
