import assert from "node:assert/strict";
import { BatchTooSmallError, InvalidInputError } from "../../core/errors.ts";
import {
  assertSurveyPublishable,
  surveyAdvancedComposition,
  surveyBasicComposition,
  surveyMinBatchSize,
  surveyPrivacy,
} from "./composition.ts";
import type { SurveyDefinition } from "./definition.ts";
import { shuffleAmplification } from "./shuffle_accountant.ts";

const definition: SurveyDefinition = {
  id: "comp",
  target: { epsilon: 0.5, delta: 1e-6 },
  questions: [
    { id: "a", type: "categorical", options: ["x", "y", "z"], epsilon0: 4 },
    {
      id: "b",
      type: "categorical",
      options: Array.from({ length: 200 }, (_, i) => `${i}`),
      epsilon0: 3,
    },
  ],
};

Deno.test("basic and advanced composition follow their formulas", () => {
  const parts = [{ epsilon: 0.1, delta: 1e-7 }, { epsilon: 0.3, delta: 2e-7 }];
  const basic = surveyBasicComposition(parts);
  assert.ok(Math.abs(basic.epsilon - 0.4) < 1e-12 && Math.abs(basic.delta - 3e-7) < 1e-20);
  const adv = surveyAdvancedComposition(parts, 1e-6);
  const expected = Math.sqrt(2 * Math.log(1e6) * (0.01 + 0.09)) + 0.1 * Math.expm1(0.1) +
    0.3 * Math.expm1(0.3);
  assert.ok(Math.abs(adv.epsilon - expected) < 1e-12);
  assert.ok(Math.abs(adv.delta - 1.3e-6) < 1e-18);
  // Many small mechanisms: advanced beats basic.
  const many = Array.from({ length: 400 }, () => ({ epsilon: 0.01, delta: 0 }));
  assert.ok(surveyAdvancedComposition(many, 1e-6).epsilon < surveyBasicComposition(many).epsilon);
  assert.throws(() => surveyAdvancedComposition(parts, 0), InvalidInputError);
});

Deno.test("survey privacy composes per-question shuffle guarantees at their share of δ", () => {
  const privacy = surveyPrivacy(definition, [200000, 200000]);
  assert.equal(privacy.rule, "basic");
  const a = shuffleAmplification({
    n: 200000,
    epsilon0: 4,
    delta: 5e-7,
    model: "randomized-response",
  });
  const b = shuffleAmplification({ n: 200000, epsilon0: 3, delta: 5e-7 });
  assert.ok(Math.abs(privacy.epsilon - (a.epsilon + b.epsilon)) < 1e-12);
  assert.ok(privacy.delta <= 1e-6 * (1 + 1e-9));
  assert.ok(privacy.meetsTarget);
  assert.match(
    privacy.text,
    /survey 'comp': central ε = 0\.\d+ at δ = 1\.0e-6 by basic composition over 2 questions; target ε = 0\.5 is met/,
  );
  assertSurveyPublishable(privacy);
});

Deno.test("publication is refused below the target", () => {
  const privacy = surveyPrivacy(definition, [2000, 2000]);
  assert.equal(privacy.meetsTarget, false);
  assert.throws(
    () => assertSurveyPublishable(privacy),
    (e: unknown) => e instanceof BatchTooSmallError && /refusing to publish/.test(e.message),
  );
});

Deno.test("survey minimum batch size is the smallest n meeting the target", () => {
  const n = surveyMinBatchSize(definition);
  assert.ok(surveyPrivacy(definition, [n, n]).meetsTarget);
  assert.ok(!surveyPrivacy(definition, [n - 1, n - 1]).meetsTarget);
  assert.throws(() => surveyMinBatchSize(definition, 100), InvalidInputError);
});
