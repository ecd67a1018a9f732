/**
 * Messaging identities and printable addresses (docs/message.md §3).
 *
 * A user holds one 32-byte seed. From it come an Ed25519 key (the mailbox key: the
 * mailbox id at the provider, and the key that signs fetch and delete requests) and an
 * X25519 key (HPKE, the end-to-end encryption key). An address carries both public keys
 * and the provider's node id, like a Nym address (identity.encryption@gateway):
 *
 *   "pmx1" ‖ base32(version 1 ‖ mailbox key 32 ‖ encryption key 32 ‖ provider 32 ‖ check 4)
 *
 * with check = SHA-256("panoramix/message/address/v1" ‖ the 97 bytes before it)[0..4], so a
 * typo is caught (a random change passes with probability 2^-32), never routed.
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, constantTimeEqual } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { randomBytes, type RandomSource } from "../../core/random.ts";
import { hpkeDeriveKeyPair, type X25519KeyPair } from "./hpke.ts";

/** Address format version (the first byte). */
export const ADDRESS_VERSION = 1;
/** Printable prefix of every address. */
export const ADDRESS_PREFIX = "pmx1";
/** Bytes of the checksum. */
export const ADDRESS_CHECK_SIZE = 4;
/** Bytes of an encoded address: version, three keys, checksum. */
export const ADDRESS_SIZE: number = 1 + 32 * 3 + ADDRESS_CHECK_SIZE;
/** Base32 characters after the prefix. */
export const ADDRESS_TEXT_LENGTH: number = Math.ceil((ADDRESS_SIZE * 8) / 5);

/** Domain-separation labels of the message plugin's key derivations and checksums. */
export const MESSAGE_LABELS = {
  /** Address checksum (SHA-256 prefix). */
  addressCheck: "panoramix/message/address/v1",
  /** HKDF salt of the key derivation from the seed. */
  seed: "panoramix/message/seed/v1",
  /** HKDF info: the Ed25519 mailbox key. */
  mailboxKey: "panoramix/message/mailbox-key/v1",
  /** HKDF info: the X25519 encryption key (then RFC 9180 DeriveKeyPair). */
  encryptionKey: "panoramix/message/encryption-key/v1",
  /** Signature of a sender who reveals its address. */
  senderProof: "panoramix/message/sender/v1",
} as const;

/** A messaging address: where and to whom a message goes. */
export interface MessageAddress {
  /** Ed25519 public key of the mailbox owner (32 bytes): the mailbox id at the provider. */
  mailbox: Uint8Array;
  /** X25519 public key messages are encrypted to (32 bytes). */
  encryptionKey: Uint8Array;
  /** Node id (identity key) of the user's provider (32 bytes). */
  provider: Uint8Array;
}

/** A user's secret identity. */
export interface MessageIdentity {
  /** The seed everything is derived from (32 bytes, secret). */
  seed: Uint8Array;
  /** Ed25519 mailbox key pair: secretKey is the 32-byte Ed25519 seed. */
  mailboxKey: { secretKey: Uint8Array; publicKey: Uint8Array };
  /** X25519 encryption key pair. */
  encryptionKey: X25519KeyPair;
  /** The provider's node id. */
  provider: Uint8Array;
}

const encoder = new TextEncoder();
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"; // RFC 4648 §6, lower case

function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

function base32Decode(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 255);
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) return undefined; // non-canonical trailing bits
  return new Uint8Array(out);
}

function checksum(body: Uint8Array): Uint8Array {
  return sha256(concatBytes(encoder.encode(MESSAGE_LABELS.addressCheck), body)).slice(
    0,
    ADDRESS_CHECK_SIZE,
  );
}

function check32(value: Uint8Array, what: string): void {
  if (!(value instanceof Uint8Array) || value.length !== 32) {
    throw new InvalidInputError(`Value '${what}' must be 32 bytes`);
  }
}

/**
 * Encodes an address in its printable form.
 *
 * @param address the three keys
 * @returns "pmx1…" (162 characters)
 * @throws {InvalidInputError} when a key is not 32 bytes
 * @example
 * ```ts
 * import { encodeAddress } from "./address.ts";
 * const text = encodeAddress({
 *   mailbox: new Uint8Array(32), encryptionKey: new Uint8Array(32), provider: new Uint8Array(32),
 * });
 * console.assert(text.startsWith("pmx1"));
 * ```
 */
export function encodeAddress(address: MessageAddress): string {
  check32(address.mailbox, "mailbox");
  check32(address.encryptionKey, "encryptionKey");
  check32(address.provider, "provider");
  const body = concatBytes(
    new Uint8Array([ADDRESS_VERSION]),
    address.mailbox,
    address.encryptionKey,
    address.provider,
  );
  return ADDRESS_PREFIX + base32Encode(concatBytes(body, checksum(body)));
}

