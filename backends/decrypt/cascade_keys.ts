/**
 * Key envelopes of the batch decryption cascade (docs/sphinx.md §6.1).
 *
 * - `decrypt.cascade` (public): payload size and the mixers in order, each with node id,
 *   X25519 public key and key id. Senders onion-encrypt to it.
 * - `decrypt.mixer-secret`: one mixer's secret key, its position and the public cascade.
 * - `decrypt.cascade-secret`: every mixer's `decrypt.mixer-secret` (what `keygen` writes
 *   for a demo; split it and give each operator its own).
 *
 * @module
 */

import { x25519 } from "@noble/curves/ed25519.js";
import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { ConfigError, InvalidInputError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord } from "../../core/fields.ts";
import { randomBytes, type RandomSource, systemRandom } from "../../core/random.ts";
import { labelledDigest } from "../../core/transcript.ts";
import type { SphinxHop } from "./header.ts";
import {
  checkSphinxPayloadSize,
  SPHINX_MAX_HOPS,
  SPHINX_MAX_PAYLOAD_SIZE,
  SPHINX_MIN_PAYLOAD_SIZE,
} from "./params.ts";
import type { SphinxNodeKey } from "./unwrap.ts";

/** Envelope kinds of cascade keys. */
export const CASCADE_KINDS = {
  cascade: "decrypt.cascade",
  mixerSecret: "decrypt.mixer-secret",
  cascadeSecret: "decrypt.cascade-secret",
} as const;

// Label of the node id derived from a mixer's public key.
const NODE_ID_LABEL = "panoramix/sphinx/cascade-node-id/v1";

/** One mixer of a cascade, as everybody knows it. */
export interface CascadeMixer {
  /** Node id (32 bytes) the previous mixer's packets are addressed to. */
  nodeId: Uint8Array;
  /** X25519 public key (32 bytes). */
  publicKey: Uint8Array;
  /** Key id in the packet framing (0–255). */
  keyId: number;
}

/** The public cascade: what senders encrypt to. */
export interface Cascade {
  /** Payload size of every packet. */
  payloadSize: number;
  /** Mixers in processing order. */
  mixers: CascadeMixer[];
}

/** One mixer's secret key with its place in the cascade. */
export interface CascadeMixerSecret {
  /** The public cascade. */
  cascade: Cascade;
  /** This mixer's position (0 = first). */
  position: number;
  /** Its node key. */
  key: SphinxNodeKey;
}

/**
 * The node id of a cascade mixer: the first 32 bytes of a labelled digest of its public key.
 *
 * @param publicKey 32-byte X25519 public key
 * @returns 32-byte node id
 * @example
 * ```ts
 * import { cascadeNodeId } from "./cascade_keys.ts";
 * console.assert(cascadeNodeId(new Uint8Array(32)).length === 32);
 * ```
 */
export function cascadeNodeId(publicKey: Uint8Array): Uint8Array {
  return labelledDigest(NODE_ID_LABEL, [publicKey]).slice(0, 32);
}

/**
 * The route a sender uses: the mixers in order.
 *
 * @param cascade the public cascade
 * @returns one hop per mixer, no delays
 * @example
 * ```ts
 * import { cascadeRoute, generateCascade } from "./cascade_keys.ts";
 * const { cascade } = generateCascade({ mixers: 2 });
 * console.assert(cascadeRoute(cascade).length === 2);
 * ```
 */
export function cascadeRoute(cascade: Cascade): SphinxHop[] {
  return cascade.mixers.map((m) => ({ nodeId: m.nodeId, publicKey: m.publicKey, keyId: m.keyId }));
}

/**
 * Creates a cascade of `mixers` fresh keys.
 *
 * @param options number of mixers (1–5, default 3), payload size, key id, randomness
 * @returns the public cascade and every mixer's secret
 * @throws {ConfigError} on an out-of-range setting
 * @example
 * ```ts
 * import { generateCascade } from "./cascade_keys.ts";
 * const { cascade, secrets } = generateCascade({ mixers: 3 });
 * console.assert(cascade.mixers.length === 3 && secrets[2]!.position === 2);
 * ```
 */
