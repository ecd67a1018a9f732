import assert from "node:assert/strict";
import { randomBytes } from "../../core/random.ts";
import { VerificationError } from "../../core/errors.ts";
import {
  createSphinxReply,
  createSphinxSurb,
  openSphinxReply,
} from "../../backends/decrypt/mod.ts";
import { NodeClient } from "./client.ts";
import { buildPacket, chooseRoute, fetchTopology } from "./sphinx_client.ts";
import { frame, SPHINX_STATUS, SphinxLink } from "./sphinx_link.ts";
import { TestNetwork } from "./test_support.ts";
import type { NodeHandle } from "./node.ts";
import { generateIdentity, type Identity } from "./identity.ts";
import { fetchMailbox } from "./mailbox.ts";

const PAYLOAD = 1024;

async function sphinxNetwork(options: { epochSeconds?: number; overlapSeconds?: number } = {}) {
  const net = await TestNetwork.create();
  const dir = await net.start({ name: "directory", roles: ["directory"] });
  const mixes: NodeHandle[] = [];
  for (let i = 0; i < 3; i++) {
    mixes.push(
      await net.start({
        name: `mix${i}`,
        roles: ["sphinx"],
        directoryUrl: dir.url,
        sphinx: { ...options, payloadSize: PAYLOAD },
      }),
    );
  }
  return { net, dir, mixes };
}

async function mailbox(url: string, owner: Identity): Promise<Uint8Array[]> {
  return (await fetchMailbox(url, { identity: owner })).map((m) => m.message);
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("packets cross three Sphinx mixes with Poisson delays and reach the exit's mailbox", async () => {
  const { net, dir, mixes } = await sphinxNetwork();
  try {
    const topology = await fetchTopology(new NodeClient(dir.url), dir.identity.publicKey);
    assert.equal(topology.nodes.filter((n) => n.sphinxAddress).length, 3);
    const owner = generateIdentity();
    const recipient = owner.publicKey;
    const links = new Map<string, SphinxLink>();
    const sent: string[] = [];
    const exits = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const route = chooseRoute(topology, { hops: 3, meanDelayMs: 5 });
      const message = new TextEncoder().encode(`message ${i}`);
      const packet = await buildPacket(message, { route, recipient, payloadSize: PAYLOAD });
      const addr = route.nodes[0]!.sphinxAddress;
      if (!links.has(addr)) links.set(addr, await SphinxLink.connect(addr));
      assert.equal(await links.get(addr)!.send(packet), SPHINX_STATUS.accepted);
      sent.push(`message ${i}`);
      exits.add(route.nodes[2]!.httpUrl);
    }
    const received = await until("all deliveries", async () => {
      const all: string[] = [];
      for (const url of exits) {
        for (const m of await mailbox(url, owner)) all.push(new TextDecoder().decode(m));
      }
      return all.length >= sent.length ? all : undefined;
    });
    assert.deepEqual(received.sort(), sent.sort());
    for (const link of links.values()) link.close();
    const metrics = await (await fetch(`${mixes[0]!.url}/metrics`)).text();
    assert.match(metrics, /panoramix_sphinx_packets_in_total [1-9]/);
  } finally {
    await net.close();
  }
});

Deno.test("a mix rejects replays, tampering, unknown keys and bad frames, and keeps serving", async () => {
  const { net, dir, mixes } = await sphinxNetwork();
  try {
    const topology = await fetchTopology(new NodeClient(dir.url));
    const target = topology.nodes.find((n) => n.name === "mix0")!;
    const route = chooseRoute(topology, { hops: 1, meanDelayMs: 0, nodes: [target] });
    const packet = await buildPacket(new Uint8Array([1]), {
      route,
      recipient: randomBytes(32),
      payloadSize: PAYLOAD,
    });
    const link = await SphinxLink.connect(target.sphinxAddress);
    assert.equal(await link.send(packet), SPHINX_STATUS.accepted);
    assert.equal(await link.send(packet), SPHINX_STATUS.replay);
    const tampered = packet.slice();
    tampered[100]! ^= 1;
    assert.equal(await link.send(tampered), SPHINX_STATUS.badMac);
    const unknown = packet.slice();
    unknown[1] = (unknown[1]! + 100) % 256;
    assert.equal(await link.send(unknown), SPHINX_STATUS.unknownKey);
    assert.equal(await link.send(packet.subarray(0, 100)), SPHINX_STATUS.invalid);
    // An oversized frame ends that connection only.
    const raw = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(target.sphinxAddress.split(":")[1]),
    });
    const huge = new Uint8Array(8);
    new DataView(huge.buffer).setUint32(0, 0x7fffffff);
    await raw.write(huge);
    const buf = new Uint8Array(1);
    assert.equal(await raw.read(buf), null);
    raw.close();
    assert.equal(await link.send(frame(new Uint8Array(3))), SPHINX_STATUS.invalid);
    link.close();
    const metrics = await (await fetch(`${mixes[0]!.url}/metrics`)).text();
    assert.match(metrics, /panoramix_sphinx_replays_dropped_total 1/);
  } finally {
    await net.close();
  }
});

