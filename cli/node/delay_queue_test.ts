import assert from "node:assert/strict";
import { DelayQueue, type QueuedPacket } from "./delay_queue.ts";

const item = (id: number, releaseAt: number): QueuedPacket => ({
  id,
  releaseAt,
  kind: "forward",
  target: new Uint8Array(32),
  packet: Uint8Array.of(id),
  surbId: null,
});

Deno.test("the delay queue releases packets by release time, then row id, only when due", () => {
  const q = new DelayQueue();
  const times = Array.from({ length: 500 }, (_, i) => (i * 7919) % 101);
  times.forEach((t, i) => q.push(item(i, t)));
  assert.deepEqual(q.size, 500);
  assert.deepEqual(q.nextAt(), 0);
  assert.deepEqual(q.takeDue(-1, 10), []);
  const out: QueuedPacket[] = [];
  for (let now = 0; now <= 100; now += 10) out.push(...q.takeDue(now, 1000));
  assert.deepEqual(q.size, 0);
  assert.deepEqual(q.nextAt(), undefined);
  const expected = times.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i);
  assert.deepEqual(out.map((p) => p.id), expected.map((e) => e.i));
});

Deno.test("the delay queue takes at most the limit and keeps the rest", () => {
  const q = new DelayQueue();
  for (let i = 0; i < 10; i++) q.push(item(i, 5));
  assert.deepEqual(q.takeDue(5, 3).map((p) => p.id), [0, 1, 2]);
  assert.deepEqual(q.size, 7);
  q.push(item(99, 1));
  assert.deepEqual(q.takeDue(5, 2).map((p) => p.id), [99, 3]);
});
