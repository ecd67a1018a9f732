import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { allowWasmPairs } from "./curve_wasm.ts";
import {
  BASE_POINT,
  combineSharesEncoded,
  decodePoint,
  decodeScalar,
  doubleAndEncodeBatch,
  encodeEncryptionElements,
  encodePoint,
  encodeScalar,
  FixedBaseTable,
  GROUP_ORDER,
  IDENTITY,
  invertScalar,
  linearCombination,
  modL,
  multiplyEncodedMany,
  multiplyPoint,
  multiScalarMul,
  multiScalarMulNamed,
  packPoints,
  packScalars,
  type Point,
  randomScalar,
  randomScalars,
  randomScalarsInto,
  scalarCount,
  scalarFromWide,
  scalarsFromWide,
  unpackScalars,
} from "./group.ts";

const random = seededRandom("group-test");

Deno.test("fixed-base table agrees with plain multiplication", () => {
  const base = BASE_POINT.multiply(987654321n);
  const table = new FixedBaseTable(base);
  const scalars = [0n, 1n, 2n, 127n, 128n, 255n, 256n, GROUP_ORDER - 1n];
  for (let i = 0; i < 20; i++) scalars.push(randomScalar(random));
  for (const k of scalars) assert.ok(table.multiply(k).equals(base.multiplyUnsafe(k)), `k = ${k}`);
  assert.ok(table.multiply(-1n).equals(base.negate()));
  const many = table.multiplyMany([...scalars, -1n]); // 29: the last pair has one scalar
  assert.equal(many.length, scalars.length + 1);
  scalars.forEach((k, i) => assert.ok(many[i]!.equals(base.multiplyUnsafe(k)), `k = ${k}`));
  assert.ok(many[scalars.length]!.equals(base.negate()));
});

Deno.test("multi-scalar multiplication matches the naive sum", () => {
  const points = [1n, 2n, 3n, 4n, 5n].map((k) => BASE_POINT.multiply(k * 7919n));
  const scalars = points.map(() => randomScalar(random));
  let naive = IDENTITY;
  points.forEach((p, i) => naive = naive.add(p.multiplyUnsafe(scalars[i]!)));
  assert.ok(multiScalarMul(points, scalars).equals(naive));
  assert.ok(multiScalarMul([], []).is0());
});

Deno.test("scalars: canonical round trip, reject non-canonical", () => {
  const s = randomScalar(random);
  assert.equal(decodeScalar(encodeScalar(s), "s"), s);
  assert.deepEqual(unpackScalars(packScalars([s, 1n, 0n]), "list"), [s, 1n, 0n]);
  const big = new Uint8Array(32).fill(0xff);
  assert.throws(() => decodeScalar(big, "s"), InvalidInputError);
  assert.throws(() => decodeScalar(new Uint8Array(31), "s"), InvalidInputError);
  assert.equal(modL(invertScalar(12345n) * 12345n), 1n);
  assert.throws(() => invertScalar(0n), InvalidInputError);
});

Deno.test("points: reject non-canonical encodings and the identity", () => {
  const g = BASE_POINT.toBytes();
  assert.ok(decodePoint(g, "g").equals(BASE_POINT));
  const odd = g.slice();
  odd[0]! ^= 1; // negative field element: never canonical
  assert.throws(() => decodePoint(odd, "g"), InvalidInputError);
  const high = new Uint8Array(32).fill(0xff); // ≥ p
  assert.throws(() => decodePoint(high, "g"), /not a canonical/);
  assert.throws(() => decodePoint(new Uint8Array(32), "zero"), /must not be the identity/);
  assert.ok(decodePoint(new Uint8Array(32), "zero", { allowIdentity: true }).is0());
  assert.throws(() => decodePoint(new Uint8Array(33), "long"), InvalidInputError);
});

Deno.test("batched double-and-encode equals encoding the doubles one by one", () => {
  const points = [IDENTITY, BASE_POINT, BASE_POINT.negate()];
  for (let i = 0; i < 40; i++) points.push(BASE_POINT.multiply(randomScalar(random)));
  const sum = points[5]!.add(points[6]!); // a point with Z ≠ 1
  points.push(sum, sum.negate());
  assert.deepEqual(doubleAndEncodeBatch(points), packPoints(points.map((p) => p.double())));
  assert.equal(doubleAndEncodeBatch([]).length, 0);
});

