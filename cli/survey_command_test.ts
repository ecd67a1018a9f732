import assert from "node:assert/strict";
import { buildApplication, run, text_en } from "@stricli/core";
import { exitCodeFor, PanoramixError } from "../core/errors.ts";
import { encodeMsgpack } from "../core/envelope.ts";
import { seededRandom } from "../core/random.ts";
import { encodeSurveyReport, surveyRespond } from "../plugins/survey/mod.ts";
import type { CliContext, OutputSink } from "./context.ts";
import { surveyRoutes } from "./survey_command.ts";

/** Runs `panoramix survey ...` in-process on the survey route map alone. */
async function survey(args: string[], stdin: Uint8Array | string = "") {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (chunks: string[]): OutputSink => ({
    isTerminal: false,
    write(data) {
      chunks.push(typeof data === "string" ? data : new TextDecoder().decode(data));
      return Promise.resolve();
    },
  });
  const input = typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
  const ctx: CliContext = {
    process: {
      stdout: { write: (t) => void out.push(t) },
      stderr: { write: (t) => void err.push(t) },
    },
    stdin: ReadableStream.from([input]),
    stdout: sink(out),
    stderr: sink(err),
    env: {},
  };
  const app = buildApplication<CliContext>(surveyRoutes, {
    name: "panoramix survey",
    scanner: { caseStyle: "allow-kebab-for-camel" },
    determineExitCode: exitCodeFor,
    localization: {
      loadText: () => ({
        ...text_en,
        exceptionWhileRunningCommand: (
          e: unknown,
        ) => (e instanceof PanoramixError ? e.message : String(e)),
      }),
    },
  });
  await run(app, args, ctx);
  return { status: Number(ctx.process.exitCode ?? 0), stdout: out.join(""), stderr: err.join("") };
}

Deno.test("survey privacy prints the central ε an analyst can read, and JSON for scripts", async () => {
  const text = await survey(["privacy", "-n", "100000", "--epsilon0", "4", "--delta", "1e-6"]);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /central ε = 0\.170 at δ = 1e-6 for n = 100000/);
  const json = await survey(["privacy", "--reports", "100000", "--epsilon0", "4", "--json"]);
  const parsed = JSON.parse(json.stdout);
  assert.ok(Math.abs(parsed.epsilon - 0.17) < 0.005 && Math.abs(parsed.closedForm - 0.54) < 0.01);
});

Deno.test("survey min-batch finds the smallest n", async () => {
  const r = await survey(["min-batch", "--epsilon0", "4", "--target-epsilon", "0.3", "--json"]);
  const parsed = JSON.parse(r.stdout);
  assert.ok(parsed.minBatchSize > 10000 && parsed.epsilonAtMin <= 0.3);
  const usage = await survey(["min-batch", "--epsilon0", "4"]);
  assert.equal(usage.status, 2);
});

const definition = {
  id: "cli",
  target: { epsilon: 1, delta: 1e-6 },
  questions: [{ id: "q", type: "categorical", options: ["a", "b", "c"], epsilon0: 4 }],
};

