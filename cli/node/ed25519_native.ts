/**
 * Ed25519 (RFC 8032 §5.1) for signed HTTP requests through the runtime's native
 * implementation (`node:crypto`, synchronous): about ten times faster than the pure
 * JavaScript `@noble/curves` in `identity.ts`, with the same results — Ed25519 signing is
 * deterministic, so a signature is byte for byte the one {@linkcode signParts} makes, and a
 * public key is first checked by noble as `verifyParts` does (a valid encoding, not of small
 * order; cached per key), so no key that `verifyParts` refuses is accepted here.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { fromHex, toHex } from "../../core/bytes.ts";
import { VerificationError } from "../../core/errors.ts";
import { labelledDigest } from "../../core/transcript.ts";
import type { Identity } from "./identity.ts";

// DER prefixes of an Ed25519 SubjectPublicKeyInfo and PKCS #8 private key (RFC 8410 §4, §7).
const SPKI_PREFIX = fromHex("302a300506032b6570032100", "SPKI prefix");
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420", "PKCS #8 prefix");
const CACHE_LIMIT = 4096;
const publicKeys = new Map<string, KeyObject | null>();
const privateKeys = new WeakMap<Uint8Array, KeyObject>();

function der(prefix: Uint8Array, key: Uint8Array): Buffer {
  return Buffer.concat([prefix, key]);
}

// The key object of a public key noble accepts, or null (bad encoding, small order).
function publicKeyObject(publicKey: Uint8Array): KeyObject | null {
  const id = toHex(publicKey);
  let key = publicKeys.get(id);
  if (key === undefined) {
    try {
      const point = ed25519.Point.fromBytes(publicKey);
      key = point.isSmallOrder()
        ? null
        : createPublicKey({ key: der(SPKI_PREFIX, publicKey), format: "der", type: "spki" });
    } catch {
      key = null;
    }
    if (publicKeys.size >= CACHE_LIMIT) publicKeys.delete(publicKeys.keys().next().value!);
    publicKeys.set(id, key);
  }
  return key;
}

/**
 * Signs like `signParts` (same bytes), natively.
 *
 * @param identity the signer
 * @param message label and parts
 * @returns the 64-byte signature
 * @example
 * ```ts
 * import { generateIdentity, signParts } from "./identity.ts";
 * import { signPartsNative } from "./ed25519_native.ts";
 * const id = generateIdentity();
 * const m = { label: "x", parts: [new Uint8Array([1])] };
 * console.assert(signPartsNative(id, m).join() === signParts(id, m).join());
 * ```
 */
export function signPartsNative(
  identity: Identity,
  message: { label: string; parts: readonly Uint8Array[] },
): Uint8Array {
  let key = privateKeys.get(identity.secretKey);
  if (key === undefined) {
    key = createPrivateKey({
      key: der(PKCS8_PREFIX, identity.secretKey),
      format: "der",
      type: "pkcs8",
    });
    privateKeys.set(identity.secretKey, key);
  }
  return new Uint8Array(sign(null, labelledDigest(message.label, message.parts), key));
}

/**
 * Verifies like `verifyParts`, natively.
 *
 * @param publicKey the signer's 32-byte public key
 * @param message label, parts and the 64-byte signature
 * @throws {VerificationError} when the signature does not verify
 * @example
 * ```ts
 * import { generateIdentity, signParts } from "./identity.ts";
 * import { verifyPartsNative } from "./ed25519_native.ts";
 * const id = generateIdentity();
 * const m = { label: "x", parts: [new Uint8Array([1])] };
 * verifyPartsNative(id.publicKey, { ...m, signature: signParts(id, m) });
 * ```
 */
export function verifyPartsNative(
  publicKey: Uint8Array,
  message: { label: string; parts: readonly Uint8Array[]; signature: Uint8Array; what?: string },
): void {
  let ok = false;
  try {
    const key = message.signature.length === 64 && publicKey.length === 32
      ? publicKeyObject(publicKey)
      : null;
    ok = key !== null &&
      verify(null, labelledDigest(message.label, message.parts), key, message.signature);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new VerificationError(`Signature of '${message.what ?? message.label}' does not verify`);
  }
}
