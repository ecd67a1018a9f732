/**
 * The token gate: Privacy Pass redemption in front of a node's HTTP routes
 * (RFC 9577). A gated request without a valid unspent token gets
 * `401` with `WWW-Authenticate: PrivateToken challenge="…", token-key="…"` (one
 * challenge per accepted issuer, bound to this node's origin and the issuer's
 * current epoch). A request with `Authorization: PrivateToken token="…"` is
 * admitted once its token verifies and is recorded as spent in the node's SQLite
 * store and that record is committed; a second use of the token is refused, also
 * after a restart or a kill -9.
 *
 * API for roles (the messaging provider's client admission, the survey collector's
 * report submission):
 *
 * ```ts ignore
 * // in a role factory, with the node context:
 * const route = gateRoute(myRoute, ctx.tokenGate, "provider.send"); // or
 * const token = await gate.admit(req.request, "survey.reports");   // inside a handler
 * ```
 *
 * A node creates one gate (`tokenGateFor`) when `tokens.services` is not empty; a
 * route is gated when its service name is listed there.
 *
 * Tables: `token_spent`, `token_settled`. Metrics: `panoramix_token_redeemed_total`,
 * `panoramix_token_refused_total`, `panoramix_token_spent`.
 *
 * @module
 */

import { fromBase64Url, toBase64Url } from "../../core/bytes.ts";
import { PanoramixError, ReplayError } from "../../core/errors.ts";
import {
  challengeHeader,
  epochChallenge,
  readAuthorizationHeader,
  readTokenType,
  type Settlement,
  tokenKeyIdOf,
  type TokenPublicKey,
  type TokenSecretKey,
  type VerifiedToken,
  verifyToken,
} from "../../plugins/token/mod.ts";
import { NodeClient } from "./client.ts";
import type { NodeConfig } from "./config.ts";
import { readDescriptor, readTopology, verifyDescriptor, verifyTopology } from "./descriptor.ts";
import type { NodeDescriptor } from "./descriptor.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import type { Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";
import { readPost } from "./posts.ts";
import { decodeBody, type Route, type RouteRequest } from "./server.ts";
import type { Store } from "./storage.ts";

/** An issuer key with the time it is valid for. */
export type AcceptedKey = (TokenPublicKey | TokenSecretKey) & {
  /** Start of its epoch, ms since 1970. */
  validFrom: number;
  /** End of its epoch, ms since 1970. */
  validUntil: number;
};

/** An issuer whose tokens a gate accepts. */
export interface TokenIssuerSource {
  /**
   * The issuer's name and its published keys.
   *
   * @returns name and keys (current, possibly previous and next)
   */
  keys(): Promise<{ issuerName: string; keys: AcceptedKey[] }>;
}

/** The issuer role on this node (same operator: type-1 keys verify with their secret). */
export function localIssuerSource(
  issuer: { issuerName(): string; liveKeys(): TokenSecretKey[] },
  epochSeconds: number,
): TokenIssuerSource {
  return {
    keys: () =>
      Promise.resolve({
        issuerName: issuer.issuerName(),
        keys: issuer.liveKeys().map((k) => ({
          ...k,
          validFrom: k.epoch * epochSeconds * 1000,
          validUntil: (k.epoch + 1) * epochSeconds * 1000,
        })),
      }),
  };
}

/** Where a remote issuer's signed descriptor comes from. */
export interface RemoteIssuerOptions {
  /** The issuer's URL ("" = look it up in the directory). */
  url: string;
  /** The issuer's identity key (its descriptor must be signed by it). */
  identity: Uint8Array;
  /** Directory client, used when `url` is empty. */
  directory?: () => NodeClient | undefined;
  /** Directory key that must sign the topology (undefined = any). */
  directoryKey?: Uint8Array | undefined;
}

/**
 * An issuer on another node: its token keys are read from its signed descriptor
 * (`GET /v1/info`, or the directory's topology) and cached until the current key
 * expires (at most a minute).
 *
 * @param options URL or directory, and the issuer identity
 * @returns the source
 * @example
 * ```ts ignore
 * const source = remoteIssuerSource({ url: "http://issuer:8470", identity });
 * ```
 */
