import assert from "node:assert/strict";
import { randomBytes, seededRandom } from "./random.ts";
import { addField25519, FE_BYTES, FIELD_PRIME as P, FIELD_SCRATCH_BYTES } from "./field25519.ts";
import { WasmModuleBuilder } from "./wasm_module.ts";

const SHIFT = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230];
const m = new WasmModuleBuilder(1);
addField25519(m, 0);
const instance = m.instantiate("field25519-test");
assert.ok(instance);
const fn = instance.exports;
const mem = instance.memory;
const limbs = new BigInt64Array(mem.buffer);
const A = FIELD_SCRATCH_BYTES, B = A + FE_BYTES, OUT = B + FE_BYTES, BYTES = OUT + FE_BYTES;

const mod = (x: bigint) => ((x % P) + P) % P;
function write(addr: number, x: bigint): void {
  for (let k = 0; k < 32; k++) mem[BYTES + k] = Number((x >> BigInt(8 * k)) & 0xffn);
  fn.fe_from_bytes!(addr, BYTES);
}
function writeLimbs(addr: number, values: readonly bigint[]): void {
  values.forEach((v, i) => (limbs[addr / 8 + i] = v));
}
function valueOfLimbs(addr: number): bigint {
  return SHIFT.reduce((acc, s, i) => acc + (limbs[addr / 8 + i]! << BigInt(s)), 0n);
}
function read(addr: number): bigint {
  fn.fe_to_bytes!(BYTES, addr);
  let x = 0n;
  for (let k = 31; k >= 0; k--) x = (x << 8n) | BigInt(mem[BYTES + k]!);
  return x;
}
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  for (b = mod(b); e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
}

const random = seededRandom(new Uint8Array(32).fill(25));
function randomField(): bigint {
  const bytes = randomBytes(32, random);
  return bytes.reduce(
    (acc: bigint, b: number, k: number) => acc + (BigInt(b) << BigInt(8 * k)),
    0n,
  ) % (2n ** 255n);
}
const edges = [
  0n,
  1n,
  2n,
  19n,
  P - 1n,
  P,
  P + 1n,
  P + 18n,
  2n ** 255n - 1n,
  2n ** 254n,
  2n ** 128n - 1n,
];

Deno.test("field: encoding is canonical for every 255-bit input, including values ≥ p", () => {
  for (const x of [...edges, ...Array.from({ length: 200 }, randomField)]) {
    write(A, x);
    assert.equal(read(A), mod(x), `x = ${x}`);
  }
});

Deno.test("field: mul, sq, add, sub, mulSmall agree with bigint arithmetic", () => {
  const values = [...edges, ...Array.from({ length: 300 }, randomField)];
  for (let n = 0; n < values.length; n++) {
    const x = values[n]!, y = values[(n * 7 + 3) % values.length]!;
    write(A, x), write(B, y);
    fn.fe_mul!(OUT, A, B);
    assert.equal(read(OUT), mod(x * y));
    fn.fe_sq!(OUT, A);
    assert.equal(read(OUT), mod(x * x));
    fn.fe_add!(OUT, A, B);
    assert.equal(read(OUT), mod(x + y));
    fn.fe_sub!(OUT, A, B);
    assert.equal(read(OUT), mod(x - y));
    fn.fe_sub!(OUT, A, B); // one add/sub of carried values is a valid mul input
    fn.fe_mul!(OUT, OUT, A);
    assert.equal(read(OUT), mod((x - y) * x));
    fn.fe_mul_small!(OUT, A, 121666n as unknown as number);
    assert.equal(read(OUT), mod(x * 121666n));
  }
});

Deno.test("field: limbs at the documented bound (|limb| < 2^27, either sign) multiply exactly", () => {
  const max = 2n ** 27n - 1n;
  const patterns = [
    Array(10).fill(max),
    Array(10).fill(-max),
    Array.from({ length: 10 }, (_, i) => (i % 2 ? max : -max)),
  ];
  for (const a of patterns) {
    for (const b of patterns) {
      writeLimbs(A, a), writeLimbs(B, b);
      const x = valueOfLimbs(A), y = valueOfLimbs(B);
      fn.fe_mul!(OUT, A, B);
      assert.equal(read(OUT), mod(x * y));
      fn.fe_sq!(OUT, A);
      assert.equal(read(OUT), mod(x * x));
      fn.fe_carry!(OUT, A);
      assert.equal(read(OUT), mod(x));
    }
  }
});

Deno.test("field: invert and pow22523 match the exponentiations they implement", () => {
  for (const x of [1n, 2n, P - 1n, ...Array.from({ length: 20 }, randomField)]) {
    write(A, x);
    fn.fe_invert!(OUT, A);
    assert.equal(read(OUT), pow(x, P - 2n));
    if (mod(x) !== 0n) assert.equal(mod(read(OUT) * x), 1n);
    fn.fe_pow22523!(OUT, A);
    assert.equal(read(OUT), pow(x, (P - 5n) / 8n));
    fn.fe_pow22523!(A, A); // in place
    assert.equal(read(A), pow(x, (P - 5n) / 8n));
  }
  write(A, 0n);
  fn.fe_invert!(OUT, A);
  assert.equal(read(OUT), 0n);
});

Deno.test("field: cswap swaps exactly when the bit is 1", () => {
  write(A, 5n), write(B, 7n);
  fn.fe_cswap!(A, B, 0);
  assert.deepEqual([read(A), read(B)], [5n, 7n]);
  fn.fe_cswap!(A, B, 1);
  assert.deepEqual([read(A), read(B)], [7n, 5n]);
  fn.fe_copy!(OUT, A);
  assert.equal(read(OUT), 7n);
});
