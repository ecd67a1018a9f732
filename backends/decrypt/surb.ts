/**
 * Single-use reply blocks (Danezis & Goldberg 2009, §3.5): the creator builds a header
 * for a route back to itself and hands it with a fresh payload key k̃ to a correspondent,
 * who can then reply once without learning the creator's address. The creator keeps the
 * per-hop payload keys to open the reply.
 *
 * @module
 */

import { concatBytes } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { randomBytes, type RandomSource, systemRandom } from "../../core/random.ts";
import { deriveSurbPayloadKey } from "./hop_keys.ts";
import { createSphinxHeader, type SphinxHop } from "./header.ts";
import { LIONESS_KEY_SIZE, lionessDecrypt, lionessEncrypt } from "./lioness.ts";
import type { SphinxOutgoing } from "./packet.ts";
import {
  checkSphinxPayloadSize,
  SPHINX_HEADER_SIZE,
  SPHINX_MAX_HOPS,
  SPHINX_NODE_ID_SIZE,
  SPHINX_SURB_ID_SIZE,
  SPHINX_VERSION,
} from "./params.ts";
import { decodeSphinxPayload, encodeSphinxPayload } from "./payload.ts";
import type { SphinxX25519 } from "./x25519.ts";

/** Bytes of k̃. */
export const SPHINX_SURB_KEY_SIZE = 32;
/** Bytes of an encoded SURB: version ‖ first hop ‖ header ‖ k̃. */
export const SPHINX_SURB_SIZE: number = 1 + SPHINX_NODE_ID_SIZE + SPHINX_HEADER_SIZE +
  SPHINX_SURB_KEY_SIZE;

/** What the correspondent receives: enough to send one reply. */
export interface SphinxSurb {
  /** Node id of the reply route's first hop. */
  firstHop: Uint8Array;
  /** The reply header (546 bytes). */
  header: Uint8Array;
  /** The payload key k̃ (32 bytes). */
  key: Uint8Array;
}

/** What the SURB creator keeps, indexed by `surbId`, to open the reply. */
export interface SphinxSurbSecret {
  /** The SURB id the exit reports (16 bytes). */
  surbId: Uint8Array;
  /** The payload key k̃ (32 bytes). */
  key: Uint8Array;
  /** LIONESS keys of each hop of the reply route, in route order (128 bytes each). */
  hopPayloadKeys: Uint8Array[];
}

/** Options of {@linkcode createSphinxSurb}. */
export interface CreateSphinxSurbOptions {
  /** Reply route, 1–5 hops; its last hop hands the reply to `recipient`. */
  route: readonly SphinxHop[];
  /** The creator's own address (32 bytes), given to the last hop. */
  recipient: Uint8Array;
  /** SURB id (16 bytes; default random). */
  surbId?: Uint8Array;
  /** Randomness (default the system CSPRNG): surbId if not given, k̃, then the header's. */
  random?: RandomSource;
  /** X25519 engine (default the faster available). */
  x25519?: SphinxX25519;
}

/**
 * Creates a SURB (D&G 2009 §3.5).
 *
 * @param options reply route, own address, randomness
 * @returns the SURB to hand out and the secret to keep
 * @throws {InvalidInputError} on a bad route, recipient or id
 * @example
 * ```ts
 * import { x25519 } from "@noble/curves/ed25519.js";
 * import { createSphinxSurb } from "./surb.ts";
 * const sk = new Uint8Array(32).fill(2);
 * const route = [{ nodeId: new Uint8Array(32), publicKey: x25519.getPublicKey(sk), keyId: 0 }];
 * const { surb, secret } = await createSphinxSurb({ route, recipient: new Uint8Array(32) });
 * console.assert(surb.header.length === 546 && secret.hopPayloadKeys.length === 1);
 * ```
 */
