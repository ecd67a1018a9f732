import { streamInPieces } from "../../core/byte_stream_test_support.ts";
import { joinBytes } from "../../core/bytes.ts";
import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { decodeMsgpack, encodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { encryptElectionBallot } from "./ballot.ts";
import { createElectionDefinition } from "./definition.ts";
import { runLocalElection } from "./election.ts";
import {
  type ElectionTranscript,
  electionTranscriptChunks,
  electionTranscriptFromEnvelope,
  electionTranscriptToEnvelope,
  writeElectionTranscript,
} from "./election_transcript.ts";
import { simulateElectionBallots } from "./simulate.ts";
import { readElectionTranscriptStream } from "./transcript_stream.ts";
import { verifyElection } from "./verify.ts";

/** The pieces of a chunked encoding joined. */
function concat(parts: Iterable<Uint8Array>): Uint8Array {
  return joinBytes([...parts]);
}

/** Byte equality (msgpackr tags a buffer it decoded with a `dataView` property). */
function sameBytes(a: Uint8Array, b: Uint8Array, what: string) {
  assert.equal(a.length, b.length, what);
  assert.ok(a.every((x, i) => x === b[i]), what);
}

/** Small elections covering every shape of the format. */
async function elections(): Promise<Record<string, ElectionTranscript>> {
  const out: Record<string, ElectionTranscript> = {};
  {
    // Three question types (ranked included), 3 mixers, 2-of-3 trustees.
    const definition = createElectionDefinition({
      id: "stream-ranked",
      trustees: 3,
      threshold: 2,
      mixers: 3,
      questions: [
        { text: "Chair", choices: ["Ann", "Bob", "Cid"] },
        { text: "Board", choices: ["p", "q", "r", "s"], type: "multiple", min: 0, max: 2 },
        { text: "Order", choices: ["x", "y", "z"], type: "ranked", min: 1, max: 3 },
      ],
    });
    const random = seededRandom("stream-ranked");
    out.ranked = (await runLocalElection(definition, {
      random,
      workers: 1,
      receipts: false,
      ballots: (e) => simulateElectionBallots(e, { count: 20, random }).ballots,
    })).transcript;
  }
  {
    // Width 2 (two elements per ballot).
    const choices = (p: string) => Array.from({ length: 150 }, (_, i) => `${p}${i}`);
    const definition = createElectionDefinition({
      id: "stream-wide",
      trustees: 3,
      threshold: 2,
      mixers: 2,
      questions: [
        { text: "P", choices: choices("p"), type: "multiple", min: 0, max: 3 },
        { text: "Q", choices: choices("q"), type: "multiple", min: 0, max: 3 },
      ],
    });
    const random = seededRandom("stream-wide");
    out.wide = (await runLocalElection(definition, {
      random,
      workers: 1,
      receipts: false,
      decryptingTrustees: [2, 3],
      ballots: (e) => simulateElectionBallots(e, { count: 5, random }).ballots,
    })).transcript;
    assert.equal(out.wide.mixInput[0]!.width, 2);
  }
  {
    // A superseded ballot (re-voting "last").
    const definition = createElectionDefinition({
      id: "stream-revote",
      trustees: 1,
      mixers: 1,
      revote: "last",
      questions: [{ text: "Q", choices: ["a", "b"] }],
    });
    const random = seededRandom("stream-revote");
    out.revote = (await runLocalElection(definition, {
      random,
      workers: 1,
      ballots: (e) => [
        encryptElectionBallot(e, { credential: "v1", answers: [[0]], random }),
        encryptElectionBallot(e, { credential: "v2", answers: [[1]], random }),
        encryptElectionBallot(e, { credential: "v1", answers: [[1]], random }),
      ],
    })).transcript;
    assert.equal(out.revote.ballots.length, 3);
    assert.equal(out.revote.mixInput.length, 2);
  }
  {
    // Trustees' signatures on ceremony posts and decryption shares.
    const identities = [1, 2, 3].map((i) =>
      ed25519.utils.randomSecretKey(new Uint8Array(32).fill(i))
    );
    const definition = createElectionDefinition({
      id: "stream-signed",
      trustees: 3,
      threshold: 2,
      mixers: 1,
      questions: [{ text: "Q", choices: ["a", "b"] }],
      trusteeKeys: identities.map((s) => ed25519.getPublicKey(s)),
    });
    const random = seededRandom("stream-signed");
    out.signed = (await runLocalElection(definition, {
      random,
      workers: 1,
      receipts: false,
      trusteeIdentities: identities,
      ballots: (e) => simulateElectionBallots(e, { count: 4, random }).ballots,
    })).transcript;
    assert.ok(out.signed.decryption.every((d) => d.signature !== undefined));
  }
  return out;
}

const transcripts = elections();

Deno.test("transcript stream: the chunked writer gives exactly today's msgpack encoding", async () => {
  for (const [name, t] of Object.entries(await transcripts)) {
    const expected = encodeMsgpack(electionTranscriptToEnvelope(t));
    for (const chunkBytes of [64, 1000, 1 << 20]) {
      const chunks = [...electionTranscriptChunks(t, { chunkBytes })];
      assert.deepEqual(concat(chunks), expected, `${name}, chunkBytes ${chunkBytes}`);
      if (chunkBytes === 1000) assert.ok(chunks.length > expected.length / 1000, name);
    }
    const written: Uint8Array[] = [];
    const n = await writeElectionTranscript(
      t,
      new WritableStream({ write: (c) => void written.push(c.slice()) }),
    );
    assert.equal(n, expected.length);
    assert.deepEqual(concat(written), expected, name);
  }
});

Deno.test("transcript stream: the chunked reader gives the whole-value decoder's transcript", async () => {
  for (const [name, t] of Object.entries(await transcripts)) {
    const bytes = encodeMsgpack(electionTranscriptToEnvelope(t));
    const whole = electionTranscriptFromEnvelope(decodeMsgpack(bytes, "t"), "t");
    for (const [piece, chunkBytes] of [[13, 128], [4096, 1000], [1 << 20, 1 << 20]] as const) {
      const read = await readElectionTranscriptStream(streamInPieces(bytes, piece), "t", {
        chunkBytes,
      });
      sameBytes(
        encodeMsgpack(electionTranscriptToEnvelope(read)),
        bytes,
        `${name}: ${piece}/${chunkBytes}`,
      );
      assert.deepEqual(read.tally, whole.tally);
      assert.deepEqual(read.answers, whole.answers);
      assert.equal(read.ballots[0]!.credential, whole.ballots[0]!.credential);
    }
  }
  // What was read verifies (signatures and width 2 included).
  const t = await transcripts;
  for (const name of ["wide", "signed", "revote"]) {
    const bytes = encodeMsgpack(electionTranscriptToEnvelope(t[name]!));
    const read = await readElectionTranscriptStream(streamInPieces(bytes, 500), name);
    await verifyElection(read, { workers: 1 });
  }
});

Deno.test("transcript stream: the reader shares what is equal (fingerprint, mix input, answers)", async () => {
  const t = await transcripts;
  const ranked = await readElectionTranscriptStream(
    streamInPieces(encodeMsgpack(electionTranscriptToEnvelope(t.ranked!)), 999),
    "t",
  );
  assert.ok(ranked.ballots.every((b) => b.election === ranked.fingerprint));
  assert.ok(ranked.mixInput.every((c, i) => c === ranked.ballots[i]!.ciphertext));
  const first = new Map<string, unknown>();
  for (const a of ranked.answers) {
    const key = JSON.stringify(a);
    if (!first.has(key)) first.set(key, a);
    assert.equal(a, first.get(key));
    assert.ok(Object.isFrozen(a) && a!.every((q) => Object.isFrozen(q)));
  }
  assert.ok(first.size < ranked.answers.length);
  // Re-voting: the superseded first ballot is skipped, the counted ones are shared.
  const revote = await readElectionTranscriptStream(
    streamInPieces(encodeMsgpack(electionTranscriptToEnvelope(t.revote!)), 999),
    "t",
  );
  assert.equal(revote.mixInput[0], revote.ballots[1]!.ciphertext);
  assert.equal(revote.mixInput[1], revote.ballots[2]!.ciphertext);
  // A mix input that is no counted ballot's ciphertext is read as it is, and refused.
  const env = decodeMsgpack(encodeMsgpack(electionTranscriptToEnvelope(t.revote!)), "t") as {
    mixInput: Uint8Array[];
  };
  env.mixInput[1] = env.mixInput[0]!;
  const tampered = await readElectionTranscriptStream(streamInPieces(encodeMsgpack(env), 999), "t");
  assert.equal(tampered.mixInput[0], tampered.ballots[1]!.ciphertext);
  assert.notEqual(tampered.mixInput[1], tampered.ballots[2]!.ciphertext);
  await assert.rejects(
    verifyElection(tampered, { workers: 1 }),
    /Cleansing: mix input 2 is not the ciphertext of counted ballot 2/,
  );
});

async function bothReject(env: Envelope, pattern: RegExp) {
  const bytes = encodeMsgpack(env);
  let wholeMessage = "";
  try {
    electionTranscriptFromEnvelope(decodeMsgpack(bytes, "t"), "t");
  } catch (error) {
    wholeMessage = (error as Error).message;
  }
  assert.match(wholeMessage, pattern);
  await assert.rejects(
    readElectionTranscriptStream(streamInPieces(bytes, 333), "t", { chunkBytes: 512 }),
    (error) => {
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.message, wholeMessage);
      return true;
    },
  );
}

