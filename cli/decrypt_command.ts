/**
 * `panoramix bench decrypt`: Sphinx packet creation and unwrap timings for the
 * decryption backend (docs/sphinx.md §8 explains the figures).
 *
 * @module
 */

import process from "node:process";
import { x25519 } from "@noble/curves/ed25519.js";
import { buildCommand } from "@stricli/core";
import { randomBytes } from "../core/random.ts";
import {
  createSphinxPacket,
  nobleSphinxX25519,
  SPHINX_DEFAULT_PAYLOAD_SIZE,
  SPHINX_MAX_HOPS,
  SPHINX_MAX_PAYLOAD_SIZE,
  SPHINX_MIN_PAYLOAD_SIZE,
  type SphinxHop,
  type SphinxNodeKey,
  sphinxPacketSize,
  type SphinxX25519,
  sphinxX25519,
  unwrapSphinxPacket,
  unwrapSphinxPackets,
  wasmSphinxX25519,
  webCryptoSphinxX25519,
} from "../backends/decrypt/mod.ts";
import type { CliContext } from "./context.ts";
import { integerFlag } from "./flags.ts";

/** Targets from issue 4, printed next to the measurements. */
const TARGET_UNWRAPS_PER_CORE = 5000;
const TARGET_CREATE_US = 400;
/** Packets per batch in the throughput run (`unwrapSphinxPackets`, as a cascade mixer does). */
const IN_FLIGHT = 64;

interface DecryptBenchFlags {
  packets: number;
  hops: number;
  payloadSize: number;
  engine: "auto" | "webcrypto" | "wasm" | "noble";
  json?: boolean;
}

/** Process CPU time (all threads, user + system) in microseconds. */
function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** The figures `bench decrypt` reports. */
export interface DecryptBenchResult {
  /** Hops per packet. */
  hops: number;
  /** Payload bytes. */
  payloadSize: number;
  /** Packet bytes. */
  packetSize: number;
  /** X25519 engine used. */
  engine: string;
  /** Packets created and unwrapped. */
  packets: number;
  /** Wall-clock microseconds per packet creation, one at a time. */
  createUs: number;
  /** Process CPU microseconds per packet creation (all threads). */
  createCpuUs: number;
  /** Wall-clock microseconds per unwrap, one at a time. */
  unwrapUs: number;
  /** Process CPU microseconds per unwrap (all threads) in batches of 64 packets. */
  unwrapCpuUs: number;
  /** Unwraps per second per core: 10^6 / unwrapCpuUs. */
  unwrapsPerSecondPerCore: number;
  /** Wall-clock unwraps per second in batches of 64 (may use the WebCrypto thread pool). */
  unwrapsPerSecondWall: number;
}

async function measure(
  flags: DecryptBenchFlags,
  engine: SphinxX25519,
  progress: (line: string) => Promise<void>,
): Promise<DecryptBenchResult> {
  const keys: SphinxNodeKey[] = [];
  const route: SphinxHop[] = [];
  for (let i = 0; i < flags.hops; i++) {
    const secretKey = randomBytes(32);
    keys.push({ keyId: i, secretKey, publicKey: x25519.getPublicKey(secretKey) });
    route.push({ nodeId: randomBytes(32), publicKey: keys[i]!.publicKey, keyId: i });
  }
  const message = randomBytes(Math.min(256, flags.payloadSize - 20));
  const options = { route, payloadSize: flags.payloadSize, x25519: engine };
  const first = keys[0]!;
  const unwrapOptions = { keys: first, payloadSize: flags.payloadSize, x25519: engine };
  // Warm-up: JIT, key imports, engine selection.
  const warm = Math.min(100, flags.packets);
  for (let i = 0; i < warm; i++) {
    const { packet } = await createSphinxPacket(message, options);
    await unwrapSphinxPacket(packet, unwrapOptions);
  }

  await progress(`creating ${flags.packets} packets over ${flags.hops} hops`);
  const packets: Uint8Array[] = [];
  const createCpuStart = cpuMicros();
  let start = performance.now();
  for (let i = 0; i < flags.packets; i++) {
    packets.push((await createSphinxPacket(message, options)).packet);
  }
  const createUs = ((performance.now() - start) * 1000) / flags.packets;
  const createCpuUs = (cpuMicros() - createCpuStart) / flags.packets;

  await progress(`unwrapping ${flags.packets} packets one at a time`);
  start = performance.now();
  for (const packet of packets) await unwrapSphinxPacket(packet, unwrapOptions);
  const unwrapUs = ((performance.now() - start) * 1000) / flags.packets;

  await progress(`unwrapping ${flags.packets} packets in batches of ${IN_FLIGHT}`);
  const cpuStart = cpuMicros();
  start = performance.now();
  let failed = 0;
  for (let i = 0; i < packets.length; i += IN_FLIGHT) {
    const results = await unwrapSphinxPackets(packets.slice(i, i + IN_FLIGHT), unwrapOptions);
    for (const result of results) if (result instanceof Error) failed++;
  }
  const wallUs = (performance.now() - start) * 1000;
  // A failed unwrap would make the batch look faster than it is.
  if (failed > 0) throw new Error(`${failed} of ${flags.packets} batch unwraps failed`);
  const unwrapCpuUs = (cpuMicros() - cpuStart) / flags.packets;
  return {
    hops: flags.hops,
    payloadSize: flags.payloadSize,
    packetSize: sphinxPacketSize(flags.payloadSize),
    engine: engine.name,
    packets: flags.packets,
    createUs,
    createCpuUs,
    unwrapUs,
    unwrapCpuUs,
    unwrapsPerSecondPerCore: 1e6 / unwrapCpuUs,
    unwrapsPerSecondWall: (1e6 * flags.packets) / wallUs,
  };
}

