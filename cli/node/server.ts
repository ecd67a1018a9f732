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

async function readBody(request: Request, max: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > max) {
    throw new HttpError(413, "too_large", `Request body of ${declared} bytes exceeds ${max} bytes`);
  }
  if (request.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > max) {
      throw new HttpError(413, "too_large", `Request body exceeds ${max} bytes`);
    }
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
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
      const body = request.method === "GET"
        ? new Uint8Array()
        : await readBody(request, options.maxBodyBytes);
      let signer: Uint8Array | undefined;
      if (match.route.auth) {
        signer = verifier.verify({
          method: request.method,
          path: url.pathname + url.search,
          body,
          headers: request.headers,
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
