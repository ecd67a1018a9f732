/**
 * `deno bench --allow-all plugins/survey/survey_bench.ts`: accountant latency at
 * several n, report ingest per mechanism, and estimate latency after 1M reports.
 */
import { seededRandom } from "../../core/random.ts";
import { SurveyAggregator } from "./aggregate.ts";
import { surveyPlan } from "./definition.ts";
import { randomizeSurveyAnswer, SurveySampler } from "./randomize.ts";
import { encodeSurveyReport } from "./report.ts";
import { shuffleAmplification } from "./shuffle_accountant.ts";
import { drawSurveyAnswer, SURVEY_EXAMPLE, SURVEY_EXAMPLE_TRUTH } from "./simulate.ts";

// Vary δ slightly per iteration so the memo cache never answers.
let tick = 0;
for (const [n, epsilon0] of [[100_000, 4], [10_000_000, 4], [10_000_000, 1]] as const) {
  Deno.bench(`accountant n = ${n}, ε0 = ${epsilon0}`, { group: "accountant" }, () => {
    shuffleAmplification({ n, epsilon0, delta: 1e-6 * (1 + 1e-9 * tick++) });
  });
}

const plans = surveyPlan(SURVEY_EXAMPLE);
const sampler = new SurveySampler(seededRandom("bench"));
const pools = plans.map((plan) =>
  Array.from({ length: 4096 }, () =>
    encodeSurveyReport(
      randomizeSurveyAnswer(plan, {
        survey: SURVEY_EXAMPLE.id,
        answer: drawSurveyAnswer(SURVEY_EXAMPLE_TRUTH[plan.question.id]!, sampler),
        sampler,
      }),
    ))
);

plans.forEach((plan, j) => {
  const agg = new SurveyAggregator(SURVEY_EXAMPLE);
  let i = 0;
  Deno.bench(`ingest 1000 ${plan.mechanism} reports (k = ${plan.oracle?.k ?? 1})`, {
    group: "ingest",
  }, () => {
    for (let r = 0; r < 1000; r++) agg.ingestBytes(pools[j]![i++ & 4095]!);
  });
});

const loaded = new SurveyAggregator(SURVEY_EXAMPLE);
for (let i = 0; i < 1_000_000; i++) loaded.ingestBytes(pools[i % pools.length]![(i >> 3) & 4095]!);
Deno.bench("estimate after 1M reports (5 questions)", () => {
  loaded.estimate();
});
