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

/** Roles a node can run, any combination. */
export type NodeRole = "board" | "directory" | "cascade" | "sphinx";

/** All roles. */
export const NODE_ROLES: readonly NodeRole[] = ["board", "directory", "cascade", "sphinx"];

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
  };
}

/** The meaning of every option, written by `node init` as `_comments`. */
export const CONFIG_DOCS: Readonly<Record<string, string>> = {
  name: "Human-readable node name (shown in logs and the descriptor)",
  roles: "Roles to run, any of: board, directory, cascade, sphinx",
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
  "sphinx.listen": "TCP listen address for Sphinx packets; port 0 picks a free port",
  "sphinx.publicAddress": "host:port others use to send packets; empty = sphinx.listen",
  "sphinx.epochSeconds": "Length of a Sphinx key epoch in seconds",
  "sphinx.overlapSeconds": "Seconds a key stays valid after its epoch (packets in flight)",
  "sphinx.payloadSize": "Sphinx payload bytes; every node of a network must agree",
  "sphinx.maxQueue": "Most packets held in the delay queue; beyond it packets are refused",
  "sphinx.maxDelayMs": "Largest per-hop delay honoured in ms; longer delays are clamped",
  "sphinx.packetsPerSecond": "Sustained packets per second accepted per sending address",
  "sphinx.packetBurst": "Packets a sending address may send at once (bucket size)",
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
    board: { admins: [], maxInputsPerSubmitter: 10_000 },
    directory: {
      operators: [],
      descriptorTtlSeconds: 7200,
      openRegistration: false,
      maxNodes: 1000,
    },
    cascade: { pollIntervalMs: 500, mixKeys: {} },
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
      maxConnections: 0,
      maxConnectionsPerAddress: 32,
      idleTimeoutMs: 600_000,
    },
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
  checkPositive(config.sphinx.epochSeconds, "sphinx.epochSeconds");
  checkPositive(config.sphinx.overlapSeconds, "sphinx.overlapSeconds", true);
  checkPositive(config.sphinx.payloadSize, "sphinx.payloadSize");
  checkPositive(config.sphinx.maxQueue, "sphinx.maxQueue");
  checkPositive(config.sphinx.maxDelayMs, "sphinx.maxDelayMs", true);
  checkPositive(config.sphinx.packetsPerSecond, "sphinx.packetsPerSecond");
  checkPositive(config.sphinx.packetBurst, "sphinx.packetBurst");
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
  config.dataDir = resolvePath(baseDir, config.dataDir);
  config.identityKeyFile = resolvePath(baseDir, config.identityKeyFile);
  for (const [backend, file] of Object.entries(config.cascade.mixKeys)) {
    if (typeof file !== "string") {
      throw new ConfigError(`Config option 'cascade.mixKeys.${backend}' must be a file path`);
    }
    config.cascade.mixKeys[backend] = resolvePath(baseDir, file);
  }
  return config;
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
