/**
 * Issue 17: an election mixed by 3 mixer nodes that post their mixes in parts (parts of 100
 * ballots for 1,000 ballots: 10 parts and a final post per mixer) through a real board
 * (127.0.0.1, port 0), read back a chunk at a time into spool files by the readers of
 * `vote tally --board-url` and `vote trustee decrypt` (readElectionCascadeRecords), by the
 * in-memory reader and by verifyJobFromBoard: the same lists as the board's stored items,
 * proofs that verify, and the same tally as the same ballots mixed in single posts.
 */
import assert from "node:assert/strict";
import { toBase64Url } from "../core/bytes.ts";
import { allRecords } from "../core/records.ts";
import { seededRandom } from "../core/random.ts";
import {
  decodeCiphertext,
  decodeInteger,
  decrypt,
  encodeInteger,
  encrypt,
  generateKeyPair,
  shuffleProofFromRecords,
  verifyShuffleChainRecords,
} from "../backends/reencrypt/mod.ts";
import {
  ciphertextRecords,
  createElectionDefinition,
  electionFingerprint,
  readCiphertexts,
  runLocalElection,
  simulateElectionBallots,
  verifyElection,
} from "../plugins/vote/mod.ts";
import { backendByName } from "./backends.ts";
import { boardLogEntries, verifyJobFromBoard } from "./node/board_reader.ts";
import { NodeClient } from "./node/client.ts";
import { generateIdentity } from "./node/identity.ts";
import { TestNetwork } from "./node/test_support.ts";
import { Spool } from "./record_file.ts";
import { readElectionCascadeRecords } from "./vote_board_records.ts";
import {
  boardElectionCascade,
  boardElectionCascadeRecords,
  electionJobId,
  readElectionCascade,
} from "./vote_nodes.ts";

const definition = createElectionDefinition({
  id: "board-parts",
  trustees: 1,
  mixers: 3,
  questions: [{ text: "Q", choices: ["a", "b"] }],
});
const ce = { definition, fingerprint: electionFingerprint(definition) };
const job = electionJobId(definition.id);

Deno.test({
  name: "a 1,000-ballot election through 3 mixer nodes posting mixes in parts of 100: " +
    "read back in chunks, verified, the same tally as single posts",
  async fn() {
    const random = seededRandom("board-parts");
    const keys = generateKeyPair(random);
    const election = { ...ce, publicKey: keys.publicKey };
    const n = 1000;
    const cts = Array.from(
      { length: n },
      (_, i) => encrypt(keys.publicKey, [encodeInteger((i % 7) + 1)], { random }),
    );
    const inputs = ciphertextRecords(cts, 1);
    const tallies: Record<string, number[]> = {};
    for (const [name, mixPartItems] of [["parts", 100], ["single", 0]] as const) {
      const admin = generateIdentity();
      const net = await TestNetwork.create();
      const spool = await Spool.create();
      try {
        const { board, mixers } = await net.startCascade({
          admins: [toBase64Url(admin.publicKey)],
          mixPartItems,
        });
        const client = new NodeClient(board.url);
        const mixes = await boardElectionCascadeRecords({
          client: new NodeClient(board.url, { identity: admin }),
          admin,
          mixers: mixers.map((m) => m.identity.publicKey),
          job,
          timeoutMs: 300_000,
        })(inputs, { election, sinks: spool.sinks });
        assert.equal(mixes.length, 3);
        assert.ok(
          await verifyShuffleChainRecords({
            publicKey: keys.publicKey,
            inputs,
            steps: mixes,
            context: ce.fingerprint,
          }, { workers: 1 }),
        );
        // The log holds 10 parts and a final post per mixer (or one post per mixer).
        let mixPosts = 0;
        for await (const e of boardLogEntries(client, { bodyLimit: 0 })) {
          if (e.post.job === job && e.post.type === "mix") mixPosts++;
        }
        assert.equal(mixPosts, name === "parts" ? 33 : 3);
        // Every body streamed (limit 0) into files, a chunk of 37 at a time: the lists of
        // the in-memory reader and of the board's stored items of each stage.
        const streamed = await readElectionCascadeRecords(client, {
          job,
          sinks: spool.sinks,
          bodyLimit: 0,
          chunk: 37,
        });
        const whole = await readElectionCascade(client, { job });
        for (const [m, mix] of streamed.mixes.entries()) {
          assert.deepEqual(allRecords(mix.outputs), allRecords(mixes[m]!.outputs));
          assert.deepEqual(
            allRecords(mix.outputs),
            allRecords(ciphertextRecords(whole.mixes[m]!.outputs, 1)),
          );
          assert.deepEqual(shuffleProofFromRecords(mix.proof), whole.mixes[m]!.proof);
          const { items } = await client.getJson(`/v1/board/jobs/${job}/items?stage=${m + 1}`) as {
            items: unknown[];
          };
          assert.deepEqual(
            allRecords(mix.outputs),
            allRecords(ciphertextRecords(items.map((v, i) => decodeCiphertext(v, `i${i}`)), 1)),
          );
        }
        const verified = await verifyJobFromBoard(client, { job, backendByName });
        assert.deepEqual(verified.stages.map((s) => s.outputs), [n, n, n]);
        // The tally of the final outputs.
        const final = streamed.mixes[2]!.outputs;
        const counts = new Array(8).fill(0);
        for (const ct of readCiphertexts(final, 0, final.count)) {
          counts[decodeInteger(decrypt(keys.secretKey, ct)[0]!)]++;
        }
        tallies[name] = counts;
      } finally {
        spool.close();
        await net.close();
      }
    }
    assert.deepEqual(tallies.parts, tallies.single);
    assert.deepEqual(tallies.parts, [0, 143, 143, 143, 143, 143, 143, 142]);
  },
});

Deno.test("an election run through mixer nodes posting parts of 4 ballots gives a transcript that verifies", async () => {
  const admin = generateIdentity();
  const net = await TestNetwork.create();
  try {
    const { board, mixers } = await net.startCascade({
      admins: [toBase64Url(admin.publicKey)],
      mixPartItems: 4,
    });
    const definition = createElectionDefinition({
      id: "node-parts-election",
      trustees: 3,
      threshold: 2,
      mixers: 3,
      questions: [{ text: "Q", choices: ["a", "b", "c"] }],
    });
    const random = seededRandom("vote-node-parts");
    const { transcript } = await runLocalElection(definition, {
      random,
      workers: 1,
      cascade: boardElectionCascade({
        client: new NodeClient(board.url, { identity: admin }),
        admin,
        mixers: mixers.map((m) => m.identity.publicKey),
        timeoutMs: 60_000,
      }),
      ballots: (e) =>
        simulateElectionBallots(e, { count: 9, random, answers: (i) => [[i % 3]] }).ballots,
    });
    assert.deepEqual(transcript.tally.questions[0]!.counts, [3, 3, 3]);
    assert.equal((await verifyElection(transcript, { workers: 1 })).mixers, 3);
    // 3 parts (4, 4 and 1 ballots) and a final post per mixer.
    let mixPosts = 0;
    for await (const e of boardLogEntries(new NodeClient(board.url))) {
      if (e.post.type === "mix") mixPosts++;
    }
    assert.equal(mixPosts, 12);
  } finally {
    await net.close();
  }
});
