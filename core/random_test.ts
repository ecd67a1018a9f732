import assert from "node:assert/strict";
import { randomBytes, seededRandom, systemRandom } from "./random.ts";
import { toHex } from "./bytes.ts";

Deno.test("seededRandom is reproducible and position-exact across call sizes", () => {
  const a = seededRandom("seed");
  const b = seededRandom("seed");
  const whole = randomBytes(128, a);
  const first = randomBytes(64, b);
  const second = randomBytes(64, b);
  assert.equal(toHex(whole), toHex(first) + toHex(second));
  assert.notEqual(toHex(randomBytes(32, seededRandom("other"))), toHex(whole.subarray(0, 32)));
});

Deno.test("systemRandom fills more than the 65536-byte getRandomValues limit", () => {
  const big = new Uint8Array(200_000);
  systemRandom(big);
  // The last 64 KiB must be filled too (all zero has probability 2^-524288).
  assert.ok(big.subarray(150_000).some((x) => x !== 0));
});
