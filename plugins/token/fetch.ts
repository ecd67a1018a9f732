/**
 * HTTP client side of Privacy Pass: fetch a token from an issuer (RFC 9578 §5.2:
 * POST the request as `application/private-token-request`), and call a service with
 * a token, answering its `WWW-Authenticate: PrivateToken` challenge (RFC 9577).
 *
 * @module
 */

import type { TokenChallengeLike } from "./challenge.ts";
import { authorizationHeader, TokenHttpError } from "./client/mod.ts";
import { beginToken, TOKEN_REQUEST_MEDIA_TYPE, TOKEN_RESPONSE_MEDIA_TYPE } from "./issuance.ts";
import type { TokenPublicKey } from "./keys.ts";

/** Options of {@linkcode fetchToken}. */
export interface FetchTokenOptions {
  /** The issuer's request URL (e.g. `https://issuer.example/v1/token/issue`). */
  issuerUrl: string;
  /** The challenge the token will answer. */
  challenge: TokenChallengeLike;
  /** The issuer key for the challenge's epoch. */
  key: TokenPublicKey;
  /**
   * Extra request headers computed from the body (how the user authenticates to the
   * issuer, e.g. an identity signature).
   */
  headers?: (body: Uint8Array, path: string) => Record<string, string>;
  /** The fetch function (default the global one). */
  fetch?: typeof fetch;
}

async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { message?: string };
    return body.message ?? text;
  } catch {
    return text.slice(0, 200);
  }
}

/**
 * Fetches one token from an issuer.
 *
 * @param options issuer URL, challenge, key, authentication headers
 * @returns the serialized token
 * @throws {TokenHttpError} when the issuer refuses (e.g. 403 not on the allow-list, 429 quota spent)
 * @example
 * ```ts ignore
 * const token = await fetchToken({ issuerUrl, challenge, key, headers: sign });
 * ```
 */
export async function fetchToken(options: FetchTokenOptions): Promise<Uint8Array> {
  const pending = await beginToken(options.challenge, options.key);
  const url = new URL(options.issuerUrl);
  const headers: Record<string, string> = {
    "content-type": TOKEN_REQUEST_MEDIA_TYPE,
    accept: TOKEN_RESPONSE_MEDIA_TYPE,
    ...(options.headers?.(pending.request, url.pathname + url.search) ?? {}),
  };
  const res = await (options.fetch ?? fetch)(url, {
    method: "POST",
    headers,
    body: pending.request as BodyInit,
  });
  if (!res.ok) {
    throw new TokenHttpError(
      res.status,
      `Issuer refused the token request (${res.status}): ${await errorText(res)}`,
    );
  }
  return await pending.finish(new Uint8Array(await res.arrayBuffer()));
}

/**
 * Adds a token to a request (`Authorization: PrivateToken token=…`).
 *
 * @param init the request init
 * @param token the serialized token
 * @returns a new init with the header
 * @example
 * ```ts
 * import { withToken } from "./fetch.ts";
 * const init = withToken({ method: "GET" }, new Uint8Array([0, 2]));
 * console.assert(new Headers(init.headers).get("authorization")?.startsWith("PrivateToken"));
 * ```
 */
export function withToken(init: RequestInit, token: Uint8Array): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("authorization", authorizationHeader(token));
  return { ...init, headers };
}
