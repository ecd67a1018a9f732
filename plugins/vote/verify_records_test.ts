// The universal verifier over record lists (issue 17): verifyElectionRecords accepts what
// verifyElection accepts and rejects a tampered record of any list (mix input, mix outputs,
// proof lists, shares, plaintexts, answers) with the very message the array verifier gives.
import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { type ItemChunks, memoryRecords, type RecordSource } from "../../core/records.ts";
import { seededRandom } from "../../core/random.ts";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import {
  Ciphertext,
  decodeScalar,
  encodeScalar,
  shuffleProofRecords,
} from "../../backends/reencrypt/mod.ts";
import { createElectionDefinition } from "./definition.ts";
import { runLocalElection } from "./election.ts";
import { type ElectionTranscriptRecords, electionTranscriptRecords } from "./election_records.ts";
import {
  type ElectionTranscript,
  electionTranscriptFromEnvelope,
  electionTranscriptToEnvelope,
} from "./election_transcript.ts";
import { simulateElectionBallots } from "./simulate.ts";
import { verifyElection, verifyElectionRecords } from "./verify.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

const definition = createElectionDefinition({
  id: "verify-records",
  trustees: 3,
  threshold: 2,
  mixers: 3,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }],
});
const COUNT = 11;

const published: Promise<Uint8Array> = (async () => {
  const random = seededRandom("verify-records");
  const { transcript } = await runLocalElection(definition, {
    random,
    workers: 1,
    ballots: (e) => simulateElectionBallots(e, { count: COUNT, random }).ballots,
  });
  return encodeMsgpack(electionTranscriptToEnvelope(transcript));
})();

async function fresh(): Promise<ElectionTranscript> {
  return electionTranscriptFromEnvelope(decodeMsgpack(await published, "transcript"));
}

/** Item chunks that always come `size` at a time, whatever size the reader asks for. */
function chunksOf<T>(items: readonly T[], size: number): ItemChunks<T> {
  return {
    count: items.length,
    async *chunks() {
      for (let lo = 0; lo < items.length; lo += size) yield items.slice(lo, lo + size);
    },
  };
}

/** The records view, with ballots and answers read a few at a time (several chunks). */
function records(t: ElectionTranscript): ElectionTranscriptRecords {
  return { ...electionTranscriptRecords(t), ballots: chunksOf(t.ballots, 4) };
}

/** A copy of a record list with record i changed by `change` (given a copy of the record). */
function tamper(list: RecordSource, i: number, change: (r: Uint8Array) => void): RecordSource {
  const bytes = list.read(0, list.count).slice(), size = list.recordBytes;
  change(bytes.subarray(i * size, (i + 1) * size));
  return memoryRecords(bytes, size);
}

/** A copy of a record list with records i and j swapped. */
function swap(list: RecordSource, i: number, j: number): RecordSource {
  const a = list.read(i, i + 1).slice();
  return tamper(tamper(list, i, (r) => r.set(list.read(j, j + 1))), j, (r) => r.set(a));
}

const bump = (r: Uint8Array) => r.set(encodeScalar(decodeScalar(r.slice(), "s") + 1n));

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  assert.fail("expected a failure");
}

/**
 * Both verifiers reject: the array one on `array`, the records one on `recs`, with the same
 * message, matching `pattern`.
 */
async function sameRejection(
  array: ElectionTranscript,
  recs: ElectionTranscriptRecords,
  pattern: RegExp,
): Promise<void> {
  const a = await failure(() => verifyElection(array, { workers: 2 }));
  const r = await failure(() => verifyElectionRecords(recs, { workers: 2 }));
  assert.ok(r instanceof VerificationError, `expected VerificationError, got ${r}`);
  assert.match(r.message, pattern);
  assert.equal(r.message, a.message);
}

Deno.test("verify records: the untouched transcript verifies with the array verifier's report", async () => {
  const t = await fresh();
  const events: string[] = [];
  const report = await verifyElectionRecords(records(t), {
    workers: 2,
    onProgress: (e) => events.push(e.phase),
  });
  assert.deepEqual(report, await verifyElection(t, { workers: 2 }));
  assert.equal(report.counted, COUNT);
  assert.equal(report.ballots, COUNT);
  assert.ok(events.includes("check plaintexts") && events.includes("mixes"));
});

