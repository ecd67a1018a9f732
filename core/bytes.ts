/**
 * Byte helpers used across layers: base64url (the JSON view of binary fields),
 * hex, concatenation and constant-time comparison. Web-standard APIs only.
 *
 * @module
 */

import { InvalidInputError } from "./errors.ts";

const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

/**
 * Encodes bytes as unpadded base64url (RFC 4648 §5), the JSON view of binary fields.
 *
 * @param bytes the bytes to encode
 * @returns the base64url text
 * @example
 * ```ts
 * import { toBase64Url } from "./bytes.ts";
 * console.assert(toBase64Url(new Uint8Array([255, 254])) === "__4");
 * ```
 */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes unpadded (or padded) base64url text.
 *
 * @param text base64url text
 * @param what names the value in the error message
 * @returns the decoded bytes
 * @throws {InvalidInputError} when the text is not base64url
 * @example
 * ```ts
 * import { fromBase64Url } from "./bytes.ts";
 * console.assert(fromBase64Url("__4", "example")[0] === 255);
 * ```
 */
export function fromBase64Url(text: string, what: string): Uint8Array {
  const trimmed = text.replace(/=+$/, "");
  if (!BASE64URL_PATTERN.test(trimmed) || trimmed.length % 4 === 1) {
    throw new InvalidInputError(`Value '${what}' is not valid base64url`);
  }
  const binary = atob(trimmed.replaceAll("-", "+").replaceAll("_", "/"));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * Lower-case hex encoding.
 *
 * @param bytes the bytes to encode
 * @returns hex text
 * @example
 * ```ts
 * import { toHex } from "./bytes.ts";
 * console.assert(toHex(new Uint8Array([1, 171])) === "01ab");
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Decodes hex text (either case).
 *
 * @param text hex text of even length
 * @param what names the value in the error message
 * @returns the decoded bytes
 * @throws {InvalidInputError} when the text is not hex
 * @example
 * ```ts
 * import { fromHex } from "./bytes.ts";
 * console.assert(fromHex("01ab", "example")[1] === 171);
 * ```
 */
export function fromHex(text: string, what: string): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new InvalidInputError(`Value '${what}' is not valid hex`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Concatenates byte arrays.
 *
 * @param parts arrays to join in order
 * @returns a new array holding all parts
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * console.assert(concatBytes(new Uint8Array([1]), new Uint8Array([2])).length === 2);
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return joinBytes(parts);
}

/**
 * Concatenates a list of byte arrays; unlike a spread into {@linkcode concatBytes}, any number
 * of parts (a million ciphertexts, say) fits, because no call takes them as arguments.
 *
 * @param parts arrays to join in order
 * @returns a new array holding all parts
 * @example
 * ```ts
 * import { joinBytes } from "./bytes.ts";
 * console.assert(joinBytes([new Uint8Array([1]), new Uint8Array([2])]).length === 2);
 * ```
 */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Compares two byte arrays in time that depends only on their lengths.
 *
 * @param a first array
 * @param b second array
 * @returns true when both hold the same bytes
 * @example
 * ```ts
 * import { constantTimeEqual } from "./bytes.ts";
 * console.assert(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1])));
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
