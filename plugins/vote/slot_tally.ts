/**
 * Counting a tally straight from the slot records of the combination, on the workers (issue
 * 17: no answer objects per ballot, no msgpack between threads, no decoding on the main
 * thread). A slot holds the message an element embeds: a
 * length byte (255: no message) and 30 bytes. The answers of a real election take few
 * distinct values per element, so each distinct element value is decoded once per chunk
 * ({@linkcode decodeElementAnswers}) into the flat indices of the counts it adds
 * ({@linkcode tallyCountsLayout}); a ballot then costs a lookup per element, no object.
 * A ballot counts as valid exactly when {@linkcode decodeElectionAnswers} decodes it.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { embeddedLength, MAX_EMBED_BYTES } from "../../backends/reencrypt/mod.ts";
import { decodeElementAnswers, electionBallotLayout } from "./answers.ts";
import type { ElectionDefinition } from "./definition.ts";
import {
  TALLY_BALLOTS_AT,
  TALLY_VALID_AT,
  type TallyCountsLayout,
  tallyCountsLayout,
} from "./tally.ts";

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
 * `extractEncodedBytes` of the re-encryption backend reads it, read in place (the backend's
 * `embeddedLength`): no buffer and no exception per element.
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
  // One encoding is 32 bytes; one among others has 32 bytes from its offset.
  const length = options.offset === undefined && element.length !== 32
    ? -1
    : embeddedLength(element, o);
  if (length < 0) {
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
 * @throws {InvalidInputError} for a width that is not a positive integer, and (from the
 *   function) slot records that are not whole ballots
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
  if (!Number.isInteger(width) || width < 1) {
    throw new InvalidInputError(`Ballot width must be a positive integer, got ${width}`);
  }
  const { elements } = electionBallotLayout(definition);
  const layout = tallyCountsLayout(definition);
  const lengths = Int32Array.from(elements, (e) => e.bytes);
  const ballotBytes = VOTE_SLOT_BYTES * width;
  return function countSlots(slots: Uint8Array): Uint32Array {
    if (slots.length % ballotBytes !== 0) {
      throw new InvalidInputError(
        `Slot records of ${slots.length} bytes are not whole ballots of ${ballotBytes} bytes`,
      );
    }
    const counts = new Uint32Array(layout.length);
    const ballots = slots.length / ballotBytes;
    counts[TALLY_BALLOTS_AT] = ballots;
    if (width !== elements.length) return counts; // decoding refuses every ballot
    const values = new ElementValues(definition, layout);
    const picked = new Int32Array(width);
    let valid = 0;
    for (let b = 0; b < ballots; b++) {
      let ok = true;
      for (let e = 0; e < width; e++) {
        const at = b * ballotBytes + e * VOTE_SLOT_BYTES;
        // A slot of another length (or none, 255) does not decode.
        const id = slots[at] === lengths[e] ? values.id(e, slots, at) : INVALID;
        if (id === INVALID) {
          ok = false;
          break;
        }
        picked[e] = id;
      }
      if (!ok) continue;
      valid++;
      for (let e = 0; e < width; e++) values.count(picked[e]!, counts);
    }
    counts[TALLY_VALID_AT] = valid;
    return counts;
  };
}

/** The id of an element value that does not decode. */
const INVALID = -1;

/**
 * The distinct element values met in one count, each decoded once into the flat indices of
 * the counts it adds. The count's loop stays small (cheap to compile in every worker, issue
 * 17): the decoding and the string keys of long values are out of it.
 */
class ElementValues {
  readonly #definition: ElectionDefinition;
  readonly #layout: TallyCountsLayout;
  /** Per element, value → id (numbers for values of up to 6 bytes, else strings). */
  readonly #ids: Map<number, number>[] = [];
  readonly #longIds: Map<string, number>[] = [];
  /** Per id, the flat indices of the counts the value adds. */
  readonly #indices: Int32Array[] = [];

  constructor(definition: ElectionDefinition, layout: TallyCountsLayout) {
    this.#definition = definition;
    this.#layout = layout;
    for (const _ of electionBallotLayout(definition).elements) {
      this.#ids.push(new Map());
      this.#longIds.push(new Map());
    }
  }

  /** The id of the value in the slot at `at` (of element e, of its layout's length). */
  id(e: number, slots: Uint8Array, at: number): number {
    const length = slots[at]!;
    if (length > NUMBER_KEY_BYTES) return this.#long(e, slots, at);
    let key = 0;
    for (let i = 1; i <= length; i++) key = key * 256 + slots[at + i]!;
    const id = this.#ids[e]!.get(key);
    return id !== undefined ? id : this.#add(e, slots, at, this.#ids[e]!, key);
  }

  /** Adds the counts of value `id` (valid). */
  count(id: number, counts: Uint32Array): void {
    const indices = this.#indices[id]!;
    for (let i = 0; i < indices.length; i++) counts[indices[i]!]!++;
  }

  #long(e: number, slots: Uint8Array, at: number): number {
    let key = "";
    for (let i = 1; i <= slots[at]!; i++) key += String.fromCharCode(slots[at + i]!);
    const id = this.#longIds[e]!.get(key);
    return id !== undefined ? id : this.#add(e, slots, at, this.#longIds[e]!, key);
  }

  /** Decodes a value met for the first time (cached while fewer than MAX_CACHED are). */
  #add<K>(e: number, slots: Uint8Array, at: number, ids: Map<K, number>, key: K): number {
    const answers = decodeElementAnswers(
      this.#definition,
      e,
      slots.subarray(at + 1, at + 1 + slots[at]!),
    );
    let id = INVALID;
    if (answers !== undefined) {
      const out: number[] = [];
      electionBallotLayout(this.#definition).elements[e]!.questions.forEach((qi, k) => {
        const where = this.#layout.questions[qi]!;
        const answer = answers[k]!;
        if (answer.length === 0) out.push(where.blank);
        answer.forEach((choice, position) => {
          out.push(where.counts + choice);
          if (where.ranks !== undefined) out.push(where.ranks + choice * where.max + position);
        });
      });
      id = this.#indices.length;
      this.#indices.push(Int32Array.from(out));
    }
    if (ids.size < MAX_CACHED) ids.set(key, id);
    return id;
  }
}
