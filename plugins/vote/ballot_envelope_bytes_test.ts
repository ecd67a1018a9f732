// Ballot envelopes as bytes without objects (issue 17): the transcoder gives exactly
// encodeMsgpack(electionBallotToEnvelope(b)) for every ballot a store holds, and the byte
// checker accepts only envelopes the decoder accepts.
import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { joinBytes } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { GROUP_ORDER } from "../../backends/reencrypt/mod.ts";
import { type ElectionBallot, electionBallotToEnvelope, encryptElectionBallot } from "./ballot.ts";
import { checkedBallotEnvelope, storedBallotEnvelopes } from "./ballot_envelope_bytes.ts";
import { encodedBallotChunk, encodeStoredBallots } from "./ballot_store.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import { readTranscriptBallot } from "./election_transcript.ts";

/** An election of width 1 (bin 8 ciphertexts) or 5 (bin 16). */
function electionOf(width: 1 | 5) {
  const definition = createElectionDefinition({
    id: `envelope-bytes-${width}`,
    trustees: 1,
    mixers: 1,
    questions: width === 1
      ? [
        { text: "Q", choices: ["a", "b", "c"] },
        { text: "R", choices: ["x", "y"], type: "multiple", min: 0, max: 2 },
      ]
      : ["p", "q", "r", "s", "t"].map((p) => ({
        text: p,
        choices: Array.from({ length: 150 }, (_, i) => `${p}${i}`),
        type: "multiple" as const,
        min: 0,
        max: 3,
      })),
  });
  const fingerprint = electionFingerprint(definition);
  const { key } = runLocalKeyCeremony({ definition, fingerprint }, {
    random: seededRandom("envelope-bytes"),
  });
  return { definition, fingerprint, publicKey: key.publicKey };
}
const election = electionOf(1);
const { fingerprint } = election;
const wide = electionOf(5);
const random = seededRandom("envelope-bytes-ballots");

/**
 * Credentials that take every header and every path: short (fixstr), 32 to 255 bytes (str 8),
 * 256 bytes (str 16), non-ASCII (two-, three- and four-byte UTF-8).
 */
const CREDENTIALS = [
  "v1",
  "voter-0123456789012345678901234", // 31 bytes
  "voter-01234567890123456789012345", // 32 bytes
  "x".repeat(255),
  "y".repeat(256),
  "électrice-ü",
  "投票者-7",
  "votant 🗳️",
  "a b~c", // spaces and tilde: printable ASCII
];

const ballots: ElectionBallot[] = CREDENTIALS.map((credential, i) =>
  encryptElectionBallot(election, {
    credential,
    answers: [[i % 3], i % 2 === 0 ? [] : [0, 1]], // blank where allowed, and not
    random,
  })
);
const wideBallots = CREDENTIALS.slice(4, 7).map((credential, i) =>
  encryptElectionBallot(wide, {
    credential,
    answers: [[i], [], [1, 2, 3], [149], [i + 7, 0]],
    random,
  })
);
// Proofs whose responses are near the group order (ℓ − 1, 2²⁵²): the object path, canonical.
const high = (b: ElectionBallot, z: bigint): ElectionBallot => ({
  ...b,
  proof: { ...b.proof, responses: b.proof.responses.map(() => z) },
});
ballots.push(high(ballots[0]!, GROUP_ORDER - 1n), high(ballots[5]!, 1n << 252n));

const expected = (list: readonly ElectionBallot[]) =>
  joinBytes(list.map((b) => encodeMsgpack(electionBallotToEnvelope(b))));

Deno.test("storedBallotEnvelopes: the bytes of encodeMsgpack(electionBallotToEnvelope(b)) for every stored ballot", () => {
  const chunk = encodedBallotChunk(encodeStoredBallots(ballots), "ballots");
  const run = storedBallotEnvelopes(chunk, fingerprint);
  assert.equal(run.count, ballots.length);
  assert.deepEqual(run.bytes, expected(ballots));
  // Width 5: bin 16 headers.
  assert.equal(wideBallots[0]!.ciphertext.width, 5);
  const wideChunk = encodedBallotChunk(encodeStoredBallots(wideBallots), "wide");
  assert.deepEqual(storedBallotEnvelopes(wideChunk, wide.fingerprint).bytes, expected(wideBallots));
  // A chunk that is a part of a bigger buffer (its offsets from where its records start).
  const inner = encodedBallotChunk(encodeStoredBallots(ballots), "ballots");
  const padded = joinBytes([new Uint8Array(1000).fill(7), inner.bytes, new Uint8Array(9).fill(8)]);
  const shifted = { bytes: padded, offsets: inner.offsets.map((o) => o + 1000) };
  assert.deepEqual(storedBallotEnvelopes(shifted, fingerprint).bytes, expected(ballots));
  // The empty chunk.
  const empty = storedBallotEnvelopes(encodedBallotChunk(new Uint8Array(0), "none"), fingerprint);
  assert.equal(empty.count, 0);
  assert.equal(empty.bytes.length, 0);
});

