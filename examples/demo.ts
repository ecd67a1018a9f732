/**
 * Demo of the main job: a batch of generated inputs mixed through a cascade of
 * three mixers, each mix proven and verified before the next.
 *
 * Run: `deno task demo` (or `npm run demo`). Options: --items N (default 1000).
 *
 * @module
 */

import { plainBackend } from "../mod.ts";

const MIXERS = 3;

function parseItems(args: string[]): number {
  const i = args.indexOf("--items");
  const n = i >= 0 ? Number(args[i + 1]) : 1000;
  if (!Number.isSafeInteger(n) || n < 2) {
    console.error("demo: --items must be an integer of at least 2");
    Deno.exit(2);
  }
  return n;
}

const count = parseItems(Deno.args);
const backend = plainBackend;
const { publicKey } = await backend.generateKeys();
const inputs = await backend.sampleInputs(count, { key: publicKey });
console.log(`Generated ${count} input items for backend '${backend.name}'.`);

let batch = inputs;
for (let m = 1; m <= MIXERS; m++) {
  const t0 = performance.now();
  const { outputs, proof } = await backend.mix(batch, { key: publicKey });
  const t1 = performance.now();
  await backend.verify(batch, outputs, proof, { key: publicKey });
  const t2 = performance.now();
  console.log(
    `Mixer ${m}: mixed in ${(t1 - t0).toFixed(0)} ms, proof verified in ${
      (t2 - t1).toFixed(0)
    } ms.`,
  );
  batch = outputs;
}
console.log(`Done: ${batch.length} outputs, every mix verified.`);
