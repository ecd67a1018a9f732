import assert from "node:assert/strict";
import { BatchTooSmallError, VerificationError } from "../../core/errors.ts";
import type { Envelope } from "../../core/envelope.ts";
import type { MixBackend } from "../../core/mixer.ts";
import { plainBackend, type PlainItem } from "../../core/plain_backend.ts";
import { seededRandom } from "../../core/random.ts";
import { SurveyAggregator } from "./aggregate.ts";
import type { SurveyDefinition } from "./definition.ts";
import { surveyRespond } from "./randomize.ts";
import { decodeSurveyReport, encodeSurveyReport } from "./report.ts";
import { createSurveyBatcher, mixSurveyReports, plainSurveyTransport } from "./submit.ts";

const definition: SurveyDefinition = {
  id: "mix",
  target: { epsilon: 5, delta: 1e-6 },
  questions: [{ id: "q", type: "categorical", options: ["a", "b", "c"], epsilon0: 2 }],
};

function reports(count: number) {
  const random = seededRandom("mix");
  return Array.from(
    { length: count },
    (_, i) => surveyRespond(definition, { answers: { q: i % 3 }, random })[0]!,
  );
}

Deno.test("reports travel through the plain backend and are aggregated", async () => {
  const { publicKey } = await plainBackend.generateKeys();
  const batch = reports(50);
  const result = await mixSurveyReports(batch, {
    backend: plainBackend,
    key: publicKey,
    transport: plainSurveyTransport,
    minBatchSize: 50,
    verifyKey: publicKey,
    random: seededRandom("shuffle"),
  });
  // Same multiset of reports, new order.
  const sorted = (xs: Uint8Array[]) => xs.map((x) => x.join()).sort();
  assert.deepEqual(sorted(result.payloads), sorted(batch.map(encodeSurveyReport)));
  assert.notDeepEqual(
    result.payloads.map((p) => p.join()),
    batch.map((r) => encodeSurveyReport(r).join()),
  );
  const agg = new SurveyAggregator(definition);
  assert.equal(agg.ingestBatch(result.payloads).accepted, 50);
  assert.equal(decodeSurveyReport(result.payloads[0]!).survey, "mix");
});

Deno.test("batches below the accountant's minimum are refused", async () => {
  const { publicKey } = await plainBackend.generateKeys();
  await assert.rejects(
    mixSurveyReports(reports(9), {
      backend: plainBackend,
      key: publicKey,
      transport: plainSurveyTransport,
      minBatchSize: 10,
    }),
    BatchTooSmallError,
  );
});

Deno.test("any backend works through an async transport, and a cheating mix is caught", async () => {
  // A toy backend whose items are text: shows the glue needs only the generic API.
  const textItem = {
    kind: "test.text",
    encode: (item: string): Envelope => ({ v: 1, kind: "test.text", text: item }),
    decode: (value: unknown) => (value as { text: string }).text,
  };
  let cheat = false;
  const textBackend: MixBackend<string, string> = {
    name: "text",
    summary: "test",
    minBatchSize: 2,
    input: textItem,
    output: textItem,
    generateKeys: () =>
      Promise.resolve({ publicKey: { v: 1, kind: "k" }, secretKey: { v: 1, kind: "k" } }),
    sampleInputs: () => Promise.resolve([]),
    mix: (inputs) => {
      const outputs = [...inputs].reverse();
      if (cheat) outputs[0] = outputs[1]!;
      return Promise.resolve({ outputs, proof: { v: 1, kind: "test.proof", inputs: [...inputs] } });
    },
    verify: (inputs, outputs) =>
      [...inputs].sort().join() === [...outputs].sort().join()
        ? Promise.resolve({ checked: "outputs are the inputs reordered" })
        : Promise.reject(new VerificationError("Outputs are not a permutation of the inputs")),
  };
  const transport = {
    wrap: (bytes: Uint8Array) =>
      Promise.resolve(Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")),
    unwrap: (item: string) =>
      Promise.resolve(new Uint8Array(item.match(/../g)!.map((h) => parseInt(h, 16)))),
  };
  const key = { v: 1, kind: "k" };
  const options = { backend: textBackend, key, transport, minBatchSize: 3, verifyKey: key };
  const ok = await mixSurveyReports(reports(5), options);
  assert.equal(new SurveyAggregator(definition).ingestBatch(ok.payloads).accepted, 5);
  cheat = true;
  await assert.rejects(mixSurveyReports(reports(5), options), VerificationError);
});

Deno.test("the survey batcher holds reports until the minimum batch size", async () => {
  const released: number[] = [];
  const batcher = createSurveyBatcher({
    minBatchSize: 3,
    maxBatchSize: 4,
    onBatch: (b) => {
      released.push(b.length);
    },
  });
  for (const r of reports(9)) await batcher.add(encodeSurveyReport(r));
  const left = await batcher.close();
  assert.deepEqual(released, [4, 4]);
  assert.equal(left.length, 1); // one report below the minimum is never released
  const plain: PlainItem = plainSurveyTransport.wrap(new Uint8Array([7]));
  assert.equal(plainSurveyTransport.unwrap(plain)[0], 7);
});
