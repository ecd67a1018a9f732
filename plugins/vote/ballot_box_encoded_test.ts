// The box's encoded path (issue 17): ballots cast as a store keeps them (castEncodedChunks,
// the path of `vote bench` and `vote run`) give exactly the outcomes, reasons, receipts, store
// bytes and mix input of the same ballots cast as objects (castMany, cast), on 1 and 2
// workers, in any batch size, for valid, invalid-proof, garbled, copied, replayed,
// superseding, duplicate and malformed ballots.
import assert from "node:assert/strict";
import { concatBytes } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { allRecords } from "../../core/records.ts";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import {
  ballotReceipt,
  type ElectionBallot,
  type ElectionPublicInfo,
  encryptElectionBallot,
  encryptElectionBallots,
} from "./ballot.ts";
import { type CastOutcome, ElectionBallotBox } from "./ballot_box.ts";
import {
  ballotStoreChunks,
  type ByteLog,
  type EncodedBallotChunk,
  encodedBallotChunk,
  EncodedBallotStore,
  encodeStoredBallots,
  hasEncodedChunks,
  MemoryBallotStore,
  memoryByteLog,
} from "./ballot_store.ts";
import { Ciphertext } from "../../backends/reencrypt/mod.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint, type RevotePolicy } from "./definition.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

function setup(id: string, revote: RevotePolicy): ElectionPublicInfo {
  const definition = createElectionDefinition({
    id,
    trustees: 1,
    mixers: 1,
    revote,
    questions: [{ text: "Q", choices: ["a", "b", "c"] }],
  });
  const fingerprint = electionFingerprint(definition);
  const { key } = runLocalKeyCeremony({ definition, fingerprint }, { random: seededRandom(id) });
  return { definition, fingerprint, publicKey: key.publicKey };
}

/** Every kind of ballot the rules tell apart, each representable as a stored record. */
function mixedBallots(e: ElectionPublicInfo): ElectionBallot[] {
  const random = seededRandom(`mixed-${e.definition.id}`);
  const cast = (credential: string, choice: number) =>
    encryptElectionBallot(e, { credential, answers: [[choice]], random });
  const ballots = Array.from(
    { length: 16 },
    (_, i) => cast(i % 5 === 1 ? `vötér-${i % 11}-€` : `voter-${i % 11}`, i % 3),
  );
  const b3 = ballots[3]!, b6 = ballots[6]!, b9 = ballots[9]!;
  // An invalid proof (a response off by one) and a commitment that is no group element.
  ballots[3] = { ...b3, proof: { ...b3.proof, responses: b3.proof.responses.map((z) => z + 1n) } };
  const garbled = b6.proof.commitments.slice().fill(0xff);
  ballots[6] = { ...b6, proof: { ...b6.proof, commitments: garbled } };
  // A ballot of width 2: two ballots' ciphertexts and proofs side by side.
  const w1 = cast("wide", 0), w2 = cast("wide", 1);
  const wide: ElectionBallot = {
    ...w1,
    ciphertext: Ciphertext.unchecked(concatBytes(w1.ciphertext.bytes, w2.ciphertext.bytes)),
    proof: {
      commitments: concatBytes(w1.proof.commitments, w2.proof.commitments),
      responses: [...w1.proof.responses, ...w2.proof.responses],
    },
  };
  ballots.push(
    ballots[2]!, // a replay
    { ...ballots[8]!, credential: "copier" }, // a copy of ballot 8's ciphertext
    // Ballot 9 changed in its proof only: a copy, not a replay.
    { ...b9, proof: { ...b9.proof, responses: b9.proof.responses.map((z) => z + 1n) } },
    wide, // malformed: width 2
    { ...cast("ctl", 0), credential: "bad\u0001credential" }, // malformed: control character
    { ...cast("empty", 0), credential: "" }, // malformed: empty credential
    { ...cast("long", 0), credential: "x".repeat(300) }, // malformed: too long
    cast("voter-1", 2), // a re-vote after the last batch's
    ballots[15]!, // a replay of the last ballot
  );
  return ballots;
}

/** An outcome as text: index, supersedes and receipt, or the error's class and message. */
function describe(outcomes: CastOutcome[]): string[] {
  return outcomes.map((o) =>
    o.ok
      ? `ok ${o.result.index}${
        o.result.supersedes === undefined ? "" : `>${o.result.supersedes}`
      } ${[...o.result.receipt].join(",")}`
      : `${o.error.constructor.name}: ${o.error.message}`
  );
}

