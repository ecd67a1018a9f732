/**
 * Runs a node: opens its storage and identity, starts the roles named in the
 * config, serves the HTTP API (plus `/metrics`, `/v1/health`, `/v1/info`), registers
 * with the directory, and stops gracefully (stop accepting, drain in-flight work,
 * commit, close).
 *
 * @module
 */

import { fromBase64Url, toBase64Url } from "../../core/bytes.ts";
import type { Envelope } from "../../core/envelope.ts";
import { toJsonView } from "../../core/envelope.ts";
import { ConfigError } from "../../core/errors.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import { backendByName as registryLookup } from "../backends.ts";
import { readAnyEnvelopeFile } from "../files.ts";
import { prepareBackend } from "./backends.ts";
import { BulletinBoard } from "./board.ts";
import { CascadeMixer } from "./cascade.ts";
import { NodeClient } from "./client.ts";
import type { NodeConfig } from "./config.ts";
import { descriptorToEnvelope, type EpochKey, signDescriptor } from "./descriptor.ts";
import { checkDirectoryOperators, Directory } from "./directory.ts";
import { jsonResponse } from "./http_error.ts";
import { type Identity, identityFromEnvelope } from "./identity.ts";
import { createLogger, type Logger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { boardRoutes, directoryRoutes } from "./routes.ts";
import { createHandler, type Route } from "./server.ts";
import { webRoutes } from "../web/routes.ts";
import { OnlineBallotBoxes, onlineBoxRoutes } from "../vote/online_box.ts";
import { Store } from "./storage.ts";
import { surveyService } from "./survey_collector.ts";
import { gateNodeRoutes, type TokenGate, tokenGateFor } from "./token_gate.ts";
import { createTokenIssuer, type TokenIssuer } from "./token_issuer.ts";
import { settlementService } from "./token_settlement.ts";
import type { PublishedTokenKey } from "./descriptor.ts";
import { serveGuarded } from "./http_front.ts";
import { healthResponse, httpConnectionLimits, nodeHealth } from "./health.ts";
import { watchEventLoop } from "./event_loop.ts";

/** A part of a node that runs in the background (cascade mixer, Sphinx mix). */
export interface NodeService {
  /** Routes it adds to the HTTP API. */
  routes?: Route[];
  /** Epoch keys to publish in the descriptor. */
  epochKeys?: () => EpochKey[];
  /** Address for Sphinx packets, if any. */
  sphinxAddress?: () => string;
  /** Privacy Pass issuer keys to publish in the descriptor. */
  tokenKeys?: () => PublishedTokenKey[];
  /** Starts it. */
  start(): void | Promise<void>;
  /** Stops it, draining in-flight work. */
  stop(): Promise<void>;
  /** Problems for `/v1/health` by component (e.g. a dead listener); empty when healthy. */
  health?: () => Record<string, string>;
}

/** Everything a role factory may use. */
export interface NodeServiceContext {
  /** The configuration. */
  config: NodeConfig;
  /** Storage. */
  store: Store;
  /** Node identity. */
  identity: Identity;
  /** Logger. */
  logger: Logger;
  /** Metrics. */
  metrics: MetricsRegistry;
  /** URL of this node's HTTP API. */
  selfUrl: () => string;
  /** Client of the directory (signed with the node identity), if one is configured. */
  directoryClient: () => NodeClient | undefined;
  /** Re-publishes the node descriptor (after a key rotation). */
  publish: () => Promise<void>;
  /** The token gate, when `tokens.services` is not empty (see token_gate.ts). */
  tokenGate?: TokenGate | undefined;
}

/** Creates the Sphinx mix service (registered by the sphinx module). */
export type SphinxServiceFactory = (ctx: NodeServiceContext) => Promise<NodeService>;

/** Options of {@linkcode startNode}. */
export interface StartNodeOptions {
  /** Logger (default JSON lines on stderr at the configured level). */
  logger?: Logger;
  /** Backend lookup (default the static registry). */
  backendByName?: (name: string) => AnyMixBackend;
  /** Factory of the Sphinx role; required when the config enables "sphinx". */
  sphinx?: SphinxServiceFactory;
}

/** A running node. */
export interface NodeHandle {
  /** The node identity. */
  identity: Identity;
  /** URL of the HTTP API (actual port). */
  url: string;
  /** Sphinx packet address host:port, or "" when not a Sphinx mix. */
  sphinxAddress: string;
  /** Metrics registry. */
  metrics: MetricsRegistry;
  /** The board, when this node is one. */
  board: BulletinBoard | undefined;
  /** The directory, when this node is one. */
  directory: Directory | undefined;
  /** Re-publishes the descriptor (after a key rotation). */
  publish(): Promise<void>;
  /** Stops gracefully. */
  stop(): Promise<void>;
  /** Resolves when the node has stopped. */
  finished: Promise<void>;
}

/**
 * Loads a node identity key file.
 *
 * @param path the file
 * @returns the identity
 * @throws {ConfigError} when the file is missing or readable by others
 * @example
 * ```ts ignore
 * const identity = await loadIdentity("/srv/node/identity.key.json");
 * ```
 */
export async function loadIdentity(path: string): Promise<Identity> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ConfigError(
        `Identity key file '${path}' does not exist; run 'panoramix node init'`,
      );
    }
    throw error;
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new ConfigError(
      `Identity key file '${path}' is readable by others (mode ${
        (info.mode & 0o777).toString(8)
      }); run chmod 600`,
    );
  }
  return identityFromEnvelope(await readAnyEnvelopeFile(path, new ReadableStream()), path);
}

