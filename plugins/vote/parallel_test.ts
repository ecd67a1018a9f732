// Every phase of an election on 2 workers gives what it gives on 1 (issue 17 point 1):
// the same bytes where the phase is deterministic, the same tally, the same verdicts,
// and tampering caught and named the same way.
import assert from "node:assert/strict";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import { VerificationError } from "../../core/errors.ts";
import { decodeElectionAnswers } from "./answers.ts";
import { encryptElectionBallot, packBallotProof } from "./ballot.ts";
import { randomElectionAnswers } from "./simulate.ts";
import { seededRandom } from "../../core/random.ts";
import { ElectionBallotBox } from "./ballot_box.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import { decryptElectionShares, runLocalElection, tallyElection } from "./election.ts";
import type { ElectionDecryption, ElectionTranscript } from "./election_transcript.ts";
import { simulateElectionBallotsInParallel } from "./simulate_tasks.ts";
import { voteCheckPlaintexts, voteCombineDecryptionShares } from "./tasks.ts";
import { verifyElection } from "./verify.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

const definition = createElectionDefinition({
  id: "parallel",
  trustees: 3,
  threshold: 2,
  mixers: 2,
  questions: [
    { text: "Chair?", choices: ["Ann", "Bob", "Cy"] },
    { text: "Approve?", choices: ["a", "b", "c"], type: "multiple" },
  ],
});
const fingerprint = electionFingerprint(definition);
const ceremony = runLocalKeyCeremony({ definition, fingerprint });
const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
const seed = new TextEncoder().encode("issue 17");
const N = 37; // not a multiple of any chunk count

function ballotBytes(
  b: { ciphertext: { bytes: Uint8Array }; proof: Parameters<typeof packBallotProof>[0] },
) {
  return [...b.ciphertext.bytes, ...packBallotProof(b.proof)].join(",");
}

Deno.test("simulated voters: a seeded simulation gives the same ballots on 1 and 2 workers, and they verify", async () => {
  try {
    const one = await simulateElectionBallotsInParallel(election, { count: N, seed, workers: 1 });
    const progress: number[] = [];
    const two = await simulateElectionBallotsInParallel(election, {
      count: N,
      seed,
      workers: 2,
      onChunk: (done, total) => {
        assert.equal(total, N);
        progress.push(done);
      },
    });
    assert.equal(two.ballots.length, N);
    assert.equal(progress.at(-1), N);
    assert.deepEqual(two.answers, one.answers);
    // The workers' batched encryption gives the ballots of the one-ballot client path with
    // voter i's seeded source seededRandom(seed ‖ u32be(i)): answers, randomness, nonces.
    one.ballots.forEach((b, i) => {
      const index = new Uint8Array(4);
      new DataView(index.buffer).setUint32(0, i);
      const random = seededRandom(new Uint8Array([...seed, ...index]));
      const answers = randomElectionAnswers(definition, random);
      assert.deepEqual(one.answers[i], answers);
      const alone = encryptElectionBallot(election, {
        credential: `voter-${i + 1}`,
        answers,
        random,
      });
      assert.equal(ballotBytes(b), ballotBytes(alone), `ballot ${i + 1} alone`);
    });
    two.ballots.forEach((b, i) => {
      assert.equal(b.credential, `voter-${i + 1}`);
      assert.equal(ballotBytes(b), ballotBytes(one.ballots[i]!), `ballot ${i + 1}`);
    });
    // Another seed, other ballots; no seed, fresh randomness.
    const other = await simulateElectionBallotsInParallel(election, {
      count: 2,
      seed: new Uint8Array([1]),
      workers: 2,
    });
    assert.notEqual(ballotBytes(other.ballots[0]!), ballotBytes(one.ballots[0]!));
    // Every ballot is accepted by the box (proofs checked on 2 workers).
    const outcomes = await new ElectionBallotBox(election).castMany(two.ballots, { workers: 2 });
    assert.ok(outcomes.every((o) => o.ok));
    // Fixed answers are encrypted as given.
    const fixed = await simulateElectionBallotsInParallel(election, {
      count: 5,
      workers: 2,
      answers: (i) => [[i % 3], [0, 2]],
    });
    assert.deepEqual(fixed.answers.map((a) => a[0]![0]), [0, 1, 2, 0, 1]);
    await assert.rejects(
      simulateElectionBallotsInParallel(election, { count: 2, blank: 3, workers: 2 }),
      /Blank rate/,
    );
  } finally {
    closeWorkerPool();
  }
});