Deno.test("the replay cache survives a restart", async () => {
  const { net, dir } = await sphinxNetwork();
  try {
    const topology = await fetchTopology(new NodeClient(dir.url));
    const target = topology.nodes.find((n) => n.name === "mix1")!;
    const route = chooseRoute(topology, { hops: 1, meanDelayMs: 0, nodes: [target] });
    const packet = await buildPacket(new Uint8Array([2]), {
      route,
      recipient: randomBytes(32),
      payloadSize: PAYLOAD,
    });
    let link = await SphinxLink.connect(target.sphinxAddress);
    assert.equal(await link.send(packet), SPHINX_STATUS.accepted);
    link.close();
    await net.stop("mix1");
    const again = await net.start({ name: "mix1", roles: ["sphinx"] });
    link = await SphinxLink.connect(again.sphinxAddress);
    assert.equal(await link.send(packet), SPHINX_STATUS.replay);
    link.close();
  } finally {
    await net.close();
  }
});

Deno.test("epoch keys rotate with overlap; an expired key and its replay tags are dropped", async () => {
  const { net, dir, mixes } = await sphinxNetwork({ epochSeconds: 2, overlapSeconds: 1 });
  try {
    const mix = mixes[0]!;
    const client = new NodeClient(mix.url);
    const keysNow = async () =>
      ((await client.getJson("/v1/sphinx/keys")) as { keys: { epoch: number }[] }).keys.map((k) =>
        k.epoch
      );
    const first = await keysNow();
    assert.equal(first.length, 2);
    assert.equal(first[1], first[0]! + 1);
    const topology = await fetchTopology(new NodeClient(dir.url));
    const target = topology.nodes.find((n) => n.name === "mix0")!;
    const route = chooseRoute(topology, {
      hops: 1,
      meanDelayMs: 0,
      nodes: [{ ...target, epochKeys: target.epochKeys.filter((k) => k.epoch === first[0]) }],
      now: target.epochKeys[0]!.validFrom,
    });
    const packet = await buildPacket(new Uint8Array([3]), {
      route,
      recipient: randomBytes(32),
      payloadSize: PAYLOAD,
    });
    const replayTags = async () =>
      Number(
        /panoramix_sphinx_replay_tags (\d+)/.exec(
          await (await fetch(`${mix.url}/metrics`)).text(),
        )![1],
      );
    let link = await SphinxLink.connect(mix.sphinxAddress);
    assert.equal(await link.send(packet), SPHINX_STATUS.accepted);
    link.close();
    assert.equal(await replayTags(), 1);
    await until("the first key to expire", async () => {
      const keys = await keysNow();
      return keys.includes(first[0]!) ? undefined : keys;
    });
    link = await SphinxLink.connect(mix.sphinxAddress);
    assert.equal(await link.send(packet), SPHINX_STATUS.unknownKey);
    link.close();
    assert.equal(await replayTags(), 0);
    // The directory learns the new keys (at its next refresh: it may lag the node a moment).
    const published = await until("the directory to drop the expired key", async () => {
      const fresh = await fetchTopology(new NodeClient(dir.url));
      const epochs = fresh.nodes.find((n) => n.name === "mix0")!.epochKeys.map((k) => k.epoch);
      return epochs.includes(first[0]!) ? undefined : epochs;
    }, 10_000);
    assert.ok(
      published.length > 0 && published.every((e) => e > first[0]!),
      `published ${published}`,
    );
  } finally {
    await net.close();
  }
});

Deno.test("a reply sent with a SURB reaches its creator's mailbox and opens only with the SURB secret", async () => {
  const { net, dir } = await sphinxNetwork();
  try {
    const topology = await fetchTopology(new NodeClient(dir.url), dir.identity.publicKey);
    const aliceKey = generateIdentity();
    const alice = aliceKey.publicKey;
    const route = chooseRoute(topology, { hops: 3, meanDelayMs: 1 });
    const { surb, secret } = await createSphinxSurb({ route: route.hops, recipient: alice });
    // Bob knows only the SURB: he fills it with his reply and sends it to its first hop.
    const { firstHop, packet } = createSphinxReply(surb, {
      message: new TextEncoder().encode("reply from bob"),
      payloadSize: PAYLOAD,
    });
    const first = topology.nodes.find((n) => n.identity.every((b, i) => b === firstHop[i]))!;
    const link = await SphinxLink.connect(first.sphinxAddress);
    assert.equal(await link.send(packet), SPHINX_STATUS.accepted);
    link.close();
    const exit = route.nodes[2]!;
    const got = await until("the reply", async () => {
      const messages = await fetchMailbox(exit.httpUrl, { identity: aliceKey });
      return messages.length > 0 ? messages[0] : undefined;
    });
    assert.equal(got.kind, "reply");
    assert.deepEqual(got.surbId, secret.surbId);
    const payload = got.message;
    assert.equal(new TextDecoder().decode(openSphinxReply(secret, payload)), "reply from bob");
    const other = await createSphinxSurb({ route: route.hops, recipient: alice });
    assert.throws(() => openSphinxReply(other.secret, payload), VerificationError);
  } finally {
    await net.close();
  }
});

