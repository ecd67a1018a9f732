import assert from "node:assert/strict";
import { joinBytes } from "../../core/bytes.ts";
import { encodeMsgpack, toJsonView } from "../../core/envelope.ts";
import { InvalidInputError, NotFoundError } from "../../core/errors.ts";
import { allRecords, type RecordSource } from "../../core/records.ts";
import { seededRandom } from "../../core/random.ts";
import { GROUP_ORDER, SHUFFLE_PROOF_LISTS } from "../../backends/reencrypt/mod.ts";
import { electionBallotToEnvelope } from "../../plugins/vote/ballot.ts";
import {
  ballotStoreChunks,
  EncodedBallotStore,
  hasEncodedChunks,
  memoryByteLog,
} from "../../plugins/vote/ballot_store.ts";
import { electionBallotLayout } from "../../plugins/vote/answers.ts";
import { createElectionDefinition } from "../../plugins/vote/definition.ts";
import { runLocalElection } from "../../plugins/vote/election.ts";
import {
  type ElectionTranscriptRecords,
  electionTranscriptRecords,
} from "../../plugins/vote/election_records.ts";
import {
  type ElectionTranscript,
  electionTranscriptToEnvelope,
  writeElectionTranscript,
  writeElectionTranscriptRecords,
} from "../../plugins/vote/election_transcript.ts";
import { simulateElectionBallots } from "../../plugins/vote/simulate.ts";
import { readElectionTranscriptStream } from "../../plugins/vote/transcript_stream.ts";
import { RecordFile, Spool } from "../record_file.ts";
import { openElectionTranscriptFile } from "./transcript_file.ts";

/** Two small elections: width 1 (3 mixers, 2-of-3) and width 5 (ciphertexts framed `bin 16`). */
async function elections(): Promise<Record<string, ElectionTranscript>> {
  const narrow = createElectionDefinition({
    id: "file-narrow",
    trustees: 3,
    threshold: 2,
    mixers: 3,
    questions: [
      { text: "Chair", choices: ["Ann", "Bob", "Cid"] },
      { text: "Order", choices: ["x", "y", "z"], type: "ranked", min: 1, max: 3 },
    ],
  });
  const choices = (p: string) => Array.from({ length: 150 }, (_, i) => `${p}${i}`);
  const wide = createElectionDefinition({
    id: "file-wide",
    trustees: 3,
    threshold: 2,
    mixers: 2,
    questions: ["p", "q", "r", "s", "t"].map((p) => ({
      text: p,
      choices: choices(p),
      type: "multiple" as const,
      min: 0,
      max: 3,
    })),
  });
  assert.equal(electionBallotLayout(narrow).elements.length, 1);
  assert.equal(electionBallotLayout(wide).elements.length, 5);
  const out: Record<string, ElectionTranscript> = {};
  for (const [name, definition, count] of [["narrow", narrow, 24], ["wide", wide, 6]] as const) {
    const random = seededRandom(`transcript-file-${name}`);
    out[name] = (await runLocalElection(definition, {
      random,
      workers: 1,
      receipts: false,
      decryptingTrustees: [1, 3],
      ballots: (e) => simulateElectionBallots(e, { count, random }).ballots,
    })).transcript;
  }
  assert.equal(out.wide!.mixInput[0]!.width, 5);
  return out;
}

const transcripts = elections();

/** What a writer writes, joined. */
async function written(
  write: (writable: WritableStream<Uint8Array>) => Promise<number>,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const n = await write(new WritableStream({ write: (c) => void parts.push(c.slice()) }));
  const bytes = joinBytes(parts);
  assert.equal(n, bytes.length);
  return bytes;
}

/** A record list copied into a spool file. */
function spooled(spool: Spool, name: string, source: RecordSource): RecordSource {
  const sink = spool.sinks(name, source.count, source.recordBytes);
  for (let lo = 0; lo < source.count; lo += 7) {
    sink.write(lo, source.read(lo, Math.min(source.count, lo + 7)));
  }
  return sink.finish();
}

