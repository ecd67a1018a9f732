/**
 * The node configuration file (JSON). Every option has a default and a one-line
 * meaning in {@linkcode CONFIG_DOCS}; `panoramix node init` writes them as a
 * `"_comments"` map beside the values. Keys starting with "_" are ignored, unknown
 * keys are errors (a typo must not silently fall back to a default).
 * Relative paths are relative to the directory of the config file.
 *
 * @module
 */

import { ConfigError, PanoramixError } from "../../core/errors.ts";
import {
  defaultSurveySection,
  parseSurveyRuns,
  SURVEY_CONFIG_DOCS,
  type SurveySectionConfig,
} from "./survey_config.ts";

/** Roles a node can run, any combination. */
export type NodeRole =
  | "board"
  | "directory"
  | "cascade"
  | "sphinx"
  | "survey"
  | "issuer"
  | "provider";

/** All roles. */
export const NODE_ROLES: readonly NodeRole[] = [
  "board",
  "directory",
  "cascade",
  "sphinx",
  "survey",
  "issuer",
  "provider",
];

/** A parsed, validated configuration with every default filled in. */
export interface NodeConfig {
  /** Human-readable node name. */
  name: string;
  /** Roles this node runs. */
  roles: NodeRole[];
  /** Directory for the database and epoch keys (absolute after loading). */
  dataDir: string;
  /** Identity key file (absolute after loading). */
  identityKeyFile: string;
  /** HTTP listen address host:port (port 0 picks a free port). */
  httpListen: string;
  /** URL other nodes and clients use to reach this node's HTTP API ("" = derived from httpListen). */
  publicUrl: string;
  /** URL of the bulletin board ("" when this node is the board or uses none). */
  boardUrl: string;
  /** URL of the directory ("" when this node is the directory or uses none). */
  directoryUrl: string;
  /** Directory identity key (base64url) that must sign topologies ("" = accept any signer). */
  directoryKey: string;
  /** Log level. */
  logLevel: "debug" | "info" | "warn" | "error";
  /** Request limits. */
  limits: {
    /** Sustained requests per second per client (identity key or IP). */
    requestsPerSecond: number;
    /** Burst size per client. */
    burst: number;
    /** Largest request body in bytes. */
    maxBodyBytes: number;
    /** Accepted clock skew of authenticated requests, in seconds (the replay window). */
    authWindowSeconds: number;
    /** Most open HTTP connections in total (0 = derived from the open-file limit). */
    maxConnections: number;
    /** Most open HTTP connections from one address. */
    maxConnectionsPerAddress: number;
    /** A request head that has started must arrive within this time, in ms. */
    headerTimeoutMs: number;
    /** A connection with no request in flight and no traffic for this long is closed, in ms. */
    idleTimeoutMs: number;
    /** Slowest accepted request body, in bytes per second (after a grace of headerTimeoutMs). */
    minBodyBytesPerSecond: number;
    /** Most request-body bytes held by all requests at once; beyond it 503 with Retry-After. */
    maxBodyBytesInFlight: number;
  };
  /** Bulletin-board settings. */
  board: {
    /** Identity keys (base64url) allowed to create and close jobs. */
    admins: string[];
    /** Most inputs one outside submitter may post to one open job (0 = no limit). */
    maxInputsPerSubmitter: number;
    /** Largest body of one part of a mix posted in parts, in bytes (issue 17). */
    maxMixPartBytes: number;
  };
  /** Directory settings. */
  directory: {
    /** Identity keys (base64url) allowed to register; empty = any key (test networks only). */
    operators: string[];
    /** Seconds after which a descriptor that was not refreshed leaves the topology. */
    descriptorTtlSeconds: number;
    /** Accept descriptors from any key when `operators` is empty (test networks only). */
    openRegistration: boolean;
    /** Most descriptors held (at most 10,000, the topology limit); a new node beyond it is refused. */
    maxNodes: number;
  };
  /** Cascade mixer settings. */
  cascade: {
    /** How often to poll the board for work, in milliseconds. */
    pollIntervalMs: number;
    /** Key file per backend name used for mixing (absolute after loading); absent = the job's stage key. */
    mixKeys: Record<string, string>;
    /** Outputs per part of a re-encryption mix posted in parts (0 = as many as fit in 16 MiB). */
    mixPartItems: number;
    /** Items per request when the mixer reads its stage's batch from the board. */
    inputPage: number;
  };
  /** Sphinx mix settings. */
  sphinx: {
    /** TCP listen address host:port for packets (port 0 picks a free port). */
    listen: string;
    /** Address other nodes use ("" = derived from listen). */
    publicAddress: string;
    /** Length of a key epoch in seconds. */
    epochSeconds: number;
    /** How long a key stays valid after its epoch ends, in seconds (overlap for packets in flight). */
    overlapSeconds: number;
    /** Sphinx payload size in bytes (must match the network). */
    payloadSize: number;
    /** Largest number of packets held in the delay queue; beyond it packets are refused. */
    maxQueue: number;
    /** Largest per-hop delay honoured, in milliseconds (longer delays are clamped). */
    maxDelayMs: number;
    /** Sustained packets per second accepted per sending address. */
    packetsPerSecond: number;
    /** Packets a sending address may send at once. */
    packetBurst: number;
    /** Most open packet connections in total (0 = derived from the open-file limit). */
    maxConnections: number;
    /** Most open packet connections from one address. */
    maxConnectionsPerAddress: number;
    /** A packet connection with no traffic for this long is closed, in ms. */
    idleTimeoutMs: number;
    /** λ_M: loops per second this node sends through the layers back to itself (0 = none). */
    loopsPerSecond: number;
    /** Mean per-hop delay of this node's loops, in milliseconds. */
    loopMeanDelayMs: number;
    /** Accept packet connections only from the addresses of the topology's nodes. */
    nodesOnly: boolean;
  };
  /** Provider settings (messaging entry and exit; needs the sphinx role; docs/message.md). */
  provider: {
    /** Seconds a mailbox item is kept when its owner does not fetch and delete it. */
    mailboxTtlSeconds: number;
    /** Most items per mailbox. */
    quotaMessages: number;
    /** Most bytes per mailbox. */
    quotaBytes: number;
    /** Most registered users. */
    maxUsers: number;
    /** Number of mix layers of the stratified topology. */
    layers: number;
    /** Packets one Privacy Pass token buys when "provider.send" requires tokens (docs/token.md). */
    packetsPerToken: number;
  };
  /** Survey collector settings. */
  survey: SurveySectionConfig;
  /** Privacy Pass issuer settings (issuer role). */
  issuer: {
    /** Issuer name carried in challenges ("" = host:port of this node's URL). */
    name: string;
    /** Token type: 2 (blind RSA, publicly verifiable) or 1 (VOPRF, verified by this node only). */
    type: number;
    /** Length of an issuer key epoch in seconds. */
    epochSeconds: number;
    /** Identity keys (base64url) that may fetch tokens; empty = any signed identity. */
    allow: string[];
    /** Tokens one identity may fetch per epoch; 0 = no limit. */
    quotaPerEpoch: number;
  };
  /** Token redemption at this node's services. */
  tokens: {
    /** Services that require a token, e.g. "board.inputs", "sphinx.mailbox", "survey.reports"; empty = off. */
    services: string[];
    /** Origin name bound in challenges ("" = host:port of this node's URL). */
    origin: string;
    /** Accepted issuers: `{ "url": issuer URL or "" (find it in the directory), "key": identity }`. */
    issuers: { url: string; key: string }[];
    /** Seconds into an epoch during which tokens of the previous epoch are still accepted. */
    graceSeconds: number;
    /** Post a settlement record for each finished epoch to the board. */
    settle: boolean;
  };
}

