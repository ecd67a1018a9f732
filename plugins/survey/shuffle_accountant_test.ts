import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import {
  fmt21ClosedFormEpsilon,
  shuffleAmplification,
  shuffleDelta,
  shuffleMinBatchSize,
} from "./shuffle_accountant.ts";

interface ReferenceRow {
  n: number;
  epsilon0: number;
  generic: number;
  binaryRR: number;
  closedForm: number | null;
}
const reference = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/shuffle_reference.json", import.meta.url)),
) as { delta: number; rows: ReferenceRow[] };

// Tolerance: ±0.01 absolute or 5% relative, whichever is larger (values are published to 2–3 digits).
const close = (actual: number, expected: number) =>
  Math.abs(actual - expected) <= Math.max(0.01, 0.05 * expected);

Deno.test("numeric clone analysis reproduces the reference table (generic and binary RR)", () => {
  for (const row of reference.rows) {
    const generic = shuffleAmplification({
      n: row.n,
      epsilon0: row.epsilon0,
      delta: reference.delta,
    });
    assert.ok(
      close(generic.epsilon, row.generic),
      `generic n=${row.n} ε0=${row.epsilon0}: ${generic.epsilon}`,
    );
    const rr = shuffleAmplification({
      n: row.n,
      epsilon0: row.epsilon0,
      delta: reference.delta,
      model: "randomized-response",
    });
    assert.ok(
      close(rr.epsilon, row.binaryRR),
      `binary RR n=${row.n} ε0=${row.epsilon0}: ${rr.epsilon}`,
    );
    assert.ok(rr.epsilon < generic.epsilon);
  }
});

Deno.test("n = 1e5, ε0 = 4, δ = 1e-6 lies in Apple's reference interval [0.1675, 0.1728]", () => {
  const r = shuffleAmplification({ n: 100000, epsilon0: 4, delta: 1e-6 });
  assert.ok(r.epsilon >= 0.1675 && r.epsilon <= 0.1728, String(r.epsilon));
  assert.ok(r.epsilonLower <= r.epsilon && r.epsilon - r.epsilonLower < 0.01 * r.epsilon);
  assert.match(r.text, /central ε = 0\.170 at δ = 1e-6 for n = 100000/);
});

Deno.test("FMT21 closed form matches the table and its validity condition", () => {
  for (const row of reference.rows) {
    const cf = fmt21ClosedFormEpsilon({ n: row.n, epsilon0: row.epsilon0, delta: reference.delta });
    if (row.closedForm === null) assert.equal(cf, undefined);
    else {
      assert.ok(
        cf !== undefined && Math.abs(cf - row.closedForm) <= 0.01,
        `${cf} vs ${row.closedForm}`,
      );
      // The numeric bound is never worse than the closed form.
      const numeric = shuffleAmplification({
        n: row.n,
        epsilon0: row.epsilon0,
        delta: reference.delta,
      });
      assert.ok(numeric.epsilon <= cf);
    }
  }
});

/** Independent brute force: enumerate C, A and Δ of P and Q directly, both directions. */
function bruteForceDelta(n: number, epsilon0: number, epsilon: number, p: number): number {
  const alpha = Math.exp(epsilon0) / (Math.exp(epsilon0) + 1);
  const binom = (m: number, k: number, prob: number) => {
    let r = 1;
    for (let i = 0; i < k; i++) r = (r * (m - i)) / (i + 1);
    return r * prob ** k * (1 - prob) ** (m - k);
  };
  let pq = 0;
  let qp = 0;
  for (let c = 0; c <= n - 1; c++) {
    const pc = binom(n - 1, c, p);
    // First coordinate a in 0..c+1 (second is c + 1 − a).
    for (let a = 0; a <= c + 1; a++) {
      const bPrev = a >= 1 ? binom(c, a - 1, 0.5) : 0;
      const bHere = a <= c ? binom(c, a, 0.5) : 0;
      const P = alpha * bPrev + (1 - alpha) * bHere; // A + Δ = a
      const Q = (1 - alpha) * bPrev + alpha * bHere; // A + 1 − Δ = a
      pq += pc * Math.max(0, P - Math.exp(epsilon) * Q);
      qp += pc * Math.max(0, Q - Math.exp(epsilon) * P);
    }
  }
  assert.ok(Math.abs(pq - qp) <= 1e-12 + 1e-9 * pq, "hockey-stick divergence is symmetric");
  return pq;
}

