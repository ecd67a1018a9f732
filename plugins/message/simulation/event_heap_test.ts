import assert from "node:assert/strict";
import { EventHeap } from "./event_heap.ts";
import { SimulationRandom } from "./prng.ts";

Deno.test("EventHeap: pops in time order through growth and interleaved pushes", () => {
  const heap = new EventHeap(2);
  const rng = new SimulationRandom("heap");
  const times = new Map<number, number>();
  let id = 0;
  let last = -Infinity;
  let popped = 0;
  for (let round = 0; round < 50_000; round++) {
    if (heap.size === 0 || rng.uniform() < 0.55) {
      const t = last === -Infinity ? rng.uniform() : last + rng.exponential(1);
      times.set(id, t);
      heap.push(t, id++);
    } else {
      const t = heap.peekTime();
      const got = heap.pop();
      assert.equal(times.get(got), t);
      assert.ok(t >= last, `time went back from ${last} to ${t}`);
      last = t;
      popped++;
    }
  }
  while (heap.size > 0) {
    const t = heap.peekTime();
    heap.pop();
    assert.ok(t >= last);
    last = t;
    popped++;
  }
  assert.equal(popped, id);
  assert.equal(heap.pop(), -1);
  assert.equal(heap.peekTime(), Infinity);
});