/** The meaning of every option, written by `node init` as `_comments`. */
export const CONFIG_DOCS: Readonly<Record<string, string>> = {
  name: "Human-readable node name (shown in logs and the descriptor)",
  roles: "Roles to run, any of: board, directory, cascade, sphinx, survey, issuer, provider",
  dataDir: "Directory for node.sqlite (WAL) and epoch keys; relative to this file",
  identityKeyFile: "Ed25519 identity key file (mode 0600); relative to this file",
  httpListen: "HTTP listen address host:port; port 0 picks a free port",
  publicUrl: "URL others use to reach the HTTP API; empty = http://<httpListen>",
  boardUrl: "Bulletin board URL (cascade role); empty = this node when it is the board",
  directoryUrl: "Directory URL (sphinx role); empty = this node when it is the directory",
  directoryKey:
    "Directory identity key (base64url) that must sign topologies; empty = accept any signer (tests)",
  logLevel: "Log level: debug, info, warn, error (JSON lines on stderr)",
  "limits.requestsPerSecond": "Sustained requests per second per client (token bucket)",
  "limits.burst": "Requests a client may make at once (bucket size)",
  "limits.maxBodyBytes": "Largest request body in bytes; larger bodies get 413",
  "limits.authWindowSeconds": "Clock skew accepted on signed requests; also the replay window",
  "limits.maxConnections": "Most open HTTP connections; 0 = from the open-file limit (ulimit -n)",
  "limits.maxConnectionsPerAddress":
    "Most open HTTP connections per client address; the longest idle is closed first",
  "limits.headerTimeoutMs": "A request head (or Sphinx frame) must arrive within this many ms",
  "limits.idleTimeoutMs": "HTTP connections idle this many ms are closed",
  "limits.minBodyBytesPerSecond":
    "Slowest request body accepted, bytes/s (after headerTimeoutMs); slower gets 408",
  "limits.maxBodyBytesInFlight": "Most body bytes being received at once (all requests); then 503",
  "board.admins": "Identity keys (base64url) allowed to create and close jobs",
  "board.maxInputsPerSubmitter":
    "Most inputs one outside (non-admin) submitter may post to one open job; 0 = no limit",
  "directory.operators": "Identity keys allowed to register; empty = anyone (test networks only)",
  "directory.descriptorTtlSeconds": "Descriptors not refreshed within this time leave the topology",
  "directory.openRegistration":
    "true = anyone may register when operators is empty (test networks only); false = refuse to start",
  "directory.maxNodes": "Most descriptors held (<= 10000); new nodes beyond it are refused",
  "cascade.pollIntervalMs": "How often the cascade mixer polls the board, in ms",
  "cascade.mixKeys": "Map backend name -> key file used to mix (e.g. decrypt secret key)",
  "cascade.mixPartItems":
    "Outputs per part of a re-encryption mix posted in parts; 0 = as many as fit in 16 MiB",
  "board.maxMixPartBytes": "Largest body of one part of a mix posted in parts, in bytes",
  "cascade.inputPage": "Items per request when the mixer reads its stage's batch from the board",
  "sphinx.listen": "TCP listen address for Sphinx packets; port 0 picks a free port",
  "sphinx.publicAddress": "host:port others use to send packets; empty = sphinx.listen",
  "sphinx.epochSeconds": "Length of a Sphinx key epoch in seconds",
  "sphinx.overlapSeconds": "Seconds a key stays valid after its epoch (packets in flight)",
  "sphinx.payloadSize": "Sphinx payload bytes; every node of a network must agree",
  "sphinx.maxQueue": "Most packets held in the delay queue; beyond it packets are refused",
  "sphinx.maxDelayMs": "Largest per-hop delay honoured in ms; longer delays are clamped",
  "sphinx.packetsPerSecond": "Sustained packets per second accepted per sending address",
  "sphinx.packetBurst": "Packets a sending address may send at once (bucket size)",
  ...SURVEY_CONFIG_DOCS,
  "issuer.name": "Issuer name in token challenges; empty = host:port of this node's URL",
  "issuer.type": "Token type: 2 = blind RSA (publicly verifiable), 1 = VOPRF (this node verifies)",
  "issuer.epochSeconds": "Length of an issuer key epoch in seconds (keys rotate per epoch)",
  "issuer.allow": "Identity keys (base64url) that may fetch tokens; empty = any signed identity",
  "issuer.quotaPerEpoch": "Tokens one identity may fetch per epoch; 0 = no limit",
  "tokens.services":
    "Services that require a Privacy Pass token (board.inputs, sphinx.mailbox, survey.reports); empty = off",
  "tokens.origin": "Origin name bound in token challenges; empty = host:port of this node's URL",
  "tokens.issuers":
    'Accepted issuers: [{"url": "...", "key": "<identity>"}]; url "" = via directory',
  "tokens.graceSeconds": "Seconds into an epoch during which last epoch's tokens still count",
  "tokens.settle": "Post a settlement record per finished epoch to the board (boardUrl)",
  "sphinx.loopsPerSecond": "Mix loops λ_M per second (cover traffic back to this node); 0 = none",
  "sphinx.loopMeanDelayMs": "Mean per-hop delay of this node's loops in ms",
  "sphinx.nodesOnly":
    "Accept Sphinx packets only from the addresses of the topology's nodes (their sphinxAddress hosts)",
  "provider.mailboxTtlSeconds": "Seconds a mailbox item is kept when not fetched and deleted",
  "provider.quotaMessages": "Most items per mailbox; beyond it deliveries are refused (no ACK)",
  "provider.quotaBytes": "Most bytes per mailbox; beyond it deliveries are refused (no ACK)",
  "provider.maxUsers": "Most users registered with this provider",
  "provider.layers":
    "Mix layers of the stratified topology (routes: provider, one mix per layer, provider)",
  "provider.packetsPerToken":
    "Packets one token buys when tokens.services has provider.send (credit ends with the token's epoch)",
  "sphinx.maxConnections": "Most open packet connections; 0 = from the open-file limit",
  "sphinx.maxConnectionsPerAddress": "Most open packet connections per sending address",
  "sphinx.idleTimeoutMs": "Packet connections idle this many ms are closed",
};

