/**
 * Message embeddings into ristretto255 elements.
 *
 * Byte embedding (injective, documented in docs/reencrypt.md): a message of at most
 * {@linkcode MAX_EMBED_BYTES} = 30 bytes is placed in a 32-byte candidate encoding
 * `[2·ctr] || data || zero padding || [len]` (byte 0 is an even counter so the field
 * element is non-negative, bytes 1..30 hold the data, byte 31 the length ≤ 30 so the
 * value is below 2^254 < p). The first counter ctr = 0..127 whose candidate is a valid
 * canonical ristretto255 encoding (RFC 9496 §4.3.1) of a non-identity element is used.
 * Decoding re-encodes the element and reads length and data back, ignoring the
 * counter, so distinct messages always map to distinct elements.
 *
 * Small integers (votes) are the 4-byte big-endian embedding of 0 ≤ m < 2^32.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { decodePoint, type Point } from "./group.ts";

/** Largest message, in bytes, that fits in one group element. */
export const MAX_EMBED_BYTES = 30;

/** Largest small integer that {@linkcode encodeInteger} accepts. */
export const MAX_EMBED_INTEGER = 0xffffffff;

const COUNTERS = 128;
const INTEGER_CACHE_LIMIT = 4096;
const integerCache = new Map<number, Point>();

/**
 * Embeds up to 30 bytes into a group element (injective, see module docs).
 *
 * @param data the message, at most 30 bytes
 * @returns the element
 * @throws {InvalidInputError} when the message is longer than 30 bytes
 * @example
 * ```ts
 * import { embedBytes, extractBytes } from "./encoding.ts";
 * const m = new TextEncoder().encode("hello");
 * console.assert(new TextDecoder().decode(extractBytes(embedBytes(m))) === "hello");
 * ```
 */
export function embedBytes(data: Uint8Array): Point {
  if (data.length > MAX_EMBED_BYTES) {
    throw new InvalidInputError(
      `Message of ${data.length} bytes does not fit in a group element (at most ${MAX_EMBED_BYTES})`,
    );
  }
  const candidate = new Uint8Array(32);
  candidate.set(data, 1);
  candidate[31] = data.length;
  for (let ctr = 0; ctr < COUNTERS; ctr++) {
    candidate[0] = 2 * ctr;
    let point: Point;
    try {
      point = decodePoint(candidate, "embedding candidate");
    } catch {
      continue; // not a valid encoding (or the identity): next counter
    }
    return point;
  }
  // Each candidate succeeds with probability about 1/2; 128 failures happen with ≈ 2^-128.
  throw new InvalidInputError("Message could not be embedded in a group element");
}

/**
 * Reads back bytes embedded by {@linkcode embedBytes}.
 *
 * @param point the element (e.g. a decryption result)
 * @returns the message
 * @throws {InvalidInputError} when the element is not an embedding of any message
 * @example
 * ```ts
 * import { embedBytes, extractBytes } from "./encoding.ts";
 * console.assert(extractBytes(embedBytes(new Uint8Array([7])))[0] === 7);
 * ```
 */
export function extractBytes(point: Point): Uint8Array {
  return extractEncodedBytes(point.toBytes());
}

/**
 * Reads back bytes embedded by {@linkcode embedBytes} from an element's canonical
 * encoding, for callers that already hold it (saves encoding the point again). The
 * encoding itself is not validated here.
 *
 * @param bytes the element's 32-byte canonical encoding
 * @returns the message
 * @throws {InvalidInputError} when the element is not an embedding of any message
 * @example
 * ```ts
 * import { embedBytes, extractEncodedBytes } from "./encoding.ts";
 * console.assert(extractEncodedBytes(embedBytes(new Uint8Array([7])).toBytes())[0] === 7);
 * ```
 */
export function extractEncodedBytes(bytes: Uint8Array): Uint8Array {
  const length = bytes[31]!;
  if (bytes.length !== 32 || length > MAX_EMBED_BYTES) {
    throw new InvalidInputError(`Group element does not embed a message (length byte ${length})`);
  }
  if (embeddedLength(bytes) < 0) {
    throw new InvalidInputError("Group element does not embed a message (non-zero padding)");
  }
  return bytes.slice(1, 1 + length);
}

/**
 * The length of the message {@linkcode embedBytes} embedded in the canonical encoding at
 * `offset` of `bytes` (the message is the bytes from offset + 1 on), read in place: no copy
 * and no exception, for callers that read many elements. The encoding itself is not
 * validated here.
 *
 * @param bytes a buffer holding the 32-byte encoding from `offset`
 * @param offset where the encoding starts (default 0)
 * @returns the message's length, or −1 when the element embeds no message (or fewer than 32
 *   bytes follow `offset`)
 * @example
 * ```ts
 * import { embedBytes, embeddedLength } from "./encoding.ts";
 * console.assert(embeddedLength(embedBytes(new Uint8Array([7, 8])).toBytes()) === 2);
 * console.assert(embeddedLength(new Uint8Array(31)) === -1);
 * ```
 */
export function embeddedLength(bytes: Uint8Array, offset = 0): number {
  if (!(offset >= 0) || bytes.length < offset + 32) return -1;
  const length = bytes[offset + 31]!;
  if (length > MAX_EMBED_BYTES) return -1;
  for (let i = 1 + length; i < 31; i++) if (bytes[offset + i] !== 0) return -1;
  return length;
}

/**
 * Embeds a small integer 0 ≤ m < 2^32 (a vote) as its 4-byte big-endian embedding.
 *
 * @param value the integer
 * @returns the element
 * @throws {InvalidInputError} when the value is not an integer in range
 * @example
 * ```ts
 * import { decodeInteger, encodeInteger } from "./encoding.ts";
 * console.assert(decodeInteger(encodeInteger(42)) === 42);
 * ```
 */
export function encodeInteger(value: number): Point {
  if (!Number.isInteger(value) || value < 0 || value > MAX_EMBED_INTEGER) {
    throw new InvalidInputError(
      `Integer '${value}' cannot be encoded (must be an integer from 0 to ${MAX_EMBED_INTEGER})`,
    );
  }
  const cached = integerCache.get(value);
  if (cached !== undefined) return cached;
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value);
  const point = embedBytes(data);
  // Votes use few distinct values: remember small ones (points are immutable).
  if (value < INTEGER_CACHE_LIMIT) integerCache.set(value, point);
  return point;
}

/**
 * Reads back an integer embedded by {@linkcode encodeInteger}.
 *
 * @param point the element
 * @returns the integer
 * @throws {InvalidInputError} when the element does not embed a 4-byte integer
 * @example
 * ```ts
 * import { decodeInteger, encodeInteger } from "./encoding.ts";
 * console.assert(decodeInteger(encodeInteger(0)) === 0);
 * ```
 */
export function decodeInteger(point: Point): number {
  const data = extractBytes(point);
  if (data.length !== 4) {
    throw new InvalidInputError(`Group element embeds ${data.length} bytes, not a 4-byte integer`);
  }
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
}