export async function createSphinxSurb(
  options: CreateSphinxSurbOptions,
): Promise<{ surb: SphinxSurb; secret: SphinxSurbSecret }> {
  const random = options.random ?? systemRandom;
  const surbId = options.surbId ?? randomBytes(SPHINX_SURB_ID_SIZE, random);
  if (!(surbId instanceof Uint8Array) || surbId.length !== SPHINX_SURB_ID_SIZE) {
    throw new InvalidInputError(`Value 'surbId' must be ${SPHINX_SURB_ID_SIZE} bytes`);
  }
  const key = randomBytes(SPHINX_SURB_KEY_SIZE, random);
  const { header, hopKeys } = await createSphinxHeader({
    route: options.route,
    final: { kind: "reply", recipient: options.recipient, surbId, delayMs: 0 },
    random,
    ...(options.x25519 === undefined ? {} : { x25519: options.x25519 }),
  });
  return {
    surb: { firstHop: options.route[0]!.nodeId.slice(), header, key },
    secret: { surbId: surbId.slice(), key, hopPayloadKeys: hopKeys.map((k) => k.payload) },
  };
}

/**
 * Sends a reply with a SURB: δ = π(k̃, 0^κ ‖ m) behind the SURB header (D&G 2009 §3.5).
 *
 * @param surb the SURB received
 * @param options the message and the network's payload size
 * @returns the first hop and the packet
 * @throws {InvalidInputError} when the message does not fit
 * @example
 * ```ts
 * import { x25519 } from "@noble/curves/ed25519.js";
 * import { createSphinxReply, createSphinxSurb } from "./surb.ts";
 * const sk = new Uint8Array(32).fill(2);
 * const route = [{ nodeId: new Uint8Array(32), publicKey: x25519.getPublicKey(sk), keyId: 0 }];
 * const { surb } = await createSphinxSurb({ route, recipient: new Uint8Array(32) });
 * const { packet } = createSphinxReply(surb, { message: new Uint8Array([1]) });
 * console.assert(packet.length === 1570);
 * ```
 */
export function createSphinxReply(
  surb: SphinxSurb,
  options: { message: Uint8Array; payloadSize?: number },
): SphinxOutgoing {
  const payloadSize = checkSphinxPayloadSize(options.payloadSize);
  const delta = lionessEncrypt(
    deriveSurbPayloadKey(surb.key),
    encodeSphinxPayload(options.message, payloadSize),
  );
  return { firstHop: surb.firstHop.slice(), packet: concatBytes(surb.header, delta) };
}

/**
 * Opens a reply delivered by the exit (D&G 2009 §3.5): re-applies each hop's π in reverse
 * route order, then π^{-1} under k̃, then checks the zero tag.
 *
 * @param secret the SURB secret kept at creation
 * @param payload the `payload` of the exit's `reply` result
 * @returns the reply message
 * @throws {VerificationError} when the reply was modified or does not belong to this SURB
 * @example
 * ```ts
 * import { x25519 } from "@noble/curves/ed25519.js";
 * import { createSphinxReply, createSphinxSurb, openSphinxReply } from "./surb.ts";
 * import { unwrapSphinxPacket } from "./unwrap.ts";
 * const secretKey = new Uint8Array(32).fill(2);
 * const key = { keyId: 0, secretKey, publicKey: x25519.getPublicKey(secretKey) };
 * const route = [{ nodeId: new Uint8Array(32), publicKey: key.publicKey, keyId: 0 }];
 * const { surb, secret } = await createSphinxSurb({ route, recipient: new Uint8Array(32) });
 * const { packet } = createSphinxReply(surb, { message: new Uint8Array([5]) });
 * const out = await unwrapSphinxPacket(packet, { keys: key });
 * if (out.kind === "reply") console.assert(openSphinxReply(secret, out.payload)[0] === 5);
 * ```
 */
export function openSphinxReply(secret: SphinxSurbSecret, payload: Uint8Array): Uint8Array {
  let delta = payload;
  for (let i = secret.hopPayloadKeys.length - 1; i >= 0; i--) {
    delta = lionessEncrypt(secret.hopPayloadKeys[i]!, delta);
  }
  return decodeSphinxPayload(lionessDecrypt(deriveSurbPayloadKey(secret.key), delta));
}

