/**
 * Envelopes of the re-encryption backend (formats in docs/reencrypt.md). Points and
 * scalars are 32-byte canonical encodings (binary fields; base64url in the JSON view).
 *
 * @module
 */

import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord } from "../../core/fields.ts";
import type { ItemCodec } from "../../core/mixer.ts";
import type { DecryptionShare, SecretShare } from "./decryption.ts";
import type { DecryptionShareBatch } from "./decryption_batch.ts";
import { Ciphertext, MAX_WIDTH } from "./elgamal.ts";
import type { EncryptionProof } from "./encryption_proof.ts";
import {
  BASE_POINT,
  decodePoint,
  decodeScalar,
  ELEMENT_BYTES,
  encodeScalar,
  fixedBase,
  packPoints,
  type Point,
  unpackPoints,
} from "./group.ts";
import type { ShuffleProof } from "./shuffle_proof.ts";

/** Envelope kinds of this backend. */
export const REENCRYPT_KINDS = {
  publicKey: "reencrypt.public-key",
  secretKey: "reencrypt.secret-key",
  ciphertext: "reencrypt.ciphertext",
  shuffleProof: "reencrypt.shuffle-proof",
  decryptionShare: "reencrypt.decryption-share",
  decryptionShareBatch: "reencrypt.decryption-share-batch",
  encryptionProof: "reencrypt.encryption-proof",
  cascadeTranscript: "reencrypt.cascade-transcript",
} as const;

/** Largest batch a proof envelope may describe. */
export const MAX_SHUFFLE_BATCH = 1 << 24;

function point(value: unknown, what: string): Point {
  return decodePoint(readBytes(value, what, { length: ELEMENT_BYTES }), what);
}

function scalar(value: unknown, what: string): bigint {
  return decodeScalar(readBytes(value, what, { length: ELEMENT_BYTES }), what);
}

/**
 * Public key envelope `{ v: 1, kind: "reencrypt.public-key", key }`.
 *
 * @param publicKey the key
 * @returns the envelope
 * @example
 * ```ts
 * import { decodePublicKey, encodePublicKey } from "./codec.ts";
 * import { generateKeyPair } from "./elgamal.ts";
 * const { publicKey } = generateKeyPair();
 * console.assert(decodePublicKey(encodePublicKey(publicKey)).equals(publicKey));
 * ```
 */
export function encodePublicKey(publicKey: Point): Envelope {
  return { v: 1, kind: REENCRYPT_KINDS.publicKey, key: publicKey.toBytes() };
}

/**
 * Decodes a public key envelope (canonical, not the identity).
 *
 * @param value decoded msgpack or JSON view
 * @param what names the value in errors
 * @returns the key
 * @throws {InvalidInputError} when malformed
 * @example
 * ```ts
 * import { decodePublicKey, encodePublicKey } from "./codec.ts";
 * import { BASE_POINT } from "./group.ts";
 * console.assert(decodePublicKey(encodePublicKey(BASE_POINT)).equals(BASE_POINT));
 * ```
 */
export function decodePublicKey(value: unknown, what = "public key"): Point {
  const env = readEnvelope(value, REENCRYPT_KINDS.publicKey, { what });
  return point(env.key, `${what}.key`);
}

/**
 * Secret key envelope `{ v: 1, kind: "reencrypt.secret-key", index, secret, publicKey }`
 * (index 1 and the full key for a single authority; a trustee's share otherwise).
 *
 * @param share the secret (share)
 * @returns the envelope
 * @example
 * ```ts
 * import { decodeSecretKey, encodeSecretKey } from "./codec.ts";
 * console.assert(decodeSecretKey(encodeSecretKey({ index: 1, secret: 5n })).secret === 5n);
 * ```
 */
export function encodeSecretKey(share: SecretShare): Envelope {
  return {
    v: 1,
    kind: REENCRYPT_KINDS.secretKey,
    index: share.index,
    secret: encodeScalar(share.secret),
    verificationKey: fixedBase(BASE_POINT).multiply(share.secret).toBytes(),
  };
}

/**
 * Decodes a secret key envelope.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the secret share
 * @throws {InvalidInputError} when malformed or inconsistent with its verification key
 * @example
 * ```ts
 * import { decodeSecretKey, encodeSecretKey } from "./codec.ts";
 * console.assert(decodeSecretKey(encodeSecretKey({ index: 2, secret: 7n })).index === 2);
 * ```
 */
export function decodeSecretKey(value: unknown, what = "secret key"): SecretShare {
  const env = readEnvelope(value, REENCRYPT_KINDS.secretKey, { what });
  const index = readInteger(env.index, `${what}.index`, { min: 1, max: 255 });
  const secret = scalar(env.secret, `${what}.secret`);
  const vk = point(env.verificationKey, `${what}.verificationKey`);
  if (!fixedBase(BASE_POINT).multiply(secret).equals(vk)) {
    throw new InvalidInputError(`Value '${what}' does not match its verification key`);
  }
  return { index, secret };
}

