/**
 * `vote submit`'s box file appended in place (issue 17 point 2): the bytes are those of the
 * whole-box writer, an interrupted append is refused by readers and dropped by the next
 * submit, a cut box is refused.
 */

import assert from "node:assert/strict";
import { encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError, ReplayError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import {
  ballotBoxToEnvelope,
  createElectionDefinition,
  type ElectionBallot,
  electionBallotToEnvelope,
  electionDefinitionToEnvelope,
  electionFingerprint,
  encodeCeremonyPost,
  encryptElectionBallot,
  openBallotBoxStream,
  readBallotBoxStream,
  runLocalKeyCeremony,
} from "../../plugins/vote/mod.ts";
import { writeEnvelopeFile } from "../files.ts";
import { Spool } from "../record_file.ts";
import { runInMemory } from "../test_context.ts";
import { BoxFileAppender } from "./box_file.ts";
import { openBoxFile } from "./support.ts";

const definition = createElectionDefinition({
  id: "box-file",
  trustees: 1,
  mixers: 1,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }],
});
const fingerprint = electionFingerprint(definition);
const ceremony = runLocalKeyCeremony({ definition, fingerprint }, {
  random: seededRandom("box-file"),
});
const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
const ballots: ElectionBallot[] = Array.from(
  { length: 19 },
  (_, i) => encryptElectionBallot(election, { credential: `voter-${i}`, answers: [[i % 3]] }),
);

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return ReadableStream.from([bytes]);
}

/** Submits ballots to the box file as `vote submit` does; returns how it was written. */
async function submit(path: string, list: readonly ElectionBallot[], notes: string[] = []) {
  const spool = await Spool.create();
  try {
    const file = await BoxFileAppender.open(path, election, {
      spool,
      onNote: (line) => void notes.push(line),
      chunk: 4,
    });
    try {
      for (const b of list) await file.cast(b);
      return await file.commit();
    } finally {
      file.close();
    }
  } finally {
    spool.close();
  }
}

