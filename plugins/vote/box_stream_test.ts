import { streamInPieces } from "../../core/byte_stream_test_support.ts";
import { joinBytes } from "../../core/bytes.ts";
import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { ballotBoxFromEnvelope, ballotBoxToEnvelope } from "./ballot_box.ts";
import {
  ballotBoxChunks,
  ballotBoxHead,
  openBallotBoxStream,
  readBallotBoxStream,
  scanBallotBoxStream,
  writeBallotBoxStream,
} from "./box_stream.ts";
import { electionBallotToEnvelope } from "./ballot.ts";
import { msgpackArrayHeader } from "../../core/msgpack_stream.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import { simulateElectionBallots } from "./simulate.ts";

const definition = createElectionDefinition({
  id: "box-stream",
  trustees: 1,
  mixers: 1,
  questions: [
    { text: "Q", choices: ["a", "b", "c"] },
    { text: "R", choices: ["x", "y", "z"], type: "ranked", min: 0, max: 3 },
  ],
});
const fingerprint = electionFingerprint(definition);
const random = seededRandom("box-stream");
const ceremony = runLocalKeyCeremony({ definition, fingerprint }, { random });
const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
const { ballots } = simulateElectionBallots(election, { count: 40, random });

/** The pieces of a chunked encoding joined. */
function concat(parts: Iterable<Uint8Array>): Uint8Array {
  return joinBytes([...parts]);
}

Deno.test("ballot box stream: same bytes as the whole encoding, same ballots back", async () => {
  for (const n of [0, 1, 40]) {
    const expected = encodeMsgpack(ballotBoxToEnvelope(election, ballots.slice(0, n)));
    const written = concat(ballotBoxChunks(election, ballots.slice(0, n)));
    assert.ok(written.length === expected.length && written.every((b, i) => b === expected[i]));
    const read = await readBallotBoxStream(election, streamInPieces(written, 97));
    assert.equal(read.length, n);
    const again = encodeMsgpack(ballotBoxToEnvelope(election, read));
    assert.ok(again.length === expected.length && again.every((b, i) => b === expected[i]));
  }
});

Deno.test("ballot box stream: another election, a bad ballot, a truncated file are refused", async () => {
  const bytes = encodeMsgpack(ballotBoxToEnvelope(election, ballots));
  const whole = (b: Uint8Array) => {
    try {
      ballotBoxFromEnvelope(election, decodeMsgpack(b, "box"));
    } catch (error) {
      return (error as Error).message;
    }
    return "";
  };
  const same = async (b: Uint8Array) => {
    const expected = whole(b);
    assert.notEqual(expected, "");
    await assert.rejects(readBallotBoxStream(election, streamInPieces(b, 300)), (error) => {
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.message, expected);
      return true;
    });
  };
  const other = decodeMsgpack(bytes, "box") as { election: Uint8Array; ballots: unknown[] };
  other.election = new Uint8Array(32);
  await same(encodeMsgpack(other));
  const bad = decodeMsgpack(bytes, "box") as { ballots: Record<string, unknown>[] };
  bad.ballots[17]!.ciphertext = new Uint8Array(10);
  await same(encodeMsgpack(bad));
  await assert.rejects(
    readBallotBoxStream(election, streamInPieces(bytes.subarray(0, bytes.length - 50), 300)),
    /'ballot box\.ballots\[39\]' is truncated msgpack/,
  );
});