/** A store of encodings in memory, with its log's bytes. */
function encodedStore(e: ElectionPublicInfo): { store: EncodedBallotStore; log: ByteLog } {
  const log = memoryByteLog(1000); // small segments: records across segment ends
  return { store: new EncodedBallotStore(log, e.fingerprint, "test"), log };
}

/** Records in chunks of `size`, each chunk a buffer of its own. */
function recordChunks(ballots: readonly ElectionBallot[], size: number): EncodedBallotChunk[] {
  const out: EncodedBallotChunk[] = [];
  for (let lo = 0; lo < ballots.length; lo += size) {
    out.push(encodedBallotChunk(encodeStoredBallots(ballots.slice(lo, lo + size)), "chunk"));
  }
  return out;
}

Deno.test("encoded cast: the object path's outcomes, reasons, receipts, store bytes and mix input, on 1 and 2 workers", async () => {
  try {
    for (const revote of ["last", "reject"] as const) {
      const e = setup(`encoded-${revote}`, revote);
      const ballots = mixedBallots(e);
      // The reference: one ballot at a time, objects in memory.
      const one = new ElectionBallotBox(e);
      const expected = ballots.map((b) => {
        try {
          return describe([{ ok: true, result: one.cast(b) }])[0]!;
        } catch (error) {
          return describe([{ ok: false, error: error as Error }])[0]!;
        }
      });
      assert.equal(expected.filter((x) => /copies the ciphertext/.test(x)).length, 2);
      const kinds = expected.map((x) => x.split(":")[0]!.split(" ")[0]);
      for (
        const kind of ["ok", "ReplayError", "VerificationError", "InvalidInputError"]
      ) assert.ok(kinds.includes(kind), `${revote}: no ${kind} in ${kinds}`);
      assert.equal(expected.some((x) => /^ok \d+>/.test(x)), revote === "last");
      const malformed = expected.filter((x) => x.startsWith("InvalidInputError"));
      assert.equal(malformed.length, 5, expected.join("\n")); // 4 malformed, 1 garbled
      const want = new Uint8Array(one.close().flatMap((c) => [...c.bytes]));
      for (const workers of [1, 2]) {
        for (const batch of [4, 100]) {
          const label = `${revote}, workers ${workers}, batch ${batch}`;
          // Objects into a store of encodings.
          const byObject = encodedStore(e);
          const objectBox = new ElectionBallotBox(e, { store: byObject.store });
          const objectOutcomes = await objectBox.castMany(ballots, { workers, batch });
          assert.deepEqual(describe(objectOutcomes), expected, `objects, ${label}`);
          // Records (in chunks of 3, regrouped into batches) into another.
          const byRecord = encodedStore(e);
          const recordBox = new ElectionBallotBox(e, { store: byRecord.store });
          const recordOutcomes: CastOutcome[] = [];
          const seen: number[] = [];
          const cast = await recordBox.castEncodedChunks(recordChunks(ballots, 3), {
            workers,
            batch,
            total: ballots.length,
            onOutcomes: (lo, chunk, outcomes) => {
              assert.equal(lo, recordOutcomes.length);
              assert.equal(chunk.offsets.length - 1, outcomes.length);
              recordOutcomes.push(...outcomes);
            },
            onProgress: (p) => {
              if (p.phase === "verify ballot proofs") seen.push(p.done);
            },
          });
          assert.equal(cast, ballots.length);
          assert.deepEqual(describe(recordOutcomes), expected, `records, ${label}`);
          assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
          assert.equal(seen.filter((d) => d === ballots.length).length, 1);
          // The same bytes in both stores, and the reference's ballots.
          const bytes = byRecord.log.read(0, byRecord.log.size);
          assert.deepEqual(bytes, byObject.log.read(0, byObject.log.size), label);
          assert.deepEqual(bytes, encodeStoredBallots(one.ballots), label);
          assert.deepEqual(recordBox.receipts, one.receipts);
          assert.deepEqual(recordBox.countedIndices(), one.countedIndices());
          assert.deepEqual(allRecords(recordBox.closeRecords()), want, label);
          assert.deepEqual(allRecords(objectBox.closeRecords()), want, label);
        }
      }
    }
  } finally {
    closeWorkerPool();
  }
});