Deno.test("linearCombination matches separate multiplications, edge scalars included", () => {
  const random = seededRandom("linear-combination");
  const points = [1, 2, 3].map(() => BASE_POINT.multiply(randomScalar(random)));
  const cases: bigint[][] = [
    [randomScalar(random), randomScalar(random), randomScalar(random)],
    [0n, 1n, GROUP_ORDER - 1n],
    [-5n, 8n, 2n ** 252n],
    [7n, 0n, 0n],
  ];
  for (const scalars of cases) {
    const naive = points.reduce(
      (acc, p, i) => acc.add(p.multiplyUnsafe(modL(scalars[i]!))),
      IDENTITY,
    );
    assert.ok(linearCombination(points, scalars).equals(naive), `scalars ${scalars.join()}`);
  }
  assert.ok(linearCombination([], []).is0());
  assert.throws(() => linearCombination([BASE_POINT], []), InvalidInputError);
});

for (const pairs of [true, false]) {
  Deno.test(`multiplyEncodedMany equals decoding, multiplying and encoding one by one (SIMD pairs ${pairs ? "on" : "off"})`, () => {
    allowWasmPairs(pairs);
    try {
      multiplyEncodedManyCases();
      const table = new FixedBaseTable(BASE_POINT.multiply(77n));
      const ks = [0n, 1n, -1n, randomScalar(random), randomScalar(random)];
      table.multiplyMany(ks).forEach((p, i) => assert.ok(p.equals(table.multiply(ks[i]!))));
    } finally {
      allowWasmPairs(true);
    }
  });
}

function multiplyEncodedManyCases(): void {
  const x = randomScalar(random);
  for (const n of [0, 1, 2, 5]) {
    const points = Array.from(
      { length: n },
      (_, i) => BASE_POINT.multiply(BigInt(3 + i) * 1000003n),
    );
    const out = multiplyEncodedMany(packPoints(points), x, (i) => `p[${i}]`);
    assert.deepEqual(out, packPoints(points.map((p) => p.multiply(x))));
  }
  // Errors name the first refused element as decodePoint does.
  const bytes = packPoints([BASE_POINT, BASE_POINT.double(), BASE_POINT]);
  bytes[32]! ^= 1; // element 1 negative
  bytes.fill(0, 64, 96); // element 2 the identity
  assert.throws(
    () => multiplyEncodedMany(bytes, x, (i) => `share ${i}`),
    (e: unknown) =>
      e instanceof InvalidInputError &&
      e.message === "Group element 'share 1' is not a canonical ristretto255 encoding",
  );
  bytes[32]! ^= 1;
  assert.throws(
    () => multiplyEncodedMany(bytes, x, (i) => `share ${i}`),
    (e: unknown) =>
      e instanceof InvalidInputError &&
      e.message === "Group element 'share 2' must not be the identity",
  );
  const id = multiplyEncodedMany(bytes, x, (i) => `share ${i}`, { allowIdentity: true });
  assert.deepEqual(id.subarray(64), new Uint8Array(32));
}

Deno.test("multiScalarMulNamed sums from encodings and names the first refused element", () => {
  const points = [2n, 3n, 5n, 7n].map((k) => BASE_POINT.multiply(k));
  const scalars = [11n, 13n, 17n, GROUP_ORDER - 1n];
  const bytes = packPoints(points);
  const name = (i: number) => `e[${i}]`;
  assert.ok(multiScalarMulNamed(bytes, scalars, name).equals(multiScalarMul(points, scalars)));
  const bad = bytes.slice();
  // Element 1 does not decode (an even non-square), element 3 is not canonical (odd):
  // element 1 is named, as decoding one by one would.
  bad.set(new Uint8Array(32).fill(0xff, 0, 31).fill(0x7f, 31), 96);
  for (let v = 2;; v += 2) {
    const b = new Uint8Array(32);
    b[0] = v;
    try {
      decodePoint(b, "probe");
    } catch {
      bad.set(b, 32);
      break;
    }
  }
  assert.throws(
    () => multiScalarMulNamed(bad, scalars, name),
    (e: unknown) =>
      e instanceof InvalidInputError &&
      e.message === "Group element 'e[1]' is not a canonical ristretto255 encoding",
  );
  assert.throws(() => multiScalarMulNamed(bytes, [1n], name), InvalidInputError);
});