/** How often a node re-publishes its descriptor to the directory. */
const PUBLISH_INTERVAL_MS = 10 * 60 * 1000;

function hostPort(addr: string): { hostname: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { hostname: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

/**
 * Starts a node from its configuration.
 *
 * @param config the validated configuration
 * @param options logger, backends and the Sphinx role factory
 * @returns the running node
 * @example
 * ```ts ignore
 * const node = await startNode(await loadConfig("node.json"));
 * await node.stop();
 * ```
 */
export async function startNode(
  config: NodeConfig,
  options: StartNodeOptions = {},
): Promise<NodeHandle> {
  const logger = options.logger ?? createLogger({ level: config.logLevel }).child({
    node: config.name,
  });
  const lookup = options.backendByName ?? registryLookup;
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const identity = await loadIdentity(config.identityKeyFile);
  const store = new Store(`${config.dataDir}/node.sqlite`);
  await Deno.chmod(`${config.dataDir}/node.sqlite`, 0o600);
  store.quickCheck(`${config.dataDir}/node.sqlite`); // issue 11 §12: refuse a damaged store
  const metrics = new MetricsRegistry();
  const routes: Route[] = [];
  const services: NodeService[] = [];
  let url = "";

  let board: BulletinBoard | undefined;
  if (config.roles.includes("board")) {
    board = new BulletinBoard({
      store,
      identity,
      admins: config.board.admins.map((k) => fromBase64Url(k, "board.admins")),
      headFile: `${config.dataDir}/board.head`,
      maxInputsPerSubmitter: config.board.maxInputsPerSubmitter,
      maxMixPartBytes: config.board.maxMixPartBytes,
      backendByName: lookup,
      logger: logger.child({ role: "board" }),
      metrics,
    });
    routes.push(...boardRoutes(board));
    const admins = config.board.admins.map((k) => fromBase64Url(k, "board.admins"));
    routes.push(...onlineBoxRoutes(new OnlineBallotBoxes({ store }), { admins }));
  }
  let directory: Directory | undefined;
  if (config.roles.includes("directory")) {
    checkDirectoryOperators(config, logger);
    directory = new Directory({
      store,
      identity,
      operators: config.directory.operators.map((k) => fromBase64Url(k, "directory.operators")),
      ttlSeconds: config.directory.descriptorTtlSeconds,
      maxNodes: config.directory.maxNodes,
      skewSeconds: config.limits.authWindowSeconds,
      logger: logger.child({ role: "directory" }),
      metrics,
    });
    routes.push(...directoryRoutes(directory));
  }
  const directoryUrl = () => config.directoryUrl || (config.roles.includes("directory") ? url : "");
  const directoryClient = () => {
    const u = directoryUrl();
    return u ? new NodeClient(u, { identity }) : undefined;
  };
  const ctx: NodeServiceContext = {
    config,
    store,
    identity,
    logger,
    metrics,
    selfUrl: () => url,
    directoryClient,
    publish: () => publish(),
  };
  let tokenIssuer: TokenIssuer | undefined;
  if (config.roles.includes("issuer")) {
    tokenIssuer = createTokenIssuer(ctx);
    services.push(tokenIssuer);
  }
  ctx.tokenGate = tokenGateFor(config, {
    store,
    metrics,
    logger,
    selfUrl: () => url,
    localIssuer: tokenIssuer,
    directoryClient,
  });
  if (ctx.tokenGate && config.tokens.settle) {
    const settler = settlementService(ctx, ctx.tokenGate, board);
    if (settler) services.push(settler);
  }
  if (config.roles.includes("cascade")) {
    const boardUrl = () => config.boardUrl || (config.roles.includes("board") ? url : "");
    if (!config.boardUrl && !config.roles.includes("board")) {
      throw new ConfigError("Config option 'boardUrl' is required for the cascade role");
    }
    // The board URL may be this node's, known only once the server listens.
    let mixer: CascadeMixer | undefined;
    services.push({
      start() {
        mixer = new CascadeMixer({
          store,
          identity,
          boardUrl: boardUrl(),
          pollIntervalMs: config.cascade.pollIntervalMs,
          mixPartItems: config.cascade.mixPartItems,
          inputPage: config.cascade.inputPage,
          backendByName: lookup,
          ...(options.backendByName
            ? {}
            : { prepareBackend: (name: string) => prepareBackend(name, store) }),
          mixKey: async (name): Promise<Envelope | undefined> => {
            const file = config.cascade.mixKeys[name];
            return file ? await readAnyEnvelopeFile(file, new ReadableStream()) : undefined;
          },
          logger: logger.child({ role: "cascade" }),
          metrics,
        });
        mixer.start();
      },
      async stop() {
        await mixer?.stop();
      },
    });
  }
  if (config.roles.includes("sphinx")) {
    if (!options.sphinx) {
      throw new ConfigError("The Sphinx role is not available in this build");
    }
    services.push(await options.sphinx(ctx));
  }
  if (config.roles.includes("survey")) {
    if (!config.boardUrl && !config.roles.includes("board")) {
      throw new ConfigError("Config option 'boardUrl' is required for the survey role");
    }
    services.push(await surveyService(ctx, () => config.boardUrl || url));
  }
  for (const s of services) routes.push(...(s.routes ?? []));
  if (ctx.tokenGate) {
    routes.splice(
      0,
      routes.length,
      ...gateNodeRoutes(routes, ctx.tokenGate, config.tokens.services),
    );
    routes.push(...ctx.tokenGate.routes());
  }

  let publish = async (): Promise<void> => {};
  const descriptor = () =>
    signDescriptor(identity, {
      name: config.name,
      roles: config.roles,
      httpUrl: url,
      sphinxAddress: services.map((s) => s.sphinxAddress?.() ?? "").find((a) => a) ?? "",
      epochKeys: services.flatMap((s) => s.epochKeys?.() ?? []),
      time: Date.now(),
      ...(tokenIssuer ? { tokenKeys: services.flatMap((s) => s.tokenKeys?.() ?? []) } : {}),
    });
  routes.push(
    ...webRoutes(),
    {
      method: "GET",
      path: "/v1/health",
      handle: () => healthResponse(nodeHealth(server, store, services)),
    },
    {
      method: "GET",
      path: "/v1/info",
      handle: () => jsonResponse(toJsonView(descriptorToEnvelope(descriptor()))),
    },
    {
      method: "GET",
      path: "/metrics",
      handle: () =>
        new Response(metrics.render(), {
          headers: { "content-type": "text/plain; version=0.0.4" },
        }),
    },
  );

  const handler = createHandler({
    routes,
    requestsPerSecond: config.limits.requestsPerSecond,
    burst: config.limits.burst,
    maxBodyBytes: config.limits.maxBodyBytes,
    authWindowSeconds: config.limits.authWindowSeconds,
    headerTimeoutMs: config.limits.headerTimeoutMs,
    minBodyBytesPerSecond: config.limits.minBodyBytesPerSecond,
    maxBodyBytesInFlight: config.limits.maxBodyBytesInFlight,
    logger,
    metrics,
  });
  const listen = hostPort(config.httpListen);
  const server = serveGuarded({
    hostname: listen.hostname,
    port: listen.port,
    limits: httpConnectionLimits(config),
    logger,
    metrics,
    onError: (error) => {
      logger.log("error", "http_error", { error });
      return jsonResponse({ error: "internal", message: "Internal error" }, { status: 500 });
    },
  }, handler);
  const addr = server.addr as Deno.NetAddr;
  url = config.publicUrl || `http://${addr.hostname}:${addr.port}`;
  for (const s of services) await s.start();

  publish = async () => {
    const client = directoryClient();
    if (!client) return;
    const d = descriptor();
    if (directory) await directory.register(d, identity.publicKey);
    else await client.postEnvelope("/v1/directory/descriptors", descriptorToEnvelope(d));
  };
  // The directory may come up after this node: retry every 5 s until the first success.
  let retry: ReturnType<typeof setTimeout> | undefined;
  const firstPublish = async (): Promise<void> => {
    try {
      await publish();
    } catch (error) {
      logger.log("warn", "publish_failed", { error });
      retry = setTimeout(firstPublish, 5000);
      Deno.unrefTimer(retry);
    }
  };
  await firstPublish();
  logger.log("info", "node_started", {
    url,
    roles: config.roles,
    identity: toBase64Url(identity.publicKey),
    sphinx: services.map((s) => s.sphinxAddress?.() ?? "").find((a) => a) ?? "",
  });

  // Refresh the descriptor well within the directory's TTL (default 2 h).
  const refresh = setInterval(() => {
    publish().catch((error) => logger.log("warn", "publish_failed", { error }));
  }, PUBLISH_INTERVAL_MS);
  Deno.unrefTimer(refresh);
  const stopLoopProbe = watchEventLoop(metrics, logger); // issue 11 §10: stalls are measured
  let stopping: Promise<void> | undefined;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => (resolveFinished = r));
  const stop = () => {
    stopping ??= (async () => {
      logger.log("info", "node_stopping", {});
      clearInterval(refresh);
      clearTimeout(retry);
      stopLoopProbe();
      for (const s of services) await s.stop();
      await server.shutdown();
      await store.commit();
      store.close();
      logger.log("info", "node_stopped", {});
      resolveFinished();
    })();
    return stopping;
  };
  return {
    identity,
    url,
    get sphinxAddress() {
      return services.map((s) => s.sphinxAddress?.() ?? "").find((a) => a) ?? "";
    },
    metrics,
    board,
    directory,
    publish: () => publish(),
    stop,
    finished,
  };
}
