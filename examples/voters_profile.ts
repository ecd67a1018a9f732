/**
 * The two phases of `vote bench` before the mix, alone (issue 17 point 3): N simulated voters
 * encrypt their ballots on W workers into a spool file (`simulateEncodedBallotChunks`, as the
 * bench's "encrypt ballots"), then a box casts them from that file and closes
 * (`castEncodedChunks` and `closeRecords`, as the bench's "cast and close"). Prints one JSON
 * line per phase with the wall time and the process CPU time (all threads), so that the
 * 1-worker and 2-worker times of these short phases can be compared at sizes where a whole
 * bench would take too long (e.g. 1,000,000 ballots).
 *
 * Run: `deno run --allow-all examples/voters_profile.ts 100000 2` (BALLOTS WORKERS); with 1
 * worker everything runs on this thread, as in `vote bench --workers 1`.
 *
 * @module
 */

import process from "node:process";
import { closeWorkerPool, setWorkerEntry, startWorkers } from "../core/worker_pool.ts";
import { Spool } from "../cli/record_file.ts";
import { FileBallotStore } from "../cli/vote/ballot_store_file.ts";
import {
  ballotStoreChunks,
  createElectionDefinition,
  ElectionBallotBox,
  electionFingerprint,
  hasEncodedChunks,
  runLocalKeyCeremony,
  simulateEncodedBallotChunks,
} from "../plugins/vote/mod.ts";

setWorkerEntry(new URL("../plugins/vote/worker_entry.ts", import.meta.url));
const n = Number(Deno.args[0] ?? 100_000);
const workers = Number(Deno.args[1] ?? 2);
if (!(n >= 1) || !(workers >= 1)) {
  console.error("usage: voters_profile.ts BALLOTS [WORKERS]");
  Deno.exit(2);
}
const definition = createElectionDefinition({
  id: "bench",
  trustees: 3,
  threshold: 2,
  mixers: 3,
  questions: [{ text: "Which option?", choices: ["A", "B", "C", "D", "E"] }],
});
const fingerprint = electionFingerprint(definition);
const { key } = runLocalKeyCeremony({ definition, fingerprint });
const election = { definition, fingerprint, publicKey: key.publicKey };
await startWorkers(workers);
const spool = await Spool.create();

/** Runs one phase and prints its wall and CPU seconds. */
async function phase(name: string, run: () => Promise<void>): Promise<void> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const used = process.cpuUsage(cpu);
  console.log(JSON.stringify({
    phase: name,
    ballots: n,
    workers,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
    cpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(2)),
  }));
}

try {
  const submitted = FileBallotStore.inSpool(spool, fingerprint);
  await phase("encrypt ballots", async () => {
    for await (const { encoded } of simulateEncodedBallotChunks(election, { count: n, workers })) {
      submitted.appendEncoded(encoded);
    }
  });
  const chunks = ballotStoreChunks(submitted);
  if (!hasEncodedChunks(chunks)) throw new Error("A file ballot store gives its records");
  await phase("cast and close", async () => {
    const box = new ElectionBallotBox(election, {
      store: FileBallotStore.inSpool(spool, fingerprint),
    });
    let rejected = 0;
    await box.castEncodedChunks(chunks.encodedChunks(), {
      workers,
      total: n,
      receipts: false,
      onOutcomes: (_lo, _ballots, outcomes) => {
        for (const o of outcomes) if (!o.ok) rejected++;
      },
    });
    box.closeRecords(spool.sinks);
    if (rejected > 0) throw new Error(`${rejected} simulated ballots were rejected`);
  });
} finally {
  spool.close();
  closeWorkerPool();
}
