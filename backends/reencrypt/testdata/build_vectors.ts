/**
 * Builds the known-answer vectors of the re-encryption backend from a seed
 * (core/random.ts `seededRandom`). Everything is drawn from one stream in a fixed order,
 * so the same seed always gives the same file. Used by kat_vectors_test.ts and regenerate.ts.
 *
 * @module
 */

import { toHex } from "../../../core/bytes.ts";
import { encodeMsgpack } from "../../../core/envelope.ts";
import { seededRandom } from "../../../core/random.ts";
import { encodeShuffleProof } from "../codec.ts";
import { createDecryptionShare } from "../decryption.ts";
import { encrypt, generateKeyPair } from "../elgamal.ts";
import { embedBytes, encodeInteger } from "../encoding.ts";
import { proveEncryptionKnowledge } from "../encryption_proof.ts";
import { generatorBytes } from "../generators.ts";
import { encodeScalar, randomScalars } from "../group.ts";
import { shuffleAndProve, verifyShuffle } from "../shuffle_proof.ts";

/** The seed of the committed vectors. */
export const VECTOR_SEED = "panoramix/reencrypt/kat/v1";

/**
 * Builds all vectors.
 *
 * @param seed the seed (default {@linkcode VECTOR_SEED})
 * @returns a JSON-serialisable object (hex strings)
 */
export async function buildVectors(seed: string = VECTOR_SEED): Promise<Record<string, unknown>> {
  const random = seededRandom(seed);
  const keys = generateKeyPair(random);
  const generators = [0, 1, 2, 3].map((i) => toHex(generatorBytes(i)));
  const embeddings = ["", "a", "panoramix", "0123456789abcdefghijklmnopqrst"].map((text) => ({
    text,
    element: toHex(embedBytes(new TextEncoder().encode(text)).toBytes()),
  }));
  const integers = [0, 1, 7, 4294967295].map((value) => ({
    value,
    element: toHex(encodeInteger(value).toBytes()),
  }));
  const shuffles = [];
  for (const w of [1, 2]) {
    const inputs = [0, 1, 2, 3].map((i) =>
      encrypt(keys.publicKey, Array.from({ length: w }, (_, k) => encodeInteger(10 * i + k)), {
        random,
      })
    );
    // The width-2 proof is bound to a context (an election fingerprint, say); width 1 to none.
    const context = w === 2 ? new TextEncoder().encode("election-1") : new Uint8Array(0);
    const { outputs, proof } = await shuffleAndProve(keys.publicKey, inputs, {
      context,
      random,
      workers: 1,
    });
    await verifyShuffle({ publicKey: keys.publicKey, inputs, outputs, context }, proof, {
      workers: 1,
    });
    shuffles.push({
      width: w,
      context: toHex(context),
      inputs: inputs.map((c) => toHex(c.bytes)),
      outputs: outputs.map((c) => toHex(c.bytes)),
      proofMsgpack: toHex(encodeMsgpack(encodeShuffleProof(proof))),
    });
  }
  const randomness = randomScalars(1, random);
  const ballot = encrypt(keys.publicKey, [encodeInteger(3)], { randomness });
  const context = new TextEncoder().encode("election-1|voter-1");
  const ballotProof = proveEncryptionKnowledge(
    { publicKey: keys.publicKey, ciphertext: ballot, context },
    { randomness, random },
  );
  const share = createDecryptionShare({ index: 1, secret: keys.secretKey }, ballot, { random });
  return {
    seed,
    note: "All byte strings are hex. Ciphertexts: per element c1 || c2 (32 bytes each).",
    secretKey: toHex(encodeScalar(keys.secretKey)),
    publicKey: toHex(keys.publicKey.toBytes()),
    generators,
    embeddings,
    integers,
    shuffles,
    encryptionProof: {
      ciphertext: toHex(ballot.bytes),
      context: toHex(context),
      commitments: toHex(ballotProof.commitments),
      responses: ballotProof.responses.map((z) => toHex(encodeScalar(z))),
    },
    // Trustee 1's share (the single key secretKey) of the encryption-proof ciphertext.
    decryptionShare: {
      ciphertext: toHex(ballot.bytes),
      trustee: share.trustee,
      shares: share.shares.map((p) => toHex(p.toBytes())),
      challenge: toHex(encodeScalar(share.challenge)),
      response: toHex(encodeScalar(share.response)),
    },
  };
}
