import assert from "node:assert/strict";
import {
  applyPermutation,
  invertPermutation,
  randomPermutation,
  UniformIntegers,
} from "./permutation.ts";
import { seededRandom } from "./random.ts";
import { InvalidInputError } from "./errors.ts";

function factorialIndex(pi: Uint32Array): number {
  // Lehmer code: a bijection from permutations of n to 0..n!-1.
  let index = 0;
  for (let i = 0; i < pi.length; i++) {
    let smaller = 0;
    for (let j = i + 1; j < pi.length; j++) if (pi[j]! < pi[i]!) smaller++;
    index = index * (pi.length - i) + smaller;
  }
  return index;
}

Deno.test("randomPermutation returns a permutation for many sizes", () => {
  const random = seededRandom("perm-sizes");
  for (const n of [0, 1, 2, 3, 17, 1000]) {
    const pi = randomPermutation(n, random);
    assert.deepEqual([...pi].sort((a, b) => a - b), [...Array(n).keys()]);
  }
});

Deno.test("randomPermutation is uniform over all 24 permutations of 4 (chi-squared)", () => {
  const random = seededRandom("perm-uniformity");
  const samples = 48_000;
  const counts = new Array(24).fill(0);
  for (let s = 0; s < samples; s++) counts[factorialIndex(randomPermutation(4, random))]++;
  const expected = samples / 24;
  const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
  // 23 degrees of freedom: the 0.999 quantile is 49.73.
  assert.ok(chi2 < 49.73, `chi-squared ${chi2.toFixed(1)} is too large; counts ${counts}`);
  assert.ok(counts.every((c) => c > 0));
});

Deno.test("every item is equally likely at every position (n = 7)", () => {
  const random = seededRandom("perm-positions");
  const n = 7, samples = 35_000;
  const counts = Array.from({ length: n }, () => new Array(n).fill(0));
  for (let s = 0; s < samples; s++) {
    const pi = randomPermutation(n, random);
    for (let i = 0; i < n; i++) counts[i]![pi[i]!]++;
  }
  const expected = samples / n;
  let chi2 = 0;
  for (const row of counts) for (const c of row) chi2 += (c - expected) ** 2 / expected;
  // 36 degrees of freedom for the (n-1)^2 independent cells: 0.999 quantile is 67.99.
  assert.ok(chi2 < 67.99, `chi-squared ${chi2.toFixed(1)} is too large`);
});

Deno.test("UniformIntegers.below is unbiased for a bound that does not divide 2^32", () => {
  const draw = new UniformIntegers(seededRandom("below-3"));
  const counts = [0, 0, 0];
  for (let i = 0; i < 30_000; i++) counts[draw.below(3)]!++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `counts ${counts}`);
  assert.throws(() => draw.below(0), InvalidInputError);
  assert.throws(() => draw.below(1.5), InvalidInputError);
});

Deno.test("applyPermutation and invertPermutation round-trip", () => {
  const pi = randomPermutation(50, seededRandom("inverse"));
  const items = [...Array(50).keys()].map((i) => `item${i}`);
  const mixed = applyPermutation(items, pi);
  assert.deepEqual(applyPermutation(mixed, invertPermutation(pi)), items);
  assert.throws(() => applyPermutation(items.slice(1), pi), InvalidInputError);
});