Deno.test("combineSharesEncoded matches LagrangeCombiner, with bad shares, bad and wrong plaintexts, identities", async () => {
  const { LagrangeCombiner } = await import("./decryption.ts");
  const random = seededRandom("combine shares encoded");
  const g = (s: bigint) => multiplyPoint(BASE_POINT, s);
  const nonCanonical = new Uint8Array(32).fill(0xff).fill(0x7f, 31);
  for (const trustees of [[1, 2], [2, 3], [1, 3], [1, 2, 4], [5]]) {
    const combiner = new LagrangeCombiner(trustees);
    for (const pairs of [[true, true], [true, false], [false, true]] as const) {
      allowWasmPairs(pairs[0], pairs[1]);
      try {
        const n = 9, t = trustees.length;
        const c2: Point[] = [], shares: Point[][] = trustees.map(() => []);
        for (let e = 0; e < n; e++) {
          for (let j = 0; j < t; j++) shares[j]!.push(g(randomScalar(random)));
          c2.push(g(randomScalar(random)));
        }
        // Element 4's c2 is the combination of its shares: its message is the identity.
        c2[4] = combiner.decrypt(IDENTITY, shares.map((s) => s[4]!)).negate();
        const c2Bytes = packPoints(c2), shareBytes = shares.map(packPoints);
        shareBytes[0]!.set(nonCanonical, 2 * 32); // element 2: a share that does not decode
        if (t > 1) shareBytes[t - 1]!.fill(0, 6 * 32, 7 * 32); // element 6: an identity share
        const expected = c2.map((c, e) =>
          encodePoint(combiner.decrypt(c, shares.map((s) => s[e]!)))
        );
        assert.equal(expected[4]!.every((b) => b === 0), true);
        const input = {
          c2: c2Bytes,
          shares: shareBytes,
          numerators: combiner.numerators,
          denominator: combiner.denominator,
        };
        const combined = combineSharesEncoded(input);
        const q = 1 + t;
        for (let e = 0; e < n; e++) {
          const badShare = e === 2 || (t > 1 && e === 6);
          const got = combined.out.subarray(32 * e, 32 * e + 32);
          assert.equal(combined.bad[e * q], 0);
          assert.equal(combined.bad[e * q + 1], e === 2 ? 1 : 0, `element ${e} share 1`);
          assert.equal(combined.bad[e * q + t], (t > 1 ? e === 6 : e === 2) ? 1 : 0);
          if (badShare) assert.equal(got.every((b) => b === 0), true);
          else assert.deepEqual(got, expected[e], `${trustees} ${pairs} element ${e}`);
        }
        // The check: right, wrong (element 1), malformed (element 3), identity (element 4 is right).
        const published = new Uint8Array(combined.out);
        published.set(encodePoint(BASE_POINT), 1 * 32);
        published.set(nonCanonical, 3 * 32);
        for (const e of [2, 6]) published.set(expected[e]!, 32 * e);
        const checked = combineSharesEncoded({ ...input, published });
        for (let e = 0; e < n; e++) {
          const badShare = e === 2 || (t > 1 && e === 6);
          assert.equal(checked.bad[e * (q + 1) + q], e === 3 || e === 4 ? 1 : 0, `published ${e}`);
          const wrong = !badShare && e !== 3 && e !== 4 &&
            !combiner.matches({
              c2: c2[e]!,
              shares: shares.map((s) => s[e]!),
              plaintext: decodePoint(published.subarray(32 * e, 32 * e + 32), "m"),
            });
          assert.equal(checked.out[e], wrong ? 1 : 0, `verdict ${e}`);
          assert.equal(wrong, e === 1);
        }
        // A c2 that does not decode is reported too.
        const c2Bad = new Uint8Array(c2Bytes);
        c2Bad.set(nonCanonical, 0);
        assert.equal(combineSharesEncoded({ ...input, c2: c2Bad }).bad[0], 1);
      } finally {
        allowWasmPairs(true);
      }
    }
  }
});

