// Memory per ballot of the command-line paths issue 17 point 2 left whole in memory: `vote
// submit` (the stored box replayed and appended to), a transcript on standard input (`vote
// verify -`, `vote receipt --transcript -`) and the JSON view of a transcript (`--out x.json`).
// Measured in a separate process with V8's garbage collector exposed: live JS heap plus
// ArrayBuffer memory after a full collection, while the submit's box is open (after its
// commit), while a transcript copied from "standard input" is open and its ballots have been
// read through, and the largest such figure sampled at each chunk the JSON view writes. The
// slope between two sizes is the memory per ballot. Boxes of 1,000 and 9,000 simulated
// ballots; transcripts of 9,000 and 25,000 ballots made from a real 60-ballot election by
// repeating its items (the readers and writers check framing, not proofs; both sizes hold
// at least two chunks of 4,096 ballots, so the chunks' share is the same). What stays is the
// replayed box's hash indexes and receipts (about 0.1 KB a ballot) — not the ballots: with
// the box read into an array (as `vote submit` did) it is over 1 KB a ballot, with the
// transcript decoded whole or its JSON view built whole several KB.
import assert from "node:assert/strict";
import { runMemoryProbe } from "./process_test_support.ts";

const ROOT = new URL("../", import.meta.url);
const url = (path: string) => JSON.stringify(new URL(path, ROOT).href);

