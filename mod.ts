/**
 * Panoramix: a mix-net toolkit. Re-encryption (ElGamal over ristretto255 with
 * verifiable shuffles) and decryption (Sphinx) mix-nets behind one Mixer API,
 * with plugins for e-voting, private surveys and anonymous messaging.
 *
 * @example
 * ```ts
 * import { plainBackend } from "./mod.ts";
 * const { publicKey } = await plainBackend.generateKeys();
 * const inputs = await plainBackend.sampleInputs(3, { key: publicKey });
 * const { outputs, proof } = await plainBackend.mix(inputs, { key: publicKey });
 * await plainBackend.verify(inputs, outputs, proof, { key: publicKey });
 * ```
 *
 * @module
 */

export * from "./core/mod.ts";
export * from "./backends/reencrypt/mod.ts";
export * from "./backends/decrypt/mod.ts";
export * from "./plugins/survey/mod.ts";
export * from "./plugins/vote/mod.ts";
export * from "./plugins/token/mod.ts";
export * from "./plugins/message/mod.ts";
