import assert from "node:assert/strict";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { allRecords, memoryItemChunks } from "../../core/records.ts";
import { Ciphertext } from "../../backends/reencrypt/mod.ts";
import {
  ballotReceipt,
  type ElectionBallot,
  type ElectionPublicInfo,
  encryptElectionBallot,
} from "./ballot.ts";
import {
  type CastOutcome,
  ElectionBallotBox,
  replayBallotBox,
  replayBallotBoxRecords,
} from "./ballot_box.ts";
import { BitList, CompactIndex, stringKey } from "./ballot_index.ts";
import {
  type BallotStore,
  ballotStoreChunks,
  checkBallotRange,
  decodeStoredBallot,
  EncodedBallotStore,
  encodeStoredBallot,
  encodeStoredBallots,
  MemoryBallotStore,
  memoryByteLog,
} from "./ballot_store.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint, type RevotePolicy } from "./definition.ts";

function setup(revote: RevotePolicy, id: string, choices = 3): ElectionPublicInfo {
  const definition = createElectionDefinition({
    id,
    trustees: 1,
    mixers: 1,
    revote,
    questions: [
      { text: "Q", choices: Array.from({ length: choices }, (_, i) => `c${i}`) },
      { text: "R", choices: ["x", "y"] },
    ],
  });
  const fingerprint = electionFingerprint(definition);
  const { key } = runLocalKeyCeremony({ definition, fingerprint }, { random: seededRandom(id) });
  return { definition, fingerprint, publicKey: key.publicKey };
}

/**
 * A store that keeps only the stored encodings (as the file store does), counting its
 * reads: the box must work from the encodings alone.
 */
class EncodedStore implements BallotStore {
  readonly items: Uint8Array[] = [];
  reads = 0;
  constructor(readonly fingerprint: Uint8Array) {}
  get count() {
    return this.items.length;
  }
  append(ballot: ElectionBallot) {
    this.items.push(encodeStoredBallot(ballot));
  }
  read(lo: number, hi: number) {
    checkBallotRange(this.items.length, lo, hi);
    this.reads++;
    return this.items.slice(lo, hi).map((b) => decodeStoredBallot(b, this.fingerprint));
  }
}

/** Ballots with every kind of rejection, spread over batches of a few ballots. */
function mixedBallots(e: ElectionPublicInfo): ElectionBallot[] {
  const random = seededRandom(`mixed-${e.definition.id}`);
  const cast = (credential: string, i: number) =>
    encryptElectionBallot(e, { credential, answers: [[i % 3], [i % 2]], random });
  const ballots = Array.from({ length: 17 }, (_, i) => cast(`voter-${i % 11}`, i));
  const b5 = ballots[5]!;
  ballots[5] = { ...b5, proof: { ...b5.proof, responses: b5.proof.responses.map((z) => z + 1n) } };
  ballots.push(ballots[2]!); // replay from an early batch
  ballots.push({ ...ballots[3]!, credential: "voter-99" }); // copy
  const b9 = ballots[9]!;
  ballots.push({ ...b9, credential: "" }); // malformed
  ballots.push(ballots[ballots.length - 4]!); // replay within the last batch
  return ballots;
}

const describe = (outcomes: CastOutcome[]) =>
  outcomes.map((o) =>
    o.ok
      ? `ok${o.result.supersedes === undefined ? "" : `>${o.result.supersedes}`}`
      : `${o.error.constructor.name}: ${o.error.message}`
  );

