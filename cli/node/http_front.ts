/**
 * The node's public HTTP listener (issue 11 §2). `Deno.serve` offers no bound on
 * connections and no header or idle deadline, and dies of `EMFILE`; so the public port
 * is a plain TCP listener with a {@linkcode ConnectionGate} (bounds per address and in
 * total, eviction of idle connections, slow-request and idle deadlines), an accept loop
 * that survives, and a relay of each admitted connection to a `Deno.serve` bound to an
 * ephemeral loopback port. The handler sees the real client address; a connection to
 * the internal port that did not come through the relay is refused.
 *
 * @module
 */

import {
  acceptLoop,
  type AcceptLoopState,
  ConnectionGate,
  type ConnectionLimits,
  type TrackedConnection,
} from "./connections.ts";
import { jsonResponse } from "./http_error.ts";
import type { Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";

/** A running guarded HTTP server. */
export interface GuardedServer {
  /** The public address. */
  addr: Deno.NetAddr;
  /** Liveness of the public accept loop. */
  state: AcceptLoopState;
  /** Open public connections. */
  connections(): number;
  /** Stops accepting, lets in-flight requests finish, closes every connection. */
  shutdown(): Promise<void>;
}

/** Options of {@linkcode serveGuarded}. */
export interface GuardedServeOptions {
  /** Listen host. */
  hostname: string;
  /** Listen port (0 = any). */
  port: number;
  /** Connection bounds and deadlines. */
  limits: ConnectionLimits;
  /** Logger. */
  logger: Logger;
  /** Metrics. */
  metrics: MetricsRegistry;
  /** Response for an uncaught handler error. */
  onError: (error: unknown) => Response | Promise<Response>;
}

const RELAY_BUFFER = 64 * 1024;

async function pump(
  from: Deno.Conn,
  to: Deno.Conn,
  onChunk: () => void,
): Promise<void> {
  const buffer = new Uint8Array(RELAY_BUFFER);
  for (;;) {
    const n = await from.read(buffer);
    if (n === null) return;
    onChunk();
    let offset = 0;
    while (offset < n) offset += await to.write(buffer.subarray(offset, n));
  }
}

/**
 * Serves `handler` on a guarded public port.
 *
 * @param options address, limits, logger, metrics and error response
 * @param handler the request handler (sees the client's real address)
 * @returns the running server
 * @example
 * ```ts ignore
 * const server = serveGuarded({ hostname: "127.0.0.1", port: 0, limits, logger, metrics, onError },
 *   (req, info) => new Response("ok"));
 * await server.shutdown();
 * ```
 */
export function serveGuarded(
  options: GuardedServeOptions,
  handler: (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>,
): GuardedServer {
  const gate = new ConnectionGate("http", options.limits, options.logger, options.metrics);
  // Internal relay connection (its local port as the internal server sees it) → client.
  const relayed = new Map<number, { conn: TrackedConnection; remote: Deno.NetAddr }>();
  const internalHandler = async (request: Request, info: Deno.ServeHandlerInfo) => {
    const entry = relayed.get((info.remoteAddr as Deno.NetAddr).port);
    if (entry === undefined) {
      return jsonResponse({ error: "forbidden", message: "Connect to the public port" }, {
        status: 403,
      });
    }
    entry.conn.busy++;
    entry.conn.partialSince = undefined;
    try {
      return await handler(request, { ...info, remoteAddr: entry.remote });
    } finally {
      entry.conn.busy--;
      entry.conn.lastActivity = Date.now();
    }
  };
  let running = true;
  // `Deno.serve` ends for good when its accept fails (EMFILE): it is then started again
  // on a fresh port; relays made meanwhile fail and close their client (issue 11 §2).
  let internal: Deno.HttpServer<Deno.NetAddr> | undefined;
  let internalPort = 0;
  const startInternal = (): void => {
    try {
      const server = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        onListen: () => {},
        onError: options.onError,
      }, internalHandler);
      internal = server;
      internalPort = server.addr.port;
      server.finished.catch((error) => {
        if (!running || internal !== server) return;
        options.logger.log("warn", "http_server_restarted", { error });
        startInternal();
      });
    } catch (error) {
      options.logger.log("warn", "http_server_restart_failed", { error });
      if (running) setTimeout(startInternal, 100);
    }
  };
  startInternal();
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const state: AcceptLoopState = { alive: true, lastError: undefined };
  const relays = new Set<Promise<void>>();

  const relay = async (
    client: Deno.TcpConn,
    tracked: TrackedConnection,
    conns: Deno.Conn[],
    remote: Deno.NetAddr,
  ) => {
    let up: Deno.TcpConn;
    try {
      up = await Deno.connect({ hostname: "127.0.0.1", port: internalPort });
    } catch (error) {
      options.logger.log("debug", "http_relay_failed", { error });
      gate.release(tracked);
      tracked.close();
      return;
    }
    conns.push(up);
    if (tracked.closed) {
      // Evicted while connecting.
      up.close();
      return;
    }
    const localPort = (up.localAddr as Deno.NetAddr).port;
    relayed.set(localPort, { conn: tracked, remote });
    const inbound = pump(client, up, () => tracked.activity(true, tracked.busy === 0))
      .then(() => up.closeWrite())
      .catch(() => tracked.close());
    await pump(up, client, () => tracked.activity(false, false)).catch(() => {});
    tracked.close();
    await inbound;
    relayed.delete(localPort);
    gate.release(tracked);
  };

  const loop = acceptLoop(listener, (client) => {
    const remote = client.remoteAddr as Deno.NetAddr;
    const conns: Deno.Conn[] = [client];
    const tracked = gate.admit(remote.hostname, () => {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    });
    if (tracked === undefined) {
      client.close();
      return;
    }
    const p = relay(client, tracked, conns, remote).catch((error) =>
      options.logger.log("debug", "http_relay_failed", { error })
    );
    relays.add(p);
    void p.finally(() => relays.delete(p));
  }, { name: "http", logger: options.logger, running: () => running, state });

  return {
    addr: listener.addr as Deno.NetAddr,
    state,
    connections: () => gate.size,
    async shutdown() {
      running = false;
      try {
        listener.close();
      } catch { /* already closed */ }
      await loop;
      // In-flight requests finish and their responses flow back through the relays.
      await internal?.shutdown();
      gate.closeAll();
      await Promise.allSettled([...relays]);
    },
  };
}