/**
 * Ciphertext envelope `{ v: 1, kind: "reencrypt.ciphertext", elements: [{ c1, c2 }, …] }`.
 *
 * @param ciphertext the ciphertext
 * @returns the envelope
 * @example
 * ```ts
 * import { decodeCiphertext, encodeCiphertext } from "./codec.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const ct = encrypt(generateKeyPair().publicKey, [encodeInteger(1)]);
 * console.assert(decodeCiphertext(encodeCiphertext(ct), "ct").width === 1);
 * ```
 */
export function encodeCiphertext(ciphertext: Ciphertext): Envelope {
  const elements: Array<{ c1: Uint8Array; c2: Uint8Array }> = [];
  for (let k = 0; k < ciphertext.width; k++) {
    elements.push({
      c1: ciphertext.bytes.slice(64 * k, 64 * k + 32),
      c2: ciphertext.bytes.slice(64 * k + 32, 64 * k + 64),
    });
  }
  return { v: 1, kind: REENCRYPT_KINDS.ciphertext, elements };
}

/**
 * Decodes a ciphertext envelope. Sizes are checked here; every element is checked to be a
 * canonical non-identity encoding on first use — by the shuffle prover's and verifier's
 * workers in parallel, or by decryption — with an error naming `what`.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the ciphertext
 * @throws {InvalidInputError} naming the bad element
 * @example
 * ```ts
 * import { decodeCiphertext, encodeCiphertext } from "./codec.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const ct = encrypt(generateKeyPair().publicKey, [encodeInteger(1), encodeInteger(2)]);
 * console.assert(decodeCiphertext(encodeCiphertext(ct), "ct").width === 2);
 * ```
 */
export function decodeCiphertext(value: unknown, what: string): Ciphertext {
  const env = readEnvelope(value, REENCRYPT_KINDS.ciphertext, { what });
  const elements = readArray(env.elements, `${what}.elements`, {
    minLength: 1,
    maxLength: MAX_WIDTH,
  });
  const bytes = new Uint8Array(64 * elements.length);
  elements.forEach((e, k) => {
    const rec = readRecord(e, `${what}.elements[${k}]`);
    bytes.set(readBytes(rec.c1, `${what}.elements[${k}].c1`, { length: 32 }), 64 * k);
    bytes.set(readBytes(rec.c2, `${what}.elements[${k}].c2`, { length: 32 }), 64 * k + 32);
  });
  return Ciphertext.unchecked(bytes, what);
}

/** Item codec of the backend's inputs and outputs. */
export const ciphertextCodec: ItemCodec<Ciphertext> = {
  kind: REENCRYPT_KINDS.ciphertext,
  encode: encodeCiphertext,
  decode: decodeCiphertext,
};

/** The fields of a `reencrypt.shuffle-proof` envelope, in the order they are checked. */
export const SHUFFLE_PROOF_FIELDS = [
  "permutationCommitments",
  "chainCommitments",
  "commitments",
  "chainProofCommitments",
  "challenge",
  "responses",
  "chainResponses",
  "permutationResponses",
] as const;

/**
 * Version of the `reencrypt.shuffle-proof` envelope: 2 since the proof binds a context
 * (transcript label "panoramix/reencrypt/shuffle/v2"); version-1 proofs are refused.
 */
export const SHUFFLE_PROOF_VERSION = 2;

/**
 * Shuffle proof envelope `{ v: 1, kind: "reencrypt.shuffle-proof", count, width, … }`.
 *
 * @param proof the proof
 * @returns the envelope
 * @example
 * ```ts
 * import { decodeShuffleProof, encodeShuffleProof } from "./codec.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { shuffleAndProve } from "./shuffle_proof.ts";
 * const { publicKey } = generateKeyPair();
 * const inputs = [1, 2].map((v) => encrypt(publicKey, [encodeInteger(v)]));
 * const { proof } = await shuffleAndProve(publicKey, inputs, { workers: 1 });
 * console.assert(decodeShuffleProof(encodeShuffleProof(proof)).width === 1);
 * ```
 */
export function encodeShuffleProof(proof: ShuffleProof): Envelope {
  const env: Envelope = {
    v: SHUFFLE_PROOF_VERSION,
    kind: REENCRYPT_KINDS.shuffleProof,
    count: proof.permutationCommitments.length / ELEMENT_BYTES,
    width: proof.width,
  };
  for (const f of SHUFFLE_PROOF_FIELDS) env[f] = proof[f];
  return env;
}