export function generateCascade(
  options: { mixers?: number; payloadSize?: number; keyId?: number; random?: RandomSource } = {},
): { cascade: Cascade; secrets: CascadeMixerSecret[] } {
  const count = options.mixers ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > SPHINX_MAX_HOPS) {
    throw new ConfigError(
      `Setting 'mixers' must be an integer between 1 and ${SPHINX_MAX_HOPS}, got ${count}`,
    );
  }
  const keyId = options.keyId ?? 0;
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 255) {
    throw new ConfigError(`Setting 'keyId' must be an integer between 0 and 255, got ${keyId}`);
  }
  const payloadSize = checkSphinxPayloadSize(options.payloadSize);
  const random = options.random ?? systemRandom;
  const keys: SphinxNodeKey[] = [];
  for (let i = 0; i < count; i++) {
    const secretKey = randomBytes(32, random);
    keys.push({ keyId, secretKey, publicKey: x25519.getPublicKey(secretKey) });
  }
  const cascade: Cascade = {
    payloadSize,
    mixers: keys.map((k) => ({
      nodeId: cascadeNodeId(k.publicKey),
      publicKey: k.publicKey,
      keyId,
    })),
  };
  return { cascade, secrets: keys.map((key, position) => ({ cascade, position, key })) };
}

function cascadeFields(cascade: Cascade): Record<string, unknown> {
  return {
    payloadSize: cascade.payloadSize,
    mixers: cascade.mixers.map((m) => ({
      nodeId: m.nodeId,
      publicKey: m.publicKey,
      keyId: m.keyId,
    })),
  };
}

/**
 * Encodes the public cascade envelope.
 *
 * @param cascade the cascade
 * @returns a `decrypt.cascade` envelope
 * @example
 * ```ts
 * import { decodeCascade, encodeCascade, generateCascade } from "./cascade_keys.ts";
 * const { cascade } = generateCascade({ mixers: 2 });
 * console.assert(decodeCascade(encodeCascade(cascade)).mixers.length === 2);
 * ```
 */
export function encodeCascade(cascade: Cascade): Envelope {
  return { v: 1, kind: CASCADE_KINDS.cascade, ...cascadeFields(cascade) };
}

/**
 * Encodes one mixer's secret envelope.
 *
 * @param secret the mixer secret
 * @returns a `decrypt.mixer-secret` envelope
 * @example
 * ```ts
 * import { decodeMixerSecret, encodeMixerSecret, generateCascade } from "./cascade_keys.ts";
 * const { secrets } = generateCascade({ mixers: 2 });
 * console.assert(decodeMixerSecret(encodeMixerSecret(secrets[1]!)).position === 1);
 * ```
 */
export function encodeMixerSecret(secret: CascadeMixerSecret): Envelope {
  return {
    v: 1,
    kind: CASCADE_KINDS.mixerSecret,
    position: secret.position,
    secretKey: secret.key.secretKey,
    cascade: cascadeFields(secret.cascade),
  };
}

/**
 * Encodes the demo envelope holding every mixer's secret.
 *
 * @param secrets every mixer's secret, in order
 * @returns a `decrypt.cascade-secret` envelope
 * @example
 * ```ts
 * import { encodeCascadeSecret, generateCascade } from "./cascade_keys.ts";
 * const { secrets } = generateCascade({ mixers: 2 });
 * console.assert(encodeCascadeSecret(secrets).kind === "decrypt.cascade-secret");
 * ```
 */
export function encodeCascadeSecret(secrets: readonly CascadeMixerSecret[]): Envelope {
  return { v: 1, kind: CASCADE_KINDS.cascadeSecret, mixers: secrets.map(encodeMixerSecret) };
}

function readCascadeFields(record: Record<string, unknown>, what: string): Cascade {
  const payloadSize = readInteger(record.payloadSize, `${what}.payloadSize`, {
    min: SPHINX_MIN_PAYLOAD_SIZE,
    max: SPHINX_MAX_PAYLOAD_SIZE,
  });
  const list = readArray(record.mixers, `${what}.mixers`, {
    minLength: 1,
    maxLength: SPHINX_MAX_HOPS,
  });
  const mixers = list.map((value, i) => {
    const m = readRecord(value, `${what}.mixers[${i}]`);
    return {
      nodeId: readBytes(m.nodeId, `${what}.mixers[${i}].nodeId`, { length: 32 }),
      publicKey: readBytes(m.publicKey, `${what}.mixers[${i}].publicKey`, { length: 32 }),
      keyId: readInteger(m.keyId, `${what}.mixers[${i}].keyId`, { max: 255 }),
    };
  });
  return { payloadSize, mixers };
}

