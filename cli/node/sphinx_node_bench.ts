/**
 * Unit costs of the Sphinx node's hot path that docs/message.md §7 names: request signatures
 * (noble vs the runtime's native Ed25519), the in-memory delay queue, and a group commit of
 * packet rows with their replay tags (the Store, whose WAL fsync runs off the thread).
 *
 * Run: `deno bench --allow-all cli/node/sphinx_node_bench.ts`
 *
 * @module
 */

import { generateIdentity, signParts, verifyParts } from "./identity.ts";
import { signPartsNative, verifyPartsNative } from "./ed25519_native.ts";
import { DelayQueue } from "./delay_queue.ts";
import { Store } from "./storage.ts";

const id = generateIdentity();
const message = { label: "panoramix/bench", parts: [new Uint8Array(64)] };
const signature = signParts(id, message);

Deno.bench("Ed25519 sign, noble", { group: "sign", baseline: true }, () => {
  signParts(id, message);
});
Deno.bench("Ed25519 sign, native (node:crypto)", { group: "sign" }, () => {
  signPartsNative(id, message);
});
Deno.bench("Ed25519 verify, noble", { group: "verify", baseline: true }, () => {
  verifyParts(id.publicKey, { ...message, signature });
});
Deno.bench("Ed25519 verify, native (node:crypto)", { group: "verify" }, () => {
  verifyPartsNative(id.publicKey, { ...message, signature });
});

const packet = new Uint8Array(2594);
Deno.bench("delay queue: 1,000 packets in, then out in release order", () => {
  const q = new DelayQueue();
  for (let i = 0; i < 1000; i++) {
    q.push({
      id: i,
      releaseAt: (i * 7919) % 1000,
      kind: "forward",
      target: packet,
      packet,
      surbId: null,
    });
  }
  q.takeDue(1000, 1000);
});

const dir = Deno.makeTempDirSync({ prefix: "panoramix-bench-store-" });
const store = new Store(`${dir}/bench.sqlite`);
store.write(() =>
  store.db.exec(
    "CREATE TABLE q (id INTEGER PRIMARY KEY, release_at INTEGER, packet BLOB); CREATE TABLE tags (tag BLOB PRIMARY KEY) WITHOUT ROWID",
  )
);
store.commitNow();
Deno.bench("Store: 20 packet rows + replay tags, one group commit (durable)", async () => {
  store.write(() => {
    const q = store.prepared("INSERT INTO q (release_at, packet) VALUES (?, ?)");
    const t = store.prepared("INSERT INTO tags (tag) VALUES (?)");
    for (let i = 0; i < 20; i++) {
      t.run(crypto.getRandomValues(new Uint8Array(32)));
      q.run(Date.now(), packet);
    }
    store.prepared("DELETE FROM q WHERE id <= (SELECT MAX(id) - 20 FROM q)").run();
  });
  await store.commit();
});
globalThis.addEventListener("unload", () => {
  store.close();
  Deno.removeSync(dir, { recursive: true });
});
