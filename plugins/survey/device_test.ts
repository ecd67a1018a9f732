import assert from "node:assert/strict";
import { generateSphinxCascade, unwrapSphinxPacket } from "../../backends/decrypt/mod.ts";
import { decodeMsgpack, readEnvelope } from "../../core/envelope.ts";
import { seededRandom } from "../../core/random.ts";
import type { SurveyDefinition } from "./definition.ts";
import { sealSurveyReport, SurveyDevice, surveySubmissionBody } from "./device.ts";
import { decodeSurveyReport, encodeSurveyReport } from "./report.ts";

const traffic: SurveyDefinition = {
  id: "traffic",
  target: { epsilon: 1, delta: 1e-6 },
  questions: [
    { id: "mode", type: "categorical", options: ["walk", "bike", "bus", "car"], epsilon0: 1 },
    { id: "speed", type: "numeric", min: 0, max: 120, epsilon0: 0.5 },
  ],
};

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("SurveyDevice, memoized: a year of daily rounds with a fixed answer sends one report 365 times and spends ε0 once", () => {
  const device = new SurveyDevice(traffic, { budget: 3, random: seededRandom("year") });
  const seen = new Set<string>();
  for (let day = 0; day < 365; day++) {
    const r = device.respond({ mode: "bus", speed: 40 }, day);
    assert.equal(r.reports.length, 2);
    for (const rep of r.reports) seen.add(hex(encodeSurveyReport(rep)));
  }
  // Averaging 365 reports learns nothing more than one report: the transcript is one
  // ε0-LDP randomization per question, repeated.
  assert.equal(seen.size, 2);
  assert.equal(device.spent, 1.5);
});

Deno.test("SurveyDevice, memoized: each new answer costs ε0; beyond the budget the question is withheld", () => {
  const device = new SurveyDevice(traffic, { budget: 3, random: seededRandom("changes") });
  const modes = ["walk", "bike", "bus", "car", "walk"];
  const withheld: string[][] = [];
  modes.forEach((mode, day) => withheld.push(device.respond({ mode }, day).withheld));
  // Budget 3, ε0 = 1: three distinct answers; "car" is withheld, "walk" again is memoized.
  assert.deepEqual(withheld, [[], [], [], ["mode"], []]);
  assert.equal(device.spent, 3);
  assert.ok(device.spent <= device.budget);
});

Deno.test("SurveyDevice, fresh reports: every round costs Σ ε0, so a budget of 3 covers 2 days of 365", () => {
  const device = new SurveyDevice(traffic, {
    budget: 3,
    memoize: false,
    random: seededRandom("fresh"),
  });
  let reported = 0;
  for (let day = 0; day < 365; day++) {
    const r = device.respond({ mode: "bus", speed: 40 }, day);
    if (r.reports.length === 2) reported++;
    assert.ok(device.spent <= 3 + 1e-9);
  }
  assert.equal(reported, 2);
  assert.equal(device.spent, 3);
});

Deno.test("SurveyDevice: the ledger survives a restart; a round is answered once; bad input is refused", () => {
  const device = new SurveyDevice(traffic, { budget: 2, random: seededRandom("state") });
  const first = device.respond({ mode: "car" }, 7).reports[0]!;
  const restored = new SurveyDevice(traffic, {
    budget: 2,
    state: SurveyDevice.decodeState(device.state()),
  });
  assert.equal(restored.spent, 1);
  assert.throws(() => restored.respond({ mode: "car" }, 7), /Round 7 was already answered/);
  const again = restored.respond({ mode: "car" }, 8);
  assert.deepEqual(again.reports[0], first);
  assert.equal(again.spent, 0);
  assert.throws(
    () =>
      new SurveyDevice({ ...traffic, id: "other" }, {
        budget: 2,
        state: decodeMsgpack(device.state(), "s"),
      }),
    /not a ledger of survey 'other'/,
  );
  assert.throws(() => new SurveyDevice(traffic, { budget: 0 }), /budget/);
});

Deno.test("sealSurveyReport: only the cascade, hop by hop, recovers the report bytes", async () => {
  const { cascade, secrets } = generateSphinxCascade({ mixers: 2, payloadSize: 256 });
  const report = { survey: "traffic", question: "mode", mechanism: "krr" as const, value: 2 };
  let packet = await sealSurveyReport(report, cascade);
  const body = readEnvelope(
    decodeMsgpack(surveySubmissionBody([packet]), "b"),
    "survey.submission",
  );
  assert.equal((body.items as unknown[]).length, 1);
  for (const [i, secret] of secrets.entries()) {
    const out = await unwrapSphinxPacket(packet, { keys: secret.key, payloadSize: 256 });
    if (i < secrets.length - 1) {
      assert.equal(out.kind, "forward");
      packet = (out as { packet: Uint8Array }).packet;
    } else {
      assert.equal(out.kind, "deliver");
      assert.deepEqual(decodeSurveyReport((out as { message: Uint8Array }).message), report);
    }
  }
});
