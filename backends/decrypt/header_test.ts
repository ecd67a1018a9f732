import assert from "node:assert/strict";
import { randomBytes, seededRandom, UniformIntegers } from "../../core/mod.ts";
import { createSphinxHeader } from "./header.ts";
import { routingStream } from "./hop_keys.ts";
import { createSphinxPacket } from "./packet.ts";
import { SPHINX_BETA_SIZE, SPHINX_COMMAND_SIZE, sphinxMessageCapacity } from "./params.ts";
import { testNodes } from "./test_helpers.ts";
import { unwrapSphinxPacket } from "./unwrap.ts";

const { keys, route } = testNodes(5, "header-nodes");

Deno.test("the last hop sees random bytes after its command, not zero padding", async () => {
  const { header, hopKeys } = await createSphinxHeader({
    route: route.slice(0, 1),
    final: { kind: "deliver", recipient: new Uint8Array(32), delayMs: 0 },
  });
  // With one hop, the header's β is the last hop's: decrypt it with that hop's stream.
  const beta = header.subarray(34, 34 + SPHINX_BETA_SIZE);
  const stream = routingStream(hopKeys[0]!.routing, SPHINX_BETA_SIZE);
  const tail = beta.map((b, i) => b ^ stream[i]!).subarray(SPHINX_COMMAND_SIZE);
  assert.equal(tail.length, SPHINX_BETA_SIZE - SPHINX_COMMAND_SIZE);
  // 416 random bytes: far more than a handful are non-zero (zero padding would give none).
  assert.ok(tail.filter((b) => b !== 0).length > 350);
});

Deno.test("property: random messages, routes and payload sizes round trip (seeded)", async () => {
  const random = seededRandom("header-property");
  const draw = new UniformIntegers(random);
  for (let trial = 0; trial < 12; trial++) {
    const payloadSize = 64 + draw.below(400);
    const n = 1 + draw.below(5);
    const message = randomBytes(draw.below(sphinxMessageCapacity(payloadSize) + 1), random);
    const hops = route.slice(0, n).map((h) => ({ ...h, delayMs: draw.below(100000) }));
    let { packet } = await createSphinxPacket(message, { route: hops, payloadSize, random });
    for (let i = 0; i < n; i++) {
      const out = await unwrapSphinxPacket(packet, { keys: keys[i]!, payloadSize });
      assert.equal(out.delayMs, hops[i]!.delayMs);
      if (out.kind === "forward") packet = out.packet;
      else if (out.kind === "deliver") assert.deepEqual(out.message, message);
      assert.equal(out.kind, i === n - 1 ? "deliver" : "forward");
    }
  }
});

Deno.test("the same randomness gives the same header, different randomness a different one", async () => {
  const final = { kind: "deliver" as const, recipient: new Uint8Array(32), delayMs: 0 };
  const a = await createSphinxHeader({
    route: route.slice(0, 3),
    final,
    random: seededRandom("h"),
  });
  const b = await createSphinxHeader({
    route: route.slice(0, 3),
    final,
    random: seededRandom("h"),
  });
  const c = await createSphinxHeader({
    route: route.slice(0, 3),
    final,
    random: seededRandom("i"),
  });
  assert.deepEqual(a.header, b.header);
  assert.notDeepEqual(a.header.subarray(2, 34), c.header.subarray(2, 34));
});
