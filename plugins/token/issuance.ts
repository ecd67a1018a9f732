/**
 * Token issuance (RFC 9578): the client blinds a token request, the issuer signs
 * it blindly, the client unblinds the response into a token. The issuer sees the
 * blinded message only; the token it cannot recognise later (unlinkability,
 * RFC 9576 §3.3). Requests travel as `application/private-token-request`,
 * responses as `application/private-token-response` (RFC 9578 §5.2, §6.2).
 *
 * @module
 */

import { privateVerif, publicVerif } from "@cloudflare/privacypass-ts";
import type { TokenChallengeLike } from "./challenge.ts";
import { asLibraryChallenge } from "./library_challenge.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { toHex } from "../../core/bytes.ts";
import {
  importBlindRsaPublicKey,
  importBlindRsaSecretKey,
  TOKEN_TYPE_VOPRF,
  type TokenPublicKey,
  type TokenSecretKey,
} from "./keys.ts";

/** Media type of a token request (RFC 9578 §5.2). */
export const TOKEN_REQUEST_MEDIA_TYPE = "application/private-token-request";
/** Media type of a token response (RFC 9578 §5.2). */
export const TOKEN_RESPONSE_MEDIA_TYPE = "application/private-token-response";

/** A token request in flight: the bytes to send and how to finish the token. */
export interface PendingToken {
  /** The serialized TokenRequest to send to the issuer. */
  request: Uint8Array;
  /**
   * Unblinds the issuer's response into a token.
   *
   * @param response the serialized TokenResponse
   * @returns the serialized token
   */
  finish(response: Uint8Array): Promise<Uint8Array>;
}

/**
 * Starts a token request for a challenge (the client side, RFC 9578 §5.3 / §6.3).
 *
 * @param challenge the challenge the token will answer
 * @param key the issuer's public key for the challenge's epoch
 * @returns the request bytes and the finishing step
 * @throws {InvalidInputError} when the challenge and key types differ
 * @example
 * ```ts
 * import { beginToken, epochChallenge, generateTokenKey, issueToken } from "./mod.ts";
 * const key = await generateTokenKey({ type: 1, epoch: 0 });
 * const c = epochChallenge({ type: 1, issuerName: "i", origin: "o", epoch: 0 });
 * const pending = await beginToken(c, key);
 * const token = await pending.finish(await issueToken(key, pending.request));
 * console.assert(token.length > 0);
 * ```
 */
export async function beginToken(
  challengeLike: TokenChallengeLike,
  key: TokenPublicKey,
): Promise<PendingToken> {
  const challenge = asLibraryChallenge(challengeLike);
  if (challenge.tokenType !== key.type) {
    throw new InvalidInputError(
      `Challenge asks for token type ${challenge.tokenType}, the issuer key is type ${key.type}`,
    );
  }
  if (key.type === TOKEN_TYPE_VOPRF) {
    const client = new privateVerif.Client();
    const request = await client.createTokenRequest(challenge, key.publicKey);
    return {
      request: request.serialize(),
      finish: async (response) =>
        (await client.finalize(
          readResponse(() => client.deserializeTokenResponse(response.slice())),
        ))
          .serialize(),
    };
  }
  await importBlindRsaPublicKey(key.publicKey); // a malformed key fails here, not inside the library
  const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
  const request = await client.createTokenRequest(challenge, key.publicKey);
  return {
    request: request.serialize(),
    finish: async (response) => {
      const parsed = readResponse(() => client.deserializeTokenResponse(response.slice()));
      try {
        return (await client.finalize(parsed)).serialize();
      } catch (error) {
        throw new VerificationError("Token response does not verify under the issuer key", {
          cause: error,
        });
      }
    },
  };
}

function readResponse<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new InvalidInputError("Token response is malformed", { cause: error });
  }
}

const issuers = new WeakMap<TokenSecretKey, Promise<(req: Uint8Array) => Promise<Uint8Array>>>();

async function issuerFor(key: TokenSecretKey): Promise<(req: Uint8Array) => Promise<Uint8Array>> {
  if (key.type === TOKEN_TYPE_VOPRF) {
    const issuer = new privateVerif.Issuer("issuer", key.secretKey, key.publicKey);
    return async (bytes) => {
      const req = readRequest(() => privateVerif.TokenRequest.deserialize(bytes.slice()));
      checkTruncated(req.truncatedTokenKeyId, key);
      return (await issuer.issue(req)).serialize();
    };
  }
  const issuer = new publicVerif.Issuer(
    publicVerif.BlindRSAMode.PSS,
    "issuer",
    await importBlindRsaSecretKey(key.secretKey),
    await importBlindRsaPublicKey(key.publicKey),
  );
  return async (bytes) => {
    const req = readRequest(() =>
      publicVerif.TokenRequest.deserialize(publicVerif.BLIND_RSA, bytes.slice())
    );
    checkTruncated(req.truncatedTokenKeyId, key);
    try {
      return (await issuer.issue(req)).serialize();
    } catch (error) {
      throw new InvalidInputError("Token request's blinded message is out of range", {
        cause: error,
      });
    }
  };
}

function readRequest<T extends { tokenType: number }>(read: () => T): T {
  let req: T;
  try {
    req = read();
  } catch (error) {
    throw new InvalidInputError("Token request is malformed", { cause: error });
  }
  return req;
}

function checkTruncated(truncated: number, key: TokenPublicKey): void {
  // RFC 9578 §5.5 / §6.5: truncated_token_key_id is the last byte of token_key_id.
  if (truncated !== key.tokenKeyId[key.tokenKeyId.length - 1]) {
    throw new InvalidInputError(
      `Token request names key id …${
        truncated.toString(16).padStart(2, "0")
      }, not this epoch's key …${toHex(key.tokenKeyId.slice(-1))}`,
    );
  }
}

/**
 * Signs a token request (the issuer side, RFC 9578 §5.4 / §6.4).
 *
 * @param key the issuer's secret key for the epoch
 * @param request the serialized TokenRequest
 * @returns the serialized TokenResponse
 * @throws {InvalidInputError} when the request is malformed, of another type or for another key
 * @example
 * ```ts
 * import { beginToken, epochChallenge, generateTokenKey, issueToken } from "./mod.ts";
 * const key = await generateTokenKey({ type: 1, epoch: 0 });
 * const pending = await beginToken(epochChallenge({ type: 1, issuerName: "i", origin: "o", epoch: 0 }), key);
 * console.assert((await issueToken(key, pending.request)).length > 0);
 * ```
 */
export async function issueToken(key: TokenSecretKey, request: Uint8Array): Promise<Uint8Array> {
  if (!(request instanceof Uint8Array) || request.length < 3) {
    throw new InvalidInputError("Token request is malformed: too short");
  }
  const type = (request[0]! << 8) | request[1]!;
  if (type !== key.type) {
    throw new InvalidInputError(
      `Token request is of type ${type}, this issuer signs type ${key.type}`,
    );
  }
  let issue = issuers.get(key);
  if (!issue) {
    issue = issuerFor(key);
    issuers.set(key, issue);
  }
  return await (await issue)(request);
}
