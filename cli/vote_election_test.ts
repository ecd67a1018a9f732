/**
 * An election run as docs/vote.md "An election on several machines" shows it: every party is
 * a separate `panoramix` process with its own folder and keys, talking to a board node and
 * three mixer nodes (real `panoramix node run` processes) on 127.0.0.1. A mixer fails and its
 * posted reason reaches the administrator; interrupted steps resume; forged posts are refused.
 */

import { ok, panoramix } from "./process_test_support.ts";
import assert from "node:assert/strict";
import { fromBase64Url } from "../core/bytes.ts";
import { decodeMsgpack } from "../core/envelope.ts";
import { encodeCiphertext, encodePublicKey } from "../backends/reencrypt/mod.ts";
import {
  ballotBoxFromEnvelope,
  createTrusteeDealing,
  decodeElectionKey,
  electionDefinitionFromEnvelope,
  electionFingerprint,
  encodeCeremonyPost,
  replayBallotBox,
  signCeremonyPost,
} from "../plugins/vote/mod.ts";
import { closeWorkerPool } from "../core/worker_pool.ts";
import { readAnyEnvelopeFile } from "./files.ts";
import { NodeClient } from "./node/client.ts";
import { freePort, NodeProcess } from "./node/cluster.ts";
import { generateIdentity, identityFromEnvelope } from "./node/identity.ts";
import { createJob, submitInputs } from "./node/job_client.ts";
import { createPost } from "./node/posts.ts";

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

async function envelope(path: string) {
  return await readAnyEnvelopeFile(path, new ReadableStream());
}

async function setBodyLimit(configPath: string, bytes: number): Promise<void> {
  const config = await readJson(configPath);
  (config.limits as Record<string, unknown>).maxBodyBytes = bytes;
  await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2));
}