Deno.test("survey aggregate estimates mixed reports and refuses below target", async () => {
  const dir = await Deno.makeTempDir();
  const defPath = `${dir}/def.json`;
  await Deno.writeTextFile(defPath, JSON.stringify(definition));
  const plan = JSON.parse((await survey(["plan", "--definition", defPath, "--json"])).stdout);
  assert.equal(plan.questions[0].mechanism, "krr");
  const random = seededRandom("cli");
  const items: Uint8Array[] = [];
  for (let i = 0; i < 6000; i++) {
    const [r] = surveyRespond(definition as never, {
      answers: { q: i % 3 === 0 ? "a" : "b" },
      random,
    });
    items.push(encodeMsgpack({ v: 1, kind: "plain.item", data: encodeSurveyReport(r!) }));
  }
  items.push(encodeMsgpack({ v: 1, kind: "plain.item", data: new Uint8Array([1, 2]) }));
  const stream = new Uint8Array(items.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of items) {
    stream.set(x, o);
    o += x.length;
  }
  const ok = await survey(["aggregate", "--definition", defPath, "--json"], stream);
  assert.equal(ok.status, 0, ok.stderr);
  const parsed = JSON.parse(ok.stdout);
  assert.equal(parsed.rejected, 1);
  assert.ok(Math.abs(parsed.estimate.questions[0].frequencies[0].estimate - 1 / 3) < 0.03);
  assert.ok(parsed.privacy.meetsTarget);
  // 100 reports do not meet ε ≤ 1: exit status 7 (batch too small).
  const few = await survey(
    ["aggregate", "--definition", defPath],
    stream.subarray(0, 100 * items[0]!.length),
  );
  assert.equal(few.status, 7);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("survey simulate and bench run small and print JSON", async () => {
  const sim = JSON.parse(
    (await survey(["simulate", "--respondents", "2000", "--seed", "c", "--no-mix", "--json"]))
      .stdout,
  );
  assert.equal(sim.questions.length, 5);
  assert.equal(sim.privacy.meetsTarget, false);
  const bench = JSON.parse((await survey(["bench", "--reports", "3000", "--json"])).stdout);
  assert.equal(bench.reports, 3000);
  assert.ok(bench.reportsPerSecondPerCore > 0);
});

Deno.test("survey respond → plain mix → survey aggregate works end to end", async () => {
  const dir = await Deno.makeTempDir();
  const defPath = `${dir}/def.json`;
  await Deno.writeTextFile(
    defPath,
    JSON.stringify({ ...definition, target: { epsilon: 4, delta: 1e-6 } }),
  );
  let stream = "";
  for (let i = 0; i < 40; i++) {
    const r = await survey([
      "respond",
      "--definition",
      defPath,
      "--answers",
      `{"q":"${i % 2 ? "a" : "c"}"}`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    stream += r.stdout;
  }
  const { plainBackend } = await import("../core/plain_backend.ts");
  const { parseItems, serializeItem } = await import("../core/item_stream.ts");
  const inputs = parseItems(new TextEncoder().encode(stream)).map((v, i) =>
    plainBackend.input.decode(v, `item ${i}`)
  );
  const { publicKey } = await plainBackend.generateKeys();
  const { outputs } = await plainBackend.mix(inputs, { key: publicKey });
  const mixed = outputs.map((o) =>
    new TextDecoder().decode(serializeItem(plainBackend.output.encode(o), "ndjson"))
  ).join("");
  const agg = await survey(["aggregate", "--definition", defPath, "--json"], mixed);
  assert.equal(agg.status, 0, agg.stderr);
  const parsed = JSON.parse(agg.stdout);
  assert.equal(parsed.estimate.questions[0].n, 40);
  assert.equal(parsed.rejected, 0);
  const bad = await survey(["respond", "--definition", defPath, "--answers", '{"q":"zzz"}']);
  assert.equal(bad.status, 4);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("survey aggregate: wrong-kind items exit 4 with a few lines, also with --force; empty input exits 4", async () => {
  const dir = await Deno.makeTempDir();
  const defPath = `${dir}/def.json`;
  await Deno.writeTextFile(defPath, JSON.stringify(definition));
  const wrong = Array.from(
    { length: 2000 },
    () => JSON.stringify({ v: 1, kind: "reencrypt.ciphertext", c1: "AAAA", c2: "AAAA" }) + "\n",
  ).join("");
  for (const extra of [[], ["--force"]]) {
    const r = await survey(["aggregate", "--definition", defPath, ...extra], wrong);
    assert.equal(r.status, 4, r.stderr);
    assert.doesNotMatch(r.stdout, /NaN/);
    const lines = r.stderr.trim().split("\n");
    assert.ok(lines.length <= 12, `${lines.length} lines on stderr`);
    assert.match(r.stderr, /'reencrypt\.ciphertext' item, not a survey report/);
    assert.match(r.stderr, /1990 more items rejected/);
    assert.match(r.stderr, /holds no survey reports \(2000 items rejected/);
  }
  const empty = await survey(["aggregate", "--definition", defPath, "--force"], "");
  assert.equal(empty.status, 4);
  assert.match(empty.stderr, /holds no items/);
  assert.doesNotMatch(empty.stdout, /n = 1/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("survey respond: the docs/survey.md example works on the docs' own definition", async () => {
  const doc = await Deno.readTextFile(new URL("../docs/survey.md", import.meta.url));
  const json = doc.match(/cat > survey\.json <<'EOF'\n([\s\S]*?)\nEOF\n/)![1]!;
  const example = doc.match(/survey respond --definition survey\.json --answers '([^']+)'/)![1]!;
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/survey.json`, json);
  const r = await survey(["respond", "--definition", `${dir}/survey.json`, "--answers", example]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, JSON.parse(json).questions.length);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("survey respond: batch mode reads NDJSON and CSV and seals packets a decrypt cascade opens", async () => {
  const { decryptBackend, encodeSphinxCascade, generateSphinxCascade, encodeSphinxCascadeSecret } =
    await import("../backends/decrypt/mod.ts");
  const { parseItems } = await import("../core/item_stream.ts");
  const { toJsonView } = await import("../core/envelope.ts");
  const dir = await Deno.makeTempDir();
  const def = {
    id: "batch",
    target: { epsilon: 8, delta: 1e-6 },
    questions: [
      { id: "color", type: "categorical", options: ["red", "green"], epsilon0: 4 },
      {
        id: "tools",
        type: "multiple",
        options: ["email", "chat", "wiki"],
        maxSelections: 2,
        epsilon0: 4,
      },
      { id: "age", type: "numeric", min: 18, max: 90, epsilon0: 4 },
    ],
  };
  await Deno.writeTextFile(`${dir}/def.json`, JSON.stringify(def));
  await Deno.writeTextFile(
    `${dir}/people.csv`,
    'color,tools,age\nred,email;chat,31\ngreen,,45\n"red","wiki",70\n',
  );
  await Deno.writeTextFile(
    `${dir}/people.ndjson`,
    '{"color":"red","tools":["email"],"age":31}\n{"color":"green","tools":[],"age":50}\n',
  );
  const csv = await survey([
    "respond",
    "--definition",
    `${dir}/def.json`,
    "--input",
    `${dir}/people.csv`,
  ]);
  assert.equal(csv.status, 0, csv.stderr);
  assert.equal(parseItems(new TextEncoder().encode(csv.stdout)).length, 9);
  const badCsv = `${dir}/bad.csv`;
  await Deno.writeTextFile(badCsv, "color,age\nred,old\n");
  const bad = await survey(["respond", "--definition", `${dir}/def.json`, "--input", badCsv]);
  assert.equal(bad.status, 4);
  assert.match(bad.stderr, /Line 2 of .*'age' must be a number, got 'old'/);

  const { cascade, secrets } = generateSphinxCascade({ mixers: 2, payloadSize: 256 });
  await Deno.writeTextFile(
    `${dir}/cascade.json`,
    JSON.stringify(toJsonView(encodeSphinxCascade(cascade))),
  );
  const sealed = await survey([
    "respond",
    "--definition",
    `${dir}/def.json`,
    "--input",
    `${dir}/people.ndjson`,
    "--backend",
    "decrypt",
    "--cascade",
    `${dir}/cascade.json`,
  ]);
  assert.equal(sealed.status, 0, sealed.stderr);
  const inputs = parseItems(new TextEncoder().encode(sealed.stdout)).map((v, i) =>
    decryptBackend.input.decode(v, `item ${i}`)
  );
  assert.equal(inputs.length, 6);
  const { outputs } = await decryptBackend.mix(inputs, { key: encodeSphinxCascadeSecret(secrets) });
  const mixed = outputs.map((o) => JSON.stringify(toJsonView(decryptBackend.output.encode(o))))
    .join("\n");
  const agg = await survey(
    ["aggregate", "--definition", `${dir}/def.json`, "--force", "--json"],
    mixed,
  );
  assert.equal(agg.status, 0, agg.stderr);
  assert.deepEqual(JSON.parse(agg.stdout).estimate.questions.map((q: { n: number }) => q.n), [
    2,
    2,
    2,
  ]);
  await Deno.remove(dir, { recursive: true });
});
