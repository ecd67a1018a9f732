/**
 * Token verification and redemption at a service. A token is accepted when its
 * key is an accepted issuer's key for an accepted epoch, its challenge digest is
 * the digest of this origin's challenge for that epoch, its authenticator verifies
 * (blind RSA with the public key, VOPRF with the issuer's secret key), and its nonce
 * was not spent before in that epoch (RFC 9577 §2.2, RFC 9578 §5.5 / §6.5).
 *
 * @module
 */

import { privateVerif, publicVerif, Token, TOKEN_TYPES } from "@cloudflare/privacypass-ts";
import { constantTimeEqual, toHex } from "../../core/bytes.ts";
import { InvalidInputError, ReplayError, VerificationError } from "../../core/errors.ts";
import { challengeDigest, epochChallenge } from "./challenge.ts";
import {
  importBlindRsaPublicKey,
  TOKEN_TYPE_BLIND_RSA,
  TOKEN_TYPE_VOPRF,
  type TokenPublicKey,
  type TokenSecretKey,
  type TokenType,
} from "./keys.ts";

/** What a verified token reveals: no more than its epoch, key and random nonce. */
export interface VerifiedToken {
  /** Token type. */
  type: TokenType;
  /** Epoch of the key that signed it. */
  epoch: number;
  /** Key id of the issuer key. */
  tokenKeyId: Uint8Array;
  /** The client's 32-byte random nonce (the double-spend key). */
  nonce: Uint8Array;
  /** The serialized token (kept for settlement). */
  token: Uint8Array;
}

/** Options of {@linkcode verifyToken}. */
export interface VerifyTokenOptions {
  /** This service's origin name (as in its challenges). */
  origin: string;
  /** The issuer name challenges carry. */
  issuerName: string;
  /** Keys of the accepted issuers; type-1 keys must carry their secret. */
  keys: readonly (TokenPublicKey | TokenSecretKey)[];
  /** Epochs accepted now (the current one, plus the previous during a grace period). */
  epochs: readonly number[];
}

/** The fields of a token (RFC 9577 §2.2). */
export interface ParsedToken {
  /** Token type. */
  tokenType: number;
  /** The client's random nonce (32 bytes). */
  nonce: Uint8Array;
  /** SHA-256 of the challenge the token answers. */
  challengeDigest: Uint8Array;
  /** The issuer key id. */
  tokenKeyId: Uint8Array;
  /** The issuer's authenticator (signature or VOPRF output). */
  authenticator: Uint8Array;
}

/**
 * Reads the fields of a token, without verifying it.
 *
 * @param bytes the serialized token
 * @returns its fields
 * @throws {InvalidInputError} when it is malformed or of an unknown type
 * @example
 * ```ts
 * import { parseToken } from "./redeem.ts";
 * const bytes = new Uint8Array(2 + 96 + 48);
 * bytes[1] = 1;
 * console.assert(parseToken(bytes).tokenType === 1);
 * ```
 */
export function parseToken(bytes: Uint8Array): ParsedToken {
  const t = readToken(bytes);
  return {
    tokenType: t.authInput.tokenType,
    nonce: new Uint8Array(t.authInput.nonce),
    challengeDigest: new Uint8Array(t.authInput.challengeDigest),
    tokenKeyId: new Uint8Array(t.authInput.tokenKeyId),
    authenticator: new Uint8Array(t.authenticator),
  };
}

function readToken(bytes: Uint8Array): Token {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) {
    throw new InvalidInputError("Token is malformed: too short");
  }
  const type = (bytes[0]! << 8) | bytes[1]!;
  const entry = type === TOKEN_TYPE_BLIND_RSA
    ? TOKEN_TYPES.BLIND_RSA
    : type === TOKEN_TYPE_VOPRF
    ? TOKEN_TYPES.VOPRF
    : undefined;
  if (!entry) throw new InvalidInputError(`Token type ${type} is not supported (1 or 2)`);
  const expected = 2 + 32 + 32 + 32 + entry.Nk;
  if (bytes.length !== expected) {
    throw new InvalidInputError(
      `Token of type ${type} must be ${expected} bytes, got ${bytes.length}`,
    );
  }
  try {
    // A copy: the library reads through `bytes.buffer`, so a view at an offset (as msgpack
    // decoding yields) would be misread.
    return Token.deserialize(entry, bytes.slice());
  } catch (error) {
    throw new InvalidInputError("Token is malformed", { cause: error });
  }
}

const publicKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function rsaKey(publicKey: Uint8Array): Promise<CryptoKey> {
  let k = publicKeys.get(publicKey);
  if (!k) {
    k = importBlindRsaPublicKey(publicKey);
    publicKeys.set(publicKey, k);
  }
  return k;
}

const short = (b: Uint8Array) => toHex(b.slice(0, 8));

/**
 * Verifies a token for this origin (does not record it; see {@linkcode redeemToken}).
 *
 * @param bytes the serialized token
 * @param options origin, issuer name, accepted keys and epochs
 * @returns what the token reveals
 * @throws {InvalidInputError} malformed token
 * @throws {VerificationError} wrong issuer, wrong epoch, wrong origin, or a forged authenticator
 * @example
 * ```ts
 * import { beginToken, epochChallenge, generateTokenKey, issueToken, verifyToken } from "./mod.ts";
 * const key = await generateTokenKey({ type: 1, epoch: 5 });
 * const p = await beginToken(epochChallenge({ type: 1, issuerName: "i", origin: "o", epoch: 5 }), key);
 * const token = await p.finish(await issueToken(key, p.request));
 * const v = await verifyToken(token, { origin: "o", issuerName: "i", keys: [key], epochs: [5] });
 * console.assert(v.epoch === 5);
 * ```
 */
export async function verifyToken(
  bytes: Uint8Array,
  options: VerifyTokenOptions,
): Promise<VerifiedToken> {
  const token = readToken(bytes);
  const input = token.authInput;
  const type = input.tokenType as TokenType;
  const key = options.keys.find((k) =>
    k.type === type && constantTimeEqual(k.tokenKeyId, input.tokenKeyId)
  );
  if (!key) {
    throw new VerificationError(
      `Token key id ${
        short(input.tokenKeyId)
      }… is not a key of issuer '${options.issuerName}' accepted here (wrong issuer)`,
    );
  }
  if (!options.epochs.includes(key.epoch)) {
    throw new VerificationError(
      `Token was issued for epoch ${key.epoch}; this service accepts epoch ${
        options.epochs.join(" or ")
      } (wrong epoch)`,
    );
  }
  const expected = await challengeDigest(epochChallenge({
    type,
    issuerName: options.issuerName,
    origin: options.origin,
    epoch: key.epoch,
  }));
  if (!constantTimeEqual(expected, input.challengeDigest)) {
    throw new VerificationError(
      `Token answers another challenge, not origin '${options.origin}' in epoch ${key.epoch} (wrong origin or epoch)`,
    );
  }
  if (!(await verifyTokenAuthenticator(bytes, key))) {
    throw new VerificationError(
      `Token authenticator does not verify under issuer key ${short(key.tokenKeyId)}… (forged)`,
    );
  }
  return {
    type,
    epoch: key.epoch,
    tokenKeyId: new Uint8Array(input.tokenKeyId),
    nonce: new Uint8Array(input.nonce),
    token: bytes,
  };
}

/**
 * Checks a token's authenticator only (no origin, epoch or double-spend check):
 * blind RSA under the public key (RFC 9578 §6.5), VOPRF with the secret key (§5.5).
 *
 * @param bytes the serialized token
 * @param key the issuer key; type 1 must carry its secret
 * @returns whether the authenticator verifies
 * @throws {InvalidInputError} malformed token
 * @throws {VerificationError} a type-1 key without its secret
 * @example
 * ```ts
 * import { beginToken, epochChallenge, generateTokenKey, issueToken, verifyTokenAuthenticator } from "./mod.ts";
 * const key = await generateTokenKey({ type: 1, epoch: 0 });
 * const p = await beginToken(epochChallenge({ type: 1, issuerName: "i", origin: "o", epoch: 0 }), key);
 * console.assert(await verifyTokenAuthenticator(await p.finish(await issueToken(key, p.request)), key));
 * ```
 */