export function remoteIssuerSource(options: RemoteIssuerOptions): TokenIssuerSource {
  let cache: { until: number; value: { issuerName: string; keys: AcceptedKey[] } } | undefined;
  const descriptor = async (): Promise<NodeDescriptor> => {
    if (options.url) {
      const d = readDescriptor(
        await new NodeClient(options.url, { timeoutMs: 10_000 }).getJson("/v1/info"),
        "issuer descriptor",
      );
      verifyDescriptor(d);
      return d;
    }
    const client = options.directory?.();
    if (!client) {
      throw new PanoramixError("config", "Issuer has no URL and no directory is configured");
    }
    const t = readTopology(await client.getJson("/v1/directory/topology"), "topology");
    verifyTopology(t, options.directoryKey);
    const d = t.nodes.find((n) => n.identity.every((b, i) => b === options.identity[i]));
    if (!d) throw new PanoramixError("unavailable", "Issuer is not in the directory's topology");
    return d;
  };
  return {
    async keys() {
      const now = Date.now();
      if (cache && now < cache.until) return cache.value;
      const d = await descriptor();
      if (!d.identity.every((b, i) => b === options.identity[i])) {
        throw new PanoramixError(
          "verification_failed",
          "Issuer descriptor is signed by another identity",
        );
      }
      const keys: AcceptedKey[] = [];
      let issuerName = "";
      for (const k of d.tokenKeys ?? []) {
        issuerName = k.issuerName;
        keys.push({
          type: readTokenType(k.type, "tokenKeys.type"),
          epoch: k.epoch,
          publicKey: k.publicKey,
          tokenKeyId: await tokenKeyIdOf(k.publicKey),
          validFrom: k.validFrom,
          validUntil: k.validUntil,
        });
      }
      if (keys.length === 0) {
        throw new PanoramixError("unavailable", `Node '${d.name}' publishes no token keys`);
      }
      // Keep keys seen before (the previous epoch's key leaves the descriptor at rotation).
      const old =
        cache?.value.keys.filter((o) =>
          !keys.some((k) => k.epoch === o.epoch) && o.validUntil > now - 3_600_000
        ) ?? [];
      const current = keys.find((k) => k.validFrom <= now && now < k.validUntil);
      const value = { issuerName, keys: [...old, ...keys] };
      cache = { until: Math.min(now + 60_000, current?.validUntil ?? now + 5_000), value };
      return value;
    },
  };
}

/** Options of {@linkcode TokenGate}. */
export interface TokenGateOptions {
  /** The node store (spent tokens). */
  store: Store;
  /** This node's origin name (read when a challenge is made). */
  origin: () => string;
  /** Accepted issuers. */
  issuers: TokenIssuerSource[];
  /** Seconds into an epoch during which the previous epoch's tokens still count. */
  graceSeconds: number;
  /** Metrics. */
  metrics: MetricsRegistry;
  /** Logger. */
  logger: Logger;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** A token the gate admitted, with the end of its key's epoch. */
export interface AdmittedToken extends VerifiedToken {
  /** End of the token key's epoch, ms since 1970 (a session it buys ends here). */
  validUntil: number;
}

/** A group of redeemed tokens to settle. */
export interface PendingSettlement extends Settlement {
  /** When the tokens' epoch ended (ms). */
  validUntil: number;
}

/** Unsettled spent tokens are kept this long after their epoch (a board may be down). */
const KEEP_UNSETTLED_MS = 30 * 24 * 3600 * 1000;
/** How often redemption also prunes finished epochs. */
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/** Privacy Pass redemption for a node's routes. */
export class TokenGate {
  #o: TokenGateOptions;
  #now: () => number;
  #lastPrune = 0;

