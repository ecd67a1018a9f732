import assert from "node:assert/strict";
import { type ItemChunks, memoryItemChunks } from "../../core/records.ts";
import { seededRandom } from "../../core/random.ts";
import { ballotReceipt, type ElectionBallot, encryptElectionBallot } from "./ballot.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint, type RevotePolicy } from "./definition.ts";
import type { ElectionTranscript } from "./election_transcript.ts";
import { checkElectionReceipt, checkElectionReceiptRecords } from "./receipt.ts";

/** Ballots read in chunks of `size` whatever the reader asks. */
function chunksOf<T>(items: readonly T[], size: number): ItemChunks<T> {
  const all = memoryItemChunks(items);
  return { count: all.count, chunks: () => all.chunks(size) };
}

for (const revote of ["last", "reject"] as RevotePolicy[]) {
  Deno.test(`receipts read in chunks: the answers of the whole list (revote ${revote})`, async () => {
    const definition = createElectionDefinition({
      id: "receipts",
      trustees: 1,
      mixers: 1,
      revote,
      questions: [{ text: "Q", choices: ["a", "b"] }],
    });
    const fingerprint = electionFingerprint(definition);
    const random = seededRandom(`receipts-${revote}`);
    const { key } = runLocalKeyCeremony({ definition, fingerprint }, { random });
    const election = { definition, fingerprint, publicKey: key.publicKey };
    // v1 votes three times (positions 1, 4, 7), v2 twice (2, 6), v3 once.
    const credentials = ["v1", "v2", "v3", "v1", "v4", "v2", "v1"];
    const ballots: ElectionBallot[] = credentials.map((credential, i) =>
      encryptElectionBallot(election, { credential, answers: [[i % 2]], random })
    );
    const whole = { definition, ballots } as unknown as ElectionTranscript;
    const receipts = [...ballots.map(ballotReceipt), new Uint8Array(32)];
    const expected = receipts.map((r) => checkElectionReceipt(whole, r));
    assert.deepEqual(
      expected.map((c) => c.status),
      revote === "last"
        ? [
          "superseded",
          "superseded",
          "counted",
          "superseded",
          "counted",
          "counted",
          "counted",
          "absent",
        ]
        : [...credentials.map(() => "counted"), "absent"],
    );
    assert.deepEqual(expected[3], { status: expected[3]!.status, position: 4, credential: "v1" });
    for (const size of [1, 2, 3, 100]) {
      for (const [i, receipt] of receipts.entries()) {
        const check = await checkElectionReceiptRecords(
          { definition, ballots: chunksOf(ballots, size) },
          receipt,
        );
        assert.deepEqual(check, expected[i], `receipt ${i + 1}, chunks of ${size}`);
      }
    }
  });
}
