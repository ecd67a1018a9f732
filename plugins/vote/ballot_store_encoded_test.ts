// Pre-encoded chunks of ballots appended to an encoded store (issue 17 point 3): the same
// bytes and the same ballots read back as appending each ballot; bad framing refused whole.
import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { type ElectionBallot, encryptElectionBallot } from "./ballot.ts";
import {
  decodeStoredBallots,
  EncodedBallotStore,
  encodeStoredBallot,
  encodeStoredBallots,
  memoryByteLog,
} from "./ballot_store.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";

const definition = createElectionDefinition({
  id: "store-encoded",
  trustees: 1,
  mixers: 1,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }, { text: "R", choices: ["x", "y"] }],
});
const fingerprint = electionFingerprint(definition);
const { key } = runLocalKeyCeremony({ definition, fingerprint }, {
  random: seededRandom("store-encoded"),
});
const election = { definition, fingerprint, publicKey: key.publicKey };
const random = seededRandom("store-encoded-ballots");
// 150 ballots of width 2, credentials of varying length: records of varying size, and more
// than two offset marks (every 64th ballot).
const ballots = Array.from({ length: 150 }, (_, i) =>
  encryptElectionBallot(election, {
    credential: `voter-${"x".repeat(i % 37)}-${i}`,
    answers: [[i % 3], [i % 2]],
    random,
  }));

const bytesOf = (list: readonly ElectionBallot[]) =>
  list.map((b) => [b.credential, encodeStoredBallot(b)]);
const logBytes = (log: ReturnType<typeof memoryByteLog>) => log.read(0, log.size).slice();

/** Ranges crossing the marks at 64 and 128, read in order, out of order and repeated. */
const RANGES = [
  [0, 150],
  [63, 65],
  [60, 70],
  [64, 128],
  [127, 129],
  [5, 6],
  [6, 100],
  [100, 150],
  [129, 130],
  [0, 1],
  [64, 64],
  [149, 150],
];

Deno.test("encoded ballot store: appendEncoded of chunks gives append's bytes and reads, across offset marks", () => {
  const one = memoryByteLog(1000);
  const byBallot = new EncodedBallotStore(one, fingerprint, "by ballot");
  for (const b of ballots) byBallot.append(b);
  // Chunks whose edges fall before, on and after the marks, one inside a chunk, an empty one,
  // and per-ballot appends between them.
  const many = memoryByteLog(1000);
  const byChunk = new EncodedBallotStore(many, fingerprint, "by chunk");
  const edges = [0, 1, 1, 50, 63, 64, 65, 120, 140, 150];
  for (let k = 0; k + 1 < edges.length; k++) {
    const [lo, hi] = [edges[k]!, edges[k + 1]!];
    if (k === 6) {
      for (const b of ballots.slice(lo, hi)) byChunk.append(b);
      continue;
    }
    assert.equal(byChunk.appendEncoded(encodeStoredBallots(ballots.slice(lo, hi))), hi - lo);
    assert.equal(byChunk.count, hi);
  }
  assert.equal(byChunk.count, byBallot.count);
  assert.deepEqual(logBytes(many), logBytes(one));
  assert.deepEqual(logBytes(many), encodeStoredBallots(ballots));
  for (const [lo, hi] of RANGES) {
    const got = byChunk.read(lo!, hi!);
    assert.deepEqual(bytesOf(got), bytesOf(byBallot.read(lo!, hi!)), `${lo}..${hi}`);
    assert.deepEqual(bytesOf(got), bytesOf(ballots.slice(lo!, hi!)), `${lo}..${hi}`);
    assert.deepEqual(
      got.map((b) => b.proof.responses),
      ballots.slice(lo!, hi!).map((b) => b.proof.responses),
    );
    assert.ok(got.every((b) => b.election === fingerprint));
  }
  // In order a chunk at a time, as the mixers read.
  const seen: ElectionBallot[] = [];
  for (let lo = 0; lo < 150; lo += 17) seen.push(...byChunk.read(lo, Math.min(150, lo + 17)));
  assert.deepEqual(bytesOf(seen), bytesOf(ballots));
});

Deno.test("encoded ballot store: a whole chunk of 150 ballots in one append reads back like append", () => {
  const store = new EncodedBallotStore(memoryByteLog(), fingerprint, "whole");
  assert.equal(store.appendEncoded(encodeStoredBallots(ballots)), 150);
  for (const [lo, hi] of RANGES) {
    assert.deepEqual(bytesOf(store.read(lo!, hi!)), bytesOf(ballots.slice(lo!, hi!)));
  }
  assert.deepEqual(
    bytesOf(decodeStoredBallots(encodeStoredBallots(ballots), { fingerprint, what: "all" })),
    bytesOf(ballots),
  );
  assert.deepEqual(decodeStoredBallots(new Uint8Array(0), { fingerprint, what: "none" }), []);
});

Deno.test("encoded ballot store: a corrupt length prefix is refused naming the record, and nothing is appended", () => {
  const log = memoryByteLog();
  const store = new EncodedBallotStore(log, fingerprint, "ballots.bin");
  store.append(ballots[0]!);
  const before = logBytes(log);
  const good = encodeStoredBallots(ballots.slice(1, 4));
  const second = 4 + new DataView(good.buffer).getUint32(0); // byte offset of the chunk's record 1
  const withLength = (at: number, length: number) => {
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(at, length);
    return bad;
  };
  const withCredentialLength = (at: number, length: number) => {
    const bad = good.slice();
    new DataView(bad.buffer).setUint16(at + 4, length);
    return bad;
  };
  const cases: Array<[Uint8Array, RegExp]> = [
    [withLength(second, 0), /record 1 at byte \d+ of 0 bytes is not a stored ballot/],
    [withLength(second, 1 << 30), /record 1 at byte \d+ says 1073741824 bytes, over \d+/],
    [withLength(second, good.length), /record 1 at byte \d+ says \d+ bytes, \d+ follow/],
    [withLength(0, 200), /record 0 at byte 0 of 200 bytes is not a stored ballot/],
    [withCredentialLength(second, 1000), /record 1 at byte \d+ of \d+ bytes is not a stored/],
    [good.subarray(0, good.length - 1), /record 2 at byte \d+ says \d+ bytes, \d+ follow/],
    [
      Uint8Array.from([...good, 0, 0, 1]),
      /record 3 at byte \d+ is cut off at 3 bytes/,
    ],
  ];
  for (const [bad, pattern] of cases) {
    assert.throws(
      () => store.appendEncoded(bad),
      (err: unknown) =>
        err instanceof InvalidInputError &&
        err.message.startsWith("Encoded ballots for 'ballots.bin' are corrupt (") &&
        pattern.test(err.message),
      String(pattern),
    );
    assert.equal(store.count, 1);
    assert.deepEqual(logBytes(log), before);
  }
  // The store still works after the refusals.
  assert.equal(store.appendEncoded(good), 3);
  assert.deepEqual(bytesOf(store.read(0, 4)), bytesOf(ballots.slice(0, 4)));
  assert.throws(
    () => decodeStoredBallots(withLength(second, 0), { fingerprint, what: "chunk 7" }),
    (err: unknown) =>
      err instanceof InvalidInputError && /Encoded ballots for 'chunk 7'/.test(err.message),
  );
});
