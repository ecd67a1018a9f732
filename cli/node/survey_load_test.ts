/** The load run's stage timeline, from node log lines (the load itself is not a test). */
import assert from "node:assert/strict";
import { batchStages } from "./survey_load.ts";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const line = (s: number, event: string, extra: Record<string, unknown>) =>
  JSON.stringify({ time: at(s), level: "info", event, ...extra });

Deno.test("batchStages times each stage of a batch from the collector's and mixers' logs", () => {
  const job = "sv.t.1.abc";
  const lines = [
    line(10, "survey_batch_formed", { batch: job }),
    line(11, "survey_batch_sent", { batch: job }),
    // Mixer 0 starts at 12 (mixed at 14 after 2 s, 0.5 s of them fetching), posted at 15.
    line(14, "cascade_mixed", { job, stage: 0, seconds: 2, fetchSeconds: 0.5 }),
    line(15, "cascade_posted", { job, stage: 0 }),
    line(17, "cascade_mixed", { job, stage: 1, seconds: 1, fetchSeconds: 0.25 }),
    line(18, "cascade_posted", { job, stage: 1 }),
    line(20, "survey_batch_counted", { batch: job }),
    "not json",
    // A batch not counted yet is left out.
    line(30, "survey_batch_formed", { batch: "sv.t.1.def" }),
  ];
  const stages = batchStages(lines);
  const p50 = (name: string) => stages[name]?.p50;
  assert.equal(p50("collector: post the batch to the board"), 1);
  assert.equal(p50("mixer 0: pick up"), 1);
  assert.equal(p50("mixer 0: fetch items"), 0.5);
  assert.equal(p50("mixer 0: mix"), 1.5);
  assert.equal(p50("mixer 0: post, board verifies and stores"), 1);
  assert.equal(p50("mixer 1: pick up"), 1);
  assert.equal(p50("collector: pick up, fetch and count"), 2);
  assert.equal(p50("whole batch: formed → counted"), 10);
  assert.equal(stages["whole batch: formed → counted"]!.batches, 1);
  assert.equal(stages["mixer 2: mix"], undefined);
});
