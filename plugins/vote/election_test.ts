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
import { VerificationError } from "../../core/errors.ts";
import { Ciphertext } from "../../backends/reencrypt/mod.ts";
import { encryptElectionBallot } from "./ballot.ts";
import type { ElectionTranscript } from "./election_transcript.ts";
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

// ---------------------------------------------------------------- tampering

const small = createElectionDefinition({
  id: "tamper",
  trustees: 3,
  threshold: 2,
  mixers: 3,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }],
});

const published: Promise<Uint8Array> = (async () => {
  const random = seededRandom("vote-tamper");
  const { transcript } = await runLocalElection(small, {
    random,
    workers: 1,
    decryptingTrustees: [1, 3],
    ballots: (e) => simulateElectionBallots(e, { count: 12, random }).ballots,
  });
  return encodeMsgpack(electionTranscriptToEnvelope(transcript));
})();

async function fresh(): Promise<ElectionTranscript> {
  return electionTranscriptFromEnvelope(decodeMsgpack(await published, "transcript"));
}

async function rejectsAt(t: ElectionTranscript, pattern: RegExp): Promise<void> {
  await assert.rejects(verifyElection(t, { workers: 1 }), (e: unknown) => {
    assert.ok(e instanceof VerificationError, `expected VerificationError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

function flip(bytes: Uint8Array, at = 0): Uint8Array {
  const out = bytes.slice();
  out[at] = out[at]! ^ 1;
  return out;
}

Deno.test("tamper: the untouched transcript verifies", async () => {
  const report = await verifyElection(await fresh(), { workers: 1 });
  assert.equal(report.counted, 12);
  assert.deepEqual(report.trustees, [1, 3]);
});

Deno.test("tamper: definition or fingerprint", async () => {
  const t = await fresh();
  t.definition = { ...t.definition, title: "Changed" };
  await rejectsAt(t, /^Election: fingerprint/);
});

Deno.test("tamper: key ceremony", async () => {
  const t = await fresh();
  t.key = { ...t.key, publicKey: t.key.verificationKeys[0]! };
  await rejectsAt(t, /^Key ceremony: published public key/);
  const u = await fresh();
  u.ceremony.dealings[1] = {
    ...u.ceremony.dealings[1]!,
    commitments: [u.key.publicKey, u.key.publicKey],
  };
  await rejectsAt(u, /^Key ceremony/);
});

Deno.test("tamper: a ballot's proof, ciphertext, credential; replay; removal", async () => {
  const t = await fresh();
  const b = t.ballots[4]!;
  t.ballots[4] = { ...b, proof: { ...b.proof, responses: b.proof.responses.map((z) => z + 1n) } };
  await rejectsAt(t, /^Ballot 5: Ballot proof .* is invalid/);
  const u = await fresh();
  u.ballots[6] = { ...u.ballots[6]!, credential: "voter-999" };
  await rejectsAt(u, /^Ballot 7: .*invalid/);
  const v = await fresh();
  const c = v.ballots[2]!.ciphertext.bytes;
  const other = v.ballots[3]!.ciphertext.bytes;
  const swapped = c.slice();
  swapped.set(other.subarray(32, 64), 32); // c2 of another ballot
  v.ballots[2] = { ...v.ballots[2]!, ciphertext: Ciphertext.fromBytes(swapped, "x") };
  await rejectsAt(v, /^Ballot 3: /);
  const w = await fresh();
  w.ballots.push(w.ballots[0]!);
  await rejectsAt(w, /^Ballot 13: Ballot was already cast/);
  const x = await fresh();
  x.ballots.splice(5, 1);
  await rejectsAt(x, /^Cleansing: mix input holds 12 ciphertexts, the box counts 11/);
});

Deno.test("tamper: the cleansed mix input", async () => {
  const t = await fresh();
  [t.mixInput[0], t.mixInput[1]] = [t.mixInput[1]!, t.mixInput[0]!];
  await rejectsAt(t, /^Cleansing: mix input 1 /);
});

Deno.test("tamper: a mixer's outputs or proof", async () => {
  const t = await fresh();
  const out = t.mixes[1]!.outputs;
  [out[0], out[1]] = [out[1]!, out[0]!];
  await rejectsAt(t, /^Mixer 2 \(mixer-2\): shuffle proof invalid/);
  const u = await fresh();
  u.mixes[2]!.proof = { ...u.mixes[2]!.proof, challenge: flip(u.mixes[2]!.proof.challenge) };
  await rejectsAt(u, /^Mixer 3 \(mixer-3\): shuffle proof invalid/);
  const v = await fresh();
  v.mixes.pop();
  await rejectsAt(v, /^Mixing: the election defines 3 mixers/);
});

Deno.test("tamper: a trustee's decryption share", async () => {
  const t = await fresh();
  const shares = t.decryption[1]!.shares;
  [shares[3], shares[4]] = [shares[4]!, shares[3]!];
  await rejectsAt(t, /^Trustee 3: decryption share batch invalid/);
  const u = await fresh();
  u.decryption[0]!.shares[0] = flip(u.decryption[0]!.shares[0]!, 5);
  await rejectsAt(u, /^Trustee 1: decryption share batch invalid/);
  // A share replaced by the other trustee's (valid, well-formed) share of the same ciphertext.
  const x = await fresh();
  x.decryption[0]!.shares[2] = x.decryption[1]!.shares[2]!;
  await rejectsAt(x, /^Trustee 1: decryption share batch invalid/);
  // The batch proof itself.
  const y = await fresh();
  const proof = y.decryption[1]!.proof;
  y.decryption[1]!.proof = { ...proof, response: (proof.response + 1n) % (1n << 252n) };
  await rejectsAt(y, /^Trustee 3: decryption share batch invalid/);
  const v = await fresh();
  v.decryption.pop();
  await rejectsAt(v, /^Decryption: shares from 1 trustees, the threshold is 2/);
});

Deno.test("tamper: plaintexts, decoded answers and the tally", async () => {
  const t = await fresh();
  t.plaintexts[1] = flip(t.plaintexts[1]!, 5);
  await rejectsAt(t, /^Plaintext 2: /);
  // Two valid plaintexts swapped (answers swapped too, so decoding alone would not notice).
  const s = await fresh();
  const j = s.plaintexts.findIndex((p) => !p.every((b, k) => b === s.plaintexts[0]![k]));
  [s.plaintexts[0], s.plaintexts[j]] = [s.plaintexts[j]!, s.plaintexts[0]!];
  [s.answers[0], s.answers[j]] = [s.answers[j]!, s.answers[0]!];
  await rejectsAt(s, /^Plaintext 1: does not match the combined decryption shares/);
  // A plaintext that is not a group element; one a valid element but not the decryption.
  const r = await fresh();
  r.plaintexts[11] = new Uint8Array(32).fill(0xff);
  await rejectsAt(r, /^Plaintext 12: not a valid group element/);
  const q = await fresh();
  q.plaintexts[6] = q.decryption[0]!.shares[6]!;
  await rejectsAt(q, /^Plaintext 7: does not match the combined decryption shares/);
  const u = await fresh();
  u.answers[0] = u.answers[0]![0]![0] === 0 ? [[1]] : [[0]];
  await rejectsAt(u, /^Decoded ballot 1: /);
  const v = await fresh();
  v.tally.questions[0]!.counts[0]! += 1;
  v.tally.questions[0]!.counts[1]! -= 1;
  await rejectsAt(v, /^Tally does not match the decrypted ballots/);
});

Deno.test("election: re-voting 'last' counts only each voter's last ballot", async () => {
  const definition = createElectionDefinition({
    id: "revote",
    trustees: 1,
    mixers: 1,
    revote: "last",
    questions: [{ text: "Q", choices: ["a", "b"] }],
  });
  const random = seededRandom("vote-revote");
  const { transcript, receipts } = await runLocalElection(definition, {
    random,
    workers: 1,
    ballots: (e) => [
      encryptElectionBallot(e, { credential: "v1", answers: [[0]], random }),
      encryptElectionBallot(e, { credential: "v2", answers: [[0]], random }),
      encryptElectionBallot(e, { credential: "v3", answers: [[0]], random }),
      encryptElectionBallot(e, { credential: "v1", answers: [[1]], random }),
    ],
  });
  assert.deepEqual(transcript.tally.questions[0]!.counts, [2, 1]);
  assert.equal(transcript.mixInput.length, 3);
  await verifyElection(transcript, { workers: 1 });
  assert.equal(checkElectionReceipt(transcript, receipts[0]!).status, "superseded");
  assert.equal(checkElectionReceipt(transcript, receipts[3]!).status, "counted");
});

Deno.test("election: ballots of width 2 (two elements) round-trip, verify, and a bad second element is named", async () => {
  const wide = createElectionDefinition({
    id: "wide",
    trustees: 3,
    threshold: 2,
    mixers: 2,
    questions: [
      {
        text: "P",
        choices: Array.from({ length: 150 }, (_, i) => `p${i}`),
        type: "multiple",
        min: 0,
        max: 3,
      },
      {
        text: "Q",
        choices: Array.from({ length: 150 }, (_, i) => `q${i}`),
        type: "multiple",
        min: 0,
        max: 3,
      },
    ],
  });
  const random = seededRandom("vote-wide");
  const answers = (i: number) => [[i % 150], [(i * 7) % 150, 149]];
  const { transcript } = await runLocalElection(wide, {
    random,
    workers: 1,
    decryptingTrustees: [2, 3],
    ballots: (e) => simulateElectionBallots(e, { count: 6, random, answers }).ballots,
  });
  assert.equal(transcript.mixInput[0]!.width, 2);
  assert.equal(transcript.tally.valid, 6);
  assert.equal(transcript.tally.questions[1]!.counts[149], 6);
  await verifyElection(transcript, { workers: 1 });
  const bad = { ...transcript, plaintexts: transcript.plaintexts.slice() };
  const p = bad.plaintexts[3]!.slice();
  p.set(transcript.plaintexts[4]!.subarray(32), 32); // second element of another ballot
  bad.plaintexts[3] = p;
  await rejectsAt(bad, /^Plaintext 4: does not match the combined decryption shares/);
});
