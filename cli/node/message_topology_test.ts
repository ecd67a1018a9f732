import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import { NodeClient } from "./client.ts";
import { messageTopology } from "./message_topology.ts";
import { fetchTopology } from "./sphinx_client.ts";
import { TestNetwork } from "./test_support.ts";

Deno.test("the directory publishes the stratified layers clients derive from its topology", async () => {
  const net = await TestNetwork.create();
  try {
    const dir = await net.start({ name: "directory", roles: ["directory"] });
    for (let i = 0; i < 6; i++) {
      await net.start({ name: `mix${i}`, roles: ["sphinx"], directoryUrl: dir.url });
    }
    await net.start({ name: "p0", roles: ["sphinx", "provider"], directoryUrl: dir.url });
    const client = new NodeClient(dir.url);
    const published = await client.getJson("/v1/directory/layers?layers=3") as {
      providers: string[];
      layers: string[][];
    };
    assert.equal(published.providers.length, 1);
    assert.deepEqual(published.layers.map((l) => l.length), [2, 2, 2]);
    const derived = messageTopology(await fetchTopology(client, dir.identity.publicKey), {
      layers: 3,
    });
    assert.deepEqual(
      derived.layers.map((l) => l.map((n) => toBase64Url(n.id)).sort()),
      published.layers.map((l) => l.slice().sort()),
    );
    assert.deepEqual(derived.providers.map((n) => toBase64Url(n.id)), published.providers);
    await assert.rejects(() => client.getJson("/v1/directory/layers?layers=4"), /layers/);
  } finally {
    await net.close();
  }
});
