import assert from "node:assert/strict";
import { runSphinxLoad } from "./load.ts";

// Bounded load: 1,500 packets through three mix processes on loopback, 60 s at most.
// Figures are printed, not asserted (machines differ); loss is asserted.
Deno.test("load: 1,500 packets cross three mix processes with nothing lost", async () => {
  const result = await runSphinxLoad({ count: 1500, timeLimitMs: 60_000 });
  console.log(JSON.stringify(result));
  assert.equal(result.sent, 1500);
  assert.equal(result.accepted, 1500);
  assert.equal(result.delivered, 1500);
  assert.equal(result.gracefulStops, 3);
});
