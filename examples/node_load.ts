/**
 * Load run of a local Sphinx network: a directory plus three `panoramix node` mix
 * processes on loopback; packets cross 3-hop routes over persistent pipelined
 * connections. Prints throughput and latency (first-hop acknowledgement, which means
 * committed to disk, and end-to-end delivery).
 *
 * Run: `deno run --allow-read --allow-write --allow-env --allow-net --allow-sys --allow-run examples/node_load.ts --count 20000 --seconds 60`
 *
 * @module
 */

import { runSphinxLoad } from "../cli/node/load.ts";

function option(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  const value = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`node_load: ${name} must be a positive number`);
    Deno.exit(2);
  }
  return value;
}

const count = option("--count", 20_000);
const seconds = option("--seconds", 60);
const result = await runSphinxLoad({
  count,
  timeLimitMs: seconds * 1000,
  window: option("--window", 1000),
  onProgress: (text) => console.error(text),
});
console.log(JSON.stringify(result));
console.log(
  `${result.delivered}/${result.sent} delivered (${result.accepted} acknowledged) in ${
    result.seconds.toFixed(1)
  } s: ${result.throughputPerSecond.toFixed(0)} messages/s end to end over 3 hops; ` +
    `first-hop ack p50 ${result.ackLatencyMs.p50.toFixed(0)} ms, p99 ${
      result.ackLatencyMs.p99.toFixed(0)
    } ms; end to end p50 ${result.endToEndMs.p50.toFixed(0)} ms, p99 ${
      result.endToEndMs.p99.toFixed(0)
    } ms; client packet creation ${result.createPerSecond.toFixed(0)}/s`,
);
Deno.exit(result.delivered === result.sent ? 0 : 1);
