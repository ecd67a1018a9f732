/**
 * The JSON view in chunks (issue 17: the JSON view of a large transcript, written without
 * holding it): the text of `JSON.stringify(toJsonView(value), null, indent)` for a value
 * whose big parts are the {@linkcode StreamedMap}, {@linkcode StreamedArray} and
 * {@linkcode StreamedBytes} of the chunked msgpack writer (core/msgpack_stream.ts), produced
 * a part at a time: an array's items one after the other, a byte string's base64url a piece
 * at a time.
 *
 * @module
 */

import { toBase64Url } from "./bytes.ts";
import { toJsonView } from "./envelope.ts";
import { StreamedArray, StreamedBytes, StreamedMap } from "./msgpack_stream.ts";

/** Characters gathered before a chunk is encoded and written. */
const WRITE_CHARS = 1 << 20;

/** Whether `key` is an array index, which a JavaScript object lists first, ascending. */
function isIndexKey(key: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(key) && Number(key) < 2 ** 32 - 1;
}

/** A map's entries in the order `JSON.stringify` gives the object `toJsonView` makes of it. */
function jsonEntries(map: StreamedMap): (readonly [string, unknown])[] {
  const kept = new Map<string, unknown>();
  for (const [key, value] of map.entries) {
    if (value === undefined) kept.delete(key);
    else kept.set(key, value);
  }
  const entries = [...kept.entries()];
  const indices = entries.filter(([k]) => isIndexKey(k)).sort((a, b) =>
    Number(a[0]) - Number(b[0])
  );
  return [...indices, ...entries.filter(([k]) => !isIndexKey(k))];
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

async function* items(source: Iterable<unknown> | AsyncIterable<unknown>) {
  if (isAsyncIterable(source)) yield* source;
  else yield* source as Iterable<unknown>;
}

/** The base64url text of a byte string given in pieces (no padding, as `toBase64Url`). */
async function* base64Pieces(bytes: StreamedBytes): AsyncGenerator<string> {
  let carry = new Uint8Array(0);
  let total = 0;
  for await (const raw of items(bytes.pieces)) {
    const piece = raw as Uint8Array;
    total += piece.length;
    let joined = piece;
    if (carry.length > 0) {
      joined = new Uint8Array(carry.length + piece.length);
      joined.set(carry);
      joined.set(piece, carry.length);
    }
    const whole = joined.length - (joined.length % 3);
    if (whole > 0) yield toBase64Url(joined.subarray(0, whole));
    carry = joined.slice(whole);
  }
  if (total !== bytes.length) {
    throw new RangeError(`Streamed bytes of length ${bytes.length} yielded ${total} bytes`);
  }
  if (carry.length > 0) yield toBase64Url(carry);
}

/**
 * The JSON view of a value in pieces of text: their concatenation is exactly
 * `JSON.stringify(toJsonView(v), null, indent)` where `v` is the value with every
 * {@linkcode StreamedMap} replaced by the object of its entries, every
 * {@linkcode StreamedArray} by the array of its items and every {@linkcode StreamedBytes}
 * by the byte string of its pieces. Only the part being written is held.
 *
 * @param value the value (maps, arrays and byte strings to stream wrapped)
 * @param indent spaces per level, 0 to 10 (default 2, as the JSON view files)
 * @returns the pieces of text, in order
 * @throws {RangeError} when a StreamedArray or StreamedBytes yields another length than it says
 * @example
 * ```ts
 * import { StreamedArray, StreamedMap } from "./msgpack_stream.ts";
 * import { jsonViewChunks } from "./json_stream.ts";
 * let text = "";
 * for await (const piece of jsonViewChunks(new StreamedMap([["xs", new StreamedArray(2, [1, new Uint8Array([255])])]]))) text += piece;
 * console.assert(text === JSON.stringify({ xs: [1, "_w"] }, null, 2));
 * ```
 */
export async function* jsonViewChunks(value: unknown, indent = 2): AsyncGenerator<string> {
  const pad = (depth: number) => " ".repeat(indent * depth);
  // JSON.stringify with no indent writes no line breaks and no space after a colon.
  const nl = indent > 0 ? "\n" : "";
  const colon = indent > 0 ? ": " : ":";
  async function* emit(v: unknown, depth: number): AsyncGenerator<string> {
    if (v instanceof StreamedMap) {
      const entries = jsonEntries(v);
      if (entries.length === 0) {
        yield "{}";
        return;
      }
      let sep = `{${nl}`;
      for (const [key, item] of entries) {
        yield `${sep}${pad(depth + 1)}${JSON.stringify(key)}${colon}`;
        yield* emit(item, depth + 1);
        sep = `,${nl}`;
      }
      yield `${nl}${pad(depth)}}`;
    } else if (v instanceof StreamedArray) {
      let count = 0;
      let sep = `[${nl}`;
      for await (const item of items(v.items)) {
        count++;
        if (count > v.length) break;
        yield sep + pad(depth + 1);
        // An item JSON leaves out (undefined) is null in an array.
        yield* emit(item === undefined ? null : item, depth + 1);
        sep = `,${nl}`;
      }
      if (count !== v.length) {
        throw new RangeError(`Streamed array of length ${v.length} yielded ${count} items`);
      }
      yield count === 0 ? "[]" : `${nl}${pad(depth)}]`;
    } else if (v instanceof StreamedBytes) {
      yield '"';
      yield* base64Pieces(v);
      yield '"';
    } else {
      const text = JSON.stringify(toJsonView(v), null, indent) ?? "null";
      // Strings in JSON hold no raw line breaks: every one is the layout's.
      yield depth === 0 ? text : text.replaceAll("\n", `\n${pad(depth)}`);
    }
  }
  yield* emit(value, 0);
}

/**
 * Writes the JSON view of a value ({@linkcode jsonViewChunks}) as UTF-8 to a stream, in
 * chunks of about a million characters, waiting for each write.
 *
 * @param value the value (maps, arrays and byte strings to stream wrapped)
 * @param writable where the bytes go (left open)
 * @param options `indent` (default 2); `suffix` written after the value (e.g. "\n")
 * @returns the number of bytes written
 * @example
 * ```ts
 * import { StreamedArray } from "./msgpack_stream.ts";
 * import { writeJsonViewStream } from "./json_stream.ts";
 * const parts: Uint8Array[] = [];
 * const n = await writeJsonViewStream(new StreamedArray(1, [1]), new WritableStream({ write: (c) => void parts.push(c) }));
 * console.assert(n === 7); // "[\n  1\n]"
 * ```
 */
export async function writeJsonViewStream(
  value: unknown,
  writable: WritableStream<Uint8Array>,
  options: { indent?: number; suffix?: string } = {},
): Promise<number> {
  const encoder = new TextEncoder();
  const writer = writable.getWriter();
  let bytes = 0;
  let text: string[] = [];
  let chars = 0;
  const flush = async () => {
    if (chars === 0) return;
    const chunk = encoder.encode(text.join(""));
    text = [];
    chars = 0;
    bytes += chunk.length;
    await writer.write(chunk);
  };
  try {
    for await (const piece of jsonViewChunks(value, options.indent ?? 2)) {
      text.push(piece);
      chars += piece.length;
      if (chars >= WRITE_CHARS) await flush();
    }
    if (options.suffix !== undefined) {
      text.push(options.suffix);
      chars += options.suffix.length;
    }
    await flush();
  } finally {
    writer.releaseLock();
  }
  return bytes;
}
