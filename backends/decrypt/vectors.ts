/**
 * Deterministic Sphinx test vectors (docs/sphinx.md §7). Everything is derived from
 * seeded ChaCha20 streams (core/random.ts `seededRandom`) so that
 * `testdata/sphinx_vectors.json` can be regenerated and compared byte for byte.
 * Internal to the backend (not exported from mod.ts).
 *
 * @module
 */

import { x25519 } from "@noble/curves/ed25519.js";
import { toHex } from "../../core/bytes.ts";
import { PanoramixError } from "../../core/errors.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import type { SphinxCommand } from "./command.ts";
import { createSphinxHeader, type SphinxHop } from "./header.ts";
import { lionessEncrypt } from "./lioness.ts";
import { SPHINX_HEADER_SIZE } from "./params.ts";
import { encodeSphinxPayload } from "./payload.ts";
import { MemoryReplayCache } from "./replay_cache.ts";
import {
  createSphinxReply,
  createSphinxSurb,
  encodeSphinxSurb,
  encodeSphinxSurbSecret,
  openSphinxReply,
} from "./surb.ts";
import { type SphinxNodeKey, unwrapSphinxPacket } from "./unwrap.ts";
import type { SphinxX25519 } from "./x25519.ts";

/** Seed prefix of every stream used by the vectors. */
export const SPHINX_VECTOR_SEED = "panoramix/sphinx/test-vectors/v1";
/** Payload size of the vectors (small, to keep the file short). */
export const SPHINX_VECTOR_PAYLOAD_SIZE = 128;

const encoder = new TextEncoder();

function commandView(command: SphinxCommand): Record<string, unknown> {
  if (command.kind === "forward") {
    return {
      kind: "forward",
      nextHop: toHex(command.nextHop),
      nextKeyId: command.nextKeyId,
      delayMs: command.delayMs,
    };
  }
  if (command.kind === "deliver") {
    return { kind: "deliver", recipient: toHex(command.recipient), delayMs: command.delayMs };
  }
  return {
    kind: "reply",
    recipient: toHex(command.recipient),
    surbId: toHex(command.surbId),
    delayMs: command.delayMs,
  };
}

/** The five test nodes: secret keys from the stream `<seed>/nodes`. */
export function vectorNodes(): { keys: SphinxNodeKey[]; ids: Uint8Array[] } {
  const random = seededRandom(`${SPHINX_VECTOR_SEED}/nodes`);
  const keys: SphinxNodeKey[] = [], ids: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) {
    const secretKey = randomBytes(32, random);
    keys.push({ keyId: 10 + i, secretKey, publicKey: x25519.getPublicKey(secretKey) });
    ids.push(randomBytes(32, random));
  }
  return { keys, ids };
}

function route(n: number, nodes: ReturnType<typeof vectorNodes>): SphinxHop[] {
  return nodes.keys.slice(0, n).map((k, i) => ({
    nodeId: nodes.ids[i]!,
    publicKey: k.publicKey,
    keyId: k.keyId,
    delayMs: 100 * (i + 1),
  }));
}

async function errorName(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (error) {
    if (error instanceof PanoramixError) return error.name;
    throw error;
  }
  return "none";
}

async function walk(
  packet: Uint8Array,
  n: number,
  nodes: ReturnType<typeof vectorNodes>,
  engine: SphinxX25519,
): Promise<{ hops: Record<string, unknown>[]; last: Record<string, unknown> }> {
  const hops: Record<string, unknown>[] = [];
  let current = packet;
  let last: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const out = await unwrapSphinxPacket(current, {
      keys: nodes.keys[i]!,
      payloadSize: SPHINX_VECTOR_PAYLOAD_SIZE,
      x25519: engine,
    });
    const view: Record<string, unknown> = { node: i, replayTag: toHex(out.replayTag) };
    if (out.kind === "forward") {
      view.result = commandView({ ...out, kind: "forward" });
      view.packet = toHex(out.packet);
      current = out.packet;
    } else if (out.kind === "deliver") {
      view.result = commandView({
        kind: "deliver",
        recipient: out.recipient,
        delayMs: out.delayMs,
      });
      view.message = toHex(out.message);
    } else {
      view.result = commandView({ ...out, kind: "reply" });
      view.payload = toHex(out.payload);
      last = { ...out };
    }
    hops.push(view);
  }
  return { hops, last };
}

/**
 * Builds the whole vector document.
 *
 * @param engine X25519 engine (both engines must give the same document)
 * @returns the JSON-serialisable vectors
 */
