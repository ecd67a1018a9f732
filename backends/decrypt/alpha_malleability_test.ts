/**
 * Issue 11, point 8: α with an order-2 point added (u ↦ 1/u on Curve25519: x(P + (0,0)) =
 * 1/x(P)) gives the same X25519 shared secret, because the clamped scalar is a multiple of
 * the cofactor 8. Hop keys that depend on s alone let such a packet pass hop i's MAC, burn
 * its replay tag, and be forwarded with a wrong α that hop i+1 rejects: a tagging attack.
 * Every hop key now binds α, so hop i itself rejects the modified packet.
 */
import assert from "node:assert/strict";
import { VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { createSphinxPacket } from "./packet.ts";
import { SPHINX_OFFSETS } from "./header.ts";
import { MemoryReplayCache } from "./replay_cache.ts";
import { testNodes } from "./test_helpers.ts";
import { unwrapSphinxPacket, unwrapSphinxPackets } from "./unwrap.ts";
import {
  nobleSphinxX25519,
  type SphinxX25519,
  wasmSphinxX25519,
  webCryptoSphinxX25519,
} from "./x25519.ts";

const P = 2n ** 255n - 19n;

function decodeU(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function encodeU(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  base %= P;
  for (; exponent > 0n; exponent >>= 1n, base = (base * base) % P) {
    if (exponent & 1n) result = (result * base) % P;
  }
  return result;
}

/** The packet with α replaced by 1/α mod p: α plus the point (0, 0) of order 2. */
function withInvertedAlpha(packet: Uint8Array): Uint8Array {
  const out = packet.slice();
  const alpha = decodeU(packet.subarray(SPHINX_OFFSETS.alpha, SPHINX_OFFSETS.beta));
  out.set(encodeU(power(alpha, P - 2n)), SPHINX_OFFSETS.alpha);
  return out;
}

const engines: [string, SphinxX25519][] = [
  ["wasm", wasmSphinxX25519],
  ["webcrypto", webCryptoSphinxX25519],
  ["noble", nobleSphinxX25519],
];

for (const [name, engine] of engines) {
  Deno.test(`α ↦ 1/α gives the same X25519 secret (${name}), so only binding α stops it`, async () => {
    const { keys } = testNodes(1, "alpha-secret");
    const alpha = new Uint8Array(32);
    seededRandom("alpha")(alpha);
    alpha[31]! &= 0x7f;
    const inverted = encodeU(power(decodeU(alpha), P - 2n));
    const s1 = await engine.scalarMult(keys[0]!.secretKey, alpha);
    const s2 = await engine.scalarMult(keys[0]!.secretKey, inverted);
    assert.deepEqual(s2, s1);
  });

  Deno.test(`a packet with α ↦ 1/α is rejected at the hop it reaches (${name})`, async () => {
    const { keys, route } = testNodes(3, "alpha-malleability");
    const { packet } = await createSphinxPacket(new TextEncoder().encode("hello"), {
      route,
      x25519: engine,
      random: seededRandom(`alpha-malleability-${name}`),
    });
    const tampered = withInvertedAlpha(packet);
    const cache = new MemoryReplayCache();
    const first = { keys: keys[0]!, x25519: engine, replayCache: cache };

    // Hop 0 refuses the modified packet before recording anything (before the fix it
    // accepted it, with the original's replay tag, and forwarded a packet hop 1 refused).
    await assert.rejects(unwrapSphinxPacket(tampered, first), VerificationError);
    const [batch] = await unwrapSphinxPackets([tampered], first);
    assert.ok(batch instanceof VerificationError, String(batch));

    // The replay tag of the real packet was not burned: it still goes through every hop.
    const out0 = await unwrapSphinxPacket(packet, first);
    assert.equal(out0.kind, "forward");
    if (out0.kind !== "forward") return;
    // The same modification one hop later is refused there too.
    await assert.rejects(
      unwrapSphinxPacket(withInvertedAlpha(out0.packet), { keys: keys[1]!, x25519: engine }),
      VerificationError,
    );
    const out1 = await unwrapSphinxPacket(out0.packet, { keys: keys[1]!, x25519: engine });
    assert.equal(out1.kind, "forward");
    if (out1.kind !== "forward") return;
    const out2 = await unwrapSphinxPacket(out1.packet, { keys: keys[2]!, x25519: engine });
    assert.equal(out2.kind, "deliver");
    if (out2.kind === "deliver") assert.equal(new TextDecoder().decode(out2.message), "hello");
  });
}
