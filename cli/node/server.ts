/**
 * The HTTP front of a node: routing, per-client rate limiting, body size limits,
 * authenticated state-changing requests, JSON errors (4xx with a clear message,
 * never a crash), request metrics and logs.
 *
 * @module
 */

import { decodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { toBase64Url } from "../../core/bytes.ts";
import { RequestVerifier } from "./auth.ts";
import { sha256Async } from "./async_digest.ts";
import { errorResponse, HttpError } from "./http_error.ts";
import type { Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";
import { RateLimiter } from "./rate_limit.ts";

/** A request as a route handler sees it. */
export interface RouteRequest {
  /** The parsed URL. */
  url: URL;
  /** Path parameters (`:name` segments). */
  params: Record<string, string>;
  /** Raw body (empty for GET). */
  body: Uint8Array;
  /** Verified signer of an authenticated route. */
  signer: Uint8Array | undefined;
  /** The original request. */
  request: Request;
  /** The client's address key (`ip:…`), for per-client limits of a route. */
  client?: string;
}

/** One route. */
export interface Route {
  /** HTTP method. */
  method: "GET" | "POST";
  /** Path with optional `:name` segments, e.g. "/v1/board/jobs/:job". */
  path: string;
  /** Whether the request must be signed (every state-changing route). */
  auth?: boolean;
  /** Largest body of this route in bytes (default and ceiling: the handler's maxBodyBytes). */
  maxBodyBytes?: number;
  /**
   * Handles the request.
   *
   * @param req the request
   * @returns the response
   */
  handle(req: RouteRequest): Response | Promise<Response>;
}

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions {
  /** The routes. */
  routes: readonly Route[];
  /** Per-client requests per second. */
  requestsPerSecond: number;
  /** Per-client burst. */
  burst: number;
  /** Largest body in bytes. */
  maxBodyBytes: number;
  /** Signature time window in seconds. */
  authWindowSeconds: number;
  /** Grace before the body rate applies, in ms (default 10,000). */
  headerTimeoutMs?: number;
  /** Slowest accepted body in bytes per second (default 65,536); slower gets 408. */
  minBodyBytesPerSecond?: number;
  /** Most body bytes held by all requests at once (default 4 × maxBodyBytes); beyond: 503. */
  maxBodyBytesInFlight?: number;
  /** Logger. */
  logger: Logger;
  /** Metrics. */
  metrics: MetricsRegistry;
}

interface Compiled extends Route {
  regex: RegExp;
  names: string[];
}

function compile(route: Route): Compiled {
  const names: string[] = [];
  const pattern = route.path.split("/").map((seg) => {
    if (seg.startsWith(":")) {
      names.push(seg.slice(1));
      return "([^/]+)";
    }
    return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }).join("/");
  return { ...route, regex: new RegExp(`^${pattern}$`), names };
}

/** Body bytes reserved by requests being read (issue 11 §3: bounded memory under floods). */
class BodyBudget {
  #used = 0;
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  take(n: number): (() => void) | undefined {
    if (this.#used + n > this.#max) return undefined;
    this.#used += n;
    let released = false;
    return () => {
      if (!released) this.#used -= n;
      released = true;
    };
  }
}

function declaredLength(request: Request, max: number): number | undefined {
  const header = request.headers.get("content-length");
  if (header === null) return undefined;
  if (!/^\d{1,16}$/.test(header.trim())) {
    throw new HttpError(400, "invalid_input", "Header 'content-length' is not a number");
  }
  const declared = Number(header.trim());
  if (declared > max) {
    throw new HttpError(413, "too_large", `Request body of ${declared} bytes exceeds ${max} bytes`);
  }
  return declared;
}

async function readBody(
  request: Request,
  max: number,
  deadline: { graceMs: number; bytesPerSecond: number },
): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array();
  const declared = declaredLength(request, max);
  // One allocation of the declared size; a body without a length grows up to the cap.
  let out = new Uint8Array(declared ?? Math.min(max, 64 * 1024));
  let size = 0;
  const reader = request.body.getReader();
  const started = Date.now();
  const limitMs = (n: number) => deadline.graceMs + (n / deadline.bytesPerSecond) * 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), limitMs(declared ?? max));
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timedOut]);
      if (next === "timeout" || (declared === undefined && Date.now() - started > limitMs(size))) {
        throw new HttpError(408, "timeout", "Request body arrives too slowly");
      }
      if (next.done) break;
      const chunk = next.value;
      if (size + chunk.length > (declared ?? max)) {
        throw declared === undefined
          ? new HttpError(413, "too_large", `Request body exceeds ${max} bytes`)
          : new HttpError(400, "invalid_input", "Request body is longer than its content-length");
      }
      if (size + chunk.length > out.length) {
        const grown = new Uint8Array(Math.min(max, Math.max(out.length * 2, size + chunk.length)));
        grown.set(out.subarray(0, size));
        out = grown;
      }
      out.set(chunk, size);
      size += chunk.length;
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (declared !== undefined && size !== declared) {
    throw new HttpError(400, "invalid_input", "Request body is shorter than its content-length");
  }
  return size === out.length ? out : out.slice(0, size);
}

