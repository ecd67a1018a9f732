/**
 * Connection limits for the node's listeners (issue 11 §2): a bound on connections in
 * total and per address, eviction of idle connections when a bound is reached, a
 * deadline for a request (or frame) that has started to arrive (slow-loris), an idle
 * timeout, and accept loops that survive `EMFILE` and other accept errors and report
 * their liveness to `/v1/health`.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";

/** Limits of one listener. */
export interface ConnectionLimits {
  /** Most open connections in total. */
  maxConnections: number;
  /** Most open connections from one address. */
  maxPerAddress: number;
  /** A request (HTTP head, Sphinx frame) that has started must complete within this time. */
  headerTimeoutMs: number;
  /** A connection with nothing in flight and no traffic for this long is closed. */
  idleTimeoutMs: number;
}

/** One tracked connection. */
export class TrackedConnection {
  /** Remote address (host). */
  readonly address: string;
  /** When the last byte went either way (ms). */
  lastActivity = Date.now();
  /** When the current request started to arrive, or undefined between requests. */
  partialSince: number | undefined;
  /** Requests being handled (never evicted while positive). */
  busy = 0;
  /** Closes the connection (idempotent). */
  readonly close: () => void;
  #closed = false;

  /**
   * Creates the record.
   *
   * @param address remote host
   * @param close closes the underlying connection(s)
   */
  constructor(address: string, close: () => void) {
    this.address = address;
    this.close = () => {
      if (this.#closed) return;
      this.#closed = true;
      try {
        close();
      } catch { /* already closed */ }
    };
  }

  /** Whether {@linkcode TrackedConnection.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Records traffic.
   *
   * @param inbound true for bytes from the client
   * @param startsRequest true when inbound bytes start a request (nothing in flight)
   */
  activity(inbound: boolean, startsRequest: boolean): void {
    this.lastActivity = Date.now();
    if (inbound && startsRequest && this.partialSince === undefined) {
      this.partialSince = this.lastActivity;
    }
  }
}

/**
 * The open-file limit of this process (soft `RLIMIT_NOFILE`), read from /proc on Linux.
 *
 * @returns the limit, or 1024 when it cannot be read
 */
export function openFileLimit(): number {
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (m) return m[1] === "unlimited" ? 1 << 20 : Number(m[1]);
  } catch { /* not Linux */ }
  return 1024;
}

/**
 * Default connection bounds from the open-file limit: HTTP connections cost three
 * descriptors (client, relay, internal server), Sphinx connections one; 256 are kept
 * for the database, links and the rest.
 *
 * @param nofile the open-file limit
 * @returns default totals for the HTTP and Sphinx listeners
 */
export function defaultConnectionBudget(nofile: number): { http: number; sphinx: number } {
  const budget = Math.max(64, nofile - 256);
  return {
    http: Math.max(8, Math.min(4096, Math.floor((budget * 0.6) / 3))),
    sphinx: Math.max(8, Math.min(8192, Math.floor(budget * 0.3))),
  };
}

/**
 * Admission and timeouts for the connections of one listener.
 *
 * @example
 * ```ts ignore
 * const gate = new ConnectionGate("http", limits, logger, metrics);
 * const c = gate.admit("127.0.0.1", () => conn.close());
 * ```
 */
export class ConnectionGate {
  readonly #name: string;
  readonly #limits: ConnectionLimits;
  readonly #logger: Logger;
  readonly #open = new Set<TrackedConnection>();
  readonly #byAddress = new Map<string, Set<TrackedConnection>>();
  #sweeper: ReturnType<typeof setInterval>;
  #closedCounter;

  /**
   * Creates the gate and its sweeper.
   *
   * @param name listener name in logs and metrics ("http", "sphinx")
   * @param limits the bounds
   * @param logger logger
   * @param metrics metrics
   */
  constructor(
    name: string,
    limits: ConnectionLimits,
    logger: Logger,
    metrics: MetricsRegistry,
  ) {
    this.#name = name;
    this.#limits = limits;
    this.#logger = logger;
    metrics.gauge(
      `panoramix_${name}_connections`,
      `Open ${name} connections`,
      () => this.#open.size,
    );
    this.#closedCounter = metrics.counter(
      `panoramix_${name}_connections_closed_total`,
      `${name} connections closed by the node, by reason`,
    );
    const period = Math.max(20, Math.min(1000, limits.headerTimeoutMs / 4));
    this.#sweeper = setInterval(() => this.sweep(), period);
    Deno.unrefTimer(this.#sweeper);
  }

