/**
 * Node identities and signatures. Every node has an Ed25519 identity key
 * (RFC 8032); its 32-byte public key is the node id. Signed objects are signed
 * over a labelled SHA-512 digest of their fields in the transcript framing of
 * core/transcript.ts (length-prefixed parts), never over a msgpack re-encoding,
 * so any implementation can recompute the signed bytes.
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { VerificationError } from "../../core/errors.ts";
import { readBytes } from "../../core/fields.ts";
import { randomBytes, type RandomSource } from "../../core/random.ts";
import { labelledDigest } from "../../core/transcript.ts";

/** Envelope kind of a secret identity key file. */
export const IDENTITY_SECRET_KIND = "node.identity-secret";
/** Size of an Ed25519 public key, which is also the node id (RFC 8032 §5.1.5). */
export const NODE_ID_SIZE = 32;
/** Size of an Ed25519 signature (RFC 8032 §5.1.6). */
export const SIGNATURE_SIZE = 64;

/** Domain-separation labels of everything a node signs. */
export const SIGNING_LABELS = {
  /** Authenticated HTTP request: method, path, body digest, timestamp. */
  request: "panoramix/node/request/v1",
  /** Bulletin-board post. */
  post: "panoramix/node/post/v1",
  /** Board receipt for an accepted post (board signs seq and chain head). */
  receipt: "panoramix/node/receipt/v1",
  /** Hash chain of board entries. */
  chain: "panoramix/node/board-chain/v1",
  /** Node descriptor published to the directory. */
  descriptor: "panoramix/node/descriptor/v1",
  /** Topology signed by the directory. */
  topology: "panoramix/node/topology/v1",
} as const;

/** An Ed25519 identity. */
export interface Identity {
  /** 32-byte secret key (seed). */
  secretKey: Uint8Array;
  /** 32-byte public key, the node id. */
  publicKey: Uint8Array;
}

/**
 * Creates a fresh identity.
 *
 * @param random randomness (default the system CSPRNG)
 * @returns the identity
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * console.assert(generateIdentity().publicKey.length === 32);
 * ```
 */
