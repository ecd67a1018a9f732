import assert from "node:assert/strict";
import { WasmModuleBuilder, wasmModuleStatus } from "../../core/wasm_module.ts";
import { bytesToNumberLE, GROUP_ORDER } from "./group.ts";
import {
  isCanonicalScalarAt,
  prepareScalarEngine,
  scalarBelowOrder,
  scalarDotAddInto,
  scalarMulAddInto,
  scalarsFromWideInto,
  scalarsHalfInto,
  scalarsMulAddInto,
} from "./scalar_bytes.ts";

const L = GROUP_ORDER;

function le(x: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let k = 0; k < bytes; k++, x >>= 8n) out[k] = Number(x & 0xffn);
  return out;
}

/** Edge values below 2^256 and random ones (uniform, and biased to the limb boundaries). */
function values(count: number): bigint[] {
  const out = [
    0n,
    1n,
    2n,
    L - 1n,
    L,
    L + 1n,
    2n * L - 1n,
    2n * L,
    15n * L,
    (1n << 252n) - 1n,
    1n << 252n,
    (1n << 253n) - 1n,
    1n << 255n,
    (1n << 256n) - 1n,
    (1n << 256n) - L,
    (1n << 21n) - 1n,
    1n << 21n,
    (1n << 126n) - 1n,
    L >> 1n,
    (L + 1n) / 2n,
  ];
  for (let k = 0; k < count; k++) {
    const v = bytesToNumberLE(crypto.getRandomValues(new Uint8Array(32)));
    out.push(v, v % L, v >> BigInt(k % 256));
  }
  return out;
}

Deno.test("scalarMulAddInto equals (a·b + c) mod ℓ as bigints, on edge and random inputs", () => {
  const xs = values(60);
  const out = new Uint8Array(40);
  let checked = 0;
  for (let i = 0; i < xs.length; i++) {
    for (const j of [i, (i * 7 + 3) % xs.length, (i * 13 + 5) % xs.length]) {
      const a = xs[i]!, b = xs[j]!, c = xs[(i + j) % xs.length]!;
      // At an offset, in buffers larger than the scalar.
      const ab = new Uint8Array(35), bb = new Uint8Array(33), cb = new Uint8Array(34);
      ab.set(le(a, 32), 3), bb.set(le(b, 32), 1), cb.set(le(c, 32), 2);
      scalarMulAddInto(out, 5, { a: ab, aAt: 3, b: bb, bAt: 1, c: cb, cAt: 2 });
      assert.equal(bytesToNumberLE(out.subarray(5, 37)), (a * b + c) % L, `${a}·${b} + ${c}`);
      scalarMulAddInto(out, 0, { a: ab, aAt: 3, b: bb, bAt: 1 });
      assert.equal(bytesToNumberLE(out.subarray(0, 32)), (a * b) % L, `${a}·${b}`);
      checked++;
    }
  }
  assert.ok(checked > 200);
  // Every value alone (x·1 + 0 and 1·1 + x): the limbs' carries at 2^251 and 2^252 included.
  const one = le(1n, 32), zero = le(0n, 32);
  // T = Σ 2^20·2^(21j), j < 12: every limb at the balanced carry's threshold, so the value
  // before the final floor carry sits at the edge of what limbs 0…11 hold.
  let t = 0n;
  for (let j = 0n; j < 12n; j++) t += 1n << (20n + 21n * j);
  const edges = [(1n << 251n) - 1n, 1n << 251n, (1n << 251n) + 1n, L - (1n << 251n)];
  for (let m = -3n; m <= 3n; m++) edges.push(t + m, t + m + (1n << 252n), t + m + L, L - t + m);
  // Limbs s…11 at the tie 2^20 (a balanced carry of exactly ½ rounds to even: none) and limb
  // s − 1 just above it: each carry pass moves the +1 one limb up, so for some s it leaves
  // limb 11 in the last passes, past the folds of limbs 12…14.
  for (let start = 1n; start <= 11n; start++) {
    let v = 1n << (21n * (start - 1n));
    for (let j = start - 1n; j < 12n; j++) v += 1n << (20n + 21n * j);
    edges.push(v, v + L, v + (1n << 252n));
  }
  for (const x of [...xs, ...edges]) {
    scalarMulAddInto(out, 0, { a: le(x, 32), aAt: 0, b: one, bAt: 0, c: zero, cAt: 0 });
    assert.equal(bytesToNumberLE(out.subarray(0, 32)), x % L, `${x}·1`);
    scalarMulAddInto(out, 0, { a: one, aAt: 0, b: one, bAt: 0, c: le(x, 32), cAt: 0 });
    assert.equal(bytesToNumberLE(out.subarray(0, 32)), (1n + x) % L, `1 + ${x}`);
  }
  // Values whose folded form is negative before the final floor carry (limb 12 = −1 there,
  // e.g. 2^252 folds to −δ): only the conditional addition of ℓ brings them into [0, ℓ).
  // 0x1800…d3c5 has limb 12 = +1 after the balanced carries, as a contrast.
  const zeros = le(0n, 32);
  for (
    const c of [
      1n << 252n,
      15n << 252n,
      (1n << 256n) - 1n,
      0x1800004000020000100000800004000034defadea2ff9cd69812651a5d05d3c5n,
    ]
  ) {
    scalarMulAddInto(out, 0, { a: zeros, aAt: 0, b: zeros, bAt: 0, c: le(c, 32), cAt: 0 });
    assert.equal(bytesToNumberLE(out.subarray(0, 32)), c % L, `0·0 + ${c}`);
  }
  // In place: the output may be an input (an accumulator).
  const acc = le(5n, 32), two = le(2n, 32);
  scalarMulAddInto(acc, 0, { a: acc, aAt: 0, b: two, bAt: 0, c: acc, cAt: 0 });
  assert.equal(bytesToNumberLE(acc), 15n);
  assert.throws(
    () => scalarMulAddInto(out, 9, { a: acc, aAt: 0, b: two, bAt: 0 }),
    (e) => e instanceof RangeError && /writes: 32 bytes at 9 of 40 are outside/.test(e.message),
  );
  assert.throws(
    () => scalarMulAddInto(out, 0, { a: acc, aAt: 1, b: two, bAt: 0 }),
    (e) => e instanceof RangeError && /reads a: 32 bytes at 1 of 32 are outside/.test(e.message),
  );
  assert.throws(
    () => scalarMulAddInto(out, 0, { a: acc, aAt: 0, b: two, bAt: 0, count: 2 }),
    (e) => e instanceof RangeError && /reads b: 64 bytes at 0 of 32/.test(e.message),
  );
});