Deno.test("ballot box opened as chunks: the head checked at once, the ballots read again per pass", async () => {
  const bytes = encodeMsgpack(ballotBoxToEnvelope(election, ballots));
  let opened = 0;
  const open = (b: Uint8Array) => () => {
    opened++;
    return Promise.resolve(streamInPieces(b, 97));
  };
  const chunks = await openBallotBoxStream(election, open(bytes));
  assert.equal(chunks.count, 40);
  assert.equal(opened, 1);
  for (const size of [7, 40, 4096]) {
    const read = [];
    for await (const chunk of chunks.chunks(size)) {
      assert.ok(chunk.length <= size);
      read.push(...chunk);
    }
    const again = encodeMsgpack(ballotBoxToEnvelope(election, read));
    assert.ok(again.length === bytes.length && again.every((b, i) => b === bytes[i]));
  }
  assert.equal(opened, 4);
  const empty = await openBallotBoxStream(
    election,
    open(encodeMsgpack(ballotBoxToEnvelope(election, []))),
  );
  assert.equal(empty.count, 0);
  for await (const _ of empty.chunks()) assert.fail("an empty box has no chunk");
  // Another election: refused when opened, before any ballot is read.
  const other = decodeMsgpack(bytes, "box") as { election: Uint8Array };
  other.election = new Uint8Array(32);
  await assert.rejects(
    openBallotBoxStream(election, open(encodeMsgpack(other))),
    /Ballot box belongs to another election/,
  );
  // A bad ballot or a truncated file: reported when its chunk is read, as the whole reader does.
  const bad = decodeMsgpack(bytes, "box") as { ballots: Record<string, unknown>[] };
  bad.ballots[17]!.ciphertext = new Uint8Array(10);
  const badBytes = encodeMsgpack(bad);
  const expected = await readBallotBoxStream(election, streamInPieces(badBytes, 300)).then(
    () => "",
    (e) => (e as Error).message,
  );
  assert.match(expected, /ballots\[17\]/);
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const chunk of (await openBallotBoxStream(election, open(badBytes))).chunks(8)) {
      seen.push(chunk.length);
    }
  }, (error) => error instanceof InvalidInputError && error.message === expected);
  assert.deepEqual(seen, [8, 8]);
  await assert.rejects(async () => {
    const cut = bytes.subarray(0, bytes.length - 50);
    for await (const _ of (await openBallotBoxStream(election, open(cut))).chunks()) { /* */ }
  }, /'ballot box\.ballots\[39\]' is truncated msgpack/);
});

Deno.test("ballot box stream for appends: written from chunks, its layout, bytes after it reported", async () => {
  for (const n of [0, 3, 20, 40]) {
    const expected = encodeMsgpack(ballotBoxToEnvelope(election, ballots.slice(0, n)));
    const parts: Uint8Array[] = [];
    const chunks = {
      count: n,
      async *chunks() {
        for (let lo = 0; lo < n; lo += 7) yield ballots.slice(lo, Math.min(n, lo + 7));
      },
    };
    const bytes = await writeBallotBoxStream(
      election,
      chunks,
      new WritableStream({ write: (c) => void parts.push(c.slice()) }),
    );
    assert.deepEqual(concat(parts), expected);
    assert.equal(bytes, expected.length);
    // Head, array header and ballots: where a writer that appends needs them.
    const head = ballotBoxHead(election);
    assert.deepEqual(expected.subarray(0, head.length), head);
    const header = msgpackArrayHeader(n);
    const seen: string[] = [];
    const layout = await scanBallotBoxStream(election, streamInPieces(expected, 61), (run) => {
      for (const b of run) seen.push(b.credential);
    }, 4);
    assert.deepEqual(seen, ballots.slice(0, n).map((b) => b.credential));
    assert.deepEqual(layout, {
      count: n,
      arrayOffset: head.length,
      ballotsOffset: head.length + header.length,
      ballotsEnd: expected.length,
      last: true,
      end: expected.length,
      trailing: false,
    });
    const torn = joinBytes([expected, new Uint8Array([0x82, 0xa1, 0x76])]);
    assert.equal(
      (await scanBallotBoxStream(election, streamInPieces(torn, 61), () => {})).trailing,
      true,
    );
    await assert.rejects(
      readBallotBoxStream(election, streamInPieces(torn, 61)),
      new InvalidInputError(
        `Ballot box has bytes after its ${n} ballots (from byte ${expected.length} on): the ` +
          "unfinished append of an interrupted or still running 'vote submit', no ballot of " +
          "which was accepted yet; re-run when no 'vote submit' to this box is running (the " +
          `next one drops them; or truncate the file to ${expected.length} bytes then)`,
      ),
    );
  }
  // A box whose ballots are not its last entry (written by another encoder) says so.
  const other = encodeMsgpack({
    v: 1,
    kind: "vote.ballot-box",
    election: fingerprint,
    ballots: ballots.slice(0, 2).map(electionBallotToEnvelope),
    note: "written elsewhere",
  });
  const layout = await scanBallotBoxStream(election, streamInPieces(other, 50), () => {});
  assert.equal(layout.last, false);
  assert.equal(layout.count, 2);
});
