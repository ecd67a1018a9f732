import assert from "node:assert/strict";
import { ConfigError, InvalidInputError } from "../../core/errors.ts";
import { MemoryReplayCache } from "./replay_cache.ts";
import { assertRejectsWith } from "./test_helpers.ts";

Deno.test("memory replay cache records tags once", async () => {
  const cache = new MemoryReplayCache();
  const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
  assert.equal(await cache.has(a), false);
  assert.equal(await cache.add(a), true);
  assert.equal(await cache.add(a.slice()), false);
  assert.equal(await cache.add(b), true);
  assert.equal(await cache.has(a), true);
  assert.equal(cache.size, 2);
  cache.clear();
  assert.equal(await cache.has(a), false);
});

Deno.test("memory replay cache refuses when full and rejects malformed tags", async () => {
  const cache = new MemoryReplayCache({ maxEntries: 1 });
  await cache.add(new Uint8Array(32));
  await assertRejectsWith(cache.add(new Uint8Array(32).fill(9)), ConfigError);
  assert.throws(() => cache.add(new Uint8Array(31)), InvalidInputError);
});
