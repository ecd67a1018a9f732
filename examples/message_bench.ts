/**
 * Messaging benchmark (docs/message.md §7):
 *
 * 1. client costs: CPU time to build a data packet (HPKE, SURB-ACK, 5-hop header), a loop,
 *    a drop, and to open a delivered item; from them the CPU time per hour of a client at
 *    the default rates;
 * 2. end-to-end throughput through a loopback network of real node processes (directory,
 *    2 providers, 3 mix layers) with cover traffic on (two clients streaming at the
 *    default rates, every node sending loops λ_M): real packets are built beforehand,
 *    submitted to the sender's provider in batches, and counted when stored in the
 *    recipient's mailbox (each also sends its SURB-ACK back over 4 hops);
 * 3. time for a client to fetch, decrypt and delete 1,000 messages from its mailbox.
 *
 * Run: `deno task msg-bench` (options: --packets N (default 4000), --fetch N (default 1000))
 *
 * @module
 */

import { fromBase64Url } from "../core/bytes.ts";
import {
  addressOf,
  DEFAULT_COVER_RATES,
  encodeAddress,
  generateMessageIdentity,
  MessageClient,
  type MessageIdentity,
  type MessageTransport,
} from "../plugins/message/mod.ts";
import { MessageNetwork } from "../cli/node/message_network.ts";
import { providerInfo, ProviderTransport, registerWithProvider } from "../cli/msg_transport.ts";
import type { MsgProfile } from "../cli/msg_store.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const packetsN = arg("--packets", 4000);
const fetchN = arg("--fetch", 1000);
const say = (text: string) => console.log(text);
const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");

/** A transport that records submitted packets instead of sending them (capture mode). */
class Capturing implements MessageTransport {
  capture = false;
  captured: Uint8Array[] = [];
  constructor(readonly inner: MessageTransport) {}
  topology() {
    return this.inner.topology();
  }
  submit(packets: Uint8Array[]) {
    if (!this.capture) return this.inner.submit(packets);
    this.captured.push(...packets);
    return Promise.resolve(packets.map(() => 0));
  }
  fetch(after: number) {
    return this.inner.fetch(after);
  }
  remove(ids: number[]) {
    return this.inner.remove(ids);
  }
}

