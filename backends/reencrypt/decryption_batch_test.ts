import assert from "node:assert/strict";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { closeWorkerPool, setDefaultWorkerEntry } from "../../core/worker_pool.ts";
import { decodeDecryptionShareBatch, encodeDecryptionShareBatch } from "./codec.ts";
import { combineDecryptionShares, type DecryptionShare } from "./decryption.ts";
import {
  createDecryptionShareBatch,
  createPackedDecryptionShareBatch,
  type DecryptionShareBatch,
  verifyDecryptionShareBatch,
  verifyPackedDecryptionShareBatch,
} from "./decryption_batch.ts";
import { simulateDkg } from "./dkg.ts";
import { Ciphertext, encrypt, reencrypt } from "./elgamal.ts";
import { decodeInteger, encodeInteger } from "./encoding.ts";
import { BASE_POINT, modL, packPoints } from "./group.ts";
import { assertRejectsWith } from "./test_helpers_test.ts";

setDefaultWorkerEntry(new URL("./worker_entry.ts", import.meta.url));
const random = seededRandom("decryption-batch-test");
const { result, secretShares } = simulateDkg({ threshold: 2, trustees: 3 }, { random });
const vk = (j: number) => result.verificationKeys[j - 1]!;
const cts: Ciphertext[] = [1, 2, 3, 4, 5].map((v) =>
  encrypt(result.publicKey, [encodeInteger(v), encodeInteger(10 + v)], { random })
);

function clone(batch: DecryptionShareBatch): DecryptionShareBatch {
  return {
    index: batch.index,
    shares: batch.shares.map((s) => [...s]),
    proof: { ...batch.proof },
  };
}

async function rejects(batch: DecryptionShareBatch, options: {
  ciphertexts?: Ciphertext[];
  verificationKey?: ReturnType<typeof vk>;
}): Promise<void> {
  await assertRejectsWith(
    () =>
      verifyDecryptionShareBatch(batch, {
        ciphertexts: options.ciphertexts ?? cts,
        verificationKey: options.verificationKey ?? vk(batch.index),
        workers: 1,
      }),
    VerificationError,
    new RegExp(`trustee ${batch.index}`),
  );
}

Deno.test("batch shares verify, round-trip the envelope and combine to the messages", async () => {
  const batches = await Promise.all(
    [secretShares[0]!, secretShares[2]!].map((key) =>
      createDecryptionShareBatch(key, cts, { random, workers: 1 })
    ),
  );
  for (const batch of batches) {
    await verifyDecryptionShareBatch(batch, {
      ciphertexts: cts,
      verificationKey: vk(batch.index),
      workers: 1,
    });
    const decoded = decodeDecryptionShareBatch(encodeDecryptionShareBatch(batch));
    assert.equal(decoded.index, batch.index);
    assert.deepEqual(decoded.proof, batch.proof);
    assert.deepEqual(
      packPoints(decoded.shares.flat()),
      packPoints(batch.shares.flat()),
    );
    await verifyDecryptionShareBatch(decoded, {
      ciphertexts: cts,
      verificationKey: vk(batch.index),
      workers: 1,
    });
  }
  cts.forEach((ct, i) => {
    const shares: DecryptionShare[] = batches.map((b) => ({
      trustee: b.index,
      shares: b.shares[i]!,
      challenge: 0n,
      response: 0n,
    }));
    assert.deepEqual(combineDecryptionShares(ct, shares).map(decodeInteger), [i + 1, 11 + i]);
  });
});

