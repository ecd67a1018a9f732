/**
 * Outsiders flooding an open job (issue 11 §10): a per-submitter quota, and big posts
 * checked in chunks that let other requests (health) run in between.
 */
import assert from "node:assert/strict";
import { plainBackend } from "../../core/plain_backend.ts";
import { backendByName } from "../backends.ts";
import { BulletinBoard } from "./board.ts";
import { generateIdentity, type Identity } from "./identity.ts";
import { CHECK_CHUNK } from "./input_contract.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createPost, jobBody } from "./posts.ts";
import { Store } from "./storage.ts";

const admin = generateIdentity();

async function openJob(store: Store, quota: number, submitters: Identity[] = []) {
  const board = new BulletinBoard({
    store,
    identity: generateIdentity(),
    admins: [admin.publicKey],
    backendByName,
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    maxInputsPerSubmitter: quota,
  });
  const key = (await plainBackend.generateKeys()).publicKey;
  for (const job of ["open", "listed"]) {
    await board.submit(createPost(admin, {
      job,
      type: "job",
      body: jobBody({
        backend: "plain",
        stages: [{ mixer: generateIdentity().publicKey, key }],
        minInputs: 2,
        submitters: job === "open" ? [] : submitters.map((s) => s.publicKey),
      }),
    }));
  }
  const inputs = async (author: Identity, job: string, n: number) => {
    const items = (await plainBackend.sampleInputs(n, { key })).map((x) =>
      plainBackend.input.encode(x)
    );
    return await board.submit(createPost(author, {
      job,
      type: "inputs",
      body: { v: 1, kind: "node.inputs", items },
    }));
  };
  return { board, inputs };
}

Deno.test("an outside submitter of an open job has a quota; admins and listed submitters do not", async () => {
  const store = new Store(":memory:");
  try {
    const listed = generateIdentity();
    const { board, inputs } = await openJob(store, 5, [listed]);
    const outsider = generateIdentity();
    await inputs(outsider, "open", 3);
    await assert.rejects(
      inputs(outsider, "open", 3),
      (e: { status?: number; code?: string }) => e.status === 403 && e.code === "quota_exceeded",
    );
    await inputs(outsider, "open", 2); // exactly up to the quota
    await inputs(generateIdentity(), "open", 5); // another submitter has their own
    await inputs(admin, "open", 20);
    await inputs(listed, "listed", 20);
    assert.equal(board.job("open").inputs, 30);
  } finally {
    store.close();
  }
});

Deno.test("a big post is checked in chunks: timers run before it is written", async () => {
  const store = new Store(":memory:");
  try {
    const { inputs } = await openJob(store, 0);
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    let ticksAtWrite = -1;
    const write = store.write.bind(store);
    store.write = <T>(fn: () => T): T => {
      if (ticksAtWrite < 0) ticksAtWrite = ticks;
      return write(fn);
    };
    const before = ticks;
    await inputs(generateIdentity(), "open", 5 * CHECK_CHUNK);
    running = false;
    assert.ok(
      ticksAtWrite - before >= 3,
      `${ticksAtWrite - before} timer turns ran while 5 chunks were checked`,
    );
  } finally {
    store.close();
  }
});

