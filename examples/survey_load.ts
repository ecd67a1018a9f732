/**
 * Load run of the survey collector through real node processes on loopback (a
 * board, three decrypt cascade mixers, a collector): 58 reports/s sustained (the
 * daily volume of 5,000,000) with a 10× burst for a bounded window. Prints ingest
 * rate, the delay from acknowledgement to estimate, CPU per report and store size
 * per million reports; exits 1 when an acknowledged report was not counted.
 *
 * Run: `deno run --allow-read --allow-write --allow-env --allow-net --allow-sys --allow-run examples/survey_load.ts --seconds 120 --burst-at 40 --burst-seconds 10 --batch 440 --timeline`
 * (`--timeline`: time each stage of every batch from the nodes' logs; `--log FILE`: keep
 * those logs; `--profile DIR`: run every node under `deno run --cpu-prof`).
 * Options: `--rate`, `--seconds`, `--burst-factor`, `--burst-at`, `--burst-seconds`,
 * `--batch`, `--verbose`.
 *
 * @module
 */

import { runSurveyLoad } from "../cli/node/survey_load.ts";

function option(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  const value = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`survey_load: error: ${name} must be a positive number`);
    Deno.exit(2);
  }
  return value;
}

const result = await runSurveyLoad({
  rate: option("--rate", 58),
  seconds: option("--seconds", 120),
  burstFactor: option("--burst-factor", 10),
  burstAt: option("--burst-at", 30),
  burstSeconds: option("--burst-seconds", 20),
  batchReports: option("--batch", 1000),
  onProgress: (text) => console.error(text),
  timeline: Deno.args.includes("--timeline"),
  ...(Deno.args.includes("--log") ? { logFile: Deno.args[Deno.args.indexOf("--log") + 1]! } : {}),
  ...(Deno.args.includes("--profile")
    ? { profileDir: Deno.args[Deno.args.indexOf("--profile") + 1]! }
    : {}),
  ...(Deno.args.includes("--verbose") ? { logLevel: "info" as const } : {}),
});
console.log(JSON.stringify(result, null, 2));
for (const [stage, t] of Object.entries(result.stages ?? {})) {
  console.log(
    `${stage}: p50 ${t.p50.toFixed(2)} s, max ${t.max.toFixed(2)} s (${t.batches} batches)`,
  );
}
const lost = result.acknowledged - result.counted - result.waiting;
console.log(
  `${result.counted} counted + ${result.waiting} waiting for a batch of ${result.acknowledged} acknowledged (${result.sent} sent); ` +
    `ingest ${result.ingestPerSecond.run.toFixed(1)}/s over the run, ${
      result.ingestPerSecond.burst.toFixed(1)
    }/s in the burst; batch full → estimate p50 ${result.batchToEstimate.p50.toFixed(1)} s, max ${
      result.batchToEstimate.max.toFixed(1)
    } s; CPU ${
      result.cpuMsPerReport.total.toFixed(2)
    } ms/report; load ${result.load.before} → ${result.load.after}`,
);
Deno.exit(lost <= 0 ? 0 : 1);
