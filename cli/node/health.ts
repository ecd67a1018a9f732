/**
 * `/v1/health` (issue 11 §2, §13): 200 `{ ok: true }` only when every listener accepts
 * connections and the storage accepts writes; otherwise 503 with `Retry-After` and one
 * line per problem, so a load balancer or an operator's check sees a dead listener or a
 * full disk instead of "ok".
 *
 * @module
 */

import type { NodeConfig } from "./config.ts";
import {
  acceptProblem,
  type ConnectionLimits,
  defaultConnectionBudget,
  openFileLimit,
} from "./connections.ts";
import type { GuardedServer } from "./http_front.ts";
import { jsonResponse } from "./http_error.ts";
import { DISK_FULL_RETRY_SECONDS, type Store } from "./storage.ts";

/** The node's health. */
export interface NodeHealth {
  /** True when nothing is wrong. */
  ok: boolean;
  /** Problem per component ("http", "storage", "sphinx"). */
  problems: Record<string, string>;
}

/**
 * Collects the health of a node.
 *
 * @param server the public HTTP server
 * @param store the storage
 * @param services background roles with an optional health check
 * @returns the health
 */
export function nodeHealth(
  server: GuardedServer,
  store: Store,
  services: readonly { health?: () => Record<string, string> }[],
): NodeHealth {
  const problems: Record<string, string> = {};
  const http = acceptProblem("HTTP", server.state);
  if (http !== undefined) problems.http = http;
  const failure = store.failure();
  if (failure) {
    problems.storage = `Storage writes fail since ${
      new Date(failure.at).toISOString()
    }: ${failure.message}`;
  }
  for (const s of services) Object.assign(problems, s.health?.() ?? {});
  return { ok: Object.keys(problems).length === 0, problems };
}

/**
 * The health as an HTTP response: 200, or 503 with Retry-After.
 *
 * @param health the health
 * @returns the response
 */
export function healthResponse(health: NodeHealth): Response {
  if (health.ok) return jsonResponse({ ok: true });
  return jsonResponse({ ok: false, problems: health.problems }, {
    status: 503,
    headers: { "retry-after": String(DISK_FULL_RETRY_SECONDS) },
  });
}

/**
 * The HTTP connection bounds of a config (0 = from the open-file limit).
 *
 * @param config the node config
 * @returns the limits
 */
export function httpConnectionLimits(config: NodeConfig): ConnectionLimits {
  return {
    maxConnections: config.limits.maxConnections ||
      defaultConnectionBudget(openFileLimit()).http,
    maxPerAddress: config.limits.maxConnectionsPerAddress,
    headerTimeoutMs: config.limits.headerTimeoutMs,
    idleTimeoutMs: config.limits.idleTimeoutMs,
  };
}

/**
 * The Sphinx connection bounds of a config (0 = from the open-file limit).
 *
 * @param config the node config
 * @returns the limits
 */
export function sphinxConnectionLimits(config: NodeConfig): ConnectionLimits {
  return {
    maxConnections: config.sphinx.maxConnections ||
      defaultConnectionBudget(openFileLimit()).sphinx,
    maxPerAddress: config.sphinx.maxConnectionsPerAddress,
    headerTimeoutMs: config.limits.headerTimeoutMs,
    idleTimeoutMs: config.sphinx.idleTimeoutMs,
  };
}
