/**
 * A whole verifiable election in one command:
 *
 *   deno run -A examples/election.ts [--ballots 10000] [--out election.msgpack]
 *
 * 3 trustees run the key ceremony (2-of-3), 10,000 simulated voters encrypt ballots
 * with proofs bound to the election and their credential, the ballot box checks them,
 * 3 mixers shuffle with Terelius–Wikström proofs, trustees 1 and 3 decrypt with
 * Chaum–Pedersen proofs, the ballots are decoded and counted, and the universal
 * verifier rechecks the published transcript. Prints each phase's time and the tally.
 *
 * @module
 */

import { decodeMsgpack, encodeMsgpack } from "../core/envelope.ts";
import { closeWorkerPool, setWorkerEntry, workerCount } from "../core/worker_pool.ts";
import {
  createElectionDefinition,
  electionTranscriptFromEnvelope,
  electionTranscriptToEnvelope,
  runLocalElection,
  simulateElectionBallots,
  verifyElection,
} from "../plugins/vote/mod.ts";

// Workers load the plugin's and the backend's tasks from this entry module.
setWorkerEntry(new URL("../plugins/vote/worker_entry.ts", import.meta.url));

function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1]! : fallback;
}

const ballots = Number(flag("ballots", "10000"));
const out = flag("out", "");
const definition = createElectionDefinition({
  id: "example-2026",
  title: "Example election",
  trustees: ["Alice", "Bob", "Carol"],
  threshold: 2,
  mixers: ["mix-athens", "mix-patras", "mix-thessaloniki"],
  questions: [
    { text: "Who should chair the board?", choices: ["Ada", "Ben", "Chloe", "Dimitris"] },
    {
      text: "Which proposals do you approve?",
      choices: ["P1", "P2", "P3", "P4", "P5"],
      type: "multiple",
      min: 0,
      max: 3,
    },
  ],
});

const line = (text: string) => console.log(text);
line(
  `Election '${definition.id}': ${ballots} voters, ${definition.mixers.length} mixers, ` +
    `${definition.threshold}-of-${definition.trustees.length} trustees, ${workerCount()} workers`,
);
const started = performance.now();
try {
  const { transcript, rejected } = await runLocalElection(definition, {
    decryptingTrustees: [1, 3],
    ballots: (election) => simulateElectionBallots(election, { count: ballots }).ballots,
    onPhase: (phase, ms) => line(`  ${phase.padEnd(16)} ${(ms / 1000).toFixed(2).padStart(8)} s`),
  });
  let t = performance.now();
  const bytes = encodeMsgpack(electionTranscriptToEnvelope(transcript));
  if (out !== "") await Deno.writeFile(out, bytes);
  line(
    `  ${"publish".padEnd(16)} ${((performance.now() - t) / 1000).toFixed(2).padStart(8)} s  (${
      (bytes.length / 1e6).toFixed(1)
    } MB transcript${out === "" ? "" : ` in ${out}`})`,
  );
  t = performance.now();
  const published = electionTranscriptFromEnvelope(decodeMsgpack(bytes, "transcript"));
  let mark = t;
  const report = await verifyElection(published, {
    // Print each verification step as it completes.
    onProgress: (e) => {
      if (e.done !== e.total) return;
      const now = performance.now();
      line(`    ${e.phase.padEnd(28)} ${((now - mark) / 1000).toFixed(2).padStart(8)} s`);
      mark = now;
    },
  });
  line(`  ${"verify".padEnd(16)} ${((performance.now() - t) / 1000).toFixed(2).padStart(8)} s`);
  line(`Total ${((performance.now() - started) / 1000).toFixed(2)} s; rejected ${rejected.length}`);
  line(
    `Transcript verifies: ${report.ballots} ballots, ${report.mixers} shuffle proofs, ` +
      `decryption by trustees ${report.trustees.join(" and ")}, tally recomputed.`,
  );
  line(`Tally (${transcript.tally.valid} valid, ${transcript.tally.invalid} invalid):`);
  definition.questions.forEach((q, i) => {
    const t = transcript.tally.questions[i]!;
    line(`  ${q.text}`);
    q.choices.forEach((c, j) => line(`    ${String(t.counts[j]).padStart(7)}  ${c}`));
    line(`    ${String(t.blank).padStart(7)}  (blank)`);
  });
} finally {
  closeWorkerPool();
}
