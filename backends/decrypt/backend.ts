/**
 * The decryption backend: a batch decryption cascade of k Sphinx mixers
 * (docs/sphinx.md §6). Senders onion-encrypt a Sphinx packet to the cascade; each
 * mixer peels its layer from every packet of a batch, drops invalid packets and replays,
 * and outputs the rest in random order: packets for the next mixer, or the plaintexts
 * after the last one.
 *
 * A decryption mix gives no public proof of a correct shuffle. `verify` with only the
 * public cascade checks counts, digests and item formats; with the mixer's secret key it
 * re-unwraps every input and checks the outputs are exactly the resulting multiset.
 *
 * @module
 */

import { assertBatchSize } from "../../core/batcher.ts";
import { constantTimeEqual, toHex } from "../../core/bytes.ts";
import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError, PanoramixError, VerificationError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../../core/fields.ts";
import type { ItemCodec, MixBackend, MixOptions, ProgressReporter } from "../../core/mixer.ts";
import { applyPermutation, randomPermutation } from "../../core/permutation.ts";
import { randomBytes } from "../../core/random.ts";
import { labelledDigest } from "../../core/transcript.ts";
import {
  type Cascade,
  CASCADE_KINDS,
  type CascadeMixerSecret,
  cascadeRoute,
  decodeCascade,
  decodeSecrets,
  encodeCascade,
  encodeCascadeSecret,
  generateCascade,
} from "./cascade_keys.ts";
import { createSphinxPacket } from "./packet.ts";
import { SPHINX_HEADER_SIZE, SPHINX_MAX_PAYLOAD_SIZE } from "./params.ts";
import { MemoryReplayCache, type ReplayCache } from "./replay_cache.ts";
import { type SphinxUnwrapResult, unwrapSphinxPackets } from "./unwrap.ts";
import { sphinxX25519 } from "./x25519.ts";

/** A Sphinx packet travelling through the cascade. */
export interface SphinxPacketItem {
  /** Discriminant. */
  type: "packet";
  /** The packet bytes. */
  packet: Uint8Array;
}

/** A plaintext that left the last mixer. */
export interface SphinxPlaintextItem {
  /** Discriminant. */
  type: "plaintext";
  /** The message. */
  message: Uint8Array;
}

/** What a mixer outputs: packets for the next mixer, or plaintexts after the last. */
export type SphinxCascadeItem = SphinxPacketItem | SphinxPlaintextItem;

/** Why a mixer dropped an input. */
export type SphinxDropReason = "invalid" | "route" | "replay";

/** Envelope kinds of cascade items and proofs. */
export const DECRYPT_KINDS = {
  packet: "decrypt.packet",
  plaintext: "decrypt.plaintext",
  proof: "decrypt.proof",
} as const;

// Domain-separation label of the batch digests in a proof.
const DIGEST_LABEL = "panoramix/decrypt/batch/v1";
// Packets per unwrapSphinxPackets call: the WebAssembly engine shares one field inversion
// across them (and WebCrypto would run them concurrently on its thread pool).
const UNWRAP_BATCH = 64;
const MAX_PACKET = SPHINX_HEADER_SIZE + SPHINX_MAX_PAYLOAD_SIZE;

function readPacketItem(value: unknown, what: string): SphinxPacketItem {
  const env = readEnvelope(value, DECRYPT_KINDS.packet, { what });
  const packet = readBytes(env.packet, `${what}.packet`, { maxLength: MAX_PACKET });
  if (packet.length === 0) throw new InvalidInputError(`Value '${what}.packet' is empty`);
  return { type: "packet", packet };
}

const packetCodec: ItemCodec<SphinxPacketItem> = {
  kind: DECRYPT_KINDS.packet,
  encode: (item) => ({ v: 1, kind: DECRYPT_KINDS.packet, packet: item.packet }),
  decode: readPacketItem,
};

