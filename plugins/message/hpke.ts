/**
 * End-to-end encryption of messages with HPKE (RFC 9180) in the suite
 * DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305, through the `@hpke/*`
 * packages. Base mode for anonymous messages, auth mode (§5.1.3) when the sender reveals
 * (and so proves) its address. Keys cross this module as raw 32-byte arrays.
 *
 * @module
 */

import { CipherSuite, DhkemX25519HkdfSha256 as NativeX25519Kem, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";

/** Bytes of an X25519 key and of the HPKE encapsulated key `enc` (RFC 9180 §7.1: Nenc = 32). */
export const HPKE_KEY_SIZE = 32;
/** Bytes the AEAD adds to a plaintext (ChaCha20-Poly1305 tag, Nt = 16). */
export const HPKE_TAG_SIZE = 16;
/** Bytes one sealed message adds to its plaintext: enc and tag. */
export const HPKE_OVERHEAD: number = HPKE_KEY_SIZE + HPKE_TAG_SIZE;
/** The HPKE `info` of Panoramix messages (domain separation, RFC 9180 §5.1). */
export const MESSAGE_HPKE_INFO = "panoramix/message/hpke/v1";

/** An X25519 key pair as raw bytes. */
export interface X25519KeyPair {
  /** Secret scalar (32 bytes). */
  secretKey: Uint8Array;
  /** Public key (32 bytes). */
  publicKey: Uint8Array;
}

/** Options of {@linkcode hpkeSeal} and {@linkcode hpkeSenderContext}. */
export interface HpkeSealOptions {
  /** HPKE info (default {@linkcode MESSAGE_HPKE_INFO}). */
  info?: Uint8Array;
  /** Associated data bound to the ciphertext (default empty). */
  aad?: Uint8Array;
  /** Sender key pair: auth mode (RFC 9180 §5.1.3); the recipient learns and checks it. */
  sender?: X25519KeyPair;
  /** Test only: ikmE, from which the ephemeral key is derived (RFC 9180 §7.1.3). */
  ephemeralIkm?: Uint8Array;
}

/** Options of {@linkcode hpkeOpen} and {@linkcode hpkeRecipientContext}. */
export interface HpkeOpenOptions {
  /** HPKE info (default {@linkcode MESSAGE_HPKE_INFO}). */
  info?: Uint8Array;
  /** Associated data (default empty). */
  aad?: Uint8Array;
  /** Expected sender public key: auth mode. */
  senderPublicKey?: Uint8Array;
}

let suiteCache: CipherSuite | undefined;
let nativeX25519: Promise<boolean> | undefined;

/**
 * Whether the runtime's WebCrypto does X25519 (Deno, recent browsers): then the KEM is
 * `@hpke/core`'s WebCrypto DHKEM(X25519) (about five times faster than the pure-JS
 * `@hpke/dhkem-x25519`, measured by examples/message_bench.ts), else the pure-JS one.
 * Both are RFC 9180 §7.1 DHKEM(X25519, HKDF-SHA256); the A.2 vectors run through either.
 */
function hasNativeX25519(): Promise<boolean> {
  nativeX25519 ??= crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]).then(
    () => true,
    () => false,
  );
  return nativeX25519;
}

async function ready(): Promise<void> {
  if (suiteCache !== undefined) return;
  const native = await hasNativeX25519();
  suiteCache ??= new CipherSuite({
    kem: native ? new NativeX25519Kem() : new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Chacha20Poly1305(),
  });
}

/**
 * Which X25519 the HPKE KEM runs on in this runtime.
 *
 * @returns "webcrypto" (native) or "pure-js" (`@hpke/dhkem-x25519`, noble)
 * @example
 * ```ts
 * import { hpkeX25519Engine } from "./hpke.ts";
 * console.assert(["webcrypto", "pure-js"].includes(await hpkeX25519Engine()));
 * ```
 */
export async function hpkeX25519Engine(): Promise<"webcrypto" | "pure-js"> {
  return (await hasNativeX25519()) ? "webcrypto" : "pure-js";
}

function suite(): CipherSuite {
  if (suiteCache === undefined) throw new Error("hpke: ready() not awaited");
  return suiteCache;
}

function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== HPKE_KEY_SIZE) {
    throw new InvalidInputError(`Value '${what}' must be ${HPKE_KEY_SIZE} bytes`);
  }
}

