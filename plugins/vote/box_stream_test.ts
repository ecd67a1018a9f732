import { streamInPieces } from "../../core/byte_stream_test_support.ts";
import { joinBytes } from "../../core/bytes.ts";
import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { ballotBoxFromEnvelope, ballotBoxToEnvelope } from "./ballot_box.ts";
import { ballotBoxChunks, openBallotBoxStream, readBallotBoxStream } from "./box_stream.ts";
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
