import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { seededRandom } from "../../core/random.ts";
import { createElectionDefinition } from "./definition.ts";
import { runLocalElection } from "./election.ts";
import {
  electionTranscriptFromEnvelope,
  electionTranscriptToEnvelope,
} from "./election_transcript.ts";
import { checkElectionReceipt } from "./receipt.ts";
import { simulateElectionBallots } from "./simulate.ts";
import { verifyElection } from "./verify.ts";

const definition = createElectionDefinition({
  id: "round-trip",
  trustees: 3,
  threshold: 2,
  mixers: 3,
  questions: [
    { text: "Chair", choices: ["Ann", "Bob", "Cid"] },
    { text: "Board", choices: ["p", "q", "r", "s"], type: "multiple", min: 0, max: 2 },
    { text: "Order", choices: ["x", "y", "z"], type: "ranked", min: 1, max: 3 },
  ],
});

// Known answers: voter i picks chair i % 3, board {i % 4}, ranking [i % 3, (i+1) % 3].
const known = (i: number) => [[i % 3], [i % 4], [i % 3, (i + 1) % 3]];

Deno.test("election: full round trip with a known tally, through msgpack, verifies", async () => {
  const random = seededRandom("vote-round-trip");
  const count = 24;
  const { transcript, receipts, rejected } = await runLocalElection(definition, {
    random,
    workers: 1,
    ballots: (e) => simulateElectionBallots(e, { count, random, answers: known }).ballots,
  });
  assert.equal(rejected.length, 0);
  assert.equal(receipts.length, count);
  const t = transcript.tally;
  assert.equal(t.ballots, count);
  assert.equal(t.valid, count);
  assert.deepEqual(t.questions[0]!.counts, [8, 8, 8]);
  assert.deepEqual(t.questions[1]!.counts, [6, 6, 6, 6]);
  assert.equal(t.questions[1]!.blank, 0);
  assert.deepEqual(t.questions[2]!.counts, [16, 16, 16]);
  assert.deepEqual(t.questions[2]!.ranks!.map((r) => r[0]), [8, 8, 8]);
  const bytes = encodeMsgpack(electionTranscriptToEnvelope(transcript));
  const decoded = electionTranscriptFromEnvelope(decodeMsgpack(bytes, "transcript"));
  const report = await verifyElection(decoded, { workers: 1 });
  assert.equal(report.counted, count);
  assert.deepEqual(report.trustees, [1, 2]);
  assert.equal(checkElectionReceipt(decoded, receipts[5]!).status, "counted");
  assert.equal(checkElectionReceipt(decoded, new Uint8Array(32)).status, "absent");
});
