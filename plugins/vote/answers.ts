/**
 * Answer encoding: a ballot's answers become as few fixed-length byte strings as
 * possible, each small enough to embed in one group element (30 bytes = 240 bits).
 *
 * Each question's answer is a mixed-radix number (documented in docs/vote.md):
 * - `single` with c choices: 0 = blank, i + 1 = choice i (radix c + 1);
 * - `multiple` with c choices: the bit mask Σ 2^i over chosen i (radix 2^c);
 * - `ranked` with c choices and max m: digits d₀..d_{m−1}, dⱼ ∈ [0, c − j], where 0 ends
 *   the ranking (later digits must be 0) and dⱼ = k + 1 picks the k-th still unranked
 *   choice in index order (radix Π (c − j + 1)).
 * Questions are packed in order, greedily, into elements: an element holds the
 * little-endian mixed-radix combination of consecutive questions while the product of
 * their radices stays ≤ 2^240; its bytes are the big-endian value in a fixed length
 * (the bytes needed for product − 1, at least 1). A question whose own radix exceeds
 * 2^240 is rejected, as is a ballot of more than 16 elements.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import type { ElectionDefinition, ElectionQuestion } from "./definition.ts";

/** Bytes one group element carries (the re-encryption backend's byte embedding limit). */
export const VOTE_ELEMENT_BYTES = 30;

/** Most group elements (ciphertext width) of one ballot. */
export const VOTE_MAX_ELEMENTS = 16;

const ELEMENT_LIMIT = 1n << BigInt(8 * VOTE_ELEMENT_BYTES);

/** An answer: chosen choice indices (a set for single/multiple, an order for ranked). */
export type ElectionAnswer = number[];

/** One group element of the layout. */
export interface LayoutElement {
  /** Indices of the questions packed into this element, in order. */
  questions: number[];
  /** Number of distinct values (product of the question radices). */
  capacity: bigint;
  /** Fixed byte length of the element's encoding. */
  bytes: number;
}

/** How a definition's answers map to group elements. */
export interface BallotLayout {
  /** The elements, in ciphertext order; the ballot width is `elements.length`. */
  elements: LayoutElement[];
  /** Radix of each question. */
  radices: bigint[];
}

// Layouts are pure functions of a definition; cache them per definition object.
const layouts = new WeakMap<ElectionDefinition, BallotLayout>();

function radixOf(q: ElectionQuestion): bigint {
  const c = BigInt(q.choices.length);
  if (q.type === "single") return c + 1n;
  if (q.type === "multiple") return 1n << c;
  let r = 1n;
  for (let j = 0n; j < BigInt(q.max); j++) r *= c - j + 1n;
  return r;
}

function byteLength(maxValue: bigint): number {
  let n = 1;
  while (maxValue >= 1n << BigInt(8 * n)) n++;
  return n;
}

/**
 * Computes the element layout of a definition.
 *
 * @param definition a validated definition
 * @returns the layout
 * @throws {InvalidInputError} when a question or the whole ballot does not fit the limits
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { electionBallotLayout } from "./answers.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b", "c"] }],
 * });
 * console.assert(electionBallotLayout(d).elements.length === 1);
 * ```
 */
export function electionBallotLayout(definition: ElectionDefinition): BallotLayout {
  const cached = layouts.get(definition);
  if (cached !== undefined) return cached;
  const radices = definition.questions.map(radixOf);
  const elements: LayoutElement[] = [];
  let current: LayoutElement | undefined;
  radices.forEach((radix, i) => {
    if (radix > ELEMENT_LIMIT) {
      throw new InvalidInputError(
        `Question ${i + 1} has ${radix} possible answers, more than one group element holds (2^${
          8 * VOTE_ELEMENT_BYTES
        }); use fewer choices or a smaller max`,
      );
    }
    if (current === undefined || current.capacity * radix > ELEMENT_LIMIT) {
      current = { questions: [], capacity: 1n, bytes: 1 };
      elements.push(current);
    }
    current.questions.push(i);
    current.capacity *= radix;
  });
  if (elements.length > VOTE_MAX_ELEMENTS) {
    throw new InvalidInputError(
      `Ballot needs ${elements.length} group elements, at most ${VOTE_MAX_ELEMENTS} are allowed`,
    );
  }
  for (const e of elements) e.bytes = byteLength(e.capacity - 1n);
  const layout = { elements, radices };
  layouts.set(definition, layout);
  return layout;
}

