import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack, toJsonView } from "../../core/envelope.ts";
import {
  ballotBoxFromEnvelope,
  ballotReceipt,
  createElectionDefinition,
  electionBallotToEnvelope,
  type ElectionDefinition,
  electionDefinitionToEnvelope,
  electionFingerprint,
  type ElectionPublicInfo,
  electionTranscriptToEnvelope,
  encodeCeremonyPost,
  encryptElectionBallot,
  formatElectionReceipt,
  runLocalElection,
  runLocalKeyCeremony,
  simulateElectionBallots,
} from "../../plugins/vote/mod.ts";
import { writeEnvelopeFile } from "../files.ts";
import { keyText } from "../node/cluster.ts";
import { generateIdentity, identityToEnvelope } from "../node/identity.ts";
import { silentLogger } from "../node/log.ts";
import { TestNetwork } from "../node/test_support.ts";
import { runInMemory } from "../test_context.ts";
import { startVoteServer } from "./serve_command.ts";

function definition(id: string, revote: "reject" | "last" = "reject"): ElectionDefinition {
  return createElectionDefinition({
    id,
    trustees: 1,
    mixers: 1,
    revote,
    questions: [{ text: "Chair?", choices: ["Ann", "Bob"] }],
  });
}

async function writeElection(dir: string, d: ElectionDefinition): Promise<ElectionPublicInfo> {
  const fingerprint = electionFingerprint(d);
  const { key } = runLocalKeyCeremony({ definition: d, fingerprint });
  await Deno.writeFile(`${dir}/election.msgpack`, encodeMsgpack(electionDefinitionToEnvelope(d)));
  await Deno.writeFile(
    `${dir}/key.msgpack`,
    encodeMsgpack(encodeCeremonyPost({ definition: d, fingerprint }, { key })),
  );
  return { definition: d, fingerprint, publicKey: key.publicKey };
}

