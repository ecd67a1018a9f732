/**
 * Sphinx status bytes vouch only for committed packets (issue 11 §1): a copy of a packet
 * whose first copy is still uncommitted must not be answered "replay" (which the sender
 * takes as "this hop holds it") before that commit; if the commit fails, no copy is
 * acknowledged.
 */
import assert from "node:assert/strict";
import { randomBytes } from "../../core/random.ts";
import { parseConfig } from "./config.ts";
import { signDescriptor, signTopology } from "./descriptor.ts";
import { generateIdentity } from "./identity.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { buildPacket, chooseRoute } from "./sphinx_client.ts";
import { SPHINX_STATUS, SphinxLink } from "./sphinx_link.ts";
import { SphinxMix } from "./sphinx_mix.ts";
import { Store } from "./storage.ts";

Deno.test("a replayed packet gets no status before its first copy is committed", async () => {
  const dir = await Deno.makeTempDir();
  const store = new Store(`${dir}/node.sqlite`);
  const failCommits = { on: false };
  const exec = store.db.exec.bind(store.db);
  store.db.exec = (sql: string) => {
    if (sql === "COMMIT" && failCommits.on) {
      throw Object.assign(new Error("database or disk is full"), { errcode: 13 });
    }
    return exec(sql);
  };
  const identity = generateIdentity();
  const config = parseConfig({
    roles: ["sphinx"],
    sphinx: { listen: "127.0.0.1:0", payloadSize: 256, maxDelayMs: 0 },
  }, dir);
  const mix = new SphinxMix({
    config,
    store,
    identity,
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    selfUrl: () => "",
    directoryClient: () => undefined,
    publish: () => Promise.resolve(),
  });
  await mix.start();
  const link = await SphinxLink.connect(mix.sphinxAddress());
  try {
    const descriptor = signDescriptor(identity, {
      name: "mix",
      roles: ["sphinx"],
      httpUrl: "",
      sphinxAddress: mix.sphinxAddress(),
      epochKeys: mix.epochKeys(),
      time: Date.now(),
    });
    const topology = signTopology(generateIdentity(), { time: Date.now(), nodes: [descriptor] });
    for (let round = 0; round < 5; round++) {
      const route = chooseRoute(topology, { hops: 1, meanDelayMs: 100_000 });
      const packet = await buildPacket(randomBytes(8), {
        route,
        recipient: randomBytes(32),
        payloadSize: 256,
      });
      failCommits.on = true;
      const statuses = await Promise.all([link.send(packet), link.send(packet)]);
      failCommits.on = false;
      assert.ok(
        statuses.every((s) => s !== SPHINX_STATUS.accepted && s !== SPHINX_STATUS.replay),
        `round ${round}: statuses ${statuses} vouch for a packet never committed`,
      );
      // Once the disk has room the packet is accepted, and its copy is a replay.
      assert.equal(await link.send(packet), SPHINX_STATUS.accepted);
      assert.equal(await link.send(packet), SPHINX_STATUS.replay);
    }
  } finally {
    link.close();
    await mix.stop();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
