import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import { randomBytes, seededRandom } from "../../core/random.ts";
import { wasmModuleStatus } from "../../core/wasm_module.ts";
import { edwardsFromU } from "./edwards_table.ts";
import {
  TABLE_SLOTS,
  wasmX25519Available,
  x25519Wasm as x25519WasmOrUndefined,
  x25519WasmBase,
  x25519WasmBasePair,
  x25519WasmMany,
} from "./x25519_wasm.ts";

const random = seededRandom("x25519-wasm-test");
const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
// The ladder with its low-order answer (undefined) written as RFC 7748's all-zero result.
const x25519Wasm = (k: Uint8Array, u: Uint8Array) =>
  x25519WasmOrUndefined(k, u) ?? new Uint8Array(32);
const NINE = new Uint8Array(32);
NINE[0] = 9;

// noble's answer, with its low-order rejection mapped to the all-zero result.
function reference(k: Uint8Array, u: Uint8Array): string {
  try {
    return toHex(x25519.scalarMult(k, u));
  } catch {
    return "00".repeat(32);
  }
}

Deno.test("the X25519 module compiles and runs in WebAssembly under Deno", () => {
  assert.equal(wasmX25519Available(), true);
  assert.equal(wasmModuleStatus().x25519, true);
});

Deno.test("ladder: RFC 7748 §5.2 vectors", () => {
  const vectors = [
    [
      "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
      "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
      "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    ],
    [
      // u has bit 255 set: it must be ignored.
      "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
      "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
      "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
    ],
  ];
  for (const [k, u, out] of vectors) assert.equal(toHex(x25519Wasm(fromHex(k!), fromHex(u!))), out);
});

Deno.test("ladder: RFC 7748 §5.2 iterated vector, 1 and 1,000 iterations", () => {
  let k: Uint8Array = NINE.slice(), u: Uint8Array = NINE.slice();
  for (let i = 1; i <= 1000; i++) {
    const r = x25519Wasm(k, u);
    u = k;
    k = r;
    if (i === 1) {
      assert.equal(toHex(k), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
  }
  assert.equal(toHex(k), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
});

Deno.test("ladder agrees with noble on random points of the curve and of its twist", () => {
  for (let i = 0; i < 40; i++) {
    const k = randomBytes(32, random), u = randomBytes(32, random);
    assert.equal(toHex(x25519Wasm(k, u)), reference(k, u));
  }
});

Deno.test("ladder gives zero for low-order points and reduces non-canonical u", () => {
  const k = randomBytes(32, random);
  const one = new Uint8Array(32);
  one[0] = 1;
  assert.equal(toHex(x25519Wasm(k, new Uint8Array(32))), "00".repeat(32));
  assert.equal(toHex(x25519Wasm(k, one)), "00".repeat(32));
  // p + 9 = 2^255 − 10 reads as 9.
  const pPlus9 = new Uint8Array(32).fill(0xff);
  pPlus9[0] = 0xf6;
  pPlus9[31] = 0x7f;
  assert.equal(toHex(x25519Wasm(k, pPlus9)), toHex(x25519.scalarMult(k, NINE)));
});

Deno.test("a batch of ladders shares inversions and still gives each answer, zeros included", () => {
  // 151 entries: two batches of 64 and one of 23 (pairs of ladders on the SIMD lanes, then one
  // ladder over both lanes); some low-order points in the middle.
  const scalars: Uint8Array[] = [], points: Uint8Array[] = [];
  for (let i = 0; i < 151; i++) {
    scalars.push(randomBytes(32, random));
    points.push(i % 37 === 5 ? new Uint8Array(32) : randomBytes(32, random));
  }
  const got = x25519WasmMany(scalars, points);
  assert.equal(got.length, 151);
  got.forEach((out, i) => {
    const want = reference(scalars[i]!, points[i]!);
    if (want === "00".repeat(32)) assert.equal(out, undefined, `entry ${i}`);
    else assert.equal(toHex(out!), want, `entry ${i}`);
  });
  assert.throws(() => x25519WasmMany([NINE], []), RangeError);
});

Deno.test("fixed-base multiplication equals X25519(k, 9) for random and edge scalars", () => {
  const scalars: Uint8Array[] = [new Uint8Array(32), new Uint8Array(32).fill(0xff)];
  for (let i = 0; i < 40; i++) scalars.push(randomBytes(32, random));
  for (const k of scalars) assert.equal(toHex(x25519WasmBase(k)), toHex(x25519.getPublicKey(k)));
});

Deno.test("a node key gets a table after a few uses; the pair equals two X25519 calls", () => {
  const y = x25519.getPublicKey(randomBytes(32, random));
  let tabulated = 0;
  // Random scalars, then edge ones: all digits zero but the clamped bits, all bits set.
  const scalars = Array.from({ length: 12 }, () => randomBytes(32, random));
  scalars.push(new Uint8Array(32), new Uint8Array(32).fill(0xff), new Uint8Array(32).fill(0x88));
  for (const k of scalars) {
    const pair = x25519WasmBasePair(k, y);
    if (pair === undefined) continue;
    tabulated++;
    assert.equal(toHex(pair[0]), toHex(x25519.getPublicKey(k)));
    assert.equal(toHex(pair[1]), toHex(x25519.scalarMult(k, y)));
  }
  assert.ok(tabulated >= 11, `tabulated ${tabulated} of 15`);
});

Deno.test("tables: twist points never get one, low-order points give zero, eviction keeps results", () => {
  // A u on the twist has no Edwards image: the pair is refused every time.
  let twist: Uint8Array;
  do twist = randomBytes(32, random); while (edwardsFromU(twist) !== undefined);
  for (let i = 0; i < 6; i++) {
    assert.equal(x25519WasmBasePair(randomBytes(32, random), twist), undefined);
  }
  // Order 2 (u = 0): X25519 gives zero.
  const zero = new Uint8Array(32);
  let pair: [Uint8Array, Uint8Array] | undefined;
  for (let i = 0; i < 6 && pair === undefined; i++) {
    pair = x25519WasmBasePair(randomBytes(32, random), zero);
  }
  assert.ok(pair);
  assert.equal(toHex(pair[1]), "00".repeat(32));
  // More keys than slots: every answer stays right whether or not a key has a table.
  const keys = Array.from(
    { length: TABLE_SLOTS + 2 },
    () => x25519.getPublicKey(randomBytes(32, random)),
  );
  for (let round = 0; round < 5; round++) {
    for (const y of keys) {
      const k = randomBytes(32, random);
      const got = x25519WasmBasePair(k, y);
      if (got !== undefined) assert.equal(toHex(got[1]), toHex(x25519.scalarMult(k, y)));
    }
  }
  // With every slot taken, a key used far more often than the others still gets one (by
  // evicting the least recently used), and it is right.
  const hot = x25519.getPublicKey(randomBytes(32, random));
  let tabled = 0;
  for (let i = 0; i < 80; i++) {
    const k = randomBytes(32, random);
    const got = x25519WasmBasePair(k, hot);
    if (got === undefined) continue;
    tabled++;
    assert.equal(toHex(got[1]), toHex(x25519.scalarMult(k, hot)));
  }
  assert.ok(tabled > 40, `the hot key had a table for ${tabled} of 80 uses`);
});