Deno.test("storedBallotEnvelopes: a corrupt record gets the store's error, not bytes", () => {
  const bytes = encodeStoredBallots(ballots.slice(0, 2));
  // The first record's credential length says one byte more: its ciphertext no longer fits.
  const bad = bytes.slice();
  bad[5]! += 1;
  const chunk = { bytes: bad, offsets: encodedBallotChunk(bytes, "b").offsets };
  assert.throws(
    () => storedBallotEnvelopes(chunk, fingerprint),
    (e) =>
      e instanceof InvalidInputError && /^Stored ballot of \d+ bytes is malformed$/.test(e.message),
  );
  // A credential that is not UTF-8.
  const at = 6 + 0; // the first byte of the first credential ("v1")
  const notUtf8 = bytes.slice();
  notUtf8[at] = 0xff;
  assert.throws(
    () => storedBallotEnvelopes({ ...chunk, bytes: notUtf8 }, fingerprint),
    (e) => e instanceof InvalidInputError && /not UTF-8/.test(e.message),
  );
});

/** The decoder's verdict on envelope bytes: the ballot's width, or its error. */
function decoded(bytes: Uint8Array): number | string {
  try {
    return readTranscriptBallot(decodeMsgpack(bytes, "b"), "b").ciphertext.width;
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, String(error));
    return error.message;
  }
}

Deno.test("checkedBallotEnvelope: accepts the writer's envelopes the decoder accepts, defers the rest", () => {
  for (const b of [...ballots, ...wideBallots]) {
    const w = b.ciphertext.width;
    const bytes = encodeMsgpack(electionBallotToEnvelope(b));
    const width = checkedBallotEnvelope(bytes, 0, bytes.length);
    const ascii = /^[\x20-\x7e]+$/.test(b.credential);
    const small = b.proof.responses.every((z) => z < 1n << 252n);
    assert.equal(width, ascii && small ? w : 0, b.credential.slice(0, 20));
    assert.equal(decoded(bytes), w);
    // Inside a bigger buffer, at an offset.
    const padded = joinBytes([Uint8Array.of(1, 2, 3), bytes, Uint8Array.of(4)]);
    assert.equal(checkedBallotEnvelope(padded, 3, 3 + bytes.length), width);
  }
  // Another layout of a valid ballot (keys in another order): decoded, valid.
  const env = electionBallotToEnvelope(ballots[0]!);
  const reordered = encodeMsgpack({ proof: env.proof, ...env });
  assert.equal(checkedBallotEnvelope(reordered, 0, reordered.length), 0);
  assert.equal(decoded(reordered), 1);
});

Deno.test("checkedBallotEnvelope: a changed byte anywhere is accepted only if the decoder accepts it", () => {
  const bytes = encodeMsgpack(electionBallotToEnvelope(ballots[1]!));
  const values = [0x00, 0x1f, 0x7f, 0x80, 0xc4, 0xc5, 0xd9, 0x10, 0x0f, 0xff];
  let accepted = 0, refused = 0;
  for (let i = 0; i < bytes.length; i++) {
    for (const v of [...values, bytes[i]! ^ 1]) {
      if (v === bytes[i]) continue;
      const bad = bytes.slice();
      bad[i] = v;
      const width = checkedBallotEnvelope(bad, 0, bad.length);
      let verdict: number | string;
      try {
        verdict = decoded(bad);
      } catch {
        verdict = "not msgpack";
      }
      if (width > 0) {
        assert.equal(verdict, width, `byte ${i} = ${v}`);
        accepted++;
      } else if (typeof verdict === "string") refused++;
    }
  }
  // Bytes of the fingerprint, ciphertext and commitments may change freely (the points are
  // checked by the verifier); headers, keys, credential bytes and high scalar bytes may not.
  assert.ok(accepted > 1000 && refused > 100, `${accepted} ${refused}`);
  // A response equal to ℓ: not canonical, refused by the decoder, never accepted from bytes.
  const env = electionBallotToEnvelope(ballots[0]!);
  const proof = (env.proof as Uint8Array).slice();
  const order = new Uint8Array(32);
  let l = GROUP_ORDER;
  for (let k = 0; k < 32; k++, l >>= 8n) order[k] = Number(l & 0xffn);
  proof.set(order, proof.length - 32);
  const nonCanonical = encodeMsgpack({ ...env, proof });
  assert.equal(checkedBallotEnvelope(nonCanonical, 0, nonCanonical.length), 0);
  assert.match(String(decoded(nonCanonical)), /not canonical/);
});