/**
 * Decodes a shuffle proof envelope, checking every field's size (element validity is
 * checked by the verifier).
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the proof
 * @throws {InvalidInputError} when a field is missing or has the wrong size
 * @example
 * ```ts
 * import { decodeShuffleProof } from "./codec.ts";
 * try { decodeShuffleProof({ v: 1, kind: "reencrypt.shuffle-proof" }); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function decodeShuffleProof(value: unknown, what = "proof"): ShuffleProof {
  const { fields, width, bytes } = readShuffleProofLayout(value, what);
  const out: Partial<ShuffleProof> = { width };
  for (const f of SHUFFLE_PROOF_FIELDS) {
    out[f] = readBytes(fields[f], `${what}.${f}`, { length: bytes[f] });
  }
  return out as ShuffleProof;
}

/**
 * Checks a shuffle proof envelope's kind, version, count and width, and gives the byte length
 * each field must have: what {@linkcode decodeShuffleProof} checks before the fields, for a
 * reader that handles the big fields itself (e.g. leaves them in a file).
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the envelope's fields (unchecked), the width and each field's required length
 * @throws {InvalidInputError} when the kind, version, count or width is wrong
 * @example
 * ```ts
 * import { readShuffleProofLayout } from "./codec.ts";
 * const { bytes } = readShuffleProofLayout({ v: 2, kind: "reencrypt.shuffle-proof", count: 4, width: 1 });
 * console.assert(bytes.chainCommitments === 128 && bytes.commitments === 160);
 * ```
 */
export function readShuffleProofLayout(value: unknown, what = "proof"): {
  fields: Record<string, unknown>;
  width: number;
  bytes: Record<(typeof SHUFFLE_PROOF_FIELDS)[number], number>;
} {
  const env = readEnvelope(value, REENCRYPT_KINDS.shuffleProof, {
    what,
    versions: [SHUFFLE_PROOF_VERSION],
  });
  const n = readInteger(env.count, `${what}.count`, { min: 1, max: MAX_SHUFFLE_BATCH });
  const w = readInteger(env.width, `${what}.width`, { min: 1, max: MAX_WIDTH });
  const elements: Record<(typeof SHUFFLE_PROOF_FIELDS)[number], number> = {
    permutationCommitments: n,
    chainCommitments: n,
    commitments: 3 + 2 * w,
    chainProofCommitments: n,
    challenge: 1,
    responses: 3 + w,
    chainResponses: n,
    permutationResponses: n,
  };
  const bytes = Object.fromEntries(
    SHUFFLE_PROOF_FIELDS.map((f) => [f, elements[f] * ELEMENT_BYTES]),
  ) as Record<(typeof SHUFFLE_PROOF_FIELDS)[number], number>;
  return { fields: env, width: w, bytes };
}

/**
 * Decryption share envelope `{ v: 1, kind: "reencrypt.decryption-share", trustee, shares, challenge, response }`.
 *
 * @param share the share
 * @returns the envelope
 * @example
 * ```ts
 * import { decodeDecryptionShare, encodeDecryptionShare } from "./codec.ts";
 * import { createDecryptionShare } from "./decryption.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ct = encrypt(keys.publicKey, [encodeInteger(1)]);
 * const share = createDecryptionShare({ index: 1, secret: keys.secretKey }, ct);
 * console.assert(decodeDecryptionShare(encodeDecryptionShare(share)).trustee === 1);
 * ```
 */
export function encodeDecryptionShare(share: DecryptionShare): Envelope {
  return {
    v: 1,
    kind: REENCRYPT_KINDS.decryptionShare,
    trustee: share.trustee,
    shares: share.shares.map((p) => p.toBytes()),
    challenge: encodeScalar(share.challenge),
    response: encodeScalar(share.response),
  };
}

/**
 * Decodes a decryption share envelope.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the share
 * @throws {InvalidInputError} when malformed
 * @example
 * ```ts
 * import { decodeDecryptionShare } from "./codec.ts";
 * try { decodeDecryptionShare({}); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function decodeDecryptionShare(value: unknown, what = "decryption share"): DecryptionShare {
  const env = readEnvelope(value, REENCRYPT_KINDS.decryptionShare, { what });
  const trustee = readInteger(env.trustee, `${what}.trustee`, { min: 1, max: 255 });
  const shares = readArray(env.shares, `${what}.shares`, { minLength: 1, maxLength: MAX_WIDTH })
    .map((s, k) => point(s, `${what}.shares[${k}]`));
  return {
    trustee,
    shares,
    challenge: scalar(env.challenge, `${what}.challenge`),
    response: scalar(env.response, `${what}.response`),
  };
}

/**
 * Encryption proof envelope `{ v: 2, kind: "reencrypt.encryption-proof", commitments,
 * responses }`: `commitments` the packed Aₖ (32·w bytes), `responses` the zₖ (v1 held
 * the challenge instead of the commitments).
 *
 * @param proof the proof
 * @returns the envelope
 * @example
 * ```ts
 * import { decodeEncryptionProof, encodeEncryptionProof } from "./codec.ts";
 * import { BASE_POINT } from "./group.ts";
 * const env = encodeEncryptionProof({ commitments: BASE_POINT.toBytes(), responses: [2n] });
 * console.assert(decodeEncryptionProof(env).responses[0] === 2n);
 * ```
 */
