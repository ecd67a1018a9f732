// A file ballot store fed chunks already encoded (as `vote run` and `vote bench` feed it the
// workers' chunks): the same file and the same ballots as per-ballot appends, for chunks
// smaller and larger than its write buffer.
import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import {
  createElectionDefinition,
  type ElectionBallot,
  electionFingerprint,
  encodeStoredBallot,
  encodeStoredBallots,
  encryptElectionBallot,
  runLocalKeyCeremony,
} from "../../plugins/vote/mod.ts";
import { Spool } from "../record_file.ts";
import { FileBallotStore } from "./ballot_store_file.ts";

Deno.test("file ballot store: appendEncoded chunks, one larger than the write buffer, give append's file and reads", async () => {
  const definition = createElectionDefinition({
    id: "file-store-encoded",
    trustees: 1,
    mixers: 1,
    questions: [{ text: "Q", choices: ["a", "b", "c"] }],
  });
  const fingerprint = electionFingerprint(definition);
  const { key } = runLocalKeyCeremony({ definition, fingerprint }, {
    random: seededRandom("file-store-encoded"),
  });
  const election = { definition, fingerprint, publicKey: key.publicKey };
  const random = seededRandom("file-store-encoded-ballots");
  const distinct = Array.from({ length: 100 }, (_, i) =>
    encryptElectionBallot(election, {
      credential: `voter-${"x".repeat(i % 29)}-${i}`,
      answers: [[i % 3]],
      random,
    }));
  // 2,400 records (the store does not look at credentials): about 400 KB, over 256 KiB.
  const ballots: ElectionBallot[] = Array.from({ length: 2400 }, (_, i) => distinct[i % 100]!);
  const spool = await Spool.create();
  try {
    const one = spool.openFile("ballots");
    const byBallot = new FileBallotStore(one.file, fingerprint, one.path);
    for (const b of ballots) byBallot.append(b);
    const { file, path } = spool.openFile("ballots");
    const byChunk = new FileBallotStore(file, fingerprint, path);
    for (const [lo, hi] of [[0, 7], [7, 2200], [2200, 2201], [2201, 2400]]) {
      assert.equal(byChunk.appendEncoded(encodeStoredBallots(ballots.slice(lo, hi))), hi! - lo!);
    }
    assert.ok(byChunk.bytes > 1 << 18, `${byChunk.bytes} bytes`);
    assert.equal(byChunk.count, 2400);
    assert.equal(byChunk.bytes, byBallot.bytes);
    const bytesOf = (list: readonly ElectionBallot[]) =>
      list.map((b) => [b.credential, encodeStoredBallot(b)]);
    for (const [lo, hi] of [[0, 2400], [63, 65], [2199, 2203], [1000, 1100], [5, 6]]) {
      assert.deepEqual(bytesOf(byChunk.read(lo!, hi!)), bytesOf(ballots.slice(lo!, hi!)));
      assert.deepEqual(bytesOf(byChunk.read(lo!, hi!)), bytesOf(byBallot.read(lo!, hi!)));
    }
    const bad = encodeStoredBallots(ballots.slice(0, 2));
    new DataView(bad.buffer).setUint32(0, 0xffffffff);
    assert.throws(
      () => byChunk.appendEncoded(bad),
      (err: unknown) =>
        err instanceof InvalidInputError && err.message.includes(path) &&
        /corrupt \(record 0 at byte 0 says 4294967295 bytes/.test(err.message),
    );
    assert.equal(byChunk.count, 2400);
    // Both files flushed by the reads above: the same bytes.
    assert.deepEqual(Deno.readFileSync(path), Deno.readFileSync(one.path));
    assert.equal(Deno.readFileSync(path).length, byChunk.bytes);
  } finally {
    spool.close();
  }
});