Deno.test("ballot store: stored encoding round trip keeps every field and the receipt", () => {
  const e = setup("reject", "store-codec");
  const ballot = encryptElectionBallot(e, {
    credential: "vötér-1 ✓",
    answers: [[2], [0]],
    random: seededRandom("codec"),
  });
  const back = decodeStoredBallot(encodeStoredBallot(ballot), e.fingerprint);
  assert.equal(back.credential, ballot.credential);
  assert.deepEqual(back.ciphertext.bytes, ballot.ciphertext.bytes);
  assert.deepEqual(back.proof.commitments, ballot.proof.commitments);
  assert.deepEqual(back.proof.responses, ballot.proof.responses);
  assert.deepEqual(ballotReceipt(back), ballotReceipt(ballot));
  const bytes = encodeStoredBallot(ballot);
  assert.throws(
    () => decodeStoredBallot(bytes.subarray(0, bytes.length - 1), e.fingerprint),
    (err: unknown) => err instanceof InvalidInputError && /malformed/.test(err.message),
  );
  assert.throws(() => decodeStoredBallot(new Uint8Array(1), e.fingerprint), InvalidInputError);
  assert.throws(
    () => new MemoryBallotStore().read(0, 1),
    (err: unknown) => err instanceof InvalidInputError && /outside the box/.test(err.message),
  );
});

Deno.test("ballot store: encodeStoredBallots is u32be(length) ‖ encodeStoredBallot of each, whatever the credential", () => {
  const e = setup("reject", "store-codec-many");
  const random = seededRandom("codec-many");
  const credentials = ["voter-1", "vötér-2 ✓", "𝕧𝕠𝕥𝕖𝕣-3", "lone \ud800 surrogate", "x".repeat(256)];
  const ballots = credentials.map((credential, i) =>
    encryptElectionBallot(e, { credential, answers: [[i % 3], [i % 2]], random })
  );
  // Responses not reduced mod ℓ are encoded reduced, as encodeStoredBallot does.
  const b1 = ballots[1]!;
  ballots[1] = {
    ...b1,
    proof: { ...b1.proof, responses: b1.proof.responses.map((z) => z - (1n << 253n) * 9n) },
  };
  const expected: number[] = [];
  for (const b of ballots) {
    const one = encodeStoredBallot(b);
    expected.push(
      one.length >>> 24,
      (one.length >>> 16) & 255,
      (one.length >>> 8) & 255,
      one.length & 255,
      ...one,
    );
  }
  const many = encodeStoredBallots(ballots);
  assert.deepEqual([...many], expected);
  assert.equal(many.byteOffset, 0);
  assert.equal(many.buffer.byteLength, many.length); // a buffer of its own, transferable
  assert.equal(
    decodeStoredBallot(encodeStoredBallot(ballots[3]!), e.fingerprint).credential,
    "lone \ufffd surrogate",
  );
  assert.equal(encodeStoredBallots([]).length, 0);
});

Deno.test("memory byte log: reads within and across segments, clipped to the end", () => {
  const log = memoryByteLog(5);
  const all = Uint8Array.from({ length: 23 }, (_, i) => i);
  log.append(all.subarray(0, 3));
  log.append(all.subarray(3, 3));
  log.append(all.subarray(3, 17));
  log.append(all.subarray(17));
  assert.equal(log.size, 23);
  for (const [offset, length] of [[0, 23], [4, 1], [4, 2], [5, 5], [9, 12], [20, 10], [23, 4]]) {
    assert.deepEqual(
      log.read(offset!, length!),
      all.subarray(offset!, Math.min(23, offset! + length!)),
      `${offset}+${length}`,
    );
  }
});

Deno.test("ballot index: colliding keys are told apart by the check; it grows without losing entries", () => {
  const index = new CompactIndex(16);
  for (let i = 0; i < 5000; i++) index.insert(i % 7, 42, i); // 7 keys, each many times
  assert.equal(index.size, 5000);
  assert.ok(index.bytes >= 12 * 5000);
  assert.equal(index.find(3, 42, (v) => v === 4994), 4994); // 4994 = 7·713 + 3
  assert.equal(index.find(3, 42, (v) => v === 10), 10);
  assert.equal(index.find(3, 43, () => true), undefined);
  assert.equal(index.find(3, 42, (v) => v === 11), undefined); // 11 has key 4
  index.set(4, 42, 123456, (v) => v === 11);
  assert.equal(index.find(4, 42, (v) => v === 11), undefined);
  assert.equal(index.find(4, 42, (v) => v === 123456), 123456);
  assert.equal(index.size, 5000);
  const keys = new Set<string>();
  for (let i = 0; i < 20000; i++) keys.add(stringKey(`voter-${i}`).join(":"));
  assert.equal(keys.size, 20000);
  assert.deepEqual(stringKey("voter-1"), stringKey("voter-1"));
  const bits = new BitList();
  bits.add(70000);
  bits.add(3);
  bits.add(3);
  assert.ok(bits.has(70000) && bits.has(3) && !bits.has(4) && bits.ones === 2);
});