/**
 * Output codec: its kind is `decrypt.plaintext` (what the cascade finally produces), and it
 * also encodes and decodes `decrypt.packet` items, which a middle mixer outputs.
 */
const outputCodec: ItemCodec<SphinxCascadeItem> = {
  kind: DECRYPT_KINDS.plaintext,
  encode: (item) =>
    item.type === "packet"
      ? packetCodec.encode(item)
      : { v: 1, kind: DECRYPT_KINDS.plaintext, message: item.message },
  decode: (value, what) => {
    const kind = readRecord(value, what).kind;
    if (kind === DECRYPT_KINDS.packet) return readPacketItem(value, what);
    const env = readEnvelope(value, DECRYPT_KINDS.plaintext, { what });
    return {
      type: "plaintext",
      message: readBytes(env.message, `${what}.message`, { maxLength: SPHINX_MAX_PAYLOAD_SIZE }),
    };
  },
};

function itemBytes(item: SphinxCascadeItem): Uint8Array {
  const body = item.type === "packet" ? item.packet : item.message;
  const out = new Uint8Array(body.length + 1);
  out[0] = item.type === "packet" ? 1 : 2;
  out.set(body, 1);
  return out;
}

/** ASCII of the two lowercase hex digits of each byte value. */
const HEX_ASCII = new TextEncoder().encode(
  Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0")).join(""),
);

/** The lowercase hex text of bytes, as ASCII bytes (what `TextEncoder` gives for `toHex`). */
function hexAscii(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = HEX_ASCII[2 * bytes[i]!]!;
    out[2 * i + 1] = HEX_ASCII[2 * bytes[i]! + 1]!;
  }
  return out;
}

/** Lexicographic order of byte strings (a prefix first). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The order-independent digest of a batch: the hex texts of its items, sorted, as the
 * parts of a labelled digest. Lowercase hex keeps byte order (and a prefix sorts first),
 * so the items are sorted as bytes and only then turned into hex text.
 *
 * @param items the batch, in any order
 * @returns the 64-byte digest named `inputDigest`/`outputDigest` in a decrypt proof
 * @example
 * ```ts ignore
 * batchDigest(outputs);
 * ```
 */
export function batchDigest(items: readonly SphinxCascadeItem[]): Uint8Array {
  const sorted = items.map(itemBytes).sort(compareBytes);
  return labelledDigest(DIGEST_LABEL, sorted.map(hexAscii));
}

/** One input dropped by a stage. */
interface Dropped {
  index: number;
  reason: SphinxDropReason;
}

/** What one stage did. */
interface StageResult {
  outputs: SphinxCascadeItem[];
  dropped: Dropped[];
}

async function unwrapAll(
  inputs: readonly SphinxCascadeItem[],
  secret: CascadeMixerSecret,
  onProgress: ProgressReporter | undefined,
): Promise<(SphinxUnwrapResult | undefined)[]> {
  const engine = await sphinxX25519();
  const results: (SphinxUnwrapResult | undefined)[] = new Array(inputs.length);
  for (let start = 0; start < inputs.length; start += UNWRAP_BATCH) {
    const chunk = inputs.slice(start, start + UNWRAP_BATCH);
    const at = chunk.flatMap((item, j) => item.type === "packet" ? [j] : []);
    // One batch per chunk: the engine shares X25519 work across it.
    const out = await unwrapSphinxPackets(
      at.map((j) => (chunk[j] as { packet: Uint8Array }).packet),
      { keys: secret.key, payloadSize: secret.cascade.payloadSize, x25519: engine },
    );
    out.forEach((result, k) => {
      if (!(result instanceof PanoramixError)) results[start + at[k]!] = result;
    });
    onProgress?.({
      phase: `unwrap (mixer ${secret.position + 1})`,
      done: Math.min(start + UNWRAP_BATCH, inputs.length),
      total: inputs.length,
    });
  }
  return results;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return constantTimeEqual(a, b);
}

