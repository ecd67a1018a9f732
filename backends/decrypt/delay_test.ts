import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { sphinxExponentialDelayMs, sphinxRouteDelaysMs } from "./delay.ts";

Deno.test("exponential delays have the requested mean (seeded sample)", () => {
  const random = seededRandom("delays");
  const n = 20000, mean = 200;
  let sum = 0, below = 0;
  for (let i = 0; i < n; i++) {
    const d = sphinxExponentialDelayMs(mean, random);
    assert.ok(Number.isInteger(d) && d >= 0);
    sum += d;
    if (d < mean * Math.LN2) below++;
  }
  // Mean within 3% and median at mean·ln 2 within 2 points (n = 20,000, σ/mean ≈ 0.7%).
  assert.ok(Math.abs(sum / n - mean) < mean * 0.03, `mean ${sum / n}`);
  assert.ok(Math.abs(below / n - 0.5) < 0.02, `fraction below median ${below / n}`);
});

Deno.test("route delays: one per hop, zero mean gives zero, bad means refused", () => {
  assert.deepEqual(sphinxRouteDelaysMs(3, { meanMs: 0 }), [0, 0, 0]);
  assert.equal(sphinxRouteDelaysMs(5, { meanMs: 10, random: seededRandom("r") }).length, 5);
  assert.throws(() => sphinxExponentialDelayMs(-1), InvalidInputError);
  assert.throws(() => sphinxExponentialDelayMs(Number.NaN), InvalidInputError);
});