/**
 * Encodes a SURB for transmission: version (1) ‖ first hop (32) ‖ header (546) ‖ k̃ (32).
 *
 * @param surb the SURB
 * @returns 611 bytes
 * @example
 * ```ts
 * import { decodeSphinxSurb, encodeSphinxSurb } from "./surb.ts";
 * const surb = { firstHop: new Uint8Array(32), header: new Uint8Array(546), key: new Uint8Array(32) };
 * surb.header[0] = 1;
 * console.assert(decodeSphinxSurb(encodeSphinxSurb(surb)).header.length === 546);
 * ```
 */
export function encodeSphinxSurb(surb: SphinxSurb): Uint8Array {
  return concatBytes(new Uint8Array([SPHINX_VERSION]), surb.firstHop, surb.header, surb.key);
}

/**
 * Decodes a SURB.
 *
 * @param bytes 611 bytes
 * @returns the SURB
 * @throws {InvalidInputError} on wrong length or version
 * @example
 * ```ts
 * import { decodeSphinxSurb } from "./surb.ts";
 * try { decodeSphinxSurb(new Uint8Array(3)); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function decodeSphinxSurb(bytes: Uint8Array): SphinxSurb {
  if (bytes.length !== SPHINX_SURB_SIZE) {
    throw new InvalidInputError(`SURB must be ${SPHINX_SURB_SIZE} bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== SPHINX_VERSION || bytes[1 + SPHINX_NODE_ID_SIZE] !== SPHINX_VERSION) {
    throw new InvalidInputError(`SURB has unsupported version ${bytes[0]}`);
  }
  const headerStart = 1 + SPHINX_NODE_ID_SIZE;
  return {
    firstHop: bytes.slice(1, headerStart),
    header: bytes.slice(headerStart, headerStart + SPHINX_HEADER_SIZE),
    key: bytes.slice(headerStart + SPHINX_HEADER_SIZE),
  };
}

/**
 * Encodes a SURB secret for the creator's storage: surbId (16) ‖ k̃ (32) ‖ n (1) ‖ n × 128.
 *
 * @param secret the secret
 * @returns the bytes
 * @example
 * ```ts
 * import { decodeSphinxSurbSecret, encodeSphinxSurbSecret } from "./surb.ts";
 * const secret = { surbId: new Uint8Array(16), key: new Uint8Array(32), hopPayloadKeys: [new Uint8Array(128)] };
 * console.assert(decodeSphinxSurbSecret(encodeSphinxSurbSecret(secret)).hopPayloadKeys.length === 1);
 * ```
 */
export function encodeSphinxSurbSecret(secret: SphinxSurbSecret): Uint8Array {
  return concatBytes(
    secret.surbId,
    secret.key,
    new Uint8Array([secret.hopPayloadKeys.length]),
    ...secret.hopPayloadKeys,
  );
}

/**
 * Decodes a SURB secret.
 *
 * @param bytes the stored bytes
 * @returns the secret
 * @throws {InvalidInputError} on a wrong length or hop count
 * @example
 * ```ts
 * import { decodeSphinxSurbSecret } from "./surb.ts";
 * try { decodeSphinxSurbSecret(new Uint8Array(1)); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function decodeSphinxSurbSecret(bytes: Uint8Array): SphinxSurbSecret {
  const head = SPHINX_SURB_ID_SIZE + SPHINX_SURB_KEY_SIZE;
  const n = bytes[head];
  if (
    n === undefined || n < 1 || n > SPHINX_MAX_HOPS ||
    bytes.length !== head + 1 + n * LIONESS_KEY_SIZE
  ) {
    throw new InvalidInputError(`SURB secret has a wrong length (${bytes.length} bytes)`);
  }
  const hopPayloadKeys: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const start = head + 1 + i * LIONESS_KEY_SIZE;
    hopPayloadKeys.push(bytes.slice(start, start + LIONESS_KEY_SIZE));
  }
  return {
    surbId: bytes.slice(0, SPHINX_SURB_ID_SIZE),
    key: bytes.slice(SPHINX_SURB_ID_SIZE, head),
    hopPayloadKeys,
  };
}