export async function verifyTokenAuthenticator(
  bytes: Uint8Array,
  key: TokenPublicKey | TokenSecretKey,
): Promise<boolean> {
  const token = readToken(bytes);
  if (token.authInput.tokenType !== key.type) return false;
  if (key.type === TOKEN_TYPE_VOPRF && !("secretKey" in key)) {
    throw new VerificationError(
      "Type-1 (VOPRF) tokens verify only with the issuer's secret key; this service has none",
    );
  }
  try {
    if (key.type === TOKEN_TYPE_BLIND_RSA) {
      return await new publicVerif.Origin(publicVerif.BlindRSAMode.PSS).verify(
        token,
        await rsaKey(key.publicKey),
      );
    }
    return await privateVerif.verifyToken(token, (key as TokenSecretKey).secretKey);
  } catch {
    return false;
  }
}

/** Where a service records spent tokens (per epoch). */
export interface SpentTokenStore {
  /**
   * Records a token as spent.
   *
   * @param token the verified token
   * @returns true when it was unspent (now recorded), false when spent before
   */
  spend(token: VerifiedToken): boolean | Promise<boolean>;
}

/**
 * An in-memory spent-token set (tests, browsers, single-process services). A node
 * keeps its spent tokens in SQLite instead, committed before the request is admitted.
 *
 * @example
 * ```ts
 * import { MemorySpentTokens } from "./redeem.ts";
 * const spent = new MemorySpentTokens();
 * const t = { type: 2 as const, epoch: 1, tokenKeyId: new Uint8Array(32), nonce: new Uint8Array(32), token: new Uint8Array() };
 * console.assert(spent.spend(t) && !spent.spend(t));
 * ```
 */
export class MemorySpentTokens implements SpentTokenStore {
  #seen = new Map<number, Set<string>>();

  /**
   * Records a token.
   *
   * @param token the verified token
   * @returns true when it was unspent
   */
  spend(token: VerifiedToken): boolean {
    let set = this.#seen.get(token.epoch);
    if (!set) this.#seen.set(token.epoch, set = new Set());
    const id = toHex(token.tokenKeyId) + toHex(token.nonce);
    if (set.has(id)) return false;
    set.add(id);
    return true;
  }

  /**
   * Forgets the tokens of epochs before `epoch` (no longer accepted anyway).
   *
   * @param epoch the oldest epoch to keep
   */
  dropBefore(epoch: number): void {
    for (const e of this.#seen.keys()) if (e < epoch) this.#seen.delete(e);
  }
}

/**
 * Verifies a token and records it as spent; a second redemption is refused.
 *
 * @param bytes the serialized token
 * @param options verification options and the spent-token store
 * @returns the verified token
 * @throws {ReplayError} when the token was spent before
 * @throws {VerificationError} see {@linkcode verifyToken}
 * @example
 * ```ts
 * import { beginToken, epochChallenge, generateTokenKey, issueToken, MemorySpentTokens, redeemToken } from "./mod.ts";
 * const key = await generateTokenKey({ type: 1, epoch: 0 });
 * const p = await beginToken(epochChallenge({ type: 1, issuerName: "i", origin: "o", epoch: 0 }), key);
 * const token = await p.finish(await issueToken(key, p.request));
 * const opts = { origin: "o", issuerName: "i", keys: [key], epochs: [0], spent: new MemorySpentTokens() };
 * await redeemToken(token, opts);
 * await redeemToken(token, opts).then(() => { throw new Error("double spend"); }, () => {});
 * ```
 */
export async function redeemToken(
  bytes: Uint8Array,
  options: VerifyTokenOptions & { spent: SpentTokenStore },
): Promise<VerifiedToken> {
  const verified = await verifyToken(bytes, options);
  if (!(await options.spent.spend(verified))) {
    throw new ReplayError(
      `Token ${short(verified.nonce)}… was already spent in epoch ${verified.epoch} (double spend)`,
    );
  }
  return verified;
}
