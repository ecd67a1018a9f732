/**
 * Fragments: a message of up to {@linkcode MAX_MESSAGE_BYTES} split into fixed-size
 * pieces, one per Sphinx packet, and reassembled at the recipient whatever the order,
 * with duplicates suppressed and every message delivered at most once, whole
 * (docs/message.md §5.2).
 *
 * Fragment layout: kind (1) ‖ message id (16) ‖ index (u32be) ‖ count (u32be) ‖
 * length (u16be) ‖ data ‖ zero padding to the slot size.
 *
 * @module
 */

import { toHex } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";

/** Kind byte of a fragment. */
export const FRAGMENT_KIND = 1;
/** Kind byte of a loop (cover traffic that returns to its sender). */
export const LOOP_KIND = 2;
/** Bytes of a message id. */
export const MESSAGE_ID_SIZE = 16;
/** Bytes of a fragment header. */
export const FRAGMENT_HEADER_SIZE: number = 1 + MESSAGE_ID_SIZE + 4 + 4 + 2;
/** Largest message (content envelope) in bytes: 16 MiB. */
export const MAX_MESSAGE_BYTES: number = 16 * 1024 * 1024;

/** One fragment. */
export interface Fragment {
  /** Message id (16 bytes). */
  messageId: Uint8Array;
  /** Position, 0 ≤ index < count. */
  index: number;
  /** Number of fragments of the message. */
  count: number;
  /** The piece of the message. */
  data: Uint8Array;
}

/**
 * Splits a message into fragments of at most `dataSize` bytes.
 *
 * @param message the message bytes (at most 16 MiB)
 * @param options message id and the data bytes per fragment
 * @returns the fragments, in order
 * @throws {InvalidInputError} on an oversized message or a bad size
 * @example
 * ```ts
 * import { splitMessage } from "./fragment.ts";
 * const parts = splitMessage(new Uint8Array(250), { messageId: new Uint8Array(16), dataSize: 100 });
 * console.assert(parts.length === 3 && parts[2]!.data.length === 50);
 * ```
 */
export function splitMessage(
  message: Uint8Array,
  options: { messageId: Uint8Array; dataSize: number },
): Fragment[] {
  const { messageId, dataSize } = options;
  if (messageId.length !== MESSAGE_ID_SIZE) {
    throw new InvalidInputError(`Value 'messageId' must be ${MESSAGE_ID_SIZE} bytes`);
  }
  if (!Number.isSafeInteger(dataSize) || dataSize < 1 || dataSize > 0xffff) {
    throw new InvalidInputError(`Fragment data size must be 1–65535 bytes, got ${dataSize}`);
  }
  if (message.length > MAX_MESSAGE_BYTES) {
    throw new InvalidInputError(
      `Message of ${message.length} bytes exceeds the limit of ${MAX_MESSAGE_BYTES} bytes`,
    );
  }
  const count = Math.max(1, Math.ceil(message.length / dataSize));
  const out: Fragment[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      messageId: messageId.slice(),
      index: i,
      count,
      data: message.slice(i * dataSize, (i + 1) * dataSize),
    });
  }
  return out;
}

/**
 * Encodes a fragment into a slot of exactly `slotSize` bytes (zero-padded).
 *
 * @param fragment the fragment
 * @param slotSize the slot bytes (header + data capacity)
 * @returns the slot
 * @throws {InvalidInputError} when the data does not fit
 * @example
 * ```ts
 * import { decodeFragment, encodeFragment } from "./fragment.ts";
 * const f = { messageId: new Uint8Array(16), index: 0, count: 1, data: new Uint8Array([7]) };
 * console.assert(decodeFragment(encodeFragment(f, 64)).data[0] === 7);
 * ```
 */
export function encodeFragment(fragment: Fragment, slotSize: number): Uint8Array {
  if (fragment.data.length > slotSize - FRAGMENT_HEADER_SIZE) {
    throw new InvalidInputError(
      `Fragment data of ${fragment.data.length} bytes does not fit a ${slotSize}-byte slot`,
    );
  }
  const out = new Uint8Array(slotSize);
  const view = new DataView(out.buffer);
  out[0] = FRAGMENT_KIND;
  out.set(fragment.messageId, 1);
  view.setUint32(17, fragment.index);
  view.setUint32(21, fragment.count);
  view.setUint16(25, fragment.data.length);
  out.set(fragment.data, FRAGMENT_HEADER_SIZE);
  return out;
}

