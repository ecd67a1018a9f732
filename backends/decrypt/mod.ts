/**
 * The decryption backend: the Sphinx packet format (Danezis & Goldberg 2009) with SURBs,
 * replay tags and key epochs, and a batch decryption cascade behind the Mixer API.
 * Specification: docs/sphinx.md.
 *
 * @example
 * ```ts
 * import { x25519 } from "@noble/curves/ed25519.js";
 * import { createSphinxPacket, unwrapSphinxPacket } from "./mod.ts";
 * const secretKey = new Uint8Array(32).fill(3);
 * const key = { keyId: 0, secretKey, publicKey: x25519.getPublicKey(secretKey) };
 * const route = [{ nodeId: new Uint8Array(32), publicKey: key.publicKey, keyId: 0 }];
 * const { packet } = await createSphinxPacket(new TextEncoder().encode("hi"), { route });
 * const result = await unwrapSphinxPacket(packet, { keys: key });
 * console.assert(result.kind === "deliver");
 * ```
 *
 * @module
 */

export * from "./params.ts";
export {
  decodeSphinxCommand,
  encodeSphinxCommand,
  SPHINX_COMMAND_TYPES,
  SPHINX_MAX_DELAY_MS,
  type SphinxCommand,
  type SphinxDeliverCommand,
  type SphinxForwardCommand,
  type SphinxReplyCommand,
} from "./command.ts";
export { deriveSphinxHopKeys, type SphinxHopKeys } from "./hop_keys.ts";
export {
  createSphinxHeader,
  type SphinxHeaderOptions,
  type SphinxHeaderResult,
  type SphinxHop,
} from "./header.ts";
export {
  createSphinxPacket,
  type CreateSphinxPacketOptions,
  type SphinxOutgoing,
} from "./packet.ts";
export {
  checkSphinxFraming,
  type SphinxDeliverResult,
  type SphinxForwardResult,
  type SphinxKeyLookup,
  type SphinxNodeKey,
  type SphinxReplyResult,
  type SphinxUnwrapResult,
  type UnwrapSphinxOptions,
  unwrapSphinxPacket,
  unwrapSphinxPackets,
} from "./unwrap.ts";
export {
  createSphinxReply,
  createSphinxSurb,
  type CreateSphinxSurbOptions,
  decodeSphinxSurb,
  decodeSphinxSurbSecret,
  encodeSphinxSurb,
  encodeSphinxSurbSecret,
  openSphinxReply,
  SPHINX_SURB_KEY_SIZE,
  SPHINX_SURB_SIZE,
  type SphinxSurb,
  type SphinxSurbSecret,
} from "./surb.ts";
export {
  MemoryReplayCache,
  type MemoryReplayCacheOptions,
  type ReplayCache,
} from "./replay_cache.ts";
export { sphinxExponentialDelayMs, sphinxRouteDelaysMs } from "./delay.ts";
export {
  nobleSphinxX25519,
  type SphinxX25519,
  sphinxX25519,
  wasmSphinxX25519,
  webCryptoSphinxX25519,
  withWasmFixedBase,
} from "./x25519.ts";
export {
  type Cascade as SphinxCascade,
  type CascadeMixer as SphinxCascadeMixer,
  type CascadeMixerSecret as SphinxCascadeMixerSecret,
  cascadeRoute as sphinxCascadeRoute,
  decodeCascade as decodeSphinxCascade,
  decodeSecrets as decodeSphinxCascadeSecrets,
  encodeCascade as encodeSphinxCascade,
  encodeCascadeSecret as encodeSphinxCascadeSecret,
  encodeMixerSecret as encodeSphinxMixerSecret,
  generateCascade as generateSphinxCascade,
} from "./cascade_keys.ts";
export {
  createDecryptBackend,
  DECRYPT_KINDS,
  decryptBackend,
  type DecryptBackendOptions,
  type SphinxCascadeItem,
  type SphinxDropReason,
  type SphinxPacketItem,
  type SphinxPlaintextItem,
} from "./backend.ts";

// Core names this entry's API refers to, so `@panoramix/panoramix/decrypt` is complete on its own.
export * from "../../core/errors.ts";
export type * from "../../core/envelope.ts";
export type * from "../../core/mixer.ts";
export type { RandomSource } from "../../core/random.ts";