Deno.test("a big post is staged in short commits: readers see none or all of it, a failure leaves nothing", async () => {
  const dir = await Deno.makeTempDir();
  const store = new Store(`${dir}/node.sqlite`);
  try {
    const { board, inputs } = await openJob(store, 0);
    // Another job's post sent during the staging is acknowledged at once (its own commit).
    let otherDone = false;
    let bigDone = false;
    const other = inputs(admin, "listed", 1).then((r) => {
      otherDone = true;
      return r;
    });
    const big = inputs(admin, "open", 3 * CHECK_CHUNK + 1).finally(() => (bigDone = true));
    const seen = new Set<number>();
    let staged = 0;
    let otherBeforeBig = false;
    while (!bigDone) {
      // What readers see while the big post is staged: none of it, or all of it.
      seen.add(board.items("open", 0).length);
      seen.add(board.itemPage("open", 0, 0, 100_000).length);
      seen.add(board.job("open").inputs);
      staged = Math.max(
        staged,
        (store.reader.prepare(
          "SELECT COUNT(*) AS n FROM board_items WHERE job = 'open' AND stage = 0",
        ).get() as { n: number }).n,
      );
      otherBeforeBig ||= otherDone;
      await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all([big, other]);
    assert.ok(staged > 0 && staged <= 3 * CHECK_CHUNK + 1, `staged rows committed: ${staged}`);
    assert.ok(otherBeforeBig, "a small post waits for no big post");
    for (const n of seen) assert.ok(n === 0 || n === 3 * CHECK_CHUNK + 1, `a reader saw ${n} rows`);
    assert.equal(board.job("open").inputs, 3 * CHECK_CHUNK + 1);
    assert.equal(board.items("open", 0).length, 3 * CHECK_CHUNK + 1);
    // A write that fails in the third chunk: the chunks already written are undone.
    const write = store.write.bind(store);
    let calls = 0;
    store.write = <T>(fn: () => T): T => {
      if (++calls === 3) throw new Error("injected write failure");
      return write(fn);
    };
    await assert.rejects(inputs(admin, "open", 4 * CHECK_CHUNK), /injected/);
    store.write = write;
    await store.commit();
    const stored = store.reader.prepare(
      "SELECT COUNT(*) AS n FROM board_items WHERE job = 'open' AND stage = 0",
    ).get() as { n: number };
    assert.equal(stored.n, 3 * CHECK_CHUNK + 1, "no staged rows are left");
    const digests = store.reader.prepare(
      "SELECT COUNT(*) AS n FROM board_input_digests WHERE job = 'open'",
    ).get() as { n: number };
    assert.equal(digests.n, 3 * CHECK_CHUNK + 1, "no staged digests are left");
    await inputs(admin, "open", 5);
    assert.equal(board.job("open").inputs, 3 * CHECK_CHUNK + 6);
    // When the clean-up fails as well, the next post to the job deletes what was left.
    calls = 0;
    store.write = <T>(fn: () => T): T => {
      if (++calls >= 3 && calls <= 4) throw new Error("injected write failure");
      return write(fn);
    };
    await assert.rejects(inputs(admin, "open", 4 * CHECK_CHUNK), /injected/);
    store.write = write;
    const raw = () =>
      (store.db.prepare(
        "SELECT COUNT(*) AS n FROM board_items WHERE job = 'open' AND stage = 0",
      ).get() as { n: number }).n;
    assert.ok(raw() > 3 * CHECK_CHUNK + 6, "staged chunks were left behind");
    assert.equal(board.items("open", 0).length, 3 * CHECK_CHUNK + 6, "and are not shown");
    await inputs(admin, "open", 5);
    assert.equal(board.job("open").inputs, 3 * CHECK_CHUNK + 11);
    assert.equal(raw(), 3 * CHECK_CHUNK + 11);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("big posts are processed one at a time: a flood queues, it does not stack", async () => {
  const dir = await Deno.makeTempDir();
  const store = new Store(`${dir}/node.sqlite`);
  try {
    const { board, inputs } = await openJob(store, 0, [admin]);
    // Which job each staged write belongs to, in order (the two jobs' posts run at once).
    const order: string[] = [];
    const insert = store.db.prepare.bind(store.db);
    store.db.prepare = (sql: string) => {
      const statement = insert(sql);
      if (!sql.startsWith("INSERT INTO board_items")) return statement;
      const run = statement.run.bind(statement);
      statement.run = ((...args: never[]) => {
        const job = String(args[0]);
        if (order.at(-1) !== job) order.push(job);
        return run(...args);
      }) as typeof statement.run;
      return statement;
    };
    await Promise.all([
      inputs(admin, "open", 3 * CHECK_CHUNK),
      inputs(admin, "listed", 3 * CHECK_CHUNK),
    ]);
    // One run of writes per job, in either order: the second big post waited for the first.
    assert.deepEqual([...order].sort(), ["listed", "open"], `writes interleaved: ${order}`);
    assert.equal(board.job("open").inputs, 3 * CHECK_CHUNK);
    assert.equal(board.job("listed").inputs, 3 * CHECK_CHUNK);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