Deno.test("vote submit's box file: appended in place, the bytes of the whole-box writer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "box-file-" });
  try {
    const path = `${dir}/box.msgpack`;
    const expect = async (n: number) => {
      const bytes = await Deno.readFile(path);
      // What `vote submit` wrote before (the whole box, ballotBoxChunks): encodeMsgpack.
      assert.deepEqual(bytes, encodeMsgpack(ballotBoxToEnvelope(election, ballots.slice(0, n))));
    };
    // New file: written whole and renamed; then appended; the header grows past 15 (fixarray
    // to array 16): rewritten; then appended again.
    assert.equal(await submit(path, ballots.slice(0, 3)), "rewrite");
    await expect(3);
    assert.equal(await submit(path, ballots.slice(3, 10)), "append");
    await expect(10);
    assert.equal(await submit(path, ballots.slice(10, 15)), "append");
    await expect(15);
    assert.equal(await submit(path, ballots.slice(15, 17)), "rewrite");
    await expect(17);
    assert.equal(await submit(path, ballots.slice(17, 19)), "append");
    await expect(19);
    assert.equal(await submit(path, []), "unchanged");
    await expect(19);
    await assert.rejects(Deno.stat(`${path}.submit-tmp`), Deno.errors.NotFound);
    // Submits to one box run one after the other (the file is locked; one that waited while
    // another renamed a new file over it locks the new file).
    const shared = `${dir}/shared.msgpack`;
    await Promise.all([submit(shared, ballots.slice(0, 2)), submit(shared, ballots.slice(2, 5))]);
    const both = await readBallotBoxStream(election, (await Deno.open(shared)).readable);
    assert.deepEqual(
      both.map((b) => b.credential).sort(),
      [0, 1, 2, 3, 4].map((i) => `voter-${i}`),
    );
    // The rules see the stored ballots: a replay and a copy are rejected, nothing written.
    const spool = await Spool.create();
    try {
      const file = await BoxFileAppender.open(path, election, { spool, chunk: 4 });
      try {
        assert.equal(file.box.count, 19);
        await assert.rejects(file.cast(ballots[2]!), /already cast \(replay of ballot 3/);
        const copy = { ...ballots[5]!, credential: "someone-else" };
        await assert.rejects(file.cast(copy), /copies the ciphertext of ballot 6/);
        assert.equal(await file.commit(), "unchanged");
      } finally {
        file.close();
      }
    } finally {
      spool.close();
    }
    await expect(19);
    // A stored ballot that breaks the rules (here a replay): named with its position.
    const bad = `${dir}/bad.msgpack`;
    await Deno.writeFile(
      bad,
      encodeMsgpack(ballotBoxToEnvelope(election, [ballots[0]!, ballots[1]!, ballots[0]!])),
    );
    const spool3 = await Spool.create();
    try {
      await assert.rejects(
        BoxFileAppender.open(bad, election, { spool: spool3 }),
        (error) =>
          error instanceof ReplayError &&
          error.message.startsWith(
            `Ballot box '${bad}', ballot 3: Ballot was already cast (replay of ballot 1`,
          ) && error.cause instanceof ReplayError &&
          (error.cause as Error).message.startsWith("Ballot was already cast"),
      );
      // A submit that fails before its commit leaves no file it created.
      const fresh = await BoxFileAppender.open(`${dir}/fresh.msgpack`, election, { spool: spool3 });
      fresh.close();
      await assert.rejects(Deno.stat(`${dir}/fresh.msgpack`), Deno.errors.NotFound);
    } finally {
      spool3.close();
    }
    // A box laid out by another writer (its ballots not the last entry): rewritten whole, in
    // this writer's layout (as vote submit always wrote it), then appended to in place.
    const foreign = `${dir}/foreign.msgpack`;
    await Deno.writeFile(
      foreign,
      encodeMsgpack({
        ...ballotBoxToEnvelope(election, ballots.slice(0, 2)),
        note: "written elsewhere",
      }),
    );
    assert.equal(await submit(foreign, [ballots[2]!]), "rewrite");
    assert.equal(await submit(foreign, [ballots[3]!]), "append");
    assert.deepEqual(
      await Deno.readFile(foreign),
      encodeMsgpack(ballotBoxToEnvelope(election, ballots.slice(0, 4))),
    );
    // A box for another election, or not a box: refused, the file untouched.
    const other = createElectionDefinition({
      id: "other",
      trustees: 1,
      mixers: 1,
      questions: [{ text: "Q", choices: ["a", "b"] }],
    });
    const otherInfo = { ...election, definition: other, fingerprint: electionFingerprint(other) };
    const spool2 = await Spool.create();
    try {
      await assert.rejects(
        BoxFileAppender.open(path, otherInfo, { spool: spool2 }),
        /Ballot box belongs to another election/,
      );
      await assert.rejects(
        BoxFileAppender.open("-", election, { spool: spool2 }),
        /--box cannot be standard input/,
      );
    } finally {
      spool2.close();
    }
    await expect(19);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vote submit's box file: an interrupted append is refused by readers and dropped by the next submit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "box-file-" });
  try {
    const path = `${dir}/box.msgpack`;
    await submit(path, ballots.slice(0, 5));
    const before = await Deno.readFile(path);
    // What an append interrupted before the header's count is rewritten leaves: the box,
    // then any prefix of the new ballots' encodings (whole ones or one cut short).
    const added = encodeMsgpack(ballotBoxToEnvelope(election, ballots.slice(5, 7))).subarray(
      encodeMsgpack(ballotBoxToEnvelope(election, [])).length,
    );
    const one = encodeMsgpack(electionBallotToEnvelope(ballots[5]!)).length;
    assert.equal(added.length > one, true);
    for (const cut of [1, 40, one - 1, one, one + 7, added.length]) {
      const torn = new Uint8Array([...before, ...added.subarray(0, cut)]);
      await Deno.writeFile(path, torn);
      // Readers (vote tally, vote close read the box this way) refuse it, naming the bytes.
      const message = new RegExp(
        `^Ballot box has bytes after its 5 ballots \\(from byte ${before.length} on\\): the ` +
          "unfinished append of an interrupted or still running 'vote submit'.*re-run when no " +
          "'vote submit' to this box is running \\(the next one drops them; or truncate the " +
          `file to ${before.length} bytes then\\)$`,
      );
      await assert.rejects(readBallotBoxStream(election, streamOf(torn)), (error) => {
        assert.ok(error instanceof InvalidInputError);
        assert.match(error.message, message);
        return true;
      });
      const chunks = await openBallotBoxStream(election, () => Promise.resolve(streamOf(torn)));
      assert.equal(chunks.count, 5);
      await assert.rejects(async () => {
        for await (const _ of chunks.chunks(2)) { /* read */ }
      }, (error) => error instanceof InvalidInputError && message.test(error.message));
      // The next submit drops them and says so; the box is the old one plus its new ballot.
      const notes: string[] = [];
      assert.equal(await submit(path, [ballots[9]!], notes), "append");
      assert.deepEqual(notes, [
        `dropped ${cut} bytes after the 5 ballots of '${path}' (left by an interrupted vote ` +
        "submit; none of their ballots had been accepted)",
      ]);
      assert.deepEqual(
        await Deno.readFile(path),
        encodeMsgpack(ballotBoxToEnvelope(election, [...ballots.slice(0, 5), ballots[9]!])),
      );
      await Deno.writeFile(path, before);
    }
    // The state the appender itself leaves when stopped before its commit (written ballots,
    // the count not yet rewritten): refused by readers, dropped by the next submit.
    {
      const spool = await Spool.create();
      try {
        const file = await BoxFileAppender.open(path, election, { spool, bufferBytes: 1 });
        try {
          await file.cast(ballots[5]!);
          await file.cast(ballots[6]!);
          const written = await Deno.readFile(path);
          assert.deepEqual(written.subarray(0, before.length), before);
          assert.equal(written.length, before.length + added.length);
          await assert.rejects(
            readBallotBoxStream(election, streamOf(written)),
            /^InvalidInputError: Ballot box has bytes after its 5 ballots/,
          );
        } finally {
          file.close(); // no commit: as if the process had stopped here
        }
      } finally {
        spool.close();
      }
      const notes: string[] = [];
      assert.equal(await submit(path, [], notes), "unchanged");
      assert.match(notes[0]!, new RegExp(`^dropped ${added.length} bytes after the 5 ballots`));
      assert.deepEqual(await Deno.readFile(path), before);
    }
    // A box cut short (ballots the header counts are missing) is not an interrupted append:
    // refused, and the file is left as it is.
    const short = before.subarray(0, before.length - 30);
    await Deno.writeFile(path, short);
    await assert.rejects(submit(path, [ballots[9]!]), /'ballot box\.ballots\[4\]' is truncated/);
    assert.deepEqual(await Deno.readFile(path), short);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vote submit: the command appends, drops an interrupted append's bytes with a note, exit codes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "box-file-" });
  try {
    const e = `${dir}/e.json`, key = `${dir}/key.json`, box = `${dir}/box.msgpack`;
    await writeEnvelopeFile(e, electionDefinitionToEnvelope(definition));
    await writeEnvelopeFile(
      key,
      encodeCeremonyPost({ definition, fingerprint }, { key: ceremony.key }),
    );
    const files: string[] = [];
    for (const [i, b] of ballots.slice(0, 4).entries()) {
      files.push(`${dir}/b${i}.json`);
      await writeEnvelopeFile(files[i]!, electionBallotToEnvelope(b));
    }
    const submit = (...args: string[]) =>
      runInMemory([
        ...["vote", "submit", "--election", e, "--key", key],
        ...(args.includes("--box") ? [] : ["--box", box]),
        ...args,
      ]);
    const first = await submit(files[0]!, files[1]!);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /accepted .*b1\.json: ballot 2, receipt [0-9a-f]{64}/);
    const before = await Deno.readFile(box);
    await Deno.writeFile(box, new Uint8Array([...before, 0x82, 0xa1]));
    const second = await submit(files[2]!, files[0]!, "--json");
    assert.equal(second.status, 8, second.stderr);
    assert.match(second.stderr, /^dropped 2 bytes after the 2 ballots of '.*box\.msgpack'/);
    assert.match(
      second.stderr,
      /panoramix: error: 1 of 2 ballots rejected \(first: Ballot was already cast/,
    );
    const outcomes = JSON.parse(second.stdout);
    assert.equal(outcomes[0].position, 3);
    assert.equal(outcomes[1].accepted, false);
    assert.deepEqual(
      await Deno.readFile(box),
      encodeMsgpack(ballotBoxToEnvelope(election, ballots.slice(0, 3))),
    );
    const stdin = await submit(files[3]!, "--box", "-");
    assert.equal(stdin.status, 2, stdin.stderr);
    assert.match(stdin.stderr, /--box cannot be standard input/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vote submit's box file: a reader (openBoxFile) waits for a running submit's lock, then reads the committed box", async () => {
  const dir = await Deno.makeTempDir({ prefix: "box-file-" });
  const spool = await Spool.create();
  try {
    const path = `${dir}/box.msgpack`;
    await submit(path, ballots.slice(0, 3));
    // A submit in progress: the exclusive lock held, ballots appended, the count not yet
    // rewritten (what a reader would refuse as trailing bytes).
    const submitting = await BoxFileAppender.open(path, election, { spool, bufferBytes: 1 });
    for (const b of ballots.slice(3, 6)) await submitting.cast(b);
    let settled = false;
    const reading = openBoxFile(ReadableStream.from([]), election, path, spool).then((chunks) => {
      settled = true;
      return chunks;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(settled, false, "the reader waits for the submit's lock");
    assert.equal(await submitting.commit(), "append");
    submitting.close();
    const chunks = await reading;
    assert.equal(chunks.count, 6);
    let read = 0;
    for await (const chunk of chunks.chunks(4)) read += chunk.length;
    assert.equal(read, 6);
  } finally {
    spool.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vote submit's box file: a rewrite (the header grows) keeps the box's permissions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "box-file-" });
  try {
    const path = `${dir}/box.msgpack`;
    await submit(path, ballots.slice(0, 15));
    for (const mode of [0o640, 0o604]) {
      await Deno.chmod(path, mode);
      // 15 ballots: a fixarray header; one more needs array 16, so the box is rewritten.
      await Deno.writeFile(
        path,
        encodeMsgpack(ballotBoxToEnvelope(election, ballots.slice(0, 15))),
      );
      assert.equal(await submit(path, [ballots[15]!]), "rewrite");
      assert.equal((await Deno.stat(path)).mode! & 0o777, mode);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
