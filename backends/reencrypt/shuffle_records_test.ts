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
import { Ciphertext, encrypt, generateKeyPair, reencrypt } from "./elgamal.ts";
import { encodeInteger } from "./encoding.ts";
import { BASE_POINT, decodeScalar, encodeScalar } from "./group.ts";
import {
  SHUFFLE_PROOF_LISTS,
  shuffleAndProve,
  shuffleAndProveRecords,
  type ShuffleProofList,
  type ShuffleProofRecords,
  shuffleProofRecords,
  verifyShuffle,
  verifyShuffleChain,
  verifyShuffleChainRecords,
  verifyShuffleRecords,
} from "./shuffle_proof.ts";
import { assertRejectsWith } from "./test_helpers_test.ts";

setDefaultWorkerEntry(new URL("./worker_entry.ts", import.meta.url));
const random = seededRandom("shuffle-records-test");
const keys = generateKeyPair(random);

function batch(n: number, w: number): Ciphertext[] {
  return Array.from(
    { length: n },
    (_, i) =>
      encrypt(keys.publicKey, Array.from({ length: w }, (_, k) => encodeInteger(10 * i + k)), {
        random,
      }),
  );
}

function records(list: readonly Ciphertext[]): RecordSource {
  const size = list[0]!.bytes.length;
  const bytes = new Uint8Array(list.length * size);
  list.forEach((ct, i) => bytes.set(ct.bytes, i * size));
  return memoryRecords(bytes, size);
}

/** The same records with record `index` replaced by `bytes`, by range and by index. */
function replaced(source: RecordSource, index: number, bytes: Uint8Array): RecordSource {
  const all = allRecords(source).slice();
  all.set(bytes, index * source.recordBytes);
  return memoryRecords(all, source.recordBytes);
}

/** A sink factory that keeps what was asked for and how often each record was written. */
function recordingSinks(): {
  sinks: RecordSinkFactory;
  asked: Array<[string, number, number]>;
  writes: Map<string, Uint8Array>;
} {
  const asked: Array<[string, number, number]> = [];
  const writes = new Map<string, Uint8Array>();
  const sinks: RecordSinkFactory = (name, count, recordBytes) => {
    asked.push([name, count, recordBytes]);
    const inner = memoryRecordSink(count, recordBytes);
    const times = new Uint8Array(count);
    writes.set(name, times);
    return {
      count,
      recordBytes,
      write(lo, bytes) {
        for (let i = lo; i < lo + bytes.length / recordBytes; i++) times[i]!++;
        inner.write(lo, bytes);
      },
      finish: () => inner.finish(),
    };
  };
  return { sinks, asked, writes };
}

Deno.test("records with memory lists give the array API's bytes (same seed, widths 1 and 2, 1 and 2 workers)", async () => {
  for (const [n, w, workers] of [[5, 1, 1], [6, 2, 2], [1, 1, 1]] as const) {
    const inputs = batch(n, w);
    const array = await shuffleAndProve(keys.publicKey, inputs, {
      random: seededRandom(`same ${n}`),
      workers,
    });
    const rec = await shuffleAndProveRecords(keys.publicKey, records(inputs), {
      random: seededRandom(`same ${n}`),
      workers,
    });
    assert.deepEqual(allRecords(rec.outputs), allRecords(records(array.outputs)));
    for (const k of SHUFFLE_PROOF_LISTS) assert.deepEqual(allRecords(rec.proof[k]), array.proof[k]);
    for (const k of ["commitments", "challenge", "responses", "width"] as const) {
      assert.deepEqual(rec.proof[k], array.proof[k]);
    }
    const statement = { publicKey: keys.publicKey, inputs: records(inputs), outputs: rec.outputs };
    await verifyShuffleRecords(statement, rec.proof, { workers });
    await verifyShuffleRecords(statement, shuffleProofRecords(array.proof), { workers });
    await verifyShuffle(
      { publicKey: keys.publicKey, inputs, outputs: array.outputs },
      array.proof,
      { workers },
    );
  }
  closeWorkerPool();
});

Deno.test("the prover asks its sink factory for the outputs and the five proof lists, and writes each record once", async () => {
  for (const [n, w, workers] of [[7, 2, 2], [1, 1, 1]] as const) {
    const { sinks, asked, writes } = recordingSinks();
    const inputs = batch(n, w);
    const { outputs, proof } = await shuffleAndProveRecords(keys.publicKey, records(inputs), {
      random,
      workers,
      sinks,
    });
    assert.deepEqual(
      [...asked].sort(),
      [
        ["outputs", n, 64 * w] as [string, number, number],
        ...SHUFFLE_PROOF_LISTS.map((k) => [k, n, 32] as [string, number, number]),
      ].sort(),
    );
    for (const [name, times] of writes) {
      assert.deepEqual([...times], new Array(n).fill(1), `${name}: every record written once`);
    }
    await verifyShuffleRecords(
      { publicKey: keys.publicKey, inputs: records(inputs), outputs },
      proof,
      { workers },
    );
  }
  closeWorkerPool();
});

