import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { surveyQuestionPlan } from "./definition.ts";
import { olhHash, olhHashKey } from "./olh_hash.ts";
import { surveyOracleParams } from "./oracles.ts";
import {
  randomizeKrr,
  randomizeNumeric,
  randomizeOlh,
  randomizeOue,
  randomizeSurveyAnswer,
  surveyRespond,
  SurveySampler,
} from "./randomize.ts";

const TRIALS = 40000;
/** |observed − expected| within 5 binomial standard deviations. */
function assertRate(count: number, trials: number, p: number, what: string): void {
  const sd = Math.sqrt(trials * p * (1 - p));
  assert.ok(Math.abs(count - trials * p) <= 5 * sd + 1, `${what}: ${count / trials} vs ${p}`);
}

Deno.test("k-RR keeps the value with p = e^ε/(e^ε+k−1) and spreads the rest uniformly", () => {
  const params = surveyOracleParams("krr", { k: 4, epsilon0: 1 });
  assert.ok(Math.abs(params.p / params.q - Math.E) < 1e-12); // likelihood ratio e^ε0
  const sampler = new SurveySampler(seededRandom("krr"));
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < TRIALS; i++) counts[randomizeKrr(2, { params, sampler })]!++;
  counts.forEach((c, v) => assertRate(c, TRIALS, v === 2 ? params.p : params.q, `value ${v}`));
});

Deno.test("OUE sets the true bit with probability 1/2 and others with 1/(e^ε+1)", () => {
  const params = surveyOracleParams("oue", { k: 10, epsilon0: 2 });
  const { p, q } = params;
  assert.ok(Math.abs((p * (1 - q)) / (q * (1 - p)) - Math.exp(2)) < 1e-9);
  const sampler = new SurveySampler(seededRandom("oue"));
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < TRIALS; i++) {
    const bits = randomizeOue(7, { params, sampler });
    assert.equal(bits.length, 2);
    assert.equal(bits[1]! >> 2, 0); // no bits beyond k = 10
    for (let v = 0; v < 10; v++) if ((bits[v >> 3]! >> (v & 7)) & 1) counts[v]!++;
  }
  counts.forEach((c, v) => assertRate(c, TRIALS, v === 7 ? p : q, `bit ${v}`));
});

Deno.test("OLH supports the true value with p and any other value with 1/g", () => {
  const params = surveyOracleParams("olh", { k: 40, epsilon0: 1.5 });
  const sampler = new SurveySampler(seededRandom("olh"));
  let own = 0;
  let other = 0;
  const trials = 20000;
  for (let i = 0; i < trials; i++) {
    const r = randomizeOlh(5, { params, sampler });
    assert.ok(r.value >= 0 && r.value < params.g);
    const key = olhHashKey(r.seed);
    if (olhHash(key, { v: 5, g: params.g }) === r.value) own++;
    if (olhHash(key, { v: 31, g: params.g }) === r.value) other++;
  }
  assertRate(own, trials, params.p, "own value");
  assertRate(other, trials, 1 / params.g, "other value");
});

Deno.test("OLH hash family collides with probability 1/g over seeds", () => {
  const sampler = new SurveySampler(seededRandom("collide"));
  const g = 7;
  let collisions = 0;
  const trials = 30000;
  for (let i = 0; i < trials; i++) {
    const key = olhHashKey(sampler.bytes(16));
    if (olhHash(key, { v: 3, g }) === olhHash(key, { v: 9000, g })) collisions++;
  }
  assertRate(collisions, trials, 1 / g, "collisions");
});

Deno.test("numeric randomizer is unbiased for the scaled value", () => {
  const sampler = new SurveySampler(seededRandom("num"));
  const e = Math.exp(1);
  for (const x of [0, 25, 80, 100]) {
    let ones = 0;
    for (let i = 0; i < TRIALS; i++) {
      ones += randomizeNumeric(x, { min: 0, max: 100, epsilon0: 1, sampler });
    }
    const t = x / 50 - 1;
    assertRate(ones, TRIALS, 0.5 + (t * (e - 1)) / (2 * (e + 1)), `x = ${x}`);
  }
  assert.throws(
    () => randomizeNumeric(101, { min: 0, max: 100, epsilon0: 1, sampler }),
    InvalidInputError,
  );
});

Deno.test("multiple choice pads to maxSelections and samples one item uniformly", () => {
  const plan = surveyQuestionPlan({
    id: "m",
    type: "multiple",
    options: ["a", "b", "c", "d"],
    maxSelections: 3,
    epsilon0: 10, // nearly no noise: the report is the sampled item
  });
  const sampler = new SurveySampler(seededRandom("multi"));
  const counts = new Array<number>(7).fill(0);
  for (let i = 0; i < 30000; i++) {
    const r = randomizeSurveyAnswer(plan, { survey: "s", answer: ["b", "d"], sampler });
    assert.equal(r.mechanism, "krr");
    if (r.mechanism === "krr") counts[r.value]!++;
  }
  // b and d each about 1/3, the third third on a padding value (index ≥ 4).
  assertRate(counts[1]!, 30000, 1 / 3, "b");
  assertRate(counts[3]!, 30000, 1 / 3, "d");
  assert.ok(counts[0]! + counts[2]! < 30); // only through the e^−10 noise
  const bad = (answer: unknown) =>
    assert.throws(
      () => randomizeSurveyAnswer(plan, { survey: "s", answer: answer as string, sampler }),
      InvalidInputError,
    );
  bad(["a", "b", "c", "d"]);
  bad(["a", "a"]);
  bad(["z"]);
});

Deno.test("surveyRespond needs every answer and rejects ill-typed ones", () => {
  const def = {
    id: "s",
    target: { epsilon: 1, delta: 1e-6 },
    questions: [
      { id: "c", type: "categorical" as const, options: ["x", "y"], epsilon0: 1 },
      { id: "n", type: "numeric" as const, min: 0, max: 1, epsilon0: 1 },
    ],
  };
  assert.throws(
    () => surveyRespond(def, { answers: { c: "x" } }),
    /Answer to question 'n' is missing/,
  );
  assert.throws(() => surveyRespond(def, { answers: { c: ["x"], n: 0 } }), InvalidInputError);
  assert.throws(() => surveyRespond(def, { answers: { c: 5, n: 0 } }), InvalidInputError);
  assert.throws(() => surveyRespond(def, { answers: { c: "x", n: "0" } }), InvalidInputError);
  assert.equal(surveyRespond(def, { answers: { c: 1, n: 0.5 } }).length, 2);
});
