/**
 * What the exit provider sees of a message packet, and the sizes that follow from the
 * Sphinx payload size (docs/message.md §5.1).
 *
 * Sphinx message of a forward packet (exactly payloadSize − 20 bytes):
 *   type (1) = 1 ‖ SURB-ACK (611) ‖ sealed = HPKE enc (32) ‖ ChaCha20-Poly1305(slot) (slot + 16)
 * The provider keeps `sealed` in the mailbox and sends the SURB-ACK back with
 * {@linkcode ACK_MESSAGE}; it learns nothing else (the slot is a fragment or a loop, padded).
 *
 * @module
 */

import { concatBytes } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import {
  decodeSphinxSurb,
  SPHINX_SURB_SIZE,
  sphinxMessageCapacity,
  type SphinxSurb,
} from "../../backends/decrypt/mod.ts";
import { FRAGMENT_HEADER_SIZE } from "./fragment.ts";
import { HPKE_OVERHEAD } from "./hpke.ts";

/** Type byte of a packet carrying a SURB-ACK and a sealed slot. */
export const PACKET_TYPE_DATA = 1;
/** The message a provider returns through a SURB-ACK. */
export const ACK_MESSAGE: Uint8Array = new TextEncoder().encode("panoramix/message/ack/v1");
/** Smallest Sphinx payload size the message plugin works with. */
export const MIN_MESSAGE_PAYLOAD_SIZE = 1024;

/** Sizes derived from a payload size. */
export interface MessageSizes {
  /** Sphinx payload bytes. */
  payloadSize: number;
  /** Bytes of the Sphinx message (payload minus zero tag and length). */
  capacity: number;
  /** Bytes of the sealed part (enc, ciphertext, tag). */
  sealedSize: number;
  /** Bytes of the plaintext slot inside the HPKE ciphertext. */
  slotSize: number;
  /** Message bytes per forward fragment. */
  dataPerPacket: number;
  /** Message bytes per SURB reply fragment (no SURB-ACK, no HPKE). */
  dataPerReply: number;
}

/**
 * Sizes of the message format for a payload size.
 *
 * @param payloadSize the network's Sphinx payload size
 * @returns the sizes
 * @throws {InvalidInputError} below {@linkcode MIN_MESSAGE_PAYLOAD_SIZE}
 * @example
 * ```ts
 * import { messageSizes } from "./wire.ts";
 * console.assert(messageSizes(2048).dataPerPacket === 1341);
 * ```
 */
export function messageSizes(payloadSize: number): MessageSizes {
  if (!Number.isSafeInteger(payloadSize) || payloadSize < MIN_MESSAGE_PAYLOAD_SIZE) {
    throw new InvalidInputError(
      `Messaging needs a Sphinx payload size of at least ${MIN_MESSAGE_PAYLOAD_SIZE}, got ${payloadSize}`,
    );
  }
  const capacity = sphinxMessageCapacity(payloadSize);
  const sealedSize = capacity - 1 - SPHINX_SURB_SIZE;
  const slotSize = sealedSize - HPKE_OVERHEAD;
  return {
    payloadSize,
    capacity,
    sealedSize,
    slotSize,
    dataPerPacket: slotSize - FRAGMENT_HEADER_SIZE,
    dataPerReply: capacity - FRAGMENT_HEADER_SIZE,
  };
}

/**
 * Assembles the Sphinx message of a data packet.
 *
 * @param surbAck the encoded SURB-ACK (611 bytes)
 * @param sealed the HPKE-sealed slot
 * @returns type ‖ SURB-ACK ‖ sealed
 */
export function encodeDataMessage(surbAck: Uint8Array, sealed: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([PACKET_TYPE_DATA]), surbAck, sealed);
}

/**
 * Splits the Sphinx message of a data packet at the exit provider.
 *
 * @param message the delivered Sphinx message
 * @returns the SURB-ACK and the sealed slot
 * @throws {InvalidInputError} on an unknown type or a short message
 * @example
 * ```ts
 * import { decodeDataMessage } from "./wire.ts";
 * try { decodeDataMessage(new Uint8Array(3)); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function decodeDataMessage(
  message: Uint8Array,
): { surbAck: SphinxSurb; sealed: Uint8Array } {
  if (message[0] !== PACKET_TYPE_DATA) {
    throw new InvalidInputError(`Message packet has unknown type ${message[0]}`);
  }
  if (message.length < 1 + SPHINX_SURB_SIZE + HPKE_OVERHEAD) {
    throw new InvalidInputError(`Message packet of ${message.length} bytes is too short`);
  }
  return {
    surbAck: decodeSphinxSurb(message.subarray(1, 1 + SPHINX_SURB_SIZE)),
    sealed: message.slice(1 + SPHINX_SURB_SIZE),
  };
}
