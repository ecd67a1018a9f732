/**
 * Packet processing at a node (Danezis & Goldberg 2009, §3.3 header processing, §3.4
 * payload): pick the epoch key by key id, derive s, check γ in constant time, check the
 * replay tag, decrypt β and δ, then forward (with blinded α) or deliver.
 *
 * @module
 */

import { constantTimeEqual } from "../../core/bytes.ts";
import {
  InvalidInputError,
  NotFoundError,
  PanoramixError,
  ReplayError,
  VerificationError,
} from "../../core/errors.ts";
import { decodeSphinxCommand, type SphinxCommand } from "./command.ts";
import { prefix, SPHINX_OFFSETS } from "./header.ts";
import { chacha20XorInPlace } from "./chacha20.ts";
import { deriveSphinxHopKeys, headerMac, type SphinxHopKeys } from "./hop_keys.ts";
import { lionessDecrypt, lionessDecryptInPlace } from "./lioness.ts";
import {
  checkSphinxPayloadSize,
  SPHINX_BETA_SIZE,
  SPHINX_COMMAND_SIZE,
  SPHINX_HEADER_SIZE,
  SPHINX_MAC_SIZE,
  SPHINX_SLOT_SIZE,
  SPHINX_VERSION,
} from "./params.ts";
import { decodeSphinxPayload } from "./payload.ts";
import type { ReplayCache } from "./replay_cache.ts";
import { isCanonicalU, type SphinxX25519, sphinxX25519 } from "./x25519.ts";

/** A node's X25519 key for one epoch. */
export interface SphinxNodeKey {
  /** Key id (0–255) carried in the packet framing. */
  keyId: number;
  /**
   * Secret scalar (32 bytes). The WebCrypto engine caches its import per array object, so
   * do not modify the array in place (make a new key object for a new epoch).
   */
  secretKey: Uint8Array;
  /** Public key X25519(secretKey, 9) (32 bytes). */
  publicKey: Uint8Array;
}

/** Finds the epoch key for a key id, or undefined when the node has none (expired, unknown). */
export type SphinxKeyLookup = (keyId: number) => SphinxNodeKey | undefined;

/** Options of {@linkcode unwrapSphinxPacket}. */
export interface UnwrapSphinxOptions {
  /** The node's epoch keys: one key or a lookup by key id. */
  keys: SphinxNodeKey | SphinxKeyLookup;
  /** Payload bytes this network uses (default 1024). */
  payloadSize?: number;
  /** When given, a seen tag is rejected with {@linkcode ReplayError} and new tags recorded. */
  replayCache?: ReplayCache;
  /** X25519 engine (default the faster available). */
  x25519?: SphinxX25519;
}

/** The packet goes on to another node. */
export interface SphinxForwardResult {
  /** Discriminant. */
  kind: "forward";
  /** Node id to send to. */
  nextHop: Uint8Array;
  /** Key id now in the outgoing packet's framing. */
  nextKeyId: number;
  /** How long to hold the packet first, in milliseconds. */
  delayMs: number;
  /** The packet to send (same length as the one received). */
  packet: Uint8Array;
  /** Replay tag of the received packet (32 bytes). */
  replayTag: Uint8Array;
}

/** This node is the exit: deliver the message. */
export interface SphinxDeliverResult {
  /** Discriminant. */
  kind: "deliver";
  /** Recipient address (32 bytes). */
  recipient: Uint8Array;
  /** How long to hold the message first, in milliseconds. */
  delayMs: number;
  /** The plaintext message (integrity-checked). */
  message: Uint8Array;
  /** Replay tag of the received packet. */
  replayTag: Uint8Array;
}

/** This node is the exit of a SURB route: hand the encrypted reply to the SURB's creator. */
export interface SphinxReplyResult {
  /** Discriminant. */
  kind: "reply";
  /** The SURB creator's address (32 bytes). */
  recipient: Uint8Array;
  /** Which SURB was used (16 bytes); the creator looks its keys up by it. */
  surbId: Uint8Array;
  /** How long to hold the reply first, in milliseconds. */
  delayMs: number;
  /** The reply payload, still encrypted for the SURB creator ({@linkcode openSphinxReply}). */
  payload: Uint8Array;
  /** Replay tag of the received packet. */
  replayTag: Uint8Array;
}

