import assert from "node:assert/strict";
import {
  InvalidInputError,
  NotFoundError,
  PanoramixError,
  ReplayError,
  VerificationError,
} from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { createSphinxPacket } from "./packet.ts";
import { SPHINX_HEADER_SIZE, sphinxMessageCapacity } from "./params.ts";
import { MemoryReplayCache } from "./replay_cache.ts";
import { assertRejectsWith, testNodes } from "./test_helpers.ts";
import { type SphinxUnwrapResult, unwrapSphinxPacket, unwrapSphinxPackets } from "./unwrap.ts";
import { nobleSphinxX25519, wasmSphinxX25519, webCryptoSphinxX25519 } from "./x25519.ts";

const encoder = new TextEncoder();
const { keys, route } = testNodes(5);

Deno.test("round trips over 1 to 5 hops with every engine", async () => {
  for (const engine of [nobleSphinxX25519, webCryptoSphinxX25519, wasmSphinxX25519]) {
    for (let n = 1; n <= 5; n++) {
      const message = encoder.encode(`message over ${n} hops via ${engine.name}`);
      const recipient = new Uint8Array(32).fill(n);
      const out = await createSphinxPacket(message, {
        route: route.slice(0, n),
        recipient,
        x25519: engine,
      });
      assert.deepEqual(out.firstHop, route[0]!.nodeId);
      let packet = out.packet;
      for (let i = 0; i < n; i++) {
        const result = await unwrapSphinxPacket(packet, { keys: keys[i]!, x25519: engine });
        assert.equal(result.replayTag.length, 32);
        assert.equal(result.delayMs, route[i]!.delayMs);
        if (i < n - 1) {
          assert.equal(result.kind, "forward");
          if (result.kind !== "forward") return;
          assert.deepEqual(result.nextHop, route[i + 1]!.nodeId);
          assert.equal(result.nextKeyId, route[i + 1]!.keyId);
          assert.equal(result.packet.length, packet.length);
          assert.equal(result.packet[1], route[i + 1]!.keyId);
          packet = result.packet;
        } else {
          assert.equal(result.kind, "deliver");
          if (result.kind !== "deliver") return;
          assert.deepEqual(result.message, message);
          assert.deepEqual(result.recipient, recipient);
        }
      }
    }
  }
});

Deno.test("every engine creates the same bytes from the same randomness", async () => {
  const a = await createSphinxPacket(encoder.encode("same"), {
    route: route.slice(0, 3),
    random: seededRandom("engines"),
    x25519: nobleSphinxX25519,
  });
  const b = await createSphinxPacket(encoder.encode("same"), {
    route: route.slice(0, 3),
    random: seededRandom("engines"),
    x25519: webCryptoSphinxX25519,
  });
  assert.deepEqual(a.packet, b.packet);
  for (let i = 0; i < 6; i++) { // the later runs use the route keys' tables
    const c = await createSphinxPacket(encoder.encode("same"), {
      route: route.slice(0, 3),
      random: seededRandom("engines"),
      x25519: wasmSphinxX25519,
    });
    assert.deepEqual(c.packet, a.packet);
  }
});

Deno.test("a key lookup picks the epoch key by key id", async () => {
  const { packet } = await createSphinxPacket(encoder.encode("epoch"), {
    route: route.slice(0, 1),
  });
  const lookup = (id: number) => keys.find((k) => k.keyId === id);
  const result = await unwrapSphinxPacket(packet, { keys: lookup });
  assert.equal(result.kind, "deliver");
  await assertRejectsWith(unwrapSphinxPacket(packet, { keys: () => undefined }), NotFoundError);
});

Deno.test("tampering with any header byte is rejected at the hop", async () => {
  const payloadSize = 64;
  const { packet } = await createSphinxPacket(encoder.encode("tamper"), {
    route: route.slice(0, 2),
    payloadSize,
  });
  const lookup = (id: number) => keys.find((k) => k.keyId === id);
  for (let at = 0; at < SPHINX_HEADER_SIZE; at++) {
    const bad = packet.slice();
    bad[at]! ^= 0x40;
    // Version → invalid input; key id → unknown key; α → MAC (or bad α encoding); β, γ → MAC.
    const expected = at === 0
      ? InvalidInputError
      : at === 1
      ? NotFoundError
      : at < 34
      ? PanoramixError
      : VerificationError;
    await assertRejectsWith(unwrapSphinxPacket(bad, { keys: lookup, payloadSize }), expected);
  }
  const flipGamma = packet.slice();
  flipGamma[SPHINX_HEADER_SIZE - 1]! ^= 1;
  await assertRejectsWith(
    unwrapSphinxPacket(flipGamma, { keys: keys[0]!, payloadSize }),
    VerificationError,
    "MAC",
  );
});