Deno.test("ballot box: a store of encodings only gives the same outcomes, receipts and mix input", async () => {
  for (const revote of ["reject", "last"] as const) {
    const e = setup(revote, `store-${revote}`);
    const ballots = mixedBallots(e);
    const memory = new ElectionBallotBox(e);
    const expected = describe(await memory.castMany(ballots, { workers: 1, batch: 4 }));
    assert.ok(expected.some((x) => x.startsWith("ReplayError: Ballot was already cast")));
    assert.ok(expected.some((x) => x.includes("copies the ciphertext")));
    assert.ok(expected.some((x) => x.startsWith("VerificationError")));
    assert.ok(expected.some((x) => x.startsWith("InvalidInputError")));
    if (revote === "last") assert.ok(expected.some((x) => x.startsWith("ok>")));
    else assert.ok(expected.some((x) => x.includes("already voted")));
    // Small segments: records cross them.
    for (
      const store of [
        new EncodedStore(e.fingerprint),
        new EncodedBallotStore(memoryByteLog(300), e.fingerprint, "test"),
      ]
    ) {
      const box = new ElectionBallotBox(e, { store });
      assert.deepEqual(describe(await box.castMany(ballots, { workers: 1, batch: 4 })), expected);
      assert.equal(box.count, memory.count);
      assert.deepEqual(box.receipts, memory.receipts);
      assert.deepEqual(box.countedIndices(), memory.countedIndices());
      const counted = box.closeRecords();
      assert.equal(counted.recordBytes, 64 * ballots[0]!.ciphertext.width);
      assert.equal(counted.count, memory.countedIndices().length);
      assert.deepEqual(
        allRecords(counted),
        new Uint8Array(memory.close().flatMap((c) => [...c.bytes])),
      );
      const chunks: string[] = [];
      for await (const chunk of box.ballotChunks().chunks(3)) {
        chunks.push(...chunk.map((b) => b.credential));
      }
      assert.deepEqual(chunks, memory.ballots.map((b) => b.credential));
      assert.deepEqual(box.ballots.map((b) => b.credential), chunks);
    }
  }
  assert.throws(
    () => {
      const store = new MemoryBallotStore();
      store.append(mixedBallots(setup("reject", "store-x"))[0]!);
      new ElectionBallotBox(setup("reject", "store-x"), { store });
    },
    (err: unknown) => err instanceof InvalidInputError && /empty store/.test(err.message),
  );
});

Deno.test("ballot box: castChunks over chunks of any size gives castMany's outcomes, a batch at a time", async () => {
  const e = setup("last", "store-chunks");
  const ballots = mixedBallots(e);
  const expected = describe(
    await new ElectionBallotBox(e).castMany(ballots, { workers: 1, batch: 5 }),
  );
  for (const size of [1, 3, 5, 7, 100]) {
    const box = new ElectionBallotBox(e);
    const seen: string[] = [];
    const los: number[] = [];
    const progress: number[] = [];
    const cast = await box.castChunks(memoryItemChunks(ballots).chunks(size), {
      workers: 1,
      batch: 5,
      total: ballots.length,
      receipts: false,
      onProgress: (p) => {
        if (p.phase === "cast") progress.push(p.done);
      },
      onOutcomes: (lo, batch, outcomes) => {
        assert.equal(batch.length, outcomes.length);
        assert.ok(batch.length <= 5);
        los.push(lo);
        seen.push(...describe(outcomes));
      },
    });
    assert.equal(cast, ballots.length);
    assert.deepEqual(seen, expected, `chunks of ${size}`);
    assert.deepEqual(los, [0, 5, 10, 15, 20]);
    assert.deepEqual(progress, [ballots.length]);
  }
});

