import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack, toJsonView } from "../../core/envelope.ts";
import { BatchTooSmallError, InvalidInputError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { reencryptBackend } from "./backend.ts";
import { decodeSecretKey, encodeSecretKey } from "./codec.ts";
import { decrypt } from "./elgamal.ts";
import { decodeInteger } from "./encoding.ts";
import { assertRejectsWith } from "./test_helpers_test.ts";

const random = seededRandom("backend-test");

Deno.test("backend: keys, sample inputs, mix, verify through envelopes", async () => {
  const keys = await reencryptBackend.generateKeys({ random });
  const inputs = await reencryptBackend.sampleInputs(4, { key: keys.publicKey, random });
  const { outputs, proof } = await reencryptBackend.mix(inputs, { key: keys.publicKey, random });
  // Items and proof survive msgpack and the JSON view.
  const again = (env: unknown) => decodeMsgpack(encodeMsgpack(env), "x");
  const ins = inputs.map((c, i) =>
    reencryptBackend.input.decode(again(reencryptBackend.input.encode(c)), `input ${i}`)
  );
  const outs = outputs.map((c, i) =>
    reencryptBackend.output.decode(
      JSON.parse(JSON.stringify(toJsonView(reencryptBackend.output.encode(c)))),
      `output ${i}`,
    )
  );
  await reencryptBackend.verify(ins, outs, again(proof) as typeof proof, { key: keys.publicKey });
  const secret = decodeSecretKey(keys.secretKey);
  const values = (cts: typeof outputs) =>
    cts.map((c) => decodeInteger(decrypt(secret.secret, c)[0]!)).sort();
  assert.deepEqual(values(outs), values(ins));
  await assertRejectsWith(
    () =>
      reencryptBackend.verify(ins, [outs[1]!, outs[0]!, ...outs.slice(2)], proof, {
        key: keys.publicKey,
      }),
    VerificationError,
  );
  await assertRejectsWith(
    () => reencryptBackend.mix(inputs.slice(0, 1), { key: keys.publicKey }),
    BatchTooSmallError,
  );
  await assertRejectsWith(
    () =>
      reencryptBackend.verify(ins, outs, { ...proof, kind: "plain.proof" }, {
        key: keys.publicKey,
      }),
    InvalidInputError,
  );
});

Deno.test("codec: malformed items and keys are refused with the offending field named", async () => {
  const keys = await reencryptBackend.generateKeys({ random });
  const [item] = await reencryptBackend.sampleInputs(1, { key: keys.publicKey, random });
  const env = reencryptBackend.input.encode(item!);
  const elements = env.elements as Array<{ c1: Uint8Array; c2: Uint8Array }>;
  const bad = { ...env, elements: [{ c1: elements[0]!.c1, c2: new Uint8Array(32) }] };
  // Element validity is checked on use: by the prover's workers, by decryption, by the verifier.
  const badItem = reencryptBackend.input.decode(bad, "item 3");
  assert.throws(() => decrypt(1n, badItem), /item 3\.c2\[0\].*identity/);
  await assertRejectsWith(
    () => reencryptBackend.mix([item!, badItem], { key: keys.publicKey }),
    InvalidInputError,
    /input 1\.c2\[0\]/,
  );
  const good = await reencryptBackend.sampleInputs(3, { key: keys.publicKey, random });
  const mixed = await reencryptBackend.mix(good, { key: keys.publicKey, random });
  await assertRejectsWith(
    () =>
      reencryptBackend.verify(good, [mixed.outputs[0]!, mixed.outputs[1]!, badItem], mixed.proof, {
        key: keys.publicKey,
      }),
    InvalidInputError, // the malformed output element is named, not reported as a bad challenge
    /output 2\.c2\[0\].*identity/,
  );
  assert.throws(
    () => reencryptBackend.input.decode({ ...env, elements: [] }, "item"),
    InvalidInputError,
  );
  assert.throws(
    () => reencryptBackend.input.decode({ ...env, v: 2 }, "item"),
    /unsupported version/,
  );
  const sk = encodeSecretKey({ index: 1, secret: 5n });
  assert.throws(
    () => decodeSecretKey({ ...sk, verificationKey: keys.publicKey.key as Uint8Array }),
    /does not match/,
  );
});
