/**
 * Token challenges bound to a service (origin) and an epoch, and the RFC 9577
 * `WWW-Authenticate: PrivateToken challenge=…, token-key=…` and
 * `Authorization: PrivateToken token=…` headers.
 *
 * A challenge names the issuer, lists the origin in `origin_info` and carries a
 * redemption context derived from the origin and the epoch (RFC 9577 §2.1.1: a
 * context may bind tokens to a time window). The context is deterministic, so a
 * client can fetch a token for epoch E before it talks to the service, and a token
 * is accepted only by that origin during that epoch.
 *
 * @module
 */

import { TokenChallenge, WWWAuthenticateHeader } from "@cloudflare/privacypass-ts";
import { fromBase64Url } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { labelledDigest } from "../../core/transcript.ts";
import { readTokenType, type TokenPublicKey, type TokenType } from "./keys.ts";
import { asLibraryChallenge } from "./library_challenge.ts";

/** Domain-separation label of the redemption context (origin, epoch). */
export const REDEMPTION_CONTEXT_LABEL = "panoramix/token/redemption-context/v1";

/**
 * A token challenge (RFC 9577 §2.1.1): what {@linkcode epochChallenge} builds and
 * {@linkcode readChallengeHeader} reads (a `@cloudflare/privacypass-ts` TokenChallenge).
 */
export interface TokenChallengeLike {
  /** Token type. */
  readonly tokenType: number;
  /** Issuer name. */
  readonly issuerName: string;
  /** Redemption context (0 or 32 bytes). */
  readonly redemptionContext: Uint8Array;
  /** Origin names the token is for. */
  readonly originInfo?: string[] | undefined;
  /**
   * The TLS-style encoding whose SHA-256 the token carries.
   *
   * @returns the encoded challenge
   */
  serialize(): Uint8Array;
}

/** What a challenge binds. */
export interface ChallengeOptions {
  /** Token type. */
  type: TokenType;
  /** The issuer's name (RFC 9578 issuer_name, e.g. its host). */
  issuerName: string;
  /** The service's origin name (RFC 9577 origin_info), e.g. "provider1.example:8470". */
  origin: string;
  /** The epoch the token is for. */
  epoch: number;
}

/**
 * The epoch of a time.
 *
 * @param timeMs milliseconds since 1970
 * @param epochSeconds epoch length
 * @returns floor(time / epoch length)
 * @example
 * ```ts
 * import { tokenEpoch } from "./challenge.ts";
 * console.assert(tokenEpoch(7_200_000, 3600) === 2);
 * ```
 */
export function tokenEpoch(timeMs: number, epochSeconds: number): number {
  return Math.floor(timeMs / 1000 / epochSeconds);
}

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/**
 * The 32-byte redemption context of an origin and epoch.
 *
 * @param origin the origin name
 * @param epoch the epoch
 * @returns 32 bytes
 * @example
 * ```ts
 * import { redemptionContext } from "./challenge.ts";
 * console.assert(redemptionContext("a.example", 1).length === 32);
 * ```
 */
export function redemptionContext(origin: string, epoch: number): Uint8Array {
  // RFC 9577 §2.1.1: redemption_context is 0 or 32 bytes; ours binds (origin, epoch).
  return labelledDigest(REDEMPTION_CONTEXT_LABEL, [new TextEncoder().encode(origin), u64(epoch)])
    .slice(0, 32);
}

function checkName(value: string, what: string): void {
  if (typeof value !== "string" || value.length === 0 || value.length > 255) {
    throw new InvalidInputError(`Value '${what}' must be a name of 1 to 255 characters`);
  }
}

/**
 * Builds the challenge of an origin for one epoch.
 *
 * @param options type, issuer name, origin and epoch
 * @returns the RFC 9577 TokenChallenge
 * @example
 * ```ts
 * import { epochChallenge } from "./challenge.ts";
 * const c = epochChallenge({ type: 2, issuerName: "issuer.example", origin: "svc.example", epoch: 3 });
 * console.assert(c.originInfo?.[0] === "svc.example");
 * ```
 */
export function epochChallenge(options: ChallengeOptions): TokenChallengeLike {
  checkName(options.issuerName, "issuerName");
  checkName(options.origin, "origin");
  if (!Number.isSafeInteger(options.epoch) || options.epoch < 0) {
    throw new InvalidInputError(`Value 'epoch' must be a non-negative integer`);
  }
  return new TokenChallenge(
    readTokenType(options.type, "type"),
    options.issuerName,
    redemptionContext(options.origin, options.epoch),
    [options.origin],
  );
}

