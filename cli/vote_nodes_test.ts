import assert from "node:assert/strict";
import { toBase64Url } from "../core/bytes.ts";
import { seededRandom } from "../core/random.ts";
import {
  createElectionDefinition,
  runLocalElection,
  simulateElectionBallots,
  verifyElection,
} from "../plugins/vote/mod.ts";
import { NodeClient } from "./node/client.ts";
import { generateIdentity } from "./node/identity.ts";
import { TestNetwork } from "./node/test_support.ts";
import { boardElectionCascade } from "./vote_nodes.ts";

Deno.test("vote through nodes: 3 mixer nodes mix the ballots, the transcript verifies", async () => {
  const admin = generateIdentity();
  const net = await TestNetwork.create();
  try {
    const { board, mixers } = await net.startCascade({ admins: [toBase64Url(admin.publicKey)] });
    const definition = createElectionDefinition({
      id: "node-election",
      trustees: 3,
      threshold: 2,
      mixers: 3,
      questions: [{ text: "Q", choices: ["a", "b", "c"] }],
    });
    const random = seededRandom("vote-nodes");
    const answers = (i: number) => [[i % 3]];
    const cascade = boardElectionCascade({
      client: new NodeClient(board.url, { identity: admin }),
      admin,
      mixers: mixers.map((m) => m.identity.publicKey),
      timeoutMs: 60_000,
    });
    const { transcript } = await runLocalElection(definition, {
      random,
      workers: 1,
      cascade,
      ballots: (e) => simulateElectionBallots(e, { count: 9, random, answers }).ballots,
    });
    assert.deepEqual(transcript.tally.questions[0]!.counts, [3, 3, 3]);
    const report = await verifyElection(transcript, { workers: 1 });
    assert.equal(report.mixers, 3);
    // A retry (say, of an interrupted `vote tally`) resumes the same job: no "already
    // exists (HTTP 409)", the same mixes come back.
    const election = {
      definition,
      fingerprint: transcript.fingerprint,
      publicKey: transcript.key.publicKey,
    };
    const again = await cascade(transcript.mixInput, { election });
    assert.deepEqual(
      again.map((m) => m.outputs.map((c) => c.bytes)),
      transcript.mixes.map((m) => m.outputs.map((c) => c.bytes)),
    );
    // Another box under the same job id is refused, naming the job.
    await assert.rejects(
      cascade([...transcript.mixInput].reverse(), { election }),
      /Board job 'vote-node-election' .*other inputs/,
    );
  } finally {
    await net.close();
  }
});
