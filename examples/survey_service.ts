/**
 * A survey run as a service on this machine: a bulletin board, three `decrypt`
 * cascade mixers and a survey collector, each a `panoramix node` process on
 * loopback, plus simulated devices that report every second. Open the printed
 * dashboard URL to watch the estimates, their intervals and the central ε update
 * round after round (1-minute rounds); open the respondent page to answer yourself.
 * Ctrl-C stops the nodes and removes their files.
 *
 * Run from the repository root: `deno task survey-service [--devices-per-second 20] [--round-seconds 60]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { NodeProcess } from "../cli/node/cluster.ts";
import { freePort } from "../cli/node/cluster.ts";
import { writeSurveyNodes } from "../cli/node/survey_load.ts";
import {
  sealSurveyReport,
  submitSurveyPackets,
  type SurveyDefinition,
  surveyRespond,
} from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "devices-per-second": { type: "string", default: "20" },
    "round-seconds": { type: "string", default: "60" },
  },
});
const perSecond = Number(values["devices-per-second"]);
const roundSeconds = Number(values["round-seconds"]);
if (!(perSecond >= 0 && roundSeconds >= 1)) {
  console.error("survey service: error: --devices-per-second must be ≥ 0 and --round-seconds ≥ 1");
  Deno.exit(2);
}

const definition: SurveyDefinition = {
  id: "city-traffic",
  target: { epsilon: 3, delta: 1e-6 },
  questions: [
    { id: "transport", type: "categorical", options: ["walk", "bike", "bus", "car"], epsilon0: 2 },
    { id: "commute-minutes", type: "numeric", min: 0, max: 120, epsilon0: 2 },
  ],
};

const root = await Deno.makeTempDir({ prefix: "panoramix-survey-service-" });
const port = freePort();
const { cascade, nodes } = await writeSurveyNodes(root, {
  definition,
  roundSeconds,
  collectorPort: port,
});
const procs: NodeProcess[] = [];
for (const n of nodes) procs.push(await NodeProcess.spawn(n.configPath));
const url = procs[procs.length - 1]!.info.url;
console.log(`survey '${definition.id}' runs in rounds of ${roundSeconds} s`);
console.log(`  dashboard:       ${url}/survey`);
console.log(`  respondent page: ${url}/survey/respond`);
console.log(`  estimates (API): ${url}/v1/surveys/${definition.id}/rounds`);
console.log(`  node files:      ${root}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.error("stopping the nodes…");
  for (const p of procs.reverse()) await p.stop("SIGTERM");
  await Deno.remove(root, { recursive: true });
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);

// Simulated devices: the share of cyclists grows over time, commutes shorten.
let tick = 0;
while (!stopping) {
  const started = Date.now();
  const bike = Math.min(0.6, 0.15 + tick * 0.002);
  const packets: Uint8Array[] = [];
  for (let i = 0; i < perSecond; i++) {
    const u = Math.random();
    const transport = u < bike ? "bike" : u < bike + 0.2 ? "walk" : u < bike + 0.45 ? "bus" : "car";
    const minutes = Math.max(0, 35 - tick * 0.02 + 15 * (Math.random() - 0.5));
    for (
      const r of surveyRespond(definition, { answers: { transport, "commute-minutes": minutes } })
    ) {
      packets.push(await sealSurveyReport(r, cascade));
    }
  }
  if (packets.length > 0) {
    await submitSurveyPackets(packets, { collector: url, survey: definition.id })
      .catch((e) => console.error(`submission failed: ${(e as Error).message}`));
  }
  tick++;
  await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
}
