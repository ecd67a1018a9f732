import assert from "node:assert/strict";
import { seededRandom } from "../../core/random.ts";
import { OLH_PRIME, olhAddSupport, olhHash, olhHashKey } from "./olh_hash.ts";

Deno.test("olhAddSupport marks exactly the values v with h(v) = y", () => {
  const random = seededRandom("olh-support");
  const seed = new Uint8Array(16);
  for (let trial = 0; trial < 300; trial++) {
    random(seed);
    const key = trial === 0 ? { a: OLH_PRIME - 1, b: OLH_PRIME - 1 } : olhHashKey(seed);
    const g = 2 + (trial % 60);
    const k = 1 + ((trial * 37) % 700);
    const y = trial % g;
    const support = new Float64Array(k);
    olhAddSupport(key, { y, g, support });
    for (let v = 0; v < k; v++) {
      assert.equal(support[v], olhHash(key, { v, g }) === y ? 1 : 0, `trial ${trial}, v ${v}`);
    }
  }
});
