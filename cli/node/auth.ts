/**
 * Authenticated requests. A state-changing request carries three headers:
 * `x-panoramix-key` (the signer's identity, base64url), `x-panoramix-time`
 * (milliseconds since the epoch) and `x-panoramix-signature` (base64url Ed25519 over
 * labelledDigest("panoramix/node/request/v1", [method, path with query,
 * SHA-256(body), time])). The server accepts a time within the window and each
 * signature once (replay protection inside the window).
 *
 * @module
 */

import { fromBase64Url, toBase64Url, toHex } from "../../core/bytes.ts";
import { PanoramixError } from "../../core/errors.ts";
import { HttpError } from "./http_error.ts";
import { signPartsNative, verifyPartsNative } from "./ed25519_native.ts";
import { type Identity, sha256Digest, SIGNING_LABELS, textPart } from "./identity.ts";

/** Header names of an authenticated request. */
export const AUTH_HEADERS = {
  key: "x-panoramix-key",
  time: "x-panoramix-time",
  signature: "x-panoramix-signature",
} as const;

function requestParts(
  method: string,
  path: string,
  body: Uint8Array,
  time: string,
  bodyDigest?: Uint8Array,
): Uint8Array[] {
  return [
    textPart(method.toUpperCase()),
    textPart(path),
    bodyDigest ?? sha256Digest(body),
    textPart(time),
  ];
}

/**
 * Signs a request: the headers to add.
 *
 * @param identity the signer
 * @param request method, path (with query) and body; `now` overrides the clock;
 *   `bodyDigest`, the body's SHA-256 when it is sent as a stream (then `body` is not read)
 * @returns the three authentication headers
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { signRequest } from "./auth.ts";
 * const h = signRequest(generateIdentity(), { method: "POST", path: "/v1/x", body: new Uint8Array() });
 * console.assert("x-panoramix-signature" in h);
 * ```
 */
export function signRequest(
  identity: Identity,
  request: {
    method: string;
    path: string;
    body: Uint8Array;
    now?: number;
    bodyDigest?: Uint8Array;
  },
): Record<string, string> {
  const time = String(Math.floor(request.now ?? Date.now()));
  const signature = signPartsNative(identity, {
    label: SIGNING_LABELS.request,
    parts: requestParts(request.method, request.path, request.body, time, request.bodyDigest),
  });
  return {
    [AUTH_HEADERS.key]: toBase64Url(identity.publicKey),
    [AUTH_HEADERS.time]: time,
    [AUTH_HEADERS.signature]: toBase64Url(signature),
  };
}

/**
 * Verifies request signatures within a time window, each signature accepted once.
 *
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { RequestVerifier, signRequest } from "./auth.ts";
 * const id = generateIdentity();
 * const body = new Uint8Array([1]);
 * const headers = new Headers(signRequest(id, { method: "POST", path: "/p", body }));
 * const v = new RequestVerifier({ windowSeconds: 60 });
 * console.assert(v.verify({ method: "POST", path: "/p", body, headers }).length === 32);
 * ```
 */
export class RequestVerifier {
  #windowMs: number;
  #seen = new Map<string, number>();
  #now: () => number;

  /**

   * Creates the instance.
   *
   * @param options replay window in seconds and an optional clock
   */
  constructor(options: { windowSeconds: number; now?: () => number }) {
    this.#windowMs = options.windowSeconds * 1000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Checks what can be checked before the body is read (issue 11 §3): the three
   * headers are present and well formed, the time is within the window, and the
   * signature was not used before. The signature itself covers the body's digest, so
   * {@linkcode RequestVerifier.verify} still runs once the body is read.
   *
   * @param headers the request headers
   * @returns the claimed signer's 32-byte public key (not yet proven)
   * @throws {HttpError} 401 on missing, malformed, stale or replayed headers
   */
  precheck(headers: Headers): Uint8Array {
    const keyText = headers.get(AUTH_HEADERS.key);
    const time = headers.get(AUTH_HEADERS.time);
    const sigText = headers.get(AUTH_HEADERS.signature);
    if (keyText === null || time === null || sigText === null) {
      throw new HttpError(
        401,
        "unauthorized",
        `Request needs the headers '${AUTH_HEADERS.key}', '${AUTH_HEADERS.time}' and '${AUTH_HEADERS.signature}'`,
      );
    }
    if (!/^\d{1,15}$/.test(time) || Math.abs(this.#now() - Number(time)) > this.#windowMs) {
      throw new HttpError(
        401,
        "unauthorized",
        `Request time is outside the accepted window of ${this.#windowMs / 1000} s`,
      );
    }
    try {
      const key = fromBase64Url(keyText, AUTH_HEADERS.key);
      const signature = fromBase64Url(sigText, AUTH_HEADERS.signature);
      if (key.length !== 32 || signature.length !== 64) {
        throw new HttpError(401, "unauthorized", "Request key or signature has the wrong length");
      }
      if (this.#seen.has(toHex(signature))) {
        throw new HttpError(401, "unauthorized", "Request signature was already used (replay)");
      }
      return key;
    } catch (error) {
      if (error instanceof PanoramixError) {
        throw new HttpError(401, "unauthorized", error.message);
      }
      throw error;
    }
  }

  /**
   * Checks one request.
   *
   * @param request method, path with query, body and headers, and optionally the body's
   *   SHA-256 when the caller computed it (off the event loop for a big body)
   * @returns the signer's 32-byte public key
   * @throws {HttpError} 401 on a missing, stale, replayed or invalid signature
   */
  verify(
    request: {
      method: string;
      path: string;
      body: Uint8Array;
      headers: Headers;
      bodyDigest?: Uint8Array;
    },
  ): Uint8Array {
    const keyText = request.headers.get(AUTH_HEADERS.key);
    const time = request.headers.get(AUTH_HEADERS.time);
    const sigText = request.headers.get(AUTH_HEADERS.signature);
    if (keyText === null || time === null || sigText === null) {
      throw new HttpError(
        401,
        "unauthorized",
        `Request needs the headers '${AUTH_HEADERS.key}', '${AUTH_HEADERS.time}' and '${AUTH_HEADERS.signature}'`,
      );
    }
    const t = Number(time);
    const now = this.#now();
    if (!/^\d{1,15}$/.test(time) || Math.abs(now - t) > this.#windowMs) {
      throw new HttpError(
        401,
        "unauthorized",
        `Request time '${time}' is outside the accepted window of ${this.#windowMs / 1000} s`,
      );
    }
    let key: Uint8Array;
    let signature: Uint8Array;
    try {
      key = fromBase64Url(keyText, AUTH_HEADERS.key);
      signature = fromBase64Url(sigText, AUTH_HEADERS.signature);
      verifyPartsNative(key, {
        label: SIGNING_LABELS.request,
        parts: requestParts(request.method, request.path, request.body, time, request.bodyDigest),
        signature,
        what: "request",
      });
    } catch (error) {
      if (error instanceof PanoramixError) {
        throw new HttpError(401, "unauthorized", error.message);
      }
      throw error;
    }
    this.#prune(now);
    const id = toHex(signature);
    if (this.#seen.has(id)) {
      throw new HttpError(401, "unauthorized", "Request signature was already used (replay)");
    }
    this.#seen.set(id, t + this.#windowMs);
    return key;
  }

  #prune(now: number): void {
    for (const [id, expires] of this.#seen) {
      if (expires < now) this.#seen.delete(id);
      else if (this.#seen.size < 100_000) break; // insertion order ≈ time order
    }
  }
}