Deno.test("δ(ε) agrees with an independent brute-force enumeration for small n", () => {
  for (const [n, e0, e] of [[20, 1, 0.3], [60, 2, 0.5], [150, 3, 0.8], [150, 0.5, 0.1]] as const) {
    for (const model of ["generic", "randomized-response"] as const) {
      const p = model === "generic" ? Math.exp(-e0) : 2 / (Math.exp(e0) + 1);
      const expected = bruteForceDelta(n, e0, e, p);
      const { upper, lower } = shuffleDelta({ n, epsilon0: e0, delta: 1e-6, epsilon: e, model });
      assert.ok(
        Math.abs(upper - expected) <= 1e-12 + 1e-9 * expected,
        `${n} ${e0} ${e}: ${upper} vs ${expected}`,
      );
      assert.ok(lower <= upper);
    }
  }
});

Deno.test("the published ε satisfies δ(ε) ≤ target and is tight", () => {
  for (const [n, e0] of [[5000, 3], [200000, 5], [3000000, 1]] as const) {
    const r = shuffleAmplification({ n, epsilon0: e0, delta: 1e-7 });
    assert.ok(shuffleDelta({ n, epsilon0: e0, delta: 1e-7, epsilon: r.epsilon }).upper <= 1e-7);
    assert.ok(
      shuffleDelta({ n, epsilon0: e0, delta: 1e-7, epsilon: r.epsilon * 0.99 }).upper > 1e-7,
    );
  }
});

Deno.test("bins give rigorous bounds: upper ≥ lower and both converge for large n", () => {
  const big = shuffleAmplification({ n: 10_000_000, epsilon0: 1, delta: 1e-6 });
  assert.ok(
    big.epsilonLower <= big.epsilon && big.epsilon - big.epsilonLower <= 0.02 * big.epsilon,
  );
  assert.ok(big.closedForm !== undefined && big.epsilon < big.closedForm);
});

Deno.test("central ε decreases with n, increases with ε0 and never exceeds ε0", () => {
  let previous = Infinity;
  for (const n of [1, 10, 100, 1000, 10000, 100000]) {
    const e = shuffleAmplification({ n, epsilon0: 3, delta: 1e-6 }).epsilon;
    assert.ok(e <= 3 && e <= previous, `n=${n}: ${e}`);
    previous = e;
  }
  // A single report gets no amplification (up to what δ itself buys).
  assert.ok(Math.abs(shuffleAmplification({ n: 1, epsilon0: 3, delta: 1e-6 }).epsilon - 3) < 1e-5);
  const a = shuffleAmplification({ n: 50000, epsilon0: 2, delta: 1e-6 }).epsilon;
  const b = shuffleAmplification({ n: 50000, epsilon0: 3, delta: 1e-6 }).epsilon;
  assert.ok(a < b);
});

Deno.test("k-RR admits the clone decomposition with p = 2/(e^ε0 + 1) and no larger p", () => {
  for (const k of [2, 3, 10]) {
    for (const e0 of [0.5, 2, 5]) {
      const e = Math.exp(e0);
      const dist = (x: number) =>
        Array.from({ length: k }, (_, y) => (y === x ? e : 1) / (e + k - 1));
      const [r0, r1] = [dist(0), dist(1)];
      const p = 2 / (e + 1);
      let minRatio = Infinity;
      for (let x = 0; x < k; x++) {
        const rx = dist(x);
        for (let y = 0; y < k; y++) minRatio = Math.min(minRatio, rx[y]! / ((r0[y]! + r1[y]!) / 2));
      }
      assert.ok(Math.abs(minRatio - p) < 1e-12, `k=${k} ε0=${e0}: ${minRatio} vs ${p}`);
    }
  }
});

Deno.test("minimum batch size is the smallest n meeting the target", () => {
  const options = { epsilon0: 4, targetEpsilon: 0.3, delta: 1e-6 };
  const n = shuffleMinBatchSize(options);
  const at = (m: number) => shuffleAmplification({ n: m, epsilon0: 4, delta: 1e-6 }).epsilon;
  assert.ok(at(n) <= 0.3 && at(n - 1) > 0.3, `n=${n}`);
  assert.equal(shuffleMinBatchSize({ ...options, targetEpsilon: 5 }), 1);
  assert.throws(
    () => shuffleMinBatchSize({ ...options, targetEpsilon: 1e-4, maxN: 1000 }),
    InvalidInputError,
  );
});

Deno.test("invalid parameters are rejected", () => {
  assert.throws(() => shuffleAmplification({ n: 0, epsilon0: 1, delta: 1e-6 }), InvalidInputError);
  assert.throws(
    () => shuffleAmplification({ n: 10, epsilon0: -1, delta: 1e-6 }),
    InvalidInputError,
  );
  assert.throws(() => shuffleAmplification({ n: 10, epsilon0: 1, delta: 2 }), InvalidInputError);
  assert.throws(
    () => shuffleAmplification({ n: 10, epsilon0: 1, delta: 1e-6, model: "x" as "generic" }),
    InvalidInputError,
  );
});