Deno.test("every phase: 2 workers give the receipts, shares, plaintexts, tally and verdicts of 1 worker", async () => {
  try {
    const { ballots } = await simulateElectionBallotsInParallel(election, {
      count: N,
      seed,
      workers: 2,
    });
    // A bad proof (another voter's proof) and a replay: the same outcomes on 1 and 2 workers.
    const cast = [...ballots, { ...ballots[3]!, proof: ballots[4]!.proof }, ballots[5]!];
    const boxes = [new ElectionBallotBox(election), new ElectionBallotBox(election)];
    const outcomes = [
      await boxes[0]!.castMany(cast, { workers: 1 }),
      await boxes[1]!.castMany(cast, { workers: 2 }),
    ];
    const describe = (o: (typeof outcomes)[0]) =>
      o.map((x) => x.ok ? [...x.result.receipt].join(",") : x.error.message);
    assert.deepEqual(describe(outcomes[1]!), describe(outcomes[0]!));
    assert.equal(outcomes[1]!.filter((o) => !o.ok).length, 2);
    const inputs = boxes[1]!.close();
    // Decryption shares are deterministic (dᵢ = xⱼ·c1ᵢ): same bytes; the proofs both verify.
    const shares: ElectionDecryption[][] = [];
    for (const workers of [1, 2]) {
      shares.push(
        await Promise.all(
          [0, 2].map((j) =>
            decryptElectionShares(ceremony.trusteeKeys[j]!, {
              ciphertexts: inputs,
              fingerprint,
              workers,
            })
          ),
        ),
      );
    }
    shares[0]!.forEach((post, t) =>
      assert.deepEqual(
        post.shares.map((s) => [...s].join()),
        shares[1]![t]!.shares.map((s) => [...s].join()),
      )
    );
    const results: Awaited<ReturnType<typeof tallyElection>>[] = [];
    for (const workers of [1, 2]) {
      results.push(
        await tallyElection(election, {
          key: ceremony.key,
          ciphertexts: inputs,
          decryption: shares[workers - 1]!,
          workers,
        }),
      );
    }
    assert.deepEqual(results[1]!.tally, results[0]!.tally);
    assert.deepEqual(results[1]!.answers, results[0]!.answers);
    assert.deepEqual(
      results[1]!.plaintexts.map((p) => [...p].join()),
      results[0]!.plaintexts.map((p) => [...p].join()),
    );
    assert.equal(results[1]!.tally.ballots, N);
    // Combination and plaintext checks chunk for chunk.
    const posts = shares[1]!.map((d) => ({ trustee: d.trustee, shares: d.shares }));
    const combined = await voteCombineDecryptionShares(posts, {
      ciphertexts: inputs,
      workers: 2,
      definition,
    });
    // The answers decoded on the workers are those decoded here from the messages.
    assert.deepEqual(
      combined.answers,
      combined.messages.map((parts) => decodeElectionAnswers(definition, parts) ?? null),
    );
    assert.deepEqual(combined.answers, results[0]!.answers);
    assert.deepEqual(
      combined.messages,
      (await voteCombineDecryptionShares(posts, {
        ciphertexts: inputs,
        workers: 1,
      })).messages,
    );
    const bad = combined.plaintexts.map((p) => p.slice());
    // Another ballot's plaintext (one holding other answers).
    const other = combined.plaintexts.findIndex((p) => p.join() !== combined.plaintexts[7]!.join());
    bad[7] = combined.plaintexts[other]!.slice();
    for (const workers of [1, 2]) {
      const checked = await voteCheckPlaintexts(posts, {
        ciphertexts: inputs,
        plaintexts: bad,
        workers,
      });
      assert.deepEqual(
        [...checked.plaintextVerdicts].map((v, i) => v === 0 ? -1 : i).filter((i) => i >= 0),
        [7],
      );
    }
  } finally {
    closeWorkerPool();
  }
});

async function verdict(transcript: ElectionTranscript, workers: number): Promise<string> {
  try {
    const report = await verifyElection(transcript, { workers });
    return `ok ${report.counted} ${report.valid}`;
  } catch (error) {
    if (error instanceof VerificationError) return error.message;
    throw error;
  }
}

Deno.test("universal verifier: the same verdicts on 1 and 2 workers, tampering named", async () => {
  try {
    const { transcript } = await runLocalElection(definition, {
      workers: 2,
      ballots: async (e) =>
        (await simulateElectionBallotsInParallel(e, { count: N, seed, workers: 2 })).ballots,
    });
    assert.equal(await verdict(transcript, 2), `ok ${N} ${N}`);
    assert.equal(await verdict(transcript, 1), `ok ${N} ${N}`);
    const tampered: Array<[string, ElectionTranscript, RegExp]> = [];
    // A ballot's proof.
    const ballots = [...transcript.ballots];
    ballots[20] = { ...ballots[20]!, proof: ballots[21]!.proof };
    tampered.push(["ballot", { ...transcript, ballots }, /^Ballot 21: /]);
    // A mixer's outputs.
    const outputs = [...transcript.mixes[1]!.outputs];
    [outputs[0], outputs[1]] = [outputs[1]!, outputs[0]!];
    const mixes = [transcript.mixes[0]!, { ...transcript.mixes[1]!, outputs }];
    tampered.push(["mix", { ...transcript, mixes }, /^Mixer 2 \(/]);
    // A trustee's share.
    const decryption = transcript.decryption.map((d) => ({ ...d, shares: [...d.shares] }));
    decryption[1]!.shares[30] = decryption[1]!.shares[31]!;
    tampered.push([
      "share",
      { ...transcript, decryption },
      /^Trustee \d: decryption share batch invalid/,
    ]);
    // A plaintext.
    const plaintexts = [...transcript.plaintexts];
    // Another ballot's plaintext holding other answers (equal answers give equal plaintexts).
    plaintexts[12] = plaintexts.find((p) => p.join() !== plaintexts[12]!.join())!;
    tampered.push(["plaintext", { ...transcript, plaintexts }, /^Plaintext 13: /]);
    for (const [what, t, expected] of tampered) {
      const [one, two] = [await verdict(t, 1), await verdict(t, 2)];
      assert.match(two, expected, what);
      assert.equal(two, one, what);
    }
  } finally {
    closeWorkerPool();
  }
});
