// The shuffle proof over record lists backed by spool files (issue 17): the same bytes as in
// memory, verified from the files, alone and as a chain.
import assert from "node:assert/strict";
import { allRecords, memoryRecords, type RecordSource } from "../core/records.ts";
import { seededRandom } from "../core/random.ts";
import { closeWorkerPool, setDefaultWorkerEntry } from "../core/worker_pool.ts";
import {
  encodeInteger,
  encrypt,
  generateKeyPair,
  SHUFFLE_PROOF_LISTS,
  shuffleAndProveRecords,
  verifyShuffleChainRecords,
  verifyShuffleRecords,
} from "../backends/reencrypt/mod.ts";
import { RecordFile, Spool } from "./record_file.ts";

setDefaultWorkerEntry(new URL("../backends/reencrypt/worker_entry.ts", import.meta.url));

Deno.test("shuffle, prove and verify with spool files give the bytes of the memory run", async () => {
  const random = seededRandom("record-shuffle");
  const { publicKey } = generateKeyPair(random);
  const spool = await Spool.create();
  try {
    for (const [n, w, workers] of [[9, 2, 2], [1, 1, 1], [20, 1, 1]] as const) {
      const bytes = new Uint8Array(n * 64 * w);
      for (let i = 0; i < n; i++) {
        const ct = encrypt(publicKey, Array.from({ length: w }, (_, k) => encodeInteger(i + k)), {
          random,
        });
        bytes.set(ct.bytes, i * 64 * w);
      }
      const inputSink = spool.sinks("inputs", n, 64 * w);
      inputSink.write(0, bytes);
      const fileInputs = inputSink.finish();
      assert.ok(fileInputs instanceof RecordFile);
      const memoryInputs = memoryRecords(bytes, 64 * w);

      // Two steps of a cascade, each written to files, and the same in memory.
      const steps = async (inputs: RecordSource, onFiles: boolean) => {
        const first = await shuffleAndProveRecords(publicKey, inputs, {
          random: seededRandom(`step 1 of ${n}`),
          workers,
          ...(onFiles ? { sinks: spool.sinks } : {}),
        });
        const second = await shuffleAndProveRecords(publicKey, first.outputs, {
          random: seededRandom(`step 2 of ${n}`),
          workers,
          ...(onFiles ? { sinks: spool.sinks } : {}),
        });
        return [first, second];
      };
      const onFiles = await steps(fileInputs, true);
      const inMemory = await steps(memoryInputs, false);
      for (let m = 0; m < 2; m++) {
        const [f, mem] = [onFiles[m]!, inMemory[m]!];
        assert.ok(f.outputs instanceof RecordFile, "the outputs are a spool file");
        assert.deepEqual(f.outputs.read(0, n), allRecords(mem.outputs));
        for (const k of SHUFFLE_PROOF_LISTS) {
          assert.ok(f.proof[k] instanceof RecordFile, `${k} is a spool file`);
          assert.deepEqual(f.proof[k].read(0, n), allRecords(mem.proof[k]), k);
        }
        assert.deepEqual(f.proof.commitments, mem.proof.commitments);
        assert.deepEqual(f.proof.responses, mem.proof.responses);
        assert.deepEqual(f.proof.challenge, mem.proof.challenge);
      }
      const [first, second] = onFiles as [typeof onFiles[0], typeof onFiles[0]];
      await verifyShuffleRecords(
        { publicKey, inputs: fileInputs, outputs: first.outputs },
        first.proof,
        { workers },
      );
      await verifyShuffleRecords(
        { publicKey, inputs: first.outputs, outputs: second.outputs },
        second.proof,
        { workers },
      );
      assert.equal(
        await verifyShuffleChainRecords({ publicKey, inputs: fileInputs, steps: [first, second] }, {
          workers,
        }),
        true,
      );
      // A chain whose steps are swapped does not verify.
      assert.equal(
        await verifyShuffleChainRecords({ publicKey, inputs: fileInputs, steps: [second, first] }, {
          workers,
        }),
        false,
      );
    }
  } finally {
    spool.close();
    closeWorkerPool();
  }
});
