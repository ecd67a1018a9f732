import assert from "node:assert/strict";
import { VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import {
  allRecords,
  memoryRecords,
  memoryRecordSink,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import { closeWorkerPool, setDefaultWorkerEntry } from "../../core/worker_pool.ts";
import {
  createPackedDecryptionShareBatch,
  createPackedDecryptionShareBatchRecords,
  verifyPackedDecryptionShareBatchRecords,
} from "./decryption_batch.ts";
import { simulateDkg } from "./dkg.ts";
import { Ciphertext, encrypt } from "./elgamal.ts";
import { encodeInteger } from "./encoding.ts";
import { assertRejectsWith } from "./test_helpers_test.ts";

setDefaultWorkerEntry(new URL("./worker_entry.ts", import.meta.url));
const random = seededRandom("decryption-batch-kat");
const { result, secretShares } = simulateDkg({ threshold: 2, trustees: 3 }, { random });
const context = new TextEncoder().encode("ctx");

function ciphertexts(n: number, w: number): RecordSource {
  const r = seededRandom(`cts-${n}-${w}`);
  const list = Array.from({ length: n }, (_, i) =>
    encrypt(
      result.publicKey,
      Array.from({ length: w }, (_, k) => encodeInteger(i + k)),
      { random: r },
    ));
  const out = new Uint8Array(n * 64 * w);
  list.forEach((c, i) => out.set(c.bytes, i * 64 * w));
  return memoryRecords(out, 64 * w);
}

/** A source that hands out fresh copies and remembers its longest read (records). */
function watched(source: RecordSource): RecordSource & { longest: number } {
  const out = {
    count: source.count,
    recordBytes: source.recordBytes,
    longest: 0,
    read(lo: number, hi: number) {
      out.longest = Math.max(out.longest, hi - lo);
      return source.read(lo, hi).slice();
    },
    gather: (indices: ArrayLike<number>) => source.gather(indices),
  };
  return out;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const digest = async (b: Uint8Array) =>
  hex(new Uint8Array(await crypto.subtle.digest("SHA-256", b.slice()))).slice(0, 16);

// Produced by the array implementation of commit d0d0171 (before the record lists), so the
// chunked statement hashing and ρ expansion are shown to give the same proofs: batch sizes
// with ρ of 48 and 64 bytes (one challenge block), 80 bytes and 9,600 bytes (expanded).
const VECTORS: Array<[number, number, string, string, string]> = [
  [
    3,
    1,
    "a619183ed545a873a0757e90fbe1d9162a5ba2e1ac7642e047a4823771d1910",
    "c2013077ae3c19313c3fbe127095dca516525c03b6020bcb3dfa7cd87d0fda",
    "d86303a78aaa4288",
  ],
  [
    4,
    1,
    "8f08e15e022e59b6a58863c6a581d1b05cec782e59c3e65c92b9969af3f33ff",
    "a53ebee89e5237b247fbf519b6425ceb806367f855ee935cc69467f1c1e98ac",
    "9e1894a6820d92d2",
  ],
  [
    5,
    1,
    "32eb6a32f78cf2623155f0e8c900e75157758b61e7b3f1b630a89c32f99c363",
    "ee8effe619b0576c0ec24e573fab87b5f9db30e899d02cc70fdbc54e833ba6a",
    "650b494d7ff3572d",
  ],
  [
    300,
    2,
    "82fb7548064758afd5040d0b7c7435b2a79741c13e1c40df4bdfe682fc37b03",
    "5447504a5ee6a9a4caecd8b9ff10b264cb49b8aabf75d2a3e3734b0c91c96d9",
    "3ad465be02e299c7",
  ],
];

Deno.test("record batches give the proofs of the array implementation (known answers) and verify", async () => {
  for (const [n, w, e, z, shares] of VECTORS) {
    for (const workers of [1, 2]) {
      const source = watched(ciphertexts(n, w));
      const names: string[] = [];
      const sinks: RecordSinkFactory = (name, count, size) => {
        names.push(name);
        return memoryRecordSink(count, size);
      };
      const batch = await createPackedDecryptionShareBatchRecords(secretShares[1]!, source, {
        random: seededRandom("nonce"),
        workers,
        context,
        sinks,
      });
      assert.deepEqual(names, ["shares"]);
      assert.equal(batch.proof.challenge.toString(16), e, `e of ${n}×${w}`);
      assert.equal(batch.proof.response.toString(16), z, `z of ${n}×${w}`);
      assert.equal(await digest(allRecords(batch.shares)), shares);
      assert.equal(batch.shares.count, n);
      assert.equal(batch.shares.recordBytes, 32 * w);
      await verifyPackedDecryptionShareBatchRecords(batch, {
        ciphertexts: source,
        verificationKey: result.verificationKeys[1]!,
        context,
        workers,
      });
    }
  }
  closeWorkerPool();
});

Deno.test("record batches read the ciphertexts and shares a chunk at a time", async () => {
  const n = 9000;
  const source = watched(ciphertexts(n, 1));
  const batch = await createPackedDecryptionShareBatchRecords(secretShares[0]!, source, {
    random: seededRandom("chunks"),
    workers: 1,
  });
  // At most one chunk of the prover (8,192) or of the statement hashing (4,096) per read.
  assert.ok(source.longest <= 8192, `longest read ${source.longest}`);
  const shares = watched(batch.shares);
  source.longest = 0;
  await verifyPackedDecryptionShareBatchRecords({ ...batch, shares }, {
    ciphertexts: source,
    verificationKey: result.verificationKeys[0]!,
    workers: 1,
  });
  assert.ok(source.longest <= 8192 && shares.longest <= 8192);
  closeWorkerPool();
});

Deno.test("record batches reject a tampered share record, a short list and another width", async () => {
  const cts = ciphertexts(40, 2);
  const batch = await createPackedDecryptionShareBatchRecords(secretShares[2]!, cts, {
    workers: 1,
  });
  const verify = (shares: RecordSource, ciphertexts = cts) =>
    verifyPackedDecryptionShareBatchRecords({ ...batch, shares }, {
      ciphertexts,
      verificationKey: result.verificationKeys[2]!,
      workers: 1,
    });
  const bytes = allRecords(batch.shares).slice();
  bytes.set(bytes.subarray(0, 32), 64 * 17); // share 17 replaced by another valid element
  await assertRejectsWith(
    () => verify(memoryRecords(bytes, 64)),
    VerificationError,
    /trustee 3 is invalid/,
  );
  bytes.fill(0xff, 64 * 17, 64 * 17 + 32); // not an encoding: named
  await assertRejectsWith(
    () => verify(memoryRecords(bytes, 64)),
    VerificationError,
    /share\[34\]/,
  );
  await assertRejectsWith(
    () => verify(memoryRecords(allRecords(batch.shares).subarray(64), 64)),
    VerificationError,
    /trustee 3 has 2496 bytes of shares for 40 ciphertexts of width 2/,
  );
  await assertRejectsWith(
    () => verify(batch.shares, memoryRecords(allRecords(cts), 64)),
    VerificationError,
    /trustee 3/,
  );
});

Deno.test("the array wrapper gives the bytes of the record version", async () => {
  const cts = ciphertexts(7, 2);
  const list = await createPackedDecryptionShareBatch(
    secretShares[0]!,
    Array.from({ length: 7 }, (_, i) => Ciphertext.unchecked(cts.read(i, i + 1))),
    { random: seededRandom("same"), workers: 1 },
  );
  const records = await createPackedDecryptionShareBatchRecords(secretShares[0]!, cts, {
    random: seededRandom("same"),
    workers: 1,
  });
  assert.deepEqual(list.proof, records.proof);
  assert.deepEqual(list.shares, allRecords(records.shares));
});
