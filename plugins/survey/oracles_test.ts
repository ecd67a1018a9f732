import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import {
  chooseSurveyOracle,
  surveyOracleParams,
  surveyOracleReportBytes,
  surveyOracleVariance,
} from "./oracles.ts";

Deno.test("variances match Wang et al. 2017 closed forms", () => {
  for (const e0 of [0.5, 1, 2, 4]) {
    const e = Math.exp(e0);
    for (const k of [2, 5, 40]) {
      const krr = surveyOracleParams("krr", { k, epsilon0: e0 });
      assert.ok(Math.abs(surveyOracleVariance(krr) - (e + k - 2) / (e - 1) ** 2) < 1e-9);
      const oue = surveyOracleParams("oue", { k, epsilon0: e0 });
      assert.ok(Math.abs(surveyOracleVariance(oue) - (4 * e) / (e - 1) ** 2) < 1e-9);
      // OLH with integer g is never better than OUE, and within 5%.
      const olh = surveyOracleParams("olh", { k, epsilon0: e0 });
      assert.ok(surveyOracleVariance(olh) >= surveyOracleVariance(oue) - 1e-12);
      assert.ok(surveyOracleVariance(olh) <= 1.05 * surveyOracleVariance(oue));
    }
  }
});

Deno.test("automatic choice: k-RR exactly when k < 3e^ε + 2, then OUE, then OLH for large k", () => {
  for (const e0 of [0.5, 1, 2, 3]) {
    const cross = 3 * Math.exp(e0) + 2;
    for (const k of [2, 3, 4, 8, 16, 32, 64, 100, 500]) {
      const chosen = chooseSurveyOracle({ k, epsilon0: e0 });
      if (k < cross - 0.5) assert.equal(chosen.oracle, "krr", `k=${k} ε0=${e0}`);
      else if (k > cross + 0.5) assert.notEqual(chosen.oracle, "krr", `k=${k} ε0=${e0}`);
    }
  }
  assert.equal(chooseSurveyOracle({ k: 50, epsilon0: 2 }).oracle, "oue");
  assert.equal(chooseSurveyOracle({ k: 1000, epsilon0: 2 }).oracle, "olh");
});

Deno.test("OLH picks g near e^ε + 1 and report sizes are as documented", () => {
  const olh = surveyOracleParams("olh", { k: 100, epsilon0: 4 });
  assert.ok(Math.abs(olh.g - (Math.exp(4) + 1)) <= 1);
  assert.equal(surveyOracleReportBytes(olh), 17);
  assert.equal(surveyOracleReportBytes(surveyOracleParams("oue", { k: 17, epsilon0: 1 })), 3);
  assert.equal(surveyOracleReportBytes(surveyOracleParams("krr", { k: 300, epsilon0: 1 })), 2);
});

Deno.test("bad domains and ε0 are rejected", () => {
  assert.throws(() => surveyOracleParams("krr", { k: 1, epsilon0: 1 }), InvalidInputError);
  assert.throws(() => surveyOracleParams("krr", { k: 20000, epsilon0: 1 }), InvalidInputError);
  assert.throws(() => surveyOracleParams("oue", { k: 4, epsilon0: 0 }), InvalidInputError);
  assert.throws(() => surveyOracleParams("x" as "krr", { k: 4, epsilon0: 1 }), InvalidInputError);
});
