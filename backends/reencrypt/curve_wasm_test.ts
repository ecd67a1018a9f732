import assert from "node:assert/strict";
import { ed25519, ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { randomBytes, seededRandom } from "../../core/random.ts";
import {
  type ExtendedCoordinates,
  wasmDecode,
  wasmDeriveToCurve,
  wasmEncode,
  wasmFixedMul,
  wasmMsm,
  wasmMsmEncoded,
  wasmVarMul,
} from "./curve_wasm.ts";

const random = seededRandom("curve_wasm_test");
const G = ristretto255.Point.BASE;
const ORDER = ristretto255.Point.Fn.ORDER;
const ep = (p: typeof G) =>
  (p as unknown as { ep: { X: bigint; Y: bigint; Z: bigint; T: bigint } }).ep;

function randomScalar(): bigint {
  return randomBytes(32, random).reduce((acc: bigint, b: number) => (acc << 8n) | BigInt(b), 0n) %
    ORDER;
}

Deno.test("wasm ristretto: encodings equal @noble/curves' for random points and the identity", () => {
  const points = [
    ristretto255.Point.ZERO,
    G,
    G.negate(),
    ...Array.from({ length: 100 }, () => G.multiply(randomScalar() || 1n)),
  ];
  for (const p of points) {
    const out = new Uint8Array(40);
    assert.ok(wasmEncode(ep(p), out, 4));
    assert.deepEqual(out.subarray(4, 36), p.toBytes());
  }
});

Deno.test("wasm ristretto: decoding round-trips and gives the same point as @noble/curves", () => {
  for (let i = 0; i < 100; i++) {
    const p = G.multiply(randomScalar() || 1n);
    const e = wasmDecode(p.toBytes());
    assert.ok(e);
    const q = new ristretto255.Point(new ed25519.Point(e.X, e.Y, e.Z, e.T));
    assert.ok(q.equals(p));
    assert.deepEqual(q.toBytes(), p.toBytes());
  }
  const identity = wasmDecode(new Uint8Array(32));
  assert.deepEqual(identity, { X: 0n, Y: 1n, Z: 1n, T: 0n });
});

Deno.test("wasm ristretto: accepts exactly the byte strings @noble/curves accepts", () => {
  const p = 2n ** 255n - 19n;
  const le = (x: bigint) =>
    Uint8Array.from({ length: 32 }, (_, k) => Number((x >> BigInt(8 * k)) & 0xffn));
  const cases: Uint8Array[] = [
    le(p),
    le(p + 1n),
    le(p - 1n),
    le(2n ** 255n - 2n),
    le(1n),
    le(2n ** 255n),
  ];
  for (let i = 0; i < 400; i++) {
    const bytes = randomBytes(32, random);
    bytes[31]! &= 0x7f;
    if (i % 2 === 0) bytes[0]! &= 0xfe; // even: reaches the square-root checks
    cases.push(bytes);
  }
  let valid = 0;
  for (const bytes of cases) {
    let expected = true;
    try {
      ristretto255.Point.fromBytes(bytes);
    } catch {
      expected = false;
    }
    const decoded = wasmDecode(bytes);
    assert.equal(decoded !== null, expected, `bytes ${bytes.join(",")}`);
    if (expected) valid++;
  }
  assert.ok(valid > 20 && valid < cases.length - 100); // both outcomes were exercised
});

const P = 2n ** 255n - 19n;
function pointOf(e: ExtendedCoordinates) {
  const m = (x: bigint) => ((x % P) + P) % P;
  return new ristretto255.Point(new ed25519.Point(m(e.X), m(e.Y), m(e.Z), m(e.T)));
}
const edgeScalars = [
  0n,
  1n,
  2n,
  127n,
  128n,
  255n,
  256n,
  ORDER - 1n,
  ORDER - 2n,
  2n ** 252n,
  2n ** 253n - 1n,
];

Deno.test("wasm ristretto: fixed-base multiplication matches @noble/curves", () => {
  // 20 owners: more than the 16 kept tables, so evicted tables are rebuilt in reused slots.
  const bases = Array.from(
    { length: 20 },
    (_, i) => ({ owner: {}, point: G.multiply(987654321n + BigInt(i)) }),
  );
  for (let round = 0; round < 2; round++) {
    for (const { owner, point } of bases) {
      for (const k of [...edgeScalars, ...Array.from({ length: 3 }, randomScalar)]) {
        const r = wasmFixedMul(owner, ep(point), k);
        assert.ok(r && pointOf(r).equals(point.multiplyUnsafe(k % ORDER)), `k = ${k}`);
      }
    }
  }
});

Deno.test("wasm ristretto: variable-base multiplication matches @noble/curves", () => {
  for (let n = 0; n < 30; n++) {
    const p = G.multiply(randomScalar() || 1n);
    for (const k of n === 0 ? edgeScalars : [randomScalar()]) {
      const r = wasmVarMul(ep(p), k);
      assert.ok(r && pointOf(r).equals(p.multiplyUnsafe(k % ORDER)), `k = ${k}`);
    }
  }
  const r = wasmVarMul(ep(ristretto255.Point.ZERO), 12345n);
  assert.ok(r && pointOf(r).equals(ristretto255.Point.ZERO));
});

Deno.test("wasm ristretto: multi-scalar multiplication matches a sum of products", () => {
  for (const n of [1, 2, 7, 100, 700]) {
    const points = Array.from(
      { length: n },
      (_, i) => i === 3 ? ristretto255.Point.ZERO : G.multiply(randomScalar() || 1n),
    );
    const scalars = Array.from(
      { length: n },
      (_, i) => i < edgeScalars.length ? edgeScalars[i]! : randomScalar(),
    );
    const expected = points.reduce(
      (acc, p, i) => acc.add(p.multiplyUnsafe(scalars[i]! % ORDER)),
      ristretto255.Point.ZERO,
    );
    const r = wasmMsm(points.map(ep), scalars);
    assert.ok(r && pointOf(r).equals(expected), `n = ${n}`);
    const encoded = new Uint8Array(32 * n), scalarBytes = new Uint8Array(32 * n);
    points.forEach((p, i) => encoded.set(p.toBytes(), 32 * i));
    scalars.forEach((s, i) =>
      scalarBytes.set(
        Uint8Array.from({ length: 32 }, (_, k) => Number((s >> BigInt(8 * k)) & 0xffn)),
        32 * i,
      )
    );
    const fromBytes = wasmMsmEncoded(encoded, scalarBytes, { allowIdentity: true });
    assert.ok(typeof fromBytes === "object" && pointOf(fromBytes).equals(expected));
    if (n > 3) {
      assert.equal(wasmMsmEncoded(encoded, scalarBytes), 3); // the identity, refused by default
      const bad = encoded.slice();
      bad[32 * (n - 1)]! ^= 1; // odd: a negative field element
      assert.equal(wasmMsmEncoded(bad, scalarBytes, { allowIdentity: true }), n - 1);
    }
  }
});

Deno.test("wasm ristretto: element derivation matches @noble/curves (RFC 9496 §4.3.4)", () => {
  const inputs = [
    new Uint8Array(64),
    new Uint8Array(64).fill(0xff),
    ...Array.from({ length: 60 }, () => randomBytes(64, random)),
  ];
  for (const bytes of inputs) {
    const e = wasmDeriveToCurve(bytes);
    assert.ok(e);
    assert.deepEqual(pointOf(e).toBytes(), ristretto255_hasher.deriveToCurve!(bytes).toBytes());
  }
});

Deno.test("wasm ristretto: a multi-scalar multiplication over more points than one chunk sums the chunks", () => {
  const n = 32768 + 3; // one more chunk than MSM_CHUNK, which also grows the engine's memory
  const points = Array.from({ length: 16 }, () => G.multiply(randomScalar() || 1n));
  const all = Array.from({ length: n }, (_, i) => ep(points[i % 16]!));
  const scalars = Array.from({ length: n }, (_, i) => BigInt(i) * 0x1234567n + 1n);
  // Grouping the scalars by point gives the same sum with 16 terms.
  const grouped = Array.from({ length: 16 }, () => 0n);
  scalars.forEach((s, i) => (grouped[i % 16] = (grouped[i % 16]! + s) % ORDER));
  const expected = points.reduce(
    (acc, p, i) => acc.add(p.multiplyUnsafe(grouped[i]!)),
    ristretto255.Point.ZERO,
  );
  const r = wasmMsm(all, scalars);
  assert.ok(r && pointOf(r).equals(expected));
});
