/**
 * A private survey of 100,000 simulated respondents with a known true distribution.
 *
 * Every respondent answers five questions (single choice over 5, 50 and 200 options,
 * a multiple-choice question with at most 3 selections, and a bounded numeric one);
 * each answer is randomized on the "client" with local ε0, encoded as a
 * `survey.report` envelope, shuffled through the plain mix backend in batches of the
 * minimum size the accountant derives from the target central ε, then decoded and
 * aggregated. The program prints the estimates with 95% intervals next to the truth,
 * the central ε after shuffling and composition, and whether the target is met.
 *
 * Run from the repository root: `deno task survey [--respondents N] [--seed S] [--force]`
 * (exit 7, nothing published, when the central privacy target is not met)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { simulateSurvey, SURVEY_EXAMPLE, surveyPlan } from "../mod.ts";

const USAGE = "usage: deno task survey [--respondents N | N] [--seed S | S] [--force]";

/** Prints a one-line error (no stack trace) and exits with a status of docs/cli.md. */
function fail(message: string, status: number): never {
  console.error(`survey example: error: ${message}`);
  Deno.exit(status);
}

function readArgs(): { respondents: number; seed: string; force: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        respondents: { type: "string", short: "n" },
        seed: { type: "string" },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`, 2);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (parsed.positionals.length > 2) fail(`too many arguments\n${USAGE}`, 2);
  const rawN = parsed.values.respondents ?? parsed.positionals[0] ?? "100000";
  if (!/^[1-9][0-9]*$/.test(rawN) || Number(rawN) > 1e8) {
    fail(`Value '--respondents' must be an integer from 1 to 100000000, got '${rawN}'`, 2);
  }
  return {
    respondents: Number(rawN),
    seed: parsed.values.seed ?? parsed.positionals[1] ?? "example",
    force: parsed.values.force ?? false,
  };
}

const { respondents, seed, force } = readArgs();

console.log(
  `Survey '${SURVEY_EXAMPLE.id}': ${respondents} simulated respondents, target central ε ≤ ${SURVEY_EXAMPLE.target.epsilon} at δ = ${
    SURVEY_EXAMPLE.target.delta.toExponential(0)
  }`,
);
for (const plan of surveyPlan(SURVEY_EXAMPLE)) {
  const q = plan.question;
  const domain = plan.oracle === undefined ? "" : ` over ${plan.oracle.k} values`;
  console.log(`  ${q.id}: ${q.type}, ε0 = ${q.epsilon0}, randomizer ${plan.mechanism}${domain}`);
}

const started = performance.now();
const sim = await simulateSurvey({
  respondents,
  seed,
  onProgress: (done, total) => console.error(`  … ${done}/${total} respondents mixed and counted`),
});
console.log(
  `\nMixed in batches of at least ${sim.batchSize} respondents (accountant's minimum: ${sim.minBatchSize}); ` +
    `${sim.rejected} reports rejected; ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
);

if (!sim.privacy.meetsTarget && !force) {
  console.log(`Privacy after shuffling (numeric clone analysis) and composition:`);
  console.log(sim.privacy.text.split("\n").map((line) => `  ${line}`).join("\n"));
  fail(
    `refusing to publish: central ε = ${
      sim.privacy.epsilon.toPrecision(3)
    } exceeds the target ${SURVEY_EXAMPLE.target.epsilon}; ` +
      `simulate at least ${sim.minBatchSize} respondents per batch (or pass --force to print the estimates anyway)`,
    7,
  );
}
if (!sim.privacy.meetsTarget) {
  console.log("NOT PUBLISHABLE (--force): the privacy target is not met\n");
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`.padStart(7);
sim.questions.forEach((q, i) => {
  const est = sim.estimate.questions[i]!;
  console.log(
    `${q.id} (${est.mechanism}, n = ${est.n}): ${
      (100 * q.coverage).toFixed(0)
    }% of 95% intervals cover the truth`,
  );
  if (est.mean !== undefined) {
    const m = est.mean;
    console.log(
      `  mean: true ${q.truth[0]!.toFixed(2)}  estimate ${m.estimate.toFixed(2)}  95% CI [${
        m.low.toFixed(2)
      }, ${m.high.toFixed(2)}]`,
    );
    return;
  }
  const shown = Math.min(q.truth.length, 8);
  for (let j = 0; j < shown; j++) {
    const f = est.frequencies![j]!;
    console.log(
      `  ${f.option.padEnd(8)} true ${pct(q.truth[j]!)}  estimate ${pct(f.estimate)}  ` +
        `95% CI [${pct(f.low)}, ${pct(f.high)}]  consistent ${pct(est.consistent![j]!)}`,
    );
  }
  if (q.truth.length > shown) console.log(`  … and ${q.truth.length - shown} more options`);
});

console.log(`\nPrivacy after shuffling (numeric clone analysis) and composition:`);
console.log(sim.privacy.text.split("\n").map((line) => `  ${line}`).join("\n"));
if (sim.privacy.meetsTarget) console.log(`\nTarget met: the estimates may be published.`);
else fail("the privacy target is not met; the estimates above must not be published", 7);