Deno.test("tampering with any payload byte is detected at the exit", async () => {
  const payloadSize = 64;
  const { packet } = await createSphinxPacket(encoder.encode("payload"), {
    route: route.slice(0, 2),
    payloadSize,
  });
  for (let at = SPHINX_HEADER_SIZE; at < packet.length; at++) {
    const bad = packet.slice();
    bad[at]! ^= 0x01;
    const first = await unwrapSphinxPacket(bad, { keys: keys[0]!, payloadSize });
    assert.equal(first.kind, "forward");
    if (first.kind !== "forward") return;
    await assertRejectsWith(
      unwrapSphinxPacket(first.packet, { keys: keys[1]!, payloadSize }),
      VerificationError,
      "payload",
    );
  }
});

Deno.test("tampering after the first hop is rejected at the next hop", async () => {
  const { packet } = await createSphinxPacket(encoder.encode("later"), {
    route: route.slice(0, 3),
  });
  const first = await unwrapSphinxPacket(packet, { keys: keys[0]! });
  if (first.kind !== "forward") throw new Error("expected forward");
  for (const at of [2, 40, 300, SPHINX_HEADER_SIZE - 5]) {
    const bad = first.packet.slice();
    bad[at]! ^= 0x08;
    await assertRejectsWith(unwrapSphinxPacket(bad, { keys: keys[1]! }), VerificationError);
  }
});

Deno.test("a packet for one node is rejected by another (wrong key)", async () => {
  const { packet } = await createSphinxPacket(encoder.encode("wrong"), {
    route: route.slice(0, 2),
  });
  const rekeyed = packet.slice();
  rekeyed[1] = keys[1]!.keyId;
  await assertRejectsWith(unwrapSphinxPacket(rekeyed, { keys: keys[1]! }), VerificationError);
  await assertRejectsWith(unwrapSphinxPacket(packet, { keys: keys[1]! }), NotFoundError);
});

Deno.test("truncated, oversized and wrong-version packets are rejected with clear errors", async () => {
  const { packet } = await createSphinxPacket(encoder.encode("size"), { route: route.slice(0, 1) });
  await assertRejectsWith(
    unwrapSphinxPacket(packet.subarray(0, 100), { keys: keys[0]! }),
    InvalidInputError,
    "truncated: expected 1570 bytes (header 546 + payload 1024), got 100",
  );
  await assertRejectsWith(
    unwrapSphinxPacket(new Uint8Array(packet.length + 1), { keys: keys[0]! }),
    InvalidInputError,
    "oversized",
  );
  await assertRejectsWith(
    unwrapSphinxPacket(new Uint8Array(0), { keys: keys[0]! }),
    InvalidInputError,
    "truncated",
  );
  // Version 1 (hop keys of s alone, issue 11 point 8) is no longer accepted.
  const v1 = packet.slice();
  v1[0] = 1;
  await assertRejectsWith(
    unwrapSphinxPacket(v1, { keys: keys[0]! }),
    InvalidInputError,
    "version 1 (supported: 2)",
  );
  const highAlpha = packet.slice();
  highAlpha[2 + 31]! |= 0x80;
  await assertRejectsWith(
    unwrapSphinxPacket(highAlpha, { keys: keys[0]! }),
    InvalidInputError,
    "alpha",
  );
});

Deno.test("the replay cache rejects a packet seen before, but not a fresh one", async () => {
  const cache = new MemoryReplayCache();
  const a = await createSphinxPacket(encoder.encode("a"), { route: route.slice(0, 1) });
  const b = await createSphinxPacket(encoder.encode("a"), { route: route.slice(0, 1) });
  await unwrapSphinxPacket(a.packet, { keys: keys[0]!, replayCache: cache });
  await unwrapSphinxPacket(b.packet, { keys: keys[0]!, replayCache: cache });
  await assertRejectsWith(
    unwrapSphinxPacket(a.packet, { keys: keys[0]!, replayCache: cache }),
    ReplayError,
  );
  assert.equal(cache.size, 2);
});

