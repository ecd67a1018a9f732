/**
 * The client engine against an in-process Loopix network: real Sphinx packets unwrapped
 * hop by hop with real keys (no delays, no processes); the provider behaviour (mailbox,
 * SURB-ACK) is reproduced here in a few lines. The node processes are tested in
 * cli/msg_test.ts.
 */
import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import { toHex } from "../../core/bytes.ts";
import {
  createSphinxReply,
  type SphinxNodeKey,
  unwrapSphinxPacket,
} from "../../backends/decrypt/mod.ts";
import { addressOf, encodeAddress, generateMessageIdentity } from "./address.ts";
import {
  type MailboxItem,
  MessageClient,
  type MessageTransport,
  type ReceivedMessage,
  type SentReport,
} from "./client.ts";
import { type RouteNode, stratify } from "./route.ts";
import { ACK_MESSAGE, decodeDataMessage } from "./wire.ts";

const PAYLOAD = 2048;

class FakeNetwork {
  keys = new Map<string, SphinxNodeKey>();
  mailboxes = new Map<string, MailboxItem[]>();
  seq = 0;
  providers: RouteNode[] = [];
  mixes: RouteNode[] = [];
  /** Packets dropped on purpose, by kind. */
  dropAcks = 0;
  /** A node that silently drops everything. */
  blackhole: string | undefined;
  delivered = 0;

  constructor() {
    for (let i = 0; i < 5; i++) {
      const secretKey = crypto.getRandomValues(new Uint8Array(32));
      const node = {
        id: crypto.getRandomValues(new Uint8Array(32)),
        publicKey: x25519.getPublicKey(secretKey),
        keyId: 0,
      };
      this.keys.set(toHex(node.id), { keyId: 0, secretKey, publicKey: node.publicKey });
      (i < 2 ? this.providers : this.mixes).push(node);
    }
  }

  async route(firstHop: Uint8Array, packet: Uint8Array): Promise<void> {
    let hop = toHex(firstHop);
    for (;;) {
      if (hop === this.blackhole) return;
      const result = await unwrapSphinxPacket(packet, {
        keys: this.keys.get(hop)!,
        payloadSize: PAYLOAD,
      });
      if (result.kind === "forward") {
        hop = toHex(result.nextHop);
        packet = result.packet;
        continue;
      }
      const box = toHex(result.recipient);
      if (result.kind === "reply") {
        this.#store(box, { kind: "reply", surbId: result.surbId, payload: result.payload });
        return;
      }
      if (result.recipient.every((b) => b === 0)) return; // a drop
      const { surbAck, sealed } = decodeDataMessage(result.message);
      this.#store(box, { kind: "deliver", payload: sealed });
      this.delivered++;
      if (this.dropAcks > 0) {
        this.dropAcks--;
        return;
      }
      const ack = createSphinxReply(surbAck, { message: ACK_MESSAGE, payloadSize: PAYLOAD });
      await this.route(ack.firstHop, ack.packet);
      return;
    }
  }

  #store(box: string, item: Omit<MailboxItem, "id" | "time">): void {
    const list = this.mailboxes.get(box) ?? [];
    list.push({ ...item, id: ++this.seq, time: Date.now() });
    this.mailboxes.set(box, list);
  }

  transport(mailbox: Uint8Array, provider: Uint8Array): MessageTransport {
    const box = toHex(mailbox);
    return {
      topology: () => Promise.resolve(stratify(this.providers, this.mixes)),
      submit: async (packets) => {
        for (const p of packets) await this.route(provider, p);
        return packets.map(() => 0);
      },
      fetch: (after) =>
        Promise.resolve((this.mailboxes.get(box) ?? []).filter((i) => i.id > after)),
      remove: (ids) => {
        const set = new Set(ids);
        this.mailboxes.set(box, (this.mailboxes.get(box) ?? []).filter((i) => !set.has(i.id)));
        return Promise.resolve();
      },
    };
  }
}

async function user(net: FakeNetwork, providerIndex: number, extra: {
  now?: () => number;
  received?: ReceivedMessage[];
  sent?: SentReport[];
} = {}) {
  const identity = await generateMessageIdentity(net.providers[providerIndex]!.id);
  const client = new MessageClient({
    identity,
    transport: net.transport(identity.mailboxKey.publicKey, identity.provider),
    payloadSize: PAYLOAD,
    meanDelayMs: 0,
    ...(extra.now ? { now: extra.now } : {}),
    onMessage: (m) => void extra.received?.push(m),
    onSent: (r) => extra.sent?.push(r),
  });
  return { identity, client, address: encodeAddress(addressOf(identity)) };
}