export async function generateSphinxVectors(
  engine: SphinxX25519,
): Promise<Record<string, unknown>> {
  const nodes = vectorNodes();
  const payloadSize = SPHINX_VECTOR_PAYLOAD_SIZE;
  const forward: Record<string, unknown>[] = [];
  const packets: Uint8Array[] = [];
  for (let n = 1; n <= 5; n++) {
    const seed = `${SPHINX_VECTOR_SEED}/forward/${n}`;
    const message = encoder.encode(`Sphinx test message over ${n} hop${n === 1 ? "" : "s"}`);
    const recipient = new Uint8Array(32).fill(0xee);
    const r = route(n, nodes);
    const { header, hopKeys, alphas, secrets } = await createSphinxHeader({
      route: r,
      final: { kind: "deliver", recipient, delayMs: 0 },
      random: seededRandom(seed),
      x25519: engine,
    });
    // Same steps as createSphinxPacket, kept open here so the vectors show every layer.
    let delta = encodeSphinxPayload(message, payloadSize);
    for (let i = n - 1; i >= 0; i--) delta = lionessEncrypt(hopKeys[i]!.payload, delta);
    const packet = new Uint8Array(SPHINX_HEADER_SIZE + payloadSize);
    packet.set(header);
    packet.set(delta, SPHINX_HEADER_SIZE);
    packets.push(packet);
    const { hops } = await walk(packet, n, nodes, engine);
    forward.push({
      hops: n,
      seed,
      message: toHex(message),
      recipient: toHex(recipient),
      route: r.map((h, i) => ({ node: i, delayMs: h.delayMs })),
      creation: hopKeys.map((k, i) => ({
        alpha: toHex(alphas[i]!),
        sharedSecret: toHex(secrets[i]!),
        macKey: toHex(k.mac),
        routingKey: toHex(k.routing),
        payloadKey: toHex(k.payload),
        blindingFactor: toHex(k.blinding),
        replayTag: toHex(k.replayTag),
      })),
      packet: toHex(packet),
      unwrap: hops,
    });
  }

  // SURB: route of 3 hops back to the creator, reply, open.
  const surbSeed = `${SPHINX_VECTOR_SEED}/surb`;
  const creator = new Uint8Array(32).fill(0xcc);
  const { surb, secret } = await createSphinxSurb({
    route: route(3, nodes),
    recipient: creator,
    random: seededRandom(surbSeed),
    x25519: engine,
  });
  const replyMessage = encoder.encode("Sphinx test reply through a SURB");
  const reply = createSphinxReply(surb, { message: replyMessage, payloadSize });
  const surbWalk = await walk(reply.packet, 3, nodes, engine);
  const opened = openSphinxReply(secret, surbWalk.last.payload as Uint8Array);

  // Failure cases, each with the error class a node must raise.
  const three = packets[2]!;
  const flip = (p: Uint8Array, at: number) => {
    const q = p.slice();
    q[at]! ^= 1;
    return q;
  };
  const unwrapAt = (p: Uint8Array, node: number, cache?: MemoryReplayCache) =>
    unwrapSphinxPacket(p, {
      keys: nodes.keys[node]!,
      payloadSize,
      x25519: engine,
      ...(cache === undefined ? {} : { replayCache: cache }),
    });
  const cases: { name: string; packet: Uint8Array; node: number; replay?: boolean }[] = [
    { name: "bad MAC: bit flipped in gamma", packet: flip(three, SPHINX_HEADER_SIZE - 1), node: 0 },
    { name: "bad MAC: bit flipped in beta", packet: flip(three, 100), node: 0 },
    { name: "bad MAC: bit flipped in alpha", packet: flip(three, 2), node: 0 },
    {
      name: "wrong key: packet for node 0 given to node 1 (key id rewritten)",
      packet: ((p) => (p[1] = 11, p))(three.slice()),
      node: 1,
    },
    {
      name: "tampered payload: detected at the exit",
      packet: flip(packets[0]!, SPHINX_HEADER_SIZE + 40),
      node: 0,
    },
    { name: "replay: same packet twice at one node", packet: three, node: 0, replay: true },
    { name: "truncated packet", packet: three.subarray(0, three.length - 1), node: 0 },
    { name: "oversized packet", packet: new Uint8Array([...three, 0]), node: 0 },
    { name: "unsupported version", packet: ((p) => (p[0] = 1, p))(three.slice()), node: 0 },
    { name: "unknown key id", packet: ((p) => (p[1] = 99, p))(three.slice()), node: 0 },
  ];
  const failures: Record<string, unknown>[] = [];
  for (const c of cases) {
    let error: string;
    if (c.replay) {
      const cache = new MemoryReplayCache();
      await unwrapAt(c.packet, c.node, cache);
      error = await errorName(() => unwrapAt(c.packet, c.node, cache));
    } else {
      error = await errorName(() => unwrapAt(c.packet, c.node));
    }
    failures.push({
      name: c.name,
      node: c.node,
      packet: toHex(c.packet),
      ...(c.replay ? { processTwice: true } : {}),
      error,
    });
  }

  return {
    description:
      "Panoramix Sphinx v1 test vectors: creation with fixed randomness, every hop's unwrap, a SURB reply and failure cases. See docs/sphinx.md. All byte strings are hex.",
    seed: SPHINX_VECTOR_SEED,
    randomness:
      "seededRandom(seed) from core/random.ts: ChaCha20 keystream under SHA-256('panoramix/seeded-random/v1' || seed)",
    payloadSize,
    nodes: nodes.keys.map((k, i) => ({
      nodeId: toHex(nodes.ids[i]!),
      keyId: k.keyId,
      secretKey: toHex(k.secretKey),
      publicKey: toHex(k.publicKey),
    })),
    forward,
    surb: {
      seed: surbSeed,
      route: route(3, nodes).map((h, i) => ({ node: i, delayMs: h.delayMs })),
      recipient: toHex(creator),
      surb: toHex(encodeSphinxSurb(surb)),
      secret: toHex(encodeSphinxSurbSecret(secret)),
      replyMessage: toHex(replyMessage),
      replyPacket: toHex(reply.packet),
      unwrap: surbWalk.hops,
      openedMessage: toHex(opened),
    },
    failures,
  };
}
