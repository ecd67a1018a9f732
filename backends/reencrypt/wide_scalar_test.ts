import assert from "node:assert/strict";
import { bytesToNumberLE, GROUP_ORDER, scalarFromWide, scalarsFromWide } from "./group.ts";

Deno.test("wide reduction by 256-bit halves equals the 512-bit integer mod ℓ", () => {
  const cases = [new Uint8Array(64), new Uint8Array(64).fill(0xff)];
  for (let k = 0; k < 200; k++) cases.push(crypto.getRandomValues(new Uint8Array(64)));
  const one = new Uint8Array(64);
  one[32] = 1; // 2^256
  cases.push(one);
  for (const bytes of cases) {
    assert.equal(scalarFromWide(bytes), bytesToNumberLE(bytes) % GROUP_ORDER);
  }
  // Many at once, from an unaligned view into a larger buffer.
  const big = crypto.getRandomValues(new Uint8Array(1 + 64 * 5));
  const view = big.subarray(1);
  assert.deepEqual(
    scalarsFromWide(view),
    [0, 1, 2, 3, 4].map((i) => bytesToNumberLE(view.subarray(64 * i, 64 * i + 64)) % GROUP_ORDER),
  );
  assert.throws(() => scalarFromWide(new Uint8Array(63)), /64 bytes/);
});
