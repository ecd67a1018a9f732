/**
 * The reference backend: a plain shuffle with no cryptography. It exists to show
 * the Mixer API in tests and docs; it hides nothing from the mixer itself.
 *
 * @module
 */

import { assertBatchSize } from "./batcher.ts";
import { constantTimeEqual } from "./bytes.ts";
import { type Envelope, readEnvelope } from "./envelope.ts";
import { VerificationError } from "./errors.ts";
import { readBytes } from "./fields.ts";
import type { ItemCodec, MixBackend } from "./mixer.ts";
import { applyPermutation, randomPermutation } from "./permutation.ts";
import { randomBytes } from "./random.ts";
import { labelledDigest } from "./transcript.ts";

/** Largest item the plain backend carries, in bytes. */
export const PLAIN_ITEM_MAX_BYTES = 65536;

/** A plain item: opaque bytes. */
export interface PlainItem {
  /** The payload. */
  data: Uint8Array;
}

const ITEM_KIND = "plain.item";
const KEY_KIND = "plain.key";
const PROOF_KIND = "plain.proof";
// Domain-separation label of the batch digests recorded in a plain proof.
const DIGEST_LABEL = "panoramix/plain/batch/v1";

const plainItemCodec: ItemCodec<PlainItem> = {
  kind: ITEM_KIND,
  encode: (item) => ({ v: 1, kind: ITEM_KIND, data: item.data }),
  decode: (value, what) => {
    const env = readEnvelope(value, ITEM_KIND, { what });
    return { data: readBytes(env.data, `${what}.data`, { maxLength: PLAIN_ITEM_MAX_BYTES }) };
  },
};

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function sortedDigest(items: readonly PlainItem[]): Uint8Array {
  return labelledDigest(DIGEST_LABEL, items.map((item) => item.data).sort(compareBytes));
}

/**
 * The plain (reference) backend. Its proof records a digest of the sorted inputs;
 * verification checks that the outputs are the inputs reordered.
 */
export const plainBackend: MixBackend<PlainItem, PlainItem> = {
  name: "plain",
  summary: "reference backend: shuffles opaque items, no cryptography (tests and docs only)",
  minBatchSize: 2,
  input: plainItemCodec,
  output: plainItemCodec,
  generateKeys() {
    const key: Envelope = { v: 1, kind: KEY_KIND };
    return Promise.resolve({ publicKey: key, secretKey: key });
  },
  async sampleInputs(count, options) {
    readEnvelope(options.key, KEY_KIND, { what: "key" });
    const items: PlainItem[] = [];
    for (let i = 0; i < count; i++) items.push({ data: randomBytes(16, options.random) });
    return items;
  },
  async mix(inputs, options) {
    readEnvelope(options.key, KEY_KIND, { what: "key" });
    assertBatchSize(inputs.length, plainBackend.minBatchSize);
    const outputs = applyPermutation(inputs, randomPermutation(inputs.length, options.random));
    options.onProgress?.({ phase: "shuffle", done: inputs.length, total: inputs.length });
    return {
      outputs,
      proof: { v: 1, kind: PROOF_KIND, count: inputs.length, digest: sortedDigest(inputs) },
    };
  },
  async verify(inputs, outputs, proof, options) {
    readEnvelope(options.key, KEY_KIND, { what: "key" });
    const env = readEnvelope(proof, PROOF_KIND, { what: "proof" });
    if (env.count !== inputs.length || outputs.length !== inputs.length) {
      throw new VerificationError(
        `Mix has ${inputs.length} inputs, ${outputs.length} outputs and a proof for ${
          String(env.count)
        }`,
      );
    }
    const recorded = readBytes(env.digest, "proof.digest", { length: 64 });
    if (!constantTimeEqual(recorded, sortedDigest(inputs))) {
      throw new VerificationError("Proof digest does not match the inputs");
    }
    if (!constantTimeEqual(sortedDigest(outputs), sortedDigest(inputs))) {
      throw new VerificationError("Outputs are not a permutation of the inputs");
    }
    return {
      checked: "outputs are exactly the inputs reordered (reference backend, no cryptography)",
    };
  },
};
