// Simulated voters a chunk at a time (issue 17 point 2): the same ballots as the array
// function for a seeded run, on 1 and 2 workers, cast chunk by chunk as they are made.
import assert from "node:assert/strict";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import { seededRandom } from "../../core/random.ts";
import { concatBytes } from "../../core/bytes.ts";
import {
  randomElectionAnswers,
  simulatedBallotChunks,
  simulateElectionBallots,
} from "./simulate.ts";
import { type ElectionBallot, encryptElectionBallot, packBallotProof } from "./ballot.ts";
import { ElectionBallotBox } from "./ballot_box.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import {
  simulateElectionBallotChunks,
  simulateElectionBallotsInParallel,
} from "./simulate_tasks.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

const definition = createElectionDefinition({
  id: "simulate-chunks",
  trustees: 1,
  mixers: 1,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }],
});
const fingerprint = electionFingerprint(definition);
const { key } = runLocalKeyCeremony({ definition, fingerprint });
const election = { definition, fingerprint, publicKey: key.publicKey };
const seed = new TextEncoder().encode("chunks");

const bytesOf = (b: ElectionBallot) =>
  `${b.credential}:${[...b.ciphertext.bytes, ...packBallotProof(b.proof)].join(",")}`;

Deno.test("simulated voters in chunks: the array function's ballots, in order, on 1 and 2 workers; cast as they come", async () => {
  try {
    // 2,300 voters: jobs of ~1,000, so more than one chunk, and more than one window on 1 worker.
    const count = 2300;
    const whole = await simulateElectionBallotsInParallel(election, { count, seed, workers: 1 });
    // Voter i's ballot is encryptElectionBallot's with its own source seededRandom(seed ‖
    // u32be(i)), answers drawn first, wherever it falls in a job and in the job's batches.
    for (const i of [0, 255, 256, 511, 999, 1000, 2299]) {
      const index = new Uint8Array(4);
      new DataView(index.buffer).setUint32(0, i);
      const random = seededRandom(concatBytes(seed, index));
      const answers = randomElectionAnswers(definition, random);
      assert.deepEqual(whole.answers[i], answers);
      const ballot = encryptElectionBallot(election, {
        credential: `voter-${i + 1}`,
        answers,
        random,
      });
      assert.equal(bytesOf(whole.ballots[i]!), bytesOf(ballot), `voter ${i + 1}`);
    }
    for (const workers of [1, 2]) {
      const los: number[] = [];
      const seen: string[] = [];
      const answers: unknown[] = [];
      const box = new ElectionBallotBox(election);
      let progress = 0;
      let made = 0;
      const chunks = simulateElectionBallotChunks(election, {
        count,
        seed,
        workers,
        onChunk: (done, total) => {
          assert.equal(total, count);
          assert.ok(done > progress);
          progress = done;
        },
      });
      for await (const chunk of chunks) {
        assert.equal(chunk.ballots.length, chunk.answers.length);
        los.push(chunk.lo);
        seen.push(...chunk.ballots.map(bytesOf));
        answers.push(...chunk.answers);
        made += chunk.ballots.length;
        const outcomes = await box.castMany(chunk.ballots, { workers, receipts: false });
        assert.ok(outcomes.every((o) => o.ok));
      }
      assert.equal(made, count);
      assert.equal(progress, count);
      assert.ok(los.length >= 3, `${los.length} chunks`);
      assert.deepEqual(los, [...los].sort((a, b) => a - b));
      assert.deepEqual(seen, whole.ballots.map(bytesOf), `workers ${workers}`);
      assert.deepEqual(answers, whole.answers);
      assert.equal(box.closeRecords().count, count);
    }
    // Stopping early leaves nothing running; a bad blank rate is refused before any work.
    for await (const chunk of simulateElectionBallotChunks(election, { count, workers: 2 })) {
      assert.equal(chunk.lo, 0);
      break;
    }
    await assert.rejects(async () => {
      for await (const _ of simulateElectionBallotChunks(election, { count: 2, blank: 2 })) {
        assert.fail("a chunk made with a bad blank rate");
      }
    }, /Blank rate/);
  } finally {
    closeWorkerPool();
  }
});

Deno.test("simulated voters on this thread in chunks: the array function's ballots for the same seed", () => {
  const whole = simulateElectionBallots(election, { count: 20, random: seededRandom("sync") });
  const los: number[] = [];
  const seen: string[] = [];
  const answers: unknown[] = [];
  const progress: number[] = [];
  for (
    const chunk of simulatedBallotChunks(election, {
      count: 20,
      random: seededRandom("sync"),
      chunk: 7,
      onProgress: (done) => progress.push(done),
    })
  ) {
    los.push(chunk.lo);
    seen.push(...chunk.ballots.map(bytesOf));
    answers.push(...chunk.answers);
  }
  assert.deepEqual(los, [0, 7, 14]);
  assert.deepEqual(seen, whole.ballots.map(bytesOf));
  assert.deepEqual(answers, whole.answers);
  assert.deepEqual(progress, [20]);
});