Deno.test("tampering with a share, ciphertext, proof, key or order is rejected", async () => {
  const batch = await createDecryptionShareBatch(secretShares[1]!, cts, { random, workers: 1 });
  // One share element replaced.
  const oneShare = clone(batch);
  oneShare.shares[3]![1] = oneShare.shares[3]![1]!.add(BASE_POINT);
  await rejects(oneShare, {});
  // A share that is a valid share of another ciphertext.
  const swappedShare = clone(batch);
  swappedShare.shares[0] = batch.shares[1]!;
  await rejects(swappedShare, {});
  // One ciphertext re-encrypted (same plaintext, different c1).
  const otherCts = [...cts];
  otherCts[2] = reencrypt(result.publicKey, cts[2]!, { random });
  await rejects(batch, { ciphertexts: otherCts });
  // Proof challenge or response changed.
  const badE = clone(batch);
  badE.proof.challenge = modL(badE.proof.challenge + 1n);
  await rejects(badE, {});
  const badZ = clone(batch);
  badZ.proof.response = modL(badZ.proof.response + 1n);
  await rejects(badZ, {});
  // Another trustee's verification key, or another trustee index.
  await rejects(batch, { verificationKey: vk(1) });
  await rejects({ ...clone(batch), index: 3 }, { verificationKey: vk(2) });
  // Reordering ciphertexts and shares together.
  const reordered = clone(batch);
  reordered.shares.reverse();
  await rejects(reordered, { ciphertexts: [...cts].reverse() });
  // Wrong counts.
  const fewer = clone(batch);
  fewer.shares.pop();
  await rejects(fewer, {});
});

Deno.test("a batch proof does not verify for another batch", async () => {
  const a = await createDecryptionShareBatch(secretShares[0]!, cts.slice(0, 3), {
    random,
    workers: 1,
  });
  const b = await createDecryptionShareBatch(secretShares[0]!, cts.slice(2), {
    random,
    workers: 1,
  });
  const mixed: DecryptionShareBatch = { index: 1, shares: b.shares, proof: a.proof };
  await rejects(mixed, { ciphertexts: cts.slice(2) });
  // The correct shares of a sub-batch with the full batch's proof also fail.
  const full = await createDecryptionShareBatch(secretShares[0]!, cts, { random, workers: 1 });
  await rejects({ index: 1, shares: full.shares.slice(0, 3), proof: full.proof }, {
    ciphertexts: cts.slice(0, 3),
  });
});

Deno.test("workers 1 and 2 give identical batches with seeded randomness", async () => {
  const one = await createDecryptionShareBatch(secretShares[2]!, cts, {
    random: seededRandom("same"),
    workers: 1,
  });
  const two = await createDecryptionShareBatch(secretShares[2]!, cts, {
    random: seededRandom("same"),
    workers: 2,
  });
  assert.deepEqual(two.proof, one.proof);
  assert.deepEqual(packPoints(two.shares.flat()), packPoints(one.shares.flat()));
  await verifyDecryptionShareBatch(one, { ciphertexts: cts, verificationKey: vk(3), workers: 2 });
  const tampered = clone(two);
  tampered.shares[4]![0] = tampered.shares[3]![0]!;
  await assertRejectsWith(
    () =>
      verifyDecryptionShareBatch(tampered, {
        ciphertexts: cts,
        verificationKey: vk(3),
        workers: 2,
      }),
    VerificationError,
    /trustee 3/,
  );
  closeWorkerPool();
});

Deno.test("malformed batches are rejected", async () => {
  await assertRejectsWith(
    () => createDecryptionShareBatch(secretShares[0]!, [], { workers: 1 }),
    InvalidInputError,
  );
  const narrow = encrypt(result.publicKey, [encodeInteger(1)], { random });
  await assertRejectsWith(
    () => createDecryptionShareBatch(secretShares[0]!, [cts[0]!, narrow], { workers: 1 }),
    InvalidInputError,
    /width/,
  );
  const batch = await createDecryptionShareBatch(secretShares[0]!, cts, { random, workers: 1 });
  const env = encodeDecryptionShareBatch(batch);
  assert.throws(
    () => decodeDecryptionShareBatch({ ...env, count: 4 }),
    InvalidInputError,
  );
  assert.throws(
    () => decodeDecryptionShareBatch({ ...env, shares: new Uint8Array(320) }),
    InvalidInputError,
  );
});

