import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { SurveyAggregator } from "./aggregate.ts";
import type { SurveyDefinition } from "./definition.ts";
import { surveyNormSub, surveyZScore } from "./estimate.ts";
import { randomizeSurveyAnswer, SurveySampler } from "./randomize.ts";
import { surveyPlan } from "./definition.ts";
import { encodeSurveyReport } from "./report.ts";
import { drawSurveyAnswer, type SurveyTruth, surveyTruthValues } from "./simulate.ts";

/** One question per mechanism, small domains so 200 runs stay fast. */
const definition: SurveyDefinition = {
  id: "cover",
  target: { epsilon: 10, delta: 1e-6 },
  questions: [
    { id: "krr", type: "categorical", options: ["a", "b", "c", "d"], epsilon0: 1 },
    {
      id: "oue",
      type: "categorical",
      options: ["a", "b", "c", "d", "e", "f"],
      epsilon0: 1,
      oracle: "oue",
    },
    {
      id: "olh",
      type: "categorical",
      options: ["a", "b", "c", "d", "e"],
      epsilon0: 1,
      oracle: "olh",
    },
    { id: "multi", type: "multiple", options: ["a", "b", "c", "d"], maxSelections: 2, epsilon0: 2 },
    { id: "num", type: "numeric", min: 0, max: 10, epsilon0: 1 },
  ],
};
const truth: Record<string, SurveyTruth> = {
  krr: { type: "categorical", probabilities: [0.5, 0.3, 0.15, 0.05] },
  oue: { type: "categorical", probabilities: [0.3, 0.25, 0.2, 0.15, 0.1, 0] },
  olh: { type: "categorical", probabilities: [0.6, 0.1, 0.1, 0.1, 0.1] },
  multi: {
    type: "multiple",
    profiles: [
      { options: [0, 1], probability: 0.4 },
      { options: [2], probability: 0.3 },
      { options: [], probability: 0.3 },
    ],
  },
  num: {
    type: "numeric",
    mixture: [{ min: 0, max: 4, probability: 0.7 }, { min: 6, max: 10, probability: 0.3 }],
  },
};

const RUNS = 200;
const RESPONDENTS = 1500;

Deno.test("estimators are unbiased and 95% intervals cover ≥ 90% over 200 seeded runs", () => {
  const plans = surveyPlan(definition);
  const truths = plans.map((p) =>
    surveyTruthValues(
      truth[p.question.id]!,
      p.question.type === "numeric" ? 0 : p.question.options.length,
    )
  );
  const sums = truths.map((t) => t.map(() => 0));
  const sumSquares = truths.map((t) => t.map(() => 0));
  const covered = truths.map((t) => t.map(() => 0));
  for (let run = 0; run < RUNS; run++) {
    const sampler = new SurveySampler(seededRandom(`cover-${run}`));
    const agg = new SurveyAggregator(definition);
    for (let i = 0; i < RESPONDENTS; i++) {
      for (const plan of plans) {
        const answer = drawSurveyAnswer(truth[plan.question.id]!, sampler);
        agg.ingest(randomizeSurveyAnswer(plan, { survey: definition.id, answer, sampler }));
      }
    }
    agg.estimate().questions.forEach((q, j) => {
      const intervals = q.mean !== undefined ? [q.mean] : q.frequencies!;
      intervals.forEach((iv, v) => {
        sums[j]![v]! += iv.estimate;
        sumSquares[j]![v]! += iv.estimate ** 2;
        if (iv.low <= truths[j]![v]! && truths[j]![v]! <= iv.high) covered[j]![v]!++;
      });
    });
  }
  plans.forEach((plan, j) => {
    truths[j]!.forEach((t, v) => {
      const mean = sums[j]![v]! / RUNS;
      const sd = Math.sqrt(Math.max(0, sumSquares[j]![v]! / RUNS - mean * mean));
      // Unbiased: the mean of 200 estimates is within 4 standard errors of the truth.
      assert.ok(
        Math.abs(mean - t) <= 4 * sd / Math.sqrt(RUNS) + 1e-12,
        `${plan.question.id}[${v}]: mean ${mean} vs truth ${t} (sd ${sd})`,
      );
      const coverage = covered[j]![v]! / RUNS;
      assert.ok(coverage >= 0.9, `${plan.question.id}[${v}]: coverage ${coverage}`);
    });
  });
});

Deno.test("estimates are live: counts and intervals update as reports arrive", () => {
  const agg = new SurveyAggregator(definition);
  const plans = surveyPlan(definition);
  const sampler = new SurveySampler(seededRandom("live"));
  const widths: number[] = [];
  for (const batch of [200, 2000, 20000]) {
    while (agg.counts[0]! < batch) {
      const answer = drawSurveyAnswer(truth.krr!, sampler);
      agg.ingest(randomizeSurveyAnswer(plans[0]!, { survey: definition.id, answer, sampler }));
    }
    const f = agg.estimate().questions[0]!.frequencies![0]!;
    widths.push(f.high - f.low);
  }
  assert.ok(widths[0]! > widths[1]! && widths[1]! > widths[2]!);
  // With no reports the estimate is undefined, not zero.
  assert.ok(
    Number.isNaN(
      new SurveyAggregator(definition).estimate().questions[0]!.frequencies![0]!.estimate,
    ),
  );
});

Deno.test("Norm-Sub returns the simplex projection", () => {
  const out = surveyNormSub([0.5, 0.4, 0.3, -0.1, -0.05], 1);
  assert.ok(Math.abs(out.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(out.every((x) => x >= 0));
  const expected = [0.5 - 0.2 / 3, 0.4 - 0.2 / 3, 0.3 - 0.2 / 3, 0, 0];
  out.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) < 1e-12, `${i}: ${x}`));
  // Already consistent input is unchanged; a sum below 1 is raised uniformly.
  assert.deepEqual(surveyNormSub([0.2, 0.8], 1), [0.2, 0.8]);
  const raised = surveyNormSub([0.1, 0.3], 1);
  assert.ok(Math.abs(raised[0]! - 0.4) < 1e-12 && Math.abs(raised[1]! - 0.6) < 1e-12);
});

Deno.test("z-scores match the normal quantiles", () => {
  assert.ok(Math.abs(surveyZScore(0.95) - 1.959964) < 1e-6);
  assert.ok(Math.abs(surveyZScore(0.99) - 2.575829) < 1e-6);
  assert.ok(Math.abs(surveyZScore(0.5) - 0.674490) < 1e-6);
  assert.throws(() => surveyZScore(1), InvalidInputError);
});

Deno.test("privacy is accounted on the smallest shuffled batch", () => {
  const def: SurveyDefinition = {
    id: "batches",
    target: { epsilon: 1, delta: 1e-6 },
    questions: [{ id: "q", type: "categorical", options: ["a", "b"], epsilon0: 4 }],
  };
  const plan = surveyPlan(def)[0]!;
  const sampler = new SurveySampler(seededRandom("batches"));
  const batch = (n: number) =>
    Array.from(
      { length: n },
      () =>
        encodeSurveyReport(randomizeSurveyAnswer(plan, { survey: "batches", answer: 0, sampler })),
    );
  const agg = new SurveyAggregator(def);
  agg.ingestBatch(batch(5000));
  agg.ingestBatch(batch(800));
  assert.deepEqual(agg.counts, [5800]);
  assert.deepEqual(agg.smallestBatchCounts, [800]);
  assert.equal(agg.privacy().questions[0]!.n, 800);
  // Reports counted one by one form one more batch.
  for (const bytes of batch(300)) agg.ingestBytes(bytes);
  assert.deepEqual(agg.smallestBatchCounts, [300]);
});