Deno.test("encoded cast: deferred receipts, a memory store, and a box's own store read back as records", async () => {
  const e = setup("encoded-defer", "last");
  const ballots = mixedBallots(e);
  const reference = new ElectionBallotBox(e);
  const expected = describe(await reference.castMany(ballots, { workers: 1, receipts: false }));
  // Records cast into a store of objects: the objects decoded from the records.
  const memory = new ElectionBallotBox(e, { store: new MemoryBallotStore() });
  const outcomes: CastOutcome[] = [];
  await memory.castEncodedChunks(recordChunks(ballots, 5), {
    workers: 1,
    receipts: false,
    onOutcomes: (_lo, _chunk, part) => void outcomes.push(...part),
  });
  assert.deepEqual(describe(outcomes), expected);
  assert.deepEqual(encodeStoredBallots(memory.ballots), encodeStoredBallots(reference.ballots));
  assert.deepEqual(memory.receipts, reference.ballots.map(ballotReceipt));
  // A store of encodings gives its ballots as records: they replay into a fresh box.
  const { store } = encodedStore(e);
  const first = new ElectionBallotBox(e, { store });
  await first.castMany(ballots, { workers: 1, receipts: false });
  const chunks = ballotStoreChunks(store);
  assert.ok(hasEncodedChunks(chunks));
  assert.ok(!hasEncodedChunks(ballotStoreChunks(new MemoryBallotStore())));
  const again = new ElectionBallotBox(e, { store: encodedStore(e).store });
  const replayed: CastOutcome[] = [];
  await again.castEncodedChunks(chunks.encodedChunks(4), {
    workers: 1,
    onOutcomes: (_lo, _chunk, part) => void replayed.push(...part),
  });
  assert.ok(replayed.every((o) => o.ok));
  assert.deepEqual(again.receipts, first.receipts);
  assert.deepEqual(allRecords(again.closeRecords()), allRecords(first.closeRecords()));
});

Deno.test("encoded cast: a record that does not decode is an error, not a rejected ballot", async () => {
  const e = setup("encoded-corrupt", "reject");
  const random = seededRandom("encoded-corrupt");
  const ballots = Array.from(
    { length: 3 },
    (_, i) => encryptElectionBallot(e, { credential: `voter-${i}`, answers: [[0]], random }),
  );
  const chunk = encodedBallotChunk(encodeStoredBallots(ballots), "chunk");
  // Ballot 1's credential "voter-1" made invalid UTF-8 (a lone continuation byte).
  const bad = { bytes: chunk.bytes.slice(), offsets: chunk.offsets };
  bad.bytes[chunk.offsets[1]! + 6] = 0x80;
  const box = new ElectionBallotBox(e);
  await assert.rejects(
    () => box.castEncodedChunks([bad], { workers: 1 }),
    (err: unknown) => err instanceof InvalidInputError && /not UTF-8/.test(err.message),
  );
  // A chunk whose records do not fill it.
  const cut = { bytes: chunk.bytes.subarray(0, chunk.bytes.length - 1), offsets: chunk.offsets };
  await assert.rejects(
    () => new ElectionBallotBox(e).castEncodedChunks([cut], { workers: 1 }),
    InvalidInputError,
  );
});

Deno.test("encoded cast: outcomes of a batch of 1,300 come in groups, in order, the same on both paths", async () => {
  const e = setup("encoded-groups", "last");
  const random = seededRandom("encoded-groups");
  const ballots = encryptElectionBallots(
    e,
    Array.from({ length: 1300 }, (_, i) => ({
      credential: `voter-${i % 1200}`, // the last 100 supersede ballots of the first group
      answers: [[i % 3]],
      random,
    })),
  );
  ballots.push(ballots[1250]!); // a replay, in the second group
  const groups: Array<[number, number]> = [];
  const objects = await new ElectionBallotBox(e).castMany(ballots, { workers: 1, batch: 2048 });
  const records: CastOutcome[] = [];
  await new ElectionBallotBox(e).castEncodedChunks(recordChunks(ballots, 500), {
    workers: 1,
    batch: 2048,
    onOutcomes: (lo, chunk, outcomes) => {
      assert.equal(lo, records.length);
      assert.equal(chunk.offsets.length - 1, outcomes.length);
      groups.push([lo, outcomes.length]);
      records.push(...outcomes);
    },
  });
  assert.deepEqual(groups, [[0, 1024], [1024, 277]]);
  assert.deepEqual(describe(records), describe(objects));
  assert.equal(records.filter((o) => o.ok && o.result.supersedes !== undefined).length, 100);
  assert.ok(!records[1300]!.ok && /already cast/.test(records[1300]!.error.message));
});