/** `count` random 32-byte numbers below 2^256 (some edge values among them), packed. */
function randomList(count: number): { bytes: Uint8Array; values: bigint[] } {
  const edges = [0n, 1n, L - 1n, L, (1n << 256n) - 1n];
  const values = Array.from(
    { length: count },
    (_, k) =>
      k % 50 < edges.length
        ? edges[k % 50]!
        : bytesToNumberLE(crypto.getRandomValues(new Uint8Array(32))),
  );
  const bytes = new Uint8Array(32 * count);
  values.forEach((v, k) => bytes.set(le(v, 32), 32 * k));
  return { bytes, values };
}

Deno.test("scalarMulAddInto, scalarsMulAddInto and scalarDotAddInto of lists equal the bigint results, across chunks", () => {
  // 600 scalars: more than one call into WebAssembly (256 at a time), at unaligned offsets.
  for (const count of [0, 1, 255, 256, 257, 600]) {
    const a = randomList(1).values[0]! + 7n;
    const b = randomList(count), c = randomList(count);
    const aBytes = new Uint8Array(36);
    aBytes.set(le(a % (1n << 256n), 32), 4);
    const bBuffer = new Uint8Array(32 * count + 3), cBuffer = new Uint8Array(32 * count + 1);
    bBuffer.set(b.bytes, 3), cBuffer.set(c.bytes, 1);
    const out = new Uint8Array(32 * count + 5);
    const aa = a % (1n << 256n);
    scalarMulAddInto(out, 5, { a: aBytes, aAt: 4, b: bBuffer, bAt: 3, c: cBuffer, cAt: 1, count });
    for (let k = 0; k < count; k++) {
      const got = bytesToNumberLE(out.subarray(5 + 32 * k, 37 + 32 * k));
      assert.equal(got, (aa * b.values[k]! + c.values[k]!) % L, `element ${k} of ${count}`);
    }
    scalarMulAddInto(out, 5, { a: aBytes, aAt: 4, b: bBuffer, bAt: 3, count });
    for (let k = 0; k < count; k++) {
      const got = bytesToNumberLE(out.subarray(5 + 32 * k, 37 + 32 * k));
      assert.equal(got, (aa * b.values[k]!) % L, `element ${k} of ${count}, no c`);
    }
    // In place over b (the responses' case: the output where an input list was).
    scalarMulAddInto(bBuffer, 3, { a: aBytes, aAt: 4, b: bBuffer, bAt: 3, count });
    for (let k = 0; k < count; k++) {
      const got = bytesToNumberLE(bBuffer.subarray(3 + 32 * k, 35 + 32 * k));
      assert.equal(got, (aa * b.values[k]!) % L, `element ${k} of ${count}, in place`);
    }
    // Three lists (aₖ·bₖ + cₖ), in place over a.
    const aList = new Uint8Array(32 * count + 2);
    aList.set(c.bytes, 2);
    const both = new Uint8Array(32 * count + 9);
    scalarsMulAddInto(both, { count, outAt: 9, a: aList, aAt: 2, b: b.bytes, c: c.bytes });
    scalarsMulAddInto(aList, { count, outAt: 2, a: aList, aAt: 2, b: b.bytes });
    for (let k = 0; k < count; k++) {
      const x = c.values[k]! * b.values[k]!;
      assert.equal(bytesToNumberLE(both.subarray(9 + 32 * k, 41 + 32 * k)), (x + c.values[k]!) % L);
      assert.equal(
        bytesToNumberLE(aList.subarray(2 + 32 * k, 34 + 32 * k)),
        x % L,
        `in place ${k}`,
      );
    }
    // The dot product added to a starting sum (not canonical: 2^256 − 1).
    const sum = le((1n << 256n) - 1n, 32);
    scalarDotAddInto(sum, 0, { a: b.bytes, aAt: 0, b: c.bytes, bAt: 0, count });
    let expected = (1n << 256n) - 1n;
    for (let k = 0; k < count; k++) expected += b.values[k]! * c.values[k]!;
    const got = bytesToNumberLE(sum);
    assert.equal(got, count === 0 ? (1n << 256n) - 1n : expected % L, `dot of ${count}`);
  }
  assert.throws(
    () =>
      scalarDotAddInto(new Uint8Array(32), 0, {
        a: new Uint8Array(64),
        aAt: 0,
        b: new Uint8Array(32),
        bAt: 0,
        count: 2,
      }),
    (e) => e instanceof RangeError && /dot product reads b: 64 bytes at 0 of 32/.test(e.message),
  );
  assert.throws(
    () =>
      scalarMulAddInto(new Uint8Array(32), 0, {
        a: new Uint8Array(32),
        aAt: 0,
        b: new Uint8Array(32),
        bAt: 0,
        count: 0.5,
      }),
    (e) => e instanceof RangeError && /count 0.5 is not a whole number/.test(e.message),
  );
  assert.throws(
    () =>
      scalarsMulAddInto(new Uint8Array(64), {
        count: 2,
        a: new Uint8Array(32),
        b: new Uint8Array(64),
      }),
    (e) => e instanceof RangeError && /multiply-add reads a: 64 bytes at 0 of 32/.test(e.message),
  );
});

