// Mixing an election over record lists (issue 17 point 2): the same outputs and proofs as the
// array API for the same randomness, every list in the sink it was named for, and a cascade
// the chain verifier accepts.
import assert from "node:assert/strict";
import { allRecords, memoryRecordSink, type RecordSink } from "../../core/records.ts";
import { seededRandom } from "../../core/random.ts";
import { BatchTooSmallError } from "../../core/errors.ts";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import { verifyShuffleChainRecords } from "../../backends/reencrypt/mod.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import { type ElectionCascade, mixElection, mixElectionRecords } from "./election.ts";
import { ciphertextRecords } from "./election_records.ts";
import { simulateElectionBallots } from "./simulate.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

const definition = createElectionDefinition({
  id: "mix-records",
  trustees: 1,
  mixers: 2,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }],
});
const fingerprint = electionFingerprint(definition);
const ceremony = runLocalKeyCeremony({ definition, fingerprint }, { random: seededRandom("k") });
const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
const { ballots } = simulateElectionBallots(election, { count: 37 });
const inputs = ballots.map((b) => b.ciphertext);

Deno.test("mixElectionRecords: the array API's outputs and proofs, each list in its named sink", async () => {
  const asked: string[] = [];
  const sinks = (name: string, count: number, bytes: number): RecordSink => {
    asked.push(`${name}:${count}x${bytes}`);
    return memoryRecordSink(count, bytes);
  };
  for (const workers of [1, 2]) {
    asked.length = 0;
    const records = await mixElectionRecords(election, {
      inputs: ciphertextRecords(inputs, 1),
      sinks,
      workers,
      random: seededRandom("mix"),
    });
    const arrays = await mixElection(election, { inputs, workers, random: seededRandom("mix") });
    assert.equal(records.length, 2);
    records.forEach((mix, m) => {
      assert.equal(mix.mixer, arrays[m]!.mixer);
      assert.deepEqual(
        allRecords(mix.outputs),
        new Uint8Array(arrays[m]!.outputs.flatMap((c) => [...c.bytes])),
      );
      assert.deepEqual(allRecords(mix.proof.chainResponses), arrays[m]!.proof.chainResponses);
      assert.deepEqual(mix.proof.commitments, arrays[m]!.proof.commitments);
    });
    assert.ok(asked.includes("mix-1-outputs:37x64") && asked.includes("mix-2-outputs:37x64"));
    assert.ok(asked.includes("mix-2-permutationCommitments:37x32"), asked.join(" "));
    assert.ok(
      await verifyShuffleChainRecords({
        publicKey: election.publicKey,
        inputs: ciphertextRecords(inputs, 1),
        steps: records,
        context: fingerprint,
      }, { workers }),
    );
  }
});

Deno.test("mixElectionRecords: fewer than two ballots are refused", async () => {
  await assert.rejects(
    mixElectionRecords(election, { inputs: ciphertextRecords(inputs.slice(0, 1), 1), workers: 1 }),
    BatchTooSmallError,
  );
});

addEventListener("unload", () => closeWorkerPool());

Deno.test("mixElectionRecords with a remote cascade: its whole lists as records, nothing in the sinks", async () => {
  try {
    // A cascade standing in for mixer nodes: it gets the inputs whole and returns whole lists.
    let given = 0;
    const cascade: ElectionCascade = async (list) => {
      given = list.length;
      const mixes = await mixElection(election, { inputs: list, random: seededRandom("nodes") });
      return mixes.map(({ outputs, proof }) => ({ outputs, proof }));
    };
    const asked: string[] = [];
    const records = await mixElectionRecords(election, {
      inputs: ciphertextRecords(inputs, 1),
      sinks: (name, count, bytes) => {
        asked.push(name);
        return memoryRecordSink(count, bytes);
      },
      cascade,
    });
    const arrays = await mixElection(election, { inputs, cascade });
    assert.equal(given, inputs.length);
    assert.deepEqual(asked, []);
    assert.deepEqual(records.map((m) => m.mixer), arrays.map((m) => m.mixer));
    records.forEach((mix, m) => {
      assert.deepEqual(
        allRecords(mix.outputs),
        new Uint8Array(arrays[m]!.outputs.flatMap((c) => [...c.bytes])),
      );
      assert.deepEqual(allRecords(mix.proof.chainResponses), arrays[m]!.proof.chainResponses);
    });
  } finally {
    closeWorkerPool();
  }
});
