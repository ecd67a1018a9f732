/**
 * A bounded load run against a local Sphinx network: a directory in this process,
 * three Sphinx mixes as child processes on loopback, packets pushed through 3-hop
 * routes over persistent pipelined connections. Reports throughput and latency
 * (acknowledgement by the first hop = committed to its disk, and end-to-end delivery
 * into the exit's mailbox). Used by the load test and examples/node_load.ts.
 *
 * @module
 */

import { NodeClient } from "./client.ts";
import { NodeProcess, writeNodeDir } from "./cluster.ts";
import { buildPacket, chooseRoute, fetchTopology } from "./sphinx_client.ts";
import { SPHINX_STATUS, SphinxLink } from "./sphinx_link.ts";
import { TestNetwork } from "./test_support.ts";
import { generateIdentity } from "./identity.ts";
import { fetchMailbox } from "./mailbox.ts";

/** Options of {@linkcode runSphinxLoad}. */
export interface SphinxLoadOptions {
  /** Packets to send. */
  count: number;
  /** Stop waiting for deliveries after this many ms. */
  timeLimitMs: number;
  /** Mean per-hop delay in ms (default 0: measure the mixes, not the delays). */
  meanDelayMs?: number;
  /** Most packets sent and not yet acknowledged (default 1000). */
  window?: number;
  /** Progress callback. */
  onProgress?: (text: string) => void;
}

/** Load figures. */
export interface SphinxLoadResult {
  /** Packets sent. */
  sent: number;
  /** Packets acknowledged as accepted by the first hop. */
  accepted: number;
  /** Messages delivered at the exits. */
  delivered: number;
  /** Packets created per second by the client (3 hops). */
  createPerSecond: number;
  /** Delivered messages per second, first send to last delivery. */
  throughputPerSecond: number;
  /** First-hop acknowledgement latency in ms, p50 and p99. */
  ackLatencyMs: { p50: number; p99: number };
  /** End-to-end latency in ms (3 hops, mailbox polled every 20 ms), p50 and p99. */
  endToEndMs: { p50: number; p99: number };
  /** Wall time of the sending and delivery phase in seconds. */
  seconds: number;
  /** Mix processes that stopped on SIGTERM with status 0 and without the forced exit. */
  gracefulStops: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Runs the load.
 *
 * @param options count, time limit, delays, window
 * @returns the figures
 * @example
 * ```ts ignore
 * const r = await runSphinxLoad({ count: 1000, timeLimitMs: 30_000 });
 * ```
 */
export async function runSphinxLoad(options: SphinxLoadOptions): Promise<SphinxLoadResult> {
  const log = options.onProgress ?? (() => {});
  const net = await TestNetwork.create();
  const procs: NodeProcess[] = [];
  try {
    const dir = await net.start({ name: "directory", roles: ["directory"] });
    for (let i = 0; i < 3; i++) {
      const { configPath } = await writeNodeDir(`${net.root}/mix${i}`, {
        name: `mix${i}`,
        roles: ["sphinx"],
        directoryUrl: dir.url,
      });
      procs.push(await NodeProcess.spawn(configPath));
    }
    const topology = await fetchTopology(new NodeClient(dir.url), dir.identity.publicKey);
    const owner = generateIdentity(); // the mailbox key that reads the exits' mailboxes
    const recipient = owner.publicKey;
    log(`building ${options.count} packets`);
    const created = performance.now();
    const packets: { packet: Uint8Array; first: string }[] = [];
    for (let i = 0; i < options.count; i++) {
      const route = chooseRoute(topology, { hops: 3, meanDelayMs: options.meanDelayMs ?? 0 });
      const message = new Uint8Array(8);
      new DataView(message.buffer).setUint32(0, i);
      packets.push({
        packet: await buildPacket(message, { route, recipient, payloadSize: 1024 }),
        first: route.nodes[0]!.sphinxAddress,
      });
    }
    const createPerSecond = options.count / ((performance.now() - created) / 1000);
    const mixes = topology.nodes.filter((n) => n.sphinxAddress !== "");
    const exits = mixes.map((n) => n.httpUrl);
    const links = new Map<string, SphinxLink>();
    for (const n of mixes) links.set(n.sphinxAddress, await SphinxLink.connect(n.sphinxAddress));
    const sentAt = new Float64Array(options.count);
    const ackLatency: number[] = [];
    const e2e: number[] = [];
    const seen = new Uint8Array(options.count);
    let accepted = 0;
    let delivered = 0;
    const cursors = new Map<string, number>(exits.map((u) => [u, 0]));
    const start = performance.now();
    const deadline = start + options.timeLimitMs;
    let lastDelivery = start;
    let polling = true;
    const poller = (async () => {
      while (polling && delivered < options.count && performance.now() < deadline) {
        for (const url of exits) {
          for (;;) {
            const messages = await fetchMailbox(url, { identity: owner, after: cursors.get(url)! });
            const now = performance.now();
            for (const m of messages) {
              const bytes = m.message;
              const i = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
              if (i < options.count && !seen[i]) {
                seen[i] = 1;
                delivered++;
                e2e.push(now - sentAt[i]!);
                lastDelivery = now;
              }
              cursors.set(url, m.id);
            }
            if (messages.length < 1000) break;
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const window = options.window ?? 1000;
    let inFlight = 0;
    const acks: Promise<void>[] = [];
    for (let i = 0; i < options.count; i++) {
      while (inFlight >= window) await new Promise((r) => setTimeout(r, 1));
      const { packet, first } = packets[i]!;
      sentAt[i] = performance.now();
      inFlight++;
      acks.push(
        links.get(first)!.send(packet).then((status) => {
          inFlight--;
          if (status === SPHINX_STATUS.accepted) {
            accepted++;
            ackLatency.push(performance.now() - sentAt[i]!);
          }
        }, () => {
          inFlight--;
        }),
      );
      if (i % 5000 === 4999) log(`sent ${i + 1}`);
      if (performance.now() > deadline) break;
    }
    await Promise.all(acks);
    log(`all sent; ${accepted} accepted; waiting for deliveries`);
    await poller;
    polling = false;
    for (const l of links.values()) l.close();
    const seconds = (lastDelivery - start) / 1000;
    // Graceful stop of every mix; none may need the forced exit (a leaked handle).
    let gracefulStops = 0;
    for (const p of procs.splice(0)) {
      const status = await p.stop("SIGTERM");
      if (status.code === 0 && !p.log.some((line) => line.includes('"forced_exit"'))) {
        gracefulStops++;
      }
    }
    return {
      sent: acks.length,
      accepted,
      delivered,
      createPerSecond,
      throughputPerSecond: delivered / seconds,
      ackLatencyMs: { p50: percentile(ackLatency, 50), p99: percentile(ackLatency, 99) },
      endToEndMs: { p50: percentile(e2e, 50), p99: percentile(e2e, 99) },
      seconds,
      gracefulStops,
    };
  } finally {
    for (const p of procs) await p.stop("SIGKILL");
    await net.close();
  }
}