Deno.test("scalarsFromWideInto equals the 512-bit integer mod ℓ, on edge and random inputs", () => {
  const wides = [
    0n,
    1n,
    L - 1n,
    L,
    1n << 252n,
    (1n << 256n) - 1n,
    1n << 256n,
    L * L,
    L * L - 1n,
    (1n << 512n) - 1n,
    1n << 511n,
    (1n << 252n) - 1n,
    (1n << 251n) - 1n,
    1n << 251n,
    ((1n << 512n) - 1n) / L * L,
    (1n << 504n) - 1n,
  ];
  for (let k = 0; k < 300; k++) {
    const v = bytesToNumberLE(crypto.getRandomValues(new Uint8Array(64)));
    wides.push(v, v >> BigInt(k), (v % L) * (1n << 252n));
  }
  const out = new Uint8Array(33);
  for (const w of wides) {
    const buffer = new Uint8Array(70);
    buffer.set(le(w % (1n << 512n), 64), 6);
    scalarsFromWideInto(out, { count: 1, outAt: 1, wide: buffer, wideAt: 6 });
    assert.equal(bytesToNumberLE(out.subarray(1, 33)), (w % (1n << 512n)) % L, `${w}`);
  }
  // All of them in one call (more than one call into WebAssembly), at unaligned offsets.
  const count = wides.length, all = new Uint8Array(64 * count + 3);
  wides.forEach((w, k) => all.set(le(w % (1n << 512n), 64), 3 + 64 * k));
  const many = new Uint8Array(32 * count + 7);
  scalarsFromWideInto(many, { count, outAt: 7, wide: all, wideAt: 3 });
  wides.forEach((w, k) => {
    const got = bytesToNumberLE(many.subarray(7 + 32 * k, 39 + 32 * k));
    assert.equal(got, (w % (1n << 512n)) % L, `${w} (element ${k} of ${count})`);
  });
  assert.ok(count > 256);
  assert.throws(
    () => scalarsFromWideInto(out, { count: 1, wide: new Uint8Array(63) }),
    (e) => e instanceof RangeError && /reads: 64 bytes at 0 of 63 are outside/.test(e.message),
  );
});