Deno.test("encodeEncryptionElements gives the encodings of 2·sG, 2·tG and 2·(M + uY), scalars reduced first", () => {
  const g = new FixedBaseTable(BASE_POINT), y = new FixedBaseTable(BASE_POINT.multiply(99n));
  const messages = [BASE_POINT.multiply(3n), IDENTITY];
  const s = [randomScalar(random), -1n, GROUP_ORDER + 5n], t = [0n, 7n, randomScalar(random)];
  const u = [randomScalar(random), 2n * GROUP_ORDER, 1n];
  const messageOf = [0, 1, 0];
  // t₀ = 0: a batch with the identity (the WebAssembly engine's path that looks for it),
  // then one without (its per-point loops in WebAssembly, ./curve_loops_wasm.ts).
  for (const [doubleR, t0] of [[true, 0n], [false, 0n], [true, 5n], [false, 5n]] as const) {
    t[0] = t0;
    // In WebAssembly, or with points where it is refused (wasm_fallback_test): the same bytes.
    const bytes = encodeEncryptionElements(g, y, { s, t, u, messages, messageOf, doubleR });
    const expected = [
      ...s.flatMap((k, i) => {
        const r = messages[messageOf[i]!]!.add(y.multiply(u[i]!));
        return [g.multiply(k).double(), doubleR ? r.double() : r];
      }),
      ...t.map((k) => g.multiply(k).double()),
    ];
    assert.deepEqual(bytes, packPoints(expected));
  }
  const input = { s, t, u, messages, messageOf, doubleR: true };
  assert.throws(
    () => encodeEncryptionElements(g, y, { ...input, messageOf: [0, 2, 0] }),
    (e) => e instanceof InvalidInputError && /Message index 2 of element 1/.test(e.message),
  );
  assert.throws(
    () => encodeEncryptionElements(g, y, { ...input, t: [1n] }),
    (e) => e instanceof InvalidInputError && /as many s, t, u/.test(e.message),
  );
  // Byte scalars: one at 2^253 or above is named by its list and index.
  const bytes = new Uint8Array(96), high = new Uint8Array(96);
  high[63] = 0x20;
  for (const name of ["s", "t", "u"] as const) {
    assert.throws(
      () =>
        encodeEncryptionElements(g, y, { ...input, s: bytes, t: bytes, u: bytes, [name]: high }),
      new InvalidInputError(`Encryption elements' ${name}[1] is not below 2^253`),
    );
  }
  assert.equal(scalarCount(high), 3);
  assert.equal(scalarCount([1n]), 1);
});

Deno.test("randomScalars through a scratch buffer: the same scalars and stream position, the scratch left zero", () => {
  for (const count of [1, 3, 20]) {
    const plain = seededRandom(`scratch-${count}`), drawn = seededRandom(`scratch-${count}`);
    const exact = new Uint8Array(64 * count), longer = new Uint8Array(64 * count + 100).fill(7);
    assert.deepEqual(randomScalars(count, drawn, exact), randomScalars(count, plain));
    assert.deepEqual(randomScalars(count, drawn, longer), randomScalars(count, plain));
    assert.ok(exact.every((b) => b === 0));
    assert.ok(longer.subarray(0, 64 * count).every((b) => b === 0));
    assert.ok(longer.subarray(64 * count).every((b) => b === 7)); // beyond 64·count: untouched
    assert.deepEqual(randomScalars(1, drawn), randomScalars(1, plain)); // same stream position
  }
  assert.throws(
    () => randomScalars(2, random, new Uint8Array(127)),
    (e) => e instanceof InvalidInputError && /127 bytes is too short for 2/.test(e.message),
  );
});

