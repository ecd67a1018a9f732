/**
 * The mix node daemon (`panoramix node`): configuration, identities and signed
 * objects, storage, the bulletin board, directory, cascade mixer and Sphinx mix
 * roles, their HTTP and TCP transports, and clients for each. See docs/node.md.
 *
 * @example
 * ```ts ignore
 * import { loadConfig, sphinxService, startNode } from "./mod.ts";
 * const node = await startNode(await loadConfig("node.json"), { sphinx: sphinxService });
 * await node.stop();
 * ```
 *
 * @module
 */

export * from "./config.ts";
export * from "./identity.ts";
export * from "./posts.ts";
export * from "./descriptor.ts";
export * from "./storage.ts";
export * from "./log.ts";
export * from "./metrics.ts";
export * from "./rate_limit.ts";
export * from "./auth.ts";
export * from "./http_error.ts";
export * from "./server.ts";
export * from "./board.ts";
export * from "./board_reader.ts";
export * from "./directory.ts";
export * from "./cascade.ts";
export * from "./backends.ts";
export * from "./replay_store.ts";
export * from "./sphinx_link.ts";
export * from "./sphinx_mix.ts";
export * from "./sphinx_client.ts";
export * from "./client.ts";
export * from "./job_client.ts";
export * from "./node.ts";
export * from "./selftest.ts";
export * from "./cluster.ts";
