import assert from "node:assert/strict";
import { BatchTooSmallError, InvalidInputError, VerificationError } from "../../core/errors.ts";
import { toJsonView } from "../../core/envelope.ts";
import type { Envelope } from "../../core/envelope.ts";
import { seededRandom } from "../../core/random.ts";
import {
  createDecryptBackend,
  decryptBackend,
  type SphinxCascadeItem,
  type SphinxPacketItem,
} from "./backend.ts";
import { cascadeRoute, decodeCascade, encodeMixerSecret, generateCascade } from "./cascade_keys.ts";
import { createSphinxPacket } from "./packet.ts";
import { assertRejectsWith } from "./test_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function setup(mixers: number) {
  const backend = createDecryptBackend();
  const keys = await backend.generateKeys({ settings: { mixers, payloadSize: 256 } });
  const secretMixers = keys.secretKey.mixers as Envelope[];
  return { backend, keys, secretMixers };
}

async function send(publicKey: Envelope, messages: string[]): Promise<SphinxPacketItem[]> {
  const cascade = decodeCascade(publicKey);
  return await Promise.all(messages.map(async (m) => ({
    type: "packet" as const,
    packet: (await createSphinxPacket(encoder.encode(m), {
      route: cascadeRoute(cascade),
      payloadSize: cascade.payloadSize,
    })).packet,
  })));
}

function texts(items: readonly SphinxCascadeItem[]): string[] {
  return items.map((i) => {
    if (i.type !== "plaintext") throw new Error("expected plaintext");
    return decoder.decode(i.message);
  }).sort();
}

Deno.test("a 3-mixer cascade, mixer by mixer, outputs the plaintexts and verifies", async () => {
  const { backend, keys, secretMixers } = await setup(3);
  const messages = ["alpha", "bravo", "charlie", "delta", "echo"];
  let batch: SphinxCascadeItem[] = await send(keys.publicKey, messages);
  for (const [position, key] of secretMixers.entries()) {
    const inputs = batch.map((item) => backend.input.decode(backend.output.encode(item), "item"));
    const { outputs, proof } = await backend.mix(inputs, { key });
    assert.equal(outputs.length, messages.length);
    assert.ok(outputs.every((o) => o.type === (position < 2 ? "packet" : "plaintext")));
    await backend.verify(inputs, outputs, proof, { key });
    await backend.verify(inputs, outputs, proof, { key: keys.publicKey });
    batch = outputs;
  }
  assert.deepEqual(texts(batch), [...messages].sort());
});

Deno.test("the demo cascade-secret key runs every mixer in one call", async () => {
  const { backend, keys } = await setup(2);
  const inputs = await backend.sampleInputs(6, { key: keys.publicKey });
  const { outputs, proof } = await backend.mix(inputs, { key: keys.secretKey });
  assert.equal(outputs.length, 6);
  assert.ok(outputs.every((o) => o.type === "plaintext" && o.message.length === 32));
  const withSecret = await backend.verify(inputs, outputs, proof, { key: keys.secretKey });
  assert.match(withSecret.checked, /re-derived by unwrapping/);
  // With only public data the report must not claim more than it checked.
  const withPublic = await backend.verify(inputs, outputs, proof, { key: keys.publicKey });
  assert.match(withPublic.checked, /no public proof/);
});

Deno.test("the registered backend works with default settings", async () => {
  const keys = await decryptBackend.generateKeys({ settings: { mixers: 1 } });
  const inputs = await decryptBackend.sampleInputs(3, { key: keys.publicKey });
  assert.equal(inputs[0]!.packet.length, 546 + 1024);
  const { outputs } = await decryptBackend.mix(inputs, { key: keys.secretKey });
  assert.equal(outputs.length, 3);
});

