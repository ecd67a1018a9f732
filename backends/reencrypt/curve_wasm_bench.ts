// The WebAssembly group engine against the bigint code it replaced (@noble/curves and the
// former tables of group.ts), one operation at a time, and the field underneath it.
// Run: deno bench --allow-all backends/reencrypt/curve_wasm_bench.ts
import { pippenger } from "@noble/curves/abstract/curve.js";
import { ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { addField25519 } from "../../core/field25519.ts";
import { addField25519x2 } from "../../core/field25519x2.ts";
import { WasmModuleBuilder } from "../../core/wasm_module.ts";
import {
  allowWasmPairs,
  wasmDecode,
  wasmDecodeMany,
  wasmDeriveToCurve,
  wasmEncode,
  wasmEncodeMany,
  wasmFixedMul,
  wasmFixedMulMany,
  wasmMsm,
  wasmMsmEncoded,
  wasmMulMany,
  wasmVarMul,
} from "./curve_wasm.ts";

const G = ristretto255.Point.BASE;
const N = 256;
const scalars = Array.from(
  { length: N },
  (_, i) => (BigInt(i + 12345) ** 29n) % ristretto255.Point.Fn.ORDER,
);
const points = scalars.map((k) => G.multiply(k));
const coordinates = points.map((p) =>
  (p as unknown as { ep: { X: bigint; Y: bigint; Z: bigint; T: bigint } }).ep
);
const encodings = points.map((p) => p.toBytes());
const uniform = encodings.map((b) => new Uint8Array([...b, ...b]));
const out = new Uint8Array(32);
const owner = {};
let i = 0;
const next = () => (i = (i + 1) % N);

Deno.bench("decode, noble", { group: "decode", baseline: true }, () => {
  ristretto255.Point.fromBytes(encodings[next()]!);
});
Deno.bench("decode, wasm", { group: "decode" }, () => {
  wasmDecode(encodings[next()]!);
});
Deno.bench("encode, noble", { group: "encode", baseline: true }, () => {
  points[next()]!.toBytes();
});
Deno.bench("encode, wasm", { group: "encode" }, () => {
  wasmEncode(coordinates[next()]!, out, 0);
});
Deno.bench(
  "variable-base multiply, noble (constant time)",
  { group: "multiply", baseline: true },
  () => {
    points[next()]!.multiply(scalars[i]! || 1n);
  },
);
Deno.bench("variable-base multiply, wasm (constant-time table scan)", { group: "multiply" }, () => {
  wasmVarMul(coordinates[next()]!, scalars[i]!);
});
Deno.bench(
  "fixed-base multiply, noble precomputed base",
  { group: "fixed", baseline: true },
  () => {
    G.multiply(scalars[next()]! || 1n);
  },
);
Deno.bench("fixed-base multiply, wasm table", { group: "fixed" }, () => {
  wasmFixedMul(owner, coordinates[0]!, scalars[next()]!);
});
Deno.bench(
  `multi-scalar multiplication of ${N} terms, noble`,
  { group: "msm", baseline: true },
  () => {
    pippenger(ristretto255.Point, points, scalars);
  },
);
Deno.bench(`multi-scalar multiplication of ${N} terms, wasm`, { group: "msm" }, () => {
  wasmMsm(coordinates, scalars);
});
Deno.bench("element derivation (hash to group), noble", { group: "derive", baseline: true }, () => {
  ristretto255_hasher.deriveToCurve!(uniform[next()]!);
});
Deno.bench("element derivation (hash to group), wasm", { group: "derive" }, () => {
  wasmDeriveToCurve(uniform[next()]!);
});

// Batches of N (divide by N for µs per element): decryption shares (decode, multiply by one
// secret scalar, encode), decoding and encoding, one element at a time and in SIMD pairs.
const packed = new Uint8Array(32 * N);
encodings.forEach((b, k) => packed.set(b, 32 * k));
const secret = scalars[7]!;
const shares = new Uint8Array(32 * N);
Deno.bench(`${N} shares x·P, one at a time (decode, multiply, encode)`, {
  group: "shares",
  baseline: true,
}, () => {
  for (let k = 0; k < N; k++) {
    wasmEncode(wasmVarMul(wasmDecode(encodings[k]!)!, secret)!, shares, 32 * k);
  }
});
Deno.bench(`${N} shares x·P, SIMD pairs (wasmMulMany)`, { group: "shares" }, () => {
  wasmMulMany(packed, secret);
});
Deno.bench(`decode ${N}, one at a time`, { group: "decode many", baseline: true }, () => {
  for (let k = 0; k < N; k++) wasmDecode(encodings[k]!);
});
Deno.bench(`decode ${N}, SIMD pairs (wasmDecodeMany)`, { group: "decode many" }, () => {
  wasmDecodeMany(packed);
});
Deno.bench(`encode ${N}, one at a time`, { group: "encode many", baseline: true }, () => {
  for (let k = 0; k < N; k++) wasmEncode(coordinates[k]!, shares, 32 * k);
});
Deno.bench(`encode ${N}, SIMD pairs (wasmEncodeMany)`, { group: "encode many" }, () => {
  wasmEncodeMany(coordinates, shares);
});

Deno.bench(`fixed-base ${N} scalars, one at a time`, {
  group: "fixed many",
  baseline: true,
}, () => {
  for (let k = 0; k < N; k++) wasmFixedMul(owner, coordinates[0]!, scalars[k]!);
});
Deno.bench(
  `fixed-base ${N} scalars, SIMD pairs (wasmFixedMulMany)`,
  { group: "fixed many" },
  () => {
    wasmFixedMulMany(owner, coordinates[0]!, scalars);
  },
);

// The verifier's multi-exponentiation straight from encodings (decoding included), with the
// SIMD pairs turned off (one lane) and on (decoding and buckets in pairs).
const scalarBytes = new Uint8Array(32 * N);
scalars.forEach((k, j) => {
  for (let b = 0; b < 32; b++) scalarBytes[32 * j + b] = Number((k >> BigInt(8 * b)) & 0xffn);
});
Deno.bench(`multi-exponentiation of ${N} encoded terms, one lane`, {
  group: "msm encoded",
  baseline: true,
}, () => {
  allowWasmPairs(false);
  wasmMsmEncoded(packed, scalarBytes);
  allowWasmPairs(true);
});
Deno.bench(
  `multi-exponentiation of ${N} encoded terms, SIMD pairs`,
  { group: "msm encoded" },
  () => {
    wasmMsmEncoded(packed, scalarBytes);
  },
);

// The field: single elements and SIMD pairs.
const m = new WasmModuleBuilder(1);
addField25519(m, 0);
addField25519x2(m);
const field = m.instantiate("field-bench")!.exports;
const [A, B, PA, PB] = [1024, 1104, 1184, 1264];
field.fe_from_bytes!(A, 2048), field.fe_from_bytes!(B, 2048);
field.fe2_from_singles!(PA, A, B), field.fe2_from_singles!(PB, A, B);
Deno.bench("field: 1,000 multiplications", { group: "field", baseline: true }, () => {
  for (let k = 0; k < 1000; k++) field.fe_mul!(A, A, B);
});
Deno.bench("field: 1,000 pair multiplications (2,000 products)", { group: "field" }, () => {
  for (let k = 0; k < 1000; k++) field.fe2_mul!(PA, PA, PB);
});
Deno.bench("field: 1,000 squarings", { group: "field" }, () => {
  for (let k = 0; k < 1000; k++) field.fe_sq!(A, A);
});
Deno.bench("field: 1,000 pair squarings (2,000 squares)", { group: "field" }, () => {
  for (let k = 0; k < 1000; k++) field.fe2_sq!(PA, PA);
});
Deno.bench("field: inverse square root exponent (2^252 − 3)", { group: "pow" }, () => {
  field.fe_pow22523!(A, B);
});
