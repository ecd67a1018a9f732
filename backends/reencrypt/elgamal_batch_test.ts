import assert from "node:assert/strict";
import { closeWorkerPool, setDefaultWorkerEntry } from "../../core/worker_pool.ts";
import { decrypt, encrypt, generateKeyPair } from "./elgamal.ts";
import { decryptPackedBatch, encryptPackedBatch } from "./elgamal_batch.ts";
import { encodeInteger } from "./encoding.ts";
import { ELEMENT_BYTES, packPoints } from "./group.ts";

setDefaultWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

Deno.test("encrypt/decrypt batches: 2 workers give the plaintexts of 1 worker and of decrypt(), in order", async () => {
  try {
    const keys = generateKeyPair();
    const n = 203, w = 2;
    const messages = packPoints(
      Array.from({ length: n * w }, (_, e) => encodeInteger(e)),
    );
    const progress: number[] = [];
    const cts = await encryptPackedBatch(keys.publicKey, { width: w, messages }, {
      workers: 2,
      onChunk: (done) => progress.push(done),
    });
    assert.equal(cts.length, n * 2 * w * ELEMENT_BYTES);
    assert.equal(progress.at(-1), n);
    const one = await decryptPackedBatch(keys.secretKey, { width: w, ciphertexts: cts }, {
      workers: 1,
    });
    const two = await decryptPackedBatch(keys.secretKey, { width: w, ciphertexts: cts }, {
      workers: 2,
    });
    // Same bytes on 1 and 2 workers, and the messages come back in order.
    assert.deepEqual(two, one);
    assert.deepEqual(two, messages);
    // Fresh randomness per ciphertext: two encryptions of the same batch differ.
    const again = await encryptPackedBatch(keys.publicKey, { width: w, messages }, { workers: 2 });
    assert.notDeepEqual(again.subarray(0, 64), cts.subarray(0, 64));
    // Agrees with the one-ciphertext functions.
    const single = encrypt(keys.publicKey, [encodeInteger(7), encodeInteger(8)]);
    const plain = await decryptPackedBatch(keys.secretKey, {
      width: w,
      ciphertexts: single.bytes,
    }, { workers: 2 });
    assert.deepEqual(plain, packPoints(decrypt(keys.secretKey, single)));
    // A tampered ciphertext is refused, on any number of workers.
    const bad = cts.slice();
    bad[64 * w * 150 + 32]! |= 1; // c2 of ciphertext 150 is "negative": not canonical
    for (const workers of [1, 2]) {
      await assert.rejects(
        decryptPackedBatch(keys.secretKey, { width: w, ciphertexts: bad }, { workers }),
        /ciphertext 150/,
      );
    }
    await assert.rejects(
      encryptPackedBatch(keys.publicKey, { width: w, messages: messages.subarray(1) }),
      /multiple of 64 bytes/,
    );
  } finally {
    closeWorkerPool();
  }
});
