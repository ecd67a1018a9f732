/**
 * `panoramix token …` against real node processes: an issuer written by
 * `token issuer-init`, a board whose inputs need tokens; fetch, list, redeem, then
 * settlement after the (short) epoch ends, and the issuer's audit, honest and not.
 */
import assert from "node:assert/strict";
import { toBase64Url } from "../core/bytes.ts";
import { encodeMsgpack } from "../core/envelope.ts";
import { plainBackend } from "../core/plain_backend.ts";
import { writeEnvelopeFile } from "./files.ts";
import { NodeClient } from "./node/client.ts";
import { freePort, NodeProcess, writeNodeDir } from "./node/cluster.ts";
import { generateIdentity, identityToEnvelope } from "./node/identity.ts";
import { createJob } from "./node/job_client.ts";
import { SETTLEMENT_JOB } from "./node/board.ts";
import { createPost, postToEnvelope, readPost } from "./node/posts.ts";
import { runInMemory } from "./test_context.ts";

const EPOCH_SECONDS = 8;

Deno.test("token commands: help, and bad input gets one clear line", async () => {
  const help = await runInMemory(["token", "--help"]);
  assert.equal(help.status, 0);
  for (const c of ["issuer-init", "fetch", "list", "redeem", "settle", "audit"]) {
    assert.match(help.stdout, new RegExp(c));
  }
  const dir = await Deno.makeTempDir();
  try {
    const none = await runInMemory(["token", "list", "--wallet", `${dir}/none.json`, "--json"]);
    assert.equal(none.status, 0, none.stderr);
    assert.deepEqual(JSON.parse(none.stdout), { tokens: [] });
    const noToken = await runInMemory([
      "token",
      "redeem",
      "--url",
      "http://127.0.0.1:9/v1/x",
      "--wallet",
      `${dir}/none.json`,
    ]);
    assert.equal(noToken.status, 5);
    assert.match(
      noToken.stderr,
      /^panoramix: error: Wallet .* holds no valid token for '127.0.0.1:9'/,
    );
    const badType = await runInMemory(["token", "issuer-init", "--dir", dir, "--type", "3"]);
    assert.equal(badType.status, 5);
    assert.match(badType.stderr, /'issuer.type' must be 1 or 2/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("token fetch, redeem, settle and audit with real nodes", async () => {
  const root = await Deno.makeTempDir({ prefix: "panoramix-token-cli-" });
  const nodes: NodeProcess[] = [];
  try {
    const id = await runInMemory(["token", "id", "--out", `${root}/user.key.json`, "--json"]);
    assert.equal(id.status, 0, id.stderr);
    const userKey = JSON.parse(id.stdout).identity;
    const init = await runInMemory([
      "token",
      "issuer-init",
      "--dir",
      `${root}/issuer`,
      "--allow",
      userKey,
      "--quota",
      "3",
      "--epoch-seconds",
      String(EPOCH_SECONDS),
      "--http-listen",
      `127.0.0.1:${freePort()}`,
      "--json",
    ]);
    assert.equal(init.status, 0, init.stderr);
    const issuer = await NodeProcess.spawn(`${root}/issuer/node.json`);
    nodes.push(issuer);
    assert.equal(issuer.info.identity, JSON.parse(init.stdout).identity);

    const admin = generateIdentity();
    const boardFiles = await writeNodeDir(`${root}/board`, {
      name: "board",
      roles: ["board"],
      httpPort: freePort(),
      admins: [toBase64Url(admin.publicKey)],
    });
    const config = JSON.parse(await Deno.readTextFile(boardFiles.configPath));
    config.tokens = {
      services: ["board.inputs"],
      issuers: [{ url: issuer.info.url, key: issuer.info.identity }],
      graceSeconds: 1,
      settle: false,
    };
    await Deno.writeTextFile(boardFiles.configPath, JSON.stringify(config));
    const board = await NodeProcess.spawn(boardFiles.configPath);
    nodes.push(board);
    const key = (await plainBackend.generateKeys()).publicKey;
    await createJob(new NodeClient(board.info.url, { identity: admin }), {
      id: "poll",
      admin,
      spec: {
        backend: "plain",
        stages: [{ mixer: generateIdentity().publicKey, key }],
        minInputs: 2,
        submitters: [],
      },
    });

    // Start early in an epoch so fetch and redeem happen in the same one.
    const ms = EPOCH_SECONDS * 1000;
    if (Date.now() % ms > ms - 5000) {
      await new Promise((r) => setTimeout(r, ms - (Date.now() % ms) + 200));
    }
    const wallet = `${root}/wallet.json`;
    const fetched = await runInMemory([
      "token",
      "fetch",
      "--service",
      board.info.url,
      "--issuer",
      issuer.info.url,
      "--issuer-key",
      issuer.info.identity,
      "--identity",
      `${root}/user.key.json`,
      "--count",
      "2",
      "--wallet",
      wallet,
      "--json",
    ]);
    assert.equal(fetched.status, 0, fetched.stderr);
    const { epoch, fetched: n } = JSON.parse(fetched.stdout);
    assert.equal(n, 2);
    assert.equal((await Deno.stat(wallet)).mode! & 0o777, 0o600);
    const listed = JSON.parse(
      (await runInMemory(["token", "list", "--wallet", wallet, "--json"])).stdout,
    );
    assert.equal(listed.tokens.length, 2);
    assert.equal(listed.tokens[0].origin, new URL(board.info.url).host);

    for (let i = 0; i < 2; i++) {
      const author = generateIdentity();
      await writeEnvelopeFile(`${root}/author${i}.key.json`, identityToEnvelope(author), {
        secret: true,
      });
      const [item] = await plainBackend.sampleInputs(1, { key });
      const post = createPost(author, {
        job: "poll",
        type: "inputs",
        body: { v: 1, kind: "node.inputs", items: [plainBackend.input.encode(item!)] },
      });
      await Deno.writeFile(`${root}/post${i}.bin`, encodeMsgpack(postToEnvelope(post)));
      const redeemed = await runInMemory([
        "token",
        "redeem",
        "--url",
        `${board.info.url}/v1/board/posts`,
        "--method",
        "POST",
        "--data",
        `${root}/post${i}.bin`,
        "--sign",
        `${root}/author${i}.key.json`,
        "--wallet",
        wallet,
        "--json",
      ]);
      assert.equal(redeemed.status, 0, redeemed.stderr);
      assert.equal(JSON.parse(redeemed.stdout).status, 201);
    }

    // Settlement: only once the epoch (plus grace) is over.
    const early = await runInMemory([
      "token",
      "settle",
      "-c",
      boardFiles.configPath,
      "--json",
    ]);
    if (Date.now() < (epoch + 1) * ms + 1000) assert.deepEqual(JSON.parse(early.stdout).posted, []);
    await new Promise((r) => setTimeout(r, Math.max(0, (epoch + 1) * ms + 1200 - Date.now())));
    const settled = await runInMemory([
      "token",
      "settle",
      "--config",
      boardFiles.configPath,
      "--json",
    ]);
    assert.equal(settled.status, 0, settled.stderr);
    const posted = JSON.parse(settled.stdout).posted;
    assert.equal(posted.length, 1);
    assert.equal(posted[0].count, 2);
    assert.equal(posted[0].epoch, epoch);
    const again = await runInMemory([
      "token",
      "settle",
      "--config",
      boardFiles.configPath,
      "--json",
    ]);
    assert.deepEqual(JSON.parse(again.stdout).posted, [], "an epoch is settled once");

    const audit = await runInMemory([
      "token",
      "audit",
      "--issuer",
      issuer.info.url,
      "--board",
      board.info.url,
      "--epoch",
      String(epoch),
      "--json",
    ]);
    assert.equal(audit.status, 0, audit.stderr);
    const report = JSON.parse(audit.stdout);
    assert.equal(report.issued, 2);
    assert.equal(report.total, 2);
    assert.deepEqual(report.problems, []);

    // A second service copying the first one's tokens into its own claim is caught.
    const boardClient = new NodeClient(board.info.url);
    const { posts } = await boardClient.getJson("/v1/board/posts?after=0&limit=1000") as {
      posts: Record<string, unknown>[];
    };
    const honest = readPost(posts.find((p) => p.type === "settlement"), "post");
    const thief = generateIdentity();
    const { decodeMsgpack } = await import("../core/envelope.ts");
    const copy = createPost(thief, {
      job: SETTLEMENT_JOB,
      type: "settlement",
      body: decodeMsgpack(honest.body, "body") as never,
    });
    await new NodeClient(board.info.url, { identity: thief }).submitPost(copy);
    const caught = await runInMemory([
      "token",
      "audit",
      "--issuer",
      issuer.info.url,
      "--board",
      board.info.url,
      "--epoch",
      String(epoch),
    ]);
    assert.equal(caught.status, 3);
    assert.match(caught.stdout, /problem: Token 0 of .* was already claimed by/);
    assert.match(caught.stdout, /4 tokens claimed but only 2 issued/);
    assert.match(caught.stderr, /^panoramix: error: Settlements of epoch \d+ are inconsistent/);
  } finally {
    for (const n of nodes) await n.stop().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});
