/**
 * Versioned envelopes: every persisted or transmitted object is a map
 * `{ v, kind, ... }`, encoded with msgpack (binary fields as bytes) and shown
 * to people as JSON with binary fields in base64url.
 *
 * @module
 */

import { Packr } from "msgpackr/pack";
import { Unpackr } from "msgpackr/unpack";
import { toBase64Url } from "./bytes.ts";
import { InvalidInputError } from "./errors.ts";
import { readInteger, readRecord, readString } from "./fields.ts";

/** A versioned, self-describing object. */
export interface Envelope {
  /** Format version of this kind. */
  v: number;
  /** What the object is, e.g. `"reencrypt.ciphertext"`. */
  kind: string;
  /** Kind-specific fields. */
  [field: string]: unknown;
}

// Plain maps, no msgpackr records or extensions, so other languages can read our files.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });

/**
 * Encodes any value (usually an envelope) as msgpack.
 *
 * @param value value holding maps, arrays, numbers, text and bytes
 * @returns msgpack bytes
 * @example
 * ```ts
 * import { decodeMsgpack, encodeMsgpack } from "./envelope.ts";
 * const round = decodeMsgpack(encodeMsgpack({ v: 1, kind: "x" }), "example");
 * console.assert((round as { kind: string }).kind === "x");
 * ```
 */
export function encodeMsgpack(value: unknown): Uint8Array {
  const buf = packr.pack(value);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Decodes one msgpack value, rejecting truncated or trailing data.
 *
 * @param bytes msgpack bytes
 * @param what names the input in errors
 * @returns the decoded value
 * @throws {InvalidInputError} when the bytes are not exactly one msgpack value
 * @example
 * ```ts
 * import { decodeMsgpack, encodeMsgpack } from "./envelope.ts";
 * console.assert(decodeMsgpack(encodeMsgpack(5), "example") === 5);
 * ```
 */
export function decodeMsgpack(bytes: Uint8Array, what: string): unknown {
  const values = decodeMsgpackSequence(bytes, what);
  if (values.length !== 1) {
    throw new InvalidInputError(
      `Input '${what}' must hold one msgpack value, got ${values.length}`,
    );
  }
  return values[0];
}

/**
 * Decodes a concatenation of msgpack values (a msgpack stream).
 *
 * @param bytes concatenated msgpack values
 * @param what names the input in errors
 * @returns the decoded values in order
 * @throws {InvalidInputError} when the data is truncated or malformed
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * import { decodeMsgpackSequence, encodeMsgpack } from "./envelope.ts";
 * const values = decodeMsgpackSequence(concatBytes(encodeMsgpack(1), encodeMsgpack(2)), "x");
 * console.assert(values.length === 2);
 * ```
 */
export function decodeMsgpackSequence(bytes: Uint8Array, what: string): unknown[] {
  try {
    return unpackr.unpackMultiple(bytes) as unknown[];
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const truncated = (error as { incomplete?: boolean }).incomplete === true ||
      /end of buffer|unexpected end/i.test(detail);
    throw new InvalidInputError(
      truncated
        ? `Input '${what}' is truncated msgpack (${bytes.length} bytes read)`
        : `Input '${what}' is not valid msgpack: ${detail}`,
      { cause: error },
    );
  }
}

/**
 * Converts a value to its JSON view: bytes become base64url text, bigints decimal text.
 *
 * @param value value holding maps, arrays, numbers, text and bytes
 * @returns a JSON-serialisable copy
 * @example
 * ```ts
 * import { toJsonView } from "./envelope.ts";
 * console.assert(JSON.stringify(toJsonView({ b: new Uint8Array([255]) })) === '{"b":"_w"}');
 * ```
 */
export function toJsonView(value: unknown): unknown {
  if (value instanceof Uint8Array) return toBase64Url(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJsonView);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = toJsonView(v);
    }
    return out;
  }
  return value;
}

/**
 * Checks that a decoded value is an envelope of the expected kind and a supported version.
 *
 * @param value decoded value (msgpack or JSON view)
 * @param kind expected kind
 * @param options `versions` accepted (default `[1]`) and `what` naming the value in errors
 * @returns the envelope
 * @throws {InvalidInputError} naming the wrong kind or version
 * @example
 * ```ts
 * import { readEnvelope } from "./envelope.ts";
 * const env = readEnvelope({ v: 1, kind: "plain.item", data: "AA" }, "plain.item");
 * console.assert(env.kind === "plain.item");
 * ```
 */
export function readEnvelope(
  value: unknown,
  kind: string,
  options: { versions?: readonly number[]; what?: string } = {},
): Envelope {
  const what = options.what ?? kind;
  const record = readRecord(value, what);
  const actualKind = readString(record.kind, `${what}.kind`);
  if (actualKind !== kind) {
    throw new InvalidInputError(`Value '${what}' must be of kind '${kind}', got '${actualKind}'`);
  }
  const v = readInteger(record.v, `${what}.v`);
  const versions = options.versions ?? [1];
  if (!versions.includes(v)) {
    throw new InvalidInputError(
      `Value '${what}' has unsupported version ${v} (supported: ${versions.join(", ")})`,
    );
  }
  return record as Envelope;
}