Deno.test("property: over sizes 1, 2, odd and several chunks, verifyShuffleRecords accepts, and rejects a changed record of any list", async () => {
  const draw = seededRandom("sizes");
  const below = (m: number) => {
    const b = new Uint8Array(1);
    draw(b);
    return b[0]! % m;
  };
  const sizes = [1, 2, 3 + 2 * below(6), 17 + below(20)];
  const other = BASE_POINT.multiply(987654321n).toBytes();
  for (const n of sizes) {
    const w = 1 + below(2);
    const workers = 2; // several chunks from N = 4 on (4 jobs on 2 workers)
    const inputs = records(batch(n, w));
    const { outputs, proof } = await shuffleAndProveRecords(keys.publicKey, inputs, {
      random,
      workers,
    });
    const statement = { publicKey: keys.publicKey, inputs, outputs };
    await verifyShuffleRecords(statement, proof, { workers });
    assert.equal(
      await verifyShuffleChainRecords({ ...statement, steps: [{ outputs, proof }] }, { workers }),
      true,
    );
    const i = below(n);
    const why = `N = ${n}, w = ${w}, record ${i}`;
    const rejects = async (s: typeof statement, p: ShuffleProofRecords, what: string) => {
      let caught: unknown;
      try {
        await verifyShuffleRecords(s, p, { workers });
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof VerificationError, `${what}: ${why}: ${caught}`);
      const steps = [{ outputs: s.outputs, proof: p }];
      assert.equal(await verifyShuffleChainRecords({ ...s, steps }, { workers }), false, why);
    };
    // A ciphertext re-encrypted: valid, but not the one proved.
    const changed = (list: RecordSource) =>
      replaced(
        list,
        i,
        reencrypt(keys.publicKey, Ciphertext.fromBytes(list.read(i, i + 1).slice(), "ct"), {
          random,
        }).bytes,
      );
    await rejects({ ...statement, inputs: changed(inputs) }, proof, "inputs");
    await rejects({ ...statement, outputs: changed(outputs) }, proof, "outputs");
    for (const k of SHUFFLE_PROOF_LISTS) {
      const list = proof[k];
      const isScalar = (["chainResponses", "permutationResponses"] as ShuffleProofList[])
        .includes(k);
      const value = isScalar ? encodeScalar(decodeScalar(list.read(i, i + 1), "s") + 1n) : other;
      await rejects(statement, { ...proof, [k]: replaced(list, i, value) }, k);
    }
  }
  closeWorkerPool();
});

Deno.test("record lists of the wrong size or record length are rejected by name", async () => {
  const inputs = batch(3, 1);
  const { outputs, proof } = await shuffleAndProve(keys.publicKey, inputs, {
    random,
    workers: 1,
  });
  const statement = {
    publicKey: keys.publicKey,
    inputs: records(inputs),
    outputs: records(outputs),
  };
  const recs = shuffleProofRecords(proof);
  const short = memoryRecords(proof.chainResponses.subarray(0, 64), 32);
  await assertRejectsWith(
    () => verifyShuffleRecords(statement, { ...recs, chainResponses: short }, { workers: 1 }),
    VerificationError,
    /chain responses hold 2 values, expected 3/,
  );
  const wide = memoryRecords(new Uint8Array(3 * 64), 64);
  await assertRejectsWith(
    () => verifyShuffleRecords(statement, { ...recs, chainCommitments: wide }, { workers: 1 }),
    VerificationError,
    /chain commitments are 64-byte records/,
  );
  await assertRejectsWith(
    () =>
      verifyShuffleRecords(
        { ...statement, outputs: memoryRecords(new Uint8Array(3 * 128), 128) },
        recs,
        { workers: 1 },
      ),
    VerificationError,
    /Outputs have width 2, the proof is for width 1/,
  );
  // The array API's chain wrapper says false, as before, for lists of the wrong size.
  assert.equal(
    await verifyShuffleChain({
      publicKey: keys.publicKey,
      inputs,
      steps: [{ outputs, proof: { ...proof, chainResponses: proof.chainResponses.slice(32) } }],
    }, { workers: 1 }),
    false,
  );
});

Deno.test("prover and verifiers read and write every list a chunk at a time (N = 4,500: no access spans the list)", async () => {
  const n = 4500;
  const one = encrypt(keys.publicKey, [encodeInteger(7)], { random });
  const inputs = records(
    Array.from({ length: n }, () => reencrypt(keys.publicKey, one, { random })),
  );
  let widest = 0;
  const spy = (source: RecordSource): RecordSource => ({
    count: source.count,
    recordBytes: source.recordBytes,
    read(lo, hi) {
      widest = Math.max(widest, hi - lo);
      return source.read(lo, hi);
    },
    gather(indices) {
      widest = Math.max(widest, indices.length);
      return source.gather(indices);
    },
  });
  const sinks: RecordSinkFactory = (_name, count, recordBytes) => {
    const inner = memoryRecordSink(count, recordBytes);
    return {
      count,
      recordBytes,
      write(lo, bytes) {
        widest = Math.max(widest, bytes.length / recordBytes);
        inner.write(lo, bytes);
      },
      finish: () => spy(inner.finish()),
    };
  };
  const spied = spy(inputs);
  const { outputs, proof } = await shuffleAndProveRecords(keys.publicKey, spied, {
    random,
    workers: 2,
    sinks,
  });
  const statement = { publicKey: keys.publicKey, inputs: spied, outputs };
  await verifyShuffleRecords(statement, proof, { workers: 2 });
  assert.ok(await verifyShuffleChainRecords({ ...statement, steps: [{ outputs, proof }] }));
  assert.ok(widest > 0 && widest <= 4096, `widest access: ${widest} records of ${n}`);
  closeWorkerPool();
});