/** What a node does with a packet. */
export type SphinxUnwrapResult = SphinxForwardResult | SphinxDeliverResult | SphinxReplyResult;

/**
 * Checks a packet's length and framing before any cryptography.
 *
 * @param packet the bytes received
 * @param payloadSize expected payload bytes
 * @throws {InvalidInputError} naming the expected and actual size or the bad version
 */
export function checkSphinxFraming(packet: Uint8Array, payloadSize: number): void {
  if (!(packet instanceof Uint8Array)) {
    throw new InvalidInputError("Sphinx packet must be bytes");
  }
  const expected = SPHINX_HEADER_SIZE + payloadSize;
  if (packet.length !== expected) {
    const what = packet.length < expected ? "truncated" : "oversized";
    throw new InvalidInputError(
      `Sphinx packet is ${what}: expected ${expected} bytes (header ${SPHINX_HEADER_SIZE} + payload ${payloadSize}), got ${packet.length}`,
    );
  }
  if (packet[0] !== SPHINX_VERSION) {
    throw new InvalidInputError(
      `Sphinx packet has unsupported version ${packet[0]} (supported: ${SPHINX_VERSION})`,
    );
  }
}

/**
 * Processes one packet at a node.
 *
 * @param packet the packet bytes
 * @param options the node's keys, payload size, replay cache, engine
 * @returns the routing decision with the replay tag
 * @throws {InvalidInputError} truncated/oversized packet, unknown version, non-canonical α
 * @throws {NotFoundError} no key for the packet's key id
 * @throws {VerificationError} MAC mismatch (tampered header or wrong key) or, at the exit,
 *   a payload whose integrity tag is not zero (tampered payload)
 * @throws {ReplayError} the replay tag is already in the cache
 * @example
 * ```ts
 * import { x25519 } from "@noble/curves/ed25519.js";
 * import { createSphinxPacket } from "./packet.ts";
 * import { unwrapSphinxPacket } from "./unwrap.ts";
 * const secretKey = new Uint8Array(32).fill(9);
 * const key = { keyId: 0, secretKey, publicKey: x25519.getPublicKey(secretKey) };
 * const route = [{ nodeId: new Uint8Array(32), publicKey: key.publicKey, keyId: 0 }];
 * const { packet } = await createSphinxPacket(new Uint8Array([42]), { route });
 * const out = await unwrapSphinxPacket(packet, { keys: key });
 * console.assert(out.kind === "deliver" && out.message[0] === 42);
 * ```
 */
export async function unwrapSphinxPacket(
  packet: Uint8Array,
  options: UnwrapSphinxOptions,
): Promise<SphinxUnwrapResult> {
  const received = receive(packet, options);
  const engine = options.x25519 ?? await sphinxX25519();
  // s = α^{x_n} (§3.3); a low-order α gives zero and is rejected by the engine.
  const secret = await engine.scalarMultLongLived(received.nodeKey.secretKey, received.alpha);
  const opened = await open(received, secret, options);
  // α' = α^{b} with b = h_b(s, α) clamped by X25519 (§3.3), started before the payload so
  // that an engine running off the main thread (WebCrypto) overlaps with LIONESS.
  const nextAlpha = opened.command.kind === "forward"
    ? engine.scalarMult(opened.keys.blinding, received.alpha)
    : undefined;
  const decrypted = decryptPayload(received, opened);
  return finish(opened, decrypted, await nextAlpha);
}

/**
 * Processes a batch of packets at a node, as {@linkcode unwrapSphinxPacket} does each one,
 * with the X25519 work of the whole batch handed to the engine at once (the WebAssembly
 * engine shares one field inversion per 64 multiplications). Replay tags are checked and
 * recorded in input order.
 *
 * @param packets the packets, in order
 * @param options the node's keys, payload size, replay cache, engine
 * @returns for each packet its routing decision, or the error {@linkcode unwrapSphinxPacket}
 *   would throw for it (always a {@linkcode PanoramixError})
 * @example
 * ```ts
 * import { x25519 } from "@noble/curves/ed25519.js";
 * import { createSphinxPacket } from "./packet.ts";
 * import { unwrapSphinxPackets } from "./unwrap.ts";
 * const secretKey = new Uint8Array(32).fill(9);
 * const key = { keyId: 0, secretKey, publicKey: x25519.getPublicKey(secretKey) };
 * const route = [{ nodeId: new Uint8Array(32), publicKey: key.publicKey, keyId: 0 }];
 * const { packet } = await createSphinxPacket(new Uint8Array([42]), { route });
 * const [out] = await unwrapSphinxPackets([packet, new Uint8Array(3)], { keys: key });
 * console.assert(out?.kind === "deliver" && out.message[0] === 42);
 * ```
 */