/**
 * Decodes and checks a printable address (case-insensitive).
 *
 * @param text the address
 * @returns the keys
 * @throws {InvalidInputError} naming what is wrong: prefix, characters, length, version or checksum
 * @example
 * ```ts
 * import { decodeAddress } from "./address.ts";
 * try { decodeAddress("pmx1abc"); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function decodeAddress(text: string): MessageAddress {
  if (typeof text !== "string") throw new InvalidInputError("Address must be a string");
  const shown = text.length > 24 ? `${text.slice(0, 20)}…` : text;
  const lower = text.trim().toLowerCase();
  if (!lower.startsWith(ADDRESS_PREFIX)) {
    throw new InvalidInputError(`Address '${shown}' must start with '${ADDRESS_PREFIX}'`);
  }
  const body32 = lower.slice(ADDRESS_PREFIX.length);
  if (!/^[a-z2-7]*$/.test(body32)) {
    throw new InvalidInputError(
      `Address '${shown}' has characters outside a-z and 2-7 (a typo?)`,
    );
  }
  if (body32.length !== ADDRESS_TEXT_LENGTH) {
    throw new InvalidInputError(
      `Address '${shown}' has ${body32.length} characters after '${ADDRESS_PREFIX}', expected ${ADDRESS_TEXT_LENGTH} (truncated or extra characters?)`,
    );
  }
  const bytes = base32Decode(body32);
  if (bytes === undefined) {
    throw new InvalidInputError(`Address '${shown}' has a malformed last character (a typo?)`);
  }
  if (bytes.length !== ADDRESS_SIZE) {
    throw new InvalidInputError(
      `Address '${shown}' has ${bytes.length} bytes, expected ${ADDRESS_SIZE} (truncated or extra characters?)`,
    );
  }
  if (bytes[0] !== ADDRESS_VERSION) {
    throw new InvalidInputError(`Address '${shown}' has unsupported version ${bytes[0]}`);
  }
  const body = bytes.subarray(0, ADDRESS_SIZE - ADDRESS_CHECK_SIZE);
  if (!constantTimeEqual(checksum(body), bytes.subarray(body.length))) {
    throw new InvalidInputError(`Address '${shown}' has a wrong checksum (a typo?)`);
  }
  const address = {
    mailbox: bytes.slice(1, 33),
    encryptionKey: bytes.slice(33, 65),
    provider: bytes.slice(65, 97),
  };
  try {
    ed25519.Point.fromBytes(address.mailbox);
  } catch {
    throw new InvalidInputError(`Address '${shown}' has a mailbox key that is not a curve point`);
  }
  return address;
}

/**
 * Derives a user's identity from a seed (HKDF-SHA256, RFC 5869; then RFC 9180 §7.1.3
 * DeriveKeyPair for the X25519 key).
 *
 * @param seed 32 secret bytes
 * @param provider the provider's node id
 * @returns the identity
 * @throws {InvalidInputError} on a wrong seed or provider length
 * @example
 * ```ts
 * import { deriveIdentity } from "./address.ts";
 * const me = await deriveIdentity(new Uint8Array(32).fill(1), new Uint8Array(32));
 * console.assert(me.mailboxKey.publicKey.length === 32);
 * ```
 */
export async function deriveIdentity(
  seed: Uint8Array,
  provider: Uint8Array,
): Promise<MessageIdentity> {
  check32(seed, "seed");
  check32(provider, "provider");
  const salt = encoder.encode(MESSAGE_LABELS.seed);
  const mailboxSecret = hkdf(sha256, seed, salt, encoder.encode(MESSAGE_LABELS.mailboxKey), 32);
  const encIkm = hkdf(sha256, seed, salt, encoder.encode(MESSAGE_LABELS.encryptionKey), 32);
  return {
    seed: seed.slice(),
    mailboxKey: { secretKey: mailboxSecret, publicKey: ed25519.getPublicKey(mailboxSecret) },
    encryptionKey: await hpkeDeriveKeyPair(encIkm),
    provider: provider.slice(),
  };
}

/**
 * Creates a fresh identity.
 *
 * @param provider the provider's node id
 * @param random randomness (default the system CSPRNG)
 * @returns the identity
 * @example
 * ```ts
 * import { generateMessageIdentity } from "./address.ts";
 * const me = await generateMessageIdentity(new Uint8Array(32));
 * console.assert(me.seed.length === 32);
 * ```
 */
export async function generateMessageIdentity(
  provider: Uint8Array,
  random?: RandomSource,
): Promise<MessageIdentity> {
  return await deriveIdentity(randomBytes(32, random), provider);
}

/**
 * The address of an identity.
 *
 * @param identity the identity
 * @returns its public address
 * @example
 * ```ts
 * import { addressOf, generateMessageIdentity } from "./address.ts";
 * const me = await generateMessageIdentity(new Uint8Array(32));
 * console.assert(addressOf(me).provider.length === 32);
 * ```
 */
export function addressOf(identity: MessageIdentity): MessageAddress {
  return {
    mailbox: identity.mailboxKey.publicKey,
    encryptionKey: identity.encryptionKey.publicKey,
    provider: identity.provider,
  };
}

/**
 * Whether two addresses are the same.
 *
 * @param a one address
 * @param b another
 * @returns true when all three keys match
 * @example
 * ```ts
 * import { sameAddress } from "./address.ts";
 * const z = { mailbox: new Uint8Array(32), encryptionKey: new Uint8Array(32), provider: new Uint8Array(32) };
 * console.assert(sameAddress(z, z));
 * ```
 */
export function sameAddress(a: MessageAddress, b: MessageAddress): boolean {
  return constantTimeEqual(a.mailbox, b.mailbox) &&
    constantTimeEqual(a.encryptionKey, b.encryptionKey) &&
    constantTimeEqual(a.provider, b.provider);
}
