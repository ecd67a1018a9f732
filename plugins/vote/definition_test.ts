import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack, toJsonView } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { toHex } from "../../core/bytes.ts";
import {
  createElectionDefinition,
  electionDefinitionFromEnvelope,
  electionDefinitionToEnvelope,
  electionFingerprint,
  validateElectionDefinition,
} from "./definition.ts";

const base = () =>
  createElectionDefinition({
    id: "def-test",
    title: "Definition test",
    trustees: 3,
    threshold: 2,
    mixers: 3,
    questions: [{ text: "Q", choices: ["a", "b"] }],
  });

Deno.test("definition: defaults and names", () => {
  const d = base();
  assert.deepEqual(d.trustees, ["trustee-1", "trustee-2", "trustee-3"]);
  assert.deepEqual(d.mixers, ["mixer-1", "mixer-2", "mixer-3"]);
  assert.equal(d.revote, "reject");
  assert.deepEqual(d.questions[0], {
    text: "Q",
    choices: ["a", "b"],
    type: "single",
    min: 0,
    max: 1,
  });
});

Deno.test("definition: envelope round trip through msgpack and JSON keeps the fingerprint", () => {
  const d = base();
  const env = electionDefinitionToEnvelope(d);
  const viaMsgpack = electionDefinitionFromEnvelope(decodeMsgpack(encodeMsgpack(env), "x"));
  const viaJson = electionDefinitionFromEnvelope(JSON.parse(JSON.stringify(toJsonView(env))));
  assert.deepEqual(viaMsgpack, d);
  assert.equal(toHex(electionFingerprint(viaJson)), toHex(electionFingerprint(d)));
});

Deno.test("definition: fingerprint changes with every field", () => {
  const d = base();
  const fp = toHex(electionFingerprint(d));
  const variants = [
    { ...d, id: "other" },
    { ...d, title: "x" },
    { ...d, threshold: 3 },
    { ...d, revote: "last" as const },
    { ...d, trustees: ["a", "b", "c"] },
    { ...d, mixers: ["m"] },
    { ...d, questions: [{ ...d.questions[0]!, choices: ["a", "c"] }] },
    { ...d, questions: [{ ...d.questions[0]!, min: 1 }] },
    { ...d, questions: [{ ...d.questions[0]!, type: "multiple" as const }] },
  ];
  const seen = new Set([fp]);
  for (const v of variants) {
    const f = toHex(electionFingerprint(v));
    assert.ok(!seen.has(f));
    seen.add(f);
  }
});

Deno.test("definition: fingerprint known answer", () => {
  // Regression value: changing the canonical encoding must be a deliberate, versioned change.
  assert.equal(
    toHex(electionFingerprint(base())),
    "f50eea831d74133088ffa57c34624dd9bfb4d6a126b57d1cb39cf2964b21ae38",
  );
});

Deno.test("definition: invalid definitions are rejected naming the rule", () => {
  const d = base();
  const bad: Array<[unknown, RegExp]> = [
    [{ ...d, id: "has space" }, /Election id/],
    [{ ...d, threshold: 4 }, /threshold/],
    [{ ...d, threshold: 0 }, /threshold/],
    [{ ...d, trustees: ["a", "a"] }, /twice in trustees/],
    [{ ...d, mixers: [] }, /mixers/],
    [{ ...d, questions: [] }, /questions/],
    [{ ...d, revote: "maybe" }, /revote/],
    [{ ...d, questions: [{ ...d.questions[0]!, choices: ["a", "a"] }] }, /appears twice/],
    [{ ...d, questions: [{ ...d.questions[0]!, max: 2 }] }, /max 1/],
    [{ ...d, questions: [{ ...d.questions[0]!, min: 2 }] }, /min/],
    [{ ...d, questions: [{ ...d.questions[0]!, type: "approval" }] }, /type/],
  ];
  for (const [value, pattern] of bad) {
    assert.throws(
      () => validateElectionDefinition(value as never),
      (e: unknown) => e instanceof InvalidInputError && pattern.test(e.message),
      String(pattern),
    );
  }
  assert.throws(() => electionDefinitionFromEnvelope({ v: 1, kind: "vote.ballot" }), /kind/);
});
