import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { runSurveyBench } from "./bench.ts";
import { simulateSurvey, SURVEY_EXAMPLE } from "./simulate.ts";

Deno.test("a seeded simulation through the mix-net is reproducible and close to the truth", async () => {
  const a = await simulateSurvey({ respondents: 3000, seed: "t", batchSize: 1000 });
  const b = await simulateSurvey({ respondents: 3000, seed: "t", batchSize: 1000, mix: false });
  assert.equal(a.rejected, 0);
  // Shuffling does not change the counts, so the estimates are identical.
  assert.deepEqual(a.questions.map((q) => q.estimates), b.questions.map((q) => q.estimates));
  assert.equal(a.questions.length, SURVEY_EXAMPLE.questions.length);
  assert.deepEqual(a.estimate.questions.map((q) => q.mechanism), [
    "krr",
    "krr",
    "oue",
    "olh",
    "numeric",
  ]);
  for (const q of a.questions) assert.ok(q.coverage >= 0.75, `${q.id}: coverage ${q.coverage}`);
  assert.equal(
    a.estimate.questions[0]!.consistent!.reduce((s, x) => s + x, 0).toFixed(9),
    "1.000000000",
  );
  // 3000 respondents are far below the minimum batch: the target is not met.
  assert.ok(a.minBatchSize > 3000 && !a.privacy.meetsTarget);
  const c = await simulateSurvey({ respondents: 3000, seed: "u", batchSize: 1000, mix: false });
  assert.notDeepEqual(c.questions[0]!.estimates, a.questions[0]!.estimates);
  await assert.rejects(simulateSurvey({ respondents: 0, seed: "x" }), InvalidInputError);
});

Deno.test("the benchmark core returns finite figures on a small run", () => {
  const r = runSurveyBench({ reports: 5000, poolRespondents: 200, perMechanismReports: 500 });
  assert.equal(r.reports, 5000);
  assert.ok(Number.isFinite(r.reportsPerSecond) && r.reportsPerSecond > 0);
  assert.equal(r.mechanisms.length, 5);
  assert.ok(r.estimateMs >= 0 && r.privacyText.includes("survey 'example-2026'"));
});
