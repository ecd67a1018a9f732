import assert from "node:assert/strict";
import { encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { SurveyAggregator } from "./aggregate.ts";
import type { SurveyDefinition } from "./definition.ts";
import { surveyRespond } from "./randomize.ts";
import {
  decodeSurveyReport,
  encodeSurveyReport,
  readSurveyReport,
  type SurveyReport,
} from "./report.ts";

const definition: SurveyDefinition = {
  id: "rt",
  target: { epsilon: 1, delta: 1e-6 },
  questions: [
    { id: "krr", type: "categorical", options: ["a", "b", "c"], epsilon0: 2 },
    {
      id: "oue",
      type: "categorical",
      options: Array.from({ length: 13 }, (_, i) => `o${i}`),
      epsilon0: 1,
      oracle: "oue",
    },
    {
      id: "olh",
      type: "categorical",
      options: Array.from({ length: 300 }, (_, i) => `c${i}`),
      epsilon0: 1,
    },
    { id: "num", type: "numeric", min: 0, max: 1, epsilon0: 1 },
  ],
};
const answers = { krr: "b", oue: 3, olh: 200, num: 0.25 };

Deno.test("reports round-trip through msgpack bytes", () => {
  const reports = surveyRespond(definition, { answers, random: seededRandom("rt") });
  assert.deepEqual(reports.map((r) => r.mechanism), ["krr", "oue", "olh", "numeric"]);
  for (const r of reports) assert.deepEqual(decodeSurveyReport(encodeSurveyReport(r)), r);
});

function expectInvalid(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof InvalidInputError && field.test(e.message));
}

Deno.test("malformed reports are rejected with InvalidInputError naming the field", () => {
  const base = {
    v: 1,
    kind: "survey.report",
    survey: "rt",
    question: "krr",
    mechanism: "krr",
    value: 1,
  };
  const decode = (value: unknown) => decodeSurveyReport(encodeMsgpack(value));
  expectInvalid(
    () => decode({ ...base, kind: "plain.item" }),
    /report' must be of kind 'survey.report'/,
  );
  expectInvalid(() => decode({ ...base, v: 2 }), /unsupported version 2/);
  expectInvalid(() => decode({ ...base, survey: 7 }), /report\.survey/);
  expectInvalid(() => decode({ ...base, question: undefined }), /report\.question/);
  expectInvalid(() => decode({ ...base, mechanism: "laplace" }), /report\.mechanism/);
  expectInvalid(() => decode({ ...base, value: -1 }), /report\.value/);
  expectInvalid(() => decode({ ...base, value: 1.5 }), /report\.value/);
  expectInvalid(
    () => decode({ ...base, mechanism: "olh", seed: new Uint8Array(15) }),
    /report\.seed/,
  );
  expectInvalid(() => decode({ ...base, mechanism: "oue", bits: 5 }), /report\.bits/);
  expectInvalid(() => decode({ ...base, mechanism: "numeric", bit: 2 }), /report\.bit/);
  expectInvalid(() => decode([1, 2]), /report' must be a map/);
  const good = encodeSurveyReport(readSurveyReport(base));
  expectInvalid(() => decodeSurveyReport(good.subarray(0, good.length - 2)), /truncated/);
  expectInvalid(() => decodeSurveyReport(new Uint8Array([...good, 0xc0])), /one msgpack value/);
  expectInvalid(() => decodeSurveyReport(new Uint8Array(5000)), /at most 2048 bytes/);
});

Deno.test("the aggregator rejects reports that do not fit their question", () => {
  const agg = new SurveyAggregator(definition);
  const ok = (r: SurveyReport) => agg.ingest(r);
  const base = { survey: "rt" } as const;
  expectInvalid(
    () => ok({ ...base, survey: "other", question: "krr", mechanism: "krr", value: 0 }),
    /report\.survey/,
  );
  expectInvalid(
    () => ok({ ...base, question: "nope", mechanism: "krr", value: 0 }),
    /report\.question/,
  );
  expectInvalid(
    () => ok({ ...base, question: "krr", mechanism: "oue", bits: new Uint8Array(1) }),
    /report\.mechanism/,
  );
  expectInvalid(
    () => ok({ ...base, question: "krr", mechanism: "krr", value: 3 }),
    /report\.value/,
  );
  expectInvalid(
    () => ok({ ...base, question: "oue", mechanism: "oue", bits: new Uint8Array(3) }),
    /report\.bits/,
  );
  // 13 values: bits 13..15 of the second byte must be clear.
  expectInvalid(
    () => ok({ ...base, question: "oue", mechanism: "oue", bits: new Uint8Array([0, 0x20]) }),
    /beyond the domain/,
  );
  const g = 4; // OLH at ε0 = 1 hashes to g = 4 values
  expectInvalid(
    () => ok({ ...base, question: "olh", mechanism: "olh", seed: new Uint8Array(16), value: g }),
    /report\.value/,
  );
  assert.deepEqual(agg.counts, [0, 0, 0, 0]);
  const result = agg.ingestBatch([
    encodeSurveyReport({ ...base, question: "krr", mechanism: "krr", value: 2 }),
    new Uint8Array([1, 2, 3]),
    encodeSurveyReport({ ...base, question: "num", mechanism: "numeric", bit: 1 }),
  ]);
  assert.equal(result.accepted, 2);
  assert.deepEqual(result.rejected.map((r) => r.index), [1]);
  assert.deepEqual(agg.counts, [1, 0, 0, 1]);
});