/**
 * Runs one mixer over a batch, deterministically except for the final shuffle.
 * Replays are detected in input order: within the batch always, across batches when a
 * cache is given.
 */
async function runStage(
  inputs: readonly SphinxCascadeItem[],
  secret: CascadeMixerSecret,
  options: { cache?: ReplayCache; onProgress?: ProgressReporter },
): Promise<StageResult> {
  const unwrapped = await unwrapAll(inputs, secret, options.onProgress);
  const next = secret.cascade.mixers[secret.position + 1];
  const seen = new Set<string>();
  const outputs: SphinxCascadeItem[] = [];
  const dropped: Dropped[] = [];
  for (let index = 0; index < inputs.length; index++) {
    const result = unwrapped[index];
    if (result === undefined) {
      dropped.push({ index, reason: "invalid" });
      continue;
    }
    // A cascade packet must forward to the next mixer, or be delivered by the last one.
    const followsRoute = next === undefined
      ? result.kind === "deliver"
      : result.kind === "forward" && result.nextKeyId === next.keyId &&
        sameBytes(result.nextHop, next.nodeId);
    if (!followsRoute) {
      dropped.push({ index, reason: "route" });
      continue;
    }
    const tag = toHex(result.replayTag);
    const fresh = !seen.has(tag) &&
      (options.cache === undefined || await options.cache.add(result.replayTag));
    seen.add(tag);
    if (!fresh) {
      dropped.push({ index, reason: "replay" });
      continue;
    }
    outputs.push(
      result.kind === "forward"
        ? { type: "packet", packet: result.packet }
        : { type: "plaintext", message: (result as { message: Uint8Array }).message },
    );
  }
  return { outputs, dropped };
}

/** Options of {@linkcode createDecryptBackend}. */
export interface DecryptBackendOptions {
  /**
   * The replay cache of a mixer, by its public key (default: one in-memory cache per mixer
   * for the life of the process). The node daemon passes its persistent cache here.
   */
  replayCacheFor?: (mixerPublicKey: Uint8Array) => ReplayCache;
}

function readProof(proof: Envelope) {
  const env = readEnvelope(proof, DECRYPT_KINDS.proof, { what: "proof" });
  const stages = readArray(env.stages, "proof.stages", { minLength: 1, maxLength: 5 }).map(
    (value, i) => {
      const s = readRecord(value, `proof.stages[${i}]`);
      return {
        position: readInteger(s.position, `proof.stages[${i}].position`, { max: 4 }),
        inputCount: readInteger(s.inputCount, `proof.stages[${i}].inputCount`),
        outputCount: readInteger(s.outputCount, `proof.stages[${i}].outputCount`),
        dropped: readArray(s.dropped, `proof.stages[${i}].dropped`).map((d, j) => {
          const r = readRecord(d, `proof.stages[${i}].dropped[${j}]`);
          const reason = readString(r.reason, `proof.stages[${i}].dropped[${j}].reason`);
          if (reason !== "invalid" && reason !== "route" && reason !== "replay") {
            throw new InvalidInputError(
              `Value 'proof.stages[${i}].dropped[${j}].reason' must be invalid, route or replay`,
            );
          }
          return {
            index: readInteger(r.index, `proof.stages[${i}].dropped[${j}].index`),
            reason: reason as SphinxDropReason,
          };
        }),
      };
    },
  );
  return {
    stages,
    inputDigest: readBytes(env.inputDigest, "proof.inputDigest", { length: 64 }),
    outputDigest: readBytes(env.outputDigest, "proof.outputDigest", { length: 64 }),
  };
}

function fail(message: string): never {
  throw new VerificationError(message);
}

/**
 * Builds a decryption-cascade backend, optionally with the node daemon's replay caches.
 *
 * @param options replay cache factory
 * @returns the backend
 * @example
 * ```ts
 * import { createDecryptBackend, MemoryReplayCache } from "./mod.ts";
 * const cache = new MemoryReplayCache();
 * const backend = createDecryptBackend({ replayCacheFor: () => cache });
 * console.assert(backend.name === "decrypt");
 * ```
 */
