import assert from "node:assert/strict";
import { randomBytes, seededRandom } from "./random.ts";
import { addField25519, FE_BYTES, FIELD_PRIME as P, FIELD_SCRATCH_BYTES } from "./field25519.ts";
import { addField25519x2, addPow22523x2, PAIR_BYTES } from "./field25519x2.ts";
import { WasmModuleBuilder } from "./wasm_module.ts";

const m = new WasmModuleBuilder(1);
addField25519(m, 0);
addPow22523x2(m, addField25519x2(m), 32768);
const instance = m.instantiate("field25519x2-test");
assert.ok(instance);
const fn = instance.exports;
const mem = instance.memory;
const i32 = new Int32Array(mem.buffer);
const X = FIELD_SCRATCH_BYTES, Y = X + FE_BYTES, PA = Y + FE_BYTES, PB = PA + PAIR_BYTES;
const OUT = PB + PAIR_BYTES, BYTES = OUT + PAIR_BYTES;
const SHIFT = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230];

const mod = (x: bigint) => ((x % P) + P) % P;
function single(addr: number, x: bigint): void {
  for (let k = 0; k < 32; k++) mem[BYTES + k] = Number((x >> BigInt(8 * k)) & 0xffn);
  fn.fe_from_bytes!(addr, BYTES);
}
function readSingle(addr: number): bigint {
  fn.fe_to_bytes!(BYTES, addr);
  let x = 0n;
  for (let k = 31; k >= 0; k--) x = (x << 8n) | BigInt(mem[BYTES + k]!);
  return x;
}
function pair(addr: number, x: bigint, y: bigint): void {
  single(X, x), single(Y, y);
  fn.fe2_from_singles!(addr, X, Y);
}
function readPair(addr: number): [bigint, bigint] {
  fn.fe2_to_singles!(X, Y, addr);
  return [readSingle(X), readSingle(Y)];
}
const random = seededRandom("field25519x2_test");
const randomField = () =>
  randomBytes(32, random).reduce(
    (acc: bigint, b: number, k: number) => acc + (BigInt(b) << BigInt(8 * k)),
    0n,
  ) %
  (2n ** 255n);
const edges = [0n, 1n, 19n, P - 1n, P, 2n ** 255n - 1n, 2n ** 254n];

Deno.test("field pairs: every operation matches the single-lane field in both lanes", () => {
  const values = [...edges, ...Array.from({ length: 200 }, randomField)];
  for (let n = 0; n < values.length; n++) {
    const a = values[n]!,
      b = values[(n * 7 + 3) % values.length]!,
      c = values[(n * 13 + 5) % values.length]!;
    pair(PA, a, b), pair(PB, c, a);
    fn.fe2_mul!(OUT, PA, PB);
    assert.deepEqual(readPair(OUT), [mod(a * c), mod(b * a)]);
    fn.fe2_sq!(OUT, PA);
    assert.deepEqual(readPair(OUT), [mod(a * a), mod(b * b)]);
    fn.fe2_add!(OUT, PA, PB); // one add of carried values is a valid mul input
    fn.fe2_mul!(OUT, OUT, PA);
    assert.deepEqual(readPair(OUT), [mod((a + c) * a), mod((b + a) * b)]);
    fn.fe2_sub!(OUT, PA, PB);
    fn.fe2_sq!(OUT, OUT);
    assert.deepEqual(readPair(OUT), [mod((a - c) ** 2n), mod((b - a) ** 2n)]);
    fn.fe2_mul_small!(OUT, PA, 121665);
    assert.deepEqual(readPair(OUT), [mod(a * 121665n), mod(b * 121665n)]);
  }
});

Deno.test("field pairs: limbs at the bound (±1.6·2^26 after one add) multiply exactly", () => {
  const max = 2 ** 25; // carried pair limbs lie in [−2^25, 2^25]
  for (const sign of [1, -1]) {
    for (let i = 0; i < 20; i++) i32[PA / 4 + i] = sign * max, i32[PB / 4 + i] = -sign * max;
    const value = (addr: number, lane: number) =>
      SHIFT.reduce((acc, s, i) => acc + (BigInt(i32[addr / 4 + 2 * i + lane]!) << BigInt(s)), 0n);
    fn.fe2_sub!(OUT, PA, PB); // limbs ±2^26
    const x = value(OUT, 0), y = value(OUT, 1);
    fn.fe2_sq!(PA, OUT);
    assert.deepEqual(readPair(PA), [mod(x * x), mod(y * y)]);
    fn.fe2_mul!(PB, OUT, OUT);
    assert.deepEqual(readPair(PB), [mod(x * x), mod(y * y)]);
  }
});

Deno.test("field pairs: cswap swaps each lane by its own bit", () => {
  pair(PA, 1n, 2n), pair(PB, 3n, 4n);
  fn.fe2_cswap!(PA, PB, 1, 0);
  assert.deepEqual([readPair(PA), readPair(PB)], [[3n, 2n], [1n, 4n]]);
  fn.fe2_cswap!(PA, PB, 0, 1);
  assert.deepEqual([readPair(PA), readPair(PB)], [[3n, 4n], [1n, 2n]]);
  fn.fe2_cswap!(PA, PB, 0, 0);
  assert.deepEqual([readPair(PA), readPair(PB)], [[3n, 4n], [1n, 2n]]);
});

Deno.test("field pairs: pow22523 matches a^((p − 5)/8) in both lanes", () => {
  const values = [...edges, ...Array.from({ length: 20 }, randomField)];
  const e = (P - 5n) / 8n;
  const pow = (x: bigint) => {
    let r = 1n, b = mod(x), k = e;
    for (; k > 0n; k >>= 1n, b = (b * b) % P) if (k & 1n) r = (r * b) % P;
    return r;
  };
  for (let n = 0; n < values.length; n++) {
    const a = values[n]!, b = values[(n * 5 + 1) % values.length]!;
    pair(PA, a, b);
    fn.fe2_pow22523!(OUT, PA);
    assert.deepEqual(readPair(OUT), [pow(a), pow(b)]);
  }
});

Deno.test("field pairs: a sum of three carried values (|limb| ≤ 1.5·2^26, the pair doubling) multiplies exactly", () => {
  const max = 2 ** 25;
  for (const sign of [1, -1]) {
    for (let i = 0; i < 20; i++) i32[PA / 4 + i] = sign * max, i32[PB / 4 + i] = -sign * max;
    const value = (addr: number, lane: number) =>
      SHIFT.reduce((acc, s, i) => acc + (BigInt(i32[addr / 4 + 2 * i + lane]!) << BigInt(s)), 0n);
    fn.fe2_sub!(OUT, PA, PB); // ±2^26
    fn.fe2_add!(OUT, OUT, PA); // ±1.5·2^26
    const x = value(OUT, 0), y = value(OUT, 1);
    assert.equal(Math.abs(i32[OUT / 4]!), 3 * max);
    fn.fe2_sq!(PB, OUT);
    assert.deepEqual(readPair(PB), [mod(x * x), mod(y * y)]);
    fn.fe2_mul!(PB, OUT, OUT);
    assert.deepEqual(readPair(PB), [mod(x * x), mod(y * y)]);
  }
});
