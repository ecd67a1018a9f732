/**
 * The plaintext payload layout: 16 zero bytes (the Sphinx 0^κ tag checked at the exit,
 * D&G 2009 §3.4) ‖ message length (u32be) ‖ message ‖ zero padding.
 *
 * @module
 */

import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import {
  SPHINX_PAYLOAD_LENGTH_SIZE,
  SPHINX_PAYLOAD_TAG_SIZE,
  sphinxMessageCapacity,
} from "./params.ts";

const BODY = SPHINX_PAYLOAD_TAG_SIZE + SPHINX_PAYLOAD_LENGTH_SIZE;

/**
 * Builds the plaintext payload for a message.
 *
 * @param message the message
 * @param payloadSize payload bytes
 * @returns the padded plaintext
 * @throws {InvalidInputError} when the message does not fit
 * @example
 * ```ts
 * import { encodeSphinxPayload } from "./payload.ts";
 * console.assert(encodeSphinxPayload(new Uint8Array([1]), 64).length === 64);
 * ```
 */
export function encodeSphinxPayload(message: Uint8Array, payloadSize: number): Uint8Array {
  const capacity = sphinxMessageCapacity(payloadSize);
  if (message.length > capacity) {
    throw new InvalidInputError(
      `Message of ${message.length} bytes does not fit a payload of ${payloadSize} bytes (at most ${capacity})`,
    );
  }
  const out = new Uint8Array(payloadSize);
  new DataView(out.buffer).setUint32(SPHINX_PAYLOAD_TAG_SIZE, message.length);
  out.set(message, BODY);
  return out;
}

/**
 * Checks the zero tag and extracts the message (the exit's integrity check).
 *
 * @param plaintext decrypted payload
 * @returns the message
 * @throws {VerificationError} when the tag is not zero or the length is impossible, which
 *   happens when any payload byte was modified on the way
 * @example
 * ```ts
 * import { decodeSphinxPayload, encodeSphinxPayload } from "./payload.ts";
 * const msg = decodeSphinxPayload(encodeSphinxPayload(new Uint8Array([7]), 64));
 * console.assert(msg[0] === 7);
 * ```
 */
export function decodeSphinxPayload(plaintext: Uint8Array): Uint8Array {
  let acc = 0;
  for (let i = 0; i < SPHINX_PAYLOAD_TAG_SIZE; i++) acc |= plaintext[i]!;
  if (acc !== 0 || plaintext.length < BODY) {
    throw new VerificationError(
      "Sphinx payload integrity tag is not zero: the payload was modified or the key is wrong",
    );
  }
  const length = new DataView(plaintext.buffer, plaintext.byteOffset).getUint32(
    SPHINX_PAYLOAD_TAG_SIZE,
  );
  if (length > plaintext.length - BODY) {
    throw new VerificationError(
      `Sphinx payload declares ${length} message bytes, more than it holds`,
    );
  }
  return plaintext.slice(BODY, BODY + length);
}
