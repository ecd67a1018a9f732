/**
 * Issuer token keys, one per epoch. Type 2 (RFC 9578 §6, blind RSA, publicly
 * verifiable: a service verifies with the issuer's public key alone) and type 1
 * (RFC 9578 §5, VOPRF over P-384, privately verifiable: only the key holder
 * verifies, so issuer and service are the same operator). The cryptography is
 * `@cloudflare/privacypass-ts`; this module fixes the parameters and the encodings.
 *
 * @module
 */

import { privateVerif, publicVerif, TOKEN_TYPES, util } from "@cloudflare/privacypass-ts";
import { InvalidInputError } from "../../core/errors.ts";

/** RFC 9578 §5: token type 0x0001, VOPRF(P-384, SHA-384), privately verifiable. */
export const TOKEN_TYPE_VOPRF = 0x0001;
/** RFC 9578 §6: token type 0x0002, blind RSA (2048-bit, SHA-384, PSS), publicly verifiable. */
export const TOKEN_TYPE_BLIND_RSA = 0x0002;

/** A token type this module supports. */
export type TokenType = typeof TOKEN_TYPE_VOPRF | typeof TOKEN_TYPE_BLIND_RSA;

/** Length of a token key id (SHA-256 of the encoded public key, RFC 9578 §5.5 and §6.5). */
export const TOKEN_KEY_ID_SIZE = 32;

/** An issuer's public token key for one epoch. */
export interface TokenPublicKey {
  /** Token type (1 = VOPRF, 2 = blind RSA). */
  type: TokenType;
  /** The epoch whose tokens this key signs. */
  epoch: number;
  /**
   * Encoded public key: for type 2 the RSASSA-PSS SubjectPublicKeyInfo of RFC 9578 §6.5,
   * for type 1 the compressed P-384 point (49 bytes).
   */
  publicKey: Uint8Array;
  /** SHA-256 of `publicKey` (the token_key_id carried in every token). */
  tokenKeyId: Uint8Array;
}

/** An issuer's secret token key for one epoch (never leaves the issuer). */
export interface TokenSecretKey extends TokenPublicKey {
  /** For type 2 the PKCS#8 RSA-PSS private key, for type 1 the 48-byte scalar. */
  secretKey: Uint8Array;
}

/** Options of {@linkcode generateTokenKey}. */
export interface GenerateTokenKeyOptions {
  /** Token type (default 2, blind RSA). */
  type?: TokenType;
  /** The epoch the key serves. */
  epoch: number;
  /** RSA modulus size in bits for type 2 (default 2048, the RFC 9578 size; 4096 also accepted). */
  modulusBits?: 2048 | 3072 | 4096;
}

const RSA_PSS_SHA384 = { name: "RSA-PSS", hash: "SHA-384" } as const;

/**
 * Reads the token type of a value.
 *
 * @param value the number
 * @param what names it in errors
 * @returns the token type
 * @throws {InvalidInputError} when it is not 1 or 2
 * @example
 * ```ts
 * import { readTokenType } from "./keys.ts";
 * console.assert(readTokenType(2, "type") === 2);
 * ```
 */