Deno.test("verify records: a record of the mix input", async () => {
  const t = await fresh(), u = await fresh();
  [t.mixInput[0], t.mixInput[1]] = [t.mixInput[1]!, t.mixInput[0]!];
  const r = records(u);
  r.mixInput = swap(r.mixInput, 0, 1);
  await sameRejection(t, r, /^Cleansing: mix input 1 is not the ciphertext of counted ballot 1/);
  // One record fewer: the counts differ.
  const v = await fresh(), w = await fresh();
  v.mixInput.pop();
  const s = records(w);
  s.mixInput = memoryRecords(s.mixInput.read(0, COUNT - 1), s.mixInput.recordBytes);
  await sameRejection(v, s, /^Cleansing: mix input holds 10 ciphertexts, the box counts 11/);
});

Deno.test("verify records: a record of a mixer's outputs, at the last position", async () => {
  const t = await fresh(), u = await fresh();
  const out = t.mixes[1]!.outputs;
  const bytes = out[COUNT - 1]!.bytes.slice();
  bytes.set(out[0]!.bytes.subarray(32, 64), 32);
  out[COUNT - 1] = Ciphertext.unchecked(bytes, "tampered");
  const r = records(u);
  r.mixes[1]!.outputs = tamper(
    r.mixes[1]!.outputs,
    COUNT - 1,
    (c) => c.set(r.mixes[1]!.outputs.read(0, 1).subarray(32, 64), 32),
  );
  await sameRejection(t, r, /^Mixer 2 \(mixer-2\): shuffle proof invalid/);
});