/**
 * Decodes a public cascade envelope.
 *
 * @param value decoded envelope (msgpack or JSON view)
 * @param what names it in errors (default "key")
 * @returns the cascade
 * @throws {InvalidInputError} naming the bad field
 * @example
 * ```ts
 * import { decodeCascade, encodeCascade, generateCascade } from "./cascade_keys.ts";
 * const { cascade } = generateCascade({ mixers: 1 });
 * console.assert(decodeCascade(encodeCascade(cascade)).payloadSize === 1024);
 * ```
 */
export function decodeCascade(value: unknown, what = "key"): Cascade {
  return readCascadeFields(readEnvelope(value, CASCADE_KINDS.cascade, { what }), what);
}

/**
 * Decodes one mixer's secret envelope and checks the key matches its cascade entry.
 *
 * @param value decoded envelope
 * @param what names it in errors (default "key")
 * @returns the mixer secret
 * @throws {InvalidInputError} on a bad field or a key that is not the listed one
 * @example
 * ```ts
 * import { decodeMixerSecret, encodeMixerSecret, generateCascade } from "./cascade_keys.ts";
 * const { secrets } = generateCascade({ mixers: 1 });
 * console.assert(decodeMixerSecret(encodeMixerSecret(secrets[0]!)).key.secretKey.length === 32);
 * ```
 */
export function decodeMixerSecret(value: unknown, what = "key"): CascadeMixerSecret {
  const env = readEnvelope(value, CASCADE_KINDS.mixerSecret, { what });
  const cascade = readCascadeFields(readRecord(env.cascade, `${what}.cascade`), `${what}.cascade`);
  const position = readInteger(env.position, `${what}.position`, {
    max: cascade.mixers.length - 1,
  });
  const secretKey = readBytes(env.secretKey, `${what}.secretKey`, { length: 32 });
  const mixer = cascade.mixers[position]!;
  const publicKey = x25519.getPublicKey(secretKey);
  if (!publicKey.every((b, i) => b === mixer.publicKey[i])) {
    throw new InvalidInputError(
      `Value '${what}.secretKey' does not match the public key of mixer ${position}`,
    );
  }
  return { cascade, position, key: { keyId: mixer.keyId, secretKey, publicKey } };
}

/**
 * Decodes any secret the backend accepts: one mixer's, or the demo envelope of all.
 *
 * @param value decoded envelope
 * @param what names it in errors (default "key")
 * @returns the mixer secrets, in position order
 * @throws {InvalidInputError} on another kind or a bad field
 * @example
 * ```ts
 * import { decodeSecrets, encodeCascadeSecret, generateCascade } from "./cascade_keys.ts";
 * const { secrets } = generateCascade({ mixers: 2 });
 * console.assert(decodeSecrets(encodeCascadeSecret(secrets)).length === 2);
 * ```
 */
export function decodeSecrets(value: unknown, what = "key"): CascadeMixerSecret[] {
  const kind = readRecord(value, what).kind;
  if (kind === CASCADE_KINDS.mixerSecret) return [decodeMixerSecret(value, what)];
  const env = readEnvelope(value, CASCADE_KINDS.cascadeSecret, { what });
  const list = readArray(env.mixers, `${what}.mixers`, {
    minLength: 1,
    maxLength: SPHINX_MAX_HOPS,
  });
  const secrets = list.map((m, i) => decodeMixerSecret(m, `${what}.mixers[${i}]`));
  secrets.forEach((s, i) => {
    const sameCascade = s.cascade.mixers.every((m, j) =>
      m.publicKey.every((b, k) => b === secrets[j]?.key.publicKey[k])
    );
    if (s.position !== i || s.cascade.mixers.length !== secrets.length || !sameCascade) {
      throw new InvalidInputError(`Value '${what}.mixers[${i}]' is not mixer ${i} of this cascade`);
    }
  });
  return secrets;
}
