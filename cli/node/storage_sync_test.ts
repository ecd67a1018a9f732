import assert from "node:assert/strict";
import { Store } from "./storage.ts";

// The fsync of the WAL runs off the JavaScript thread; nothing may be acknowledged before it.
Deno.test("a commit resolves only after the WAL fsync that follows its COMMIT", async () => {
  const dir = await Deno.makeTempDir({ prefix: "panoramix-store-sync-" });
  const original = Deno.FsFile.prototype.sync;
  const held: (() => void)[] = [];
  // Every fsync of the WAL waits until the test lets it go.
  Deno.FsFile.prototype.sync = function (this: Deno.FsFile) {
    return new Promise<void>((resolve) => held.push(resolve)).then(() => original.call(this));
  };
  const store = new Store(`${dir}/s.sqlite`);
  store.deferSync();
  try {
    store.write(() => store.db.exec("CREATE TABLE t (x INTEGER)"));
    store.commitNow(); // synchronous: durable on return
    const hooks: number[] = [];
    store.onCommit(() => hooks.push(1));
    store.write(() => store.db.prepare("INSERT INTO t (x) VALUES (1)").run());
    let first = false;
    const p1 = store.commit().then(() => (first = true));
    await new Promise((r) => setTimeout(r, 20)); // the COMMIT ran; its fsync is held
    assert.equal(store.db.isTransaction, false);
    assert.equal(first, false, "acknowledged before the fsync");
    assert.deepEqual(hooks, [], "commit hooks ran before the fsync");
    // Nothing pending to COMMIT, but the last COMMIT is not durable yet: wait for it too.
    let second = false;
    const p2 = store.commit().then(() => (second = true));
    // A COMMIT made while the first fsync is held needs the next fsync.
    store.write(() => store.db.prepare("INSERT INTO t (x) VALUES (2)").run());
    let third = false;
    const p3 = store.commit().then(() => (third = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual([first, second, third], [false, false, false]);
    assert.equal(held.length, 1, "a second fsync started before the first finished");
    held.shift()!();
    await Promise.all([p1, p2]);
    assert.equal(third, false, "the second COMMIT was acknowledged by the first fsync");
    assert.deepEqual(hooks, [1]);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(held.length, 1);
    held.shift()!();
    await p3;
    assert.deepEqual(hooks, [1, 1]);
  } finally {
    Deno.FsFile.prototype.sync = original;
    for (const release of held) release();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed WAL fsync fails the commit's waiters (nothing is acknowledged)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "panoramix-store-sync-" });
  const original = Deno.FsFile.prototype.sync;
  const store = new Store(`${dir}/s.sqlite`);
  store.deferSync();
  try {
    store.write(() => store.db.exec("CREATE TABLE t (x INTEGER)"));
    store.commitNow();
    Deno.FsFile.prototype.sync = () => Promise.reject(new Error("EIO"));
    store.write(() => store.db.prepare("INSERT INTO t (x) VALUES (1)").run());
    await assert.rejects(store.commit(), /EIO/);
  } finally {
    Deno.FsFile.prototype.sync = original;
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without deferSync a commit is durable at COMMIT (no fsync of the store's own)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "panoramix-store-sync-" });
  const original = Deno.FsFile.prototype.sync;
  let syncs = 0;
  Deno.FsFile.prototype.sync = function (this: Deno.FsFile) {
    syncs++;
    return original.call(this);
  };
  const store = new Store(`${dir}/s.sqlite`);
  try {
    store.write(() => store.db.exec("CREATE TABLE t (x INTEGER)"));
    await store.commit();
    store.write(() => store.db.prepare("INSERT INTO t (x) VALUES (1)").run());
    await store.commit();
    assert.equal(syncs, 0);
    assert.equal(
      (store.db.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous,
      2, // FULL
    );
  } finally {
    Deno.FsFile.prototype.sync = original;
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