Deno.test("a message crosses providers and layers, is ACKed, and the recipient replies by SURB", async () => {
  const net = new FakeNetwork();
  const sent: SentReport[] = [];
  const alice = await user(net, 0, { sent });
  const bob = await user(net, 1);
  const id = await alice.client.send(bob.address, new TextEncoder().encode("hello bob"), {
    revealSender: true,
    replySurbs: 2,
  });
  assert.equal(await alice.client.flush(), 2); // two SURBs and a signed address: 2 fragments
  // The provider saw only ciphertext: the stored item does not contain the text.
  const stored = net.mailboxes.get(toHex(bob.identity.mailboxKey.publicKey))![0]!;
  assert.ok(!new TextDecoder().decode(stored.payload).includes("hello"));
  const got = await bob.client.poll();
  assert.equal(got.length, 1);
  assert.equal(got[0]!.id, id);
  assert.equal(new TextDecoder().decode(got[0]!.body), "hello bob");
  assert.equal(got[0]!.from, alice.address);
  assert.equal(got[0]!.replySurbs, 2);
  await alice.client.poll(); // the ACK
  assert.deepEqual(sent.map((s) => s.status), ["delivered"]);
  assert.ok(alice.client.idle);

  await bob.client.reply(id, new TextEncoder().encode("hi alice, anonymously answered"));
  await bob.client.flush();
  const replies = await alice.client.poll();
  assert.equal(replies.length, 1);
  assert.equal(replies[0]!.kind, "reply");
  assert.equal(replies[0]!.inReplyTo, id);
  assert.equal(new TextDecoder().decode(replies[0]!.body), "hi alice, anonymously answered");
  assert.equal(replies[0]!.from, undefined);
  // An anonymous message carries no sender.
  await alice.client.send(bob.address, new Uint8Array([1]));
  await alice.client.flush();
  const anon = await bob.client.poll();
  assert.equal(anon[0]!.from, undefined);
  assert.equal(anon[0]!.replySurbs, 0);
  await assert.rejects(() => bob.client.reply(anon[0]!.id, new Uint8Array([2])), /SURBs/);
});

Deno.test("a lost ACK leads to a retransmission and the message is delivered exactly once", async () => {
  const net = new FakeNetwork();
  let now = 1_000_000;
  const received: ReceivedMessage[] = [];
  const sent: SentReport[] = [];
  const alice = await user(net, 0, { now: () => now, sent });
  const bob = await user(net, 1, { now: () => now, received });
  const body = crypto.getRandomValues(new Uint8Array(5000)); // 4 fragments
  await alice.client.send(bob.address, body);
  net.dropAcks = 2;
  assert.equal(await alice.client.flush(), 4);
  await bob.client.poll();
  assert.equal(received.length, 1);
  await alice.client.poll();
  assert.equal(alice.client.stats.unacked, 2);
  now += alice.client.ackTimeoutMs + 1;
  await alice.client.poll(); // timeouts → requeued
  assert.equal(await alice.client.flush(), 2);
  assert.equal(alice.client.stats.retransmissions, 2);
  await bob.client.poll();
  await alice.client.poll();
  assert.equal(received.length, 1, "the duplicate fragments are suppressed");
  assert.deepEqual(received[0]!.body, body);
  assert.equal(bob.client.stats.duplicates, 2);
  assert.deepEqual(sent.map((s) => [s.status, s.transmissions]), [["delivered", 6]]);
});

Deno.test("a 256 KiB message is fragmented, sent and reassembled (1 MiB: fragment_test, bench)", async () => {
  const net = new FakeNetwork();
  const alice = await user(net, 0);
  const bob = await user(net, 1);
  const body = new Uint8Array(256 * 1024);
  for (let i = 0; i < body.length; i += 65536) crypto.getRandomValues(body.subarray(i, i + 65536));
  await alice.client.send(bob.address, body);
  const n = await alice.client.flush();
  assert.equal(n, Math.ceil((body.length + 40) / alice.client.sizes.dataPerPacket));
  const got = await bob.client.poll();
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.body, body);
});

