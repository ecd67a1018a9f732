import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { concatBytes } from "../../core/bytes.ts";
import { MetricsRegistry } from "./metrics.ts";
import { RateLimiter } from "./rate_limit.ts";
import { SqliteReplayCache } from "./replay_store.ts";
import { frame, readFrames } from "./sphinx_link.ts";
import { Store } from "./storage.ts";
import { createLogger } from "./log.ts";

Deno.test("token buckets: burst, refill over time, per client", () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take("a")), [true, true, true, false]);
  assert.equal(limiter.take("b"), true);
  assert.equal(limiter.retryAfter("a"), 1);
  now += 500; // one token back
  assert.deepEqual([limiter.take("a"), limiter.take("a")], [true, false]);
});

Deno.test("metrics render in the Prometheus text format", () => {
  const m = new MetricsRegistry();
  m.counter("x_total", "X").inc(2, { kind: 'a"b' });
  m.gauge("depth", "D", () => 7);
  const h = m.histogram("t_seconds", "T");
  h.observe(0.002);
  h.observe(3);
  const text = m.render();
  assert.match(text, /# TYPE x_total counter\nx_total\{kind="a\\"b"\} 2/);
  assert.match(text, /depth 7/);
  assert.match(text, /t_seconds_bucket\{le="0.005"\} 1/);
  assert.match(text, /t_seconds_bucket\{le="\+Inf"\} 2/);
  assert.match(text, /t_seconds_count 2/);
});

Deno.test("logs are one JSON object per line with level filtering", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", sink: (l) => lines.push(l) }).child({ role: "board" });
  log.log("debug", "hidden");
  log.log("warn", "shown", { error: new InvalidInputError("bad") });
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0]!);
  assert.equal(record.event, "shown");
  assert.equal(record.role, "board");
  assert.deepEqual(record.error, { name: "InvalidInputError", message: "bad" });
});

Deno.test("store: a failing write rolls back only itself; committed data survives reopening", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let store = new Store(`${dir}/s.sqlite`);
    store.write(() => store.db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY)"));
    store.write(() => store.db.prepare("INSERT INTO t VALUES (1)").run());
    assert.throws(() =>
      store.write(() => {
        store.db.prepare("INSERT INTO t VALUES (2)").run();
        store.db.prepare("INSERT INTO t VALUES (1)").run(); // constraint violation
      })
    );
    await Promise.all([store.commit(), store.commit()]);
    store.close();
    store = new Store(`${dir}/s.sqlite`);
    assert.deepEqual(store.db.prepare("SELECT x FROM t").all().map((r) => r.x), [1]);
    assert.equal(
      (store.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      "wal",
    );
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("persistent replay cache: add, has, scopes, drop, bad tags", async () => {
  const store = new Store(":memory:");
  const a = new SqliteReplayCache(store, "epoch:1");
  const b = new SqliteReplayCache(store, "epoch:2");
  const tag = new Uint8Array(32).fill(1);
  assert.equal(await a.add(tag), true);
  assert.equal(await a.add(tag), false);
  assert.equal(await a.has(tag), true);
  assert.equal(await b.has(tag), false);
  assert.equal(await b.add(tag), true);
  assert.equal(SqliteReplayCache.dropScope(store, "epoch:1"), 1);
  assert.equal(await a.has(tag), false);
  assert.equal(b.size(), 1);
  await assert.rejects(a.add(new Uint8Array(31)), InvalidInputError);
  await store.commit();
  store.close();
});

Deno.test("frames split across chunks are reassembled; an oversized frame is refused", async () => {
  const whole = concatBytes(
    frame(new Uint8Array([1, 2, 3])),
    frame(new Uint8Array(0)),
    frame(new Uint8Array([9])),
  );
  const chunks = [whole.subarray(0, 2), whole.subarray(2, 6), whole.subarray(6)];
  const frames: number[][] = [];
  for await (const f of readFrames(ReadableStream.from(chunks), 10)) frames.push([...f]);
  assert.deepEqual(frames, [[1, 2, 3], [], [9]]);
  await assert.rejects(async () => {
    for await (const _ of readFrames(ReadableStream.from([frame(new Uint8Array(11))]), 10)) {
      // unreachable
    }
  }, /exceeds the limit/);
});
