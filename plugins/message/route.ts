/**
 * The stratified topology of a Loopix network (Piotrowska et al. 2017, §3: providers and
 * L layers of mixes) and the routes through it: provider → layer 1 → … → layer L →
 * provider, one node per layer, each hop holding a packet for an exponential delay.
 *
 * The directory signs the node set; the layer of each mix is a public function of that
 * set ({@linkcode assignLayers}), so every client and node derives the same layers.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, toHex } from "../../core/bytes.ts";
import { NotFoundError } from "../../core/errors.ts";
import { UniformIntegers } from "../../core/permutation.ts";
import { type RandomSource, systemRandom } from "../../core/random.ts";
import { type SphinxHop, sphinxRouteDelaysMs } from "../../backends/decrypt/mod.ts";

/** Default number of mix layers. */
export const DEFAULT_LAYERS = 3;
/** Label of the layer assignment. */
export const LAYER_LABEL = "panoramix/message/layer/v1";

/** A node as a route needs it: id and its current Sphinx key. */
export interface RouteNode {
  /** Node id (identity key, 32 bytes). */
  id: Uint8Array;
  /** X25519 public key of the current epoch. */
  publicKey: Uint8Array;
  /** Key id of that key. */
  keyId: number;
}

/** Providers and layers. */
export interface MessageTopology {
  /** Provider nodes. */
  providers: RouteNode[];
  /** Mix nodes per layer, layer 1 first. */
  layers: RouteNode[][];
}

/**
 * Assigns each mix to a layer: mixes sorted by SHA-256(label ‖ id), then dealt round-robin,
 * so layers differ in size by at most one and nobody chooses its layer by choosing its rank.
 *
 * @param ids node ids of the mixes (providers excluded)
 * @param layers number of layers
 * @returns the layer index (0-based) of each id, in input order
 * @example
 * ```ts
 * import { assignLayers } from "./route.ts";
 * const ids = [1, 2, 3, 4, 5, 6].map((i) => new Uint8Array(32).fill(i));
 * const layers = assignLayers(ids, 3);
 * console.assert([0, 1, 2].every((l) => layers.filter((x) => x === l).length === 2));
 * ```
 */
export function assignLayers(ids: readonly Uint8Array[], layers: number): number[] {
  const label = new TextEncoder().encode(LAYER_LABEL);
  const ranked = ids.map((id, i) => ({ i, h: toHex(sha256(concatBytes(label, id))) }))
    .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
  const out = new Array<number>(ids.length);
  ranked.forEach((r, rank) => (out[r.i] = rank % layers));
  return out;
}

/**
 * Builds the stratified topology from providers and mixes.
 *
 * @param providers provider nodes
 * @param mixes mix nodes
 * @param layers number of layers (default 3)
 * @returns the topology
 * @throws {NotFoundError} when there is no provider or a layer would be empty
 * @example
 * ```ts
 * import { stratify } from "./route.ts";
 * const node = (i: number) => ({ id: new Uint8Array(32).fill(i), publicKey: new Uint8Array(32), keyId: 0 });
 * const t = stratify([node(9)], [1, 2, 3].map(node));
 * console.assert(t.layers.length === 3);
 * ```
 */
export function stratify(
  providers: RouteNode[],
  mixes: RouteNode[],
  layers: number = DEFAULT_LAYERS,
): MessageTopology {
  if (providers.length === 0) throw new NotFoundError("Topology has no provider");
  if (mixes.length < layers) {
    throw new NotFoundError(
      `Topology has ${mixes.length} mixes, ${layers} layers need at least ${layers}`,
    );
  }
  const assigned = assignLayers(mixes.map((m) => m.id), layers);
  const out: RouteNode[][] = Array.from({ length: layers }, () => []);
  mixes.forEach((m, i) => out[assigned[i]!]!.push(m));
  return { providers, layers: out };
}

/**
 * Finds a provider by node id.
 *
 * @param topology the topology
 * @param id provider node id
 * @returns the provider
 * @throws {NotFoundError} when it is not in the topology
 */
export function providerById(topology: MessageTopology, id: Uint8Array): RouteNode {
  const hex = toHex(id);
  const p = topology.providers.find((n) => toHex(n.id) === hex);
  if (!p) throw new NotFoundError(`Provider ${hex.slice(0, 16)}… is not in the topology`);
  return p;
}

function pick<T>(items: readonly T[], ints: UniformIntegers): T {
  return items[ints.below(items.length)]!;
}

/**
 * A route: optional first node, one node per layer, optional last node, with
 * exponential per-hop delays of mean `meanDelayMs` (Loopix §4.1).
 *
 * @param topology the topology
 * @param options end points, mean delay, randomness
 * @returns the hops
 * @example
 * ```ts
 * import { layeredRoute, stratify } from "./route.ts";
 * const node = (i: number) => ({ id: new Uint8Array(32).fill(i), publicKey: new Uint8Array(32), keyId: 0 });
 * const t = stratify([node(9)], [1, 2, 3].map(node));
 * console.assert(layeredRoute(t, { first: node(9), last: node(9), meanDelayMs: 5 }).length === 5);
 * ```
 */
export function layeredRoute(
  topology: MessageTopology,
  options: { first?: RouteNode; last?: RouteNode; meanDelayMs: number; random?: RandomSource },
): SphinxHop[] {
  const random = options.random ?? systemRandom;
  const ints = new UniformIntegers(random);
  const nodes: RouteNode[] = [];
  if (options.first) nodes.push(options.first);
  for (const layer of topology.layers) {
    if (layer.length === 0) throw new NotFoundError("A mix layer of the topology is empty");
    nodes.push(pick(layer, ints));
  }
  if (options.last) nodes.push(options.last);
  const delays = sphinxRouteDelaysMs(nodes.length, { meanMs: options.meanDelayMs, random });
  return nodes.map((n, i) => ({
    nodeId: n.id,
    publicKey: n.publicKey,
    keyId: n.keyId,
    delayMs: delays[i]!,
  }));
}

/**
 * A random provider (for drop cover traffic).
 *
 * @param topology the topology
 * @param random randomness
 * @returns a provider
 */
export function randomProvider(topology: MessageTopology, random?: RandomSource): RouteNode {
  return pick(topology.providers, new UniformIntegers(random ?? systemRandom));
}
