/**
 * Counting a tally straight from the slot records of the combination (issue 17: the tally
 * phase's garbage and main-thread work). A slot holds the message an element embeds: a
 * length byte (255: no message) and 30 bytes. The answers of a real election take few
 * distinct values per element, so each distinct element value is decoded once per chunk
 * ({@linkcode decodeElementAnswers}) into the flat indices of the counts it adds
 * ({@linkcode tallyCountsLayout}); a ballot then costs a lookup per element, no object.
 * A ballot counts as valid exactly when {@linkcode decodeElectionAnswers} decodes it.
 *
 * @module
 */

import { MAX_EMBED_BYTES } from "../../backends/reencrypt/mod.ts";
import { decodeElementAnswers, electionBallotLayout } from "./answers.ts";
import type { ElectionDefinition } from "./definition.ts";
import { TALLY_BALLOTS_AT, TALLY_VALID_AT, tallyCountsLayout } from "./tally.ts";

/** Bytes of one extracted element slot: a length byte (255 = no message) and 30 data bytes. */
export const VOTE_SLOT_BYTES: number = 1 + MAX_EMBED_BYTES;
/** The length byte of a slot whose element embeds no message. */
export const VOTE_NO_MESSAGE = 255;

/** Element values up to this many bytes are cache keys as numbers (exact below 2^53). */
const NUMBER_KEY_BYTES = 6;
/** Most distinct values cached per element (the chunk bounds it anyway). */
const MAX_CACHED = 1 << 16;

/**
 * Writes into a slot the message embedded in an element's canonical encoding, as
 * `extractEncodedBytes` of the re-encryption backend reads it (the message is
 * `element[1 .. 1 + length]` with `length = element[31]` ≤ 30 and zero padding up to byte
 * 30), read in place: no buffer and no exception per element.
 *
 * @param slots the slot records
 * @param options `at`: the slot's first byte; `element`: the canonical encoding (32 bytes),
 *   or with `offset` a buffer that holds it from that offset (the bytes around it unread)
 * @returns whether the element embeds a message (else the slot's length byte is 255)
 * @example
 * ```ts
 * import { embedBytes } from "../../backends/reencrypt/mod.ts";
 * import { writeVoteSlot } from "./slot_tally.ts";
 * const slots = new Uint8Array(31);
 * writeVoteSlot(slots, { at: 0, element: embedBytes(new Uint8Array([7, 8])).toBytes() });
 * console.assert(slots[0] === 2 && slots[1] === 7 && slots[2] === 8);
 * ```
 */
export function writeVoteSlot(
  slots: Uint8Array,
  options: { at: number; element: Uint8Array; offset?: number },
): boolean {
  const { at, element } = options;
  const o = options.offset ?? 0;
  const length = element[o + 31]!;
  // One encoding is 32 bytes; one among others has 32 bytes from its offset.
  let ok =
    (options.offset === undefined ? element.length === 32 : o >= 0 && element.length >= o + 32) &&
    length <= MAX_EMBED_BYTES;
  for (let i = 1 + length; ok && i < 31; i++) ok = element[o + i] === 0;
  if (!ok) {
    slots[at] = VOTE_NO_MESSAGE;
    return false;
  }
  slots[at] = length;
  for (let i = 0; i < length; i++) slots[at + 1 + i] = element[o + 1 + i]!;
  return true;
}

/**
 * Counts slot records (one ballot = `width` slots of {@linkcode VOTE_SLOT_BYTES}) into the
 * flat form of {@linkcode tallyCountsLayout}: what `tallyAccumulator(definition).add` counts
 * for the answers `decodeElectionAnswers` gives each ballot (null: invalid), with each
 * distinct element value decoded once per call.
 *
 * @param definition the election
 * @param width ballot width (ciphertext elements; any other than the layout's makes every
 *   ballot invalid, as decoding does)
 * @returns a function from a chunk's slot records to its flat counts
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { slotTallyCounter } from "./slot_tally.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * // Choice 1 (value 2), no message, choice 1 again.
 * const counts = slotTallyCounter(d, 1)(new Uint8Array([1, 2, ...new Array(29).fill(0), 255,
 *   ...new Array(30).fill(0), 1, 2, ...new Array(29).fill(0)]));
 * console.assert(counts.join() === "3,2,0,2,0");
 * ```
 */
export function slotTallyCounter(
  definition: ElectionDefinition,
  width: number,
): (slots: Uint8Array) => Uint32Array {
  const { elements } = electionBallotLayout(definition);
  const layout = tallyCountsLayout(definition);
  const ballotBytes = VOTE_SLOT_BYTES * width;
  /** The flat indices an element value adds to (null: the element is invalid). */
  const indices = (e: number, bytes: Uint8Array): Int32Array | null => {
    const answers = decodeElementAnswers(definition, e, bytes);
    if (answers === undefined) return null;
    const out: number[] = [];
    elements[e]!.questions.forEach((qi, k) => {
      const at = layout.questions[qi]!;
      const answer = answers[k]!;
      if (answer.length === 0) out.push(at.blank);
      answer.forEach((choice, position) => {
        out.push(at.counts + choice);
        if (at.ranks !== undefined) out.push(at.ranks + choice * at.max + position);
      });
    });
    return Int32Array.from(out);
  };
  return (slots) => {
    const counts = new Uint32Array(layout.length);
    const ballots = slots.length / ballotBytes;
    counts[TALLY_BALLOTS_AT] = ballots;
    if (width !== elements.length) return counts; // decoding refuses every ballot
    const caches = elements.map(() => new Map<number | string, Int32Array | null>());
    const picked: Int32Array[] = new Array(width);
    let valid = 0;
    for (let b = 0; b < ballots; b++) {
      let ok = true;
      for (let e = 0; ok && e < width; e++) {
        const at = b * ballotBytes + e * VOTE_SLOT_BYTES;
        const length = slots[at]!;
        // A slot of another length (or none, 255) does not decode.
        if (length !== elements[e]!.bytes) {
          ok = false;
          break;
        }
        let key: number | string;
        if (length <= NUMBER_KEY_BYTES) {
          key = 0;
          for (let i = 1; i <= length; i++) key = key * 256 + slots[at + i]!;
        } else {
          key = String.fromCharCode(...slots.subarray(at + 1, at + 1 + length));
        }
        const cache = caches[e]!;
        let entry = cache.get(key);
        if (entry === undefined) {
          entry = indices(e, slots.subarray(at + 1, at + 1 + length));
          if (cache.size < MAX_CACHED) cache.set(key, entry);
        }
        if (entry === null) ok = false;
        else picked[e] = entry;
      }
      if (!ok) continue;
      valid++;
      for (let e = 0; e < width; e++) {
        const entry = picked[e]!;
        for (let i = 0; i < entry.length; i++) counts[entry[i]!]!++;
      }
    }
    counts[TALLY_VALID_AT] = valid;
    return counts;
  };
}
