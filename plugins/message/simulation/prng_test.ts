import assert from "node:assert/strict";
import { SimulationRandom } from "./prng.ts";

Deno.test("SimulationRandom: the same seed gives the same stream, another seed another", () => {
  const a = new SimulationRandom("seed-1");
  const b = new SimulationRandom("seed-1");
  const c = new SimulationRandom("seed-2");
  const xs = Array.from({ length: 100 }, () => a.nextUint32());
  assert.deepEqual(Array.from({ length: 100 }, () => b.nextUint32()), xs);
  assert.notDeepEqual(Array.from({ length: 100 }, () => c.nextUint32()), xs);
});

Deno.test("SimulationRandom: uniform in [0, 1) with mean 1/2, exponential with mean 1/rate", () => {
  const rng = new SimulationRandom("moments");
  const n = 200_000;
  let sum = 0, sumExp = 0, min = 1, max = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    sum += u;
    min = Math.min(min, u);
    max = Math.max(max, u);
    sumExp += rng.exponential(4);
  }
  assert.ok(min >= 0 && max < 1);
  // Standard errors: 0.29/sqrt(n) ≈ 6.5e-4 and 0.25/sqrt(n) ≈ 5.6e-4; 6 sigma.
  assert.ok(Math.abs(sum / n - 0.5) < 0.004, `mean ${sum / n}`);
  assert.ok(Math.abs(sumExp / n - 0.25) < 0.0035, `exponential mean ${sumExp / n}`);
});

Deno.test("SimulationRandom.below: every outcome, none outside", () => {
  const rng = new SimulationRandom("below");
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70_000; i++) counts[rng.below(7)]++;
  for (const c of counts) assert.ok(c > 9_400 && c < 10_600, `count ${c}`);
});