/**
 * Decodes a request body: JSON (content type application/json or a leading `{`) or msgpack.
 *
 * @param req the request
 * @returns the decoded value
 * @throws {InvalidInputError} when the body is neither
 * @example
 * ```ts ignore
 * const value = decodeBody(req);
 * ```
 */
export function decodeBody(req: RouteRequest): unknown {
  const type = req.request.headers.get("content-type") ?? "";
  if (req.body.length === 0) throw new InvalidInputError("Request body is empty");
  if (type.includes("json") || req.body[0] === 0x7b) {
    try {
      return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(req.body));
    } catch (error) {
      throw new InvalidInputError(`Request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  return decodeMsgpack(req.body, "request body");
}

/**
 * Builds the request handler for `Deno.serve`.
 *
 * @param options routes, limits, logger and metrics
 * @returns the handler
 * @example
 * ```ts ignore
 * const server = Deno.serve({ port: 0 }, createHandler({ routes, ...limits, logger, metrics }));
 * ```
 */
export function createHandler(
  options: HandlerOptions,
): (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response> {
  const routes = options.routes.map(compile);
  const limiter = new RateLimiter({
    ratePerSecond: options.requestsPerSecond,
    burst: options.burst,
  });
  const verifier = new RequestVerifier({ windowSeconds: options.authWindowSeconds });
  const budget = new BodyBudget(options.maxBodyBytesInFlight ?? 4 * options.maxBodyBytes);
  const bodyDeadline = {
    graceMs: options.headerTimeoutMs ?? 10_000,
    bytesPerSecond: options.minBodyBytesPerSecond ?? 65_536,
  };
  const requests = options.metrics.counter(
    "panoramix_http_requests_total",
    "HTTP requests by route and status",
  );
  return async (request, info) => {
    let routeName = "unknown";
    let response: Response;
    try {
      const url = new URL(request.url);
      // Rate limits are per client: every request is charged to the sender's address
      // before any work is done, and a signed request also to its verified identity key
      // (fresh keys cannot escape the address limit; one key cannot spread over addresses).
      const ip = `ip:${(info.remoteAddr as Deno.NetAddr).hostname}`;
      const limit = (client: string) => {
        if (!limiter.take(client)) {
          throw new HttpError(
            429,
            "rate_limited",
            "Too many requests from this client; slow down",
            {
              "retry-after": String(limiter.retryAfter(client)),
            },
          );
        }
      };
      limit(ip);
      let match: { route: Compiled; values: string[] } | undefined;
      let pathMatched = false;
      for (const route of routes) {
        const m = route.regex.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (route.method === request.method) {
          match = { route, values: m.slice(1) };
          break;
        }
      }
      if (!match) {
        throw pathMatched
          ? new HttpError(405, "method_not_allowed", `Method ${request.method} is not allowed here`)
          : new HttpError(404, "not_found", `No such endpoint '${url.pathname}'`);
      }
      routeName = match.route.path;
      const params: Record<string, string> = {};
      match.route.names.forEach((n, i) => {
        try {
          params[n] = decodeURIComponent(match.values[i]!);
        } catch {
          throw new HttpError(
            400,
            "invalid_input",
            `Path segment '${n}' is not valid percent-encoding`,
          );
        }
      });
      // Signature headers, declared length and the memory
      // budget are all checked before a byte of the body is read (issue 11 §3).
      const maxBody = Math.min(match.route.maxBodyBytes ?? Infinity, options.maxBodyBytes);
      let release: (() => void) | undefined;
      let body: Uint8Array = new Uint8Array();
      if (request.method !== "GET") {
        const declared = declaredLength(request, maxBody);
        if (match.route.auth) verifier.precheck(request.headers);
        release = budget.take(declared ?? maxBody);
        if (release === undefined) {
          throw new HttpError(
            503,
            "busy",
            "Too many request bodies are being received; retry later",
            { "retry-after": "1" },
          );
        }
      }
      try {
        if (release !== undefined) body = await readBody(request, maxBody, bodyDeadline);
      } finally {
        release?.();
      }
      let signer: Uint8Array | undefined;
      if (match.route.auth) {
        signer = verifier.verify({
          method: request.method,
          path: url.pathname + url.search,
          body,
          headers: request.headers,
          // A big body is hashed off the event loop (issue 11 §10).
          bodyDigest: await sha256Async(body),
        });
        limit(`key:${toBase64Url(signer)}`);
      }
      response = await match.route.handle({ url, params, body, signer, request, client: ip });
    } catch (error) {
      response = errorResponse(error);
      if (response.status >= 500) {
        options.logger.log("error", "request_failed", { route: routeName, error });
      } else {
        options.logger.log("debug", "request_rejected", {
          route: routeName,
          status: response.status,
          error,
        });
      }
    }
    requests.inc(1, { route: routeName, status: String(response.status) });
    return response;
  };
}
