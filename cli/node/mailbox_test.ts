import assert from "node:assert/strict";
import { Mailbox } from "./mailbox.ts";
import { MetricsRegistry } from "./metrics.ts";
import { Store } from "./storage.ts";

async function withMailbox(
  limits: { ttlSeconds: number; quotaMessages: number; quotaBytes: number },
  f: (mailbox: Mailbox, store: Store, metrics: MetricsRegistry) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "panoramix-mailbox-test-" });
  const store = new Store(`${dir}/node.sqlite`);
  const metrics = new MetricsRegistry();
  try {
    await f(new Mailbox(store, metrics, limits), store, metrics);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const alice = new Uint8Array(32).fill(1);
const bob = new Uint8Array(32).fill(2);

Deno.test("a mailbox refuses items beyond its message and byte quotas", async () => {
  await withMailbox({ ttlSeconds: 60, quotaMessages: 3, quotaBytes: 250 }, async (m, store) => {
    const put = (recipient: Uint8Array, bytes: number) =>
      store.write(() => m.put({ kind: "deliver", recipient, payload: new Uint8Array(bytes) }));
    assert.equal(put(alice, 100), true);
    assert.equal(put(alice, 100), true);
    assert.equal(put(alice, 100), false, "byte quota");
    assert.equal(put(alice, 10), true);
    assert.equal(put(alice, 10), false, "message quota");
    assert.equal(put(bob, 100), true, "quotas are per mailbox");
    await store.commit();
    // Deleting frees the quota.
    const ids = m.fetch(alice, { after: 0, limit: 10 }).map((r) => r.id);
    assert.equal(await m.remove(alice, [ids[0]!]), 1);
    assert.equal(put(alice, 10), true);
  });
});

Deno.test("items expire at the TTL; ids are never reused; others' ids are not deleted", async () => {
  await withMailbox(
    { ttlSeconds: 60, quotaMessages: 100, quotaBytes: 1e6 },
    async (m, store, metrics) => {
      const now = Date.now();
      store.write(() => {
        m.put({
          kind: "deliver",
          recipient: alice,
          payload: new Uint8Array([1]),
          time: now - 120_000,
        });
        m.put({ kind: "deliver", recipient: alice, payload: new Uint8Array([2]), time: now });
        m.put({ kind: "reply", recipient: bob, payload: new Uint8Array([3]), time: now });
      });
      await store.commit();
      assert.equal(await m.prune(now), 1);
      assert.deepEqual(m.fetch(alice, { after: 0, limit: 10 }).map((r) => r.message[0]), [2]);
      assert.match(metrics.render(), /panoramix_mailbox_expired_total 1/);
      // Bob's key cannot delete Alice's item.
      const [item] = m.fetch(alice, { after: 0, limit: 10 });
      assert.equal(await m.remove(bob, [item!.id]), 0);
      assert.equal(m.fetch(alice, { after: 0, limit: 10 }).length, 1);
      // After the newest item is deleted, a new item gets a higher id (a cursor never skips it).
      assert.equal(await m.remove(alice, [item!.id]), 1);
      store.write(() => m.put({ kind: "deliver", recipient: alice, payload: new Uint8Array([4]) }));
      await store.commit();
      const [next] = m.fetch(alice, { after: item!.id, limit: 10 });
      assert.ok(next !== undefined && next.id > item!.id);
    },
  );
});
