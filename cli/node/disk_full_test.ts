/**
 * A full disk (issue 11 §13): writes fail with 503 and Retry-After, nothing is
 * acknowledged, and /v1/health reports it until a write succeeds again. The disk is
 * filled for real as SQLite sees it: `PRAGMA max_page_count` at the current size.
 */
import assert from "node:assert/strict";
import { toJsonView } from "../../core/envelope.ts";
import { plainBackend } from "../../core/plain_backend.ts";
import { backendByName } from "../backends.ts";
import { signRequest } from "./auth.ts";
import { BulletinBoard } from "./board.ts";
import { healthResponse, nodeHealth } from "./health.ts";
import { generateIdentity } from "./identity.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createPost, jobBody, type Post, postToEnvelope } from "./posts.ts";
import { boardRoutes } from "./routes.ts";
import { createHandler } from "./server.ts";
import { Store } from "./storage.ts";

const admin = generateIdentity();

Deno.test("a full disk gives 503 with Retry-After and a health that says so, then recovers", async () => {
  const dir = await Deno.makeTempDir();
  const store = new Store(`${dir}/node.sqlite`);
  try {
    const metrics = new MetricsRegistry();
    const board = new BulletinBoard({
      store,
      identity: generateIdentity(),
      admins: [admin.publicKey],
      backendByName,
      logger: silentLogger,
      metrics,
    });
    const alive = { state: { alive: true, lastError: undefined } } as never;
    const handler = createHandler({
      routes: [
        ...boardRoutes(board),
        {
          method: "GET",
          path: "/v1/health",
          handle: () => healthResponse(nodeHealth(alive, store, [])),
        },
      ],
      requestsPerSecond: 1000,
      burst: 1000,
      maxBodyBytes: 1 << 24,
      authWindowSeconds: 120,
      logger: silentLogger,
      metrics,
    });
    const info = { remoteAddr: { hostname: "127.0.0.1", port: 1, transport: "tcp" } } as never;
    const send = async (post: Post) => {
      const body = new TextEncoder().encode(JSON.stringify(toJsonView(postToEnvelope(post))));
      const headers = signRequest(admin, {
        method: "POST",
        path: "/v1/board/posts",
        body,
      });
      return await handler(
        new Request("http://x/v1/board/posts", {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body,
        }),
        info,
      );
    };
    const health = () => handler(new Request("http://x/v1/health"), info);
    const key = (await plainBackend.generateKeys()).publicKey;
    const job = createPost(admin, {
      job: "j",
      type: "job",
      body: jobBody({
        backend: "plain",
        stages: [{ mixer: generateIdentity().publicKey, key }],
        minInputs: 2,
        submitters: [],
      }),
    });
    assert.equal((await send(job)).status, 201);
    const items = (await plainBackend.sampleInputs(2000, { key })).map((x) =>
      plainBackend.input.encode(x)
    );
    const big = createPost(admin, {
      job: "j",
      type: "inputs",
      body: { v: 1, kind: "node.inputs", items },
    });
    // The disk is full: no page may be added.
    const pages = (store.db.prepare("PRAGMA page_count").get() as { page_count: number })
      .page_count;
    store.db.exec(`PRAGMA max_page_count = ${pages}`);
    const refused = await send(big);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "30");
    assert.equal((await refused.json()).error, "storage_unavailable");
    const sick = await health();
    assert.equal(sick.status, 503);
    assert.ok(sick.headers.get("retry-after"));
    assert.match((await sick.json()).problems.storage, /disk is full/);
    assert.equal(board.head().seq, 1, "nothing was acknowledged or appended");
    // Room again: the same post is accepted and health recovers.
    store.db.exec("PRAGMA max_page_count = 1073741823");
    await new Promise((r) => setTimeout(r, 10)); // the failed group is flushed at the next tick
    const accepted = await send(big);
    assert.equal(accepted.status, 201);
    await accepted.body?.cancel();
    const well = await health();
    assert.equal(well.status, 200);
    await well.body?.cancel();
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("when a full disk undoes a group's transaction, no write of that group is acknowledged", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let round = 0; round < 5; round++) {
      const path = `${dir}/s${round}.sqlite`;
      const store = new Store(path);
      store.write(() => store.db.exec("CREATE TABLE t (x BLOB)"));
      await store.commit();
      const pages = (store.db.prepare("PRAGMA page_count").get() as { page_count: number })
        .page_count;
      store.db.exec(`PRAGMA max_page_count = ${pages + 2 + round}`);
      const insert = store.db.prepare("INSERT INTO t VALUES (?)");
      // A writes a little, B too much for the disk: SQLite may undo B's statement or the
      // whole transaction, A's row with it.
      store.write(() => insert.run(new Uint8Array(100)));
      const a = store.commit();
      let bFailed = false;
      try {
        store.write(() => insert.run(new Uint8Array(200_000)));
      } catch {
        bFailed = true;
      }
      assert.ok(bFailed, "B does not fit");
      const aAcknowledged = await a.then(() => true, () => false);
      store.close();
      const reopened = new Store(path);
      const rows = (reopened.db.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }).n;
      reopened.close();
      if (aAcknowledged) assert.equal(rows, 1, `round ${round}: A acknowledged but not on disk`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
