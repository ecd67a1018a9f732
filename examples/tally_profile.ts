/**
 * Where the tally's CPU goes (issue 17 point 3): a seeded 2-of-3 election of N ballots (one
 * question, 5 choices, 10% blank, as `vote bench`; valid ciphertexts, no mix and no ballot
 * proofs) decrypted once in memory, then `tallyElectionRecords` (verifyShares false, as the
 * bench) run R times on W workers, after a small decryption that warms the workers as the
 * bench's decrypt phase does. Prints per run the wall time and the process CPU time (all
 * threads): the first run pays each worker's compilation of the tally's code, the later ones
 * do not.
 *
 * Run: `deno run --allow-all examples/tally_profile.ts 20000 1 5` (BALLOTS WORKERS RUNS).
 * Profile with `--v8-flags=--prof` then `node --prof-process isolate*.log`; garbage with
 * `--v8-flags=--trace-gc`; compilation with `--v8-flags=--trace-opt`.
 *
 * @module
 */

import process from "node:process";
import { closeWorkerPool, setWorkerEntry, startWorkers } from "../core/worker_pool.ts";
import { seededRandom } from "../core/random.ts";
import { memoryRecords } from "../core/records.ts";
import { embedBytes, encodePoint, encryptPackedBatch } from "../backends/reencrypt/mod.ts";
import {
  createElectionDefinition,
  decryptElectionSharesRecords,
  electionFingerprint,
  encodeElectionAnswers,
  randomElectionAnswers,
  runLocalKeyCeremony,
  tallyElectionRecords,
} from "../plugins/vote/mod.ts";

setWorkerEntry(new URL("../plugins/vote/worker_entry.ts", import.meta.url));
const n = Number(Deno.args[0] ?? 20_000);
const workers = Number(Deno.args[1] ?? 1);
const runs = Number(Deno.args[2] ?? 5);
if (!(n >= 2) || !(workers >= 1) || !(runs >= 1)) {
  console.error("usage: tally_profile.ts BALLOTS [WORKERS] [RUNS]");
  Deno.exit(2);
}
const definition = createElectionDefinition({
  id: "tally-profile",
  trustees: 3,
  threshold: 2,
  mixers: 1,
  questions: [{ text: "Which option?", choices: ["A", "B", "C", "D", "E"] }],
});
const fingerprint = electionFingerprint(definition);
const ceremony = runLocalKeyCeremony({ definition, fingerprint }, {
  random: seededRandom("tally profile"),
});
const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
await startWorkers(Math.max(2, workers));
const random = seededRandom("tally profile ballots");
const messages = new Uint8Array(n * 32);
for (let i = 0; i < n; i++) {
  const answers = randomElectionAnswers(definition, random, { blank: 0.1 });
  messages.set(encodePoint(embedBytes(encodeElectionAnswers(definition, answers)[0]!)), i * 32);
}
const ciphertexts = memoryRecords(
  await encryptPackedBatch(election.publicKey, { width: 1, messages }, { workers: 2 }),
  64,
);
const decryption = await Promise.all(
  [1, 2].map((j) =>
    decryptElectionSharesRecords(ceremony.trusteeKeys[j - 1]!, {
      ciphertexts,
      fingerprint,
      workers: 2,
    })
  ),
);
// The bench's workers have run the decryption before the tally: the same here.
await decryptElectionSharesRecords(ceremony.trusteeKeys[0]!, {
  ciphertexts: memoryRecords(ciphertexts.read(0, Math.min(n, 2000)), 64),
  fingerprint,
  workers,
});
for (let r = 0; r < runs; r++) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const { tally } = await tallyElectionRecords(election, {
    key: ceremony.key,
    ciphertexts,
    decryption,
    verifyShares: false,
    workers,
  });
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  console.log(
    `run ${r}: ${ms.toFixed(0)} ms, cpu ${((used.user + used.system) / 1000).toFixed(0)} ms; ` +
      `valid ${tally.valid}, blank ${tally.questions[0]!.blank}, counts ${
        tally.questions[0]!.counts.join(" ")
      }`,
  );
}
await closeWorkerPool();
