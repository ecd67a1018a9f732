/**
 * Two people chat anonymously over a Loopix network on loopback: a directory, 2 providers
 * and 3 layers of mix nodes, each a separate `panoramix node run` process. Alice and Bob
 * each run a client with cover traffic on (payload slots λ_P, loops λ_L, drops λ_D; the
 * nodes send their own loops λ_M). They exchange messages both ways, Bob answers an
 * anonymous message through its SURB, and the script prints what happened, the latencies
 * and the loop statistics.
 *
 * Run: `deno task chat` (options: --mean-delay-ms N (default 20), --keep)
 *
 * @module
 */

import {
  addressOf,
  encodeAddress,
  generateMessageIdentity,
  MessageClient,
  type ReceivedMessage,
  type SentReport,
} from "../plugins/message/mod.ts";
import { MessageNetwork } from "../cli/node/message_network.ts";
import {
  providerInfo,
  providerProfile,
  ProviderTransport,
  registerWithProvider,
} from "../cli/msg_transport.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const meanDelayMs = arg("--mean-delay-ms", 20);
const keep = Deno.args.includes("--keep");
const rates = { payload: 5, loop: 2, drop: 2 };
const say = (text: string) => console.log(text);
const short = (address: string) => `${address.slice(0, 14)}…${address.slice(-6)}`;

const root = await Deno.makeTempDir({ prefix: "panoramix-chat-" });
let net: MessageNetwork | undefined;
let failed = false;
const clients: MessageClient[] = [];
try {
  const started = performance.now();
  net = await MessageNetwork.start({ root, loopsPerSecond: 2, loopMeanDelayMs: meanDelayMs });
  say(
    `network up in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s: directory ${net.directory.url}, ` +
      `providers ${
        net.providers.map((p) => p.url).join(", ")
      }, 3 mix layers (${net.mixes.length} mixes), ` +
      `mix loops λ_M = 2/s per node`,
  );

  const person = async (name: string, providerIndex: number) => {
    const url = net!.providers[providerIndex]!.url;
    const info = await providerInfo(url);
    const profile = providerProfile(url, info);
    const identity = await generateMessageIdentity(profile.provider);
    await registerWithProvider(url, identity);
    const inbox: ReceivedMessage[] = [];
    const sent: SentReport[] = [];
    const client = new MessageClient({
      identity,
      transport: new ProviderTransport(profile, identity),
      payloadSize: info.payloadSize,
      meanDelayMs,
      rates,
      pollIntervalMs: 100,
      onMessage: (m) => void inbox.push(m),
      onSent: (r) => void sent.push(r),
    });
    clients.push(client);
    client.start();
    const address = encodeAddress(addressOf(identity));
    say(`${name}: provider${providerIndex}, address ${short(address)} (${address.length} chars)`);
    return { name, client, address, inbox, sent };
  };
  const alice = await person("alice", 0);
  const bob = await person("bob", 1);
  say(
    `clients streaming: λ_P ${rates.payload}/s, λ_L ${rates.loop}/s, λ_D ${rates.drop}/s, ` +
      `mean delay ${meanDelayMs} ms per hop (5 hops forward, 4 hops for the ACK)`,
  );

  const waitFor = async <T>(what: string, f: () => T | undefined, ms = 60_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = f();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const exchange = async (
    from: typeof alice,
    to: typeof alice,
    body: string,
    options: { revealSender?: boolean; replySurbs?: number },
  ) => {
    const t0 = performance.now();
    const id = await from.client.send(to.address, new TextEncoder().encode(body), options);
    const m = await waitFor(`${to.name} to get "${body}"`, () => to.inbox.find((x) => x.id === id));
    const delivered = performance.now() - t0;
    const report = await waitFor(`${from.name}'s ACK`, () => from.sent.find((r) => r.id === id));
    say(
      `${from.name} → ${to.name}: "${text(m.body)}" ` +
        `(${m.from ? `signed by ${short(m.from)}` : "anonymous"}, ${m.replySurbs} SURB(s)); ` +
        `delivered in ${delivered.toFixed(0)} ms, ACK back after ${report.latencyMs} ms, ` +
        `${report.transmissions} transmission(s)`,
    );
    return m;
  };
  await exchange(alice, bob, "Hi Bob, it's Alice.", { revealSender: true });
  await exchange(bob, alice, "Hi Alice! Bob here.", { revealSender: true });
  const anon = await exchange(alice, bob, "Someone is watching the hub. Reply via SURB.", {
    replySurbs: 1,
  });
  const t0 = performance.now();
  await bob.client.reply(anon.id, new TextEncoder().encode("Understood. Thanks, stranger."));
  const reply = await waitFor(
    "alice to get the SURB reply",
    () => alice.inbox.find((m) => m.kind === "reply"),
  );
  say(
    `bob → (unknown sender) by SURB: "${text(reply.body)}" reached alice in ${
      (performance.now() - t0).toFixed(0)
    } ms; bob never learned her address`,
  );
  const big = new Uint8Array(64 * 1024);
  crypto.getRandomValues(big);
  const t1 = performance.now();
  const bigId = await alice.client.send(bob.address, big);
  const gotBig = await waitFor("the 64 KiB message", () => bob.inbox.find((m) => m.id === bigId));
  const bigReport = await waitFor("its ACKs", () => alice.sent.find((r) => r.id === bigId));
  say(
    `alice → bob: 64 KiB file in ${bigReport.fragments} fragments, intact: ${
      gotBig.body.every((b, i) => b === big[i])
    }, delivered in ${(performance.now() - t1).toFixed(0)} ms at λ_P = ${rates.payload}/s`,
  );
  await new Promise((r) => setTimeout(r, 2000));
  for (const p of [alice, bob]) {
    const s = p.client.stats;
    say(
      `${p.name}: ${s.payloadPackets} real packets, ${s.retransmissions} retransmissions, ` +
        `${s.drops} drops, loops ${s.loopsReturned}/${s.loopsSent} back ` +
        `(lost ${s.loopsLost}, loss rate ${(100 * s.loopLossRate).toFixed(1)}%)`,
    );
  }
  const metrics = await (await fetch(`${net.mixes[0]!.url}/metrics`)).text();
  const metric = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(metrics)?.[1] ?? 0);
  say(
    `mix0: ${metric("panoramix_sphinx_packets_in_total")} packets in, ` +
      `mix loops ${metric("panoramix_sphinx_loops_returned_total")}/${
        metric("panoramix_sphinx_loops_sent_total")
      } back`,
  );
} catch (error) {
  failed = true;
  console.error(`chat: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  for (const c of clients) await c.stop();
  if (net) {
    const codes = await net.stop();
    say(`shut down gracefully (exit codes ${codes.join(", ")})`);
  }
  if (keep) say(`kept ${root}`);
  else await Deno.remove(root, { recursive: true });
}
Deno.exit(failed ? 1 : 0);
