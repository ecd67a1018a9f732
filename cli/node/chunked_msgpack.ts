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

/**
 * The offset just past the msgpack value that starts at `start` (headers only: nothing is
 * decoded).
 *
 * @param bytes the encoding
 * @param start offset of the value
 * @param what names the value in errors
 * @returns the end offset
 * @throws {InvalidInputError} when the value is truncated or uses the reserved byte 0xc1
 */
export function msgpackValueEnd(bytes: Uint8Array, start: number, what: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let pending = 1; // values still to skip (containers add their children)
  const need = (n: number) => {
    if (pos + n > bytes.length) throw truncated(what);
  };
  while (pending > 0) {
    need(1);
    const b = bytes[pos]!;
    pending--;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
      pos += 1;
    } else if (b >= 0x80 && b <= 0x8f) {
      pending += 2 * (b & 0x0f);
      pos += 1;
    } else if (b >= 0x90 && b <= 0x9f) {
      pending += b & 0x0f;
      pos += 1;
    } else if (b >= 0xa0 && b <= 0xbf) {
      pos += 1 + (b & 0x1f);
    } else if (b === 0xc1) {
      throw new InvalidInputError(`Value '${what}' is not valid msgpack (byte 0xc1)`);
    } else {
      need(1 + (b === 0xc6 || b === 0xc9 || b === 0xdb || b === 0xdd || b === 0xdf ? 4 : 2));
      switch (b) {
        case 0xc4: // bin 8
        case 0xd9: // str 8
          pos += 2 + bytes[pos + 1]!;
          break;
        case 0xc5: // bin 16
        case 0xda: // str 16
          pos += 3 + view.getUint16(pos + 1);
          break;
        case 0xc6: // bin 32
        case 0xdb: // str 32
          pos += 5 + view.getUint32(pos + 1);
          break;
        case 0xc7: // ext 8
          pos += 3 + bytes[pos + 1]!;
          break;
        case 0xc8: // ext 16
          pos += 4 + view.getUint16(pos + 1);
          break;
        case 0xc9: // ext 32
          pos += 6 + view.getUint32(pos + 1);
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          pos += 5;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          pos += 9;
          break;
        case 0xcc:
        case 0xd0:
          pos += 2;
          break;
        case 0xcd:
        case 0xd1:
          pos += 3;
          break;
        case 0xd4:
          pos += 3;
          break;
        case 0xd5:
          pos += 4;
          break;
        case 0xd6:
          pos += 6;
          break;
        case 0xd7:
          pos += 10;
          break;
        case 0xd8:
          pos += 18;
          break;
        case 0xdc: // array 16
          pending += view.getUint16(pos + 1);
          pos += 3;
          break;
        case 0xdd: // array 32
          pending += view.getUint32(pos + 1);
          pos += 5;
          break;
        case 0xde: // map 16
          pending += 2 * view.getUint16(pos + 1);
          pos += 3;
          break;
        case 0xdf: // map 32
          pending += 2 * view.getUint32(pos + 1);
          pos += 5;
          break;
        default: // 0xc1 is never used
          throw new InvalidInputError(
            `Value '${what}' is not valid msgpack (byte 0x${b.toString(16)})`,
          );
      }
    }
    if (pos > bytes.length) throw truncated(what);
  }
  return pos;
}

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