/**
 * The defaults of every option.
 *
 * @returns a fresh default configuration (paths still relative)
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * console.assert(defaultConfig().sphinx.epochSeconds === 3600);
 * ```
 */
export function defaultConfig(): NodeConfig {
  return {
    name: "panoramix-node",
    roles: ["cascade"],
    dataDir: "data",
    identityKeyFile: "identity.key.json",
    httpListen: "127.0.0.1:8470",
    publicUrl: "",
    boardUrl: "",
    directoryUrl: "",
    directoryKey: "",
    logLevel: "info",
    limits: {
      requestsPerSecond: 100,
      burst: 500,
      maxBodyBytes: 64 * 1024 * 1024,
      authWindowSeconds: 120,
      maxConnections: 0,
      maxConnectionsPerAddress: 64,
      headerTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      minBodyBytesPerSecond: 65_536,
      maxBodyBytesInFlight: 256 * 1024 * 1024,
    },
    board: { admins: [], maxInputsPerSubmitter: 10_000, maxMixPartBytes: 16 * 1024 * 1024 },
    directory: {
      operators: [],
      descriptorTtlSeconds: 7200,
      openRegistration: false,
      maxNodes: 1000,
    },
    cascade: { pollIntervalMs: 500, mixKeys: {}, mixPartItems: 0, inputPage: 10_000 },
    sphinx: {
      listen: "127.0.0.1:8471",
      publicAddress: "",
      epochSeconds: 3600,
      overlapSeconds: 600,
      payloadSize: 1024,
      maxQueue: 1_000_000,
      maxDelayMs: 600_000,
      packetsPerSecond: 20_000,
      packetBurst: 50_000,
      loopsPerSecond: 0,
      loopMeanDelayMs: 50,
      maxConnections: 0,
      maxConnectionsPerAddress: 32,
      idleTimeoutMs: 600_000,
      nodesOnly: false,
    },
    provider: {
      mailboxTtlSeconds: 7 * 24 * 3600,
      quotaMessages: 100_000,
      quotaBytes: 256 * 1024 * 1024,
      maxUsers: 100_000,
      layers: 3,
      packetsPerToken: 16_384,
    },
    survey: defaultSurveySection(),
    issuer: { name: "", type: 2, epochSeconds: 3600, allow: [], quotaPerEpoch: 0 },
    tokens: { services: [], origin: "", issuers: [], graceSeconds: 60, settle: true },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function merge(target: Record<string, unknown>, source: unknown, path: string): void {
  if (!isRecord(source)) throw new ConfigError(`Config section '${path || "root"}' must be a map`);
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith("_")) continue;
    const where = path ? `${path}.${key}` : key;
    if (!(key in target)) throw new ConfigError(`Unknown config option '${where}'`);
    const current = target[key];
    if (isRecord(current) && where !== "cascade.mixKeys") {
      merge(current, value, where);
      continue;
    }
    const expected = Array.isArray(current) ? "array" : isRecord(current) ? "map" : typeof current;
    const actual = Array.isArray(value) ? "array" : isRecord(value) ? "map" : typeof value;
    if (expected !== actual) {
      throw new ConfigError(`Config option '${where}' must be a ${expected}, got a ${actual}`);
    }
    target[key] = value;
  }
}