Deno.test("ballot box: replay over ItemChunks equals replay over the array, and names the first bad ballot", async () => {
  const e = setup("last", "store-replay");
  const random = seededRandom("replay");
  const ballots = Array.from(
    { length: 12 },
    (_, i) =>
      encryptElectionBallot(e, { credential: `voter-${i % 8}`, answers: [[i % 3], [1]], random }),
  );
  const box = await replayBallotBox(e, ballots, { workers: 1 });
  const expected = box.close();
  for (const batch of [1, 5, 100]) {
    const store = new EncodedStore(e.fingerprint);
    const replayed = await replayBallotBoxRecords(e, memoryItemChunks(ballots), {
      workers: 1,
      batch,
      store,
    });
    assert.equal(replayed.ballots, 12);
    assert.ok(replayed.box.closed);
    assert.equal(replayed.counted.count, 8);
    assert.deepEqual(
      allRecords(replayed.counted),
      new Uint8Array(expected.flatMap((c) => [...c.bytes])),
    );
  }
  // A replayed ballot in the third batch: named by its position among all ballots.
  const bad = [...ballots.slice(0, 11), ballots[1]!];
  for (
    const run of [
      () => replayBallotBox(e, bad, { workers: 1, batch: 5 }),
      () => replayBallotBoxRecords(e, memoryItemChunks(bad), { workers: 1, batch: 5 }),
    ]
  ) {
    await assert.rejects(run, (err: unknown) => {
      assert.ok(err instanceof VerificationError);
      assert.match(err.message, /^Ballot 12: Ballot was already cast \(replay of ballot 2/);
      return true;
    });
  }
  const chunks = ballotStoreChunks(new MemoryBallotStore());
  assert.equal(chunks.count, 0);
  for await (const _ of chunks.chunks()) assert.fail("no chunk");
});

Deno.test("ballot box: width 2 — a copied second element, or one repeated within a ballot, is a copy (any store)", () => {
  const definition = createElectionDefinition({
    id: "store-wide",
    trustees: 1,
    mixers: 1,
    questions: ["P", "Q"].map((text) => ({
      text,
      choices: Array.from({ length: 150 }, (_, i) => `${text}${i}`),
      type: "multiple" as const,
      min: 0,
      max: 3,
    })),
  });
  const fingerprint = electionFingerprint(definition);
  const { key } = runLocalKeyCeremony({ definition, fingerprint }, {
    random: seededRandom("wide"),
  });
  const e = { definition, fingerprint, publicKey: key.publicKey };
  const random = seededRandom("wide-ballots");
  const cast = (credential: string) =>
    encryptElectionBallot(e, { credential, answers: [[1, 2], [3]], random });
  const a = cast("voter-1"), b = cast("voter-2"), c = cast("voter-3");
  assert.equal(a.ciphertext.width, 2);
  // b with its second element replaced by a's first; c with its first element twice.
  const swap = (x: ElectionBallot, bytes: Uint8Array): ElectionBallot => ({
    ...x,
    ciphertext: Ciphertext.unchecked(bytes),
  });
  const bBytes = b.ciphertext.bytes.slice();
  bBytes.set(a.ciphertext.bytes.subarray(0, 64), 64);
  const cBytes = c.ciphertext.bytes.slice();
  cBytes.set(cBytes.subarray(0, 64), 64);
  for (const store of [new MemoryBallotStore(), new EncodedStore(e.fingerprint)]) {
    const box = new ElectionBallotBox(e, { store });
    box.cast(a);
    assert.throws(
      () => box.cast(swap(b, bBytes)),
      (err: unknown) => /copies the ciphertext of ballot 1/.test(String(err)),
    );
    assert.throws(
      () => box.cast(swap(c, cBytes)),
      (err: unknown) => /'voter-3' copies the ciphertext of ballot 2/.test(String(err)),
    );
    box.cast(b);
    box.cast(c);
    assert.equal(box.closeRecords().count, 3);
  }
});
