// Per-item costs of the vote plugin: `deno bench --allow-all plugins/vote/vote_bench.ts`.
// Whole elections: `panoramix vote bench --ballots N` or `deno run -A examples/election.ts`.
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import { seededRandom } from "../../core/random.ts";
import {
  ballotProofContext,
  ballotReceipt,
  ballotReceipter,
  encryptElectionBallot,
  encryptElectionBallots,
  packBallotProof,
  verifyElectionBallot,
} from "./ballot.ts";
import {
  verifyEncryptionKnowledge,
  verifyEncryptionKnowledgeBatch,
} from "../../backends/reencrypt/mod.ts";
import { voteCheckPlaintexts, voteCombineDecryptionShares } from "./tasks.ts";
import { ElectionBallotBox } from "./ballot_box.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import { decryptElectionShares, mixElection, tallyElection } from "./election.ts";
import { simulateElectionBallots } from "./simulate.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

const N = 200;
const definition = createElectionDefinition({
  id: "bench",
  trustees: 3,
  threshold: 2,
  mixers: 1,
  questions: [{ text: "Q", choices: ["a", "b", "c", "d", "e"] }],
});
const fingerprint = electionFingerprint(definition);
const ceremony = runLocalKeyCeremony({ definition, fingerprint }, { random: seededRandom("b") });
const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
const { ballots } = simulateElectionBallots(election, { count: N });
const inputs = ballots.map((b) => b.ciphertext);
const [mix] = await mixElection(election, { inputs, workers: 1 });
const outputs = mix!.outputs;
const decryption = [
  await decryptElectionShares(ceremony.trusteeKeys[0]!, {
    ciphertexts: outputs,
    fingerprint,
    workers: 1,
  }),
  await decryptElectionShares(ceremony.trusteeKeys[1]!, {
    ciphertexts: outputs,
    fingerprint,
    workers: 1,
  }),
];

const { plaintexts: combined } = await voteCombineDecryptionShares(decryption, {
  ciphertexts: outputs,
  workers: 1,
});

Deno.bench(`encrypt 1 ballot (client)`, { group: "ballot" }, () => {
  encryptElectionBallot(election, { credential: "v", answers: [[1]] });
});

// The simulated voters' task encrypts a chunk at once (issue 17 point 3): per-ballot CPU.
const voters = ballots.map((b, i) => ({ credential: b.credential, answers: [[i % 5]] }));
Deno.bench(`encrypt ${N} ballots one by one`, { group: "encrypt-many" }, () => {
  for (const v of voters) encryptElectionBallot(election, v);
});
Deno.bench(`encrypt ${N} ballots as one chunk`, { group: "encrypt-many" }, () => {
  encryptElectionBallots(election, voters);
});

const encoder = new TextEncoder();
const packed = ballots.map((b) => ({
  credential: encoder.encode(b.credential),
  proof: packBallotProof(b.proof),
}));
Deno.bench(`${N} receipts one by one`, { group: "receipts" }, () => {
  for (const b of ballots) ballotReceipt(b);
});
Deno.bench(`${N} receipts from bytes, prefix hashed once`, { group: "receipts" }, () => {
  const receipt = ballotReceipter(fingerprint);
  ballots.forEach((b, i) => receipt(packed[i]!.credential, b.ciphertext.bytes, packed[i]!.proof));
});

Deno.bench(`verify 1 ballot proof`, { group: "ballot" }, () => {
  verifyElectionBallot(election, ballots[0]!);
});

const items = ballots.map((b) => ({
  ciphertext: b.ciphertext,
  context: ballotProofContext(fingerprint, b.credential),
  proof: b.proof,
}));
Deno.bench(`verify ${N} ballot proofs one by one`, { group: "ballot-batch" }, () => {
  for (const item of items) {
    verifyEncryptionKnowledge({ publicKey: election.publicKey, ...item }, item.proof);
  }
});
Deno.bench(`verify ${N} ballot proofs as one batch`, { group: "ballot-batch" }, () => {
  verifyEncryptionKnowledgeBatch({ publicKey: election.publicKey, items });
});

for (const workers of [1, 2]) {
  Deno.bench(`cast ${N} ballots, ${workers} worker(s)`, { group: "box" }, async () => {
    await new ElectionBallotBox(election).castMany(ballots, { workers });
  });
  Deno.bench(`decryption shares of ${N}, ${workers} worker(s)`, { group: "decrypt" }, async () => {
    await decryptElectionShares(ceremony.trusteeKeys[0]!, {
      ciphertexts: outputs,
      fingerprint,
      workers,
    });
  });
  Deno.bench(
    `check ${N} plaintexts against shares, ${workers} worker(s)`,
    { group: "tally" },
    async () => {
      await voteCheckPlaintexts(decryption, {
        ciphertexts: outputs,
        plaintexts: combined,
        workers,
      });
    },
  );
  Deno.bench(`verify+combine+tally ${N}, ${workers} worker(s)`, { group: "tally" }, async () => {
    await tallyElection(election, {
      key: ceremony.key,
      ciphertexts: outputs,
      decryption,
      workers,
    });
  });
}

addEventListener("unload", () => closeWorkerPool());