Deno.test("scalarsFromWide: each 64-byte block wide-reduced, through the scratch view and beyond it", () => {
  const reference = (block: Uint8Array) =>
    block.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n) % GROUP_ORDER;
  for (const blocks of [1, 2, 16, 17, 40]) { // 16 blocks fill the scratch; 17 and 40 do not fit
    const bytes = new Uint8Array(64 * blocks);
    random(bytes);
    bytes.fill(0xff, 0, 64); // the largest input
    const scalars = scalarsFromWide(bytes);
    assert.equal(scalars.length, blocks);
    scalars.forEach((s, i) => {
      const block = bytes.subarray(64 * i, 64 * i + 64);
      assert.equal(s, reference(block));
      assert.equal(scalarFromWide(block), s);
    });
    // A view into a larger buffer reads its own bytes.
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes, 8);
    assert.deepEqual(scalarsFromWide(padded.subarray(8)), scalars);
  }
});

Deno.test("encodeEncryptionElements: scalars as canonical bytes give the bytes of bigints; 2^253 and up refused", () => {
  const g = new FixedBaseTable(BASE_POINT), y = new FixedBaseTable(BASE_POINT.multiply(77n));
  const messages = [BASE_POINT.multiply(5n), IDENTITY];
  const s = [randomScalar(random), GROUP_ORDER - 1n, 0n], t = [1n, randomScalar(random), 2n];
  const u = [randomScalar(random), 3n, GROUP_ORDER - 2n];
  const messageOf = [1, 0, 0];
  for (const pairs of [true, false]) {
    allowWasmPairs(pairs);
    try {
      for (const doubleR of [true, false]) {
        const want = encodeEncryptionElements(g, y, { s, t, u, messages, messageOf, doubleR });
        const got = encodeEncryptionElements(g, y, {
          s: packScalars(s),
          t: packScalars(t),
          u: packScalars(u),
          messages,
          messageOf,
          doubleR,
        });
        assert.deepEqual(got, want, `pairs ${pairs}, doubleR ${doubleR}`);
      }
    } finally {
      allowWasmPairs(true);
    }
  }
  const high = packScalars(s);
  high[63] = 0x20; // scalar 1 at 2^253
  assert.throws(
    () =>
      encodeEncryptionElements(g, y, {
        s: high,
        t: packScalars(t),
        u: packScalars(u),
        messages,
        messageOf,
        doubleR: true,
      }),
    (e) =>
      e instanceof InvalidInputError &&
      /Encryption elements' s\[1\] is not below 2\^253/.test(e.message),
  );
  assert.throws(
    () =>
      encodeEncryptionElements(g, y, {
        s: packScalars(s),
        t: new Uint8Array(64),
        u,
        messages,
        messageOf,
        doubleR: true,
      }),
    (e) => e instanceof InvalidInputError && /as many s, t, u/.test(e.message),
  );
});

Deno.test("randomScalarsInto writes the scalars randomScalars draws, as bytes, and leaves the scratch zero", () => {
  for (const count of [1, 3, 20]) {
    const plain = seededRandom(`into-${count}`), drawn = seededRandom(`into-${count}`);
    const out = new Uint8Array(32 * count + 5).fill(9);
    const scratch = new Uint8Array(64 * count + 10);
    randomScalarsInto(out, { count, at: 5, random: drawn, scratch });
    assert.deepEqual(out.subarray(5), packScalars(randomScalars(count, plain)));
    assert.ok(out.subarray(0, 5).every((b) => b === 9));
    assert.ok(scratch.every((b) => b === 0));
    assert.deepEqual(randomScalars(1, drawn), randomScalars(1, plain)); // same stream position
  }
  assert.throws(
    () => randomScalarsInto(new Uint8Array(63), { count: 2 }),
    (e) => e instanceof InvalidInputError && /63 bytes cannot take 2 scalars/.test(e.message),
  );
  assert.throws(
    () => randomScalarsInto(new Uint8Array(64), { count: 2, scratch: new Uint8Array(127) }),
    (e) => e instanceof InvalidInputError && /127 bytes is too short for 2/.test(e.message),
  );
});
