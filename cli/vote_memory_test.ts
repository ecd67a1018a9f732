// Memory held per ballot by a whole election run the way `vote bench` runs it (issue 17
// point 2): every O(N) list in spool files, the transcript written from them and verified in
// place. Measured in a separate process with V8's garbage collector exposed: live JS heap plus
// ArrayBuffer memory after a full collection, while the run's record transcript is held, and
// again once the verifier has replayed the box and checked every proof from the file. The
// slope between two election sizes is the memory per ballot; what is left is the box's hash
// indexes (about 50 bytes a ballot), the shuffle's permutation and the process's cache of
// generator encodings (32 bytes a position) — not the ballots, ciphertexts, proofs or shares,
// which a regression to in-memory lists (about 2.6 KB a ballot before) would bring back.
import assert from "node:assert/strict";
import { runMemoryProbe } from "./process_test_support.ts";

const ROOT = new URL("../", import.meta.url);
const url = (path: string) => JSON.stringify(new URL(path, ROOT).href);

const PROBE = `
import {
  ballotStoreChunks,
  createElectionDefinition,
  electionFingerprint,
  runLocalElectionRecords,
  simulateElectionBallotChunks,
  verifyElectionRecords,
} from ${url("plugins/vote/mod.ts")};
import { seededRandom } from ${url("core/random.ts")};
import { Spool } from ${url("cli/record_file.ts")};
import { FileBallotStore } from ${url("cli/vote/ballot_store_file.ts")};
import { openElectionTranscriptFile } from ${url("cli/vote/transcript_file.ts")};
import { writeTranscriptFile } from ${url("cli/vote/support.ts")};
const definition = createElectionDefinition({
  id: "memory", trustees: 3, threshold: 2, mixers: 3,
  questions: [{ text: "Q", choices: ["A", "B", "C", "D", "E"] }],
});
const fingerprint = electionFingerprint(definition);
// Each step in a function of its own, so that no temporary of this frame keeps a value alive.
async function run(spool, count) {
  const r = await runLocalElectionRecords(definition, {
    workers: 1,
    receipts: false,
    // The same key in every run: the engine keeps a fixed-base table per key (1.8 MiB, at most
    // 16), a per-key cache, not memory per ballot.
    random: seededRandom("memory"),
    ballots: async (e) => {
      const store = FileBallotStore.inSpool(spool, fingerprint);
      for await (const { ballots } of simulateElectionBallotChunks(e, { count, workers: 1 })) {
        for (const b of ballots) store.append(b);
      }
      return ballotStoreChunks(store);
    },
    store: FileBallotStore.inSpool(spool, fingerprint),
    sinks: spool.sinks,
  });
  return r.transcript;
}
async function verify(spool, path) {
  const opened = await openElectionTranscriptFile(path);
  try {
    const report = await verifyElectionRecords(opened.transcript, {
      workers: 1,
      store: FileBallotStore.inSpool(spool, fingerprint),
      sinks: spool.sinks,
    });
    return report;
  } finally {
    opened.close();
  }
}
const out = {};
// A first run of the larger size brings the engines' WebAssembly memories (which only grow;
// sized by the chunk, not by the election), the per-key fixed-base tables and the generator
// cache to their high-water mark, so the difference below is per ballot. 9,000 ballots are
// more than one chunk of every phase (4,096 and 8,192 positions): lists read whole would show.
for (const count of [${[9000, 1000, 9000, 1000, 9000].join(", ")}]) {
  const spool = await Spool.create();
  try {
    const transcript = await run(spool, count);
    const afterRun = await live();
    const path = spool.dir + "/transcript.msgpack";
    await writeTranscriptFile(path, transcript, true);
    const report = await verify(spool, path);
    const afterVerify = await live();
    if (report.counted !== count || transcript.tally.valid !== count) throw new Error("tally");
    // Each size twice after the warm-up, the lower kept: the collector frees some buffers late.
    const seen = out[count];
    out[count] = seen === undefined ? { afterRun, afterVerify } : {
      afterRun: Math.min(seen.afterRun, afterRun),
      afterVerify: Math.min(seen.afterVerify, afterVerify),
    };
  } finally {
    spool.close();
  }
}
console.log(JSON.stringify(out));
`;

Deno.test("an election on spool files holds under 0.25 KB per ballot, run and verified from its file", async () => {
  const m = await runMemoryProbe(PROBE) as Record<
    string,
    { afterRun: number; afterVerify: number }
  >;
  const small = m["1000"]!, large = m["9000"]!;
  const perBallot = (key: "afterRun" | "afterVerify") => (large[key] - small[key]) / 8000;
  // Before the spool (issue 17, 2026-12-05): 2.93 KB per ballot after the run, 2.60 KB read
  // back from the file, every list held in memory. With the spool (2026-12-05 04:50 UTC, load
  // about 1): 0.09 KB after the run (the box's indexes, the permutation, the generator cache),
  // 0.04 KB after verifying. The bound leaves room for those, not for any per-ballot list.
  for (const key of ["afterRun", "afterVerify"] as const) {
    const kb = perBallot(key) / 1024;
    assert.ok(kb < 0.25, `${key}: ${kb.toFixed(3)} KB per ballot`);
  }
});
