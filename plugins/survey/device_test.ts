import assert from "node:assert/strict";
import {
  encodeSphinxCascade,
  generateSphinxCascade,
  unwrapSphinxPacket,
} from "../../backends/decrypt/mod.ts";
import { decodeMsgpack, readEnvelope, toJsonView } from "../../core/envelope.ts";
import { seededRandom } from "../../core/random.ts";
import type { SurveyDefinition } from "./definition.ts";
import {
  sealSurveyReport,
  submitSurveyPacketsUntilAcknowledged,
  SurveyDevice,
  SurveyReportsUnsentError,
  surveySubmissionBody,
  SurveySubmitError,
} from "./device.ts";
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

Deno.test("submitSurveyPacketsUntilAcknowledged retries 503/no answer with backoff until acknowledged, throws a refusal at once, and gives up loudly after its window", async () => {
  const url = "http://collector.test";
  const answers: (Response | Error)[] = [];
  const fake: typeof fetch = () => {
    const next = answers.shift()!;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  const busy = () =>
    new Response(JSON.stringify({ message: "busy" }), {
      status: 503,
      headers: { "retry-after": "0" },
    });
  const ok = () => new Response(JSON.stringify({ accepted: 2, round: 7 }), { status: 202 });
  const packets = [new Uint8Array(8), new Uint8Array(8)];
  const waits: number[] = [];
  const statuses: (number | undefined)[] = [];
  const options = {
    collector: url,
    survey: "traffic",
    fetch: fake,
    initialBackoffMs: 4,
    maxBackoffMs: 8,
    jitter: () => 0.5,
    onRetry: (_attempt: number, error: Error, wait: number) => {
      waits.push(wait);
      statuses.push(error instanceof SurveySubmitError ? error.status : undefined);
    },
  };
  // Busy twice, then no answer (connection refused), then acknowledged.
  answers.push(busy(), busy(), new TypeError("connection refused"), ok());
  const ack = await submitSurveyPacketsUntilAcknowledged(packets, options);
  assert.deepEqual(ack, { accepted: 2, round: 7, attempts: 4 });
  assert.deepEqual(statuses, [503, 503, undefined]);
  // Full jitter on an exponential backoff capped at 8 ms: 0.5 × 4, 0.5 × 8, 0.5 × 8.
  assert.deepEqual(waits, [2, 4, 4]);
  // A refusal of the reports themselves is not retried.
  answers.push(new Response(JSON.stringify({ message: "bad packet" }), { status: 400 }), ok());
  await assert.rejects(
    submitSurveyPacketsUntilAcknowledged(packets, options),
    (e: Error) => e instanceof SurveySubmitError && e.status === 400,
  );
  assert.equal(answers.length, 1);
  answers.length = 0;
  // Never acknowledged within the window: an error naming the tries, not a silent drop.
  for (let i = 0; i < 1000; i++) answers.push(busy());
  await assert.rejects(
    submitSurveyPacketsUntilAcknowledged(packets, { ...options, retryForMs: 30 }),
    /did not acknowledge 2 reports after \d+ tries/,
  );
});

Deno.test("SurveyDevice.report: reports the collector never acknowledges come back in the error, to send as they are; the round is not answered twice", async () => {
  const { cascade } = generateSphinxCascade({ mixers: 2, payloadSize: 256 });
  const info = {
    definition: traffic,
    transport: { backend: "decrypt", cascade: toJsonView(encodeSphinxCascade(cascade)) },
    round: { index: 3, start: 0, end: 1 },
  };
  let posts = 0;
  let acknowledge = false;
  const fake: typeof fetch = (_input, init) => {
    if (init?.method !== "POST") return Promise.resolve(Response.json(info));
    posts++;
    return Promise.resolve(
      acknowledge
        ? Response.json({ accepted: 2, round: 3 }, { status: 202 })
        : Response.json({ message: "busy" }, { status: 503, headers: { "retry-after": "0" } }),
    );
  };
  const device = new SurveyDevice(traffic, { budget: 3, random: seededRandom("unsent") });
  const collector = "http://collector.test";
  const answers = { mode: "bike", speed: 20 };
  const error = await device.report(answers, { collector, fetch: fake, retryForMs: 0 })
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof SurveyReportsUnsentError, String(error));
  assert.equal(error.code, "unavailable");
  assert.equal(error.round, 3);
  assert.equal(error.packets.length, 2);
  assert.equal(posts, 1);
  // The round was answered (budget spent): a second call sends nothing new.
  const again = await device.report(answers, { collector, fetch: fake, retryForMs: 0 });
  assert.equal(again.sent, 0);
  assert.equal(posts, 1);
  // The packets in the error are what gets the round counted.
  acknowledge = true;
  const ack = await submitSurveyPacketsUntilAcknowledged(error.packets, {
    collector,
    survey: traffic.id,
    fetch: fake,
  });
  assert.equal(ack.accepted, 2);
});
