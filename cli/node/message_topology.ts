/**
 * The stratified messaging topology (providers and mix layers, docs/message.md §4) read
 * from the directory's signed topology: providers are the nodes with the `provider` role,
 * mixes the other Sphinx nodes, dealt into layers by the public rule of
 * {@linkcode stratify}. Only nodes with a key valid now are used.
 *
 * @module
 */

import { type MessageTopology, type RouteNode, stratify } from "../../plugins/message/mod.ts";
import type { NodeDescriptor, Topology } from "./descriptor.ts";
import { currentEpochKey } from "./sphinx_client.ts";

function routeNode(d: NodeDescriptor, now: number): RouteNode | undefined {
  if (d.sphinxAddress === "") return undefined;
  try {
    const key = currentEpochKey(d, now);
    return { id: d.identity, publicKey: key.publicKey, keyId: key.keyId };
  } catch {
    return undefined;
  }
}

/**
 * Builds the messaging topology from a verified directory topology.
 *
 * @param topology the directory's topology (already verified)
 * @param options number of layers, clock
 * @returns providers and layers
 * @throws {NotFoundError} when there is no provider or too few mixes
 * @example
 * ```ts ignore
 * const t = messageTopology(await fetchTopology(client, key), { layers: 3 });
 * ```
 */
export function messageTopology(
  topology: Topology,
  options: { layers: number; now?: number },
): MessageTopology {
  const now = options.now ?? Date.now();
  const providers: RouteNode[] = [];
  const mixes: RouteNode[] = [];
  for (const d of topology.nodes) {
    if (!d.roles.includes("sphinx")) continue;
    const node = routeNode(d, now);
    if (node === undefined) continue;
    (d.roles.includes("provider") ? providers : mixes).push(node);
  }
  return stratify(providers, mixes, options.layers);
}
