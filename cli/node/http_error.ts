/**
 * HTTP errors with a status and a clear JSON body `{ "error": code, "message": text }`.
 * Typed core errors map to 4xx statuses; anything else is a 500 whose details stay in the log.
 *
 * @module
 */

import { PanoramixError } from "../../core/errors.ts";

/** An error that carries its HTTP status. */
export class HttpError extends Error {
  /** HTTP status code. */
  readonly status: number;
  /** Stable machine-readable code. */
  readonly code: string;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  /**

   * Creates the instance.
   *
   * @param status HTTP status
   * @param code stable code, e.g. "unauthorized"
   * @param message sentence-case explanation
   * @param headers extra headers
   */
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.name = "HttpError";
  }
}

const STATUS_FOR_CODE: Record<string, number> = {
  invalid_input: 400,
  usage: 400,
  verification_failed: 422,
  not_found: 404,
  replay: 409,
  batch_too_small: 409,
  config: 409,
  unavailable: 503,
};

/**
 * Converts a thrown value to an HTTP response.
 *
 * @param error the thrown value
 * @returns a JSON error response (500 with a generic message for unexpected errors)
 * @example
 * ```ts
 * import { InvalidInputError } from "../../core/errors.ts";
 * import { errorResponse } from "./http_error.ts";
 * console.assert(errorResponse(new InvalidInputError("bad")).status === 400);
 * ```
 */
export function errorResponse(error: unknown): Response {
  let status = 500;
  let code = "internal";
  let message = "Internal error; see the node log";
  let headers: Record<string, string> = {};
  if (error instanceof HttpError) {
    ({ status, code, message, headers } = error);
  } else if (error instanceof PanoramixError) {
    status = STATUS_FOR_CODE[error.code] ?? 500;
    code = error.code;
    if (status !== 500) message = error.message;
  }
  return jsonResponse({ error: code, message }, { status, headers });
}

/**
 * A JSON response.
 *
 * @param body JSON-serialisable value
 * @param init status and headers
 * @returns the response
 * @example
 * ```ts
 * import { jsonResponse } from "./http_error.ts";
 * console.assert(jsonResponse({ ok: true }).headers.get("content-type") === "application/json");
 * ```
 */
export function jsonResponse(
  body: unknown,
  init: { status?: number; headers?: Record<string, string> } = {},
): Response {
  return new Response(JSON.stringify(body), {
    status: init.status ?? 200,
    headers: { "content-type": "application/json", ...init.headers },
  });
}
