/**
 * The client side of RFC 9577 that needs no cryptography: recognise a
 * `WWW-Authenticate: PrivateToken` challenge and answer it with a token the client
 * already holds or gets from a callback. It does not load `@cloudflare/privacypass-ts`,
 * so code that only presents tokens (a survey device, a browser page) stays small;
 * fetching tokens from an issuer is `fetchToken` in the plugin's main module.
 * Re-exported by `plugins/token/mod.ts`.
 *
 * @module
 */

import { toBase64Url } from "../../../core/bytes.ts";
import { PanoramixError } from "../../../core/errors.ts";

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

/**
 * The `Authorization` value that presents a token (RFC 9577 §2.2).
 *
 * @param token the serialized token
 * @returns `PrivateToken token="…"` (base64url)
 * @example
 * ```ts
 * import { authorizationHeader } from "./mod.ts";
 * console.assert(authorizationHeader(new Uint8Array([0, 2])) === 'PrivateToken token="AAI"');
 * ```
 */
export function authorizationHeader(token: Uint8Array): string {
  return `PrivateToken token="${toBase64Url(token)}"`;
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
 * import { isTokenChallenge } from "./mod.ts";
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
 * import { fetchAnsweringChallenge } from "./mod.ts";
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
  const headers = new Headers(init.headers);
  headers.set("authorization", authorizationHeader(token));
  const response = await doFetch(url, { ...init, headers });
  return { response, challenged: true, presented: true };
}