Deno.test("transcript stream: a malformed field gets the whole-value decoder's one-line error", async () => {
  const t = (await transcripts).ranked!;
  // A fresh copy each time (the envelope shares the transcript's arrays).
  const env = () =>
    decodeMsgpack(encodeMsgpack(electionTranscriptToEnvelope(t)), "t") as
      & Envelope
      & Record<string, unknown>;
  const a = env();
  (a.mixInput as Uint8Array[])[7] = new Uint8Array(63);
  await bothReject(a, /^Value 't\.mixInput\[7\]' must be 64 bytes, got 63$/);
  const b = env();
  (b.plaintexts as Uint8Array[])[3] = new Uint8Array(31);
  await bothReject(b, /^Value 't\.plaintexts\[3\]' must be 32 bytes/);
  const c = env();
  const mix = (c.mixes as Record<string, unknown>[])[1]!;
  (mix.outputs as unknown[])[19] = "not bytes!";
  await bothReject(c, /'t\.mixes\[1\]\.outputs\[19\]'/);
  const d = env();
  const dec = (d.decryption as Record<string, unknown>[])[1]!;
  (dec.shares as Uint8Array[])[0] = new Uint8Array(5);
  await bothReject(d, /^Value 't\.decryption\[1\]\.shares\[0\]' must be 32 bytes/);
  const e = env();
  (e.ballots as Record<string, unknown>[])[4]!.credential = 12;
  await bothReject(e, /'t\.ballots\[4\]\.credential'/);
  const f = env();
  (f.answers as unknown[])[2] = [["x"]];
  await bothReject(f, /'t\.answers\[2\]\[0\]\[0\]'/);
  const g = env();
  g.v = 3;
  await bothReject(g, /version/);
  const h = env();
  (h.mixes as Record<string, Record<string, unknown>>[])[0]!.proof!.chainResponses = new Uint8Array(
    8,
  );
  await bothReject(h, /'t\.mixes\[0\]\.proof\.chainResponses'/);
});

