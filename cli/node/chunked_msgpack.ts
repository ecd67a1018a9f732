/**
 * Decodes a big msgpack map (a post body of a million inputs) in slices, yielding to the
 * event loop between slices (issue 11 §10): the top-level map is walked by its headers,
 * and every element of a top-level array is decoded on its own, so no single step decodes
 * more than a few thousand elements. The result equals `decodeMsgpack(bytes)` for every
 * map with text keys.
 *
 * @module
 */

import { decodeMsgpack } from "../../core/envelope.ts";
import { msgpackValueEnd } from "../../core/msgpack_stream.ts";
import { InvalidInputError } from "../../core/errors.ts";

/** Largest top-level value other than an array, and largest array element, in bytes. */
export const MAX_CHUNKED_VALUE_BYTES = 1024 * 1024;

/**
 * Decides when a long loop yields to the event loop: after `maxItems` items or `maxMs`
 * milliseconds of work since the last yield, whichever comes first (a loaded machine
 * gets shorter slices, not longer stalls).
 *
 * @example
 * ```ts
 * import { Slicer } from "./chunked_msgpack.ts";
 * const slicer = new Slicer();
 * for (let i = 0; i < 10_000; i++) await slicer.next();
 * ```
 */
export class Slicer {
  #items = 0;
  #since = performance.now();
  #maxItems: number;
  #maxMs: number;

  /**
   * @param maxItems most items per slice
   * @param maxMs longest slice in ms
   */
  constructor(maxItems = 2000, maxMs = 8) {
    this.#maxItems = maxItems;
    this.#maxMs = maxMs;
  }

  /**
   * Counts one item; yields (a macrotask) when the slice is over.
   *
   * @returns a promise settled when the loop may go on
   */
  next(): Promise<void> | undefined {
    this.#items++;
    if (this.#items < this.#maxItems && (this.#items & 63) !== 0) return undefined;
    if (this.#items < this.#maxItems && performance.now() - this.#since < this.#maxMs) {
      return undefined;
    }
    return new Promise((resolve) =>
      setTimeout(() => {
        this.#items = 0;
        this.#since = performance.now();
        resolve();
      }, 0)
    );
  }
}

function truncated(what: string): InvalidInputError {
  return new InvalidInputError(`Value '${what}' is truncated msgpack`);
}

// The header scanner is shared with the streaming transcript reader (core/msgpack_stream.ts).
export { msgpackValueEnd };

/** The header of a map or array at `pos`: its entry count and where its first entry starts. */
function containerHeader(
  bytes: Uint8Array,
  pos: number,
  kind: "map" | "array",
): { count: number; next: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b = bytes[pos];
  if (b === undefined) return undefined;
  const [fix, small, large] = kind === "map" ? [0x80, 0xde, 0xdf] : [0x90, 0xdc, 0xdd];
  if (b >= fix && b <= fix + 0x0f) return { count: b & 0x0f, next: pos + 1 };
  if (b === small && pos + 3 <= bytes.length) {
    return { count: view.getUint16(pos + 1), next: pos + 3 };
  }
  if (b === large && pos + 5 <= bytes.length) {
    return { count: view.getUint32(pos + 1), next: pos + 5 };
  }
  return undefined;
}

/**
 * Decodes a msgpack map whose big values are arrays, a slice of elements at a time, with a
 * macrotask yield between slices.
 *
 * @param bytes the encoding of one map
 * @param what names the value in errors
 * @param options `chunk` (most elements per slice; a slice also ends after 8 ms) and `onArray(key, length)`, called with each
 *   top-level array's length before any of its elements is decoded (it may throw, e.g.
 *   for a quota)
 * @returns the decoded map, as `decodeMsgpack` would give it
 * @throws {InvalidInputError} when the bytes are not one map with text keys, a top-level
 *   value other than an array or an array element exceeds
 *   {@linkcode MAX_CHUNKED_VALUE_BYTES}, or the encoding is malformed
 * @example
 * ```ts
 * import { encodeMsgpack } from "../../core/envelope.ts";
 * import { decodeMapInSlices } from "./chunked_msgpack.ts";
 * const value = await decodeMapInSlices(encodeMsgpack({ v: 1, items: [1, 2, 3] }), "body");
 * console.assert((value.items as number[]).length === 3);
 * ```
 */
export async function decodeMapInSlices(
  bytes: Uint8Array,
  what: string,
  options: { chunk?: number; onArray?: (key: string, length: number) => void } = {},
): Promise<Record<string, unknown>> {
  const slicer = new Slicer(options.chunk ?? 2000);
  const map = containerHeader(bytes, 0, "map");
  if (map === undefined) throw new InvalidInputError(`Value '${what}' must be a msgpack map`);
  const out: Record<string, unknown> = {};
  let pos = map.next;
  for (let entry = 0; entry < map.count; entry++) {
    const keyEnd = msgpackValueEnd(bytes, pos, what);
    const key = decodeMsgpack(bytes.subarray(pos, keyEnd), `${what} key`);
    if (typeof key !== "string" || key === "__proto__") {
      throw new InvalidInputError(`Value '${what}' has a key that is not a field name`);
    }
    pos = keyEnd;
    const array = containerHeader(bytes, pos, "array");
    if (array === undefined) {
      const end = msgpackValueEnd(bytes, pos, `${what}.${key}`);
      if (end - pos > MAX_CHUNKED_VALUE_BYTES) {
        throw new InvalidInputError(
          `Value '${what}.${key}' is larger than ${MAX_CHUNKED_VALUE_BYTES} bytes`,
        );
      }
      out[key] = decodeMsgpack(bytes.subarray(pos, end), `${what}.${key}`);
      pos = end;
      continue;
    }
    options.onArray?.(key, array.count);
    if (array.count > bytes.length - array.next) throw truncated(`${what}.${key}`);
    const values: unknown[] = [];
    pos = array.next;
    for (let i = 0; i < array.count; i++) {
      await slicer.next();
      const name = `${what}.${key}[${i}]`;
      const end = msgpackValueEnd(bytes, pos, name);
      if (end - pos > MAX_CHUNKED_VALUE_BYTES) {
        throw new InvalidInputError(
          `Value '${name}' is larger than ${MAX_CHUNKED_VALUE_BYTES} bytes`,
        );
      }
      values.push(decodeMsgpack(bytes.subarray(pos, end), name));
      pos = end;
    }
    out[key] = values;
  }
  if (pos !== bytes.length) {
    throw new InvalidInputError(`Value '${what}' has trailing bytes after the map`);
  }
  return out;
}