function checkAddress(value: string, what: string): void {
  if (!/^[^:\s]+:\d{1,5}$/.test(value) || Number(value.split(":")[1]) > 65535) {
    throw new ConfigError(`Config option '${what}' must be host:port, got '${value}'`);
  }
}

function checkPositive(value: number, what: string, allowZero = false): void {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigError(`Config option '${what}' must be a positive number, got ${value}`);
  }
}

function resolvePath(base: string, p: string): string {
  if (p.startsWith("/")) return p;
  return `${base.replace(/\/+$/, "")}/${p}`;
}

/**
 * Validates a decoded config object, fills defaults and resolves paths.
 *
 * @param value the parsed JSON
 * @param baseDir directory relative paths are resolved against
 * @returns the configuration
 * @throws {ConfigError} naming the offending option
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const c = parseConfig({ roles: ["board"], _comments: {} }, "/srv/node");
 * console.assert(c.dataDir === "/srv/node/data");
 * ```
 */
export function parseConfig(value: unknown, baseDir: string): NodeConfig {
  const config = defaultConfig();
  merge(config as unknown as Record<string, unknown>, value, "");
  for (const role of config.roles) {
    if (!NODE_ROLES.includes(role)) {
      throw new ConfigError(
        `Config option 'roles' has unknown role '${String(role)}' (known: ${
          NODE_ROLES.join(", ")
        })`,
      );
    }
  }
  if (!["debug", "info", "warn", "error"].includes(config.logLevel)) {
    throw new ConfigError(`Config option 'logLevel' must be debug, info, warn or error`);
  }
  checkAddress(config.httpListen, "httpListen");
  checkAddress(config.sphinx.listen, "sphinx.listen");
  checkPositive(config.limits.requestsPerSecond, "limits.requestsPerSecond");
  checkPositive(config.limits.burst, "limits.burst");
  checkPositive(config.limits.maxBodyBytes, "limits.maxBodyBytes");
  checkPositive(config.limits.authWindowSeconds, "limits.authWindowSeconds");
  checkPositive(config.directory.descriptorTtlSeconds, "directory.descriptorTtlSeconds");
  checkPositive(config.directory.maxNodes, "directory.maxNodes");
  if (config.directory.maxNodes > 10_000) {
    throw new ConfigError("Config option 'directory.maxNodes' must be at most 10000");
  }
  checkPositive(config.cascade.pollIntervalMs, "cascade.pollIntervalMs");
  checkPositive(config.cascade.mixPartItems, "cascade.mixPartItems", true);
  checkPositive(config.cascade.inputPage, "cascade.inputPage");
  checkPositive(config.board.maxMixPartBytes, "board.maxMixPartBytes");
  checkPositive(config.sphinx.epochSeconds, "sphinx.epochSeconds");
  checkPositive(config.sphinx.overlapSeconds, "sphinx.overlapSeconds", true);
  checkPositive(config.sphinx.payloadSize, "sphinx.payloadSize");
  checkPositive(config.sphinx.maxQueue, "sphinx.maxQueue");
  checkPositive(config.sphinx.maxDelayMs, "sphinx.maxDelayMs", true);
  checkPositive(config.sphinx.packetsPerSecond, "sphinx.packetsPerSecond");
  checkPositive(config.sphinx.packetBurst, "sphinx.packetBurst");
  checkPositive(config.sphinx.loopsPerSecond, "sphinx.loopsPerSecond", true);
  checkPositive(config.sphinx.loopMeanDelayMs, "sphinx.loopMeanDelayMs", true);
  checkPositive(config.provider.mailboxTtlSeconds, "provider.mailboxTtlSeconds");
  checkPositive(config.provider.quotaMessages, "provider.quotaMessages");
  checkPositive(config.provider.quotaBytes, "provider.quotaBytes");
  checkPositive(config.provider.maxUsers, "provider.maxUsers");
  if (
    !Number.isSafeInteger(config.provider.packetsPerToken) || config.provider.packetsPerToken < 256
  ) {
    throw new ConfigError(
      `Config option 'provider.packetsPerToken' must be an integer ≥ 256 (one submission), got ${config.provider.packetsPerToken}`,
    );
  }
  if (
    !Number.isInteger(config.provider.layers) || config.provider.layers < 1 ||
    config.provider.layers > 3
  ) {
    throw new ConfigError(
      `Config option 'provider.layers' must be 1, 2 or 3 (routes have at most 5 hops), got ${config.provider.layers}`,
    );
  }
  if (config.roles.includes("provider") && !config.roles.includes("sphinx")) {
    throw new ConfigError("Role 'provider' needs the 'sphinx' role too (add it to 'roles')");
  }
  checkPositive(config.board.maxInputsPerSubmitter, "board.maxInputsPerSubmitter", true);
  checkPositive(config.limits.maxConnections, "limits.maxConnections", true);
  checkPositive(config.limits.maxConnectionsPerAddress, "limits.maxConnectionsPerAddress");
  checkPositive(config.limits.headerTimeoutMs, "limits.headerTimeoutMs");
  checkPositive(config.limits.idleTimeoutMs, "limits.idleTimeoutMs");
  checkPositive(config.limits.minBodyBytesPerSecond, "limits.minBodyBytesPerSecond");
  checkPositive(config.limits.maxBodyBytesInFlight, "limits.maxBodyBytesInFlight");
  checkPositive(config.sphinx.maxConnections, "sphinx.maxConnections", true);
  checkPositive(config.sphinx.maxConnectionsPerAddress, "sphinx.maxConnectionsPerAddress");
  checkPositive(config.sphinx.idleTimeoutMs, "sphinx.idleTimeoutMs");
  if (config.sphinx.overlapSeconds >= config.sphinx.epochSeconds) {
    throw new ConfigError(
      "Config option 'sphinx.overlapSeconds' must be below 'sphinx.epochSeconds'",
    );
  }
  for (
    const [name, list] of [["board.admins", config.board.admins], [
      "directory.operators",
      config.directory.operators,
    ]] as const
  ) {
    for (const key of list) {
      if (typeof key !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(key)) {
        throw new ConfigError(
          `Config option '${name}' holds '${String(key)}', not a base64url key`,
        );
      }
    }
  }
  checkPositive(config.survey.pollIntervalMs, "survey.pollIntervalMs");
  config.survey.surveys = parseSurveyRuns(config.survey.surveys, (p) => resolvePath(baseDir, p));
  checkTokenConfig(config);
  config.dataDir = resolvePath(baseDir, config.dataDir);
  config.identityKeyFile = resolvePath(baseDir, config.identityKeyFile);
  for (const [backend, file] of Object.entries(config.cascade.mixKeys)) {
    if (typeof file !== "string") {
      throw new ConfigError(`Config option 'cascade.mixKeys.${backend}' must be a file path`);
    }
    const advice = publicKeyMixingAdvice(backend);
    if (advice) throw new ConfigError(`Config option 'cascade.mixKeys.${backend}': ${advice}`);
    config.cascade.mixKeys[backend] = resolvePath(baseDir, file);
  }
  return config;
}