/**
 * SHA-256 of a serialized challenge (the challenge_digest a token carries, RFC 9578 §5.1).
 *
 * @param challenge the challenge
 * @returns 32 bytes
 * @example
 * ```ts
 * import { challengeDigest, epochChallenge } from "./challenge.ts";
 * const c = epochChallenge({ type: 2, issuerName: "i", origin: "o", epoch: 0 });
 * console.assert((await challengeDigest(c)).length === 32);
 * ```
 */
export async function challengeDigest(challenge: TokenChallengeLike): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", challenge.serialize() as BufferSource),
  );
}

/**
 * The `WWW-Authenticate` value that asks for a token (RFC 9577 §2.1).
 *
 * @param challenge the challenge
 * @param key the issuer key that must sign the token
 * @returns `PrivateToken challenge="…", token-key="…"`
 * @example
 * ```ts
 * import { challengeHeader, epochChallenge } from "./challenge.ts";
 * const c = epochChallenge({ type: 1, issuerName: "i", origin: "o", epoch: 0 });
 * const h = challengeHeader(c, { type: 1, epoch: 0, publicKey: new Uint8Array(49), tokenKeyId: new Uint8Array(32) });
 * console.assert(h.startsWith("PrivateToken challenge="));
 * ```
 */
export function challengeHeader(challenge: TokenChallengeLike, key: TokenPublicKey): string {
  return new WWWAuthenticateHeader(asLibraryChallenge(challenge), key.publicKey).toString(true);
}

/** A parsed `WWW-Authenticate: PrivateToken` challenge. */
export interface ParsedChallenge {
  /** The challenge. */
  challenge: TokenChallengeLike;
  /** The issuer key named by `token-key`. */
  tokenKey: Uint8Array;
}

/**
 * Parses the PrivateToken challenges of a `WWW-Authenticate` value.
 *
 * @param header the header value
 * @returns the challenges, at least one
 * @throws {InvalidInputError} when it holds no valid PrivateToken challenge
 * @example
 * ```ts
 * import { challengeHeader, epochChallenge, readChallengeHeader } from "./challenge.ts";
 * const c = epochChallenge({ type: 1, issuerName: "i", origin: "o", epoch: 0 });
 * const h = challengeHeader(c, { type: 1, epoch: 0, publicKey: new Uint8Array(49), tokenKeyId: new Uint8Array(32) });
 * console.assert(readChallengeHeader(h)[0]!.challenge.issuerName === "i");
 * ```
 */
export function readChallengeHeader(header: string): ParsedChallenge[] {
  let parsed: WWWAuthenticateHeader[];
  try {
    parsed = WWWAuthenticateHeader.parse(header);
  } catch (error) {
    throw new InvalidInputError(`WWW-Authenticate header is not a PrivateToken challenge`, {
      cause: error,
    });
  }
  if (parsed.length === 0) {
    throw new InvalidInputError(`WWW-Authenticate header holds no PrivateToken challenge`);
  }
  return parsed.map((p) => ({ challenge: p.challenge, tokenKey: p.tokenKey }));
}

/**
 * Reads the token of an `Authorization: PrivateToken token=…` value.
 *
 * @param header the header value
 * @returns the serialized token
 * @throws {InvalidInputError} when the scheme or the token parameter is missing or malformed
 * @example
 * ```ts
 * import { readAuthorizationHeader } from "./challenge.ts";
 * console.assert(readAuthorizationHeader('PrivateToken token="AAI"').length === 2);
 * ```
 */
export function readAuthorizationHeader(header: string): Uint8Array {
  const m = /^\s*PrivateToken\s+(.*)$/i.exec(header);
  if (!m) {
    throw new InvalidInputError("Authorization header does not use the PrivateToken scheme");
  }
  const params = m[1]!.split(",").map((p) => p.trim());
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== "token") continue;
    const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").replace(/=+$/, "");
    // RFC 9577 §2.2 uses base64url; accept standard base64 characters too.
    return fromBase64Url(value.replaceAll("+", "-").replaceAll("/", "_"), "token");
  }
  throw new InvalidInputError("Authorization header has no 'token' parameter");
}
