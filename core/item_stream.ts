/**
 * Item streams: what `panoramix mix` reads and writes. Two formats:
 * NDJSON (one JSON value per line, binary fields in base64url) and msgpack
 * (concatenated msgpack values). The format is detected from the first byte.
 *
 * @module
 */

import { decodeMsgpackSequence, encodeMsgpack, toJsonView } from "./envelope.ts";
import { InvalidInputError } from "./errors.ts";

/** Wire format of an item stream. */
export type ItemFormat = "ndjson" | "msgpack";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function isJsonStart(byte: number): boolean {
  return byte === 0x7b /* { */ || byte === 0x5b /* [ */;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * Detects the format of a stream from its first non-blank byte: `{` or `[` means NDJSON.
 * A msgpack stream of maps starts with 0x80–0x8f, 0xde or 0xdf, never with those characters.
 *
 * @param bytes the stream contents
 * @returns the detected format (NDJSON for an empty stream)
 * @example
 * ```ts
 * import { detectItemFormat } from "./item_stream.ts";
 * console.assert(detectItemFormat(new TextEncoder().encode('{"v":1}\n')) === "ndjson");
 * ```
 */
export function detectItemFormat(bytes: Uint8Array): ItemFormat {
  for (const byte of bytes) {
    if (isSpace(byte)) continue;
    return isJsonStart(byte) ? "ndjson" : "msgpack";
  }
  return "ndjson";
}

/** Options of {@linkcode parseItems}. */
export interface ParseItemsOptions {
  /** Format, or "auto" to detect it (default). */
  format?: ItemFormat | "auto";
  /** Names the stream in errors (default "input"). */
  what?: string;
}

/**
 * Parses an item stream into decoded values (not yet validated by a backend codec).
 *
 * @param bytes the stream contents
 * @param options format and name for errors
 * @returns the values in order
 * @throws {InvalidInputError} naming the line or byte offset that is malformed
 * @example
 * ```ts
 * import { parseItems } from "./item_stream.ts";
 * const items = parseItems(new TextEncoder().encode('{"v":1}\n{"v":2}\n'));
 * console.assert(items.length === 2);
 * ```
 */
export function parseItems(bytes: Uint8Array, options: ParseItemsOptions = {}): unknown[] {
  const what = options.what ?? "input";
  const format = !options.format || options.format === "auto"
    ? detectItemFormat(bytes)
    : options.format;
  if (format === "msgpack") return decodeMsgpackSequence(bytes, what);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (error) {
    throw new InvalidInputError(`Input '${what}' is not valid UTF-8 text`, { cause: error });
  }
  const values: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      values.push(JSON.parse(line));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new InvalidInputError(`Line ${i + 1} of '${what}' is not valid JSON: ${detail}`, {
        cause: error,
      });
    }
  }
  return values;
}

/**
 * Serialises one value in a stream format: a JSON line (JSON view) or a msgpack value.
 *
 * @param value an envelope or other value
 * @param format the wire format
 * @returns the encoded bytes, ready to append to a stream
 * @example
 * ```ts
 * import { serializeItem } from "./item_stream.ts";
 * const line = new TextDecoder().decode(serializeItem({ v: 1, kind: "x" }, "ndjson"));
 * console.assert(line === '{"v":1,"kind":"x"}\n');
 * ```
 */
export function serializeItem(value: unknown, format: ItemFormat): Uint8Array {
  return format === "msgpack"
    ? encodeMsgpack(value)
    : encoder.encode(JSON.stringify(toJsonView(value)) + "\n");
}