Deno.test("packed batches match the point form; a malformed packed element is rejected", async () => {
  const packed = await createPackedDecryptionShareBatch(secretShares[0]!, cts, {
    random: seededRandom("packed"),
    workers: 1,
  });
  const points = await createDecryptionShareBatch(secretShares[0]!, cts, {
    random: seededRandom("packed"),
    workers: 1,
  });
  assert.deepEqual(packed.shares, packPoints(points.shares.flat()));
  assert.deepEqual(packed.proof, points.proof);
  await verifyPackedDecryptionShareBatch(packed, {
    ciphertexts: cts,
    verificationKey: vk(1),
    workers: 1,
  });
  const bad = { ...packed, shares: packed.shares.slice() };
  bad.shares.fill(0xff, 64, 96);
  await assertRejectsWith(
    () => verifyPackedDecryptionShareBatch(bad, { ciphertexts: cts, verificationKey: vk(1) }),
    VerificationError,
    /trustee 1 is invalid: .*share\[2\]/,
  );
});

Deno.test("a batch proof is bound to its context (an election fingerprint)", async () => {
  const context = new TextEncoder().encode("election-a");
  const batch = await createDecryptionShareBatch(secretShares[1]!, cts, {
    context,
    random,
    workers: 1,
  });
  const check = (other?: Uint8Array) =>
    verifyDecryptionShareBatch(batch, {
      ciphertexts: cts,
      verificationKey: vk(2),
      workers: 1,
      ...(other === undefined ? {} : { context: other }),
    });
  await check(context);
  for (const other of [undefined, new TextEncoder().encode("election-b")]) {
    await assertRejectsWith(() => check(other), VerificationError, /trustee 2/);
  }
});

Deno.test("share batches report progress per chunk up to the batch size", async () => {
  const many = Array.from({ length: 40 }, (_, i) => cts[i % cts.length]!);
  for (const workers of [1, 2]) {
    const made: number[] = [], checked: number[] = [];
    const batch = await createPackedDecryptionShareBatch(secretShares[0]!, many, {
      workers,
      onChunk: (done, total) => {
        assert.equal(total, 40);
        made.push(done);
      },
    });
    await verifyPackedDecryptionShareBatch(batch, {
      ciphertexts: many,
      verificationKey: vk(1),
      workers,
      onChunk: (done) => checked.push(done),
    });
    assert.equal(made.at(-1), 40);
    assert.equal(checked.at(-1), 40);
    // Non-decreasing, and more than one report with 2 workers.
    assert.deepEqual(made, [...made].sort((a, b) => a - b));
    if (workers === 2) assert.ok(made.length >= 2, `reports ${made}`);
  }
  closeWorkerPool();
});

Deno.test("the sums taken straight from the encodings name a bad element of the last chunk, and reject a wrong one", async () => {
  const packed = await createPackedDecryptionShareBatch(secretShares[1]!, cts, { workers: 2 });
  const verify = (batch: typeof packed, ciphertexts = cts) =>
    verifyPackedDecryptionShareBatch(batch, { ciphertexts, verificationKey: vk(2), workers: 2 });
  await verify(packed);
  const last = cts.length * 2 - 1; // the last element's share (width 2)
  // Not an encoding: named as the slow path names it.
  const bad = { ...packed, shares: packed.shares.slice() };
  bad.shares.fill(0xff, 32 * last, 32 * last + 32);
  await assertRejectsWith(() => verify(bad), VerificationError, new RegExp(`share\\[${last}\\]`));
  // A valid element, but not the share: the batch proof fails.
  const wrong = { ...packed, shares: packed.shares.slice() };
  wrong.shares.set(packed.shares.subarray(0, 32), 32 * last);
  await assertRejectsWith(() => verify(wrong), VerificationError, /trustee 2 is invalid/);
  // A ciphertext's c1 that is not an encoding, in the last ciphertext.
  const bytes = cts.at(-1)!.bytes.slice();
  bytes.fill(0xff, 64, 96); // element 1's c1
  const tampered = [...cts.slice(0, -1), Ciphertext.unchecked(bytes, "tampered")];
  await assertRejectsWith(
    () => verify(packed, tampered),
    VerificationError,
    new RegExp(`ciphertext ${cts.length - 1}\\.c1\\[1\\]`),
  );
  closeWorkerPool();
});
