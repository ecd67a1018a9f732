// Simulated voters' chunks encoded on the workers (issue 17 point 3): for a seeded run, each
// chunk is encodeStoredBallots of the object chunk, on 1 and 2 workers, and a store fed the
// chunks whole holds what per-ballot appends of the objects hold.
import assert from "node:assert/strict";
import { concatBytes } from "../../core/bytes.ts";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import { EncodedBallotStore, encodeStoredBallots, memoryByteLog } from "./ballot_store.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import {
  type EncodedSimulatedBallots,
  simulateElectionBallotChunks,
  simulateEncodedBallotChunks,
} from "./simulate_tasks.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

const definition = createElectionDefinition({
  id: "simulate-encoded",
  trustees: 1,
  mixers: 1,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }, { text: "R", choices: ["x", "y"] }],
});
const fingerprint = electionFingerprint(definition);
const { key } = runLocalKeyCeremony({ definition, fingerprint });
const election = { definition, fingerprint, publicKey: key.publicKey };
const seed = new TextEncoder().encode("encoded");

Deno.test("simulated voters encoded on the workers: encodeStoredBallots of the object chunks, on 1 and 2 workers", async () => {
  try {
    // 2,300 voters: three jobs of ~1,000, so more than one chunk and window.
    const count = 2300;
    const objects: Array<{ lo: number; encoded: Uint8Array; answers: unknown[] }> = [];
    for await (const chunk of simulateElectionBallotChunks(election, { count, seed, workers: 1 })) {
      objects.push({
        lo: chunk.lo,
        encoded: encodeStoredBallots(chunk.ballots),
        answers: chunk.answers,
      });
    }
    assert.ok(objects.length >= 3, `${objects.length} chunks`);
    const reference = new EncodedBallotStore(memoryByteLog(), fingerprint, "objects");
    for await (const chunk of simulateElectionBallotChunks(election, { count, seed, workers: 2 })) {
      for (const b of chunk.ballots) reference.append(b);
    }
    for (const workers of [1, 2]) {
      for (const withAnswers of [false, true]) {
        const chunks: EncodedSimulatedBallots[] = [];
        let progress = 0;
        const log = memoryByteLog();
        const store = new EncodedBallotStore(log, fingerprint, "chunks");
        const encoded = simulateEncodedBallotChunks(election, {
          count,
          seed,
          workers,
          withAnswers,
          onChunk: (done) => progress = done,
        });
        for await (const chunk of encoded) {
          chunks.push(chunk);
          assert.equal(store.appendEncoded(chunk.encoded), chunk.count);
        }
        const what = `workers ${workers}, answers ${withAnswers}`;
        assert.equal(progress, count, what);
        assert.deepEqual(chunks.map((c) => c.lo), objects.map((c) => c.lo), what);
        assert.deepEqual(chunks.map((c) => c.encoded), objects.map((c) => c.encoded), what);
        assert.deepEqual(
          chunks.map((c) => c.answers),
          objects.map((c) => withAnswers ? c.answers : undefined),
          what,
        );
        assert.ok(chunks.every((c) => "answers" in c === withAnswers), what);
        // The whole store: the bytes and ballots of per-ballot appends of the object chunks.
        assert.equal(store.count, count);
        assert.deepEqual(log.read(0, log.size), concatBytes(...objects.map((c) => c.encoded)));
        for (const [lo, hi] of [[0, count], [999, 1001], [2250, 2300]]) {
          assert.deepEqual(
            store.read(lo!, hi!).map((b) => [b.credential, encodeStoredBallots([b])]),
            reference.read(lo!, hi!).map((b) => [b.credential, encodeStoredBallots([b])]),
            `${what}: ${lo}..${hi}`,
          );
        }
      }
    }
  } finally {
    closeWorkerPool();
  }
});
