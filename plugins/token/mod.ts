/**
 * Anonymous access tokens (Privacy Pass, RFC 9576–9578) on `@cloudflare/privacypass-ts`.
 *
 * - {@linkcode generateTokenKey}: an issuer key per epoch (type 2 blind RSA, or type 1 VOPRF).
 * - {@linkcode epochChallenge}, {@linkcode challengeHeader}, {@linkcode readChallengeHeader}:
 *   challenges bound to an origin and an epoch, as `WWW-Authenticate: PrivateToken`.
 * - {@linkcode beginToken}, {@linkcode issueToken}, {@linkcode fetchToken}: issuance.
 * - {@linkcode authorizationHeader}, {@linkcode readAuthorizationHeader}, {@linkcode withToken}:
 *   presentation as `Authorization: PrivateToken token=…`.
 * - {@linkcode verifyToken}, {@linkcode redeemToken}, {@linkcode MemorySpentTokens}: redemption.
 * - {@linkcode settlementToEnvelope}, {@linkcode auditSettlements}: per-epoch settlement.
 * - {@linkcode fetchAnsweringChallenge}, {@linkcode isTokenChallenge}, `TokenSource`: a client
 *   answering a service's challenge (`client/mod.ts`, free of the Privacy Pass library).
 *
 * @example
 * ```ts
 * import {
 *   beginToken, epochChallenge, generateTokenKey, issueToken, MemorySpentTokens, redeemToken,
 * } from "./mod.ts";
 * const key = await generateTokenKey({ type: 1, epoch: 9 });
 * const challenge = epochChallenge({ type: 1, issuerName: "issuer", origin: "svc", epoch: 9 });
 * const pending = await beginToken(challenge, key);
 * const token = await pending.finish(await issueToken(key, pending.request));
 * const spent = new MemorySpentTokens();
 * await redeemToken(token, { origin: "svc", issuerName: "issuer", keys: [key], epochs: [9], spent });
 * ```
 *
 * @module
 */

export * from "./keys.ts";
export * from "./challenge.ts";
export * from "./issuance.ts";
export * from "./redeem.ts";
export * from "./fetch.ts";
export * from "./settlement.ts";
export * from "./client/mod.ts";