export function createDecryptBackend(
  options: DecryptBackendOptions = {},
): MixBackend<SphinxPacketItem, SphinxCascadeItem> {
  const caches = new Map<string, ReplayCache>();
  const cacheFor = options.replayCacheFor ?? ((publicKey: Uint8Array) => {
    const k = toHex(publicKey);
    let cache = caches.get(k);
    if (cache === undefined) {
      cache = new MemoryReplayCache();
      caches.set(k, cache);
    }
    return cache;
  });

  const backend: MixBackend<SphinxPacketItem, SphinxCascadeItem> = {
    name: "decrypt",
    summary: "Sphinx decryption cascade: each mixer peels one layer and shuffles (no public proof)",
    minBatchSize: 2,
    input: packetCodec,
    output: outputCodec,

    generateKeys: async (keyOptions = {}) => {
      const settings = keyOptions.settings ?? {};
      const { cascade, secrets } = generateCascade({
        ...(settings.mixers === undefined ? {} : { mixers: Number(settings.mixers) }),
        ...(settings.payloadSize === undefined
          ? {}
          : { payloadSize: Number(settings.payloadSize) }),
        ...(settings.keyId === undefined ? {} : { keyId: Number(settings.keyId) }),
        ...(keyOptions.random === undefined ? {} : { random: keyOptions.random }),
      });
      await Promise.resolve();
      return { publicKey: encodeCascade(cascade), secretKey: encodeCascadeSecret(secrets) };
    },

    sampleInputs: async (count, sampleOptions) => {
      const cascade = decodeCascade(sampleOptions.key);
      const route = cascadeRoute(cascade);
      const items: SphinxPacketItem[] = [];
      for (let i = 0; i < count; i++) {
        const message = randomBytes(32, sampleOptions.random);
        const { packet } = await createSphinxPacket(message, {
          route,
          payloadSize: cascade.payloadSize,
          ...(sampleOptions.random === undefined ? {} : { random: sampleOptions.random }),
        });
        items.push({ type: "packet", packet });
      }
      return items;
    },

    mix: async (inputs, mixOptions: MixOptions) => {
      const secrets = decodeSecrets(mixOptions.key);
      assertBatchSize(inputs.length, backend.minBatchSize);
      let current: SphinxCascadeItem[] = inputs.map((item) => ({
        type: "packet",
        packet: item.packet,
      }));
      const stages: Record<string, unknown>[] = [];
      for (const secret of secrets) {
        const stage = await runStage(current, secret, {
          cache: cacheFor(secret.key.publicKey),
          ...(mixOptions.onProgress === undefined ? {} : { onProgress: mixOptions.onProgress }),
        });
        stages.push({
          position: secret.position,
          inputCount: current.length,
          outputCount: stage.outputs.length,
          dropped: stage.dropped.map((d) => ({ index: d.index, reason: d.reason })),
        });
        // Each mixer shuffles its outputs (uniform Fisher–Yates, core/permutation.ts).
        current = applyPermutation(
          stage.outputs,
          randomPermutation(stage.outputs.length, mixOptions.random),
        );
      }
      return {
        outputs: current,
        proof: {
          v: 1,
          kind: DECRYPT_KINDS.proof,
          stages,
          inputDigest: batchDigest(inputs),
          outputDigest: batchDigest(current),
        },
      };
    },

    verify: async (inputs, outputs, proof, verifyOptions) => {
      const record = readProof(proof);
      const kind = readRecord(verifyOptions.key, "key").kind;
      const secrets = kind === CASCADE_KINDS.cascade ? undefined : decodeSecrets(verifyOptions.key);
      const cascade: Cascade = secrets === undefined
        ? decodeCascade(verifyOptions.key)
        : secrets[0]!.cascade;
      // Public checks: digests, counts and formats.
      if (!constantTimeEqual(record.inputDigest, batchDigest(inputs))) {
        fail("Proof input digest does not match the inputs");
      }
      if (!constantTimeEqual(record.outputDigest, batchDigest(outputs))) {
        fail("Proof output digest does not match the outputs");
      }
      let expectedCount = inputs.length;
      let position = record.stages[0]!.position;
      for (const [i, stage] of record.stages.entries()) {
        if (stage.position !== position || position >= cascade.mixers.length) {
          fail(`Proof stage ${i} has position ${stage.position}, expected ${position}`);
        }
        if (
          stage.inputCount !== expectedCount ||
          stage.outputCount !== stage.inputCount - stage.dropped.length
        ) {
          fail(`Proof stage ${i} counts do not add up`);
        }
        expectedCount = stage.outputCount;
        position++;
      }
      if (outputs.length !== expectedCount) {
        fail(`Mix has ${outputs.length} outputs, the proof accounts for ${expectedCount}`);
      }
      const last = position === cascade.mixers.length;
      const packetSize = SPHINX_HEADER_SIZE + cascade.payloadSize;
      for (const [i, item] of outputs.entries()) {
        if (
          last
            ? item.type !== "plaintext"
            : item.type !== "packet" || item.packet.length !== packetSize
        ) {
          fail(`Output ${i + 1} is not a ${last ? "plaintext" : `${packetSize}-byte packet`}`);
        }
      }
      if (secrets === undefined) {
        return {
          checked: "digests, counts and formats only: a decryption mix has no public proof " +
            "(pass a mixer's secret key to re-check every decryption)",
          unverifiable: "a decryption mix has no public proof: a mixer could substitute its " +
            "outputs (plaintexts) and this check would pass; only a mixer's secret key " +
            "re-derives them (docs/sphinx.md §8.4)",
        };
      }

      // Secret-key checks: re-unwrap every stage without the replay cache and compare.
      let current: SphinxCascadeItem[] = inputs.map((item) => ({
        type: "packet",
        packet: item.packet,
      }));
      for (const [i, stage] of record.stages.entries()) {
        const secret = secrets.find((s) => s.position === stage.position);
        if (secret === undefined) {
          fail(`Key does not hold the secret of mixer ${stage.position} named in the proof`);
        }
        const redo = await runStage(current, secret, {
          ...(verifyOptions.onProgress === undefined
            ? {}
            : { onProgress: verifyOptions.onProgress }),
        });
        const claimed = new Map(stage.dropped.map((d) => [d.index, d.reason]));
        const recomputed = new Map(redo.dropped.map((d) => [d.index, d.reason]));
        for (const [index, reason] of recomputed) {
          if (claimed.get(index) !== reason) {
            fail(`Proof stage ${i} does not report input ${index + 1} as dropped (${reason})`);
          }
        }
        // Inputs reported as cross-batch replays unwrap correctly; keep them out of the outputs.
        const keep: SphinxCascadeItem[] = [];
        let k = 0;
        for (let index = 0; index < current.length; index++) {
          if (recomputed.has(index)) continue;
          const item = redo.outputs[k++]!;
          const reason = claimed.get(index);
          if (reason === undefined) keep.push(item);
          else if (reason !== "replay") {
            fail(`Proof stage ${i} drops valid input ${index + 1} as '${reason}'`);
          }
        }
        current = keep;
      }
      if (!constantTimeEqual(batchDigest(current), batchDigest(outputs))) {
        fail("Outputs are not the decryptions of the inputs");
      }
      return {
        checked: "every output re-derived by unwrapping the inputs with the mixers' secret keys",
      };
    },
  };
  return backend;
}

/**
 * The decryption backend registered as `--backend decrypt`, with per-process in-memory
 * replay caches.
 */
export const decryptBackend: MixBackend<SphinxPacketItem, SphinxCascadeItem> =
  createDecryptBackend();
