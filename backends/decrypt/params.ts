/**
 * Sizes and labels of the Panoramix Sphinx packet format (docs/sphinx.md §2).
 *
 * @module
 */

import { ConfigError } from "../../core/errors.ts";

/**
 * Packet format version: the first byte of every packet. Version 2 binds α into every hop key
 * and the header MAC (version 1 keyed them from s alone: issue 11, point 8).
 */
export const SPHINX_VERSION = 2;
/** Longest route a packet can take (DESIGN.md: at most 5 hops). */
export const SPHINX_MAX_HOPS = 5;
/** Bytes of one routing command. */
export const SPHINX_COMMAND_SIZE = 64;
/** Bytes of a MAC (HMAC-SHA256, full length). */
export const SPHINX_MAC_SIZE = 32;
/** Bytes of one per-hop slot of β: a command and the next hop's MAC. */
export const SPHINX_SLOT_SIZE: number = SPHINX_COMMAND_SIZE + SPHINX_MAC_SIZE;
/** Bytes of the routing information β (room for the maximum route). */
export const SPHINX_BETA_SIZE: number = SPHINX_MAX_HOPS * SPHINX_SLOT_SIZE;
/** Bytes of the framing prefix: version and key id. */
export const SPHINX_PREFIX_SIZE = 2;
/** Bytes of the group element α (an X25519 u-coordinate). */
export const SPHINX_ALPHA_SIZE = 32;
/** Bytes of a header: prefix, α, β, γ. */
export const SPHINX_HEADER_SIZE: number = SPHINX_PREFIX_SIZE + SPHINX_ALPHA_SIZE +
  SPHINX_BETA_SIZE +
  SPHINX_MAC_SIZE;
/** Default payload size in bytes (the packet is then 1,570 bytes). */
export const SPHINX_DEFAULT_PAYLOAD_SIZE = 1024;
/** Smallest payload size accepted. */
export const SPHINX_MIN_PAYLOAD_SIZE = 64;
/** Largest payload size accepted (64 KiB). */
export const SPHINX_MAX_PAYLOAD_SIZE = 65536;
/** Zero bytes at the start of a plaintext payload, checked at the exit (D&G 2009 §3.4: 0^κ). */
export const SPHINX_PAYLOAD_TAG_SIZE = 16;
/** Bytes of the message-length field after the zero tag. */
export const SPHINX_PAYLOAD_LENGTH_SIZE = 4;
/** Bytes of a replay tag. */
export const SPHINX_REPLAY_TAG_SIZE = 32;
/** Bytes of a node id (the forward address). */
export const SPHINX_NODE_ID_SIZE = 32;
/** Bytes of a SURB id. */
export const SPHINX_SURB_ID_SIZE = 16;

/** Domain-separation labels (docs/sphinx.md §3). */
export const SPHINX_LABELS = {
  /** HKDF-Extract salt for a hop's shared secret s and element α (IKM = s ‖ α). */
  hopSecret: "panoramix/sphinx/hop-secret/v2",
  /** HKDF-Expand info: MAC key. */
  mac: "panoramix/sphinx/mac/v1",
  /** HKDF-Expand info: ChaCha20 key of the routing-information stream ρ. */
  routing: "panoramix/sphinx/routing/v1",
  /** HKDF-Expand info: the four LIONESS keys of the payload. */
  payload: "panoramix/sphinx/payload/v1",
  /** HKDF-Expand info: the blinding factor. */
  blinding: "panoramix/sphinx/blinding/v1",
  /** HKDF-Expand info: the replay tag. */
  replayTag: "panoramix/sphinx/replay-tag/v1",
  /** HKDF-Extract salt for the SURB payload key k̃. */
  surbSecret: "panoramix/sphinx/surb-secret/v1",
} as const;

/**
 * Byte length of a packet with a given payload size.
 *
 * @param payloadSize payload bytes
 * @returns header plus payload bytes
 * @example
 * ```ts
 * import { sphinxPacketSize } from "./params.ts";
 * console.assert(sphinxPacketSize(1024) === 1570);
 * ```
 */
export function sphinxPacketSize(payloadSize: number = SPHINX_DEFAULT_PAYLOAD_SIZE): number {
  return SPHINX_HEADER_SIZE + payloadSize;
}

/**
 * Largest message that fits a payload of the given size.
 *
 * @param payloadSize payload bytes
 * @returns message capacity in bytes
 * @example
 * ```ts
 * import { sphinxMessageCapacity } from "./params.ts";
 * console.assert(sphinxMessageCapacity(1024) === 1004);
 * ```
 */
export function sphinxMessageCapacity(payloadSize: number = SPHINX_DEFAULT_PAYLOAD_SIZE): number {
  return payloadSize - SPHINX_PAYLOAD_TAG_SIZE - SPHINX_PAYLOAD_LENGTH_SIZE;
}

/**
 * Checks a payload size setting.
 *
 * @param payloadSize the setting (default {@linkcode SPHINX_DEFAULT_PAYLOAD_SIZE})
 * @returns the size
 * @throws {ConfigError} outside [64, 65536] bytes
 * @example
 * ```ts
 * import { checkSphinxPayloadSize } from "./params.ts";
 * console.assert(checkSphinxPayloadSize(undefined) === 1024);
 * ```
 */
export function checkSphinxPayloadSize(payloadSize: number | undefined): number {
  const size = payloadSize ?? SPHINX_DEFAULT_PAYLOAD_SIZE;
  if (
    !Number.isSafeInteger(size) || size < SPHINX_MIN_PAYLOAD_SIZE || size > SPHINX_MAX_PAYLOAD_SIZE
  ) {
    throw new ConfigError(
      `Setting 'payloadSize' must be an integer between ${SPHINX_MIN_PAYLOAD_SIZE} and ${SPHINX_MAX_PAYLOAD_SIZE}, got ${size}`,
    );
  }
  return size;
}
