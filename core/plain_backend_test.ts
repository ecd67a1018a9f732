import assert from "node:assert/strict";
import { plainBackend } from "./plain_backend.ts";
import { BatchTooSmallError, InvalidInputError, VerificationError } from "./errors.ts";
import { seededRandom } from "./random.ts";

Deno.test("plain backend: mix then verify, outputs are the inputs reordered", async () => {
  const { publicKey } = await plainBackend.generateKeys();
  const inputs = await plainBackend.sampleInputs(50, { key: publicKey, random: seededRandom("p") });
  const { outputs, proof } = await plainBackend.mix(inputs, { key: publicKey });
  await plainBackend.verify(inputs, outputs, proof, { key: publicKey });
  const hex = (xs: { data: Uint8Array }[]) => xs.map((x) => x.data.join()).sort();
  assert.deepEqual(hex(outputs), hex(inputs));
});

Deno.test("plain backend rejects a tampered mix, a foreign proof and a small batch", async () => {
  const { publicKey } = await plainBackend.generateKeys();
  const inputs = await plainBackend.sampleInputs(5, { key: publicKey });
  const { outputs, proof } = await plainBackend.mix(inputs, { key: publicKey });
  const changed = outputs.map((o, i) => (i === 0 ? { data: new Uint8Array(16) } : o));
  await assert.rejects(
    () => plainBackend.verify(inputs, changed, proof, { key: publicKey }),
    VerificationError,
  );
  const others = await plainBackend.sampleInputs(5, { key: publicKey });
  await assert.rejects(
    () => plainBackend.verify(others, outputs, proof, { key: publicKey }),
    VerificationError,
  );
  await assert.rejects(
    () => plainBackend.verify(inputs, outputs.slice(1), proof, { key: publicKey }),
    VerificationError,
  );
  await assert.rejects(
    () => plainBackend.mix(inputs.slice(0, 1), { key: publicKey }),
    BatchTooSmallError,
  );
});

Deno.test("plain item codec round-trips and rejects malformed items", () => {
  const item = { data: new Uint8Array([1, 2]) };
  const env = plainBackend.input.encode(item);
  assert.deepEqual(plainBackend.input.decode(env, "item"), item);
  assert.throws(
    () => plainBackend.input.decode({ v: 1, kind: "plain.item" }, "item 1"),
    /item 1.data/,
  );
  assert.throws(
    () => plainBackend.input.decode({ v: 1, kind: "x", data: "" }, "item"),
    InvalidInputError,
  );
});
