import assert from "node:assert/strict";
import { closeWorkerPool } from "../../core/worker_pool.ts";
import {
  createDecryptionShare,
  decodePoint,
  encodeInteger,
  encodePoint,
  encrypt,
  extractEncodedBytes,
  IDENTITY,
  InvalidInputError,
  LagrangeCombiner,
  packPoints,
  type Point,
  simulateDkg,
} from "../../backends/reencrypt/mod.ts";
import {
  VOTE_ITEM_INVALID,
  VOTE_ITEM_MALFORMED,
  VOTE_ITEM_OK,
  voteCheckPlaintexts,
  voteCombineDecryptionShares,
} from "./tasks.ts";

/** A non-canonical encoding (≥ p). */
const NON_CANONICAL = new Uint8Array(32).fill(0xff).fill(0x7f, 31);

/** The per-ballot decode of the previous task code: undefined where a share does not decode. */
function decodeAll(bytes: Uint8Array): Point[] | undefined {
  try {
    return [0, 32].slice(0, bytes.length / 32).map((o) =>
      decodePoint(bytes.subarray(o, o + 32), "share")
    );
  } catch (error) {
    if (error instanceof InvalidInputError) return undefined;
    throw error;
  }
}

Deno.test("combination and plaintext check from encodings: the verdicts and bytes of the bigint path", async () => {
  try {
    const { result, secretShares } = simulateDkg({ threshold: 2, trustees: 3 });
    const ciphertexts = Array.from(
      { length: 9 },
      (_, i) =>
        encrypt(result.publicKey, [i === 6 ? IDENTITY : encodeInteger(i), encodeInteger(100 + i)]),
    );
    // Ballot 6 encrypts the identity in its first element (an identity result).
    for (const trustees of [[1, 2], [2, 3], [1, 3], [3, 1, 2]]) {
      const combiner = new LagrangeCombiner(trustees);
      const posts = trustees.map((index) => ({
        trustee: index,
        shares: ciphertexts.map((c) =>
          packPoints(createDecryptionShare(secretShares[index - 1]!, c).shares)
        ),
      }));
      // Ballot 3: the second trustee's share of element 1 does not decode.
      posts[1]!.shares[3] = posts[1]!.shares[3]!.slice();
      posts[1]!.shares[3]!.set(NON_CANONICAL, 32);
      const combined = await voteCombineDecryptionShares(posts, { ciphertexts, workers: 1 });
      ciphertexts.forEach((c, i) => {
        const decoded = posts.map((p) => decodeAll(p.shares[i]!));
        posts.forEach((_, j) => {
          const want = decoded[j] === undefined ? VOTE_ITEM_MALFORMED : VOTE_ITEM_OK;
          assert.equal(combined.verdicts[j]![i], want, `${trustees} ballot ${i} trustee ${j}`);
        });
        if (decoded.some((d) => d === undefined)) {
          assert.equal(i, 3);
          assert.equal(combined.plaintexts[i]!.every((b) => b === 0), true);
          assert.deepEqual(combined.messages[i], [undefined, undefined]);
          return;
        }
        const want = [0, 1].map((k) =>
          encodePoint(
            combiner.decrypt(
              decodePoint(c.bytes.subarray(64 * k + 32, 64 * k + 64), "c2"),
              decoded.map((d) => d![k]!),
            ),
          )
        );
        assert.deepEqual(combined.plaintexts[i], new Uint8Array([...want[0]!, ...want[1]!]));
        const messages = want.map((m) => {
          try {
            return extractEncodedBytes(m);
          } catch {
            return undefined;
          }
        });
        assert.deepEqual(combined.messages[i], messages);
        if (i === 6) assert.equal(want[0]!.every((b) => b === 0), true); // the identity
      });
      // The check: published plaintexts, some wrong or malformed.
      const published = combined.plaintexts.map((p) => p.slice());
      published[1]!.set(combined.plaintexts[2]!.subarray(32), 32); // wrong element 1
      published[2]!.set(NON_CANONICAL, 0); // malformed element 0
      published[4]!.set(combined.plaintexts[5]!.subarray(0, 32), 0); // wrong, then malformed
      published[4]!.set(NON_CANONICAL, 32);
      published[5]!.fill(0, 0, 32); // the identity (malformed), then wrong
      published[5]!.set(combined.plaintexts[6]!.subarray(32), 32);
      published[3]!.set(NON_CANONICAL, 0); // a bad share: no verdict on the plaintext
      const checked = await voteCheckPlaintexts(posts, {
        ciphertexts,
        plaintexts: published,
        workers: 1,
      });
      assert.deepEqual([...checked.plaintextVerdicts], [
        VOTE_ITEM_OK,
        VOTE_ITEM_INVALID,
        VOTE_ITEM_MALFORMED,
        VOTE_ITEM_OK,
        VOTE_ITEM_INVALID,
        VOTE_ITEM_MALFORMED,
        VOTE_ITEM_MALFORMED, // an identity plaintext is refused as decodePoint refuses it
        VOTE_ITEM_OK,
        VOTE_ITEM_OK,
      ]);
      assert.deepEqual(checked.verdicts, combined.verdicts);
      assert.equal(checked.messages[2]![0], undefined); // extracted from the published bytes
    }
  } finally {
    closeWorkerPool();
  }
});
