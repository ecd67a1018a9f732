import assert from "node:assert/strict";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import {
  createSphinxReply,
  createSphinxSurb,
  decodeSphinxSurb,
  decodeSphinxSurbSecret,
  encodeSphinxSurb,
  encodeSphinxSurbSecret,
  openSphinxReply,
  SPHINX_SURB_SIZE,
} from "./surb.ts";
import { assertRejectsWith, testNodes } from "./test_helpers.ts";
import { type SphinxReplyResult, unwrapSphinxPacket } from "./unwrap.ts";

const encoder = new TextEncoder();
const { keys, route } = testNodes(5, "surb-nodes");
const me = new Uint8Array(32).fill(0x42);

async function carry(packet: Uint8Array, n: number): Promise<SphinxReplyResult> {
  let current = packet;
  for (let i = 0; i < n; i++) {
    const out = await unwrapSphinxPacket(current, { keys: keys[i]! });
    if (out.kind === "forward") current = out.packet;
    else if (out.kind === "reply") return out;
    else throw new Error("unexpected deliver");
  }
  throw new Error("route ended without reply");
}

Deno.test("SURB: the creator reads the reply over 1 to 5 hops", async () => {
  for (let n = 1; n <= 5; n++) {
    const { surb, secret } = await createSphinxSurb({ route: route.slice(0, n), recipient: me });
    // The SURB travels encoded, as a correspondent would receive it.
    const received = decodeSphinxSurb(encodeSphinxSurb(surb));
    const message = encoder.encode(`reply over ${n} hops`);
    const { firstHop, packet } = createSphinxReply(received, { message });
    assert.deepEqual(firstHop, route[0]!.nodeId);
    const out = await carry(packet, n);
    assert.deepEqual(out.recipient, me);
    assert.deepEqual(out.surbId, secret.surbId);
    assert.notDeepEqual(out.payload.subarray(20, 20 + message.length), message);
    const stored = decodeSphinxSurbSecret(encodeSphinxSurbSecret(secret));
    assert.deepEqual(openSphinxReply(stored, out.payload), message);
  }
});

Deno.test("SURB: a modified reply payload is detected by the creator", async () => {
  const { surb, secret } = await createSphinxSurb({ route: route.slice(0, 2), recipient: me });
  const { packet } = createSphinxReply(surb, { message: encoder.encode("hi") });
  const bad = packet.slice();
  bad[600]! ^= 1;
  const out = await carry(bad, 2);
  assert.throws(() => openSphinxReply(secret, out.payload), VerificationError);
});

Deno.test("SURB: another SURB's secret cannot open the reply", async () => {
  const a = await createSphinxSurb({ route: route.slice(0, 2), recipient: me });
  const b = await createSphinxSurb({ route: route.slice(0, 2), recipient: me });
  const { packet } = createSphinxReply(a.surb, { message: encoder.encode("for a") });
  const out = await carry(packet, 2);
  assert.throws(() => openSphinxReply(b.secret, out.payload), VerificationError);
});

Deno.test("SURB: a reused SURB is caught by the replay cache", async () => {
  const { MemoryReplayCache } = await import("./replay_cache.ts");
  const { ReplayError } = await import("../../core/errors.ts");
  const cache = new MemoryReplayCache();
  const { surb } = await createSphinxSurb({ route: route.slice(0, 1), recipient: me });
  const one = createSphinxReply(surb, { message: encoder.encode("1") });
  const two = createSphinxReply(surb, { message: encoder.encode("2") });
  await unwrapSphinxPacket(one.packet, { keys: keys[0]!, replayCache: cache });
  await assertRejectsWith(
    unwrapSphinxPacket(two.packet, { keys: keys[0]!, replayCache: cache }),
    ReplayError,
  );
});

Deno.test("SURB encodings reject wrong lengths", () => {
  assert.throws(() => decodeSphinxSurb(new Uint8Array(SPHINX_SURB_SIZE - 1)), InvalidInputError);
  assert.throws(() => decodeSphinxSurb(new Uint8Array(SPHINX_SURB_SIZE)), InvalidInputError);
  assert.throws(() => decodeSphinxSurbSecret(new Uint8Array(49)), InvalidInputError);
});

Deno.test("SURB creation refuses a bad id", async () => {
  await assertRejectsWith(
    createSphinxSurb({ route: route.slice(0, 1), recipient: me, surbId: new Uint8Array(3) }),
    InvalidInputError,
  );
});