Deno.test({
  name:
    "an election on separate machines: 3 trustee processes, 3 mixer nodes, a failing mixer, resumed steps",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "vote-election-" });
    const nodes: NodeProcess[] = [];
    const dir = (name: string) => `${root}/${name}`;
    try {
      for (const d of ["admin", "t1", "t2", "t3", "voters", "nodes"]) {
        await Deno.mkdir(dir(d));
      }
      // --- The administrator's identity and the board node (fixed port: it restarts below).
      const adminKey =
        (await ok(dir("admin"), "vote", "trustee", "keygen", "--out", "admin.key.json"))
          .stdout.trim();
      const port = freePort();
      await ok(
        dir("nodes"),
        ...["node", "init", "--dir", "board", "--name", "board", "--roles", "board,directory"],
        ...["--http-listen", `127.0.0.1:${port}`, "--admin", adminKey],
      );
      const boardConfig = `${dir("nodes")}/board/node.json`;
      // An operator error to diagnose: the board refuses bodies over 2 kB, too small for a
      // mixer's outputs and shuffle proof (ballots and ceremony posts are smaller).
      await setBodyLimit(boardConfig, 2000);
      let board = await NodeProcess.spawn(boardConfig);
      nodes.push(board);
      const url = board.info.url;

      // --- Three mixer nodes, each its own process and folder.
      const mixerIds: string[] = [];
      for (const i of [1, 2, 3]) {
        const init = await ok(
          dir("nodes"),
          ...["node", "init", "--dir", `mix${i}`, "--name", `mix${i}`, "--roles", "cascade"],
          ...["--http-listen", "127.0.0.1:0", "--board-url", url, "--json"],
        );
        mixerIds.push(JSON.parse(init.stdout).identity);
        nodes.push(await NodeProcess.spawn(`${dir("nodes")}/mix${i}/node.json`));
      }
      // A reencrypt mixer needs no key of its own: node init says so instead of writing one.
      const refused = await panoramix(
        dir("nodes"),
        "node",
        "init",
        "--dir",
        "mix9",
        "--mix-key",
        "reencrypt",
      );
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /mixes under the public key each job names/);

      // --- Trustees make their identity keys on their own machines.
      const trustees = [1, 2, 3];
      const keys = await Promise.all(
        trustees.map(async (i) =>
          (await ok(dir(`t${i}`), "vote", "trustee", "keygen", "--out", `trustee-${i}.id.json`))
            .stdout.trim()
        ),
      );

      // --- The administrator defines and publishes the election.
      await ok(
        dir("admin"),
        ...["vote", "init", "--id", "demo", "--question", "Chair?=Ann,Bob,Cid"],
        ...keys.flatMap((k) => ["--trustee-key", k]),
        ...["--threshold", "2", "--mixers", "3", "--out", "election.json"],
      );
      const publish = [
        ...["vote", "publish", "--election", "election.json", "--board-url", url],
        ...["--admin-identity", "admin.key.json"],
      ];
      await ok(dir("admin"), ...publish);
      assert.match((await ok(dir("admin"), ...publish)).stdout, /was already on the board/);
      for (const i of trustees) {
        await Deno.copyFile(`${dir("admin")}/election.json`, `${dir(`t${i}`)}/election.json`);
      }

      // --- Key ceremony, each trustee in its own process; shares go privately (copied here).
      const step = (i: number, ...args: string[]) =>
        ok(
          dir(`t${i}`),
          ...["vote", "trustee", ...args, "--election", "election.json", "--trustee", `${i}`],
          ...["--board-url", url, "--identity", `trustee-${i}.id.json`],
        );
      await Promise.all(trustees.map((i) => step(i, "deal", "--outbox", "out")));
      // Re-running a step resumes: the dealing is already on the board.
      assert.match((await step(1, "deal", "--outbox", "out")).stderr, /already posted/);
      for (const i of trustees) {
        for (const j of trustees) {
          await Deno.mkdir(`${dir(`t${j}`)}/in`, { recursive: true });
          await Deno.copyFile(
            `${dir(`t${i}`)}/out/share-${i}-to-${j}.json`,
            `${dir(`t${j}`)}/in/share-${i}-to-${j}.json`,
          );
        }
      }
      const checks = await Promise.all(trustees.map((i) => step(i, "check", "--inbox", "in")));
      for (const c of checks) assert.match(c.stdout, /all 3 shares check out/);
      await Promise.all(trustees.map((i) => step(i, "answer", "--outbox", "out")));
      await Promise.all(
        trustees.map((i) => step(i, "finalize", "--inbox", "in", "--secret", `trustee-${i}.key`)),
      );

      // --- Posts that are not the trustee's own are refused by the board.
      const definition = electionDefinitionFromEnvelope(
        await readAnyEnvelopeFile(`${dir("admin")}/election.json`, new ReadableStream()),
      );
      const election = { definition, fingerprint: electionFingerprint(definition) };
      const t3 = identityFromEnvelope(await envelope(`${dir("t3")}/trustee-3.id.json`), "t3");
      const t2 = identityFromEnvelope(await envelope(`${dir("t2")}/trustee-2.id.json`), "t2");
      const forgedDealing = createTrusteeDealing(election, { trustee: 2 }).dealing;
      const post = (author: typeof t2, body: ReturnType<typeof encodeCeremonyPost>) =>
        new NodeClient(url, { identity: author }).submitPost(
          createPost(author, { job: "vote-demo", type: "ceremony", body }),
        );
      // Trustee 3 posting as trustee 2: refused (author is not trustee 2's key).
      forgedDealing.signature = signCeremonyPost(
        election,
        { dealing: forgedDealing },
        t2.secretKey,
      );
      await assert.rejects(
        post(t3, encodeCeremonyPost(election, { dealing: forgedDealing })),
        /Author is not trustee 2's identity key.*HTTP 403/,
      );
      // Trustee 2's key as author but the content unsigned, or signed by another key: refused.
      const { signature: _, ...unsigned } = forgedDealing;
      await assert.rejects(
        post(t2, encodeCeremonyPost(election, { dealing: unsigned })),
        /Dealing of trustee 2 is not signed/,
      );
      const otherKey = generateIdentity();
      const { trusteeKeys: _keys, ...keylessDefinition } = definition;
      const keyless = { ...election, definition: keylessDefinition };
      const wrong = {
        ...unsigned,
        signature: signCeremonyPost(keyless, { dealing: unsigned }, otherKey.secretKey),
      };
      await assert.rejects(
        post(t2, encodeCeremonyPost(election, { dealing: wrong })),
        /Dealing of trustee 2: signature does not verify/,
      );
      // A second, different dealing by trustee 2 itself: refused (a trustee deals once).
      await assert.rejects(
        post(t2, encodeCeremonyPost(election, { dealing: forgedDealing })),
        /already posted its vote.dealing.*HTTP 409/,
      );

      // --- Anyone resolves the election key; voters encrypt (the booth goes here too).
      await ok(
        dir("voters"),
        ...["vote", "key", "--election", `${dir("admin")}/election.json`, "--board-url", url],
        ...["--out", "election-key.json"],
      );
      const votes = ["Ann", "Bob", "Ann", "Cid", "Ann", "Bob"];
      await Promise.all(votes.map((answer, v) =>
        ok(
          dir("voters"),
          ...["vote", "encrypt", "--election", `${dir("admin")}/election.json`],
          ...["--key", "election-key.json", "--credential", `voter-${v + 1}`],
          ...["--answer", answer, "--out", `ballot-${v + 1}.json`],
        )
      ));
      await ok(
        dir("admin"),
        ...["vote", "submit", "--election", "election.json"],
        ...["--key", `${dir("voters")}/election-key.json`, "--box", "box.msgpack"],
        ...votes.slice(0, 5).map((_, v) => `${dir("voters")}/ballot-${v + 1}.json`),
      );
      // Boxes that are not the one closed: ballot 5 missing, replaced by 6, or 6 added.
      const otherBox = (name: string, ballots: number[]) =>
        ok(
          dir("admin"),
          ...["vote", "submit", "--election", "election.json"],
          ...["--key", `${dir("voters")}/election-key.json`, "--box", name],
          ...ballots.map((v) => `${dir("voters")}/ballot-${v}.json`),
        );
      await otherBox("box-missing.msgpack", [1, 2, 3, 4]);
      await otherBox("box-other.msgpack", [1, 2, 3, 4, 6]);
      await otherBox("box-extra.msgpack", [1, 2, 3, 4, 5, 6]);

      // --- An interrupted close: the job and 2 of the 5 ballots reached the board.
      const admin = identityFromEnvelope(await envelope(`${dir("admin")}/admin.key.json`), "admin");
      const key = decodeElectionKey(election, await envelope(`${dir("voters")}/election-key.json`));
      const info = { ...election, publicKey: key.publicKey };
      const box = await replayBallotBox(
        info,
        ballotBoxFromEnvelope(
          info,
          decodeMsgpack(await Deno.readFile(`${dir("admin")}/box.msgpack`), "box"),
        ),
        { workers: 1 },
      );
      const inputs = box.close();
      const adminClient = new NodeClient(url, { identity: admin });
      await createJob(adminClient, {
        id: "vote-demo",
        admin,
        spec: {
          backend: "reencrypt",
          stages: mixerIds.map((m) => ({
            mixer: fromBase64Url(m, "m"),
            key: encodePublicKey(key.publicKey),
          })),
          minInputs: inputs.length,
          submitters: [admin.publicKey],
          context: election.fingerprint,
        },
      });
      await submitInputs(adminClient, {
        id: "vote-demo",
        submitter: admin,
        items: inputs.slice(0, 2).map(encodeCiphertext),
      });
      const close = [
        ...["vote", "close", "--election", "election.json", "--box", "box.msgpack"],
        ...["--board-url", url, "--admin-identity", "admin.key.json"],
        ...mixerIds.flatMap((m) => ["--mixer-node", m]),
      ];
      const closed = await ok(dir("admin"), ...close);
      assert.match(closed.stderr, /resuming/);
      assert.match(closed.stderr, /3 ballots posted \(2 were already\)/);
      assert.match(closed.stdout, /5 counted ballots in job 'vote-demo'/);

      // --- The first mixer cannot post its mix: its reason reaches the administrator.
      const waiting = await panoramix(
        dir("admin"),
        ...["vote", "mix", "--election", "election.json", "--board-url", url, "--timeout", "15"],
      );
      assert.equal(waiting.code, 9, waiting.stderr);
      assert.match(waiting.stderr, /mixing stage 1 of 3/);
      assert.match(waiting.stderr, /reports: .*(too large|413)/i);
      assert.match(waiting.stderr, /not done after 15 s \(mixing stage 1 of 3; mixer .* reports: /);
      // A tally now says the same instead of a bare timeout.
      const early = await panoramix(
        dir("admin"),
        ...["vote", "tally", "--election", "election.json", "--board-url", url],
        ...["--box", "box.msgpack", "--out", "transcript.msgpack", "--timeout", "1"],
      );
      assert.equal(early.code, 9);
      assert.match(early.stderr, /reports: /);

      // --- The operator raises the limit and restarts the board; the cascade resumes.
      await board.stop();
      await setBodyLimit(boardConfig, 64 * 1024 * 1024);
      board = await NodeProcess.spawn(boardConfig);
      nodes[0] = board;
      assert.equal(board.info.url, url);
      const mixed = await ok(
        dir("admin"),
        ...["vote", "mix", "--election", "election.json", "--board-url", url, "--timeout", "120"],
      );
      assert.match(mixed.stdout, /mixed by 3 mixer nodes \(5 ballots\)/);
      // Closing again is a no-op (no "already exists (HTTP 409)").
      assert.match((await ok(dir("admin"), ...close)).stderr, /already on the board \(done\)/);

      // --- A trustee checks the job against the mixer nodes and the box the administrator
      // named: another list of mixers, or a box that is not the mix input, is refused (exit 3)
      // before anything is decrypted or posted (the board holds no shares below).
      const decryptChecked = (i: number, box: string, mixers: string[]) =>
        panoramix(
          dir(`t${i}`),
          ...["vote", "trustee", "decrypt", "--election", "election.json", "--trustee", `${i}`],
          ...["--secret", `trustee-${i}.key`, "--identity", `trustee-${i}.id.json`],
          ...["--board-url", url, "--box", `${dir("admin")}/${box}`],
          ...mixers.flatMap((m) => ["--mixer-node", m]),
        );
      const reordered = await decryptChecked(1, "box.msgpack", [...mixerIds].reverse());
      assert.equal(reordered.code, 3, reordered.stderr);
      assert.match(
        reordered.stderr,
        /^panoramix: error: Board job 'vote-demo' names other mixer nodes than the 3 given\n$/,
      );
      const missing = await decryptChecked(2, "box-missing.msgpack", mixerIds);
      assert.equal(missing.code, 3, missing.stderr);
      assert.match(
        missing.stderr,
        /panoramix: error: Board job 'vote-demo' holds more than the 4 inputs of this ballot box\n$/,
      );
      const other = await decryptChecked(2, "box-other.msgpack", mixerIds);
      assert.equal(other.code, 3, other.stderr);
      assert.match(
        other.stderr,
        /panoramix: error: Board job 'vote-demo' holds other inputs than this ballot box's \(from input 5\)\n$/,
      );
      const extra = await decryptChecked(2, "box-extra.msgpack", mixerIds);
      assert.equal(extra.code, 3, extra.stderr);
      assert.match(
        extra.stderr,
        /panoramix: error: Board job 'vote-demo' holds 5 inputs, fewer than the 6 of this ballot box\n$/,
      );
      const fewer = await decryptChecked(2, "box.msgpack", mixerIds.slice(0, 2));
      assert.equal(fewer.code, 2, fewer.stderr);
      assert.match(fewer.stderr, /defines 3 mixers; got 2 --mixer-node/);

      // --- Too few trustees have decrypted: the tally says who is missing.
      const tally = [
        ...["vote", "tally", "--election", "election.json", "--board-url", url],
        ...["--box", "box.msgpack", "--out", "transcript.msgpack"],
      ];
      const none = await panoramix(dir("admin"), ...tally);
      assert.equal(none.code, 9);
      assert.match(none.stderr, /needs 2 trustees' shares; the board holds 0/);

      // --- Trustees 1 and 3 decrypt on their own machines, from their own key files.
      const decrypt = (i: number) =>
        ok(
          dir(`t${i}`),
          ...["vote", "trustee", "decrypt", "--election", "election.json", "--trustee", `${i}`],
          ...["--secret", `trustee-${i}.key`, "--identity", `trustee-${i}.id.json`],
          ...["--board-url", url],
        );
      // Trustee 1 checks the mixers and the mix input; trustee 3 trusts the board, and is
      // told so once on stderr.
      const decrypted = await Promise.all([
        decryptChecked(1, "box.msgpack", mixerIds),
        decrypt(3),
      ]);
      for (const d of decrypted) {
        assert.equal(d.code, 0, d.stderr);
        assert.match(d.stdout, /5 decryption shares posted .*3 shuffle proofs checked/);
      }
      assert.match(
        decrypted[0]!.stdout,
        /3 shuffle proofs checked, mixer nodes as given, mix input = the box's 5 counted ballots\)/,
      );
      assert.doesNotMatch(decrypted[0]!.stderr, /warning/);
      assert.doesNotMatch(decrypted[1]!.stdout, /mixer nodes as given|mix input/);
      const warnings = decrypted[1]!.stderr.match(/warning: .*/g) ?? [];
      assert.equal(warnings.length, 1, decrypted[1]!.stderr);
      assert.match(
        warnings[0]!,
        /trusting the board for the mixer nodes and the mix input .*--mixer-node .*--box /,
      );
      assert.match((await decrypt(1)).stdout, /already on the board/);

      // --- The administrator tallies from the board; anyone verifies the transcript.
      const result = await ok(dir("admin"), ...tally);
      assert.match(result.stdout, /5 ballots, 5 valid/);
      assert.match(result.stdout, /3 {2}Ann/);
      assert.match(result.stdout, /1 {2}Bob/);
      assert.match(result.stdout, /1 {2}Cid/);
      const verified = await ok(
        dir("voters"),
        "vote",
        "verify",
        `${dir("admin")}/transcript.msgpack`,
      );
      assert.match(verified.stdout, /decryption by trustees 1, 3/);
    } finally {
      for (const n of nodes) await n.stop().catch(() => {});
      closeWorkerPool();
      await Deno.remove(root, { recursive: true });
    }
  },
});