Deno.test("a burst in one write with bad packets among good ones: each gets its own status, in order, and only the good ones go on", async () => {
  const { net, dir } = await sphinxNetwork();
  try {
    const topology = await fetchTopology(new NodeClient(dir.url));
    const owner = generateIdentity();
    const first = topology.nodes.find((n) => n.name === "mix0")!;
    const rest = ["mix1", "mix2"].map((name) => topology.nodes.find((n) => n.name === name)!);
    const route = chooseRoute(topology, { hops: 3, meanDelayMs: 1, nodes: [first, ...rest] });
    const packets: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      packets.push(
        await buildPacket(new TextEncoder().encode(`burst ${i}`), {
          route,
          recipient: owner.publicKey,
          payloadSize: PAYLOAD,
        }),
      );
    }
    // Bad ones among them: a changed header (bad MAC), a duplicate (replay) and a short frame.
    const tampered = packets[7]!.slice();
    tampered[100]! ^= 1;
    const burst = [...packets.slice(0, 7), tampered, ...packets.slice(7, 20), packets[3]!];
    burst.push(packets[20]!.subarray(0, 50), ...packets.slice(20));
    const expected = burst.map((p, i) =>
      i === 7
        ? SPHINX_STATUS.badMac
        : i === 21
        ? SPHINX_STATUS.replay
        : p.length === 50
        ? SPHINX_STATUS.invalid
        : SPHINX_STATUS.accepted
    );
    // One TCP write carrying every frame: the node reads, unwraps and commits them as batches.
    const raw = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(first.sphinxAddress.split(":")[1]),
    });
    const bytes = new Uint8Array(burst.reduce((n, p) => n + 4 + p.length, 0));
    let at = 0;
    for (const p of burst) {
      bytes.set(frame(p), at);
      at += 4 + p.length;
    }
    await raw.write(bytes);
    const statuses: number[] = [];
    const buf = new Uint8Array(256);
    while (statuses.length < burst.length) {
      const n = await raw.read(buf);
      if (n === null) break;
      statuses.push(...buf.subarray(0, n));
    }
    raw.close();
    assert.deepEqual(statuses, expected);
    const exit = rest[rest.length - 1]!;
    const received = await until("the good packets at the exit", async () => {
      const got = (await mailbox(exit.httpUrl, owner)).map((m) => new TextDecoder().decode(m));
      return got.length >= packets.length ? got : undefined;
    });
    assert.deepEqual(received.sort(), packets.map((_, i) => `burst ${i}`).sort());
  } finally {
    await net.close();
  }
});

Deno.test("with sphinx.nodesOnly the nodes of the topology still reach each other", async () => {
  const net = await TestNetwork.create();
  try {
    const dir = await net.start({ name: "directory", roles: ["directory"] });
    for (let i = 0; i < 3; i++) {
      await net.start({
        name: `mix${i}`,
        roles: ["sphinx"],
        directoryUrl: dir.url,
        sphinx: { payloadSize: PAYLOAD, nodesOnly: true },
      });
    }
    const topology = await fetchTopology(new NodeClient(dir.url));
    const owner = generateIdentity();
    const nodes = ["mix0", "mix1", "mix2"].map((name) =>
      topology.nodes.find((n) => n.name === name)!
    );
    const route = chooseRoute(topology, { hops: 3, meanDelayMs: 1, nodes });
    const packet = await buildPacket(new TextEncoder().encode("hello"), {
      route,
      recipient: owner.publicKey,
      payloadSize: PAYLOAD,
    });
    // This test runs on a node's address (127.0.0.1): it may send to the first hop.
    const link = await SphinxLink.connect(nodes[0]!.sphinxAddress);
    assert.equal(await link.send(packet), SPHINX_STATUS.accepted);
    link.close();
    const got = await until("the packet at the exit", async () => {
      const m = await mailbox(nodes[2]!.httpUrl, owner);
      return m.length > 0 ? m : undefined;
    });
    assert.equal(new TextDecoder().decode(got[0]!), "hello");
  } finally {
    await net.close();
  }
});
