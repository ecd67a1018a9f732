import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { readSurveyDefinition, surveyPlan } from "./definition.ts";

const valid = {
  id: "s1",
  target: { epsilon: 1, delta: 1e-6 },
  questions: [
    { id: "c", type: "categorical", options: ["a", "b", "c"], epsilon0: 2 },
    { id: "m", type: "multiple", options: ["a", "b", "c", "d"], maxSelections: 2, epsilon0: 3 },
    {
      id: "big",
      type: "categorical",
      options: Array.from({ length: 500 }, (_, i) => `${i}`),
      epsilon0: 1,
    },
    { id: "n", type: "numeric", min: 0, max: 10, epsilon0: 1 },
  ],
};

Deno.test("definitions validate and plan their randomizers", () => {
  const def = readSurveyDefinition(valid);
  const plans = surveyPlan(def);
  assert.deepEqual(plans.map((p) => p.mechanism), ["krr", "krr", "olh", "numeric"]);
  assert.equal(plans[1]!.oracle!.k, 6); // 4 options + 2 padding values
  assert.deepEqual(plans.map((p) => p.cloneModel), [
    "randomized-response",
    "randomized-response",
    "generic",
    "randomized-response",
  ]);
  const forced = readSurveyDefinition({
    ...valid,
    questions: [{ ...valid.questions[0], oracle: "oue" }],
  });
  assert.equal(surveyPlan(forced)[0]!.mechanism, "oue");
  assert.equal(readSurveyDefinition({ v: 1, kind: "survey.definition", ...valid }).id, "s1");
});

Deno.test("invalid definitions name the offending field", () => {
  const bad = (patch: (d: typeof valid) => unknown, field: RegExp) =>
    assert.throws(
      () => readSurveyDefinition(patch(structuredClone(valid))),
      (e: unknown) => e instanceof InvalidInputError && field.test(e.message),
    );
  bad((d) => ({ ...d, id: "bad id!" }), /survey\.id/);
  bad((d) => ({ ...d, target: { epsilon: 0, delta: 1e-6 } }), /survey\.target\.epsilon/);
  bad((d) => ({ ...d, target: { epsilon: 1, delta: 1 } }), /survey\.target\.delta/);
  bad((d) => ({ ...d, questions: [] }), /survey\.questions/);
  bad(
    (d) => ({ ...d, questions: [{ ...d.questions[0], epsilon0: 0 }] }),
    /questions\[0\]\.epsilon0/,
  );
  bad(
    (d) => ({ ...d, questions: [{ ...d.questions[0], options: ["x"] }] }),
    /questions\[0\]\.options/,
  );
  bad((d) => ({ ...d, questions: [{ ...d.questions[1], maxSelections: 9 }] }), /maxSelections/);
  bad((d) => ({ ...d, questions: [{ ...d.questions[3], max: -1 }] }), /questions\[0\]\.max/);
  bad((d) => ({ ...d, questions: [{ ...d.questions[0], type: "rank" }] }), /questions\[0\]\.type/);
  bad(
    (d) => ({ ...d, questions: [{ ...d.questions[0], oracle: "rappor" }] }),
    /questions\[0\]\.oracle/,
  );
  bad((d) => ({ ...d, questions: [d.questions[0], d.questions[0]] }), /appears twice/);
  bad((d) => ({ ...d, v: 1, kind: "survey.report" }), /kind 'survey\.definition'/);
});
