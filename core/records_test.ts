import assert from "node:assert/strict";
import { InvalidInputError } from "./errors.ts";
import { allRecords, memoryItemChunks, memoryRecords, memoryRecordSink } from "./records.ts";

Deno.test("memory records: ranges and gathers return the records asked for", () => {
  const bytes = Uint8Array.from({ length: 30 }, (_, i) => i);
  const list = memoryRecords(bytes, 3);
  assert.equal(list.count, 10);
  assert.deepEqual([...list.read(2, 4)], [6, 7, 8, 9, 10, 11]);
  assert.deepEqual([...list.gather([9, 0, 9])], [27, 28, 29, 0, 1, 2, 27, 28, 29]);
  assert.equal(list.read(5, 5).length, 0);
  assert.deepEqual(allRecords(list), bytes);
});

Deno.test("memory records: ranges outside the list and partial records are rejected", () => {
  const list = memoryRecords(new Uint8Array(12), 4);
  assert.throws(() => list.read(2, 4), InvalidInputError);
  assert.throws(() => list.read(2, 1), InvalidInputError);
  assert.throws(() => list.gather([3]), /outside/);
  assert.throws(() => list.gather([-1]), /outside/);
  assert.throws(() => memoryRecords(new Uint8Array(5), 4), /whole 4-byte records/);
});

Deno.test("memory sink: writes in any order of ranges read back in place", () => {
  const sink = memoryRecordSink(4, 2);
  sink.write(2, new Uint8Array([5, 5, 6, 6]));
  sink.write(0, new Uint8Array([1, 1, 2, 2]));
  assert.throws(() => sink.write(3, new Uint8Array(4)), /outside/);
  assert.throws(() => sink.write(0, new Uint8Array(3)), /not whole 2-byte records/);
  assert.deepEqual([...sink.finish().read(0, 4)], [1, 1, 2, 2, 5, 5, 6, 6]);
});

Deno.test("memory item chunks: every item once, in order, in chunks of the size asked", async () => {
  const items = Array.from({ length: 10 }, (_, i) => `item ${i}`);
  const chunks: string[][] = [];
  for await (const chunk of memoryItemChunks(items).chunks(4)) chunks.push(chunk);
  assert.deepEqual(chunks.map((c) => c.length), [4, 4, 2]);
  assert.deepEqual(chunks.flat(), items);
});
