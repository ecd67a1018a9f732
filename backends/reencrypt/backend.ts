/**
 * The re-encryption mixing backend: ElGamal over ristretto255, each mix a verifiable
 * Terelius–Wikström shuffle. The `key` of mix, verify and sampleInputs is the public key
 * envelope; the proof is a `reencrypt.shuffle-proof` envelope.
 *
 * @module
 */

import { assertBatchSize } from "../../core/batcher.ts";
import { setDefaultWorkerEntry } from "../../core/worker_pool.ts";
import type { MixBackend } from "../../core/mixer.ts";
import { UniformIntegers } from "../../core/permutation.ts";
import {
  ciphertextCodec,
  decodePublicKey,
  decodeShuffleProof,
  encodePublicKey,
  encodeSecretKey,
  encodeShuffleProof,
} from "./codec.ts";
import { type Ciphertext, encrypt, generateKeyPair } from "./elgamal.ts";
import { encodeInteger } from "./encoding.ts";
import { shuffleAndProve, verifyShuffle } from "./shuffle_proof.ts";

// Workers default to this backend's own entry; the CLI overrides it with its main module.
setDefaultWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

/** Largest vote value `sampleInputs` draws (exclusive). */
const SAMPLE_VALUES = 16;

/**
 * The re-encryption backend (`--backend reencrypt`).
 *
 * @example
 * ```ts
 * import { reencryptBackend } from "./backend.ts";
 * const keys = await reencryptBackend.generateKeys();
 * const inputs = await reencryptBackend.sampleInputs(3, { key: keys.publicKey });
 * const { outputs, proof } = await reencryptBackend.mix(inputs, { key: keys.publicKey });
 * await reencryptBackend.verify(inputs, outputs, proof, { key: keys.publicKey });
 * ```
 */
export const reencryptBackend: MixBackend<Ciphertext, Ciphertext> = {
  name: "reencrypt",
  summary: "ElGamal over ristretto255 with verifiable Terelius–Wikström shuffles",
  minBatchSize: 2,
  input: ciphertextCodec,
  output: ciphertextCodec,
  generateKeys: (options = {}) => {
    const { secretKey, publicKey } = generateKeyPair(options.random);
    return Promise.resolve({
      publicKey: encodePublicKey(publicKey),
      secretKey: encodeSecretKey({ index: 1, secret: secretKey }),
    });
  },
  sampleInputs: (count, options) => {
    const publicKey = decodePublicKey(options.key, "key");
    const draw = new UniformIntegers(options.random);
    const items: Ciphertext[] = [];
    for (let i = 0; i < count; i++) {
      const opts = options.random === undefined ? {} : { random: options.random };
      items.push(encrypt(publicKey, [encodeInteger(draw.below(SAMPLE_VALUES))], opts));
    }
    return Promise.resolve(items);
  },
  mix: async (inputs, options) => {
    const publicKey = decodePublicKey(options.key, "key");
    assertBatchSize(inputs.length, reencryptBackend.minBatchSize);
    const { outputs, proof } = await shuffleAndProve(publicKey, inputs, {
      ...(options.context === undefined ? {} : { context: options.context }),
      ...(options.random === undefined ? {} : { random: options.random }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
    return { outputs, proof: encodeShuffleProof(proof) };
  },
  verify: async (inputs, outputs, proof, options) => {
    const publicKey = decodePublicKey(options.key, "key");
    await verifyShuffle(
      {
        publicKey,
        inputs,
        outputs,
        ...(options.context === undefined ? {} : { context: options.context }),
      },
      decodeShuffleProof(proof),
      options.onProgress === undefined ? {} : { onProgress: options.onProgress },
    );
    return {
      checked:
        "outputs are a re-encryption of a permutation of the inputs (Terelius–Wikström proof)",
    };
  },
};
