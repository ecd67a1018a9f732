// Answers as msgpack bytes (issue 17), and a whole election written as `vote run` and `vote
// bench` write it (ballots from a store of encodings, answers from the tally's slots): the
// bytes of encodeMsgpack(electionTranscriptToEnvelope(t)), a transcript the verifier accepts.
import assert from "node:assert/strict";
import { joinBytes } from "../../core/bytes.ts";
import { encodeMsgpack } from "../../core/envelope.ts";
import { seededRandom } from "../../core/random.ts";
import { memoryItemChunks } from "../../core/records.ts";
import {
  embedBytes,
  encrypt,
  proveEncryptionKnowledge,
  randomScalars,
} from "../../backends/reencrypt/mod.ts";
import { answersMsgpack, answersRun, hasEncodedAnswers } from "./answer_bytes.ts";
import type { ElectionAnswer } from "./answers.ts";
import {
  ballotProofContext,
  type ElectionBallot,
  type ElectionPublicInfo,
  encryptElectionBallot,
} from "./ballot.ts";
import { EncodedBallotStore, hasEncodedChunks, memoryByteLog } from "./ballot_store.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import { runLocalElectionRecords } from "./election.ts";
import { electionTranscriptFromRecords } from "./election_records.ts";
import {
  electionTranscriptToEnvelope,
  writeElectionTranscriptRecords,
} from "./election_transcript.ts";
import { readElectionTranscriptStream } from "./transcript_stream.ts";
import { verifyElection } from "./verify.ts";

const CASES: (ElectionAnswer[] | null)[] = [
  null,
  [],
  [[]],
  [[0]],
  [[127]],
  [[128]], // uint 8: encodeMsgpack's
  [[1, 2], [], [3]],
  [Array.from({ length: 15 }, (_, i) => i)],
  [Array.from({ length: 16 }, (_, i) => i)], // array 16
  Array.from({ length: 16 }, () => [1]),
  [[-1]],
  [[2 ** 40]],
];

Deno.test("answersMsgpack and answersRun: exactly encodeMsgpack's bytes", () => {
  for (const a of CASES) assert.deepEqual(answersMsgpack(a), encodeMsgpack(a), JSON.stringify(a));
  const run = answersRun(CASES);
  assert.equal(run.count, CASES.length);
  assert.deepEqual(run.bytes, joinBytes(CASES.map((a) => encodeMsgpack(a))));
  assert.equal(answersRun([]).bytes.length, 0);
  assert.ok(!hasEncodedAnswers(memoryItemChunks(CASES)));
});

/** A ballot whose element embeds `message` (not an answer encoding: an invalid ballot). */
function invalidBallot(
  election: ElectionPublicInfo,
  credential: string,
  message: Uint8Array,
): ElectionBallot {
  const random = seededRandom(`invalid-${credential}`);
  const randomness = randomScalars(1, random);
  const ciphertext = encrypt(election.publicKey, [embedBytes(message)], { randomness, random });
  const proof = proveEncryptionKnowledge(
    {
      publicKey: election.publicKey,
      ciphertext,
      context: ballotProofContext(election.fingerprint, credential),
    },
    { randomness, random },
  );
  return { election: election.fingerprint.slice(), credential, ciphertext, proof };
}

Deno.test("a run's transcript (stored ballots, slot answers) is written as encodeMsgpack of its envelope, and verifies", async () => {
  const definition = createElectionDefinition({
    id: "answer-bytes",
    trustees: 3,
    threshold: 2,
    mixers: 2,
    questions: [{ text: "Which?", choices: ["A", "B", "C"], type: "multiple", min: 0, max: 2 }],
  });
  const fingerprint = electionFingerprint(definition);
  const random = seededRandom("answer-bytes");
  const credentials = ["voter-1", "électrice-ü", "投票者-7", "x".repeat(40), "votant 🗳️", "v6"];
  const { transcript, times } = await runLocalElectionRecords(definition, {
    random,
    workers: 1,
    receipts: false,
    store: new EncodedBallotStore(memoryByteLog(256), fingerprint, "ballots"),
    ballots: (e) =>
      memoryItemChunks([
        ...credentials.map((credential, i) =>
          encryptElectionBallot(e, {
            credential,
            answers: [i % 3 === 0 ? [] : i % 3 === 1 ? [0, 2] : [1]], // blank and not
            random,
          })
        ),
        invalidBallot(e, "spoilt-1", Uint8Array.of(200)), // out of range
        invalidBallot(e, "spoilt-2", Uint8Array.of(1, 2, 3)), // wrong length
      ]),
  });
  assert.ok(times["tally"] !== undefined);
  assert.ok(hasEncodedChunks(transcript.ballots) && hasEncodedAnswers(transcript.answers));
  const t = await electionTranscriptFromRecords(transcript);
  assert.equal(t.answers.filter((a) => a === null).length, 2);
  assert.ok(t.answers.some((a) => a !== null && a[0]!.length === 0)); // blank
  const expected = encodeMsgpack(electionTranscriptToEnvelope(t));
  const parts: Uint8Array[] = [];
  const n = await writeElectionTranscriptRecords(
    transcript,
    new WritableStream({ write: (c) => void parts.push(c.slice()) }),
  );
  const bytes = joinBytes(parts);
  assert.equal(n, bytes.length);
  assert.deepEqual(bytes, expected);
  // The answers' runs, in any chunk size: encodeMsgpack of each answer.
  for (const size of [3, 4096]) {
    const runs: Uint8Array[] = [];
    for await (const run of transcript.answers.encodedChunks(size)) runs.push(run.bytes);
    assert.deepEqual(joinBytes(runs), joinBytes(t.answers.map((a) => encodeMsgpack(a))));
  }
  const read = await readElectionTranscriptStream(ReadableStream.from([bytes]), "t");
  const report = await verifyElection(read, { workers: 1 });
  assert.equal(report.counted, credentials.length + 2);
});
