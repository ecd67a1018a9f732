/**
 * HTTP client side of Privacy Pass: fetch a token from an issuer (RFC 9578 §5.2:
 * POST the request as `application/private-token-request`), and call a service with
 * a token, answering its `WWW-Authenticate: PrivateToken` challenge (RFC 9577).
 *
 * @module
 */

import { PanoramixError } from "../../core/errors.ts";
import { authorizationHeader, type TokenChallengeLike } from "./challenge.ts";
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

/** The issuer or service answered with an error. */
export class TokenHttpError extends PanoramixError {
  /** HTTP status. */
  readonly status: number;

  /**
   * Creates the error.
   *
   * @param status HTTP status
   * @param message what failed
   */
  constructor(status: number, message: string) {
    super(
      status === 401 || status === 403
        ? "verification_failed"
        : status === 409
        ? "replay"
        : status === 503 || status === 429
        ? "unavailable"
        : status >= 500
        ? "internal"
        : "invalid_input",
      message,
    );
    this.status = status;
    this.name = "TokenHttpError";
  }
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

/**
 * Where a client gets a token when a service asks for one: a token in hand, or a
 * callback given the service's `WWW-Authenticate` value (it may pick a token from a
 * wallet for the challenge's issuer, or fetch one from an issuer).
 */
export type TokenSource = Uint8Array | ((challenge: string) => Promise<Uint8Array>);

/**
 * Whether a response is an RFC 9577 token challenge (`401` with
 * `WWW-Authenticate: PrivateToken …`).
 *
 * @param response the service's response
 * @returns true for a PrivateToken challenge
 * @example
 * ```ts
 * import { isTokenChallenge } from "./fetch.ts";
 * const res = new Response(null, { status: 401, headers: { "www-authenticate": 'PrivateToken challenge="AAI"' } });
 * console.assert(isTokenChallenge(res));
 * ```
 */
export function isTokenChallenge(response: Response): boolean {
  return response.status === 401 &&
    /^\s*PrivateToken\s/i.test(response.headers.get("www-authenticate") ?? "");
}

/** What {@linkcode fetchAnsweringChallenge} did. */
export interface ChallengedResponse {
  /** The final response (the retry's when a token was presented). */
  response: Response;
  /** The service answered the first request with a PrivateToken challenge. */
  challenged: boolean;
  /** A token was presented (and is spent from the client's point of view). */
  presented: boolean;
}

/**
 * Calls a service and answers a PrivateToken challenge (RFC 9577 §2): the request is
 * sent without a token; on `401 WWW-Authenticate: PrivateToken` one token is taken from
 * `token` and the request is sent again with `Authorization: PrivateToken token=…`.
 * A service that needs no token never consumes one. The body must be bytes or a
 * string (it is sent twice). Without a token source, the challenge is returned as is.
 *
 * @param url the service URL
 * @param init the request (method, headers, body as bytes or string)
 * @param options the token source and the fetch function
 * @returns the final response and whether a challenge came and a token was presented
 * @example
 * ```ts
 * import { fetchAnsweringChallenge } from "./fetch.ts";
 * const seen: (string | null)[] = [];
 * const fake = (_: RequestInfo | URL, init?: RequestInit) => {
 *   const auth = new Headers(init?.headers).get("authorization");
 *   seen.push(auth);
 *   return Promise.resolve(auth === null
 *     ? new Response(null, { status: 401, headers: { "www-authenticate": 'PrivateToken challenge="AAI"' } })
 *     : new Response("ok"));
 * };
 * const r = await fetchAnsweringChallenge("http://svc/x", { method: "POST", body: "b" }, {
 *   token: () => Promise.resolve(new Uint8Array([0, 2])), fetch: fake as typeof fetch,
 * });
 * console.assert(r.presented && r.response.ok && seen[1] === 'PrivateToken token="AAI"');
 * ```
 */
export async function fetchAnsweringChallenge(
  url: string | URL,
  init: RequestInit,
  options: { token?: TokenSource | undefined; fetch?: typeof fetch } = {},
): Promise<ChallengedResponse> {
  const doFetch = options.fetch ?? fetch;
  const first = await doFetch(url, init);
  if (!isTokenChallenge(first) || options.token === undefined) {
    return { response: first, challenged: isTokenChallenge(first), presented: false };
  }
  const challenge = first.headers.get("www-authenticate")!;
  await first.body?.cancel();
  const token = options.token instanceof Uint8Array
    ? options.token
    : await options.token(challenge);
  const response = await doFetch(url, withToken(init, token));
  return { response, challenged: true, presented: true };
}