/** The transcript's record lists moved into spool files. */
function spooledTranscript(spool: Spool, t: ElectionTranscriptRecords): ElectionTranscriptRecords {
  return {
    ...t,
    mixInput: spooled(spool, "mixInput", t.mixInput),
    mixes: t.mixes.map((m) => ({
      ...m,
      outputs: spooled(spool, "outputs", m.outputs),
      proof: {
        ...m.proof,
        ...Object.fromEntries(SHUFFLE_PROOF_LISTS.map((k) => [k, spooled(spool, k, m.proof[k])])),
      } as typeof m.proof,
    })),
    decryption: t.decryption.map((d) => ({ ...d, shares: spooled(spool, "shares", d.shares) })),
    plaintexts: spooled(spool, "plaintexts", t.plaintexts),
  };
}

async function withFile<T>(bytes: Uint8Array, f: (path: string) => Promise<T>): Promise<T> {
  const path = await Deno.makeTempFile({ prefix: "panoramix-transcript-test-" });
  try {
    await Deno.writeFile(path, bytes);
    return await f(path);
  } finally {
    await Deno.remove(path);
  }
}

/** The message each reader gives for a file (the in-memory stream reader, the file opener). */
async function messages(bytes: Uint8Array): Promise<[string, string]> {
  const message = async (f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (error) {
      assert.ok(error instanceof InvalidInputError, String(error));
      return error.message;
    }
    return "accepted";
  };
  return await withFile(bytes, async (path) => [
    await message(async () =>
      readElectionTranscriptStream((await Deno.open(path)).readable, "t", { chunkBytes: 700 })
    ),
    await message(async () => {
      const before = openFiles();
      try {
        const opened = await openElectionTranscriptFile(path, { what: "t", chunkBytes: 700 });
        opened.close();
      } finally {
        // Refused or not, no handle is left open.
        assert.equal(openFiles(), before);
      }
    }),
  ]);
}

/**
 * Descriptors this process holds open on the test's transcript files (Linux), listed by
 * `ls -l` (Deno lets only --allow-all read /proc/PID/fd itself; the test task grants
 * --allow-run): only links to "panoramix-transcript-test-" files count, so the pipes of the
 * listing and the workers' files do not.
 */