function checkTokenConfig(config: NodeConfig): void {
  if (config.issuer.type !== 1 && config.issuer.type !== 2) {
    throw new ConfigError(`Config option 'issuer.type' must be 1 or 2, got ${config.issuer.type}`);
  }
  checkPositive(config.issuer.epochSeconds, "issuer.epochSeconds");
  checkPositive(config.issuer.quotaPerEpoch, "issuer.quotaPerEpoch", true);
  checkPositive(config.tokens.graceSeconds, "tokens.graceSeconds", true);
  for (const key of config.issuer.allow) {
    if (typeof key !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(key)) {
      throw new ConfigError(
        `Config option 'issuer.allow' holds '${String(key)}', not a base64url key`,
      );
    }
  }
  for (const s of config.tokens.services) {
    if (typeof s !== "string" || !/^[a-z][a-z0-9_.-]*$/.test(s)) {
      throw new ConfigError(
        `Config option 'tokens.services' holds '${String(s)}', not a service name`,
      );
    }
  }
  config.tokens.issuers.forEach((i, n) => {
    const where = `tokens.issuers[${n}]`;
    if (!isRecord(i) || typeof i.url !== "string" || typeof i.key !== "string") {
      throw new ConfigError(`Config option '${where}' must be a map with 'url' and 'key'`);
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(i.key)) {
      throw new ConfigError(`Config option '${where}.key' holds '${i.key}', not a base64url key`);
    }
    if (i.url !== "" && !/^https?:\/\//.test(i.url)) {
      throw new ConfigError(`Config option '${where}.url' must be an http(s) URL or empty`);
    }
  });
  if (
    config.tokens.services.length > 0 && config.tokens.issuers.length === 0 &&
    !config.roles.includes("issuer")
  ) {
    throw new ConfigError(
      "Config option 'tokens.services' needs 'tokens.issuers' (or the issuer role on this node)",
    );
  }
}

