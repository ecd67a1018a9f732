/**
 * Decoded answers as msgpack bytes without a call of the general encoder per ballot (issue
 * 17: a 1,000,000-ballot transcript's answers are written on the main thread). A ballot's
 * answers are nil (invalid ballot) or an array of arrays of small integers, which msgpack
 * writes as fixarray and positive fixint headers; {@linkcode answersMsgpack} writes those byte
 * by byte and anything else with `encodeMsgpack`: the same bytes either way.
 *
 * @module
 */

import { encodeMsgpack } from "../../core/envelope.ts";
import type { EncodedRun } from "../../core/msgpack_stream.ts";
import type { ItemChunks } from "../../core/records.ts";
import type { ElectionAnswer } from "./answers.ts";

/**
 * Bytes of answers written byte by byte: nil, or up to 15 arrays of up to 15 integers 0..127
 * (fixarray of fixarrays of positive fixints); 0 when they are anything else.
 */
function smallAnswersBytes(item: ElectionAnswer[] | null): number {
  if (item === null) return 1;
  if (!Array.isArray(item) || item.length > 15) return 0;
  let bytes = 1;
  for (const a of item) {
    if (!Array.isArray(a) || a.length > 15) return 0;
    for (const c of a) if (!Number.isInteger(c) || c < 0 || c > 127 || Object.is(c, -0)) return 0;
    bytes += 1 + a.length;
  }
  return bytes;
}

/**
 * The msgpack encoding of one ballot's decoded answers: exactly `encodeMsgpack(answers)`.
 *
 * @param answers the answers, or null for an invalid ballot
 * @returns the bytes
 * @example
 * ```ts
 * import { encodeMsgpack } from "../../core/envelope.ts";
 * import { answersMsgpack } from "./answer_bytes.ts";
 * console.assert(answersMsgpack([[1], [0, 2]]).join() === encodeMsgpack([[1], [0, 2]]).join());
 * ```
 */
export function answersMsgpack(answers: ElectionAnswer[] | null): Uint8Array {
  const n = smallAnswersBytes(answers);
  if (n === 0) return encodeMsgpack(answers);
  const out = new Uint8Array(n);
  writeSmallAnswers(out, 0, answers);
  return out;
}

function writeSmallAnswers(out: Uint8Array, at: number, answers: ElectionAnswer[] | null): number {
  if (answers === null) {
    out[at++] = 0xc0;
    return at;
  }
  out[at++] = 0x90 | answers.length;
  for (const a of answers) {
    out[at++] = 0x90 | a.length;
    for (const c of a) out[at++] = c;
  }
  return at;
}

/**
 * A chunk of ballots' decoded answers as msgpack array elements: `encodeMsgpack` of each,
 * one after another.
 *
 * @param chunk the answers
 * @returns the bytes and the count
 * @example
 * ```ts
 * import { answersRun } from "./answer_bytes.ts";
 * console.assert(answersRun([null, [[1]]]).bytes.join() === "192,145,145,1");
 * ```
 */
export function answersRun(chunk: readonly (ElectionAnswer[] | null)[]): EncodedRun {
  let total = 0;
  const sizes = new Uint32Array(chunk.length);
  const other = new Map<number, Uint8Array>();
  for (let i = 0; i < chunk.length; i++) {
    let n = smallAnswersBytes(chunk[i]!);
    if (n === 0) {
      const bytes = encodeMsgpack(chunk[i]);
      other.set(i, bytes);
      n = bytes.length;
    }
    sizes[i] = n;
    total += n;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < chunk.length; i++) {
    const bytes = other.get(i);
    if (bytes === undefined) at = writeSmallAnswers(out, at, chunk[i]!);
    else {
      out.set(bytes, at);
      at += bytes.length;
    }
  }
  return { count: chunk.length, bytes: out };
}

/** Answers in chunks that also come as msgpack runs (made without answer objects). */
export interface EncodedAnswerChunks extends ItemChunks<ElectionAnswer[] | null> {
  /**
   * The same answers as {@linkcode ItemChunks.chunks}, as {@linkcode answersRun} gives them,
   * in runs of `size` ballots (the last may be shorter).
   */
  encodedChunks(size?: number): AsyncIterable<EncodedRun>;
}

/**
 * Whether answer chunks also come as msgpack runs.
 *
 * @param chunks the chunks
 * @returns true when `chunks.encodedChunks` exists
 * @example
 * ```ts
 * import { memoryItemChunks } from "../../core/records.ts";
 * import { hasEncodedAnswers } from "./answer_bytes.ts";
 * console.assert(!hasEncodedAnswers(memoryItemChunks([null])));
 * ```
 */
export function hasEncodedAnswers(
  chunks: ItemChunks<ElectionAnswer[] | null>,
): chunks is EncodedAnswerChunks {
  return typeof (chunks as Partial<EncodedAnswerChunks>).encodedChunks === "function";
}
