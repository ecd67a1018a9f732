// Benchmarks of the re-encryption backend at N = 1,000 (override with PANORAMIX_BENCH_N;
// PANORAMIX_BENCH_ALL_CORES_ONLY=1 skips the single-worker runs).
// Run: deno bench --allow-all backends/reencrypt/shuffle_bench.ts
import { closeWorkerPool, setDefaultWorkerEntry, workerCount } from "../../core/worker_pool.ts";
import { decrypt, encrypt, generateKeyPair } from "./elgamal.ts";
import { encodeInteger } from "./encoding.ts";
import { shuffleAndProve, verifyShuffle } from "./shuffle_proof.ts";

setDefaultWorkerEntry(new URL("./worker_entry.ts", import.meta.url));
const N = Number(globalThis.Deno?.env.get("PANORAMIX_BENCH_N") ?? 1000);
const keys = generateKeyPair();
const inputs = Array.from({ length: N }, (_, i) => encrypt(keys.publicKey, [encodeInteger(i)]));
const workers = workerCount();
const first = await shuffleAndProve(keys.publicKey, inputs, { workers });

Deno.bench(`encrypt (1 ciphertext)`, () => {
  encrypt(keys.publicKey, [encodeInteger(1)]);
});
Deno.bench(`decrypt (1 ciphertext)`, () => {
  decrypt(keys.secretKey, inputs[0]!);
});
const only = globalThis.Deno?.env.get("PANORAMIX_BENCH_ALL_CORES_ONLY") === "1";
for (const w of only ? [workers] : [...new Set([1, workers])]) {
  Deno.bench(`shuffle+prove N=${N}, ${w} worker(s)`, { n: 1, warmup: 0 }, async () => {
    await shuffleAndProve(keys.publicKey, inputs, { workers: w });
  });
  Deno.bench(`verify N=${N}, ${w} worker(s)`, { n: 1, warmup: 0 }, async () => {
    await verifyShuffle(
      { publicKey: keys.publicKey, inputs, outputs: first.outputs },
      first.proof,
      {
        workers: w,
      },
    );
  });
}
globalThis.addEventListener("unload", () => closeWorkerPool());