function checkAnswer(q: ElectionQuestion, answer: readonly number[], index: number): void {
  const c = q.choices.length;
  if (!Array.isArray(answer)) {
    throw new InvalidInputError(`Answer to question ${index + 1} must be a list of choices`);
  }
  // Answers are short (at most the question's choices): a pairwise check, no set per answer.
  for (let k = 0; k < answer.length; k++) {
    const choice = answer[k];
    if (!Number.isInteger(choice) || choice! < 0 || choice! >= c) {
      throw new InvalidInputError(
        `Answer to question ${index + 1} names choice '${choice}', which is not between 0 and ${
          c - 1
        }`,
      );
    }
    for (let j = 0; j < k; j++) {
      if (answer[j] === choice) {
        throw new InvalidInputError(`Answer to question ${index + 1} names choice ${choice} twice`);
      }
    }
  }
  if (answer.length < q.min || answer.length > q.max) {
    throw new InvalidInputError(
      `Answer to question ${
        index + 1
      } holds ${answer.length} choices, must hold ${q.min} to ${q.max}`,
    );
  }
}

function answerValue(q: ElectionQuestion, answer: readonly number[]): bigint {
  if (q.type === "single") return answer.length === 0 ? 0n : BigInt(answer[0]!) + 1n;
  if (q.type === "multiple") {
    let mask = 0n;
    for (const i of answer) mask |= 1n << BigInt(i);
    return mask;
  }
  // Ranked: digit j picks among the choices not yet ranked, in index order.
  const remaining = q.choices.map((_, i) => i);
  let value = 0n, weight = 1n;
  for (let j = 0; j < q.max; j++) {
    const radix = BigInt(q.choices.length - j + 1);
    let digit = 0n;
    if (j < answer.length) {
      const pos = remaining.indexOf(answer[j]!);
      remaining.splice(pos, 1);
      digit = BigInt(pos + 1);
    }
    value += digit * weight;
    weight *= radix;
  }
  return value;
}

/**
 * {@linkcode answerValue} as a number, for a question whose radix is below 2^53 (its answer
 * checked): no bigint and no array per answer (issue 17: simulated voters encode 1,000,000
 * ballots, and each worker compiles this path).
 */
function answerNumber(q: ElectionQuestion, answer: readonly number[]): number {
  if (q.type === "single") return answer.length === 0 ? 0 : answer[0]! + 1;
  if (q.type === "multiple") {
    let mask = 0;
    for (let k = 0; k < answer.length; k++) mask += 2 ** answer[k]!; // distinct choices
    return mask;
  }
  // Ranked: digit j is 1 + the position of choice answer[j] among those not yet ranked.
  const c = q.choices.length;
  let value = 0, weight = 1;
  for (let j = 0; j < q.max; j++) {
    let digit = 0;
    if (j < answer.length) {
      const choice = answer[j]!;
      let pos = choice;
      for (let k = 0; k < j; k++) if (answer[k]! < choice) pos--;
      digit = pos + 1;
    }
    value += digit * weight;
    weight *= c - j + 1;
  }
  return value;
}

/** An element whose values fit a number (capacity ≤ 2^53): its questions and radices. */
interface SmallElement {
  questions: number[];
  radices: number[];
  bytes: number;
}

/** Per definition, its elements when each fits a number (null: one does not, use bigints). */
const smallPlans = new WeakMap<ElectionDefinition, SmallElement[] | null>();

function smallPlan(definition: ElectionDefinition, layout: BallotLayout): SmallElement[] | null {
  let plan = smallPlans.get(definition);
  if (plan !== undefined) return plan;
  plan = layout.elements.every((e) => e.capacity <= 1n << 53n)
    ? layout.elements.map((e) => ({
      questions: [...e.questions],
      radices: e.questions.map((qi) => Number(layout.radices[qi]!)),
      bytes: e.bytes,
    }))
    : null;
  smallPlans.set(definition, plan);
  return plan;
}

function valueAnswer(q: ElectionQuestion, value: bigint): ElectionAnswer | undefined {
  const c = q.choices.length;
  let answer: number[];
  if (q.type === "single") {
    answer = value === 0n ? [] : [Number(value - 1n)];
  } else if (q.type === "multiple") {
    answer = [];
    for (let i = 0; i < c; i++) if ((value >> BigInt(i)) & 1n) answer.push(i);
  } else {
    const remaining = q.choices.map((_, i) => i);
    answer = [];
    let ended = false;
    for (let j = 0; j < q.max; j++) {
      const radix = BigInt(c - j + 1);
      const digit = Number(value % radix);
      value /= radix;
      if (digit === 0) {
        ended = true;
      } else {
        if (ended) return undefined; // a choice after the end of the ranking
        answer.push(remaining.splice(digit - 1, 1)[0]!);
      }
    }
  }
  if (answer.length < q.min || answer.length > q.max) return undefined;
  return answer;
}

/**
 * Encodes a complete, valid set of answers as the byte strings of the ballot elements.
 *
 * @param definition the election
 * @param answers one answer per question (choice indices)
 * @returns one fixed-length byte string per layout element
 * @throws {InvalidInputError} naming the invalid answer
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { decodeElectionAnswers, encodeElectionAnswers } from "./answers.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b", "c"] }],
 * });
 * const parts = encodeElectionAnswers(d, [[2]]);
 * console.assert(decodeElectionAnswers(d, parts)![0]![0] === 2);
 * ```
 */
