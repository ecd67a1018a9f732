import assert from "node:assert/strict";
import { toHex } from "../../core/bytes.ts";
import { NotFoundError } from "../../core/errors.ts";
import { assignLayers, layeredRoute, type RouteNode, stratify } from "./route.ts";

const node = (i: number): RouteNode => ({
  id: new Uint8Array(32).fill(i),
  publicKey: new Uint8Array(32).fill(100 + i),
  keyId: 0,
});

Deno.test("layers are balanced and the same whatever the order of the node list", () => {
  const mixes = Array.from({ length: 10 }, (_, i) => node(i + 1));
  const a = assignLayers(mixes.map((m) => m.id), 3);
  const sizes = [0, 1, 2].map((l) => a.filter((x) => x === l).length).sort();
  assert.deepEqual(sizes, [3, 3, 4]);
  const reversed = assignLayers(mixes.map((m) => m.id).reverse(), 3).reverse();
  assert.deepEqual(reversed, a);
});

Deno.test("routes go provider → one mix per layer → provider, with a delay per hop", () => {
  const providers = [node(50), node(51)];
  const t = stratify(providers, Array.from({ length: 6 }, (_, i) => node(i + 1)));
  const layerOf = new Map<string, number>();
  t.layers.forEach((l, i) => l.forEach((n) => layerOf.set(toHex(n.id), i)));
  for (let k = 0; k < 50; k++) {
    const hops = layeredRoute(t, { first: providers[0]!, last: providers[1]!, meanDelayMs: 10 });
    assert.equal(hops.length, 5);
    assert.deepEqual(hops[0]!.nodeId, providers[0]!.id);
    assert.deepEqual(hops[4]!.nodeId, providers[1]!.id);
    assert.deepEqual(hops.slice(1, 4).map((h) => layerOf.get(toHex(h.nodeId))), [0, 1, 2]);
    assert.ok(hops.every((h) => Number.isInteger(h.delayMs) && h.delayMs! >= 0));
  }
  assert.throws(() => stratify([], [node(1), node(2), node(3)]), NotFoundError);
  assert.throws(() => stratify(providers, [node(1), node(2)]), /3 layers need at least 3/);
});
