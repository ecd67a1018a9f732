import assert from "node:assert/strict";
import { ed25519, ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { randomBytes, seededRandom } from "../../core/random.ts";
import {
  allowWasmPairs,
  type ExtendedCoordinates,
  wasmDecode,
  wasmDecodeMany,
  wasmDeriveToCurve,
  wasmEncode,
  wasmEncodeMany,
  wasmEncryptMany,
  wasmFixedMul,
  wasmFixedMulMany,
  wasmMsm,
  wasmMsmEncoded,
  wasmMulMany,
  wasmValidateMany,
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
  for (const n of [1, 2, 7, 100, 101, 700]) {
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

/** 32·n bytes of the encodings of points. */
function packed(points: readonly (typeof G)[]): Uint8Array {
  const out = new Uint8Array(32 * points.length);
  points.forEach((p, i) => out.set(p.toBytes(), 32 * i));
  return out;
}

/** The index of the first encoding that @noble/curves refuses (or that is the identity). */
function firstRefused(bytes: Uint8Array, allowIdentity: boolean): number | undefined {
  for (let i = 0; i < bytes.length / 32; i++) {
    try {
      const p = ristretto255.Point.fromBytes(bytes.subarray(32 * i, 32 * i + 32));
      if (!allowIdentity && p.is0()) return i;
    } catch {
      return i;
    }
  }
  return undefined;
}

/** Random valid points, small multiples and (when allowed) the identity, n of them. */
function mixedPoints(n: number, withIdentity: boolean): (typeof G)[] {
  return Array.from(
    { length: n },
    (_, i) =>
      i === 2 && withIdentity
        ? ristretto255.Point.ZERO
        : i < 6
        ? G.multiply(BigInt(i + 1))
        : G.multiply(randomScalar() || 1n),
  );
}

/** A non-canonical, negative or non-square encoding, by kind. */
function invalidEncoding(kind: number): Uint8Array {
  const bytes = new Uint8Array(32);
  if (kind === 0) bytes[0] = 1; // odd: negative
  else if (kind === 1) bytes.fill(0xff, 1, 31), bytes[0] = 0xed, bytes[31] = 0x7f; // p: not canonical
  else { // an even value that is not the encoding of any element
    for (;;) {
      const r = randomBytes(32, random);
      r[0]! &= 0xfe, r[31]! &= 0x3f;
      try {
        ristretto255.Point.fromBytes(r);
      } catch {
        return r;
      }
    }
  }
  return bytes;
}

Deno.test("wasm ristretto: many points times one scalar in SIMD pairs match @noble/curves", () => {
  for (const n of [0, 1, 2, 3, 8, 33]) {
    for (const k of n === 33 ? edgeScalars : [randomScalar(), 1n, ORDER - 1n]) {
      const points = mixedPoints(n, true);
      const r = wasmMulMany(packed(points), k, { allowIdentity: true });
      if (r === undefined) return; // no WebAssembly SIMD here: the caller falls back
      assert.ok(r instanceof Uint8Array, `n = ${n}, k = ${k}`);
      assert.deepEqual(r, packed(points.map((p) => p.multiplyUnsafe(k % ORDER))), `k = ${k}`);
    }
  }
});

Deno.test("wasm ristretto: many points times one scalar name the first refused encoding", () => {
  const k = randomScalar();
  for (const n of [1, 2, 5, 6, 9]) {
    for (let bad = 0; bad < n; bad++) {
      for (let kind = 0; kind < 3; kind++) {
        const bytes = packed(mixedPoints(n, false));
        bytes.set(invalidEncoding(kind), 32 * bad);
        // A second refused element after the first: the first one is named.
        if (bad + 1 < n) bytes.set(invalidEncoding((kind + 1) % 3), 32 * (bad + 1));
        const expected = firstRefused(bytes, false);
        assert.equal(expected, bad);
        const r = wasmMulMany(bytes, k);
        if (r !== undefined) assert.equal(r, expected, `n = ${n}, bad = ${bad}, kind = ${kind}`);
        assert.equal(wasmDecodeMany(bytes), expected);
        // The bucket method names A refused element (the byte checks run over all first).
        const sum = wasmMsmEncoded(bytes, new Uint8Array(bytes.length).fill(1));
        assert.ok(typeof sum === "number");
        assert.equal(firstRefused(bytes.subarray(32 * sum, 32 * sum + 32), false), 0);
      }
    }
    // The identity: refused unless allowed.
    const withIdentity = packed(mixedPoints(n, false));
    withIdentity.fill(0, 32 * (n - 1), 32 * n);
    const r = wasmMulMany(withIdentity, k);
    if (r !== undefined) assert.equal(r, n - 1);
    assert.equal(wasmDecodeMany(withIdentity), n - 1);
    assert.equal(typeof wasmDecodeMany(withIdentity, { allowIdentity: true }), "object");
  }
});

for (const oneFunction of [true, false]) {
  Deno.test(
    `wasm ristretto: decoding and encoding in SIMD pairs match @noble/curves (${
      oneFunction ? "one WebAssembly function" : "two register banks"
    })`,
    () => {
      allowWasmPairs(true, oneFunction);
      try {
        decodeEncodeCases();
      } finally {
        allowWasmPairs(true);
      }
    },
  );
}

function decodeEncodeCases(): void {
  for (const n of [0, 1, 2, 3, 17, 64]) {
    const points = mixedPoints(n, true);
    const bytes = packed(points);
    const decoded = wasmDecodeMany(bytes, { allowIdentity: true });
    assert.ok(typeof decoded === "object" && decoded.length === n);
    decoded.forEach((e, i) => assert.ok(pointOf(e).equals(points[i]!), `n = ${n}, i = ${i}`));
    // Encoding other representatives (Z ≠ 1, from noble's arithmetic) gives the same bytes.
    const doubled = points.map((p) => p.double());
    const out = new Uint8Array(32 * n);
    assert.ok(wasmEncodeMany(doubled.map(ep), out));
    assert.deepEqual(out, packed(doubled));
  }
  // Random byte strings: accepted exactly when noble accepts them, one by one.
  for (let i = 0; i < 100; i++) {
    const bytes = randomBytes(64, random);
    bytes[31]! &= 0x7f, bytes[63]! &= 0x7f, bytes[0]! &= 0xfe, bytes[32]! &= 0xfe;
    const r = wasmDecodeMany(bytes, { allowIdentity: true });
    assert.equal(typeof r === "number" ? r : undefined, firstRefused(bytes, true));
  }
}

Deno.test("wasm ristretto: fixed-base multiplication of many scalars in SIMD pairs matches @noble/curves", () => {
  const base = G.multiply(4242424242n), owner = {};
  for (const n of [0, 1, 2, 3, 10]) {
    const scalars = [...edgeScalars, ...Array.from({ length: 4 }, randomScalar)].slice(0, n);
    const r = wasmFixedMulMany(owner, ep(base), scalars);
    if (r === undefined) return; // no WebAssembly SIMD here: the caller falls back
    assert.equal(r.length, n);
    r.forEach((e, i) =>
      assert.ok(pointOf(e).equals(base.multiplyUnsafe(scalars[i]! % ORDER)), `k = ${scalars[i]}`)
    );
  }
  // Every edge scalar in either lane, next to zero and to random scalars.
  const scalars = edgeScalars.flatMap((k) => [k, 0n, randomScalar(), k]);
  const r = wasmFixedMulMany({}, ep(G), scalars);
  assert.ok(r);
  r.forEach((e, i) => assert.ok(pointOf(e).equals(G.multiplyUnsafe(scalars[i]! % ORDER))));
});

Deno.test("wasm ristretto: without SIMD pairs the batched functions fall back to single lanes", () => {
  allowWasmPairs(false);
  try {
    const points = mixedPoints(7, true);
    const bytes = packed(points);
    const k = randomScalar();
    assert.equal(wasmMulMany(bytes, k, { allowIdentity: true }), undefined); // caller falls back
    assert.equal(wasmFixedMulMany({}, ep(G), [k]), undefined);
    const decoded = wasmDecodeMany(bytes, { allowIdentity: true });
    assert.ok(typeof decoded === "object");
    decoded.forEach((e, i) => assert.ok(pointOf(e).equals(points[i]!)));
    const out = new Uint8Array(bytes.length);
    assert.ok(wasmEncodeMany(decoded, out));
    assert.deepEqual(out, bytes);
    const bad = bytes.slice();
    bad[32 * 4]! ^= 1;
    assert.equal(wasmDecodeMany(bad), 2); // the identity at 2 comes first
    assert.equal(wasmDecodeMany(bad, { allowIdentity: true }), 4);
    const many = Array.from({ length: 100 }, () => G.multiply(randomScalar() || 1n));
    const scalars = Array.from({ length: 100 }, randomScalar);
    const expected = many.reduce(
      (acc, p, i) => acc.add(p.multiplyUnsafe(scalars[i]!)),
      ristretto255.Point.ZERO,
    );
    const r = wasmMsm(many.map(ep), scalars);
    assert.ok(r && pointOf(r).equals(expected));
  } finally {
    allowWasmPairs(true);
  }
});

/** What wasmEncryptMany must write: 2·sG ‖ 2·(M + uY) (or M + uY) per element, then the 2·tG. */
function expectedEncryption(
  y: typeof G,
  input: {
    s: bigint[];
    t: bigint[];
    u: bigint[];
    messages: (typeof G)[];
    messageOf: number[];
    doubleR: boolean;
  },
): Uint8Array {
  const n = input.s.length, out = new Uint8Array(96 * n);
  for (let i = 0; i < n; i++) {
    const r = input.messages[input.messageOf[i]!]!.add(y.multiplyUnsafe(input.u[i]! % ORDER));
    out.set(G.multiplyUnsafe(input.s[i]! % ORDER).double().toBytes(), 64 * i);
    out.set((input.doubleR ? r.double() : r).toBytes(), 64 * i + 32);
    out.set(G.multiplyUnsafe(input.t[i]! % ORDER).double().toBytes(), 64 * n + 32 * i);
  }
  return out;
}

Deno.test("wasm ristretto: many encryptions' products, sums and (doubled) encodings match @noble/curves", () => {
  const gOwner = {}, yOwner = {};
  const y = G.multiply(987654321n);
  const messages = [
    ristretto255.Point.ZERO,
    G,
    ...Array.from({ length: 3 }, () => G.multiply(randomScalar() || 1n)),
  ];
  // 1, 2, 3: odd ones out; 257 and 515: blocks of 256 with a remainder, odd and even.
  for (const n of [1, 2, 3, 257, 515]) {
    for (const doubleR of [true, false]) {
      const input = {
        s: Array.from({ length: n }, randomScalar),
        t: Array.from({ length: n }, randomScalar),
        u: Array.from({ length: n }, randomScalar),
        messages,
        messageOf: Array.from({ length: n }, (_, i) => (i * 7) % messages.length),
        doubleR,
      };
      const out = new Uint8Array(96 * n);
      const wasm = { owner: gOwner, base: ep(G) }, key = { owner: yOwner, base: ep(y) };
      if (!wasmEncryptMany(wasm, key, { ...input, messages: messages.map(ep) }, out)) return;
      assert.deepEqual(out, expectedEncryption(y, input), `n = ${n}, doubleR = ${doubleR}`);
    }
  }
});

Deno.test("wasm ristretto: many encryptions handle zero scalars, edge scalars and identity sums, with and without SIMD", () => {
  const y = G.multiply(31337n), owners = [{}, {}];
  const m = G.multiply(5n);
  // R = M + u·Y is the identity for M = −u·Y; zero scalars give identities; identity messages.
  const u0 = 77n;
  const messages = [m, y.multiply(u0).negate(), ristretto255.Point.ZERO];
  const s = [...edgeScalars, 0n, ORDER - 1n, 0n];
  const n = s.length;
  const input = {
    s,
    t: s.map((k, i) => i % 2 === 0 ? 0n : k),
    u: s.map((k, i) => i % 3 === 1 ? u0 : k),
    messages,
    messageOf: s.map((_, i) => i % 3),
    doubleR: true,
  };
  for (const pairs of [true, false]) {
    allowWasmPairs(pairs);
    try {
      for (const doubleR of [true, false]) {
        const out = new Uint8Array(96 * n);
        const g = { owner: owners[0]!, base: ep(G) }, key = { owner: owners[1]!, base: ep(y) };
        assert.ok(wasmEncryptMany(g, key, { ...input, doubleR, messages: messages.map(ep) }, out));
        assert.deepEqual(out, expectedEncryption(y, { ...input, doubleR }), `pairs ${pairs}`);
        // Some outputs really are the identity (the zero-product path).
        assert.ok(out.subarray(0, 32).every((b) => b === 0));
        assert.ok(out.subarray(64 + 32, 64 + 64).every((b) => b === 0));
      }
    } finally {
      allowWasmPairs(true);
    }
  }
  const g = { owner: owners[0]!, base: ep(G) }, key = { owner: owners[1]!, base: ep(y) };
  const empty = { s: [], t: [], u: [], messages: [], messageOf: [], doubleR: true };
  assert.ok(wasmEncryptMany(g, key, empty, new Uint8Array(0)));
  assert.throws(
    () => wasmEncryptMany(g, key, { ...empty, s: [1n] }, new Uint8Array(96)),
    RangeError,
  );
});

Deno.test("wasm ristretto: wasmValidateMany names the first invalid encoding, odd counts and either lane, pairs on or off", () => {
  const valid = G.multiply(randomScalar() || 1n).toBytes();
  // Canonical bytes that are no point, a non-canonical (odd) field element, and the identity.
  let notPoint = valid.slice();
  for (let k = 1; wasmDecode(notPoint) !== null; k++) {
    notPoint = G.multiply(7n).toBytes(), notPoint[1] = k;
  }
  const odd = valid.slice();
  odd[0]! |= 1;
  const identity = new Uint8Array(32);
  for (const pairs of [true, false]) {
    allowWasmPairs(pairs);
    try {
      for (let n = 1; n <= 6; n++) {
        const all = new Uint8Array(32 * n);
        for (let i = 0; i < n; i++) all.set(valid, 32 * i);
        assert.equal(wasmValidateMany(all), -1, `${n} valid`);
        for (let bad = 0; bad < n; bad++) {
          for (const wrong of [notPoint, odd, identity]) {
            const bytes = all.slice();
            bytes.set(wrong, 32 * bad);
            if (bad + 2 < n) bytes.set(notPoint, 32 * (bad + 2)); // a later one is not first
            assert.equal(wasmValidateMany(bytes), bad, `${n} encodings, ${bad} bad`);
            if (wrong === identity) {
              assert.equal(
                wasmValidateMany(bytes, { allowIdentity: true }),
                bad + 2 < n ? bad + 2 : -1,
              );
            }
          }
        }
      }
    } finally {
      allowWasmPairs(true);
    }
  }
});

Deno.test("wasm ristretto: wasmMsmEncoded decodes its points in blocks, odd counts and invalid points anywhere as the point by point path", () => {
  for (const n of [1, 2, 5, 1025, 2050]) {
    const encoded = new Uint8Array(32 * n), scalars = new Uint8Array(32 * n);
    for (let i = 0; i < n; i++) {
      encoded.set(G.multiply(BigInt(i + 1)).toBytes(), 32 * i);
      scalars[32 * i] = (i * 37 + 1) & 255;
    }
    // A canonical encoding that is no point: found by changing a byte of a valid one.
    const notPoint = G.multiply(5n).toBytes();
    for (let k = 0; wasmDecode(notPoint) !== null; k++) notPoint[2] = k;
    for (const bad of [-1, 0, n - 1, Math.floor(n / 2), 1024].filter((b) => b < n)) {
      const bytes = encoded.slice();
      if (bad >= 0) bytes.set(notPoint, 32 * bad);
      allowWasmPairs(true, false);
      const want = wasmMsmEncoded(bytes, scalars);
      allowWasmPairs(true);
      const got = wasmMsmEncoded(bytes, scalars);
      if (typeof want === "number" || want === undefined) {
        assert.equal(got, want, `n ${n}, bad ${bad}`);
      } else {
        assert.ok(typeof got === "object");
        // Projective equality: X₁Z₂ = X₂Z₁ and Y₁Z₂ = Y₂Z₁ mod p.
        const p = 2n ** 255n - 19n;
        assert.equal((got.X * want.Z - want.X * got.Z) % p, 0n, `n ${n}`);
        assert.equal((got.Y * want.Z - want.Y * got.Z) % p, 0n, `n ${n}`);
      }
      assert.equal(typeof want === "number" ? want : -1, bad, `n ${n}, bad ${bad}`);
    }
  }
});
