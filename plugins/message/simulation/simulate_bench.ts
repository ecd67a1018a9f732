/**
 * `deno bench --allow-all plugins/message/simulation/simulate_bench.ts`: the simulator core —
 * event-heap operations, the adversary's mass tracking per departure, and whole runs
 * (events per second are in docs/message-simulation.md).
 */
import { EventHeap } from "./event_heap.ts";
import { SimulationRandom } from "./prng.ts";
import { LOOPIX_SIMULATION_DEFAULTS, simulateLoopix, TargetMassTracker } from "./simulate.ts";

const rng = new SimulationRandom("bench");

Deno.bench("heap: 100,000 push + pop at 100,000 in flight", { group: "heap" }, (b) => {
  const heap = new EventHeap(1 << 17);
  let t = 0;
  for (let i = 0; i < 100_000; i++) heap.push(t + rng.exponential(10), i);
  b.start();
  for (let i = 0; i < 100_000; i++) {
    t = heap.peekTime();
    heap.push(t + rng.exponential(10), heap.pop());
  }
  b.end();
});

Deno.bench("rng: 1,000,000 exponential variates", { group: "rng" }, () => {
  let sum = 0;
  for (let i = 0; i < 1_000_000; i++) sum += rng.exponential(10);
  if (!(sum > 0)) throw new Error("no variates");
});

Deno.bench("tracker: 100,000 departures, 50 targets spread over 30 mixes", {
  group: "tracker",
}, (b) => {
  const tracker = new TargetMassTracker(30, 50);
  for (let k = 0; k < 50; k++) for (let m = 0; m < 30; m++) tracker.add(m, k, 1 / 30);
  b.start();
  for (let i = 0; i < 100_000; i++) {
    const mix = i % 30;
    tracker.depart(mix, 100, (mix + 1 + (i % 7)) % 30);
  }
  b.end();
});

for (const users of [1_000, 10_000]) {
  Deno.bench(`simulate: ${users} users, 3 layers, 20 s simulated`, { group: "run" }, async () => {
    await simulateLoopix({ ...LOOPIX_SIMULATION_DEFAULTS, users, warmup: 5, duration: 15 });
  });
}
