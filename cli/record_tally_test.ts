// Decryption and tally over record lists in spool files (issue 17 point 2): shares, combine,
// check and tally of a small mixed election read and write files a chunk at a time and give
// the array API's bytes and tally; tampered share and plaintext records in the files are
// caught and named.
import assert from "node:assert/strict";
import { allRecords, type RecordSinkFactory, type RecordSource } from "../core/records.ts";
import { VerificationError } from "../core/errors.ts";
import { closeWorkerPool, setWorkerEntry } from "../core/worker_pool.ts";
import { runLocalKeyCeremony } from "../plugins/vote/ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "../plugins/vote/definition.ts";
import {
  decryptElectionSharesRecords,
  mixElection,
  tallyElection,
  tallyElectionRecords,
} from "../plugins/vote/election.ts";
import { ciphertextRecords } from "../plugins/vote/election_records.ts";
import type { ElectionAnswer } from "../plugins/vote/answers.ts";
import { simulateElectionBallots } from "../plugins/vote/simulate.ts";
import {
  VOTE_ITEM_INVALID,
  VOTE_ITEM_OK,
  voteCheckPlaintextsRecords,
} from "../plugins/vote/tasks.ts";
import { RecordFile, Spool } from "./record_file.ts";

setWorkerEntry(new URL("../plugins/vote/worker_entry.ts", import.meta.url));

const definition = createElectionDefinition({
  id: "record-tally",
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
const N = 53;

/** The spool's sinks, every file they make remembered with its name and longest read. */
function watchedSinks(spool: Spool) {
  const made = new Map<string, { longest: number }>();
  const sinks: RecordSinkFactory = (name, count, size) => {
    const file = spool.sinks(name, count, size) as RecordFile;
    assert.ok(file instanceof RecordFile);
    const seen = { longest: 0 };
    made.set(name, seen);
    const read = file.read.bind(file);
    file.read = (lo, hi) => {
      seen.longest = Math.max(seen.longest, hi - lo);
      return read(lo, hi);
    };
    return file;
  };
  return { sinks, made };
}

Deno.test("spooled shares, combination, check and tally give the array API's bytes and tally", async () => {
  const spool = await Spool.create();
  try {
    const { ballots } = simulateElectionBallots(election, { count: N, blank: 0.1 });
    const mixes = await mixElection(election, {
      inputs: ballots.map((b) => b.ciphertext),
      workers: 2,
    });
    const final = mixes.at(-1)!.outputs;
    const width = final[0]!.width;
    // The final ciphertexts in a spool file.
    const { sinks, made } = watchedSinks(spool);
    const input = sinks("ciphertexts", N, 64 * width);
    input.write(0, allRecords(ciphertextRecords(final, width)));
    const ciphertexts = input.finish();
    const posts = await Promise.all(
      [1, 2].map((j) =>
        decryptElectionSharesRecords(ceremony.trusteeKeys[j - 1]!, {
          ciphertexts,
          fingerprint,
          sinks,
          workers: 2,
        })
      ),
    );
    posts.forEach((p) => assert.ok(p.shares instanceof RecordFile));
    const results = await tallyElectionRecords(election, {
      key: ceremony.key,
      ciphertexts,
      decryption: posts,
      sinks,
      workers: 2,
    });
    assert.ok(results.plaintexts instanceof RecordFile);
    assert.deepEqual(
      [...made.keys()].sort(),
      ["answer-slots", "ciphertexts", "plaintexts", "trustee-1-shares", "trustee-2-shares"],
    );
    // The array API over the same shares.
    const views = (r: RecordSource) => Array.from({ length: r.count }, (_, i) => r.read(i, i + 1));
    const array = await tallyElection(election, {
      key: ceremony.key,
      ciphertexts: final,
      decryption: posts.map((p) => ({ ...p, shares: views(p.shares) })),
      workers: 1,
    });
    assert.deepEqual(results.tally, array.tally);
    assert.equal(results.tally.ballots, N);
    assert.deepEqual(
      allRecords(results.plaintexts),
      new Uint8Array(array.plaintexts.flatMap((p) => [...p])),
    );
    const answers: (ElectionAnswer[] | null)[] = [];
    for await (const chunk of results.answers.chunks(10)) answers.push(...chunk);
    assert.deepEqual(answers, array.answers);
    // The published plaintexts check against the shares, straight from the files.
    for (const seen of made.values()) seen.longest = 0;
    const checked = await voteCheckPlaintextsRecords(posts, {
      ciphertexts,
      plaintexts: results.plaintexts,
      definition,
      workers: 2,
      onAnswers: (lo, chunk) => chunk.forEach((a, i) => assert.deepEqual(a, answers[lo + i])),
    });
    assert.ok(checked.plaintextVerdicts.every((v) => v === VOTE_ITEM_OK));
    // The check read the lists a worker job at a time (the share proofs also hash the
    // ciphertexts and shares, 4,096 records per read: see decryption_batch_records_test.ts).
    for (const name of ["ciphertexts", "plaintexts", "trustee-1-shares", "trustee-2-shares"]) {
      const { longest } = made.get(name)!;
      assert.ok(longest > 0 && longest < N, `${name}: longest read ${longest} of ${N}`);
    }

    // Tampering with the files: a share record replaced by the next one's.
    const shares = posts[1]!.shares as RecordFile;
    const saved = shares.read(7, 8);
    shares.write(7, shares.read(8, 9));
    await assert.rejects(
      tallyElectionRecords(election, {
        key: ceremony.key,
        ciphertexts,
        decryption: posts,
        workers: 2,
      }),
      (e: Error) =>
        e instanceof VerificationError &&
        /^Trustee 2: decryption share batch invalid/.test(e.message),
    );
    shares.write(7, saved);
    // A plaintext record replaced by the combination of another ciphertext.
    const plaintexts = results.plaintexts as RecordFile;
    const other = [...Array(N).keys()].find((i) =>
      i !== 20 && plaintexts.read(i, i + 1).some((b, k) => b !== plaintexts.read(20, 21)[k])
    )!;
    plaintexts.write(20, plaintexts.read(other, other + 1));
    const tampered = await voteCheckPlaintextsRecords(posts, {
      ciphertexts,
      plaintexts,
      workers: 2,
    });
    assert.deepEqual(
      [...tampered.plaintextVerdicts].flatMap((v, i) => v === VOTE_ITEM_OK ? [] : [[i, v]]),
      [[20, VOTE_ITEM_INVALID]],
    );
  } finally {
    spool.close();
    closeWorkerPool();
  }
});