/**
 * Why a backend takes no mixing key of the node's own, or undefined when it does. A
 * re-encryption mixer mixes under the public key the job names (an election's key, posted
 * with each job); giving it a generated key pair made it mix with a secret key and fail
 * every poll (issue 14).
 *
 * @param backend backend name
 * @returns the advice, or undefined when the backend mixes with a key of the node's own
 * @example
 * ```ts
 * import { publicKeyMixingAdvice } from "./config.ts";
 * console.assert(publicKeyMixingAdvice("decrypt") === undefined);
 * ```
 */
export function publicKeyMixingAdvice(backend: string): string | undefined {
  if (backend !== "reencrypt") return undefined;
  return `backend '${backend}' mixes under the public key each job names (for an election, ` +
    `the election key), so a mixer node needs no key of its own: drop --mix-key ${backend} ` +
    `(and cascade.mixKeys.${backend}); only 'decrypt' mixers hold a mixing key`;
}

/**
 * Reads and validates a config file.
 *
 * @param path the JSON file
 * @returns the configuration
 * @throws {ConfigError} when the file is missing, not JSON or invalid
 * @example
 * ```ts ignore
 * const config = await loadConfig("/etc/panoramix/node.json");
 * ```
 */
export async function loadConfig(path: string): Promise<NodeConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ConfigError(
        `Config file '${path}' does not exist; create it with 'panoramix node init'`,
      );
    }
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Config file '${path}' is not valid JSON: ${(error as Error).message}`);
  }
  const abs = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  const baseDir = abs.slice(0, abs.lastIndexOf("/")) || "/";
  try {
    return parseConfig(value, baseDir);
  } catch (error) {
    if (error instanceof PanoramixError) {
      throw new ConfigError(`Config file '${path}': ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Renders a configuration as the JSON text `node init` writes, with `_comments`.
 *
 * @param config values to write (paths as the user gave them)
 * @returns pretty JSON text
 * @example
 * ```ts
 * import { defaultConfig, renderConfig } from "./config.ts";
 * console.assert(JSON.parse(renderConfig(defaultConfig()))._comments.name.length > 0);
 * ```
 */
export function renderConfig(config: NodeConfig): string {
  return JSON.stringify({ _comments: CONFIG_DOCS, ...config }, null, 2) + "\n";
}
