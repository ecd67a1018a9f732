/**
 * The board at survey volume: a mixer's poll lists only the jobs waiting on it (an
 * indexed query), and an admin's `archive` of a finished job drops its items while the
 * hash chain stays checkable, at start and by an outside reader.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { toBase64Url } from "../../core/bytes.ts";
import { IntegrityError, VerificationError } from "../../core/errors.ts";
import { plainBackend } from "../../core/plain_backend.ts";
import { backendByName } from "../backends.ts";
import type { JobSummary } from "./board.ts";
import { readBoardLog, verifyJobFromBoard } from "./board_reader.ts";
import { NodeClient, NodeHttpError } from "./client.ts";
import { generateIdentity, type Identity } from "./identity.ts";
import { closeJob, createJob, submitInputs, waitForJob } from "./job_client.ts";
import { createPost } from "./posts.ts";
import { TestNetwork } from "./test_support.ts";

const admin = generateIdentity();

async function plainJob(client: NodeClient, id: string, mixers: Identity[]): Promise<void> {
  const key = (await plainBackend.generateKeys()).publicKey;
  await createJob(client, {
    id,
    admin,
    spec: {
      backend: "plain",
      stages: mixers.map((m) => ({ mixer: m.publicKey, key })),
      minInputs: 2,
      submitters: [],
    },
  });
  const items = (await plainBackend.sampleInputs(6, { key })).map((x) =>
    plainBackend.input.encode(x)
  );
  await submitInputs(client, { id, submitter: admin, items, chunk: 3 });
  await closeJob(client, { id, admin });
}

async function waiting(client: NodeClient, mixer: Identity): Promise<string[]> {
  const { jobs } = await client.getJson(
    `/v1/board/jobs?mixer=${toBase64Url(mixer.publicKey)}`,
  ) as { jobs: JobSummary[] };
  return jobs.map((j) => `${j.job}@${j.stage}`);
}

function archive(id: string, author = admin) {
  return createPost(author, { job: id, type: "archive", body: { v: 1, kind: "node.archive" } });
}

Deno.test("a mixer's poll lists only the jobs waiting on it, also after a restart", async () => {
  const net = await TestNetwork.create();
  try {
    const spec = {
      name: "board",
      roles: ["board" as const],
      admins: [toBase64Url(admin.publicKey)],
    };
    let board = await net.start(spec);
    let client = new NodeClient(board.url, { identity: admin });
    const [a, b, c] = [generateIdentity(), generateIdentity(), generateIdentity()];
    await plainJob(client, "ab", [a, b]);
    await plainJob(client, "ba", [b, a]);
    // An open job waits on no mixer yet.
    await createJob(client, {
      id: "open",
      admin,
      spec: {
        backend: "plain",
        stages: [{ mixer: a.publicKey, key: (await plainBackend.generateKeys()).publicKey }],
        minInputs: 2,
        submitters: [],
      },
    });
    assert.deepEqual(await waiting(client, a), ["ab@0"]);
    assert.deepEqual(await waiting(client, b), ["ba@0"]);
    assert.deepEqual(await waiting(client, c), []);
    // The whole list still has every job.
    const all = await client.getJson("/v1/board/jobs") as { jobs: JobSummary[] };
    assert.deepEqual(all.jobs.map((j) => j.job), ["ab", "ba", "open"]);
    await assert.rejects(
      client.getJson("/v1/board/jobs?mixer=not*base64"),
      (e: unknown) => e instanceof NodeHttpError && e.status === 400,
    );
    // Restarted, the board rebuilds the index from its jobs.
    await net.stop("board");
    board = await net.start(spec);
    client = new NodeClient(board.url, { identity: admin });
    assert.deepEqual(await waiting(client, a), ["ab@0"]);
    assert.deepEqual(await waiting(client, b), ["ba@0"]);
  } finally {
    await net.close();
  }
});

Deno.test("the index follows the stages: a mixed stage moves the job to the next mixer, done leaves it", async () => {
  const net = await TestNetwork.create();
  try {
    const { board, mixers } = await net.startCascade({ admins: [toBase64Url(admin.publicKey)] });
    const client = new NodeClient(board.url, { identity: admin });
    const idle = generateIdentity();
    await plainJob(client, "run", [...mixers.map((m) => m.identity), idle]);
    // The three running mixers pass the job on; it then waits on the fourth, idle mixer.
    for (let i = 0; i < 200 && (await waiting(client, idle)).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await waiting(client, idle), ["run@3"]);
    for (const m of mixers) assert.deepEqual(await waiting(client, m.identity), []);
  } finally {
    await net.close();
  }
});

Deno.test("an archived job drops its items; the hash chain is still checked at start and by readers", async () => {
  const net = await TestNetwork.create();
  try {
    const { board, mixers } = await net.startCascade({ admins: [toBase64Url(admin.publicKey)] });
    const client = new NodeClient(board.url, { identity: admin });
    const ids = mixers.map((m) => m.identity);
    await plainJob(client, "old", ids);
    await plainJob(client, "kept", ids);
    for (const id of ["old", "kept"]) await waitForJob(client, { id, timeoutMs: 60_000 });
    const before = await readBoardLog(client);
    // Only an admin archives, and only a done job.
    await assert.rejects(
      client.submitPost(archive("old", mixers[0]!.identity)),
      (e: unknown) => e instanceof NodeHttpError && e.status === 403,
    );
    await client.submitPost(archive("old"));
    await assert.rejects(
      client.submitPost(archive("old")),
      (e: unknown) => e instanceof NodeHttpError && e.status === 409,
    );
    const summary = await client.getJson("/v1/board/jobs/old") as JobSummary;
    assert.equal(summary.archived, true);
    assert.equal(summary.state, "done");
    await assert.rejects(
      client.getJson("/v1/board/jobs/old/items?stage=3"),
      (e: unknown) => e instanceof NodeHttpError && e.status === 410,
    );
    // The reader checks the chain over the pruned posts' digests and leaves them out.
    const archived = new Set<string>();
    const after = await readBoardLog(client, { archived });
    assert.deepEqual([...archived], ["old"]);
    assert.equal(
      after.filter((p) => p.job === "old").map((p) => p.type).join(","),
      "job,close,archive",
    );
    assert.equal(
      after.filter((p) => p.job === "kept").length,
      before.filter((p) => p.job === "kept").length,
    );
    await assert.rejects(
      verifyJobFromBoard(client, { job: "old", backendByName }),
      (e: unknown) => e instanceof VerificationError && /archived/.test(e.message),
    );
    const kept = await verifyJobFromBoard(client, { job: "kept", backendByName });
    assert.equal(kept.outputs.length, 6);
    // The items are gone from the store.
    for (let i = 0; i < 3; i++) await net.stop(`mixer${i}`);
    await net.stop("board");
    const path = `${net.root}/board/data/node.sqlite`;
    const db = new DatabaseSync(path);
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    assert.equal(count("SELECT count(*) AS n FROM board_items WHERE job = 'old'"), 0);
    assert.ok(count("SELECT count(*) AS n FROM board_items WHERE job = 'kept'") > 0);
    assert.equal(
      count(
        "SELECT count(*) AS n FROM board_posts WHERE job = 'old' AND length(body) > 0 " +
          "AND type IN ('inputs', 'mix')",
      ),
      0,
    );
    db.close();
    // A clean restart passes the integrity check over the pruned entries.
    await net.start({ name: "board", roles: ["board"] });
    await net.stop("board");
    // A post of a job that was not archived, emptied on disk and marked pruned: refused.
    const e = new DatabaseSync(path);
    e.exec(
      "UPDATE board_posts SET body = x'', pruned = 1 WHERE seq = " +
        "(SELECT min(seq) FROM board_posts WHERE job = 'kept' AND type = 'inputs')",
    );
    e.close();
    await assert.rejects(
      net.start({ name: "board", roles: ["board"] }),
      (e: unknown) => e instanceof IntegrityError && /marked pruned/.test(e.message),
    );
    const undo = new DatabaseSync(path);
    undo.exec("UPDATE board_posts SET pruned = 0 WHERE job = 'kept'");
    undo.close();
    // A pruned entry whose digest was changed breaks the chain: refused at start.
    const w = new DatabaseSync(path);
    w.exec(
      "UPDATE board_posts SET digest = zeroblob(64) WHERE seq = " +
        "(SELECT min(seq) FROM board_posts WHERE job = 'old' AND pruned = 1)",
    );
    w.close();
    await assert.rejects(
      net.start({ name: "board", roles: ["board"] }),
      (e: unknown) => e instanceof IntegrityError && /hash chain/.test(e.message),
    );
  } finally {
    await net.close();
  }
});
