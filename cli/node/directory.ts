/**
 * The directory role: nodes register signed descriptors (authenticated by their
 * identity, optionally restricted to a list of operators); clients fetch a topology
 * signed by the directory. Descriptors are stored in SQLite and committed before the
 * registration is acknowledged.
 *
 * @module
 */

import { toBase64Url } from "../../core/bytes.ts";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { ConfigError, InvalidInputError } from "../../core/errors.ts";
import type { NodeConfig } from "./config.ts";
import {
  descriptorToEnvelope,
  type NodeDescriptor,
  readDescriptor,
  signTopology,
  type Topology,
  verifyDescriptor,
} from "./descriptor.ts";
import { HttpError } from "./http_error.ts";
import type { Identity } from "./identity.ts";
import type { Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";
import type { Store } from "./storage.ts";

/** Options of {@linkcode Directory}. */
export interface DirectoryOptions {
  /** Storage. */
  store: Store;
  /** Directory identity (signs topologies). */
  identity: Identity;
  /** Allowed operator keys; empty = any. */
  operators: readonly Uint8Array[];
  /** Seconds a descriptor stays in the topology without a refresh. */
  ttlSeconds: number;
  /** Most descriptors held (default 1000). */
  maxNodes?: number;
  /** Accepted clock skew of a descriptor's time, in seconds (default 120). */
  skewSeconds?: number;
  /** Logger. */
  logger: Logger;
  /** Metrics. */
  metrics: MetricsRegistry;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

/**
 * The directory role.
 *
 * @example
 * ```ts ignore
 * const dir = new Directory({ store, identity, operators: [], ttlSeconds: 3600, logger, metrics });
 * await dir.register(descriptor, descriptor.identity);
 * const topology = dir.topology();
 * ```
 */
export class Directory {
  #o: DirectoryOptions;

  /**

   * Creates the instance.
   *
   * @param options storage, identity, operators, ttl, logger, metrics
   */
  constructor(options: DirectoryOptions) {
    this.#o = options;
    options.store.write(() =>
      options.store.db.exec(
        "CREATE TABLE IF NOT EXISTS directory_nodes (identity BLOB PRIMARY KEY, time INTEGER NOT NULL, descriptor BLOB NOT NULL)",
      )
    );
    options.store.commitNow(); // the topology is read from committed rows only
    options.metrics.gauge(
      "panoramix_directory_nodes",
      "Nodes in the current topology",
      () => this.topology().nodes.length,
    );
  }

  /**
   * Registers or refreshes a descriptor; committed before it resolves.
   *
   * @param descriptor the signed descriptor
   * @param requester identity that signed the HTTP request (must be the descriptor's)
   * @throws {VerificationError} bad descriptor signature
   * @throws {HttpError} 403 when the requester is not the node or not an allowed operator
   * @throws {ConfigError} when an equal or newer descriptor is already registered
   */
  async register(descriptor: NodeDescriptor, requester: Uint8Array): Promise<void> {
    verifyDescriptor(descriptor);
    const same = (a: Uint8Array, b: Uint8Array) => a.every((x, i) => x === b[i]);
    if (!same(descriptor.identity, requester)) {
      throw new HttpError(403, "forbidden", "A descriptor must be registered by its own node");
    }
    if (
      this.#o.operators.length > 0 &&
      !this.#o.operators.some((k) => same(k, descriptor.identity))
    ) {
      throw new HttpError(403, "forbidden", "Node identity is not an allowed operator");
    }
    const now = (this.#o.now ?? Date.now)();
    const skewMs = (this.#o.skewSeconds ?? 120) * 1000;
    // A descriptor dated in the future would never expire (issue 11 §4).
    if (descriptor.time > now + skewMs) {
      throw new InvalidInputError(
        `Descriptor time ${descriptor.time} is more than ${skewMs / 1000} s in the future`,
      );
    }
    if (descriptor.time < now - this.#o.ttlSeconds * 1000) {
      throw new InvalidInputError(
        `Descriptor time ${descriptor.time} is older than the ${this.#o.ttlSeconds} s TTL`,
      );
    }
    this.#o.store.write(() => {
      // Expired descriptors leave the table, so it stays bounded by maxNodes live ones.
      this.#o.store.db.prepare("DELETE FROM directory_nodes WHERE time < ? OR time > ?").run(
        now - this.#o.ttlSeconds * 1000,
        now + skewMs,
      );
      const row = this.#o.store.db.prepare(
        "SELECT time FROM directory_nodes WHERE identity = ?",
      ).get(descriptor.identity) as { time: number } | undefined;
      const maxNodes = this.#o.maxNodes ?? 1000;
      if (row === undefined) {
        const { n } = this.#o.store.db.prepare("SELECT COUNT(*) AS n FROM directory_nodes")
          .get() as { n: number };
        if (n >= maxNodes) {
          throw new HttpError(
            503,
            "directory_full",
            `The directory holds its maximum of ${maxNodes} nodes; new nodes are refused`,
            { "retry-after": "60" },
          );
        }
      }
      if (row && row.time >= descriptor.time) {
        throw new ConfigError(
          `Node '${descriptor.name}' already registered a descriptor at time ${row.time}`,
        );
      }
      this.#o.store.db.prepare(
        "INSERT OR REPLACE INTO directory_nodes (identity, time, descriptor) VALUES (?, ?, ?)",
      ).run(descriptor.identity, descriptor.time, encodeMsgpack(descriptorToEnvelope(descriptor)));
    });
    await this.#o.store.commit();
    this.#o.logger.log("info", "node_registered", {
      node: descriptor.name,
      identity: toBase64Url(descriptor.identity),
    });
  }

  /**
   * The signed topology of descriptors refreshed within the TTL.
   *
   * @returns the topology
   */
  topology(): Topology {
    const now = (this.#o.now ?? Date.now)();
    const rows = this.#o.store.reader.prepare(
      "SELECT descriptor FROM directory_nodes WHERE time >= ? AND time <= ? ORDER BY identity LIMIT ?",
    ).all(
      now - this.#o.ttlSeconds * 1000,
      now + (this.#o.skewSeconds ?? 120) * 1000,
      this.#o.maxNodes ?? 1000,
    ) as { descriptor: Uint8Array }[];
    const nodes = rows.map((r, i) =>
      readDescriptor(decodeMsgpack(r.descriptor, `descriptor ${i}`), `descriptor ${i}`)
    );
    return signTopology(this.#o.identity, { time: now, nodes });
  }
}

/**
 * Requires operator keys for a directory outside test networks (issue 11 §4): with an
 * empty `directory.operators` the node refuses to start unless
 * `directory.openRegistration` is true, and then logs a loud warning.
 *
 * @param config the node config
 * @param logger where the warning goes
 * @throws {ConfigError} when the directory has no operators and is not a test network
 * @example
 * ```ts ignore
 * checkDirectoryOperators(config, logger);
 * ```
 */
export function checkDirectoryOperators(config: NodeConfig, logger: Logger): void {
  if (config.directory.operators.length > 0) return;
  if (!config.directory.openRegistration) {
    throw new ConfigError(
      "Config option 'directory.operators' is empty: list the operators' identity keys " +
        "(panoramix node init --operator KEY), or set 'directory.openRegistration' to true " +
        "for a test network",
    );
  }
  logger.log("warn", "directory_open_registration", {
    message: "WARNING: this directory accepts descriptors from ANY key (test network only); " +
      "set directory.operators for a real network",
  });
}
