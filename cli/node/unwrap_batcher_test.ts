import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import { PanoramixError, VerificationError } from "../../core/errors.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import {
  createSphinxPacket,
  sphinxX25519,
  unwrapSphinxPacket,
} from "../../backends/decrypt/mod.ts";
import { UNWRAP_BATCH_LIMIT, UnwrapBatcher } from "./unwrap_batcher.ts";

Deno.test("batched unwraps give each caller what unwrapping alone gives, errors included", async () => {
  const random = seededRandom("unwrap_batcher_test");
  const engine = await sphinxX25519();
  const keys = [7, 8].map((keyId) => {
    const secretKey = randomBytes(32, random);
    return { keyId, secretKey, publicKey: x25519.getPublicKey(secretKey) };
  });
  const packets: { packet: Uint8Array; key: (typeof keys)[number] }[] = [];
  for (let i = 0; i < UNWRAP_BATCH_LIMIT + 10; i++) { // more than one batch, two keys
    const key = keys[i % 2]!;
    const route = [
      { nodeId: randomBytes(32, random), publicKey: key.publicKey, keyId: key.keyId },
      { nodeId: randomBytes(32, random), publicKey: keys[0]!.publicKey, keyId: 7 },
    ];
    const { packet } = await createSphinxPacket(randomBytes(32, random), { route, x25519: engine });
    if (i === 5) packet[40]! ^= 1; // a routing-information byte: the MAC fails
    packets.push({ packet, key });
  }
  const batcher = new UnwrapBatcher({ payloadSize: 1024, x25519: engine });
  const batched = await Promise.allSettled(packets.map((p) => batcher.unwrap(p.packet, p.key)));
  const alone = await Promise.allSettled(
    packets.map((p) => unwrapSphinxPacket(p.packet, { keys: p.key, x25519: engine })),
  );
  assert.equal(batched.length, alone.length);
  batched.forEach((b, i) => {
    const a = alone[i]!;
    assert.equal(b.status, a.status, `packet ${i}`);
    if (b.status === "fulfilled" && a.status === "fulfilled") assert.deepEqual(b.value, a.value);
    if (b.status === "rejected" && a.status === "rejected") {
      assert.ok(b.reason instanceof PanoramixError);
      assert.equal(b.reason.message, (a.reason as Error).message);
    }
  });
  const rejected = batched[5]!;
  assert.ok(rejected.status === "rejected" && rejected.reason instanceof VerificationError);
  assert.equal(batched.filter((b) => b.status === "fulfilled").length, packets.length - 1);
});
