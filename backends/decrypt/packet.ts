/**
 * Forward packet creation for clients (D&G 2009 §3.2 header, §3.4 payload).
 *
 * @module
 */

import type { RandomSource } from "../../core/random.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { createSphinxHeader, type SphinxHop } from "./header.ts";
import { lionessEncryptInPlace } from "./lioness.ts";
import { checkSphinxPayloadSize, SPHINX_HEADER_SIZE, SPHINX_NODE_ID_SIZE } from "./params.ts";
import { encodeSphinxPayload } from "./payload.ts";
import type { SphinxX25519 } from "./x25519.ts";

/** Options of {@linkcode createSphinxPacket}. */
export interface CreateSphinxPacketOptions {
  /** The route, 1 to 5 hops, each with its optional delay. */
  route: readonly SphinxHop[];
  /** Recipient address given to the exit (32 bytes; default all zero, as in a cascade). */
  recipient?: Uint8Array;
  /** Payload bytes (default 1024); every node of the route must use the same. */
  payloadSize?: number;
  /** Randomness (default the system CSPRNG). */
  random?: RandomSource;
  /** X25519 engine (default the faster available). */
  x25519?: SphinxX25519;
}

/** A packet ready to send. */
export interface SphinxOutgoing {
  /** Node id of the first hop: where to send the packet. */
  firstHop: Uint8Array;
  /** The packet bytes (header ‖ payload). */
  packet: Uint8Array;
}

/**
 * Creates a forward Sphinx packet carrying `message` along `route`.
 *
 * @param message the message (at most payloadSize − 20 bytes)
 * @param options route, recipient, payload size, randomness, engine
 * @returns the first hop and the packet
 * @throws {InvalidInputError} on a bad route or an oversized message
 * @example
 * ```ts
 * import { x25519 } from "@noble/curves/ed25519.js";
 * import { createSphinxPacket } from "./packet.ts";
 * const sk = new Uint8Array(32).fill(1);
 * const route = [{ nodeId: new Uint8Array(32), publicKey: x25519.getPublicKey(sk), keyId: 0 }];
 * const { packet } = await createSphinxPacket(new TextEncoder().encode("hi"), { route });
 * console.assert(packet.length === 1570);
 * ```
 */
export async function createSphinxPacket(
  message: Uint8Array,
  options: CreateSphinxPacketOptions,
): Promise<SphinxOutgoing> {
  const payloadSize = checkSphinxPayloadSize(options.payloadSize);
  const plaintext = encodeSphinxPayload(message, payloadSize);
  const recipient = options.recipient ?? new Uint8Array(SPHINX_NODE_ID_SIZE);
  if (!(recipient instanceof Uint8Array) || recipient.length !== SPHINX_NODE_ID_SIZE) {
    throw new InvalidInputError("Value 'recipient' must be 32 bytes");
  }
  const { header, hopKeys } = await createSphinxHeader({
    route: options.route,
    final: { kind: "deliver", recipient, delayMs: 0 },
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.x25519 === undefined ? {} : { x25519: options.x25519 }),
  });
  // δ_0 = π_{h_π(s_0)}(… π_{h_π(s_{n-1})}(0^κ ‖ m)) (§3.4): innermost layer for the last hop,
  // every layer in place in the packet.
  const packet = new Uint8Array(SPHINX_HEADER_SIZE + payloadSize);
  packet.set(header);
  packet.set(plaintext, SPHINX_HEADER_SIZE);
  const delta = packet.subarray(SPHINX_HEADER_SIZE);
  for (let i = hopKeys.length - 1; i >= 0; i--) lionessEncryptInPlace(hopKeys[i]!.payload, delta);
  return { firstHop: options.route[0]!.nodeId.slice(), packet };
}