/**
 * Decodes a fragment slot.
 *
 * @param slot the slot bytes
 * @returns the fragment
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts
 * import { decodeFragment } from "./fragment.ts";
 * try { decodeFragment(new Uint8Array(5)); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function decodeFragment(slot: Uint8Array): Fragment {
  if (slot.length < FRAGMENT_HEADER_SIZE) {
    throw new InvalidInputError(
      `Fragment must be at least ${FRAGMENT_HEADER_SIZE} bytes, got ${slot.length}`,
    );
  }
  if (slot[0] !== FRAGMENT_KIND) {
    throw new InvalidInputError(`Fragment has kind ${slot[0]}, expected ${FRAGMENT_KIND}`);
  }
  const view = new DataView(slot.buffer, slot.byteOffset, slot.length);
  const index = view.getUint32(17);
  const count = view.getUint32(21);
  const length = view.getUint16(25);
  if (count === 0 || index >= count) {
    throw new InvalidInputError(`Fragment index ${index} is outside its count ${count}`);
  }
  if (FRAGMENT_HEADER_SIZE + length > slot.length) {
    throw new InvalidInputError(
      `Fragment declares ${length} data bytes but its slot holds ${
        slot.length - FRAGMENT_HEADER_SIZE
      }`,
    );
  }
  for (let i = FRAGMENT_HEADER_SIZE + length; i < slot.length; i++) {
    if (slot[i] !== 0) throw new InvalidInputError("Fragment padding is not zero");
  }
  return {
    messageId: slot.slice(1, 17),
    index,
    count,
    data: slot.slice(FRAGMENT_HEADER_SIZE, FRAGMENT_HEADER_SIZE + length),
  };
}

/** What {@linkcode Reassembler.add} did with a fragment. */
export type ReassemblyResult =
  | { status: "stored"; have: number; count: number }
  | { status: "duplicate" }
  | { status: "complete"; messageId: Uint8Array; message: Uint8Array };

/** A message still missing fragments. */
export interface IncompleteMessage {
  /** Message id. */
  messageId: Uint8Array;
  /** Fragments received. */
  have: number;
  /** Fragments expected. */
  count: number;
  /** When its first fragment arrived (ms). */
  firstSeen: number;
}

interface Partial {
  messageId: Uint8Array;
  count: number;
  parts: Map<number, Uint8Array>;
  bytes: number;
  firstSeen: number;
}

/** Serialisable state of a {@linkcode Reassembler}. */
export interface ReassemblerState {
  /** Ids (hex) of messages already delivered, with the time of delivery. */
  delivered: [string, number][];
  /** Partial messages. */
  partial: {
    messageId: Uint8Array;
    count: number;
    firstSeen: number;
    parts: [number, Uint8Array][];
  }[];
}

/**
 * Reassembles fragments into messages: any order, duplicates ignored, each message
 * delivered once (the ids of delivered messages are remembered).
 *
 * @example
 * ```ts
 * import { Reassembler, splitMessage } from "./fragment.ts";
 * const r = new Reassembler();
 * const parts = splitMessage(new Uint8Array([1, 2, 3]), { messageId: new Uint8Array(16), dataSize: 2 });
 * r.add(parts[1]!);
 * console.assert(r.add(parts[0]!).status === "complete");
 * console.assert(r.add(parts[0]!).status === "duplicate");
 * ```
 */
export class Reassembler {
  #partial = new Map<string, Partial>();
  #delivered = new Map<string, number>();
  #now: () => number;

