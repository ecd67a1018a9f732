/**
 * `panoramix node selftest`: measures what bounds a node's throughput on this
 * machine — Sphinx unwraps per second, Ed25519 signatures and verifications per
 * second, and durable SQLite commits per second.
 *
 * @module
 */

import { x25519 } from "@noble/curves/ed25519.js";
import {
  createSphinxPacket,
  SPHINX_DEFAULT_PAYLOAD_SIZE,
  sphinxX25519,
  unwrapSphinxPacket,
} from "../../backends/decrypt/mod.ts";
import { randomBytes } from "../../core/random.ts";
import { generateIdentity, signParts, verifyParts } from "./identity.ts";
import { Store } from "./storage.ts";

/** Selftest figures. */
export interface SelftestResult {
  /** Sphinx packets unwrapped per second (one core, including MAC and payload decryption). */
  sphinxUnwrapsPerSecond: number;
  /** Payload size used. */
  payloadSize: number;
  /** X25519 engine used ("wasm", "webcrypto" or "noble"). */
  x25519: string;
  /** Ed25519 signatures per second. */
  signaturesPerSecond: number;
  /** Ed25519 verifications per second. */
  verificationsPerSecond: number;
  /** Durable (fsynced) SQLite commits per second, one small write each. */
  commitsPerSecond: number;
}

async function rate(seconds: number, op: (i: number) => unknown): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let n = 0;
  while (performance.now() < deadline) {
    await op(n);
    n++;
  }
  return n / ((performance.now() - started) / 1000);
}

/**
 * Runs the measurements.
 *
 * @param options seconds per measurement
 * @returns the figures
 * @example
 * ```ts ignore
 * const r = await runSelftest({ seconds: 1 });
 * console.log(r.sphinxUnwrapsPerSecond);
 * ```
 */
export async function runSelftest(options: { seconds: number }): Promise<SelftestResult> {
  const engine = await sphinxX25519();
  const secretKey = randomBytes(32);
  const key = { keyId: 7, secretKey, publicKey: x25519.getPublicKey(secretKey) };
  const route = [
    { nodeId: randomBytes(32), publicKey: key.publicKey, keyId: 7 },
    { nodeId: randomBytes(32), publicKey: key.publicKey, keyId: 7 },
  ];
  const packets: Uint8Array[] = [];
  for (let i = 0; i < 64; i++) {
    packets.push((await createSphinxPacket(randomBytes(32), { route, x25519: engine })).packet);
  }
  const unwraps = await rate(options.seconds, async (i) => {
    await unwrapSphinxPacket(packets[i % packets.length]!, { keys: key, x25519: engine });
  });
  const id = generateIdentity();
  const message = { label: "panoramix/node/selftest/v1", parts: [randomBytes(64)] };
  const signature = signParts(id, message);
  const signs = await rate(options.seconds / 2, () => signParts(id, message));
  const verifies = await rate(
    options.seconds / 2,
    () => verifyParts(id.publicKey, { ...message, signature }),
  );
  const dir = await Deno.makeTempDir({ prefix: "panoramix-selftest-" });
  let commits = 0;
  try {
    const store = new Store(`${dir}/selftest.sqlite`);
    store.write(() => store.db.exec("CREATE TABLE t (x BLOB)"));
    await store.commit();
    const insert = store.db.prepare("INSERT INTO t VALUES (?)");
    commits = await rate(options.seconds / 2, async () => {
      store.write(() => insert.run(randomBytes(32)));
      await store.commit();
    });
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return {
    sphinxUnwrapsPerSecond: unwraps,
    payloadSize: SPHINX_DEFAULT_PAYLOAD_SIZE,
    x25519: engine.name,
    signaturesPerSecond: signs,
    verificationsPerSecond: verifies,
    commitsPerSecond: commits,
  };
}