Deno.test("invalid packets are not recorded in the replay cache", async () => {
  const cache = new MemoryReplayCache();
  const { packet } = await createSphinxPacket(encoder.encode("x"), { route: route.slice(0, 1) });
  const bad = packet.slice();
  bad[100]! ^= 1;
  await assertRejectsWith(
    unwrapSphinxPacket(bad, { keys: keys[0]!, replayCache: cache }),
    VerificationError,
  );
  assert.equal(cache.size, 0);
});

Deno.test("messages up to the capacity fit, larger ones are refused", async () => {
  const payloadSize = 100;
  const full = new Uint8Array(sphinxMessageCapacity(payloadSize)).fill(7);
  const { packet } = await createSphinxPacket(full, { route: route.slice(0, 2), payloadSize });
  const first = await unwrapSphinxPacket(packet, { keys: keys[0]!, payloadSize });
  if (first.kind !== "forward") throw new Error("expected forward");
  const last = await unwrapSphinxPacket(first.packet, { keys: keys[1]!, payloadSize });
  assert.ok(last.kind === "deliver" && last.message.length === full.length);
  await assertRejectsWith(
    createSphinxPacket(new Uint8Array(full.length + 1), { route: route.slice(0, 1), payloadSize }),
    InvalidInputError,
    "does not fit",
  );
});

Deno.test("routes of 0 or 6 hops are refused", async () => {
  await assertRejectsWith(createSphinxPacket(new Uint8Array(1), { route: [] }), InvalidInputError);
  await assertRejectsWith(
    createSphinxPacket(new Uint8Array(1), { route: [...route, route[0]!] }),
    InvalidInputError,
    "between 1 and 5",
  );
});

Deno.test("packets over different route lengths have the same size and look alike", async () => {
  const sizes = new Set<number>();
  for (let n = 1; n <= 5; n++) {
    const { packet } = await createSphinxPacket(encoder.encode("len"), {
      route: route.slice(0, n),
    });
    sizes.add(packet.length);
  }
  assert.equal(sizes.size, 1);
});

Deno.test("a batch unwraps like one packet at a time, errors in place, with every engine", async () => {
  const lookup = (id: number) => keys.find((k) => k.keyId === id);
  const packets: Uint8Array[] = [];
  for (let i = 0; i < 70; i++) {
    const n = 1 + (i % 3); // forwards and delivers; 70 > one WebAssembly batch of 64
    packets.push(
      (await createSphinxPacket(encoder.encode(`batch ${i}`), {
        route: route.slice(0, n),
      })).packet,
    );
  }
  const tampered = packets[3]!.slice();
  tampered[100]! ^= 1; // β: MAC fails
  const lowOrder = packets[4]!.slice();
  lowOrder.fill(0, 2, 34); // α = 0: low order
  const otherKey = packets[5]!.slice();
  otherKey[1] = 99; // no key with id 99
  const inputs = [...packets, tampered, lowOrder, otherKey, new Uint8Array(10), packets[0]!];
  const describe = (r: SphinxUnwrapResult | PanoramixError) =>
    r instanceof PanoramixError
      ? r.name
      : `${r.kind} ${r.replayTag.join()} ${r.kind === "forward" ? r.packet.join() : ""}`;
  for (const engine of [nobleSphinxX25519, webCryptoSphinxX25519, wasmSphinxX25519]) {
    const cache = new MemoryReplayCache();
    const batch = await unwrapSphinxPackets(inputs, {
      keys: lookup,
      x25519: engine,
      replayCache: cache,
    });
    const single: (SphinxUnwrapResult | PanoramixError)[] = [];
    const cache2 = new MemoryReplayCache();
    for (const p of inputs) {
      try {
        single.push(
          await unwrapSphinxPacket(p, { keys: lookup, x25519: engine, replayCache: cache2 }),
        );
      } catch (error) {
        assert.ok(error instanceof PanoramixError);
        single.push(error);
      }
    }
    assert.deepEqual(batch.map(describe), single.map(describe), engine.name);
    const names = batch.slice(70).map(describe);
    assert.deepEqual(names, [
      "VerificationError",
      "VerificationError",
      "NotFoundError",
      "InvalidInputError",
      "ReplayError", // packets[0] again, in input order
    ], engine.name);
  }
});
