/**
 * Messaging benchmark (docs/message.md §7):
 *
 * 1. client costs: CPU time to build a data packet (HPKE, SURB-ACK, 5-hop header), a loop,
 *    a drop, and to open a delivered item; the CPU time per hour of a client at the
 *    default rates, estimated from those unit costs and measured directly (process CPU
 *    time while one client with every default runs alone in this process);
 * 2. end to end through a loopback network of real node processes (directory, 2
 *    providers, 3 mix layers) with cover traffic on (two clients streaming at the default
 *    rates, every node sending loops λ_M): real packets are built beforehand and submitted
 *    to the sender's provider in batches. Counted: every packet that completes its route —
 *    reaches the exit of its route: a real message stored in the recipient's mailbox, its
 *    SURB-ACK back in the sender's mailbox (4 hops), a client loop and its SURB-ACK, a
 *    drop discarded by the provider, a node's loop back at the node — from the first
 *    submission until every real packet is stored and every ACK is back; losses by cause;
 * 3. time for a client to fetch, decrypt and delete 1,000 messages from its mailbox.
 *
 * Run: `deno task msg-bench` (options: --packets N (default 4000), --fetch N (default 1000),
 * --cpu-seconds S (default 60), --throughput-only)
 *
 * @module
 */

import process from "node:process";
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
const packetsN = arg("--packets", 4000);
const fetchN = arg("--fetch", 1000);
// --throughput-only: skip the client costs, the fetch and the 1 MiB message.
const throughputOnly = Deno.args.includes("--throughput-only");
const cpuSeconds = arg("--cpu-seconds", 60);
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
  // Sphinx ports take packets from the network's nodes only (sphinx.nodesOnly).
  net = await MessageNetwork.start({
    root,
    loopsPerSecond: 2,
    loopMeanDelayMs: 5,
    nodesOnly: true,
  });
  const person = async (
    providerIndex: number,
    extra: { rates?: typeof DEFAULT_COVER_RATES; defaults?: boolean },
  ) => {
    const url = net!.providers[providerIndex]!.url;
    const info = await providerInfo(url);
    const profile = providerProfile(url, info);
    const identity: MessageIdentity = await generateMessageIdentity(profile.provider);
    await registerWithProvider(url, identity);
    const transport = new Capturing(new ProviderTransport(profile, identity));
    const client = new MessageClient({
      identity,
      transport,
      payloadSize: info.payloadSize,
      ...(extra.defaults ? {} : { meanDelayMs: 1, ackTimeoutMs: 600_000, pollIntervalMs: 500 }),
      ...(extra.rates ? { rates: extra.rates } : {}),
    });
    return { identity, client, transport, address: encodeAddress(addressOf(identity)), profile };
  };

  // --- 1. client costs ------------------------------------------------------------------
  const alice = await person(0, {});
  const bob = await person(1, {});
  alice.transport.capture = true;
  if (!throughputOnly) {
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
      `client CPU at the default rates, estimated from the unit costs (λ_P ${r.payload}, λ_L ${r.loop}, λ_D ${r.drop} per s, idle): ` +
        `${(perSecondMs * 3.6).toFixed(0)} s per hour (${
          (perSecondMs / 10).toFixed(2)
        }% of a core)`,
    );

    // Measured directly: this process's CPU time (user + system) while one
    // client with every default (rates, delays, polling) runs alone in it for cpuSeconds.
    {
      const cpu = () => {
        const u = process.cpuUsage(); // microseconds of this process, user and system
        return (u.user + u.system) / 1e6;
      };
      const idle = await person(0, { defaults: true });
      const c0 = cpu();
      const t = performance.now();
      idle.client.start();
      await new Promise((r) => setTimeout(r, cpuSeconds * 1000));
      await idle.client.stop();
      const used = cpu() - c0;
      const wall = (performance.now() - t) / 1000;
      const s = idle.client.stats;
      say(`load ${load()}`);
      say(
        `client CPU at the default rates, measured: ${used.toFixed(2)} s of CPU in ${
          wall.toFixed(0)
        } s = ${(used / wall * 3600).toFixed(0)} s per hour (${
          (used / wall * 100).toFixed(2)
        }% of a core; ${s.loopsSent} loops sent, ${s.loopsReturned} back)`,
      );
    }

    // --- a 1 MiB message ----------------------------------------------------------------------
    {
      const big = new Uint8Array(1024 * 1024);
      for (let i = 0; i < big.length; i += 65536) {
        crypto.getRandomValues(big.subarray(i, i + 65536));
      }
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
        `1 MiB message: ${n} packets built and submitted in ${
          ((built - t) / 1000).toFixed(1)
        } s, ` +
          `received whole (${ok ? "intact" : "CORRUPTED"}) after ${
            ((performance.now() - t) / 1000).toFixed(1)
          } s`,
      );
    }
  }

  // --- 2. throughput ---------------------------------------------------------------------
  const c1 = await person(0, { rates: DEFAULT_COVER_RATES });
  const c2 = await person(0, { rates: DEFAULT_COVER_RATES }); // loops stay off provider1's count
  for (const c of [c1, c2]) {
    c.client.start();
    streaming.push(c.client);
  }
  // A sender of its own: its mailbox holds only the ACKs of this phase (counted below).
  const sender = await person(0, {});
  sender.transport.capture = true;
  const tb = performance.now();
  for (let i = 0; i < packetsN; i++) {
    await sender.client.send(bob.address, new Uint8Array(64));
  }
  await sender.client.flush();
  const packets = sender.transport.captured;
  say(`built ${packets.length} packets in ${((performance.now() - tb) / 1000).toFixed(1)} s`);
  // What "end to end" counts: a packet that completes its route, i.e. reaches the exit
  // of its route — a real message stored in the recipient's mailbox, its SURB-ACK back
  // in the sender's mailbox, a client loop and its SURB-ACK, a drop at the provider that
  // discards it, a node's λ_M loop back at its node. Losses: packets refused by a hop for
  // good (invalid, bad MAC, unknown key), deliveries refused at the exit (over quota,
  // unknown recipient, malformed), loops that never came back, packets dropped as
  // unroutable, real packets never stored and SURB-ACKs never back.
  const nodes = [...net!.providers, ...net!.mixes];
  const sum = (text: string, name: string, labels?: RegExp) => {
    let total = 0;
    for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\d+)`, "gm"))) {
      if (labels === undefined || labels.test(m[1] ?? "")) total += Number(m[2]);
    }
    return total;
  };
  const census = async () => {
    const texts = await Promise.all(
      nodes.map(async (n) => await (await fetch(`${n.url}/metrics`)).text()),
    );
    const all = (name: string, labels?: RegExp) =>
      texts.reduce((t, text) => t + sum(text, name, labels), 0);
    return {
      hops: all("panoramix_sphinx_packets_in_total"),
      delivered: all("panoramix_provider_deliveries_total"),
      exitRefused: all(
        "panoramix_provider_deliveries_total",
        /reason="(over_quota|unknown_recipient|malformed)"/,
      ),
      nodeLoopsBack: all("panoramix_sphinx_loops_returned_total"),
      nodeLoopsLost: all("panoramix_sphinx_loops_lost_total"),
      dropped: all(
        "panoramix_sphinx_packets_rejected_total",
        /reason="(invalid|bad_mac|unknown_key)"/,
      ),
      busy: all("panoramix_sphinx_packets_rejected_total", /reason="busy"/),
      unroutable: all("panoramix_sphinx_unroutable_dropped_total"),
      stored: sum(texts[1]!, "panoramix_provider_deliveries_total", /reason="stored"/),
      acks: sum(texts[0]!, "panoramix_provider_deliveries_total", /reason="reply"/),
    };
  };
  // CPU seconds (user + system) of each Sphinx node process and of this process (the
  // submitter and the two cover clients), from /proc on Linux (undefined elsewhere).
  const ticks = 100; // USER_HZ: clock ticks per second of /proc/PID/stat
  // (read with cat: Deno asks for --allow-all to read /proc directly)
  const nodeCpu = async (): Promise<(number | undefined)[]> => {
    try {
      const out = await new Deno.Command("cat", {
        args: nodes.map((n) => `/proc/${n.process.child.pid}/stat`),
        stderr: "null",
      }).output();
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
      return nodes.map((_, i) => {
        const stat = lines[i] ?? "";
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const t = (Number(fields[11]) + Number(fields[12])) / ticks; // utime, stime
        return Number.isFinite(t) ? t : undefined;
      });
    } catch {
      return nodes.map(() => undefined);
    }
  };
  // The whole machine's idle share (/proc/stat): how much CPU the other jobs left us.
  const machine = async (): Promise<{ idle: number; total: number } | undefined> => {
    try {
      const out = await new Deno.Command("cat", { args: ["/proc/stat"], stderr: "null" }).output();
      const cpu = new TextDecoder().decode(out.stdout).split("\n")[0]!.trim().split(/\s+/)
        .slice(1).map(Number);
      return { idle: cpu[3]! + cpu[4]!, total: cpu.reduce((a, b) => a + b, 0) };
    } catch {
      return undefined;
    }
  };
  const selfCpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let acksBack = 0;
  let cursor = 0;
  const countAcks = async () => {
    for (;;) {
      const items = await sender.transport.inner.fetch(cursor);
      if (items.length === 0) return;
      acksBack += items.filter((i) => i.kind === "reply").length;
      cursor = Math.max(...items.map((i) => i.id));
    }
  };
  const cpuBefore = await nodeCpu();
  const machineBefore = await machine();
  const selfBefore = selfCpu();
  const before = await census();
  const start = performance.now();
  const inner = sender.transport.inner;
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
  // Until every real packet is stored and provider 0 has delivered as many SURB-ACKs (it also
  // delivers the cover clients' loop ACKs, so this is checked as ≥), or a minute passes.
  const want = packets.length - refused;
  let now = before;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    now = await census();
    if (now.stored - before.stored >= want && now.acks - before.acks >= want) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const end = performance.now();
  const cpuAfter = await nodeCpu();
  const machineAfter = await machine();
  const selfUsed = selfCpu() - selfBefore;
  // Then the real SURB-ACKs exactly, outside the timed window: the items in the sender's
  // mailbox (only those ACKs: the sender runs no cover streams, and the cover clients' loop
  // ACKs go to their own mailboxes), fetched without opening them; late ones get 30 s.
  await countAcks();
  const acksInWindow = acksBack;
  for (const deadline = Date.now() + 30_000; acksBack < want && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 200));
    await countAcks();
  }
  const perNode = cpuAfter.map((c, i) =>
    c === undefined || cpuBefore[i] === undefined ? undefined : c - cpuBefore[i]!
  );
  const d = Object.fromEntries(
    Object.entries(now).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
  ) as typeof now;
  const seconds = (end - start) / 1000;
  // Deliveries the exit refused did not complete their route (they count as lost).
  const completed = d.delivered - d.exitRefused + d.nodeLoopsBack;
  const realLost = Math.max(0, want - d.stored);
  const acksLost = Math.max(0, want - acksBack);
  const lost = d.dropped + d.exitRefused + d.nodeLoopsLost + d.unroutable + realLost + acksLost;
  say(`load ${load()}`);
  say(
    `end to end: ${completed} packets completed their route in ${seconds.toFixed(1)} s = ` +
      `${(completed / seconds).toFixed(0)} packets/s (${d.stored} real stored, ` +
      `${acksBack} SURB-ACKs back (${acksBack - acksInWindow} after the window), ` +
      `${d.nodeLoopsBack} node loops back, ` +
      `${d.delivered - d.exitRefused - d.stored - acksInWindow} client cover (loops, their ACKs, ` +
      `drops)); ` +
      `${(d.stored / seconds).toFixed(0)} real messages/s; ${want} real submitted in ` +
      `${((submitted - start) / 1000).toFixed(1)} s, ${refused} refused at submission`,
  );
  say(
    `lost: ${lost} (${realLost} real not stored, ${acksLost} ACKs not back, ${d.dropped} dropped ` +
      `by a hop, ${d.exitRefused} refused at the exit, ${d.nodeLoopsLost} node loops lost, ` +
      `${d.unroutable} unroutable); ${d.busy} busy refusals (retried); ${d.hops} packet-hops ` +
      `processed by the 5 Sphinx nodes = ${(d.hops / seconds).toFixed(0)} hops/s`,
  );
  if (perNode.every((c) => c !== undefined)) {
    const nodeSeconds = perNode.reduce((a, c) => a + c!, 0);
    say(
      `CPU: the 5 Sphinx nodes used ${nodeSeconds.toFixed(1)} s (${
        perNode.map((c, i) => `${nodes[i]!.name} ${c!.toFixed(1)}`).join(", ")
      }) = ${(d.hops / nodeSeconds).toFixed(0)} packet-hops per node CPU-second ` +
        `(${(nodeSeconds / d.hops * 1e6).toFixed(0)} µs per hop); this process (submitter and ` +
        `cover clients) ${selfUsed.toFixed(1)} s; ${
          ((nodeSeconds + selfUsed) / seconds).toFixed(2)
        } cores busy on average${
          machineBefore && machineAfter
            ? `; the machine was ${
              (100 * (machineAfter.idle - machineBefore.idle) /
                Math.max(1, machineAfter.total - machineBefore.total)).toFixed(0)
            }% idle`
            : ""
        }`,
    );
  }
  if (lost > 0) Deno.exitCode = 1;
} finally {
  for (const c of streaming) await c.stop();
  if (net) await net.stop();
  await Deno.remove(root, { recursive: true });
}
