/**
 * Schnorr proof of knowledge of the encryption randomness of a ciphertext
 * (Schnorr 1991; one proof over all w elements c1ₖ = g^{rₖ}), bound to the public
 * key, the whole ciphertext and caller context bytes (election id, voter credential),
 * so a proof cannot be copied to another ciphertext or context (non-malleable ballots,
 * as in Bernhard–Pereira–Warinschi 2012 for Helios).
 *
 * Transcript "panoramix/reencrypt/encryption-knowledge/v1": group, public key,
 * ciphertext bytes, context, commitments Aₖ = g^{aₖ}; challenge e; zₖ = aₖ + e·rₖ.
 * The proof is (e, z₁..z_w).
 *
 * @module
 */

import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import type { RandomSource } from "../../core/random.ts";
import { Transcript } from "../../core/transcript.ts";
import type { Ciphertext } from "./elgamal.ts";
import {
  BASE_POINT,
  fixedBase,
  GROUP_LABEL,
  modL,
  packPoints,
  type Point,
  randomScalars,
  scalarFromWide,
} from "./group.ts";

/** Protocol label of the proof. */
export const ENCRYPTION_KNOWLEDGE_LABEL = "panoramix/reencrypt/encryption-knowledge/v1";

/** A proof of knowledge of encryption randomness. */
export interface EncryptionProof {
  /** Challenge e. */
  challenge: bigint;
  /** Responses zₖ, one per element. */
  responses: bigint[];
}

function knowledgeChallenge(
  publicKey: Point,
  ciphertext: Ciphertext,
  context: Uint8Array,
  commitments: readonly Point[],
): bigint {
  const t = new Transcript(ENCRYPTION_KNOWLEDGE_LABEL);
  t.append("group", new TextEncoder().encode(GROUP_LABEL));
  t.append("public-key", publicKey.toBytes());
  t.append("ciphertext", ciphertext.bytes);
  t.append("context", context);
  t.append("commitments", packPoints(commitments));
  return scalarFromWide(t.challenge("e", 64));
}

/**
 * Proves knowledge of the randomness rₖ of every element of a ciphertext.
 *
 * @param statement public key, ciphertext and context bytes the proof is bound to
 * @param witness the randomness used by `encrypt` (one scalar per element) and optional random source
 * @returns the proof
 * @throws {InvalidInputError} when the randomness does not have one scalar per element
 * @example
 * ```ts
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { proveEncryptionKnowledge, verifyEncryptionKnowledge } from "./encryption_proof.ts";
 * import { randomScalars } from "./group.ts";
 * const { publicKey } = generateKeyPair();
 * const randomness = randomScalars(1);
 * const ciphertext = encrypt(publicKey, [encodeInteger(1)], { randomness });
 * const context = new TextEncoder().encode("election-1/voter-7");
 * const proof = proveEncryptionKnowledge({ publicKey, ciphertext, context }, { randomness });
 * verifyEncryptionKnowledge({ publicKey, ciphertext, context }, proof);
 * ```
 */
export function proveEncryptionKnowledge(
  statement: { publicKey: Point; ciphertext: Ciphertext; context: Uint8Array },
  witness: { randomness: readonly bigint[]; random?: RandomSource },
): EncryptionProof {
  const { publicKey, ciphertext, context } = statement;
  const w = ciphertext.width;
  if (witness.randomness.length !== w) {
    throw new InvalidInputError(
      `Encryption proof needs ${w} randomness scalars, got ${witness.randomness.length}`,
    );
  }
  const a = randomScalars(w, witness.random);
  const g = fixedBase(BASE_POINT);
  const commitments = a.map((ak) => g.multiply(ak)); // Aₖ = g^{aₖ}
  const e = knowledgeChallenge(publicKey, ciphertext, context, commitments);
  const responses = a.map((ak, k) => modL(ak + e * witness.randomness[k]!)); // zₖ = aₖ + e·rₖ
  return { challenge: e, responses };
}

/**
 * Verifies a proof of knowledge of encryption randomness.
 *
 * @param statement public key, ciphertext and context bytes
 * @param proof the proof
 * @throws {VerificationError} when the proof does not verify for this statement
 * @example
 * ```ts
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { proveEncryptionKnowledge, verifyEncryptionKnowledge } from "./encryption_proof.ts";
 * import { randomScalars } from "./group.ts";
 * const { publicKey } = generateKeyPair();
 * const randomness = randomScalars(1);
 * const ciphertext = encrypt(publicKey, [encodeInteger(1)], { randomness });
 * const context = new Uint8Array([1]);
 * verifyEncryptionKnowledge(
 *   { publicKey, ciphertext, context },
 *   proveEncryptionKnowledge({ publicKey, ciphertext, context }, { randomness }),
 * );
 * ```
 */
export function verifyEncryptionKnowledge(
  statement: { publicKey: Point; ciphertext: Ciphertext; context: Uint8Array },
  proof: EncryptionProof,
): void {
  const { publicKey, ciphertext, context } = statement;
  if (proof.responses.length !== ciphertext.width) {
    throw new VerificationError(
      `Encryption proof has ${proof.responses.length} responses for ${ciphertext.width} elements`,
    );
  }
  const g = fixedBase(BASE_POINT);
  const negE = modL(-proof.challenge);
  // Aₖ = g^{zₖ}·c1ₖ^{−e} (Schnorr verification).
  const commitments = proof.responses.map((z, k) =>
    g.multiply(z).add(ciphertext.c1(k).multiplyUnsafe(negE))
  );
  if (knowledgeChallenge(publicKey, ciphertext, context, commitments) !== proof.challenge) {
    throw new VerificationError("Encryption proof does not verify for this ciphertext and context");
  }
}
