/**
 * Re-encryption mix-net backend: ElGamal over ristretto255 with ciphertexts of width
 * w ≥ 1, message embeddings, verifiable Terelius–Wikström shuffles, Pedersen DKG,
 * threshold decryption with Chaum–Pedersen proofs, proofs of knowledge for ballots,
 * mix cascades with transcripts, and the `reencrypt` MixBackend. Browser-safe.
 *
 * @example
 * ```ts
 * import { decrypt, decodeInteger, encodeInteger, encrypt, generateKeyPair, shuffleAndProve, verifyShuffle } from "./mod.ts";
 * const keys = generateKeyPair();
 * const inputs = [3, 1, 2].map((v) => encrypt(keys.publicKey, [encodeInteger(v)]));
 * const { outputs, proof } = await shuffleAndProve(keys.publicKey, inputs, { workers: 1 });
 * await verifyShuffle({ publicKey: keys.publicKey, inputs, outputs }, proof, { workers: 1 });
 * console.assert(outputs.map((c) => decodeInteger(decrypt(keys.secretKey, c)[0]!)).sort().join() === "1,2,3");
 * ```
 *
 * @module
 */

export * from "./group.ts";
export * from "./encoding.ts";
export * from "./generators.ts";
export * from "./elgamal.ts";
export * from "./elgamal_batch.ts";
export * from "./shuffle_proof.ts";
export * from "./decryption.ts";
export * from "./decryption_batch.ts";
export * from "./dkg.ts";
export * from "./encryption_proof.ts";
export * from "./codec.ts";
export * from "./cascade.ts";
export * from "./backend.ts";
export { prepareCurveEngine } from "./curve_wasm.ts";
export { scalarsFromWideInto } from "./scalar_bytes.ts";

// Core names this entry's API refers to, so `@panoramix/panoramix/reencrypt` is complete on its own.
export * from "../../core/errors.ts";
export type * from "../../core/envelope.ts";
export type * from "../../core/mixer.ts";
export type { RandomSource } from "../../core/random.ts";
export type { RecordSink, RecordSinkFactory, RecordSource } from "../../core/records.ts";