  /** Open connections. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Admits a new connection, evicting the longest-idle connection (of the address, or
   * of all) when a bound is reached; refuses it when everything held is busy.
   *
   * @param address remote host
   * @param close closes the connection
   * @returns the tracked connection, or undefined when refused (the caller closes it)
   */
  admit(address: string, close: () => void): TrackedConnection | undefined {
    const mine = this.#byAddress.get(address);
    if (mine !== undefined && mine.size >= this.#limits.maxPerAddress) {
      if (!this.#evictFrom(mine, "per_address")) return this.#refuse(address, "per_address");
    }
    if (this.#open.size >= this.#limits.maxConnections) {
      if (!this.#evictFrom(this.#open, "total")) return this.#refuse(address, "total");
    }
    const c = new TrackedConnection(address, close);
    this.#open.add(c);
    let set = this.#byAddress.get(address);
    if (set === undefined) this.#byAddress.set(address, set = new Set());
    set.add(c);
    return c;
  }

  /**
   * Forgets a connection that ended.
   *
   * @param c the connection
   */
  release(c: TrackedConnection): void {
    this.#open.delete(c);
    const set = this.#byAddress.get(c.address);
    set?.delete(c);
    if (set?.size === 0) this.#byAddress.delete(c.address);
  }

  #refuse(address: string, reason: string): undefined {
    this.#closedCounter.inc(1, { reason: `refused_${reason}` });
    this.#logger.log("debug", `${this.#name}_connection_refused`, { address, reason });
    return undefined;
  }

  #evictFrom(set: Set<TrackedConnection>, reason: string): boolean {
    let victim: TrackedConnection | undefined;
    for (const c of set) {
      if (c.busy > 0) continue;
      if (victim === undefined || c.lastActivity < victim.lastActivity) victim = c;
    }
    if (victim === undefined) return false;
    this.#drop(victim, `evicted_${reason}`);
    return true;
  }

  #drop(c: TrackedConnection, reason: string): void {
    this.#closedCounter.inc(1, { reason });
    this.release(c);
    c.close();
  }

  /**
   * Closes connections past a deadline (run periodically; public for tests).
   *
   * @param now clock in ms
   */
  sweep(now = Date.now()): void {
    for (const c of this.#open) {
      if (c.busy > 0) continue;
      if (c.partialSince !== undefined && now - c.partialSince > this.#limits.headerTimeoutMs) {
        this.#drop(c, "slow_request");
      } else if (now - c.lastActivity > this.#limits.idleTimeoutMs) {
        this.#drop(c, "idle");
      }
    }
  }

  /** Closes every connection and stops the sweeper. */
  closeAll(): void {
    clearInterval(this.#sweeper);
    for (const c of [...this.#open]) {
      this.release(c);
      c.close();
    }
  }
}

/** Liveness of an accept loop, for `/v1/health`. */
export interface AcceptLoopState {
  /** False once the loop has ended while the node still runs. */
  alive: boolean;
  /** Why it ended or last failed. */
  lastError: string | undefined;
  /** Since when every accept has failed (ms), or undefined while accepts succeed. */
  failingSince?: number | undefined;
}

/** Accepts failing for longer than this make the listener count as down in health. */
export const ACCEPT_FAILING_MS = 2000;

/**
 * The health problem of an accept loop, if any: ended, or failing for over 2 s.
 *
 * @param name "HTTP" or "Sphinx"
 * @param state the loop's state
 * @param now clock in ms
 * @returns a one-line problem, or undefined when it accepts
 */
export function acceptProblem(
  name: string,
  state: AcceptLoopState,
  now = Date.now(),
): string | undefined {
  if (!state.alive) return `${name} listener stopped: ${state.lastError}`;
  if (state.failingSince !== undefined && now - state.failingSince > ACCEPT_FAILING_MS) {
    return `${name} listener cannot accept connections since ${
      new Date(state.failingSince).toISOString()
    }: ${state.lastError}`;
  }
  return undefined;
}

/**
 * Accepts connections until the listener is closed. Accept errors (`EMFILE` when the
 * process is out of descriptors, aborted handshakes) are logged and retried after a
 * pause; the loop never ends on its own while `running()` holds.
 *
 * @param listener the listener
 * @param onConnection called for each accepted connection (must not throw)
 * @param options name, logger, whether the node still runs, and the state to update
 * @returns a promise settled when the listener is closed
 */
export async function acceptLoop<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  onConnection: (conn: C) => void,
  options: {
    name: string;
    logger: Logger;
    running: () => boolean;
    state: AcceptLoopState;
    /** Pause after a failed accept (default 100 ms). */
    pauseMs?: number;
  },
): Promise<void> {
  let lastLogged = 0;
  while (options.running()) {
    let conn: C;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (!options.running() || error instanceof Deno.errors.BadResource) break;
      options.state.lastError = (error as Error).message;
      options.state.failingSince ??= Date.now();
      // One log line a second at most: a flood must not flood the log too.
      if (Date.now() - lastLogged > 1000) {
        options.logger.log("warn", `${options.name}_accept_failed`, { error });
        lastLogged = Date.now();
      }
      await new Promise((r) => setTimeout(r, options.pauseMs ?? 100));
      continue;
    }
    options.state.failingSince = undefined;
    try {
      onConnection(conn);
    } catch (error) {
      options.logger.log("error", `${options.name}_connection_failed`, { error });
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }
  if (options.running()) {
    options.state.alive = false;
    options.state.lastError ??= "listener closed";
    options.logger.log("error", `${options.name}_listener_stopped`, {
      error: options.state.lastError,
    });
  }
}