// deno-lint-ignore no-explicit-any
async function post(url: string, value: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(toJsonView(value)),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("vote serve: the online box applies the rules of vote submit, commits, and says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "panoramix-online-box-" });
  const election = await writeElection(dir, definition("e1"));
  await Deno.writeTextFile(`${dir}/roll.txt`, "v1\nv2\n");
  const options = {
    election: `${dir}/election.msgpack`,
    key: `${dir}/key.msgpack`,
    voters: `${dir}/roll.txt`,
    store: `${dir}/box.sqlite`,
    listen: "127.0.0.1:0",
    logger: silentLogger,
  };
  let server = await startVoteServer(options);
  try {
    const ballots = `${server.url}/v1/vote/elections/e1/ballots`;
    const ballot = encryptElectionBallot(election, { credential: "v1", answers: [[1]] });
    const env = electionBallotToEnvelope(ballot);
    const ok = await post(ballots, env);
    assert.equal(ok.status, 201);
    assert.equal(ok.body.receipt, formatElectionReceipt(ballotReceipt(ballot)));
    assert.equal(ok.body.position, 1);
    // Replay, duplicate, roll, wrong election, bad proof: each refused with the box's reason.
    const replay = await post(ballots, env);
    assert.equal(replay.status, 409);
    assert.match(replay.body.message, /already cast/);
    const twice = await post(
      ballots,
      electionBallotToEnvelope(
        encryptElectionBallot(election, { credential: "v1", answers: [[0]] }),
      ),
    );
    assert.equal(twice.status, 409);
    assert.match(twice.body.message, /has already voted/);
    const stranger = await post(
      ballots,
      electionBallotToEnvelope(
        encryptElectionBallot(election, { credential: "zz", answers: [[0]] }),
      ),
    );
    assert.equal(stranger.status, 400);
    assert.match(stranger.body.message, /not on the voter roll/);
    const other = definition("e2");
    const foreign = encryptElectionBallot(
      { ...election, definition: other, fingerprint: electionFingerprint(other) },
      { credential: "v2", answers: [[0]] },
    );
    const wrong = await post(ballots, electionBallotToEnvelope(foreign));
    assert.equal(wrong.status, 400);
    const forged = encryptElectionBallot(election, { credential: "v2", answers: [[0]] });
    forged.proof.responses[0] = forged.proof.responses[0]! + 1n;
    const bad = await post(ballots, electionBallotToEnvelope(forged));
    assert.equal(bad.status, 422);
    // The receipt check.
    const check =
      await (await fetch(`${server.url}/v1/vote/elections/e1/receipts/${ok.body.receipt}`)).json();
    assert.deepEqual(check, { status: "counted", position: 1, state: "open" });
    const absent =
      await (await fetch(`${server.url}/v1/vote/elections/e1/receipts/${"00".repeat(32)}`)).json();
    assert.equal(absent.status, "absent");
    assert.equal((await fetch(`${server.url}/v1/vote/elections/e1/receipts/xyz`)).status, 400);
    assert.equal((await fetch(`${server.url}/v1/vote/elections/nope`)).status, 404);
    // The box file for vote tally holds exactly the accepted ballot.
    const box = await (await fetch(`${server.url}/v1/vote/elections/e1/box`)).bytes();
    assert.equal(ballotBoxFromEnvelope(election, decodeMsgpack(box, "box")).length, 1);
    // Rate limit: a burst of 10 ballots per address, then 429 with Retry-After.
    let limited: Response | undefined;
    for (let i = 0; i < 12 && !limited; i++) {
      const r = await fetch(ballots, { method: "POST", body: "{}" });
      await r.body?.cancel();
      if (r.status === 429) limited = r;
    }
    assert.ok(limited, "no 429 after a burst of ballots");
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
  } finally {
    await server.stop();
  }
  // Committed before the receipt: a restarted server still holds the ballot.
  server = await startVoteServer(options);
  try {
    const info = await (await fetch(`${server.url}/v1/vote/elections/e1`)).json();
    assert.equal(info.ballots, 1);
    assert.equal(info.state, "open");
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vote booth: an admin puts an election on a node, closes it, takes the box, publishes results", async () => {
  const net = await TestNetwork.create();
  const admin = generateIdentity();
  const dir = `${net.root}/files`;
  await Deno.mkdir(dir);
  try {
    const node = await net.start({ name: "board", roles: ["board"], admins: [keyText(admin)] });
    const d = definition("city", "last");
    // The results come from the library's own run of this definition (same fingerprint).
    const { transcript } = await runLocalElection(d, {
      workers: 1,
      ballots: (e) => simulateElectionBallots(e, { count: 3 }).ballots,
    });
    const info = {
      definition: d,
      fingerprint: transcript.fingerprint,
      publicKey: transcript.key.publicKey,
    };
    await Deno.writeFile(`${dir}/election.msgpack`, encodeMsgpack(electionDefinitionToEnvelope(d)));
    await Deno.writeFile(
      `${dir}/key.msgpack`,
      encodeMsgpack(encodeCeremonyPost(transcript, { key: transcript.key })),
    );
    await Deno.writeFile(
      `${dir}/transcript.msgpack`,
      encodeMsgpack(electionTranscriptToEnvelope(transcript)),
    );
    await writeEnvelopeFile(`${dir}/admin.key.json`, identityToEnvelope(admin), { secret: true });
    await writeEnvelopeFile(`${dir}/other.key.json`, identityToEnvelope(generateIdentity()), {
      secret: true,
    });
    const base = [
      "vote",
      "booth",
      "--board-url",
      node.url,
      "--election",
      `${dir}/election.msgpack`,
      "--key",
      `${dir}/key.msgpack`,
    ];
    const refused = await runInMemory([...base, "--admin-identity", `${dir}/other.key.json`]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /Only a board admin may manage elections/);
    const opened = await runInMemory([...base, "--admin-identity", `${dir}/admin.key.json`]);
    assert.equal(opened.status, 0, opened.stderr);
    assert.match(opened.stdout, /election city: ballot box open, 0 ballots/);
    assert.match(opened.stdout, new RegExp(`booth: +${node.url}/vote\\?election=city`));
    // Voters cast the transcript's ballots (same election, same key) through the endpoint.
    for (const b of transcript.ballots) {
      const r = await post(
        `${node.url}/v1/vote/elections/city/ballots`,
        electionBallotToEnvelope(b),
      );
      assert.equal(r.status, 201);
    }
    const closed = await runInMemory([
      ...base,
      "--admin-identity",
      `${dir}/admin.key.json`,
      "--close",
      "--box-out",
      `${dir}/box.msgpack`,
      "--json",
    ]);
    assert.equal(closed.status, 0, closed.stderr);
    assert.equal(JSON.parse(closed.stdout).state, "closed");
    const box = decodeMsgpack(await Deno.readFile(`${dir}/box.msgpack`), "box");
    assert.equal(ballotBoxFromEnvelope(info, box).length, 3);
    const late = await post(
      `${node.url}/v1/vote/elections/city/ballots`,
      electionBallotToEnvelope(
        encryptElectionBallot(
          {
            definition: d,
            fingerprint: transcript.fingerprint,
            publicKey: transcript.key.publicKey,
          },
          { credential: "late", answers: [[0]] },
        ),
      ),
    );
    assert.equal(late.status, 400);
    assert.match(late.body.message, /closed/);
    const published = await runInMemory([
      ...base,
      "--admin-identity",
      `${dir}/admin.key.json`,
      "--transcript",
      `${dir}/transcript.msgpack`,
    ]);
    assert.equal(published.status, 0, published.stderr);
    assert.match(published.stdout, /results published/);
    const served = await (await fetch(`${node.url}/v1/vote/elections/city/transcript`)).bytes();
    assert.deepEqual(served, encodeMsgpack(electionTranscriptToEnvelope(transcript)));
  } finally {
    await net.close();
  }
});

Deno.test("vote serve: under policy 'last' a new ballot replaces the voter's earlier one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "panoramix-online-box-" });
  const election = await writeElection(dir, definition("e3", "last"));
  const server = await startVoteServer({
    election: `${dir}/election.msgpack`,
    key: `${dir}/key.msgpack`,
    store: `${dir}/box.sqlite`,
    listen: "127.0.0.1:0",
    logger: silentLogger,
  });
  try {
    const url = `${server.url}/v1/vote/elections/e3`;
    const cast = (answer: number) =>
      post(
        `${url}/ballots`,
        electionBallotToEnvelope(
          encryptElectionBallot(election, { credential: "v1", answers: [[answer]] }),
        ),
      );
    const first = await cast(0);
    const second = await cast(1);
    assert.equal(second.status, 201);
    assert.equal(second.body.supersedes, 1);
    const status = async (r: string) => (await (await fetch(`${url}/receipts/${r}`)).json()).status;
    assert.equal(await status(first.body.receipt), "superseded");
    assert.equal(await status(second.body.receipt), "counted");
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