function report(r: DecryptBenchResult): string {
  const n = (x: number, digits = 0) =>
    x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const met = (ok: boolean) => (ok ? "met" : "not met");
  return [
    `Sphinx (decrypt backend): ${r.hops} hops, payload ${r.payloadSize} B (packet ${r.packetSize} B), ` +
    `X25519 engine ${r.engine}, ${r.packets} packets`,
    `  create  ${n(r.createUs, 1)} µs/packet  (one at a time, wall clock; ${
      n(r.createCpuUs, 1)
    } µs of process CPU time)`,
    `  unwrap  ${n(r.unwrapUs, 1)} µs/packet  (one at a time, wall clock) = ${
      n(1e6 / r.unwrapUs)
    } packets/s on one stream`,
    `  unwrap  ${n(r.unwrapsPerSecondPerCore)} packets/s per core  (batches of ${IN_FLIGHT}; ` +
    `${n(r.unwrapCpuUs, 1)} µs of process CPU time per packet, all threads)`,
    `  unwrap  ${n(r.unwrapsPerSecondWall)} packets/s wall clock in batches of ${IN_FLIGHT}`,
    `  targets unwrap >= ${n(TARGET_UNWRAPS_PER_CORE)}/s/core: ${
      met(r.unwrapsPerSecondPerCore >= TARGET_UNWRAPS_PER_CORE)
    }; create (3 hops) <= ${TARGET_CREATE_US} µs: ${
      r.hops === 3 ? met(r.createUs <= TARGET_CREATE_US) : "not measured (use --hops 3)"
    }`,
    "",
  ].join("\n");
}

/**
 * `panoramix bench decrypt [--packets N] [--hops H] [--payload-size B] [--engine E] [--json]`.
 */
export const decryptBenchCommand = buildCommand({
  async func(this: CliContext, flags: DecryptBenchFlags) {
    const engine = flags.engine === "webcrypto"
      ? webCryptoSphinxX25519
      : flags.engine === "wasm"
      ? wasmSphinxX25519
      : flags.engine === "noble"
      ? nobleSphinxX25519
      : await sphinxX25519();
    const result = await measure(flags, engine, (line) => this.stderr.write(`${line}\n`));
    await this.stdout.write(
      flags.json ? JSON.stringify({ backend: "decrypt", ...result }) + "\n" : report(result),
    );
  },
  parameters: {
    flags: {
      packets: {
        kind: "parsed",
        parse: integerFlag("--packets", { min: 1, max: 1_000_000 }),
        default: "2000",
        brief: "Packets to create and unwrap",
      },
      hops: {
        kind: "parsed",
        parse: integerFlag("--hops", { min: 1, max: SPHINX_MAX_HOPS }),
        default: "3",
        brief: `Route length, 1 to ${SPHINX_MAX_HOPS}`,
      },
      payloadSize: {
        kind: "parsed",
        parse: integerFlag("--payload-size", {
          min: SPHINX_MIN_PAYLOAD_SIZE,
          max: SPHINX_MAX_PAYLOAD_SIZE,
        }),
        default: String(SPHINX_DEFAULT_PAYLOAD_SIZE),
        brief: "Payload bytes per packet",
      },
      engine: {
        kind: "enum",
        values: ["auto", "webcrypto", "wasm", "noble"],
        default: "auto",
        brief: "X25519 implementation (auto: WebAssembly, else WebCrypto, else noble)",
      },
      json: { kind: "boolean", optional: true, brief: "Print the figures as JSON" },
    },
  },
  docs: {
    brief: "Time Sphinx packet creation and unwrapping",
    fullDescription:
      "Creates --packets Sphinx packets over --hops hops, then unwraps them at the first hop, " +
      "one at a time and in batches of 64 (unwrapSphinxPackets). Prints µs per create and per unwrap (wall clock) " +
      "and unwraps per second per core, computed from the process CPU time of all threads " +
      "(WebCrypto runs X25519 on a thread pool). Progress goes to stderr.",
  },
});