Deno.test("isCanonicalScalarAt and scalarBelowOrder: below ℓ only", () => {
  for (
    const [x, canonical] of [
      [0n, true],
      [L - 1n, true],
      [L, false],
      [L + 1n, false],
      [
        (1n << 256n) - 1n,
        false,
      ],
      [1n << 252n, true],
      [1n << 253n, false],
    ] as const
  ) {
    const bytes = new Uint8Array(34);
    bytes.set(le(x, 32), 2);
    assert.equal(isCanonicalScalarAt(bytes, 2), canonical, `${x}`);
    assert.equal(scalarBelowOrder(bytes, 2), canonical ? 1 : 0, `${x}`);
  }
  for (let k = 0; k < 100; k++) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    bytes[31]! &= 0x1f;
    assert.equal(isCanonicalScalarAt(bytes, 0), bytesToNumberLE(bytes) < L);
    assert.equal(scalarBelowOrder(bytes, 0), bytesToNumberLE(bytes) < L ? 1 : 0);
  }
});

Deno.test("scalarsHalfInto equals x·(ℓ+1)/2 mod ℓ for canonical x, and tells non-canonical x", () => {
  const half = (L + 1n) / 2n;
  const xs = [0n, 1n, 2n, 3n, L - 1n, L - 2n, (1n << 252n) - 1n, 1n << 252n, half, half - 1n];
  for (let k = 0; k < 300; k++) {
    xs.push(bytesToNumberLE(crypto.getRandomValues(new Uint8Array(32))) % L);
  }
  const out = new Uint8Array(36);
  for (const x of xs) {
    const src = new Uint8Array(34);
    src.set(le(x, 32), 2);
    assert.equal(scalarsHalfInto(out, { count: 1, outAt: 3, x: src, xAt: 2 }), 1);
    const got = bytesToNumberLE(out.subarray(3, 35));
    assert.equal(got, (x * half) % L, `${x}/2`);
    assert.equal((2n * got) % L, x);
    scalarsHalfInto(src, { count: 1, outAt: 2, x: src, xAt: 2 }); // in place
    assert.equal(bytesToNumberLE(src.subarray(2, 34)), got);
  }
  // All at once (more than one call into WebAssembly), in place; then one non-canonical
  // value anywhere makes the answer 0, and its result is (x + (x mod 2)·ℓ)/2 all the same.
  const list = new Uint8Array(32 * xs.length);
  xs.forEach((x, k) => list.set(le(x, 32), 32 * k));
  assert.equal(scalarsHalfInto(list, { count: xs.length, x: list }), 1);
  xs.forEach((x, k) =>
    assert.equal(bytesToNumberLE(list.subarray(32 * k, 32 * k + 32)), (x * half) % L)
  );
  for (const bad of [L, L + 1n, (1n << 256n) - 1n, (1n << 256n) - 2n, 1n << 253n]) {
    const at = 299;
    list.set(le(bad, 32), 32 * at);
    assert.equal(scalarsHalfInto(list, { count: xs.length, x: list }), 0, `${bad}`);
    const got = bytesToNumberLE(list.subarray(32 * at, 32 * at + 32));
    assert.equal(got, (bad + (bad & 1n) * L) >> 1n, `${bad}/2`);
  }
  assert.equal(scalarsHalfInto(out, { count: 0, x: out }), 1);
  assert.throws(
    () => scalarsHalfInto(out, { count: 1, outAt: 5, x: out }),
    (e) =>
      e instanceof RangeError && /halving writes: 32 bytes at 5 of 36 are outside/.test(e.message),
  );
});

Deno.test("the scalar arithmetic runs in WebAssembly where it is allowed, else in bigints", async () => {
  const out = new Uint8Array(32);
  scalarsFromWideInto(out, { count: 1, wide: new Uint8Array(64).fill(0xff) });
  assert.equal(bytesToNumberLE(out), ((1n << 512n) - 1n) % L);
  // Refused in the child process of wasm_fallback_test.ts (every module over 16 bytes).
  const probe = new WasmModuleBuilder(1);
  probe.define(probe.declare("f", []), [], []);
  const allowed = probe.instantiate("scalar_bytes_test probe") !== undefined;
  assert.equal(wasmModuleStatus()["ristretto255 scalars"], allowed);
  assert.equal(await prepareScalarEngine(), allowed); // the engine already made is kept
});