  /**
   * Creates the gate and its tables.
   *
   * @param options store, origin, issuers, grace period, metrics, logger
   */
  constructor(options: TokenGateOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    const { store, metrics } = options;
    store.write(() =>
      store.db.exec(`
      CREATE TABLE IF NOT EXISTS token_spent (
        token_key_id BLOB NOT NULL, nonce BLOB NOT NULL, epoch INTEGER NOT NULL,
        issuer_name TEXT NOT NULL, origin TEXT NOT NULL, valid_until INTEGER NOT NULL,
        service TEXT NOT NULL,
        token BLOB NOT NULL, time INTEGER NOT NULL,
        PRIMARY KEY (token_key_id, nonce)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS token_spent_epoch ON token_spent (valid_until);
      CREATE TABLE IF NOT EXISTS token_settled (
        token_key_id BLOB NOT NULL, origin TEXT NOT NULL, epoch INTEGER NOT NULL,
        count INTEGER NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL,
        PRIMARY KEY (token_key_id, origin)) WITHOUT ROWID;`)
    );
    metrics.gauge(
      "panoramix_token_spent",
      "Spent tokens held (unsettled and recent epochs)",
      () => (store.db.prepare("SELECT COUNT(*) AS n FROM token_spent").get() as { n: number }).n,
    );
  }

  async #accepted(): Promise<
    { issuerName: string; keys: AcceptedKey[]; current: AcceptedKey[] }[]
  > {
    const now = this.#now();
    const grace = this.#o.graceSeconds * 1000;
    const out = [];
    for (const source of this.#o.issuers) {
      const { issuerName, keys } = await source.keys();
      const live = keys.filter((k) => k.validFrom <= now && now < k.validUntil + grace);
      out.push({
        issuerName,
        keys: live,
        current: live.filter((k) => now < k.validUntil),
      });
    }
    return out;
  }

  /**
   * The `WWW-Authenticate` value: one PrivateToken challenge per accepted issuer,
   * for this origin and the issuer's current epoch.
   *
   * @returns the header value
   * @throws {HttpError} 503 when no issuer key is available
   */
  async challenge(): Promise<string> {
    let accepted;
    try {
      accepted = await this.#accepted();
    } catch (error) {
      this.#o.logger.log("warn", "token_issuer_unavailable", { error });
      throw new HttpError(503, "unavailable", "Token issuer keys are unavailable; retry later");
    }
    const parts: string[] = [];
    for (const a of accepted) {
      for (const k of a.current) {
        parts.push(challengeHeader(
          epochChallenge({
            type: k.type,
            issuerName: a.issuerName,
            origin: this.#o.origin(),
            epoch: k.epoch,
          }),
          k,
        ));
      }
    }
    if (parts.length === 0) {
      throw new HttpError(503, "unavailable", "No token issuer key is valid now; retry later");
    }
    return parts.join(", ");
  }

  async #refuse(service: string, reason: string, message: string): Promise<never> {
    this.#o.metrics.counter("panoramix_token_refused_total", "Requests refused by the token gate")
      .inc(1, { service, reason });
    throw new HttpError(401, reason, message, { "www-authenticate": await this.challenge() });
  }

