// The workers' ballot-proof check on stored records (tasks.ts voteVerifyStoredBallots) reads
// each proof's responses as bytes (issue 17): a response not below ℓ is MALFORMED, as when the
// proof was decoded into bigints, and the other ballots of its chunk keep their verdicts.
import assert from "node:assert/strict";
import { seededRandom } from "../../core/random.ts";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import { GROUP_ORDER } from "../../backends/reencrypt/mod.ts";
import { encryptElectionBallots } from "./ballot.ts";
import { encodedBallotChunk, encodeStoredBallots } from "./ballot_store.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import {
  VOTE_ITEM_INVALID,
  VOTE_ITEM_MALFORMED,
  VOTE_ITEM_OK,
  voteVerifyStoredBallots,
} from "./tasks.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

Deno.test("stored ballots' check: a response not below ℓ is malformed, a wrong one invalid", async () => {
  const definition = createElectionDefinition({
    id: "verify-stored",
    trustees: 1,
    mixers: 1,
    questions: [{ text: "Q", choices: ["a", "b", "c"] }],
  });
  const fingerprint = electionFingerprint(definition);
  const random = seededRandom("verify-stored");
  const { key } = runLocalKeyCeremony({ definition, fingerprint }, { random });
  const election = { definition, fingerprint, publicKey: key.publicKey };
  const ballots = encryptElectionBallots(
    election,
    Array.from({ length: 6 }, (_, i) => ({ credential: `voter-${i}`, answers: [[i % 3]], random })),
  );
  const chunk = encodedBallotChunk(encodeStoredBallots(ballots), "ballots");
  // The response of a width-1 record is its last 32 bytes.
  const responseAt = (i: number) => chunk.offsets[i + 1]! - 32;
  const write = (i: number, z: bigint) => {
    for (let k = 0; k < 32; k++, z >>= 8n) chunk.bytes[responseAt(i) + k] = Number(z & 0xffn);
  };
  write(2, ballots[2]!.proof.responses[0]! + GROUP_ORDER); // the same scalar, not canonical
  write(4, (ballots[4]!.proof.responses[0]! + 1n) % GROUP_ORDER); // canonical, wrong
  for (const workers of [1, 2]) {
    const { verdicts, receipts } = await voteVerifyStoredBallots(
      { publicKey: election.publicKey, fingerprint, width: 1, ballots: chunk },
      { workers },
    );
    assert.deepEqual([...verdicts], [
      VOTE_ITEM_OK,
      VOTE_ITEM_OK,
      VOTE_ITEM_MALFORMED,
      VOTE_ITEM_OK,
      VOTE_ITEM_INVALID,
      VOTE_ITEM_OK,
    ]);
    assert.ok(receipts.subarray(0, 32).some((b) => b !== 0));
    assert.ok(receipts.subarray(64, 96).every((b) => b === 0));
  }
  closeWorkerPool();
});