Deno.test("verify records: an output that is no group element is named with its mixer", async () => {
  const r = records(await fresh());
  // 0xff… is not a canonical encoding: the joint check stops, the mixer-by-mixer pass names it.
  r.mixes[1]!.outputs = tamper(r.mixes[1]!.outputs, 3, (c) => c.fill(0xff, 0, 32));
  const error = await failure(() => verifyElectionRecords(r, { workers: 2 }));
  assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${error}`);
  assert.match(error.message, /^Mixer 2 \(mixer-2\): Group element 'output 3\.c1\[0\]'/);
});

Deno.test("verify records: a record of a proof list (chain responses, permutation commitments)", async () => {
  for (const list of ["chainResponses", "permutationCommitments"] as const) {
    const t = await fresh(), u = await fresh();
    const proof = t.mixes[2]!.proof;
    const changed = proof[list].slice();
    if (list === "chainResponses") bump(changed.subarray(32 * 5, 32 * 6));
    else changed.set(proof[list].subarray(0, 32), 32 * 5);
    t.mixes[2]!.proof = { ...proof, [list]: changed };
    const r = records(u);
    const p = r.mixes[2]!.proof;
    r.mixes[2]!.proof = {
      ...p,
      [list]: tamper(
        p[list],
        5,
        list === "chainResponses" ? bump : (x) => x.set(p[list].read(0, 1)),
      ),
    };
    await sameRejection(t, r, /^Mixer 3 \(mixer-3\): shuffle proof invalid/);
    // The records view of the array-tampered proof is rejected alike (same bytes).
    const s = records(u);
    s.mixes[2]!.proof = shuffleProofRecords(t.mixes[2]!.proof);
    await sameRejection(t, s, /^Mixer 3 \(mixer-3\): shuffle proof invalid/);
  }
});

Deno.test("verify records: a trustee's share, swapped or changed", async () => {
  const t = await fresh(), u = await fresh();
  const shares = t.decryption[1]!.shares;
  [shares[3], shares[4]] = [shares[4]!, shares[3]!];
  const r = records(u);
  r.decryption[1]!.shares = swap(r.decryption[1]!.shares, 3, 4);
  await sameRejection(t, r, /^Trustee 2: decryption share batch invalid/);
  const v = await fresh(), w = await fresh();
  v.decryption[0]!.shares[COUNT - 1] = v.decryption[1]!.shares[COUNT - 1]!;
  const s = records(w);
  s.decryption[0]!.shares = tamper(
    s.decryption[0]!.shares,
    COUNT - 1,
    (x) => x.set(s.decryption[1]!.shares.read(COUNT - 1, COUNT)),
  );
  await sameRejection(v, s, /^Trustee 1: decryption share batch invalid/);
});

Deno.test("verify records: a plaintext (another element, not an element, one missing)", async () => {
  const t = await fresh(), u = await fresh();
  t.plaintexts[1] = t.decryption[0]!.shares[1]!;
  const r = records(u);
  r.plaintexts = tamper(r.plaintexts, 1, (x) => x.set(r.decryption[0]!.shares.read(1, 2)));
  await sameRejection(t, r, /^Plaintext 2: does not match the combined decryption shares/);
  const v = await fresh(), w = await fresh();
  v.plaintexts[COUNT - 1] = new Uint8Array(32).fill(0xff);
  const s = records(w);
  s.plaintexts = tamper(s.plaintexts, COUNT - 1, (x) => x.fill(0xff));
  await sameRejection(v, s, /^Plaintext 11: not a valid group element/);
  const x = await fresh(), y = await fresh();
  x.plaintexts.pop();
  const q = records(y);
  q.plaintexts = memoryRecords(q.plaintexts.read(0, COUNT - 1), q.plaintexts.recordBytes);
  await sameRejection(x, q, /^Plaintexts: 10 published for 11 ciphertexts/);
});

Deno.test("verify records: a published answer, in the first or a later chunk, or one missing", async () => {
  for (const i of [0, 6, COUNT - 1]) {
    const t = await fresh();
    const changed = t.answers[i]?.[0]?.[0] === 0 ? [[1]] : [[0]];
    const u = await fresh();
    t.answers[i] = changed;
    const answers = u.answers.slice();
    answers[i] = changed;
    // Published answers read 3 at a time: chunks that do not line up with the decoded ones.
    const r = { ...records(u), answers: chunksOf(answers, 3) };
    await sameRejection(t, r, new RegExp(`^Decoded ballot ${i + 1}: does not match its plaintext`));
  }
  const v = await fresh(), w = await fresh();
  v.answers.pop();
  const s = { ...records(w), answers: chunksOf(w.answers.slice(0, COUNT - 1), 3) };
  await sameRejection(v, s, /^Decoded ballots: 10 published for 11 plaintexts/);
});

Deno.test("verify records: an error reading the published answers is thrown at the decoding step", async () => {
  const t = await fresh();
  const broken: ItemChunks<never> = {
    count: COUNT,
    // deno-lint-ignore require-yield
    async *chunks() {
      throw new VerificationError("answers file truncated");
    },
  };
  const error = await failure(() =>
    verifyElectionRecords({ ...records(t), answers: broken }, { workers: 1 })
  );
  assert.equal(error.message, "answers file truncated");
  // A failing earlier step is named first, and the broken list does not hang the verifier.
  const r = { ...records(t), answers: broken };
  r.plaintexts = swap(r.plaintexts, 0, 1);
  const first = await failure(() => verifyElectionRecords(r, { workers: 1 }));
  assert.match(first.message, /^Plaintext 1: /);
});

Deno.test("verify records: a ballot and the tally", async () => {
  const t = await fresh(), u = await fresh();
  const b = t.ballots[7]!;
  t.ballots[7] = { ...b, proof: { ...b.proof, responses: b.proof.responses.map((z) => z + 1n) } };
  const r = { ...records(u), ballots: chunksOf(t.ballots, 4) };
  await sameRejection(t, r, /^Ballot 8: /);
  const v = await fresh();
  v.tally.questions[0]!.counts[0]! += 1;
  v.tally.questions[0]!.counts[1]! -= 1;
  await sameRejection(v, records(v), /^Tally does not match the decrypted ballots/);
  closeWorkerPool();
});

Deno.test("verify records: records of the wrong size are named from recordBytes, at their step", async () => {
  const t = await fresh();
  // Plaintexts of 64 bytes where the ciphertexts have one element (32).
  const r = records(t);
  r.plaintexts = memoryRecords(new Uint8Array(64 * COUNT), 64);
  const a = await failure(() => verifyElectionRecords(r, { workers: 1 }));
  assert.equal(a.message, "Plaintext 1: 64 bytes, expected 32");
  // Shares of 64 bytes.
  const s = records(t);
  s.decryption[0]!.shares = memoryRecords(new Uint8Array(64 * COUNT), 64);
  const b = await failure(() => verifyElectionRecords(s, { workers: 1 }));
  assert.equal(b.message, "Trustee 1: decryption shares of 64 bytes, expected 32");
  // A size checked only after the earlier steps: a bad mixer is named first.
  const proof = s.mixes[0]!.proof;
  s.mixes[0]!.proof = { ...proof, chainResponses: tamper(proof.chainResponses, 0, bump) };
  const c = await failure(() => verifyElectionRecords(s, { workers: 1 }));
  assert.match(c.message, /^Mixer 1 \(mixer-1\): shuffle proof invalid/);
});
