import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { allRecords, memoryItemChunks } from "../../core/records.ts";
import {
  type CastOutcome,
  createElectionDefinition,
  type ElectionBallot,
  ElectionBallotBox,
  electionFingerprint,
  type ElectionPublicInfo,
  encryptElectionBallot,
  replayBallotBoxRecords,
  runLocalKeyCeremony,
} from "../../plugins/vote/mod.ts";
import { Spool } from "../record_file.ts";
import { FileBallotStore } from "./ballot_store_file.ts";

function setup(id: string): ElectionPublicInfo {
  const definition = createElectionDefinition({
    id,
    trustees: 1,
    mixers: 1,
    revote: "last",
    questions: [{ text: "Q", choices: ["a", "b", "c"] }],
  });
  const fingerprint = electionFingerprint(definition);
  const { key } = runLocalKeyCeremony({ definition, fingerprint }, { random: seededRandom(id) });
  return { definition, fingerprint, publicKey: key.publicKey };
}

const describe = (outcomes: CastOutcome[]) =>
  outcomes.map((o) =>
    o.ok
      ? `ok${o.result.supersedes === undefined ? "" : `>${o.result.supersedes}`}`
      : `${o.error.constructor.name}: ${o.error.message}`
  );

const sameBallots = (a: readonly ElectionBallot[], b: readonly ElectionBallot[]) =>
  assert.deepEqual(
    a.map((x) => [x.credential, x.ciphertext.bytes, x.proof.commitments, x.proof.responses]),
    b.map((x) => [x.credential, x.ciphertext.bytes, x.proof.commitments, x.proof.responses]),
  );

Deno.test("file ballot store: ballots read back by any range, in order or not, across write buffers", async () => {
  const e = setup("file-store");
  const random = seededRandom("file-store-ballots");
  const ballots = Array.from({ length: 150 }, (_, i) =>
    encryptElectionBallot(e, {
      // Credentials of varying length: records of varying size.
      credential: `voter-${"x".repeat(i % 37)}-${i}`,
      answers: [[i % 3]],
      random,
    }));
  const spool = await Spool.create();
  try {
    const store = FileBallotStore.inSpool(spool, e.fingerprint);
    for (const b of ballots.slice(0, 70)) store.append(b);
    sameBallots(store.read(0, 70), ballots.slice(0, 70));
    for (const b of ballots.slice(70)) store.append(b); // appended after a read
    assert.equal(store.count, 150);
    for (const [lo, hi] of [[0, 150], [149, 150], [63, 65], [64, 64], [10, 11], [5, 140]]) {
      sameBallots(store.read(lo!, hi!), ballots.slice(lo!, hi!));
    }
    // In order, a chunk at a time (each read continues where the last ended).
    const seen: ElectionBallot[] = [];
    for (let lo = 0; lo < 150; lo += 17) seen.push(...store.read(lo, Math.min(150, lo + 17)));
    sameBallots(seen, ballots);
    assert.equal(store.read(7, 8)[0]!.election, e.fingerprint);
    assert.throws(
      () => store.read(140, 151),
      (err: unknown) => err instanceof InvalidInputError && /outside the box/.test(err.message),
    );
  } finally {
    spool.close();
  }
});

Deno.test("file ballot store: a corrupt file is an error naming it", async () => {
  const e = setup("file-store-corrupt");
  const spool = await Spool.create();
  try {
    const { file, path } = spool.openFile("ballots");
    const store = new FileBallotStore(file, e.fingerprint, path);
    store.append(encryptElectionBallot(e, { credential: "voter-1", answers: [[0]] }));
    store.append(encryptElectionBallot(e, { credential: "voter-2", answers: [[1]] }));
    store.read(0, 2);
    file.seekSync(0, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    assert.throws(
      () => store.read(1, 2),
      (err: unknown) =>
        err instanceof InvalidInputError && err.message.includes(path) &&
        /corrupt/.test(err.message),
    );
    file.seekSync(0, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array([0, 0, 0xea, 0x60])); // 60,000 bytes: past the end
    assert.throws(
      () => store.read(0, 1),
      (err: unknown) => err instanceof InvalidInputError && /runs past its end/.test(err.message),
    );
  } finally {
    spool.close();
  }
});

Deno.test("file ballot store: a box on it gives the memory box's outcomes, receipts and mix input; replay too", async () => {
  const e = setup("file-store-box");
  const random = seededRandom("file-store-box-ballots");
  const ballots = Array.from(
    { length: 30 },
    (_, i) =>
      encryptElectionBallot(e, { credential: `voter-${i % 19}`, answers: [[i % 3]], random }),
  );
  const b4 = ballots[4]!;
  ballots[4] = { ...b4, proof: { ...b4.proof, responses: b4.proof.responses.map((z) => z + 1n) } };
  ballots.push(ballots[2]!, { ...ballots[8]!, credential: "voter-77" }, ballots[29]!);
  const memory = new ElectionBallotBox(e);
  const expected = describe(await memory.castMany(ballots, { workers: 1, batch: 8 }));
  assert.ok(expected.some((x) => x.startsWith("ok>")));
  assert.equal(expected.filter((x) => x.startsWith("ReplayError")).length, 3);
  const spool = await Spool.create();
  try {
    const box = new ElectionBallotBox(e, { store: FileBallotStore.inSpool(spool, e.fingerprint) });
    assert.deepEqual(describe(await box.castMany(ballots, { workers: 1, batch: 8 })), expected);
    assert.deepEqual(box.receipts, memory.receipts);
    sameBallots(box.ballots, memory.ballots);
    const counted = box.closeRecords(spool.sinks);
    const want = new Uint8Array(memory.close().flatMap((c) => [...c.bytes]));
    assert.deepEqual(allRecords(counted), want);
    // A verifier's replay of the accepted ballots, from the file, into a file store.
    const replayed = await replayBallotBoxRecords(e, box.ballotChunks(), {
      workers: 1,
      batch: 7,
      store: FileBallotStore.inSpool(spool, e.fingerprint),
      sinks: spool.sinks,
    });
    assert.equal(replayed.ballots, memory.count);
    assert.deepEqual(allRecords(replayed.counted), want);
    const again = await replayBallotBoxRecords(e, memoryItemChunks(memory.ballots), { workers: 1 });
    assert.deepEqual(allRecords(again.counted), want);
  } finally {
    spool.close();
  }
});
