// The universal verifier's fast paths (issue 17): all shuffle proofs are checked at once,
// each ciphertext between two mixers decoded once; a failure of that joint check falls back
// to the mixer-by-mixer check, so every rejection still names the same step and item.
import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import {
  Ciphertext,
  decodeScalar,
  encodeScalar,
  reencrypt,
  verifyShuffle,
} from "../../backends/reencrypt/mod.ts";
import { createElectionDefinition } from "./definition.ts";
import { runLocalElection } from "./election.ts";
import {
  type ElectionTranscript,
  electionTranscriptFromEnvelope,
  electionTranscriptToEnvelope,
} from "./election_transcript.ts";
import { simulateElectionBallots } from "./simulate.ts";
import { verifyElection } from "./verify.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

const definition = createElectionDefinition({
  id: "verify-fast-paths",
  trustees: 3,
  threshold: 2,
  mixers: 3,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }],
});
const COUNT = 11; // on 2 workers: 4 chunks, the last one ending at position 10

const published: Promise<Uint8Array> = (async () => {
  const random = seededRandom("verify-fast-paths");
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

/** The error verifyElection throws (with 2 workers), or undefined. */
async function failure(t: ElectionTranscript): Promise<Error | undefined> {
  try {
    await verifyElection(t, { workers: 2 });
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

async function rejectsAt(t: ElectionTranscript, pattern: RegExp): Promise<void> {
  const error = await failure(t);
  assert.ok(error instanceof VerificationError, `expected VerificationError, got ${error}`);
  assert.match(error.message, pattern);
}

function bump(list: Uint8Array, i: number): Uint8Array {
  const out = list.slice();
  out.set(encodeScalar(decodeScalar(list.subarray(32 * i, 32 * i + 32), "s") + 1n), 32 * i);
  return out;
}

Deno.test("verify: the untouched transcript verifies with 1 and 2 workers", async () => {
  for (const workers of [1, 2]) {
    const report = await verifyElection(await fresh(), { workers });
    assert.equal(report.counted, COUNT);
    assert.equal(report.mixers, 3);
  }
});

Deno.test("verify: a ciphertext between two mixers, changed in the first or last chunk, names the first mixer", async () => {
  const random = seededRandom("verify-fast-paths-tamper");
  for (const i of [0, COUNT - 1]) {
    for (const m of [0, 1]) {
      const t = await fresh();
      const outputs = t.mixes[m]!.outputs;
      outputs[i] = reencrypt(t.key.publicKey, outputs[i]!, { random });
      await rejectsAt(t, new RegExp(`^Mixer ${m + 1} \\(mixer-${m + 1}\\): shuffle proof invalid`));
    }
  }
});

Deno.test("verify: a malformed element between two mixers is named with the mixer that output it", async () => {
  const t = await fresh();
  const i = COUNT - 1;
  const bytes = t.mixes[1]!.outputs[i]!.bytes.slice();
  bytes.fill(0xff, 32, 64); // c2
  t.mixes[1]!.outputs[i] = Ciphertext.unchecked(bytes, "tampered");
  const error = await failure(t);
  // What checking mixer 2 alone reports: its output is malformed.
  let alone: Error | undefined;
  try {
    await verifyShuffle(
      {
        publicKey: t.key.publicKey,
        inputs: t.mixes[0]!.outputs,
        outputs: t.mixes[1]!.outputs,
        context: t.fingerprint,
      },
      t.mixes[1]!.proof,
      { workers: 1 },
    );
  } catch (e) {
    alone = e as Error;
  }
  assert.ok(alone instanceof InvalidInputError);
  assert.ok(error instanceof InvalidInputError, `got ${error}`);
  assert.equal(error.message, `Mixer 2 (mixer-2): ${alone.message}`);
  assert.match(error.message, new RegExp(`output ${i}\\.c2\\[0\\]`));
});

Deno.test("verify: a tampered response of the last mixer at the last position names it", async () => {
  const t = await fresh();
  const proof = t.mixes[2]!.proof;
  t.mixes[2]!.proof = { ...proof, chainResponses: bump(proof.chainResponses, COUNT - 1) };
  await rejectsAt(t, /^Mixer 3 \(mixer-3\): shuffle proof invalid/);
  const u = await fresh();
  const first = u.mixes[0]!.proof;
  u.mixes[0]!.proof = { ...first, permutationResponses: bump(first.permutationResponses, 0) };
  await rejectsAt(u, /^Mixer 1 \(mixer-1\): shuffle proof invalid/);
});

Deno.test("verify: the steps run together but the first failing one is named (box, mixes, shares, plaintexts)", async () => {
  const t = await fresh();
  // A bad plaintext, a bad share, a bad mix and a bad ballot at once: the ballot is named.
  const p = t.plaintexts[2]!.slice();
  p.set(t.plaintexts[3]!);
  t.plaintexts[2] = p;
  const shares = t.decryption[0]!.shares;
  [shares[0], shares[1]] = [shares[1]!, shares[0]!];
  const proof = t.mixes[1]!.proof;
  t.mixes[1]!.proof = { ...proof, chainResponses: bump(proof.chainResponses, COUNT - 1) };
  const b = t.ballots[7]!;
  t.ballots[7] = { ...b, proof: { ...b.proof, responses: b.proof.responses.map((z) => z + 1n) } };
  await rejectsAt(t, /^Ballot 8: /);
  t.ballots[7] = b; // then the mixer
  await rejectsAt(t, /^Mixer 2 \(mixer-2\): shuffle proof invalid/);
  t.mixes[1]!.proof = proof; // then the trustee's share batch
  await rejectsAt(t, /^Trustee 1: decryption share batch invalid/);
  [shares[0], shares[1]] = [shares[1]!, shares[0]!]; // then the plaintext
  await rejectsAt(t, /^Plaintext 3: does not match the combined decryption shares/);
  t.plaintexts.pop(); // a count checked before the plaintexts are compared
  await rejectsAt(t, new RegExp(`^Plaintexts: ${COUNT - 1} published for ${COUNT} ciphertexts`));
});

Deno.test("verify: progress comes in the order of the steps although they run together", async () => {
  const events: string[] = [];
  await verifyElection(await fresh(), {
    workers: 2,
    onProgress: (e) => events.push(`${e.phase} ${e.done}/${e.total}`),
  });
  // The step each phase belongs to; "shuffle proofs" (the joint check's chunks) is a lane of its own.
  const step = (event: string) =>
    [
      /^key ceremony/,
      /^(verify ballot proofs|cast) /,
      /^mixes /,
      /^trustee 1:/,
      /^trustee 2:/,
      /^check plaintexts /,
    ]
      .findIndex((r) => r.test(event));
  const steps = events.filter((e) => !e.startsWith("shuffle proofs")).map(step);
  assert.ok(!steps.includes(-1), JSON.stringify(events));
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b), JSON.stringify(events));
  assert.deepEqual(events.filter((e) => e.startsWith("mixes")), [
    "mixes 1/3",
    "mixes 2/3",
    "mixes 3/3",
  ]);
  assert.ok(events.includes(`shuffle proofs ${3 * COUNT}/${3 * COUNT}`));
  assert.ok(steps.includes(3) && steps.includes(4) && steps.at(-1) === 5);
});

Deno.test("verify: failures are reported in order (a bad proof of mixer 1 before a bad label of mixer 2)", async () => {
  const t = await fresh();
  t.mixes[1]!.mixer = "someone-else";
  await rejectsAt(t, /^Mixer 2 \(mixer-2\): mix is labelled 'someone-else'/);
  const proof = t.mixes[0]!.proof;
  t.mixes[0]!.proof = { ...proof, chainResponses: bump(proof.chainResponses, 3) };
  await rejectsAt(t, /^Mixer 1 \(mixer-1\): shuffle proof invalid/);
  closeWorkerPool();
});