Deno.test("loops return to their sender; a node that drops packets shows as loop loss", async () => {
  const net = new FakeNetwork();
  let now = 5_000_000;
  const alice = await user(net, 0, { now: () => now });
  // Only the loop stream λ_L runs.
  const client = new MessageClient({
    identity: alice.identity,
    transport: net.transport(alice.identity.mailboxKey.publicKey, alice.identity.provider),
    payloadSize: PAYLOAD,
    meanDelayMs: 0,
    rates: { payload: 0, loop: 200, drop: 0 },
    pollIntervalMs: 10_000,
    now: () => now,
  });
  client.start();
  await new Promise((r) => setTimeout(r, 300));
  await client.stop();
  await client.poll();
  const healthy = client.stats;
  assert.ok(healthy.loopsSent >= 10, `loops sent: ${healthy.loopsSent}`);
  assert.equal(healthy.loopsReturned, healthy.loopsSent);
  // One mix of the only route layer drops everything: every loop is lost.
  net.blackhole = toHex(stratify(net.providers, net.mixes).layers[1]![0]!.id);
  client.start();
  await new Promise((r) => setTimeout(r, 300));
  await client.stop();
  now += client.ackTimeoutMs + 1;
  await client.poll();
  const s = client.stats;
  assert.ok(s.loopsLost >= 10);
  assert.equal(s.loopsReturned, healthy.loopsReturned);
  assert.ok(s.loopLossRate > 0.4, `loss rate ${s.loopLossRate}`);
});