  /**
   * Creates an empty reassembler.
   *
   * @param options clock (default Date.now)
   */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /**
   * Adds a fragment.
   *
   * @param fragment the fragment
   * @returns stored, duplicate, or the complete message
   * @throws {InvalidInputError} when it contradicts earlier fragments of the same message
   */
  add(fragment: Fragment): ReassemblyResult {
    const id = toHex(fragment.messageId);
    if (this.#delivered.has(id)) return { status: "duplicate" };
    if (fragment.count > MAX_MESSAGE_BYTES || fragment.index >= fragment.count) {
      throw new InvalidInputError(`Fragment of message ${id} has a bad index or count`);
    }
    let p = this.#partial.get(id);
    if (p === undefined) {
      p = {
        messageId: fragment.messageId.slice(),
        count: fragment.count,
        parts: new Map(),
        bytes: 0,
        firstSeen: this.#now(),
      };
      this.#partial.set(id, p);
    }
    if (p.count !== fragment.count) {
      throw new InvalidInputError(
        `Fragment of message ${id} says ${fragment.count} fragments, earlier ones said ${p.count}`,
      );
    }
    if (p.parts.has(fragment.index)) return { status: "duplicate" };
    if (p.bytes + fragment.data.length > MAX_MESSAGE_BYTES) {
      throw new InvalidInputError(`Message ${id} exceeds ${MAX_MESSAGE_BYTES} bytes`);
    }
    p.parts.set(fragment.index, fragment.data.slice());
    p.bytes += fragment.data.length;
    if (p.parts.size < p.count) return { status: "stored", have: p.parts.size, count: p.count };
    const message = new Uint8Array(p.bytes);
    let offset = 0;
    for (let i = 0; i < p.count; i++) {
      const part = p.parts.get(i)!;
      message.set(part, offset);
      offset += part.length;
    }
    this.#partial.delete(id);
    this.#delivered.set(id, this.#now());
    return { status: "complete", messageId: p.messageId, message };
  }

  /**
   * Messages still incomplete whose first fragment is older than `olderThanMs`; they
   * are dropped from memory (reported incomplete, never delivered partially).
   *
   * @param olderThanMs age in ms
   * @returns the incomplete messages given up on
   */
  expire(olderThanMs: number): IncompleteMessage[] {
    const cutoff = this.#now() - olderThanMs;
    const out: IncompleteMessage[] = [];
    for (const [id, p] of this.#partial) {
      if (p.firstSeen > cutoff) continue;
      out.push({
        messageId: p.messageId,
        have: p.parts.size,
        count: p.count,
        firstSeen: p.firstSeen,
      });
      this.#partial.delete(id);
    }
    return out;
  }

  /**
   * Messages still incomplete.
   *
   * @returns their progress
   */
  pending(): IncompleteMessage[] {
    return [...this.#partial.values()].map((p) => ({
      messageId: p.messageId,
      have: p.parts.size,
      count: p.count,
      firstSeen: p.firstSeen,
    }));
  }

  /**
   * Forgets delivered ids older than `olderThanMs` (bounded memory; a duplicate arriving
   * after that is impossible once the sender's retransmissions have stopped).
   *
   * @param olderThanMs age in ms
   */
  forgetDelivered(olderThanMs: number): void {
    const cutoff = this.#now() - olderThanMs;
    for (const [id, t] of this.#delivered) if (t < cutoff) this.#delivered.delete(id);
  }

  /**
   * The state to persist.
   *
   * @returns plain data (msgpack-able)
   */
  state(): ReassemblerState {
    return {
      delivered: [...this.#delivered],
      partial: [...this.#partial.values()].map((p) => ({
        messageId: p.messageId,
        count: p.count,
        firstSeen: p.firstSeen,
        parts: [...p.parts],
      })),
    };
  }

  /**
   * Restores persisted state.
   *
   * @param state what {@linkcode state} returned
   */
  restore(state: ReassemblerState): void {
    this.#delivered = new Map(state.delivered);
    this.#partial.clear();
    for (const p of state.partial) {
      const parts = new Map(p.parts);
      let bytes = 0;
      for (const d of parts.values()) bytes += d.length;
      this.#partial.set(toHex(p.messageId), {
        messageId: p.messageId,
        count: p.count,
        firstSeen: p.firstSeen,
        parts,
        bytes,
      });
    }
  }
}
