import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack, toJsonView } from "../../core/envelope.ts";
import { VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import {
  decodeCascadeTranscript,
  encodeCascadeTranscript,
  runCascade,
  verifyCascade,
} from "./cascade.ts";
import { decrypt, encrypt, generateKeyPair, reencrypt } from "./elgamal.ts";
import { decodeInteger, encodeInteger } from "./encoding.ts";
import { assertRejectsWith } from "./test_helpers_test.ts";

const random = seededRandom("cascade-test");

Deno.test("a 3-mixer cascade verifies after msgpack and JSON round trips; tampering names the step", async () => {
  const keys = generateKeyPair(random);
  const inputs = [5, 6, 7, 8].map((v) => encrypt(keys.publicKey, [encodeInteger(v)], { random }));
  const transcript = await runCascade(keys.publicKey, { inputs, mixers: 3, random, workers: 1 });
  assert.equal(transcript.steps.length, 3);
  const last = transcript.steps[2]!.outputs;
  assert.deepEqual(last.map((c) => decodeInteger(decrypt(keys.secretKey, c)[0]!)).sort(), [
    5,
    6,
    7,
    8,
  ]);
  const packed = decodeCascadeTranscript(
    decodeMsgpack(encodeMsgpack(encodeCascadeTranscript(transcript)), "t"),
  );
  await verifyCascade(packed, { workers: 1 });
  const json = JSON.parse(JSON.stringify(toJsonView(encodeCascadeTranscript(transcript))));
  await verifyCascade(decodeCascadeTranscript(json), { workers: 1 });
  // Replace an output of step 2: step 2 fails (its proof) before step 3 is looked at.
  const steps = transcript.steps.map((s) => ({ ...s, outputs: [...s.outputs] }));
  steps[1]!.outputs[0] = reencrypt(keys.publicKey, steps[1]!.outputs[0]!, { random });
  await assertRejectsWith(
    () => verifyCascade({ ...transcript, steps }, { workers: 1 }),
    VerificationError,
    /Cascade step 2 failed/,
  );
});

Deno.test("end to end: 2-of-3 DKG key, width-2 ballots, 2-mixer cascade, threshold decryption", async () => {
  const { simulateDkg } = await import("./dkg.ts");
  const { createDecryptionShare, thresholdDecrypt } = await import("./decryption.ts");
  const { result, secretShares } = simulateDkg({ threshold: 2, trustees: 3 }, { random });
  const votes = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]];
  const inputs = votes.map((v) => encrypt(result.publicKey, v.map(encodeInteger), { random }));
  const transcript = await runCascade(result.publicKey, { inputs, mixers: 2, random, workers: 1 });
  await verifyCascade(transcript, { workers: 1 });
  const finalOutputs = transcript.steps[1]!.outputs;
  const trustees = [secretShares[2]!, secretShares[0]!];
  const shares = trustees.map((key) =>
    finalOutputs.map((ct) => createDecryptionShare(key, ct, { random }))
  );
  const verificationKeys = new Map(result.verificationKeys.map((vk, j) => [j + 1, vk]));
  const plain = thresholdDecrypt(finalOutputs, { shares, verificationKeys, threshold: 2 })
    .map((m) => m.map(decodeInteger).join(","))
    .sort();
  assert.deepEqual(plain, votes.map((v) => v.join(",")).sort());
});

Deno.test("a cascade bound to a context carries it through its transcript; another context fails", async () => {
  const keys = generateKeyPair(random);
  const inputs = [1, 2, 3].map((v) => encrypt(keys.publicKey, [encodeInteger(v)], { random }));
  const context = new TextEncoder().encode("job-42");
  const transcript = await runCascade(keys.publicKey, {
    inputs,
    mixers: 2,
    context,
    random,
    workers: 1,
  });
  const decoded = decodeCascadeTranscript(
    decodeMsgpack(encodeMsgpack(encodeCascadeTranscript(transcript)), "t"),
  );
  assert.deepEqual(decoded.context, context);
  await verifyCascade(decoded, { workers: 1 });
  await assertRejectsWith(
    () =>
      verifyCascade({ ...decoded, context: new TextEncoder().encode("job-43") }, { workers: 1 }),
    VerificationError,
    /Cascade step 1 failed/,
  );
});