Deno.test("a loop the provider refuses (e.g. no access token) is not counted as lost", async () => {
  const net = new FakeNetwork();
  let now = 6_000_000;
  const alice = await user(net, 0, { now: () => now });
  const inner = net.transport(alice.identity.mailboxKey.publicKey, alice.identity.provider);
  let refuse = true;
  let refused = 0;
  const client = new MessageClient({
    identity: alice.identity,
    transport: {
      ...inner,
      submit: (packets) => {
        if (!refuse) return inner.submit(packets);
        refused++;
        return Promise.reject(new Error("Provider refused the token"));
      },
    },
    payloadSize: PAYLOAD,
    meanDelayMs: 0,
    rates: { payload: 0, loop: 200, drop: 0 },
    pollIntervalMs: 10_000,
    now: () => now,
  });
  // Until enough arrivals happened (packet building is slow on a loaded machine).
  const waitFor = async (done: () => boolean) => {
    const deadline = Date.now() + 30_000;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  client.start();
  await waitFor(() => refused >= 5);
  await client.stop();
  now += client.ackTimeoutMs + 1;
  await client.poll();
  assert.ok(refused >= 5, `refused submissions: ${refused}`);
  assert.equal(client.stats.loopsSent, 0);
  assert.equal(client.stats.loopsLost, 0);
  assert.equal(client.stats.loopLossRate, 0);
  // Admitted again: loops go out and come back.
  refuse = false;
  client.start();
  await waitFor(() => client.stats.loopsSent >= 5);
  await client.stop();
  await client.poll();
  assert.ok(client.stats.loopsSent >= 5);
  assert.equal(client.stats.loopsReturned, client.stats.loopsSent);
});

Deno.test("client state persists: a restarted client still suppresses a duplicate", async () => {
  const net = new FakeNetwork();
  let saved: Uint8Array | undefined;
  const identity = await generateMessageIdentity(net.providers[1]!.id);
  const make = () =>
    new MessageClient({
      identity,
      transport: net.transport(identity.mailboxKey.publicKey, identity.provider),
      payloadSize: PAYLOAD,
      meanDelayMs: 0,
      onState: (s) => {
        saved = s;
        return Promise.resolve();
      },
    });
  const bob = make();
  const alice = await user(net, 0);
  await alice.client.send(encodeAddress(addressOf(identity)), new Uint8Array([7]));
  await alice.client.flush();
  const box = toHex(identity.mailboxKey.publicKey);
  const copy = net.mailboxes.get(box)![0]!;
  assert.equal((await bob.poll()).length, 1);
  assert.equal(net.mailboxes.get(box)!.length, 0, "deleted from the mailbox after the commit");
  const again = make();
  again.restore(saved!);
  // The same fragment arriving again (as a retransmission would) is not delivered twice.
  net.mailboxes.set(box, [{ ...copy, id: ++net.seq }]);
  assert.deepEqual(await again.poll(), []);
  assert.equal(again.stats.duplicates, 1);
  await alice.client.send(encodeAddress(addressOf(identity)), new Uint8Array([8]));
  await alice.client.flush();
  assert.deepEqual((await again.poll()).map((m) => m.body[0]), [8]);
  assert.throws(() => again.restore(new Uint8Array([0x80])), /not a message client state/);
});

Deno.test("cover traffic follows the Poisson rates λ_P, λ_L, λ_D", async () => {
  const net = new FakeNetwork();
  const identity = await generateMessageIdentity(net.providers[0]!.id);
  const inner = net.transport(identity.mailboxKey.publicKey, identity.provider);
  const times: number[] = [];
  const rates = { payload: 20, loop: 10, drop: 10 };
  const client = new MessageClient({
    identity,
    transport: {
      ...inner,
      submit: (packets) => {
        times.push(performance.now());
        return Promise.resolve(packets.map(() => 0)); // counted, not routed
      },
    },
    payloadSize: PAYLOAD,
    meanDelayMs: 0,
    rates,
    pollIntervalMs: 60_000,
  });
  const seconds = 3;
  client.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await client.stop();
  const s = client.stats;
  // With no real message queued every payload slot sends a drop: drops ~ (λ_P + λ_D)·t.
  const expect = { loops: rates.loop * seconds, drops: (rates.payload + rates.drop) * seconds };
  const within = (n: number, mean: number) => Math.abs(n - mean) <= 4.5 * Math.sqrt(mean);
  assert.ok(within(s.loopsSent, expect.loops), `loops ${s.loopsSent}, expected ~${expect.loops}`);
  assert.ok(within(s.drops, expect.drops), `drops ${s.drops}, expected ~${expect.drops}`);
  assert.equal(s.payloadPackets, 0);
  // The merged stream is Poisson: exponential gaps have a coefficient of variation near 1
  // (a fixed-rate sender would show ~0).
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
  assert.ok(sd / mean > 0.6 && sd / mean < 1.5, `coefficient of variation ${sd / mean}`);
});

Deno.test("a queued message takes the next payload slot instead of a drop", async () => {
  const net = new FakeNetwork();
  const received: ReceivedMessage[] = [];
  const alice = await user(net, 0);
  const bob = await user(net, 1, { received });
  const client = new MessageClient({
    identity: alice.identity,
    transport: net.transport(alice.identity.mailboxKey.publicKey, alice.identity.provider),
    payloadSize: PAYLOAD,
    meanDelayMs: 0,
    rates: { payload: 50, loop: 0, drop: 0 },
    pollIntervalMs: 100,
  });
  await client.send(bob.address, new TextEncoder().encode("in a slot"));
  client.start();
  await new Promise((r) => setTimeout(r, 500));
  await client.stop();
  await bob.client.poll();
  assert.equal(received.length, 1);
  assert.equal(client.stats.payloadPackets, 1);
  assert.ok(client.stats.drops >= 5, "the other slots were drops");
  assert.equal(client.stats.unacked, 0, "acknowledged through the polling stream");
});

Deno.test("a message missing a fragment is reported incomplete, never delivered in part", async () => {
  const net = new FakeNetwork();
  let now = 9_000_000;
  const received: ReceivedMessage[] = [];
  const alice = await user(net, 0, { now: () => now });
  const gaveUp: { have: number; count: number }[] = [];
  const identity = await generateMessageIdentity(net.providers[1]!.id);
  const bob = new MessageClient({
    identity,
    transport: net.transport(identity.mailboxKey.publicKey, identity.provider),
    payloadSize: PAYLOAD,
    meanDelayMs: 0,
    incompleteTimeoutMs: 60_000,
    onIncomplete: (m) => void gaveUp.push(m),
    onMessage: (m) => void received.push(m),
    now: () => now,
  });
  await alice.client.send(encodeAddress(addressOf(identity)), new Uint8Array(4000)); // 4 fragments
  await alice.client.flush();
  const box = toHex(identity.mailboxKey.publicKey);
  net.mailboxes.set(box, net.mailboxes.get(box)!.slice(1)); // one fragment lost on the way
  await bob.poll();
  assert.deepEqual(bob.incomplete().map((p) => [p.have, p.count]), [[3, 4]]);
  now += 61_000;
  await bob.poll();
  assert.deepEqual(gaveUp.map((p) => [p.have, p.count]), [[3, 4]]);
  assert.equal(received.length, 0);
  assert.equal(bob.stats.incomplete, 1);
});
