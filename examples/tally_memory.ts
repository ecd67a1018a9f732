/**
 * Memory of the decryption and tally side of an election (issue 17 point 2): N valid
 * ciphertexts (encrypted answers, no mix, no ballot proofs) decrypted by 2 of 3 trustees and
 * tallied, either over record lists in spool files (`records`: the shares, plaintexts and
 * answer slots are files, each phase reads a chunk at a time) or over arrays in memory
 * (`array`). Prints the times and the peak resident set of the process (VmHWM, Linux), and
 * the resident set once the ciphertexts exist.
 *
 * Run: `deno run --allow-all examples/tally_memory.ts records 100000` (or `array 100000`;
 * workers: a third argument, default 2)
 *
 * @module
 */

import { closeWorkerPool, setWorkerEntry } from "../core/worker_pool.ts";
import {
  Ciphertext,
  embedBytes,
  encodePoint,
  encryptPackedBatch,
} from "../backends/reencrypt/mod.ts";
import {
  createElectionDefinition,
  decryptElectionShares,
  decryptElectionSharesRecords,
  electionFingerprint,
  type ElectionTally,
  encodeElectionAnswers,
  runLocalKeyCeremony,
  tallyElection,
  tallyElectionRecords,
} from "../plugins/vote/mod.ts";
import { Spool } from "../cli/record_file.ts";

setWorkerEntry(new URL("../plugins/vote/worker_entry.ts", import.meta.url));
const mode = Deno.args[0] ?? "records";
const n = Number(Deno.args[1] ?? 20_000);
const workers = Number(Deno.args[2] ?? 2);
if (!["records", "array"].includes(mode) || !(n >= 2)) {
  console.error("usage: tally_memory.ts records|array BALLOTS [WORKERS]");
  Deno.exit(2);
}
const definition = createElectionDefinition({
  id: "tally-memory",
  trustees: 3,
  threshold: 2,
  mixers: 1,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }],
});
const fingerprint = electionFingerprint(definition);
const ceremony = runLocalKeyCeremony({ definition, fingerprint });
const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
const peakMb = () =>
  Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1] ?? 0) / 1024;
const spool = await Spool.create();
try {
  const t0 = performance.now();
  const sink = spool.sinks("ciphertexts", n, 64);
  const list: Ciphertext[] = [];
  for (let lo = 0; lo < n; lo += 4096) {
    const hi = Math.min(n, lo + 4096);
    const messages = new Uint8Array((hi - lo) * 32);
    for (let i = lo; i < hi; i++) {
      const part = encodeElectionAnswers(definition, [[i % 3]])[0]!;
      messages.set(encodePoint(embedBytes(part)), (i - lo) * 32);
    }
    const cts = await encryptPackedBatch(election.publicKey, { width: 1, messages }, { workers });
    if (mode === "records") sink.write(lo, cts);
    else {
      for (let i = 0; i < hi - lo; i++) {
        list.push(Ciphertext.unchecked(cts.slice(i * 64, i * 64 + 64)));
      }
    }
  }
  const ciphertexts = sink.finish();
  const t1 = performance.now();
  const before = peakMb();
  let t2: number, tally: ElectionTally;
  if (mode === "records") {
    const posts = await Promise.all(
      [1, 2].map((j) =>
        decryptElectionSharesRecords(ceremony.trusteeKeys[j - 1]!, {
          ciphertexts,
          fingerprint,
          sinks: spool.sinks,
          workers,
        })
      ),
    );
    t2 = performance.now();
    const results = await tallyElectionRecords(election, {
      key: ceremony.key,
      ciphertexts,
      decryption: posts,
      sinks: spool.sinks,
      workers,
    });
    let read = 0;
    for await (const chunk of results.answers.chunks()) read += chunk.length;
    if (read !== n) throw new Error(`read ${read} answers of ${n}`);
    tally = results.tally;
  } else {
    const posts = await Promise.all(
      [1, 2].map((j) =>
        decryptElectionShares(ceremony.trusteeKeys[j - 1]!, {
          ciphertexts: list,
          fingerprint,
          workers,
        })
      ),
    );
    t2 = performance.now();
    tally = (await tallyElection(election, {
      key: ceremony.key,
      ciphertexts: list,
      decryption: posts,
      workers,
    })).tally;
  }
  const t3 = performance.now();
  const s = (ms: number) => Number((ms / 1000).toFixed(1));
  console.log(JSON.stringify({
    mode,
    ballots: n,
    workers,
    encrypt_s: s(t1 - t0),
    decrypt_s: s(t2 - t1),
    tally_s: s(t3 - t2),
    peak_rss_mb_with_ciphertexts: Math.round(before),
    peak_rss_mb: Math.round(peakMb()),
    counts: tally.questions[0]!.counts,
  }));
} finally {
  spool.close();
  closeWorkerPool();
}