const root = await Deno.makeTempDir({ prefix: "panoramix-msg-bench-" });
let net: MessageNetwork | undefined;
const streaming: MessageClient[] = [];
try {
  net = await MessageNetwork.start({ root, loopsPerSecond: 2, loopMeanDelayMs: 5 });
  const person = async (providerIndex: number, extra: { rates?: typeof DEFAULT_COVER_RATES }) => {
    const url = net!.providers[providerIndex]!.url;
    const info = await providerInfo(url);
    const profile: MsgProfile = {
      seed: new Uint8Array(32),
      providerUrl: url,
      provider: fromBase64Url(info.provider, "provider"),
      directoryUrl: info.directoryUrl,
      directoryKey: "",
      payloadSize: info.payloadSize,
      layers: info.layers,
    };
    const identity: MessageIdentity = await generateMessageIdentity(profile.provider);
    await registerWithProvider(url, identity);
    const transport = new Capturing(new ProviderTransport(profile, identity));
    const client = new MessageClient({
      identity,
      transport,
      payloadSize: info.payloadSize,
      meanDelayMs: 1,
      ackTimeoutMs: 600_000,
      pollIntervalMs: 500,
      ...(extra.rates ? { rates: extra.rates } : {}),
    });
    return { identity, client, transport, address: encodeAddress(addressOf(identity)), profile };
  };

  // --- 1. client costs ------------------------------------------------------------------
  const alice = await person(0, {});
  const bob = await person(1, {});
  alice.transport.capture = true;
  const time = async (n: number, f: () => Promise<unknown>) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await f();
    return (performance.now() - t) / n;
  };
  const warm = 20;
  await time(warm, () => alice.client.send(bob.address, new Uint8Array(100)));
  await alice.client.flush();
  alice.transport.captured = [];
  for (let i = 0; i < 200; i++) await alice.client.send(bob.address, new Uint8Array(100));
  const t0 = performance.now();
  await alice.client.flush();
  const dataMs = (performance.now() - t0) / 200;
  // Loops and drops: a client whose only stream is the one measured, saturated for 3 s.
  const measureStream = async (rates: typeof DEFAULT_COVER_RATES) => {
    const c = await person(0, { rates });
    c.transport.capture = true;
    const t = performance.now();
    c.client.start();
    await new Promise((r) => setTimeout(r, 3000));
    await c.client.stop();
    return (performance.now() - t) / Math.max(1, c.transport.captured.length);
  };
  const loopMs = await measureStream({ payload: 0, loop: 10_000, drop: 0 });
  const dropMs = await measureStream({ payload: 0, loop: 0, drop: 10_000 });
  say(`load ${load()}`);
  say(
    `client packet build: data (HPKE + SURB-ACK + 5 hops) ${dataMs.toFixed(2)} ms, ` +
      `loop ${loopMs.toFixed(2)} ms, drop ${dropMs.toFixed(2)} ms (saturated streams over 3 s)`,
  );

  // --- 3. fetch and decrypt ------------------------------------------------------------
  alice.transport.capture = false;
  for (let i = 0; i < fetchN; i++) {
    await alice.client.send(bob.address, new TextEncoder().encode(`message ${i}`));
  }
  await alice.client.flush();
  const waitStored = async (n: number) => {
    const deadline = Date.now() + 300_000;
    for (;;) {
      const m = await (await fetch(`${net!.providers[1]!.url}/metrics`)).text();
      const stored = Number(/reason="stored"\} (\d+)/.exec(m)?.[1] ?? 0);
      if (stored >= n) return;
      if (Date.now() > deadline) throw new Error(`only ${stored}/${n} stored`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await waitStored(fetchN);
  const tf = performance.now();
  let got = 0;
  while (got < fetchN) got += (await bob.client.poll()).length;
  const fetchMs = performance.now() - tf;
  say(`load ${load()}`);
  say(
    `fetch, decrypt and delete ${fetchN} messages: ${fetchMs.toFixed(0)} ms ` +
      `(${(fetchMs / fetchN).toFixed(2)} ms per message)`,
  );
  const openMs = fetchMs / fetchN;
  const r = DEFAULT_COVER_RATES;
  // Per second: λ_P slots (a drop when idle) + λ_D drops + λ_L loops; the loops come back
  // and their ACKs too (opened on poll); the loop's SURB-ACK returns as a reply (opened).
  const perSecondMs = (r.payload + r.drop) * dropMs + r.loop * loopMs + r.loop * 2 * openMs;
  say(
    `client CPU at the default rates (λ_P ${r.payload}, λ_L ${r.loop}, λ_D ${r.drop} per s, idle): ` +
      `${(perSecondMs * 3.6).toFixed(0)} s per hour (${(perSecondMs / 10).toFixed(2)}% of a core)`,
  );

  // --- a 1 MiB message ----------------------------------------------------------------------
  {
    const big = new Uint8Array(1024 * 1024);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    const t = performance.now();
    const id = await alice.client.send(bob.address, big);
    const n = await alice.client.flush();
    const built = performance.now();
    let whole: Uint8Array | undefined;
    while (whole === undefined) {
      for (const m of await bob.client.poll()) if (m.id === id) whole = m.body;
      await new Promise((r) => setTimeout(r, 200));
    }
    const ok = whole.length === big.length && whole.every((b, i) => b === big[i]);
    say(`load ${load()}`);
    say(
      `1 MiB message: ${n} packets built and submitted in ${((built - t) / 1000).toFixed(1)} s, ` +
        `received whole (${ok ? "intact" : "CORRUPTED"}) after ${
          ((performance.now() - t) / 1000).toFixed(1)
        } s`,
    );
  }

  // --- 2. throughput ---------------------------------------------------------------------
  const c1 = await person(0, { rates: DEFAULT_COVER_RATES });
  const c2 = await person(0, { rates: DEFAULT_COVER_RATES }); // loops stay off provider1's count
  for (const c of [c1, c2]) {
    c.client.start();
    streaming.push(c.client);
  }
  alice.transport.capture = true;
  alice.transport.captured = [];
  const tb = performance.now();
  for (let i = 0; i < packetsN; i++) {
    await alice.client.send(bob.address, new Uint8Array(64));
  }
  await alice.client.flush();
  const packets = alice.transport.captured;
  say(`built ${packets.length} packets in ${((performance.now() - tb) / 1000).toFixed(1)} s`);
  const scrape = async () => {
    let total = 0;
    for (const n of [...net!.providers, ...net!.mixes]) {
      const m = await (await fetch(`${n.url}/metrics`)).text();
      total += Number(/^panoramix_sphinx_packets_in_total(?:\{[^}]*\})? (\d+)/m.exec(m)?.[1] ?? 0);
    }
    return total;
  };
  const storedNow = async () =>
    Number(
      /reason="stored"\} (\d+)/.exec(
        await (await fetch(`${net!.providers[1]!.url}/metrics`)).text(),
      )?.[1] ?? 0,
    );
  const storedBefore = await storedNow();
  const hopsBefore = await scrape();
  const start = performance.now();
  const inner = alice.transport.inner;
  const batches: Uint8Array[][] = [];
  for (let i = 0; i < packets.length; i += 256) batches.push(packets.slice(i, i + 256));
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < batches.length) {
        const statuses = await inner.submit(batches[next++]!);
        refused += statuses.filter((s) => s !== 0).length;
      }
    }),
  );
  const submitted = performance.now();
  await waitStored(storedBefore + packets.length - refused);
  const end = performance.now();
  const hops = (await scrape()) - hopsBefore;
  const seconds = (end - start) / 1000;
  say(`load ${load()}`);
  say(
    `throughput: ${packets.length - refused}/${packets.length} real packets stored in ` +
      `${seconds.toFixed(1)} s = ${((packets.length - refused) / seconds).toFixed(0)} messages/s ` +
      `end to end (provider → 3 layers → provider), submitted in ${
        ((submitted - start) / 1000).toFixed(1)
      } s; ${hops} packet-hops processed by the 5 Sphinx nodes = ${
        (hops / seconds).toFixed(0)
      } packets/s (real + SURB-ACKs + cover + λ_M loops), ${refused} refused`,
  );
} finally {
  for (const c of streaming) await c.stop();
  if (net) await net.stop();
  await Deno.remove(root, { recursive: true });
}
