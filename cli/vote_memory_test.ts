// Memory held per ballot by a whole election (issue 17), measured in a separate process
// with V8's garbage collector exposed: live JS heap plus ArrayBuffer memory after a full
// collection, while the run's transcript is held, and again while only the transcript
// read back from its file (written and read in chunks) is held. The slope between two election sizes is the
// memory per ballot; it must stay below a bound that a per-ballot copy of any buffer
// (about 0.5 KB each) or a second copy of the election would break.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const url = (path: string) => JSON.stringify(new URL(path, ROOT).href);

const PROBE = `
import {
  createElectionDefinition,
  readElectionTranscriptStream,
  runLocalElection,
  simulateElectionBallotsInParallel,
  writeElectionTranscript,
} from ${url("plugins/vote/mod.ts")};
import { seededRandom } from ${url("core/random.ts")};
const gc = globalThis.gc;
const live = () => {
  gc(); gc();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
};
const definition = createElectionDefinition({
  id: "memory", trustees: 3, threshold: 2, mixers: 3,
  questions: [{ text: "Q", choices: ["A", "B", "C", "D", "E"] }],
});
// Each step in a function of its own, so that no temporary of this frame keeps a value alive.
async function run(count) {
  const r = await runLocalElection(definition, {
    workers: 1,
    receipts: false,
    // The same key in every run: the engine keeps a fixed-base table per key (1.8 MiB, at most
    // 16), a per-key cache, not memory per ballot.
    random: seededRandom("memory"),
    ballots: async (e) => (await simulateElectionBallotsInParallel(e, { count, workers: 1 })).ballots,
  });
  return { transcript: r.transcript };
}
// The transcript goes to a file and comes back from it a chunk at a time, as in vote bench.
const path = await Deno.makeTempFile({ suffix: ".msgpack" });
async function encode(held) {
  const t = held.transcript;
  held.transcript = undefined;
  const file = await Deno.open(path, { write: true, truncate: true });
  await writeElectionTranscript(t, file.writable);
  await file.writable.close();
}
async function decode(held) {
  held.transcript = await readElectionTranscriptStream((await Deno.open(path)).readable, path);
}
const out = {};
// A first run of the larger size brings the engines' WebAssembly memories (which only grow;
// their multi-exponentiation arrays are sized by the chunk, not by the election) and the
// per-key fixed-base tables to their high-water mark, so the difference below is per ballot.
for (const count of [${[1400, 200, 1400].join(", ")}]) {
  const held = await run(count);
  const afterRun = live();
  await encode(held);
  await decode(held);
  const afterDecode = live();
  if (held.transcript.tally.valid !== count) throw new Error("tally");
  out[count] = { afterRun, afterDecode };
}
await Deno.remove(path);
console.log(JSON.stringify(out));
`;

Deno.test("an election holds at most 4 KB per ballot (4 KB read back from its transcript file)", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--expose-gc",
      "--config",
      new URL("deno.json", ROOT).pathname,
      "-",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(PROBE));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const m = JSON.parse(new TextDecoder().decode(out.stdout)) as Record<
    string,
    { afterRun: number; afterDecode: number }
  >;
  const small = m["200"]!, large = m["1400"]!;
  const perBallot = (key: "afterRun" | "afterDecode") => (large[key] - small[key]) / 1200;
  // Measured (issue 17, in-thread): 3.65 KB per ballot held after the run and 5.5 KB held
  // after decoding the transcript (its msgpack buffer included, which msgpackr allocates
  // larger than the value); before: 4.47 and 6.37 KB, with a backing store per ciphertext,
  // per share and per plaintext, and every ballot's receipt. With the transcript written to
  // a file and read back in chunks (views into 1 MiB buffers; the fingerprint, the mix
  // input's ciphertexts and equal answers shared): 3.35 KB after decoding (01:10 UTC, load 3).
  // Measured after a warm-up run and with one election key (the engines' memories and the
  // fixed-base tables, bounded by the chunk size and the table cache, were counted per ballot
  // before): 2.93 KB after the run, 2.60 KB after reading the transcript back (2026-12-05).
  const bounds = { afterRun: 4, afterDecode: 4 };
  for (const key of ["afterRun", "afterDecode"] as const) {
    const kb = perBallot(key) / 1024;
    assert.ok(kb > 0.3 && kb < bounds[key], `${key}: ${kb.toFixed(2)} KB per ballot`);
  }
});