export function readTokenType(value: unknown, what: string): TokenType {
  if (value !== TOKEN_TYPE_VOPRF && value !== TOKEN_TYPE_BLIND_RSA) {
    throw new InvalidInputError(
      `Value '${what}' must be token type 1 (VOPRF) or 2 (blind RSA), got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The token key id of an encoded public key: SHA-256(pkI) (RFC 9578 §5.5, §6.5).
 *
 * @param publicKey the encoded public key
 * @returns 32 bytes
 * @example
 * ```ts
 * import { tokenKeyIdOf } from "./keys.ts";
 * console.assert((await tokenKeyIdOf(new Uint8Array(3))).length === 32);
 * ```
 */
export async function tokenKeyIdOf(publicKey: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", publicKey as BufferSource));
}

/**
 * Generates an issuer key for one epoch.
 *
 * @param options type, epoch and RSA size
 * @returns the secret key (with its public part)
 * @example
 * ```ts
 * import { generateTokenKey } from "./keys.ts";
 * const key = await generateTokenKey({ type: 1, epoch: 7 });
 * console.assert(key.publicKey.length === 49 && key.epoch === 7);
 * ```
 */
export async function generateTokenKey(options: GenerateTokenKeyOptions): Promise<TokenSecretKey> {
  const type = readTokenType(options.type ?? TOKEN_TYPE_BLIND_RSA, "type");
  if (type === TOKEN_TYPE_VOPRF) {
    const { privateKey, publicKey } = await privateVerif.keyGen();
    return {
      type,
      epoch: options.epoch,
      publicKey,
      tokenKeyId: await tokenKeyIdOf(publicKey),
      secretKey: privateKey,
    };
  }
  const pair = await publicVerif.Issuer.generateKey(publicVerif.BlindRSAMode.PSS, {
    modulusLength: options.modulusBits ?? 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  });
  const publicKey = await publicVerif.getPublicKeyBytes(pair.publicKey);
  return {
    type,
    epoch: options.epoch,
    publicKey,
    tokenKeyId: await tokenKeyIdOf(publicKey),
    secretKey: new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
  };
}

/**
 * Imports a type-2 public key (RFC 9578 §6.5 encoding) as a WebCrypto key.
 *
 * @param publicKey the encoded key
 * @returns the RSA-PSS verification key
 * @throws {InvalidInputError} when the bytes are not an RSA-PSS public key
 * @example
 * ```ts
 * import { generateTokenKey, importBlindRsaPublicKey } from "./keys.ts";
 * const key = await generateTokenKey({ epoch: 1 });
 * console.assert((await importBlindRsaPublicKey(key.publicKey)).type === "public");
 * ```
 */
export async function importBlindRsaPublicKey(publicKey: Uint8Array): Promise<CryptoKey> {
  try {
    const spki = util.convertRSASSAPSSToEnc(publicKey);
    return await crypto.subtle.importKey("spki", spki as BufferSource, RSA_PSS_SHA384, true, [
      "verify",
    ]);
  } catch (error) {
    throw new InvalidInputError("Token public key is not an RSA-PSS key of RFC 9578 §6.5", {
      cause: error,
    });
  }
}

/**
 * Imports a type-2 secret key (PKCS#8) as a WebCrypto key.
 *
 * @param secretKey the PKCS#8 bytes
 * @returns the RSA-PSS signing key
 * @throws {InvalidInputError} when the bytes are not an RSA private key
 * @example
 * ```ts
 * import { generateTokenKey, importBlindRsaSecretKey } from "./keys.ts";
 * const key = await generateTokenKey({ epoch: 1 });
 * console.assert((await importBlindRsaSecretKey(key.secretKey)).type === "private");
 * ```
 */
export async function importBlindRsaSecretKey(secretKey: Uint8Array): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey(
      "pkcs8",
      secretKey as BufferSource,
      RSA_PSS_SHA384,
      true,
      ["sign"],
    );
  } catch (error) {
    throw new InvalidInputError("Token secret key is not a PKCS#8 RSA key", { cause: error });
  }
}

/**
 * Checks that an encoded public key has the length its type requires.
 *
 * @param type the token type
 * @param publicKey the encoded key
 * @param what names it in errors
 * @throws {InvalidInputError} on a wrong length
 * @example
 * ```ts
 * import { checkTokenPublicKey } from "./keys.ts";
 * checkTokenPublicKey(1, new Uint8Array(49), "key");
 * ```
 */
export function checkTokenPublicKey(type: TokenType, publicKey: Uint8Array, what: string): void {
  if (type === TOKEN_TYPE_VOPRF) {
    if (publicKey.length !== TOKEN_TYPES.VOPRF.Ne) {
      throw new InvalidInputError(
        `Value '${what}' must be a ${TOKEN_TYPES.VOPRF.Ne}-byte P-384 point, got ${publicKey.length} bytes`,
      );
    }
  } else if (publicKey.length < 256 || publicKey.length > 1024) {
    throw new InvalidInputError(
      `Value '${what}' must be an RSA-PSS public key (256 to 1024 bytes), got ${publicKey.length} bytes`,
    );
  }
}