const PROBE = `
import {
  createElectionDefinition,
  electionFingerprint,
  electionTranscriptRecords,
  encryptElectionBallot,
  runLocalElection,
  runLocalKeyCeremony,
  SHUFFLE_PROOF_LISTS,
  simulateElectionBallotChunks,
  simulateElectionBallots,
  writeBallotBoxStream,
  writeElectionTranscriptJsonRecords,
} from ${url("plugins/vote/mod.ts")};
import { seededRandom } from ${url("core/random.ts")};
import { Spool } from ${url("cli/record_file.ts")};
import { BoxFileAppender } from ${url("cli/vote/box_file.ts")};
import { openTranscriptInput, writeTranscriptFile } from ${url("cli/vote/support.ts")};
import { openElectionTranscriptFile } from ${url("cli/vote/transcript_file.ts")};
const definition = createElectionDefinition({
  id: "stream-memory", trustees: 1, mixers: 1,
  questions: [{ text: "Q", choices: ["A", "B", "C", "D", "E"] }],
});
const fingerprint = electionFingerprint(definition);
const ceremony = runLocalKeyCeremony({ definition, fingerprint }, { random: seededRandom("s") });
const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
const files = await Spool.create();
async function makeBox(count) {
  const path = files.dir + "/box-" + count + ".msgpack";
  const ballots = [];
  for await (const chunk of simulateElectionBallotChunks(election, { count, workers: 1 })) {
    ballots.push(...chunk.ballots);
  }
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  await writeBallotBoxStream(election, { count, async *chunks() { yield ballots; } }, file.writable);
  await file.writable.close();
  return path;
}
// A real transcript, its items repeated to n (views of its lists, never all in memory).
const { transcript: real } = await runLocalElection(definition, {
  workers: 1,
  ballots: (e) => simulateElectionBallots(e, { count: 60 }).ballots,
});
const small = electionTranscriptRecords(real);
function repeat(list, n) {
  return {
    count: n,
    recordBytes: list.recordBytes,
    read(lo, hi) {
      const out = new Uint8Array((hi - lo) * list.recordBytes);
      for (let i = lo; i < hi; i++) {
        out.set(list.read(i % list.count, i % list.count + 1), (i - lo) * list.recordBytes);
      }
      return out;
    },
    gather(indices) {
      throw new Error("not used");
    },
  };
}
function repeatItems(items, n) {
  return {
    count: n,
    async *chunks(size = 4096) {
      const all = [];
      for await (const c of items.chunks()) all.push(...c);
      for (let lo = 0; lo < n; lo += size) {
        const chunk = [];
        for (let i = lo; i < Math.min(n, lo + size); i++) chunk.push(all[i % all.length]);
        yield chunk;
      }
    },
  };
}
async function makeTranscript(n) {
  const t = {
    ...small,
    ballots: repeatItems(small.ballots, n),
    mixInput: repeat(small.mixInput, n),
    mixes: small.mixes.map((m) => ({
      ...m,
      outputs: repeat(m.outputs, n),
      proof: {
        ...m.proof,
        ...Object.fromEntries(SHUFFLE_PROOF_LISTS.map((k) => [k, repeat(m.proof[k], n)])),
      },
    })),
    decryption: small.decryption.map((d) => ({ ...d, shares: repeat(d.shares, n) })),
    plaintexts: repeat(small.plaintexts, n),
    answers: repeatItems(small.answers, n),
  };
  const path = files.dir + "/t-" + n + ".msgpack";
  await writeTranscriptFile(path, t, true);
  return path;
}
let voter = 0;
async function submit(box) {
  const spool = await Spool.create();
  const file = await BoxFileAppender.open(box, election, { spool });
  try {
    await file.cast(encryptElectionBallot(election, { credential: "new-" + voter++, answers: [[1]] }));
    if (await file.commit() !== "append") throw new Error("not appended");
    return await live();
  } finally {
    file.close();
    spool.close();
  }
}
async function stdin(path) {
  const spool = await Spool.create();
  const opened = await openTranscriptInput((await Deno.open(path)).readable, "-", spool);
  try {
    let n = 0;
    for await (const chunk of opened.transcript.ballots.chunks()) n += chunk.length;
    if (n !== opened.transcript.ballots.count) throw new Error("ballots");
    return await live();
  } finally {
    opened.close();
    spool.close();
  }
}
async function json(path) {
  const opened = await openElectionTranscriptFile(path);
  const out = await Deno.open(files.dir + "/t.json", { write: true, create: true, truncate: true });
  let peak = 0, writes = 0;
  // The scan's buffers (the whole file, read once) are garbage by now, but V8 frees the
  // memory of collected buffers in the background: let it, before sampling.
  await live();
  try {
    await writeElectionTranscriptJsonRecords(opened.transcript, new WritableStream({
      async write(chunk) {
        let done = 0;
        while (done < chunk.length) done += await out.write(chunk.subarray(done));
        writes++;
        globalThis.gc();
        const m = Deno.memoryUsage();
        peak = Math.max(peak, m.heapUsed + m.external);
      },
    }));
  } finally {
    out.close();
    opened.close();
  }
  // The view of 9,000 ballots is about 8 MB: written in several chunks.
  if (writes < 4) throw new Error("the JSON view came in " + writes + " chunks");
  return peak;
}
const boxes = { small: await makeBox(1000), large: await makeBox(9000) };
const transcripts = { small: await makeTranscript(9000), large: await makeTranscript(25000) };
const result = {};
// A first pass over the larger size brings caches and engine memories to their high-water mark.
for (const size of ["large", "small", "large"]) {
  result[size] = {
    submit: await submit(boxes[size]),
    stdin: await stdin(transcripts[size]),
    json: await json(transcripts[size]),
  };
}
files.close();
console.log(JSON.stringify(result));
`;

Deno.test("vote submit, a transcript on stdin and the JSON view hold under 0.25 KB per ballot", async () => {
  const m = await runMemoryProbe(PROBE) as Record<string, Record<string, number>>;
  const span = { submit: 8000, stdin: 16000, json: 16000 };
  for (const [key, ballots] of Object.entries(span)) {
    const kb = (m.large![key]! - m.small![key]!) / ballots / 1024;
    console.log(`${key}: ${kb.toFixed(3)} KB per ballot`);
    assert.ok(kb < 0.25, `${key}: ${kb.toFixed(3)} KB per ballot`);
  }
});
