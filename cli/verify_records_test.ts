// The universal verifier over record lists held in spool files (issue 17): every O(N) list of
// a signed election's transcript on disk, verified as in memory, and a record changed in a
// file rejected with the array verifier's message.
import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { VerificationError } from "../core/errors.ts";
import type { RecordSource } from "../core/records.ts";
import { seededRandom } from "../core/random.ts";
import { closeWorkerPool, setWorkerEntry } from "../core/worker_pool.ts";
import { SHUFFLE_PROOF_LISTS } from "../backends/reencrypt/mod.ts";
import { createElectionDefinition } from "../plugins/vote/definition.ts";
import { runLocalElection } from "../plugins/vote/election.ts";
import {
  type ElectionTranscriptRecords,
  electionTranscriptRecords,
} from "../plugins/vote/election_records.ts";
import type { ElectionTranscript } from "../plugins/vote/election_transcript.ts";
import { simulateElectionBallots } from "../plugins/vote/simulate.ts";
import { verifyElection, verifyElectionRecords } from "../plugins/vote/verify.ts";
import { Spool } from "./record_file.ts";

setWorkerEntry(new URL("../plugins/vote/worker_entry.ts", import.meta.url));

const identities = [1, 2, 3].map((i) => ed25519.utils.randomSecretKey(new Uint8Array(32).fill(i)));
const definition = createElectionDefinition({
  id: "verify-records-files",
  trustees: 3,
  threshold: 2,
  mixers: 2,
  questions: [{ text: "Q", choices: ["a", "b", "c"] }],
  trusteeKeys: identities.map((s) => ed25519.getPublicKey(s)),
});
const COUNT = 9;

const run: Promise<ElectionTranscript> = (async () => {
  const random = seededRandom("verify-records-files");
  const { transcript } = await runLocalElection(definition, {
    random,
    workers: 1,
    trusteeIdentities: identities,
    ballots: (e) => simulateElectionBallots(e, { count: COUNT, random }).ballots,
  });
  return transcript;
})();

/** Every record list of the transcript copied into a spool file. */
function onDisk(spool: Spool, t: ElectionTranscriptRecords): ElectionTranscriptRecords {
  const file = (name: string, list: RecordSource) => {
    const sink = spool.sinks(name, list.count, list.recordBytes);
    sink.write(0, list.read(0, list.count));
    return sink.finish();
  };
  return {
    ...t,
    mixInput: file("mix-input", t.mixInput),
    mixes: t.mixes.map((m, i) => ({
      ...m,
      outputs: file(`outputs-${i}`, m.outputs),
      proof: {
        ...m.proof,
        ...Object.fromEntries(SHUFFLE_PROOF_LISTS.map((k) => [k, file(`${k}-${i}`, m.proof[k])])),
      },
    })),
    decryption: t.decryption.map((d) => ({ ...d, shares: file(`shares-${d.trustee}`, d.shares) })),
    plaintexts: file("plaintexts", t.plaintexts),
  };
}

/** A spool file holding `list` with record i replaced by `record`. */
function changed(spool: Spool, list: RecordSource, i: number, record: Uint8Array): RecordSource {
  const sink = spool.sinks("changed", list.count, list.recordBytes);
  sink.write(0, list.read(0, list.count));
  sink.write(i, record);
  return sink.finish();
}

async function message(verify: () => Promise<unknown>): Promise<string> {
  try {
    await verify();
  } catch (error) {
    assert.ok(error instanceof VerificationError, `got ${error}`);
    return error.message;
  }
  return assert.fail("expected a verification failure");
}

Deno.test("verify records: a signed transcript whose lists are spool files verifies", async () => {
  const t = await run;
  const spool = await Spool.create();
  try {
    const files = () => [...Deno.readDirSync(spool.dir)].length;
    const lists = onDisk(spool, electionTranscriptRecords(t));
    const before = files();
    // The replayed box's counted ciphertexts go to the spool too.
    const report = await verifyElectionRecords(lists, { workers: 2, sinks: spool.sinks });
    assert.ok(files() > before);
    assert.deepEqual(report, await verifyElection(t, { workers: 2 }));
    assert.equal(report.counted, COUNT);
  } finally {
    spool.close();
  }
});

Deno.test("verify records: a record changed in a share file or a mix output file is named as in memory", async () => {
  const t = await run;
  const spool = await Spool.create();
  try {
    // A signed share: the signature over the shares (read a chunk at a time) fails first.
    const r = onDisk(spool, electionTranscriptRecords(t));
    const other = r.decryption[1]!.shares.read(COUNT - 1, COUNT);
    r.decryption[0]!.shares = changed(spool, r.decryption[0]!.shares, COUNT - 1, other);
    const shares = t.decryption[0]!.shares.slice();
    shares[COUNT - 1] = t.decryption[1]!.shares[COUNT - 1]!;
    const a = { ...t, decryption: [{ ...t.decryption[0]!, shares }, ...t.decryption.slice(1)] };
    const expected = await message(() => verifyElection(a, { workers: 2 }));
    assert.match(expected, /^Decryption shares of trustee 1: signature does not verify/);
    assert.equal(await message(() => verifyElectionRecords(r, { workers: 2 })), expected);
    // A mix output: two records swapped in the file.
    const s = onDisk(spool, electionTranscriptRecords(t));
    const out = s.mixes[0]!.outputs;
    s.mixes[0]!.outputs = changed(spool, changed(spool, out, 0, out.read(1, 2)), 1, out.read(0, 1));
    const outputs = t.mixes[0]!.outputs.slice();
    [outputs[0], outputs[1]] = [outputs[1]!, outputs[0]!];
    const b = { ...t, mixes: [{ ...t.mixes[0]!, outputs }, ...t.mixes.slice(1)] };
    const expectedMix = await message(() => verifyElection(b, { workers: 2 }));
    assert.match(expectedMix, /^Mixer 1 \(mixer-1\): shuffle proof invalid/);
    assert.equal(await message(() => verifyElectionRecords(s, { workers: 2 })), expectedMix);
  } finally {
    spool.close();
    closeWorkerPool();
  }
});