export async function unwrapSphinxPackets(
  packets: readonly Uint8Array[],
  options: UnwrapSphinxOptions,
): Promise<(SphinxUnwrapResult | PanoramixError)[]> {
  const results: (SphinxUnwrapResult | PanoramixError)[] = new Array(packets.length);
  const engine = options.x25519 ?? await sphinxX25519();
  const received: (Received | undefined)[] = packets.map((packet, i) => {
    try {
      return receive(packet, options);
    } catch (error) {
      results[i] = asPanoramixError(error);
      return undefined;
    }
  });
  // s = α^{x_n} for the whole batch (§3.3).
  const live = indices(received, (r) => r !== undefined);
  const secrets = await many(
    engine,
    live.map((i) => received[i]!.nodeKey.secretKey),
    live.map((i) => received[i]!.alpha),
    true,
  );
  const opened: (Opened | undefined)[] = new Array(packets.length);
  for (const [k, i] of live.entries()) {
    const secret = secrets[k]!;
    if (secret instanceof PanoramixError) {
      results[i] = secret;
      continue;
    }
    try {
      opened[i] = await open(received[i]!, secret, options); // in order: replay tags
    } catch (error) {
      results[i] = asPanoramixError(error);
    }
  }
  // α' = α^{b} for every packet to forward (§3.3).
  const forward = indices(opened, (o) => o?.command.kind === "forward");
  const nextAlphas = await many(
    engine,
    forward.map((i) => opened[i]!.keys.blinding),
    forward.map((i) => received[i]!.alpha),
    false,
  );
  const nextAlpha = new Map(forward.map((i, k) => [i, nextAlphas[k]!]));
  for (const [i, o] of opened.entries()) {
    if (o === undefined) continue;
    const alpha = nextAlpha.get(i);
    if (alpha instanceof PanoramixError) {
      results[i] = alpha;
      continue;
    }
    try {
      results[i] = finish(o, decryptPayload(received[i]!, o), alpha);
    } catch (error) {
      results[i] = asPanoramixError(error);
    }
  }
  return results;
}

function asPanoramixError(error: unknown): PanoramixError {
  if (error instanceof PanoramixError) return error;
  throw error;
}

function indices<T>(items: readonly T[], keep: (item: T) => boolean): number[] {
  const out: number[] = [];
  items.forEach((item, i) => keep(item) && out.push(i));
  return out;
}

// X25519 for a batch: the engine's batch method, or one call each.
async function many(
  engine: SphinxX25519,
  scalars: Uint8Array[],
  points: Uint8Array[],
  longLived: boolean,
): Promise<(Uint8Array | PanoramixError)[]> {
  if (scalars.length === 0) return [];
  if (engine.scalarMultMany !== undefined) return engine.scalarMultMany(scalars, points);
  const one = (k: Uint8Array, u: Uint8Array) =>
    longLived ? engine.scalarMultLongLived(k, u) : engine.scalarMult(k, u);
  return await Promise.all(
    scalars.map((k, i) => one(k, points[i]!).catch((error) => asPanoramixError(error))),
  );
}

/** A packet that passed the checks before any cryptography. */
interface Received {
  packet: Uint8Array;
  keyId: number;
  nodeKey: SphinxNodeKey;
  alpha: Uint8Array;
}

/** A packet whose MAC checked and whose routing information is open. */
interface Opened {
  keys: SphinxHopKeys;
  /** (β ‖ 0^slot) ⊕ ρ = n ‖ γ' ‖ β'. */
  routing: Uint8Array;
  command: SphinxCommand;
}