export function encodeElectionAnswers(
  definition: ElectionDefinition,
  answers: readonly (readonly number[])[],
): Uint8Array[] {
  const layout = electionBallotLayout(definition);
  if (!Array.isArray(answers) || answers.length !== definition.questions.length) {
    throw new InvalidInputError(
      `Ballot must answer ${definition.questions.length} questions, got ${
        Array.isArray(answers) ? answers.length : "no list"
      }`,
    );
  }
  const parts: Uint8Array[] = [];
  const small = smallPlan(definition, layout);
  if (small !== null) {
    // Plain number arithmetic: every element's capacity is at most 2^53.
    for (let e = 0; e < small.length; e++) {
      const element = small[e]!;
      let value = 0, weight = 1;
      for (let k = 0; k < element.questions.length; k++) {
        const qi = element.questions[k]!;
        const q = definition.questions[qi]!, answer = answers[qi]!;
        checkAnswer(q, answer, qi);
        value += answerNumber(q, answer) * weight;
        weight *= element.radices[k]!;
      }
      const out = new Uint8Array(element.bytes);
      for (let b = element.bytes - 1; b >= 0; b--) {
        out[b] = value % 256;
        value = Math.floor(value / 256);
      }
      parts.push(out);
    }
    return parts;
  }
  for (let e = 0; e < layout.elements.length; e++) {
    const element = layout.elements[e]!;
    let value = 0n, weight = 1n;
    for (const qi of element.questions) {
      const q = definition.questions[qi]!;
      checkAnswer(q, answers[qi]!, qi);
      value += answerValue(q, answers[qi]!) * weight;
      weight *= layout.radices[qi]!;
    }
    const out = new Uint8Array(element.bytes);
    for (let b = element.bytes - 1; b >= 0; b--) {
      out[b] = Number(value & 0xffn);
      value >>= 8n;
    }
    parts.push(out);
  }
  return parts;
}

/**
 * Decodes the element byte strings of a decrypted ballot. Returns undefined for an
 * invalid ballot (wrong element count or length, value out of range, or an answer
 * breaking a question's rules) — such ballots are counted as invalid, never thrown on.
 *
 * @param definition the election
 * @param parts one byte string per element (the decrypted embeddings)
 * @returns the answers, or undefined when the ballot is invalid
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { decodeElectionAnswers } from "./answers.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * console.assert(decodeElectionAnswers(d, [new Uint8Array([9])]) === undefined);
 * ```
 */
export function decodeElectionAnswers(
  definition: ElectionDefinition,
  parts: readonly (Uint8Array | undefined)[],
): ElectionAnswer[] | undefined {
  const layout = electionBallotLayout(definition);
  if (parts.length !== layout.elements.length) return undefined;
  const answers: ElectionAnswer[] = new Array(definition.questions.length);
  for (let e = 0; e < layout.elements.length; e++) {
    const decoded = decodeElementAnswers(definition, e, parts[e]);
    if (decoded === undefined) return undefined;
    layout.elements[e]!.questions.forEach((qi, k) => answers[qi] = decoded[k]!);
  }
  return answers;
}

/**
 * Decodes the byte string of one element of a ballot: the answers of the questions packed
 * into it (what {@linkcode decodeElectionAnswers} does for each element; a ballot is valid
 * exactly when each of its elements decodes). Counting from the slots caches this per
 * distinct element value (slot_tally.ts, issue 17).
 *
 * @param definition the election
 * @param element the element's index in the layout
 * @param bytes the element's decrypted embedding (undefined: it embeds no message)
 * @returns the answers of the element's questions in layout order, or undefined when the
 *   element is invalid (wrong length, value out of range, or an answer breaking its rules)
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { decodeElementAnswers } from "./answers.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * console.assert(decodeElementAnswers(d, 0, new Uint8Array([2]))![0]![0] === 1);
 * console.assert(decodeElementAnswers(d, 0, new Uint8Array([9])) === undefined);
 * ```
 */
export function decodeElementAnswers(
  definition: ElectionDefinition,
  element: number,
  bytes: Uint8Array | undefined,
): ElectionAnswer[] | undefined {
  const layout = electionBallotLayout(definition);
  const spec = layout.elements[element];
  if (spec === undefined || bytes === undefined || bytes.length !== spec.bytes) return undefined;
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  if (value >= spec.capacity) return undefined;
  const answers: ElectionAnswer[] = [];
  for (const qi of spec.questions) {
    const radix = layout.radices[qi]!;
    const answer = valueAnswer(definition.questions[qi]!, value % radix);
    if (answer === undefined) return undefined;
    answers.push(answer);
    value /= radix;
  }
  return answers;
}