function buf(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

async function importPublic(key: Uint8Array, what: string): Promise<CryptoKey> {
  checkKey(key, what);
  await ready();
  return await suite().kem.importKey("raw", buf(key), true);
}

async function importPair(pair: X25519KeyPair, what: string): Promise<CryptoKeyPair> {
  checkKey(pair.secretKey, `${what}.secretKey`);
  await ready();
  return {
    privateKey: await suite().kem.importKey("raw", buf(pair.secretKey), false),
    publicKey: await importPublic(pair.publicKey, `${what}.publicKey`),
  };
}

const defaultInfo = new TextEncoder().encode(MESSAGE_HPKE_INFO);

/**
 * Derives an X25519 key pair from input keying material (RFC 9180 §7.1.3 DeriveKeyPair).
 *
 * @param ikm at least 32 bytes of secret material
 * @returns the key pair
 * @throws {InvalidInputError} when ikm is shorter than 32 bytes
 * @example
 * ```ts
 * import { hpkeDeriveKeyPair } from "./hpke.ts";
 * const pair = await hpkeDeriveKeyPair(new Uint8Array(32).fill(7));
 * console.assert(pair.publicKey.length === 32);
 * ```
 */
export async function hpkeDeriveKeyPair(ikm: Uint8Array): Promise<X25519KeyPair> {
  if (!(ikm instanceof Uint8Array) || ikm.length < 32) {
    throw new InvalidInputError("Value 'ikm' must be at least 32 bytes");
  }
  await ready();
  const pair = await suite().kem.deriveKeyPair(buf(ikm));
  return {
    secretKey: new Uint8Array(await suite().kem.serializePrivateKey(pair.privateKey)),
    publicKey: new Uint8Array(await suite().kem.serializePublicKey(pair.publicKey)),
  };
}

/** A sender context: several messages under one key schedule (RFC 9180 §5.2). */
export interface HpkeSender {
  /** The encapsulated key to send with the ciphertexts (32 bytes). */
  enc: Uint8Array;
  /** Seals the next message (nonce sequence as in RFC 9180 §5.2). */
  seal(plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** Secret export (RFC 9180 §5.3). */
  export(context: Uint8Array, length: number): Promise<Uint8Array>;
}

/** A recipient context. */
export interface HpkeRecipient {
  /** Opens the next message; throws {@linkcode VerificationError} when it does not verify. */
  open(ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** Secret export (RFC 9180 §5.3). */
  export(context: Uint8Array, length: number): Promise<Uint8Array>;
}

/**
 * Sets up a sender context (RFC 9180 §5.1.1 SetupBaseS, or §5.1.3 SetupAuthS with `sender`).
 *
 * @param recipientPublicKey the recipient's X25519 public key
 * @param options info, sender key pair (auth mode), test ephemeral ikm
 * @returns the context
 * @throws {InvalidInputError} on a malformed key
 * @example
 * ```ts
 * import { hpkeDeriveKeyPair, hpkeSenderContext } from "./hpke.ts";
 * const bob = await hpkeDeriveKeyPair(new Uint8Array(32).fill(1));
 * const ctx = await hpkeSenderContext(bob.publicKey);
 * console.assert((await ctx.seal(new Uint8Array([1]))).length === 17);
 * ```
 */
export async function hpkeSenderContext(
  recipientPublicKey: Uint8Array,
  options: HpkeSealOptions = {},
): Promise<HpkeSender> {
  await ready();
  const ctx = await suite().createSenderContext({
    recipientPublicKey: await importPublic(recipientPublicKey, "recipientPublicKey"),
    info: buf(options.info ?? defaultInfo),
    ...(options.sender === undefined
      ? {}
      : { senderKey: await importPair(options.sender, "sender") }),
    ...(options.ephemeralIkm === undefined ? {} : { ekm: buf(options.ephemeralIkm) }),
  });
  return {
    enc: new Uint8Array(ctx.enc),
    seal: async (pt, aad) => new Uint8Array(await ctx.seal(buf(pt), buf(aad ?? new Uint8Array()))),
    export: async (context, length) => new Uint8Array(await ctx.export(buf(context), length)),
  };
}

/**
 * Sets up a recipient context (RFC 9180 §5.1.1 SetupBaseR, or §5.1.3 SetupAuthR).
 *
 * @param recipient the recipient's key pair
 * @param options enc, info and the expected sender public key (auth mode)
 * @returns the context
 * @throws {InvalidInputError} on a malformed key or enc
 * @example
 * ```ts
 * import { hpkeDeriveKeyPair, hpkeRecipientContext, hpkeSenderContext } from "./hpke.ts";
 * const bob = await hpkeDeriveKeyPair(new Uint8Array(32).fill(1));
 * const s = await hpkeSenderContext(bob.publicKey);
 * const r = await hpkeRecipientContext(bob, { enc: s.enc });
 * console.assert((await r.open(await s.seal(new Uint8Array([9]))))[0] === 9);
 * ```
 */
export async function hpkeRecipientContext(
  recipient: X25519KeyPair,
  options: { enc: Uint8Array; info?: Uint8Array; senderPublicKey?: Uint8Array },
): Promise<HpkeRecipient> {
  checkKey(options.enc, "enc");
  await ready();
  let ctx;
  try {
    ctx = await suite().createRecipientContext({
      recipientKey: await importPair(recipient, "recipient"),
      enc: buf(options.enc),
      info: buf(options.info ?? defaultInfo),
      ...(options.senderPublicKey === undefined
        ? {}
        : { senderPublicKey: await importPublic(options.senderPublicKey, "senderPublicKey") }),
    });
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new VerificationError("HPKE decapsulation failed (malformed 'enc')", { cause: error });
  }
  return {
    open: async (ct, aad) => {
      try {
        return new Uint8Array(await ctx.open(buf(ct), buf(aad ?? new Uint8Array())));
      } catch (error) {
        throw new VerificationError(
          "HPKE ciphertext does not open with this key (tampered, or for someone else)",
          { cause: error },
        );
      }
    },
    export: async (context, length) => new Uint8Array(await ctx.export(buf(context), length)),
  };
}

/**
 * Seals one message (single-shot, RFC 9180 §6.1): enc ‖ ciphertext.
 *
 * @param recipientPublicKey the recipient's X25519 public key
 * @param plaintext the message
 * @param options info, aad, sender (auth mode)
 * @returns enc (32 bytes) followed by the ciphertext (plaintext + 16 bytes)
 * @example
 * ```ts
 * import { hpkeDeriveKeyPair, hpkeOpen, hpkeSeal } from "./hpke.ts";
 * const bob = await hpkeDeriveKeyPair(new Uint8Array(32).fill(1));
 * const sealed = await hpkeSeal(bob.publicKey, new Uint8Array([4, 2]));
 * console.assert((await hpkeOpen(bob, sealed))[1] === 2);
 * ```
 */
export async function hpkeSeal(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  options: HpkeSealOptions = {},
): Promise<Uint8Array> {
  const ctx = await hpkeSenderContext(recipientPublicKey, options);
  const ct = await ctx.seal(plaintext, options.aad);
  const out = new Uint8Array(HPKE_KEY_SIZE + ct.length);
  out.set(ctx.enc);
  out.set(ct, HPKE_KEY_SIZE);
  return out;
}

/**
 * Opens a message sealed by {@linkcode hpkeSeal}.
 *
 * @param recipient the recipient's key pair
 * @param sealed enc ‖ ciphertext
 * @param options info, aad, expected sender public key (auth mode)
 * @returns the plaintext
 * @throws {VerificationError} when it does not open (tampered, wrong key, wrong sender)
 * @example
 * ```ts
 * import { hpkeDeriveKeyPair, hpkeOpen, hpkeSeal } from "./hpke.ts";
 * const bob = await hpkeDeriveKeyPair(new Uint8Array(32).fill(1));
 * const sealed = await hpkeSeal(bob.publicKey, new Uint8Array([4]));
 * sealed[40] = sealed[40]! ^ 1;
 * try { await hpkeOpen(bob, sealed); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export async function hpkeOpen(
  recipient: X25519KeyPair,
  sealed: Uint8Array,
  options: HpkeOpenOptions = {},
): Promise<Uint8Array> {
  if (!(sealed instanceof Uint8Array) || sealed.length < HPKE_OVERHEAD) {
    throw new VerificationError(`Sealed message must be at least ${HPKE_OVERHEAD} bytes`);
  }
  const ctx = await hpkeRecipientContext(recipient, {
    enc: sealed.subarray(0, HPKE_KEY_SIZE),
    ...(options.info === undefined ? {} : { info: options.info }),
    ...(options.senderPublicKey === undefined ? {} : { senderPublicKey: options.senderPublicKey }),
  });
  return await ctx.open(sealed.subarray(HPKE_KEY_SIZE), options.aad);
}