  /**
   * Admits a request: verifies its token and commits it as spent. Call before any
   * other work of the handler.
   *
   * @param request the HTTP request (its Authorization header)
   * @param service the service name (metrics, spent-token records)
   * @returns the verified token and the end of its epoch
   * @throws {HttpError} 401 with a fresh challenge when the token is missing, invalid or spent
   */
  async admit(request: Request, service: string): Promise<AdmittedToken> {
    const header = request.headers.get("authorization");
    if (header === null || !/^\s*PrivateToken\s/i.test(header)) {
      return await this.#refuse(
        service,
        "token_required",
        `Service '${service}' requires a Privacy Pass token (Authorization: PrivateToken)`,
      );
    }
    const origin = this.#o.origin();
    let verified: VerifiedToken;
    let accepted: AcceptedKey;
    let issuerName: string;
    try {
      const token = readAuthorizationHeader(header);
      const issuers = await this.#accepted();
      const keyId = token.slice(66, 98); // type(2) nonce(32) challenge_digest(32) token_key_id(32)
      const match = issuers.find((a) => a.keys.some((k) => equal(k.tokenKeyId, keyId))) ??
        issuers[0];
      if (!match) throw new HttpError(503, "unavailable", "No token issuer is configured");
      verified = await verifyToken(token, {
        origin,
        issuerName: match.issuerName,
        keys: match.keys,
        epochs: match.keys.map((k) => k.epoch),
      });
      issuerName = match.issuerName;
      accepted = match.keys.find((k) => equal(k.tokenKeyId, verified.tokenKeyId))!;
    } catch (error) {
      if (error instanceof HttpError) throw error;
      if (!(error instanceof PanoramixError)) throw error;
      return await this.#refuse(service, "token_invalid", `Token refused: ${error.message}`);
    }
    const { store } = this.#o;
    const fresh = store.write(() =>
      store.db.prepare(
        "INSERT OR IGNORE INTO token_spent (token_key_id, nonce, epoch, issuer_name, origin, valid_until, service, token, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(
        verified.tokenKeyId,
        verified.nonce,
        verified.epoch,
        issuerName,
        origin,
        accepted.validUntil,
        service,
        verified.token,
        this.#now(),
      ).changes === 1
    );
    if (!fresh) {
      return await this.#refuse(
        service,
        "token_spent",
        new ReplayError(
          `Token refused: it was already spent in epoch ${verified.epoch} (double spend)`,
        ).message,
      );
    }
    // The spent record is on disk before the request is admitted.
    await store.commit();
    if (this.#now() - this.#lastPrune > PRUNE_INTERVAL_MS) {
      this.#lastPrune = this.#now();
      this.prune();
    }
    this.#o.metrics.counter("panoramix_token_redeemed_total", "Tokens redeemed").inc(1, {
      service,
    });
    return { ...verified, validUntil: accepted.validUntil };
  }

  /**
   * Redeemed tokens of finished epochs that were not settled yet.
   *
   * @param now time in ms (default the clock)
   * @returns one group per issuer key
   */
  pendingSettlements(now = this.#now()): PendingSettlement[] {
    const grace = this.#o.graceSeconds * 1000;
    const rows = this.#o.store.db.prepare(
      `SELECT s.token_key_id AS id, s.epoch AS epoch, s.issuer_name AS issuer, s.origin AS origin,
         s.valid_until AS until, s.token AS token
       FROM token_spent s LEFT JOIN token_settled d
         ON d.token_key_id = s.token_key_id AND d.origin = s.origin
       WHERE d.token_key_id IS NULL AND s.valid_until + ? <= ? ORDER BY s.token_key_id, s.time`,
    ).all(grace, now) as {
      id: Uint8Array;
      epoch: number;
      issuer: string;
      origin: string;
      until: number;
      token: Uint8Array;
    }[];
    const groups = new Map<string, PendingSettlement>();
    for (const r of rows) {
      const k = `${toBase64Url(r.id)}/${r.origin}`;
      let g = groups.get(k);
      if (!g) {
        g = {
          issuerName: r.issuer,
          tokenKeyId: r.id,
          epoch: r.epoch,
          origin: r.origin,
          tokens: [],
          validUntil: r.until,
        };
        groups.set(k, g);
      }
      g.tokens.push(r.token);
    }
    return [...groups.values()];
  }

  /**
   * Records that a settlement was posted.
   *
   * @param s the settlement
   * @param seq the board sequence number of the post
   */
  async markSettled(s: Settlement, seq: number): Promise<void> {
    const { store } = this.#o;
    store.write(() =>
      store.db.prepare(
        "INSERT OR REPLACE INTO token_settled (token_key_id, origin, epoch, count, seq, time) VALUES (?, ?, ?, ?, ?, ?)",
      ).run(s.tokenKeyId, s.origin, s.epoch, s.tokens.length, seq, this.#now())
    );
    this.prune();
    await store.commit();
  }

  /**
   * The gate's own route: `GET /v1/token/challenge` answers 200 with the challenges in
   * `WWW-Authenticate` and as JSON, so a client can fetch tokens before its first request.
   *
   * @returns the routes
   */
  routes(): Route[] {
    return [{
      method: "GET",
      path: "/v1/token/challenge",
      handle: async () => {
        const header = await this.challenge();
        return jsonResponse({ challenge: header, origin: this.#o.origin() }, {
          headers: { "www-authenticate": header },
        });
      },
    }];
  }

  /**
   * Forgets spent tokens of finished epochs: settled ones at once, unsettled ones after
   * 30 days. Safe: a token of a finished epoch is refused by its epoch before the spent
   * table is consulted.
   *
   * @param now time in ms (default the clock)
   * @returns the number of records removed
   */
  prune(now = this.#now()): number {
    const { store } = this.#o;
    const over = now - this.#o.graceSeconds * 1000;
    return store.write(() =>
      Number(
        store.db.prepare(
          `DELETE FROM token_spent WHERE valid_until <= ? AND (valid_until <= ? OR EXISTS (
             SELECT 1 FROM token_settled d
             WHERE d.token_key_id = token_spent.token_key_id AND d.origin = token_spent.origin))`,
        ).run(over, over - KEEP_UNSETTLED_MS).changes,
      )
    );
  }

  /**
   * Counts spent tokens.
   *
   * @returns spent tokens held
   */
  spentCount(): number {
    return (this.#o.store.db.prepare("SELECT COUNT(*) AS n FROM token_spent").get() as {
      n: number;
    })
      .n;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Puts a route behind the gate: the handler runs only after a token was admitted.
 *
 * @param route the route
 * @param gate the gate
 * @param options the service name, and which requests need a token (default all)
 * @returns the gated route
 * @example
 * ```ts ignore
 * routes = routes.map((r) => r.path === "/v1/x" ? gateRoute(r, gate, { service: "x" }) : r);
 * ```
 */
export function gateRoute(
  route: Route,
  gate: TokenGate,
  options: { service: string; applies?: (req: RouteRequest) => boolean },
): Route {
  return {
    ...route,
    async handle(req) {
      if (!options.applies || options.applies(req)) await gate.admit(req.request, options.service);
      return await route.handle(req);
    },
  };
}

/** Services of the existing roles that a node can put behind its gate. */
export const GATED_ROUTES: Readonly<
  Record<string, { method: string; path: string; applies?: (req: RouteRequest) => boolean }>
> = {
  // Inputs posted into open jobs (ballots, survey reports from outsiders); admins'
  // and mixers' posts are authorised by identity and need no token.
  "board.inputs": {
    method: "POST",
    path: "/v1/board/posts",
    applies: (req) => {
      try {
        return readPost(decodeBody(req), "post").type === "inputs";
      } catch {
        return false; // the handler rejects a malformed post with a clear error
      }
    },
  },
  // A mailbox owner fetching its delivered messages (signed by the mailbox key, docs/message.md).
  // A provider's own users rather use "provider.send" (a token buys a batch of packets).
  "sphinx.mailbox": { method: "POST", path: "/v1/mailbox/fetch" },
  // Not here: services whose role admits the token itself, after checking the request,
  // so that a malformed request spends no token (see `serviceGate`): "survey.reports"
  // (POST /v1/surveys/:survey/reports, the survey collector), "provider.send" and
  // "provider.register" (POST /v1/provider/packets and /v1/provider/register, cli/node/provider.ts).
};

/**
 * Gates the routes whose service is listed in `services` (see {@linkcode GATED_ROUTES}).
 *
 * @param routes the node's routes
 * @param gate the gate
 * @param services service names from `tokens.services`
 * @returns the routes, gated where configured
 * @example
 * ```ts ignore
 * routes = gateNodeRoutes(routes, gate, config.tokens.services);
 * ```
 */
export function gateNodeRoutes(routes: Route[], gate: TokenGate, services: string[]): Route[] {
  return routes.map((r) => {
    const entry = Object.entries(GATED_ROUTES).find(([name, g]) =>
      services.includes(name) && g.method === r.method && g.path === r.path
    );
    if (!entry) return r;
    const [service, g] = entry;
    return gateRoute(r, gate, { service, ...(g.applies ? { applies: g.applies } : {}) });
  });
}

/**
 * Whether a service requires tokens on this node (for roles that gate their own routes).
 *
 * @param config the node config
 * @param service the service name, e.g. "provider.send" or "survey.reports"
 * @returns true when `tokens.services` lists it
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * import { serviceNeedsToken } from "./token_gate.ts";
 * console.assert(!serviceNeedsToken(defaultConfig(), "survey.reports"));
 * ```
 */
export function serviceNeedsToken(config: NodeConfig, service: string): boolean {
  return config.tokens.services.includes(service);
}

/**
 * Creates the gate of a node from its config, or undefined when no service needs tokens.
 *
 * @param config the node config
 * @param deps store, metrics, logger, the node URL, the local issuer, the directory
 * @returns the gate
 * @example
 * ```ts ignore
 * const gate = tokenGateFor(config, { store, metrics, logger, selfUrl, localIssuer, directoryClient });
 * ```
 */
export function tokenGateFor(
  config: NodeConfig,
  deps: {
    store: Store;
    metrics: MetricsRegistry;
    logger: Logger;
    selfUrl: () => string;
    localIssuer: { issuerName(): string; liveKeys(): TokenSecretKey[] } | undefined;
    directoryClient: () => NodeClient | undefined;
  },
): TokenGate | undefined {
  if (config.tokens.services.length === 0) return undefined;
  const issuers: TokenIssuerSource[] = config.tokens.issuers.map((i) =>
    remoteIssuerSource({
      url: i.url,
      identity: fromBase64Url(i.key, "tokens.issuers.key"),
      directory: deps.directoryClient,
      directoryKey: config.directoryKey
        ? fromBase64Url(config.directoryKey, "directoryKey")
        : undefined,
    })
  );
  if (deps.localIssuer) {
    issuers.unshift(localIssuerSource(deps.localIssuer, config.issuer.epochSeconds));
  }
  return new TokenGate({
    store: deps.store,
    origin: () => config.tokens.origin || new URL(deps.selfUrl()).host,
    issuers,
    graceSeconds: config.tokens.graceSeconds,
    metrics: deps.metrics,
    logger: deps.logger.child({ role: "tokens" }),
  });
}

/** A gate bound to one service, for a role that admits tokens inside its handler. */
export interface ServiceGate {
  /** The service name (metrics, spent-token records). */
  readonly service: string;
  /**
   * Verifies the request's token and commits it as spent (see {@linkcode TokenGate.admit}).
   *
   * @param request the HTTP request
   * @returns the verified token and the end of its epoch
   * @throws {HttpError} 401 with a fresh challenge when the token is missing, invalid or spent
   */
  admit(request: Request): Promise<AdmittedToken>;
}

/**
 * The gate of one service when the node's `tokens.services` lists it, for roles that
 * admit tokens in their own handlers: the handler checks the request first (a
 * malformed request gets its 4xx and spends no token), then calls `admit`, then does
 * its work. Used by the survey collector ("survey.reports").
 *
 * @param gate the node's gate (`ctx.tokenGate`)
 * @param config the node config
 * @param service the service name
 * @returns the bound gate, or undefined when the service needs no token
 * @example
 * ```ts ignore
 * const tokens = serviceGate(ctx.tokenGate, ctx.config, "survey.reports");
 * if (tokens) await tokens.admit(req.request);
 * ```
 */
export function serviceGate(
  gate: TokenGate | undefined,
  config: NodeConfig,
  service: string,
): ServiceGate | undefined {
  if (!gate || !serviceNeedsToken(config, service)) return undefined;
  return { service, admit: (request) => gate.admit(request, service) };
}