Deno.test("mix shuffles: the output order is not the input order for a seeded run", async () => {
  const { backend, keys } = await setup(1);
  const messages = Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, "0")}`);
  const inputs = await send(keys.publicKey, messages);
  const { outputs } = await backend.mix(inputs, { key: keys.secretKey, random: seededRandom("s") });
  const order = outputs.map((o) => (o.type === "plaintext" ? decoder.decode(o.message) : ""));
  assert.notDeepEqual(order, messages);
  assert.deepEqual([...order].sort(), messages);
});

Deno.test("replays within a batch and across batches are dropped and recorded", async () => {
  const { backend, keys } = await setup(1);
  const [a, b, c] = await send(keys.publicKey, ["a", "b", "c"]);
  const first = await backend.mix([a!, b!, a!], { key: keys.secretKey });
  assert.deepEqual(texts(first.outputs), ["a", "b"]);
  assert.deepEqual(first.proof.stages, [{
    position: 0,
    inputCount: 3,
    outputCount: 2,
    dropped: [{ index: 2, reason: "replay" }],
  }]);
  await backend.verify([a!, b!, a!], first.outputs, first.proof, { key: keys.secretKey });
  // Next batch: b was already processed by this mixer.
  const second = await backend.mix([c!, b!], { key: keys.secretKey });
  assert.deepEqual(texts(second.outputs), ["c"]);
  assert.deepEqual(
    (second.proof.stages as { dropped: unknown }[])[0]!.dropped,
    [{ index: 1, reason: "replay" }],
  );
  await backend.verify([c!, b!], second.outputs, second.proof, { key: keys.secretKey });
});

Deno.test("invalid and misrouted packets are dropped with their reason", async () => {
  const { backend, keys } = await setup(2);
  const [a, b] = await send(keys.publicKey, ["a", "b"]);
  const tampered = { type: "packet" as const, packet: a!.packet.slice() };
  tampered.packet[200]! ^= 1;
  // A packet for a 1-hop route ending at mixer 0 does not follow the cascade.
  const cascade = decodeCascade(keys.publicKey);
  const short = (await createSphinxPacket(encoder.encode("short"), {
    route: cascadeRoute(cascade).slice(0, 1),
    payloadSize: 256,
  })).packet;
  const inputs = [tampered, b!, { type: "packet" as const, packet: short }];
  const first = (keys.secretKey.mixers as Envelope[])[0]!;
  const { outputs, proof } = await backend.mix(inputs, { key: first });
  assert.equal(outputs.length, 1);
  assert.deepEqual((proof.stages as { dropped: unknown }[])[0]!.dropped, [
    { index: 0, reason: "invalid" },
    { index: 2, reason: "route" },
  ]);
  await backend.verify(inputs, outputs, proof, { key: first });
});

Deno.test("verify catches swapped outputs, false drops and wrong counts", async () => {
  const { backend, keys } = await setup(1);
  const inputs = await send(keys.publicKey, ["a", "b", "c"]);
  const { outputs, proof } = await backend.mix(inputs, { key: keys.secretKey });
  const forged: SphinxCascadeItem[] = [...outputs.slice(1), {
    type: "plaintext",
    message: encoder.encode("forged"),
  }];
  // The digest in the proof no longer matches.
  await assertRejectsWith(
    backend.verify(inputs, forged, proof, { key: keys.publicKey }),
    VerificationError,
    "output digest",
  );
  // Even with a matching digest, the secret key shows the outputs are not the decryptions.
  const honest = { ...proof };
  const { labelledDigest } = await import("../../core/transcript.ts");
  const { toHex } = await import("../../core/bytes.ts");
  const digest = labelledDigest(
    "panoramix/decrypt/batch/v1",
    forged.map((i) => {
      const body = i.type === "plaintext" ? i.message : i.packet;
      return toHex(new Uint8Array([i.type === "plaintext" ? 2 : 1, ...body]));
    }).sort().map((h) => encoder.encode(h)),
  );
  honest.outputDigest = digest;
  await backend.verify(inputs, forged, honest, { key: keys.publicKey });
  await assertRejectsWith(
    backend.verify(inputs, forged, honest, { key: keys.secretKey }),
    VerificationError,
    "not the decryptions",
  );
  // A proof claiming a valid input was invalid is caught with the secret key.
  const falseDrop = {
    ...proof,
    stages: [{
      position: 0,
      inputCount: 3,
      outputCount: 2,
      dropped: [{ index: 0, reason: "invalid" }],
    }],
  };
  await assertRejectsWith(
    backend.verify(inputs, outputs.slice(1), { ...falseDrop, outputDigest: proof.outputDigest }, {
      key: keys.secretKey,
    }),
    VerificationError,
  );
  const badCount = {
    ...proof,
    stages: [{ position: 0, inputCount: 4, outputCount: 4, dropped: [] }],
  };
  await assertRejectsWith(
    backend.verify(inputs, outputs, badCount, { key: keys.publicKey }),
    VerificationError,
    "counts",
  );
});

Deno.test("codecs accept msgpack bytes and the JSON view, and reject other kinds", () => {
  const item: SphinxPacketItem = { type: "packet", packet: new Uint8Array([1, 2, 3]) };
  const env = decryptBackend.input.encode(item);
  assert.deepEqual(decryptBackend.input.decode(toJsonView(env), "x"), item);
  const plain: SphinxCascadeItem = { type: "plaintext", message: encoder.encode("hi") };
  assert.deepEqual(decryptBackend.output.decode(decryptBackend.output.encode(plain), "y"), plain);
  assert.deepEqual(decryptBackend.output.decode(env, "z"), item);
  assert.throws(
    () => decryptBackend.input.decode({ v: 1, kind: "decrypt.plaintext", message: "aGk" }, "w"),
    InvalidInputError,
  );
  assert.throws(
    () => decryptBackend.input.decode({ v: 1, kind: "decrypt.packet", packet: "" }, "w"),
    InvalidInputError,
  );
});

Deno.test("keys: settings are checked, a mixer key must match its cascade", async () => {
  const { ConfigError } = await import("../../core/errors.ts");
  await assertRejectsWith(
    decryptBackend.generateKeys({ settings: { mixers: 6 } }),
    ConfigError,
    "mixers",
  );
  const { secrets } = generateCascade({ mixers: 2 });
  const env = encodeMixerSecret(secrets[0]!);
  const wrong = { ...env, secretKey: new Uint8Array(32).fill(1) };
  const { backend, keys } = await setup(1);
  const inputs = await backend.sampleInputs(2, { key: keys.publicKey });
  await assertRejectsWith(backend.mix(inputs, { key: wrong }), InvalidInputError, "does not match");
  await assertRejectsWith(
    backend.mix(inputs.slice(0, 1), { key: keys.secretKey }),
    BatchTooSmallError,
  );
  await assertRejectsWith(
    backend.sampleInputs(1, { key: keys.secretKey }),
    InvalidInputError,
    "decrypt.cascade",
  );
});

Deno.test("the batch digest is the sorted-hex definition; verify still rejects a tampered batch", async () => {
  const { batchDigest } = await import("./backend.ts");
  const { labelledDigest } = await import("../../core/transcript.ts");
  const { toHex } = await import("../../core/bytes.ts");
  // Reference: the digest as first defined (hex texts of the items, sorted as strings).
  const reference = (items: SphinxCascadeItem[]) =>
    labelledDigest(
      "panoramix/decrypt/batch/v1",
      items.map((i) => {
        const body = i.type === "plaintext" ? i.message : i.packet;
        return toHex(new Uint8Array([i.type === "plaintext" ? 2 : 1, ...body]));
      }).sort().map((h) => encoder.encode(h)),
    );
  const random = seededRandom("batch-digest");
  const items: SphinxCascadeItem[] = [];
  for (let i = 0; i < 300; i++) {
    const bytes = new Uint8Array(i % 7 === 0 ? 0 : 1 + (i % 40));
    random(bytes);
    // Some items are prefixes of others, some differ only in a high nibble.
    if (i % 5 === 0 && items.length > 0) {
      const prev = items[items.length - 1]!;
      const body = prev.type === "packet" ? prev.packet : prev.message;
      items.push({ type: "plaintext", message: body.subarray(0, body.length >> 1) });
      continue;
    }
    if (i % 11 === 0 && bytes.length > 0) bytes[0] = 0xa0 + (i % 16);
    items.push(i % 2 ? { type: "packet", packet: bytes } : { type: "plaintext", message: bytes });
  }
  assert.deepEqual(batchDigest(items), reference(items));
  assert.deepEqual(batchDigest([...items].reverse()), batchDigest(items));

  const { backend, keys } = await setup(2);
  const inputs = await send(keys.publicKey, ["a", "b", "c", "d"]);
  const { outputs, proof } = await backend.mix(inputs, { key: keys.secretKey });
  // Any order of the same outputs verifies; one changed byte in one output does not.
  await backend.verify(inputs, [...outputs].reverse(), proof, { key: keys.publicKey });
  const tampered = outputs.map((o) => ({ ...o }));
  const first = tampered[0]!;
  const body = first.type === "packet" ? first.packet : first.message;
  const changed = new Uint8Array(body);
  changed[changed.length - 1]! ^= 1;
  tampered[0] = first.type === "packet"
    ? { type: "packet", packet: changed }
    : { type: "plaintext", message: changed };
  await assertRejectsWith(
    backend.verify(inputs, tampered, proof, { key: keys.publicKey }),
    VerificationError,
    "output digest",
  );
  const swappedInput = [inputs[1]!, inputs[1]!, inputs[2]!, inputs[3]!];
  await assertRejectsWith(
    backend.verify(swappedInput, outputs, proof, { key: keys.publicKey }),
    VerificationError,
    "input digest",
  );
});