export function generateIdentity(random?: RandomSource): Identity {
  const secretKey = randomBytes(32, random);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/**
 * Encodes an identity as its secret key file envelope.
 *
 * @param identity the identity
 * @returns the envelope (secret: write with mode 0600)
 * @example
 * ```ts
 * import { generateIdentity, identityToEnvelope } from "./identity.ts";
 * console.assert(identityToEnvelope(generateIdentity()).kind === "node.identity-secret");
 * ```
 */
export function identityToEnvelope(identity: Identity): Envelope {
  return {
    v: 1,
    kind: IDENTITY_SECRET_KIND,
    secretKey: identity.secretKey,
    publicKey: identity.publicKey,
  };
}

/**
 * Reads an identity from its key file envelope, checking the public key matches.
 *
 * @param value decoded envelope
 * @param what names the file in errors
 * @returns the identity
 * @throws {InvalidInputError} on a malformed file
 * @throws {VerificationError} when the stored public key does not match the secret
 * @example
 * ```ts
 * import { generateIdentity, identityFromEnvelope, identityToEnvelope } from "./identity.ts";
 * const id = generateIdentity();
 * console.assert(identityFromEnvelope(identityToEnvelope(id), "x").publicKey.length === 32);
 * ```
 */
export function identityFromEnvelope(value: unknown, what: string): Identity {
  const env = readEnvelope(value, IDENTITY_SECRET_KIND, { what });
  const secretKey = readBytes(env.secretKey, `${what}.secretKey`, { length: 32 });
  const publicKey = ed25519.getPublicKey(secretKey);
  const stored = readBytes(env.publicKey, `${what}.publicKey`, { length: NODE_ID_SIZE });
  if (!bytesEqual(stored, publicKey)) {
    throw new VerificationError(`Public key in '${what}' does not match its secret key`);
  }
  return { secretKey, publicKey };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Signs labelled parts: Ed25519 over labelledDigest(label, parts).
 *
 * @param identity the signer
 * @param message label and parts
 * @returns the 64-byte signature
 * @example
 * ```ts
 * import { generateIdentity, signParts, verifyParts } from "./identity.ts";
 * const id = generateIdentity();
 * const parts = [new Uint8Array([1])];
 * const sig = signParts(id, { label: "panoramix/node/post/v1", parts });
 * verifyParts(id.publicKey, { label: "panoramix/node/post/v1", parts, signature: sig });
 * ```
 */
export function signParts(
  identity: Identity,
  message: { label: string; parts: readonly Uint8Array[] },
): Uint8Array {
  // Sign the SHA-512 transcript digest of the framed parts under the label (RFC 8032 §5.1.6).
  return ed25519.sign(labelledDigest(message.label, message.parts), identity.secretKey);
}

/**
 * Verifies a signature made by {@linkcode signParts}.
 *
 * @param publicKey the signer's 32-byte public key
 * @param message label, parts and the 64-byte signature
 * @throws {VerificationError} when the signature does not verify
 * @example
 * ```ts
 * import { generateIdentity, signParts, verifyParts } from "./identity.ts";
 * const id = generateIdentity();
 * const sig = signParts(id, { label: "l/v1", parts: [] });
 * verifyParts(id.publicKey, { label: "l/v1", parts: [], signature: sig });
 * ```
 */
export function verifyParts(
  publicKey: Uint8Array,
  message: { label: string; parts: readonly Uint8Array[]; signature: Uint8Array; what?: string },
): void {
  verifyDigest(publicKey, {
    digest: labelledDigest(message.label, message.parts),
    signature: message.signature,
    what: message.what ?? message.label,
  });
}

/**
 * Verifies a signature made by {@linkcode signParts} given the labelled digest it signs
 * (computed elsewhere, e.g. off the event loop for a big post).
 *
 * @param publicKey the signer's 32-byte public key
 * @param message the 64-byte `labelledDigest(label, parts)`, the signature and a name
 * @throws {VerificationError} when the signature does not verify
 * @example
 * ```ts
 * import { labelledDigest } from "../../core/transcript.ts";
 * import { generateIdentity, signParts, verifyDigest } from "./identity.ts";
 * const id = generateIdentity();
 * const signature = signParts(id, { label: "l/v1", parts: [] });
 * verifyDigest(id.publicKey, { digest: labelledDigest("l/v1", []), signature, what: "x" });
 * ```
 */
export function verifyDigest(
  publicKey: Uint8Array,
  message: { digest: Uint8Array; signature: Uint8Array; what: string },
): void {
  let ok = false;
  try {
    // RFC 8032 §5.1.7 verification (noble rejects non-canonical encodings and small-order keys).
    ok = message.signature.length === SIGNATURE_SIZE && publicKey.length === NODE_ID_SIZE &&
      ed25519.verify(message.signature, message.digest, publicKey);
  } catch {
    ok = false;
  }
  if (!ok) throw new VerificationError(`Signature of '${message.what}' does not verify`);
}

const encoder = new TextEncoder();

/**
 * Encodes text as a signature part.
 *
 * @param text the text
 * @returns UTF-8 bytes
 * @example
 * ```ts
 * import { textPart } from "./identity.ts";
 * console.assert(textPart("a")[0] === 97);
 * ```
 */
export function textPart(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Encodes a non-negative safe integer as an 8-byte big-endian signature part.
 *
 * @param value the integer
 * @returns 8 bytes
 * @example
 * ```ts
 * import { numberPart } from "./identity.ts";
 * console.assert(numberPart(1)[7] === 1);
 * ```
 */
export function numberPart(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/**
 * SHA-256 of bytes (request body digests).
 *
 * @param bytes the bytes
 * @returns 32-byte digest
 * @example
 * ```ts
 * import { sha256Digest } from "./identity.ts";
 * console.assert(sha256Digest(new Uint8Array()).length === 32);
 * ```
 */
export function sha256Digest(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}