function openFiles(): number {
  const out = new Deno.Command("ls", { args: ["-l", `/proc/${Deno.pid}/fd`] }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((line) => line.includes("panoramix-transcript-test-")).length;
}

/** Where `needle` first occurs in `bytes` after the key "mixInput" (-1 if nowhere). */
function find(bytes: Uint8Array, needle: Uint8Array): number {
  const from = findFrom(bytes, encodeMsgpack("mixInput"), 0);
  assert.ok(from > 0);
  return findFrom(bytes, needle, from);
}

function findFrom(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("transcript records: the record writer writes the array writer's bytes, from memory and from spool files", async () => {
  for (const [name, t] of Object.entries(await transcripts)) {
    const width = t.mixInput[0]!.width;
    const expected = encodeMsgpack(electionTranscriptToEnvelope(t));
    assert.deepEqual(await written((w) => writeElectionTranscript(t, w)), expected, name);
    const records = electionTranscriptRecords(t);
    assert.deepEqual(
      await written((w) => writeElectionTranscriptRecords(records, w)),
      expected,
      name,
    );
    const spool = await Spool.create();
    try {
      const files = spooledTranscript(spool, records);
      assert.ok(files.mixInput instanceof RecordFile);
      assert.deepEqual(
        await written((w) => writeElectionTranscriptRecords(files, w)),
        expected,
        `${name}, spool`,
      );
    } finally {
      spool.close();
    }
    // An in-memory item of another size is refused, naming it.
    const plaintexts = [...t.plaintexts];
    plaintexts[3] = plaintexts[3]!.subarray(1);
    await assert.rejects(
      written((w) => writeElectionTranscript({ ...t, plaintexts }, w)),
      (e) =>
        e instanceof InvalidInputError &&
        e.message === `Record 3 of a list of ${32 * width}-byte records is ${32 * width - 1} bytes`,
    );
    // A list shorter than it says is refused, not written short.
    await assert.rejects(
      written((w) =>
        writeElectionTranscriptRecords({
          ...records,
          answers: { count: records.answers.count + 1, chunks: records.answers.chunks },
        }, w)
      ),
      /yielded/,
    );
  }
});

Deno.test("transcript file: opened in place, it writes back the same bytes; its items read twice", async () => {
  for (const [name, t] of Object.entries(await transcripts)) {
    const width = t.mixInput[0]!.width;
    const bytes = encodeMsgpack(electionTranscriptToEnvelope(t));
    await withFile(bytes, async (path) => {
      for (const chunkBytes of [512, 1 << 20]) {
        const opened = await openElectionTranscriptFile(path, { chunkBytes });
        try {
          const r = opened.transcript;
          // Fixed-size lists are regions of the file, framed bin 8 (or bin 16 from width 4).
          const lists = [
            r.mixInput,
            r.plaintexts,
            ...r.mixes.flatMap((m) => [m.outputs, ...SHUFFLE_PROOF_LISTS.map((k) => m.proof[k])]),
            ...r.decryption.map((d) => d.shares),
          ];
          assert.ok(lists.every((l) => l instanceof RecordFile), name);
          assert.equal(r.mixInput.recordBytes, 64 * width);
          assert.equal(r.plaintexts.recordBytes, 32 * width);
          assert.deepEqual(allRecords(r.mixInput), joinBytes(t.mixInput.map((c) => c.bytes)));
          assert.deepEqual(
            r.mixes[1]!.outputs.gather([3, 0]),
            joinBytes([t.mixes[1]!.outputs[3]!.bytes, t.mixes[1]!.outputs[0]!.bytes]),
          );
          assert.deepEqual(allRecords(r.decryption[1]!.shares), joinBytes(t.decryption[1]!.shares));
          assert.deepEqual(
            allRecords(r.mixes[0]!.proof.chainResponses),
            t.mixes[0]!.proof.chainResponses,
          );
          assert.deepEqual(r.tally, t.tally);
          // Written back: the same bytes.
          assert.deepEqual(
            await written((w) => writeElectionTranscriptRecords(r, w)),
            bytes,
            `${name}, ${chunkBytes}`,
          );
          // Ballots and answers are read again from the file on every call, in any chunk size.
          for (const size of [5, 4096]) {
            const ballots = [];
            for await (const chunk of r.ballots.chunks(size)) {
              assert.ok(chunk.length <= size);
              ballots.push(...chunk);
            }
            assert.equal(ballots.length, t.ballots.length);
            assert.ok(ballots.every((b, i) => b.credential === t.ballots[i]!.credential));
            assert.ok(ballots.every((b) => b.election === r.fingerprint));
            const answers = [];
            for await (const chunk of r.answers.chunks(size)) answers.push(...chunk);
            assert.deepEqual(answers, t.answers);
          }
          // Stopping early closes the handle it opened, and a later read starts again.
          const before = openFiles();
          for await (const chunk of r.ballots.chunks(2)) {
            assert.equal(chunk.length, 2);
            assert.equal(openFiles(), before + 1);
            break;
          }
          assert.equal(openFiles(), before);
          let again = 0;
          for await (const chunk of r.ballots.chunks()) again += chunk.length;
          assert.equal(again, t.ballots.length);
        } finally {
          opened.close();
        }
      }
    });
  }
});

Deno.test("transcript file: a bad length byte inside a list gets the stream reader's named error", async () => {
  const t = await transcripts;
  const cases: [string, Uint8Array, RegExp][] = [
    ["narrow", t.narrow!.mixInput[7]!.bytes, /^Value 't\.mixInput\[7\]' must be 64 bytes, got 63$/],
    [
      "narrow",
      t.narrow!.mixes[1]!.outputs[19]!.bytes,
      /^Value 't\.mixes\[1\]\.outputs\[19\]' must be 64 bytes, got 63$/,
    ],
    [
      "narrow",
      t.narrow!.decryption[1]!.shares[2]!,
      /^Value 't\.decryption\[1\]\.shares\[2\]' must be 32 bytes, got 31$/,
    ],
    ["narrow", t.narrow!.plaintexts[3]!, /^Value 't\.plaintexts\[3\]' must be 32 bytes, got 31$/],
    // bin 16: the low byte of the length.
    ["wide", t.wide!.mixInput[2]!.bytes, /^Value 't\.mixInput\[2\]' must be 320 bytes, got 319$/],
    [
      "wide",
      t.wide!.mixes[0]!.outputs[4]!.bytes,
      /^Value 't\.mixes\[0\]\.outputs\[4\]' must be 320 bytes, got 319$/,
    ],
    ["wide", t.wide!.plaintexts[1]!, /^Value 't\.plaintexts\[1\]' must be 160 bytes, got 159$/],
    // A proof list (one byte string of 32·N bytes, bin 16): what follows is read as a key.
    [
      "narrow",
      t.narrow!.mixes[2]!.proof.chainResponses,
      /^Value 't\.mixes\[2\]\.proof' has a key that is not a field name$/,
    ],
  ];
  for (const [name, item, pattern] of cases) {
    const bytes = encodeMsgpack(electionTranscriptToEnvelope(t[name]!));
    const at = find(bytes, item);
    assert.ok(at > 0);
    // One byte less in the bin 8 or bin 16 header.
    const bad = bytes.slice();
    if (bad[at - 2] === 0xc4) bad[at - 1]! -= 1;
    else {
      assert.equal(bad[at - 3], 0xc5);
      const length = ((bad[at - 2]! << 8) | bad[at - 1]!) - 1;
      bad.set([length >> 8, length & 0xff], at - 2);
    }
    const [stream, file] = await messages(bad);
    assert.match(stream, pattern);
    assert.equal(file, stream);
  }
  // A proof list of another type: the whole-value decoder's message.
  const env = electionTranscriptToEnvelope(t.narrow!);
  const mixes = (env.mixes as Record<string, unknown>[]).map((m) => ({
    ...m,
    proof: { ...(m.proof as Record<string, unknown>) },
  }));
  mixes[1]!.proof.permutationResponses = 5;
  const [stream, file] = await messages(encodeMsgpack({ ...env, mixes }));
  assert.match(stream, /^Value 't\.mixes\[1\]\.proof\.permutationResponses' must be bytes/);
  assert.equal(file, stream);
  // A proof whose lists are not the size its count says.
  mixes[1]!.proof = { ...(env.mixes as Record<string, unknown>[])[1]!.proof as object };
  mixes[0]!.proof.count = 25;
  const [stream2, file2] = await messages(encodeMsgpack({ ...env, mixes }));
  assert.equal(
    stream2,
    "Value 't.mixes[0].proof.permutationCommitments' must be 800 bytes, got 768",
  );
  assert.equal(file2, stream2);
});

Deno.test("transcript file: a cut file gets the stream reader's named error, wherever the cut", async () => {
  const t = (await transcripts).narrow!;
  const bytes = encodeMsgpack(electionTranscriptToEnvelope(t));
  const proof = find(bytes, t.mixes[1]!.proof.permutationCommitments);
  const seen = new Set<string>();
  const cuts = [
    ...Array.from({ length: 24 }, (_, i) => Math.floor((bytes.length * (i + 0.5)) / 24)),
    proof - 1,
    proof + 100,
    findFrom(bytes, encodeMsgpack("answers"), proof) + 30,
    bytes.length - 1,
  ];
  for (const cut of cuts) {
    const [stream, file] = await messages(bytes.subarray(0, cut));
    assert.match(stream, /^Value 't[^']*' is truncated msgpack/, `cut at ${cut}`);
    assert.equal(file, stream, `cut at ${cut}`);
    seen.add(/'t\.?([a-zA-Z]*)/.exec(stream)![1]!);
  }
  assert.ok(
    ["ballots", "mixInput", "mixes", "decryption", "plaintexts", "answers"].every((k) =>
      seen.has(k)
    ),
    [...seen].join(),
  );
  const [inProof] = await messages(bytes.subarray(0, proof + 100));
  assert.match(inProof, /^Value 't\.mixes\[1\]\.proof\.permutationCommitments' is truncated/);
  const [trailing, trailingFile] = await messages(joinBytes([bytes, Uint8Array.of(0)]));
  assert.equal(trailing, "Input 't' has trailing bytes after its value");
  assert.equal(trailingFile, trailing);
  await assert.rejects(openElectionTranscriptFile("/nonexistent/t.msgpack"), NotFoundError);
});

Deno.test("transcript file: an item framed with a longer header than needed cannot be read in place", async () => {
  const t = (await transcripts).narrow!;
  const bytes = encodeMsgpack(electionTranscriptToEnvelope(t));
  const at = find(bytes, t.mixInput[5]!.bytes) - 2; // 0xc4 0x40
  assert.deepEqual([...bytes.subarray(at, at + 2)], [0xc4, 0x40]);
  const longer = joinBytes([
    bytes.subarray(0, at),
    Uint8Array.of(0xc5, 0, 0x40),
    bytes.subarray(at + 2),
  ]);
  const [stream, file] = await messages(longer);
  assert.equal(stream, "accepted");
  assert.equal(
    file,
    "Value 't.mixInput[5]' is not a msgpack bin of 64 bytes with the shortest header (the file cannot be read in place)",
  );
});

Deno.test("transcript file: the JSON view is read whole, the same transcript", async () => {
  const t = (await transcripts).narrow!;
  const json = new TextEncoder().encode(
    JSON.stringify(toJsonView(electionTranscriptToEnvelope(t))),
  );
  const bytes = encodeMsgpack(electionTranscriptToEnvelope(t));
  await withFile(json, async (path) => {
    const before = openFiles();
    const opened = await openElectionTranscriptFile(path);
    assert.equal(openFiles(), before);
    assert.deepEqual(
      await written((w) => writeElectionTranscriptRecords(opened.transcript, w)),
      bytes,
    );
    opened.close();
  });
  // The msgpack file's handle is closed by close().
  await withFile(bytes, async (path) => {
    const before = openFiles();
    const opened = await openElectionTranscriptFile(path);
    assert.equal(openFiles(), before + 1);
    opened.close();
    assert.equal(openFiles(), before);
  });
});

/**
 * A transcript whose ballots come from a store of encodings (as in `vote run` and `vote
 * bench`): credentials of every header size and non-ASCII ones, proof responses near the
 * group order, valid, invalid (null) and blank answers, and answers only the object path
 * writes (a count over 127, a question of 16 choices). Its records and the transcript itself.
 */
async function storedTranscript(): Promise<[ElectionTranscriptRecords, ElectionTranscript]> {
  const t = (await transcripts).narrow!;
  const credentials = ["électrice-ü", "投票者-7", "x".repeat(40), "y".repeat(256), "votant 🗳️"];
  const ballots = t.ballots.map((b, i) => {
    const credential = credentials[i % 7] ?? b.credential;
    if (i !== 11) return { ...b, credential };
    return { ...b, proof: { ...b.proof, responses: [GROUP_ORDER - 1n] } };
  });
  const answers = t.answers.map((a, i) =>
    i === 2
      ? null
      : i === 3
      ? [[], []]
      : i === 4
      ? [[200], [1]]
      : i === 5
      ? [[0], [...Array(16).keys()]]
      : a
  );
  const whole = { ...t, ballots, answers };
  const store = new EncodedBallotStore(memoryByteLog(100), t.fingerprint, "ballots");
  for (const b of ballots) store.append(b);
  const records = { ...electionTranscriptRecords(whole), ballots: ballotStoreChunks(store) };
  assert.ok(hasEncodedChunks(records.ballots));
  return [records, whole];
}

Deno.test("transcript records: ballots from a store of encodings are written as their envelopes' bytes", async () => {
  const [records, t] = await storedTranscript();
  const expected = encodeMsgpack(electionTranscriptToEnvelope(t));
  assert.deepEqual(await written((w) => writeElectionTranscriptRecords(records, w)), expected);
  // And opened in place: the same ballots and answers read back, the same bytes written back.
  await withFile(expected, async (path) => {
    const opened = await openElectionTranscriptFile(path, { chunkBytes: 700 });
    try {
      const ballots = [];
      for await (const chunk of opened.transcript.ballots.chunks()) ballots.push(...chunk);
      assert.deepEqual(
        ballots.map((b) => encodeMsgpack(electionBallotToEnvelope(b))),
        t.ballots.map((b) => encodeMsgpack(electionBallotToEnvelope(b))),
      );
      const answers = [];
      for await (const chunk of opened.transcript.answers.chunks()) answers.push(...chunk);
      assert.deepEqual(answers, t.answers);
      assert.deepEqual(
        await written((w) => writeElectionTranscriptRecords(opened.transcript, w)),
        expected,
      );
    } finally {
      opened.close();
    }
  });
});

Deno.test("transcript file: a ballot or answer checked from its bytes is refused as the decoder refuses it", async () => {
  const [, t] = await storedTranscript();
  const env = electionTranscriptToEnvelope(t);
  const ballotEnvs = env.ballots as Record<string, unknown>[];
  const withBallot = (i: number, b: Record<string, unknown>) =>
    encodeMsgpack({ ...env, ballots: ballotEnvs.map((x, j) => (j === i ? b : x)) });
  const proof = (ballotEnvs[9]!.proof as Uint8Array).slice();
  proof[63] = 0xff; // the response's last byte: over the group order
  const cases: [Uint8Array, string | RegExp][] = [
    [
      withBallot(8, { ...ballotEnvs[8], credential: "tab\there" }),
      "Credential 'tab\there' must be 1 to 256 bytes of printable text",
    ],
    [
      withBallot(9, { ...ballotEnvs[9], proof }),
      /^Scalar 't\.ballots\[9\]\.proof\[0\]' is not canonical/,
    ],
    [
      withBallot(10, { ...ballotEnvs[10], v: 1 }),
      /^Value 't\.ballots\[10\]' has unsupported version 1/,
    ],
    [
      withBallot(12, { ...ballotEnvs[12], ciphertext: new Uint8Array(63) }),
      "Value 't.ballots[12].ciphertext' must be a multiple of 64 bytes",
    ],
    [
      encodeMsgpack({ ...env, answers: t.answers.map((a, i) => (i === 6 ? [[1, -1]] : a)) }),
      "Value 't.answers[6][0][1]' must be between 0 and 9007199254740991, got -1",
    ],
    [
      encodeMsgpack({ ...env, answers: t.answers.map((a, i) => (i === 7 ? [["a"]] : a)) }),
      /^Value 't\.answers\[7\]\[0\]\[0\]' must be an integer/,
    ],
  ];
  for (const [bytes, expected] of cases) {
    const [stream, file] = await messages(bytes);
    if (typeof expected === "string") assert.equal(stream, expected);
    else assert.match(stream, expected);
    assert.equal(file, stream);
  }
  // A ballot laid out by another encoder (keys in another order) is valid: read all the same.
  const b = ballotEnvs[13]!;
  const reordered = withBallot(13, { proof: b.proof, ...b });
  assert.deepEqual(await messages(reordered), ["accepted", "accepted"]);
});
