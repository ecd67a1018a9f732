import assert from "node:assert/strict";
import { assertBatchSize, Batcher } from "./batcher.ts";
import { BatchTooSmallError, ConfigError } from "./errors.ts";

Deno.test("assertBatchSize refuses batches below the minimum", () => {
  assertBatchSize(3, 3);
  assert.throws(() => assertBatchSize(1, 2), BatchTooSmallError);
  assert.throws(
    () => assertBatchSize(0, 2),
    /Batch of 0 items is below the minimum batch size of 2/,
  );
});

Deno.test("Batcher releases full batches by size, in order", async () => {
  const batches: number[][] = [];
  const b = new Batcher<number>({
    maxSize: 3,
    minSize: 2,
    maxWaitMs: 10_000,
    onBatch: (x) => {
      batches.push(x);
    },
  });
  for (let i = 0; i < 7; i++) await b.add(i);
  assert.deepEqual(batches, [[0, 1, 2], [3, 4, 5]]);
  const left = await b.close();
  assert.deepEqual(left, [6]);
  assert.deepEqual(batches.length, 2);
});

Deno.test("Batcher releases by time only once the minimum is met", async () => {
  const batches: number[][] = [];
  const b = new Batcher<number>({
    maxSize: 100,
    minSize: 2,
    maxWaitMs: 20,
    onBatch: (x) => {
      batches.push(x);
    },
  });
  await b.add(1);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(batches.length, 0, "a single item must not be released");
  await b.add(2);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(batches, [[1, 2]]);
  assert.deepEqual(await b.close(), []);
  await assert.rejects(() => b.add(3), ConfigError);
});

Deno.test("Batcher rejects inconsistent settings", () => {
  const onBatch = () => {};
  assert.throws(() => new Batcher({ maxSize: 1, minSize: 2, maxWaitMs: 1, onBatch }), ConfigError);
  assert.throws(() => new Batcher({ maxSize: 2, minSize: 0, maxWaitMs: 1, onBatch }), ConfigError);
  assert.throws(() => new Batcher({ maxSize: 2, minSize: 1, maxWaitMs: 0, onBatch }), ConfigError);
});
