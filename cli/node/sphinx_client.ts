/**
 * Client side of the Sphinx network: fetch and verify the directory's topology, pick
 * a route of Sphinx mixes with their current epoch keys and per-hop Poisson delays
 * (exponential, Loopix §4.2, drawn by the decrypt backend), and build packets.
 *
 * @module
 */

import {
  createSphinxPacket,
  type SphinxHop,
  sphinxRouteDelaysMs,
} from "../../backends/decrypt/mod.ts";
import { NotFoundError } from "../../core/errors.ts";
import { UniformIntegers } from "../../core/permutation.ts";
import { type RandomSource, systemRandom } from "../../core/random.ts";
import type { NodeClient } from "./client.ts";
import {
  type EpochKey,
  type NodeDescriptor,
  readTopology,
  type Topology,
  verifyTopology,
} from "./descriptor.ts";

/**
 * Fetches the topology from a directory and verifies every signature.
 *
 * @param client directory client
 * @param directoryKey expected directory identity (undefined = the one in the topology)
 * @returns the verified topology
 * @throws {VerificationError} when a signature fails
 * @example
 * ```ts ignore
 * const topology = await fetchTopology(new NodeClient(directoryUrl), directoryKey);
 * ```
 */
export async function fetchTopology(
  client: NodeClient,
  directoryKey?: Uint8Array,
): Promise<Topology> {
  const topology = readTopology(await client.getJson("/v1/directory/topology"), "topology");
  verifyTopology(topology, directoryKey);
  return topology;
}

/**
 * The epoch key of a node to use at a time: valid now, newest first.
 *
 * @param node the descriptor
 * @param now clock in ms
 * @returns the key
 * @throws {NotFoundError} when the node publishes no key valid now
 * @example
 * ```ts ignore
 * const key = currentEpochKey(descriptor, Date.now());
 * ```
 */
export function currentEpochKey(node: NodeDescriptor, now: number): EpochKey {
  const keys = node.epochKeys.filter((k) => k.validFrom <= now && now < k.validUntil)
    .sort((a, b) => b.epoch - a.epoch);
  if (keys.length === 0) {
    throw new NotFoundError(`Node '${node.name}' publishes no Sphinx key valid now`);
  }
  return keys[0]!;
}

/** A chosen route. */
export interface SphinxRoute {
  /** Hops with keys and delays, ready for `createSphinxPacket`. */
  hops: SphinxHop[];
  /** The descriptors in order. */
  nodes: NodeDescriptor[];
}

/**
 * Picks a route of distinct Sphinx mixes uniformly at random.
 *
 * @param topology the verified topology
 * @param options hops, mean per-hop delay (ms), clock, randomness, fixed node order
 * @returns the route
 * @throws {NotFoundError} when there are fewer Sphinx mixes than hops
 * @example
 * ```ts ignore
 * const route = chooseRoute(topology, { hops: 3, meanDelayMs: 50 });
 * ```
 */
export function chooseRoute(
  topology: Topology,
  options: {
    hops: number;
    meanDelayMs: number;
    now?: number;
    random?: RandomSource;
    nodes?: NodeDescriptor[];
  },
): SphinxRoute {
  const now = options.now ?? Date.now();
  const random = options.random ?? systemRandom;
  let nodes = options.nodes;
  if (nodes === undefined) {
    const pool = topology.nodes.filter((n) => n.sphinxAddress !== "" && n.epochKeys.length > 0);
    if (pool.length < options.hops) {
      throw new NotFoundError(
        `Topology has ${pool.length} Sphinx mixes, a route needs ${options.hops}`,
      );
    }
    const ints = new UniformIntegers(random);
    nodes = [];
    for (let i = 0; i < options.hops; i++) {
      nodes.push(pool.splice(ints.below(pool.length), 1)[0]!);
    }
  }
  const delays = sphinxRouteDelaysMs(nodes.length, { meanMs: options.meanDelayMs, random });
  const hops = nodes.map((n, i) => {
    const key = currentEpochKey(n, now);
    return { nodeId: n.identity, publicKey: key.publicKey, keyId: key.keyId, delayMs: delays[i]! };
  });
  return { hops, nodes };
}

/**
 * Builds a packet for a route.
 *
 * @param message the message bytes
 * @param options route, recipient (32 bytes) and payload size
 * @returns the packet bytes
 * @example
 * ```ts ignore
 * const packet = await buildPacket(message, { route, recipient, payloadSize: 1024 });
 * ```
 */
export async function buildPacket(
  message: Uint8Array,
  options: { route: SphinxRoute; recipient: Uint8Array; payloadSize: number },
): Promise<Uint8Array> {
  const { packet } = await createSphinxPacket(message, {
    route: options.route.hops,
    recipient: options.recipient,
    payloadSize: options.payloadSize,
  });
  return packet;
}
