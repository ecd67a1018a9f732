/**
 * Load run of the survey collector through real node processes on loopback (a
 * board, three decrypt cascade mixers, a collector): 58 reports/s sustained (the
 * daily volume of 5,000,000) with a 10× burst for a bounded window. Prints ingest
 * rate, the delay from acknowledgement to estimate, CPU per report and store size
 * per million reports; exits 1 when a report was lost (acknowledged and not counted, or
 * given up by its device after retrying for `--retry-seconds`).
 *
 * Run: `deno run --allow-read --allow-write --allow-env --allow-net --allow-sys --allow-run examples/survey_load.ts --seconds 120 --burst-at 40 --burst-seconds 10 --batch 440 --timeline`
 * (`--timeline`: time each stage of every batch from the nodes' logs; `--log FILE`: keep
 * those logs; `--profile DIR`: run every node under `deno run --cpu-prof`).
 * Options: `--rate`, `--seconds`, `--burst-factor`, `--burst-at`, `--burst-seconds`,
 * `--batch`, `--retry-seconds` (how long a device retries before giving up; a report
 * given up is lost and fails the run), `--nice` (priority of the board and mixers,
 * default 10; 0 = same as the collector), `--verbose`.
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
  retryForSeconds: option("--retry-seconds", 120),
  niceCascade: Deno.args.includes("--nice")
    ? Number(Deno.args[Deno.args.indexOf("--nice") + 1])
    : 10,
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
// Lost: acknowledged and neither counted nor waiting, or given up by its device.
const missing = result.acknowledged - result.counted - result.waiting;
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
const b = result.burst;
console.log(
  `burst: ${b.sentByEnd} reports sent by its end, all counted ${
    b.catchUpSeconds === null ? "not within the run" : `${b.catchUpSeconds.toFixed(1)} s after it`
  }; batch full → estimate at most ${b.maxDelayDuring.toFixed(1)} s until then, p50 ${
    b.delayOutside.p50.toFixed(1)
  } s / max ${
    b.delayOutside.max.toFixed(1)
  } s otherwise; ${result.retries} retries, ${result.lost} reports given up (lost)`,
);
Deno.exit(missing <= 0 && result.lost === 0 ? 0 : 1);
