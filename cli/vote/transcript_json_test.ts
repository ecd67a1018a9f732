/**
 * The JSON view of a transcript written a chunk at a time (issue 17 point 2): the same bytes
 * as the whole view written before (`writeEnvelopeFile` of its envelope), from lists in
 * memory and from a transcript file read in place; readable back.
 */

import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack, toJsonView } from "../../core/envelope.ts";
import {
  createElectionDefinition,
  electionTranscriptFromEnvelope,
  electionTranscriptRecords,
  electionTranscriptToEnvelope,
  runLocalElection,
  simulateElectionBallots,
  writeElectionTranscriptJsonRecords,
} from "../../plugins/vote/mod.ts";
import { writeEnvelopeFile } from "../files.ts";
import { runInMemory } from "../test_context.ts";
import { writeTranscriptFile } from "./support.ts";
import { openElectionTranscriptFile } from "./transcript_file.ts";

async function collect(write: (w: WritableStream<Uint8Array>) => Promise<number>) {
  const parts: Uint8Array[] = [];
  const n = await write(new WritableStream({ write: (c) => void parts.push(c.slice()) }));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  assert.equal(n, out.length);
  return out;
}

Deno.test("transcript JSON view in chunks: the bytes of the whole view, from memory and from a file", async () => {
  const definition = createElectionDefinition({
    id: "json-view",
    trustees: 3,
    threshold: 2,
    mixers: 2,
    questions: [
      { text: "Chair?", choices: ["Ann", "Bob", "Cid"] },
      { text: "Order?", choices: ["x", "y", "z"], type: "ranked" },
    ],
  });
  const { transcript } = await runLocalElection(definition, {
    workers: 1,
    ballots: (e) => simulateElectionBallots(e, { count: 7 }).ballots,
  });
  // What the JSON view file held before (built whole): writeEnvelopeFile's text.
  const before = new TextEncoder().encode(
    JSON.stringify(toJsonView(electionTranscriptToEnvelope(transcript)), null, 2) + "\n",
  );
  const fromMemory = await collect((w) =>
    writeElectionTranscriptJsonRecords(electionTranscriptRecords(transcript), w)
  );
  assert.deepEqual(fromMemory, before);

  const dir = await Deno.makeTempDir({ prefix: "transcript-json-" });
  try {
    // writeEnvelopeFile (the whole view) and writeTranscriptFile (the chunks): same file.
    await writeEnvelopeFile(`${dir}/whole.json`, electionTranscriptToEnvelope(transcript));
    assert.deepEqual(await Deno.readFile(`${dir}/whole.json`), before);
    const msgpack = `${dir}/t.msgpack`;
    await Deno.writeFile(msgpack, encodeMsgpack(electionTranscriptToEnvelope(transcript)));
    const opened = await openElectionTranscriptFile(msgpack);
    try {
      const n = await writeTranscriptFile(`${dir}/t.json`, opened.transcript, false);
      assert.equal(n, before.length);
    } finally {
      opened.close();
    }
    assert.deepEqual(await Deno.readFile(`${dir}/t.json`), before);
    assert.equal((await Deno.stat(`${dir}/t.json`)).mode! & 0o777, 0o644);
    // The view reads back to the same transcript, and verifies.
    const back = electionTranscriptFromEnvelope(
      JSON.parse(new TextDecoder().decode(before)),
      "t.json",
    );
    assert.deepEqual(
      encodeMsgpack(electionTranscriptToEnvelope(back)),
      await Deno.readFile(msgpack),
    );
    const verified = await runInMemory(["vote", "verify", `${dir}/t.json`, "--workers", "1"]);
    assert.equal(verified.status, 0, verified.stderr);
    // An existing file is kept without --force; a failed write leaves no file.
    await assert.rejects(
      writeTranscriptFile(`${dir}/t.json`, electionTranscriptRecords(transcript), false),
      /already exists; pass --force/,
    );
    const broken = { ...electionTranscriptRecords(transcript) };
    broken.plaintexts = { ...broken.plaintexts, count: broken.plaintexts.count + 1 };
    await assert.rejects(
      writeTranscriptFile(`${dir}/broken.json`, broken, false),
      /Records 0\.\.8 are outside 'records' \(7 records\)/,
    );
    await assert.rejects(Deno.stat(`${dir}/broken.json`), Deno.errors.NotFound);
    // The msgpack file is unchanged by all this (the same writer as before).
    assert.deepEqual(
      decodeMsgpack(await Deno.readFile(msgpack), "t"),
      decodeMsgpack(encodeMsgpack(electionTranscriptToEnvelope(transcript)), "t"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