export function encodeEncryptionProof(proof: EncryptionProof): Envelope {
  return {
    v: 2,
    kind: REENCRYPT_KINDS.encryptionProof,
    commitments: proof.commitments,
    responses: proof.responses.map(encodeScalar),
  };
}

/**
 * Decodes an encryption proof envelope (commitments are decoded when the proof is verified).
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the proof
 * @throws {InvalidInputError} when malformed
 * @example
 * ```ts
 * import { decodeEncryptionProof, encodeEncryptionProof } from "./codec.ts";
 * const proof = { commitments: new Uint8Array(0), responses: [] };
 * console.assert(decodeEncryptionProof(encodeEncryptionProof(proof)).responses.length === 0);
 * ```
 */
export function decodeEncryptionProof(value: unknown, what = "encryption proof"): EncryptionProof {
  const env = readEnvelope(value, REENCRYPT_KINDS.encryptionProof, { what, versions: [2] });
  const responses = readArray(env.responses, `${what}.responses`, { maxLength: MAX_WIDTH })
    .map((s, k) => scalar(s, `${what}.responses[${k}]`));
  return {
    commitments: readBytes(env.commitments, `${what}.commitments`, {
      length: responses.length * ELEMENT_BYTES,
    }).slice(),
    responses,
  };
}

/**
 * Decryption share batch envelope `{ v: 1, kind: "reencrypt.decryption-share-batch",
 * trustee, width, count, shares, challenge, response }` with `shares` the packed elements
 * d₁₁..d₁w d₂₁..d_Nw (32·N·w bytes).
 *
 * @param batch the batch
 * @returns the envelope
 * @example
 * ```ts
 * import { decodeDecryptionShareBatch, encodeDecryptionShareBatch } from "./codec.ts";
 * import { createDecryptionShareBatch } from "./decryption_batch.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const cts = [encrypt(keys.publicKey, [encodeInteger(1)])];
 * const batch = await createDecryptionShareBatch({ index: 1, secret: keys.secretKey }, cts, { workers: 1 });
 * console.assert(decodeDecryptionShareBatch(encodeDecryptionShareBatch(batch)).shares.length === 1);
 * ```
 */
export function encodeDecryptionShareBatch(batch: DecryptionShareBatch): Envelope {
  const width = batch.shares[0]?.length ?? 0;
  if (width === 0 || batch.shares.some((s) => s.length !== width)) {
    throw new InvalidInputError(
      "Decryption share batch 'shares' must be non-empty and of one width",
    );
  }
  return {
    v: 1,
    kind: REENCRYPT_KINDS.decryptionShareBatch,
    trustee: batch.index,
    width,
    count: batch.shares.length,
    shares: packPoints(batch.shares.flat()),
    challenge: encodeScalar(batch.proof.challenge),
    response: encodeScalar(batch.proof.response),
  };
}

/**
 * Decodes a decryption share batch envelope.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the batch
 * @throws {InvalidInputError} when malformed
 * @example
 * ```ts
 * import { decodeDecryptionShareBatch } from "./codec.ts";
 * try { decodeDecryptionShareBatch({}); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function decodeDecryptionShareBatch(
  value: unknown,
  what = "decryption share batch",
): DecryptionShareBatch {
  const env = readEnvelope(value, REENCRYPT_KINDS.decryptionShareBatch, { what });
  const index = readInteger(env.trustee, `${what}.trustee`, { min: 1, max: 255 });
  const width = readInteger(env.width, `${what}.width`, { min: 1, max: MAX_WIDTH });
  const count = readInteger(env.count, `${what}.count`, { min: 1, max: MAX_SHUFFLE_BATCH });
  const bytes = readBytes(env.shares, `${what}.shares`, { length: count * width * ELEMENT_BYTES });
  const flat = unpackPoints(bytes, `${what}.shares`);
  const shares: Point[][] = [];
  for (let i = 0; i < count; i++) shares.push(flat.slice(i * width, (i + 1) * width));
  return {
    index,
    shares,
    proof: {
      challenge: scalar(env.challenge, `${what}.challenge`),
      response: scalar(env.response, `${what}.response`),
    },
  };
}
