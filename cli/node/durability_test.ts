/**
 * Durability (issue 11 §1): no receipt, acknowledgement or status before the data it
 * vouches for is durable. A "crash" is simulated by copying the database files at the
 * moment a receipt is returned: that copy is exactly what a kill -9 would leave on disk.
 */
import assert from "node:assert/strict";
import { plainBackend } from "../../core/plain_backend.ts";
import { backendByName } from "../backends.ts";
import { BulletinBoard, type BulletinBoard as Board, type Receipt } from "./board.ts";
import { generateIdentity } from "./identity.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createPost, jobBody, type Post } from "./posts.ts";
import { Store } from "./storage.ts";

const admin = generateIdentity();

interface Fixture {
  dir: string;
  store: Store;
  board: Board;
  /** When true, every COMMIT fails as on a full disk. */
  failCommits: { on: boolean };
  /** Hook run just before each COMMIT. */
  beforeCommit: { fn: () => void };
  close(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "panoramix-durable-" });
  const store = new Store(`${dir}/node.sqlite`);
  const failCommits = { on: false };
  const beforeCommit = { fn: () => {} };
  const exec = store.db.exec.bind(store.db);
  // Fault injection: COMMIT fails as SQLite reports a full disk (SQLITE_FULL).
  store.db.exec = (sql: string) => {
    if (sql === "COMMIT") {
      beforeCommit.fn();
      if (failCommits.on) {
        throw Object.assign(new Error("database or disk is full"), {
          code: "ERR_SQLITE_ERROR",
          errcode: 13,
        });
      }
    }
    return exec(sql);
  };
  const board = new BulletinBoard({
    store,
    identity: generateIdentity(),
    admins: [admin.publicKey],
    backendByName,
    logger: silentLogger,
    metrics: new MetricsRegistry(),
  });
  return {
    dir,
    store,
    board,
    failCommits,
    beforeCommit,
    async close() {
      try {
        store.close();
      } catch { /* a failing commit */ }
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function openJob(f: Fixture, id: string): Promise<void> {
  const key = (await plainBackend.generateKeys()).publicKey;
  await f.board.submit(createPost(admin, {
    job: id,
    type: "job",
    body: jobBody({
      backend: "plain",
      stages: [{ mixer: generateIdentity().publicKey, key }],
      minInputs: 2,
      submitters: [],
    }),
  }));
}

async function inputPost(job: string): Promise<Post> {
  const key = (await plainBackend.generateKeys()).publicKey;
  const [item] = await plainBackend.sampleInputs(1, { key });
  return createPost(generateIdentity(), {
    job,
    type: "inputs",
    body: { v: 1, kind: "node.inputs", items: [plainBackend.input.encode(item!)] },
  });
}

/** Copies the database files as they are on disk now (what kill -9 would leave). */
async function crashCopy(f: Fixture, name: string): Promise<string> {
  const to = `${f.dir}/${name}`;
  await Deno.mkdir(to);
  for (const suffix of ["", "-wal"]) {
    try {
      await Deno.copyFile(`${f.dir}/node.sqlite${suffix}`, `${to}/node.sqlite${suffix}`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return `${to}/node.sqlite`;
}

function hasPost(path: string, receipt: Receipt): boolean {
  const store = new Store(path);
  try {
    const row = store.db.prepare("SELECT seq FROM board_posts WHERE digest = ?").get(
      receipt.digest,
    ) as { seq: number } | undefined;
    return row?.seq === receipt.seq;
  } finally {
    store.close();
  }
}

Deno.test("the same post sent twice at once while commits fail gets no receipt", async () => {
  const f = await fixture();
  try {
    await openJob(f, "j");
    for (let round = 0; round < 10; round++) {
      const post = await inputPost("j");
      f.failCommits.on = true;
      // The second copy arrives while the first is written but not yet committed.
      const first = f.board.submit(post);
      for (let i = 0; i < round; i++) await null;
      const results = await Promise.allSettled([first, f.board.submit(post)]);
      f.failCommits.on = false;
      assert.deepEqual(
        results.map((r) => r.status),
        ["rejected", "rejected"],
        `round ${round}: a receipt for a post never committed`,
      );
      for (const r of results) {
        assert.equal(((r as PromiseRejectedResult).reason as { status?: number }).status, 503);
      }
      assert.equal(f.board.head().seq, 1 + round, "the failed post is not in the log");
      // The client retries once the disk has room: the post is then accepted once.
      const receipt = await f.board.submit(post);
      assert.equal(receipt.seq, 2 + round);
      f.failCommits.on = true;
      await assert.rejects(f.board.submit(await inputPost("j")));
      f.failCommits.on = false;
      assert.deepEqual(await f.board.submit(post), receipt, "a committed post keeps its receipt");
    }
  } finally {
    await f.close();
  }
});

Deno.test("every receipt, also for a duplicate sent at once, is on disk when returned", async () => {
  const f = await fixture();
  try {
    await openJob(f, "j");
    let n = 0;
    for (let round = 0; round < 10; round++) {
      const post = await inputPost("j");
      const copies = await Promise.all([0, 1, 2].map(async (i) => {
        // Copies arrive a few microtasks apart: before, during and after the first's write.
        for (let k = 0; k < i * round; k++) await null;
        const receipt = await f.board.submit(post);
        return { receipt, path: await crashCopy(f, `crash${n++}`) };
      }));
      for (const { receipt, path } of copies) {
        assert.ok(hasPost(path, receipt), `round ${round}: receipt ${receipt.seq} not on disk`);
      }
    }
  } finally {
    await f.close();
  }
});

Deno.test("reads that answer clients never show uncommitted posts", async () => {
  const f = await fixture();
  try {
    await openJob(f, "j");
    const seen: number[] = [];
    f.beforeCommit.fn = () => {
      seen.push(f.board.signedHead().seq, f.board.posts(0, 100).length);
      seen.push(f.board.job("j").inputs, f.board.items("j", 0).length);
    };
    await f.board.submit(await inputPost("j"));
    assert.deepEqual(seen, [1, 1, 0, 0], "head, posts, job and items at COMMIT time");
    assert.equal(f.board.signedHead().seq, 2);
    assert.equal(f.board.items("j", 0).length, 1);
  } finally {
    await f.close();
  }
});