function receive(packet: Uint8Array, options: UnwrapSphinxOptions): Received {
  const payloadSize = checkSphinxPayloadSize(options.payloadSize);
  checkSphinxFraming(packet, payloadSize);
  const keyId = packet[1]!;
  const nodeKey = typeof options.keys === "function" ? options.keys(keyId) : options.keys;
  if (nodeKey === undefined || nodeKey.keyId !== keyId) {
    throw new NotFoundError(`No node key for Sphinx key id ${keyId}`);
  }
  const alpha = packet.slice(SPHINX_OFFSETS.alpha, SPHINX_OFFSETS.beta);
  if (!isCanonicalU(alpha)) {
    throw new InvalidInputError("Sphinx packet field 'alpha' is not a canonical X25519 element");
  }
  return { packet, keyId, nodeKey, alpha };
}

async function open(
  received: Received,
  secret: Uint8Array,
  options: UnwrapSphinxOptions,
): Promise<Opened> {
  const { packet, keyId, alpha } = received;
  const beta = packet.subarray(SPHINX_OFFSETS.beta, SPHINX_OFFSETS.gamma);
  const gamma = packet.subarray(SPHINX_OFFSETS.gamma, SPHINX_OFFSETS.payload);
  const keys = deriveSphinxHopKeys(secret, alpha);
  // γ must equal μ(h_μ(s, α), prefix ‖ α ‖ β), compared in constant time (§3.3); binding α
  // refuses α plus a small-order point, which X25519 maps to the same s (issue 11, point 8).
  if (!constantTimeEqual(headerMac(keys.mac, prefix(keyId), alpha, beta), gamma)) {
    throw new VerificationError(
      "Sphinx header MAC 'gamma' does not match: the header was modified or the key is wrong",
    );
  }
  // Tag h_τ(s, α) must be fresh (§3.3); only packets with a valid MAC are recorded.
  if (options.replayCache !== undefined && !(await options.replayCache.add(keys.replayTag))) {
    throw new ReplayError("Sphinx packet was already processed (replay tag seen before)");
  }
  // (β ‖ 0^slot) ⊕ ρ(h_ρ(s)) = n ‖ γ' ‖ β' (§3.3).
  const routing = new Uint8Array(SPHINX_BETA_SIZE + SPHINX_SLOT_SIZE);
  routing.set(beta);
  chacha20XorInPlace(keys.routing, routing);
  return { keys, routing, command: decodeSphinxCommand(routing) };
}

// δ' = π^{-1}(h_π(s), δ) (§3.4): for a packet to forward, decrypted in place in the outgoing
// packet (whose header `finish` fills in); otherwise on its own.
function decryptPayload(received: Received, opened: Opened): Uint8Array {
  const payload = received.packet.subarray(SPHINX_HEADER_SIZE);
  if (opened.command.kind !== "forward") return lionessDecrypt(opened.keys.payload, payload);
  const out = new Uint8Array(received.packet.length);
  out.set(payload, SPHINX_OFFSETS.payload);
  lionessDecryptInPlace(opened.keys.payload, out.subarray(SPHINX_OFFSETS.payload));
  return out;
}

// What the node does next, from the decrypted payload (or outgoing packet) and α'.
function finish(
  opened: Opened,
  decrypted: Uint8Array,
  nextAlpha: Uint8Array | undefined,
): SphinxUnwrapResult {
  const { command, routing, keys } = opened;
  if (command.kind === "forward") {
    const out = decrypted;
    out[0] = SPHINX_VERSION;
    out[1] = command.nextKeyId;
    out.set(nextAlpha!, SPHINX_OFFSETS.alpha);
    out.set(routing.subarray(SPHINX_SLOT_SIZE), SPHINX_OFFSETS.beta);
    out.set(
      routing.subarray(SPHINX_COMMAND_SIZE, SPHINX_COMMAND_SIZE + SPHINX_MAC_SIZE),
      SPHINX_OFFSETS.gamma,
    );
    return {
      kind: "forward",
      nextHop: command.nextHop,
      nextKeyId: command.nextKeyId,
      delayMs: command.delayMs,
      packet: out,
      replayTag: keys.replayTag,
    };
  }
  const delta = decrypted;
  if (command.kind === "deliver") {
    // The exit checks the 0^κ tag: any payload change scrambles it (§3.4).
    return {
      kind: "deliver",
      recipient: command.recipient,
      delayMs: command.delayMs,
      message: decodeSphinxPayload(delta),
      replayTag: keys.replayTag,
    };
  }
  return {
    kind: "reply",
    recipient: command.recipient,
    surbId: command.surbId,
    delayMs: command.delayMs,
    payload: delta,
    replayTag: keys.replayTag,
  };
}