Deno.test("transcript stream: truncated files and trailing bytes are refused, naming where", async () => {
  const t = (await transcripts).ranked!;
  const bytes = encodeMsgpack(electionTranscriptToEnvelope(t));
  const seen = new Set<string>();
  for (
    const keep of [1, 40, 3000, 9000, bytes.length * 0.5, bytes.length * 0.8, bytes.length - 1]
  ) {
    const cut = bytes.subarray(0, Math.floor(keep));
    await assert.rejects(
      readElectionTranscriptStream(streamInPieces(cut, 700), "t.msgpack", { chunkBytes: 1024 }),
      (error) => {
        assert.ok(error instanceof InvalidInputError, String(error));
        assert.match(error.message, /^Value 't\.msgpack[^']*' is truncated msgpack/);
        seen.add(/'t\.msgpack\.?([a-zA-Z]*)/.exec(error.message)![1]!);
        return true;
      },
    );
  }
  // The cuts land in different fields, and each is named.
  assert.ok(seen.size >= 4, [...seen].join());
  const trailing = concat([bytes, Uint8Array.of(0)]);
  await assert.rejects(
    readElectionTranscriptStream(streamInPieces(trailing, 4096), "t.msgpack"),
    /Input 't\.msgpack' has trailing bytes after its value$/,
  );
  await assert.rejects(
    readElectionTranscriptStream(streamInPieces(encodeMsgpack([1, 2]), 4096), "t.msgpack"),
    /'t\.msgpack' must be a record, got/,
  );
});
