import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import { addField25519, FE_BYTES, FIELD_SCRATCH_BYTES } from "../../core/field25519.ts";
import { addField25519x2 } from "../../core/field25519x2.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import { WasmModuleBuilder } from "../../core/wasm_module.ts";
import { addLadderLanes, LADDER_LANES_SCRATCH_BYTES } from "./x25519_ladder_lanes.ts";

const m = new WasmModuleBuilder(1);
const field = addField25519(m, 0);
addLadderLanes(m, { field, pair: addField25519x2(m) }, FIELD_SCRATCH_BYTES);
const instance = m.instantiate("x25519-ladder-lanes-test");
assert.ok(instance);
const fn = instance.exports, mem = instance.memory;
const IO = FIELD_SCRATCH_BYTES + LADDER_LANES_SCRATCH_BYTES;
const K = IO, U = IO + 40, X = IO + 80, Z = X + FE_BYTES, OUT = Z + FE_BYTES;

// X25519(k, u) through the ladder, then x·z^(p−2) with the field functions (RFC 7748 §5).
function ladder(k: Uint8Array, u: Uint8Array): Uint8Array {
  const c = k.slice();
  c[0]! &= 248, c[31]! &= 127, c[31]! |= 64; // decodeScalar25519
  mem.set(c, K), mem.set(u, U);
  fn.ladderLanes!(K, U, X, Z);
  fn.fe_invert!(Z, Z);
  fn.fe_mul!(X, X, Z);
  fn.fe_to_bytes!(OUT, X);
  return mem.slice(OUT, OUT + 32);
}
const fromHex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("one ladder over two lanes gives RFC 7748 §5.2's vectors", () => {
  assert.equal(
    toHex(ladder(
      fromHex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
      fromHex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
    )),
    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
  );
  assert.equal(
    toHex(ladder(
      fromHex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
      fromHex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
    )),
    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
  );
});

Deno.test("one ladder over two lanes matches @noble/curves on the curve, the twist and low order", () => {
  const random = seededRandom("x25519_ladder_lanes_test");
  for (let i = 0; i < 40; i++) {
    const k = randomBytes(32, random);
    // Public keys (on the curve), then any 32 bytes (half on the twist).
    const u = i % 2 === 0 ? x25519.getPublicKey(randomBytes(32, random)) : randomBytes(32, random);
    assert.deepEqual(ladder(k, u), x25519.scalarMult(k, u));
  }
  // u = 0 and u = 1 have low order: X25519 is zero.
  const one = new Uint8Array(32);
  one[0] = 1;
  assert.deepEqual(ladder(randomBytes(32, random), one), new Uint8Array(32));
  assert.deepEqual(ladder(randomBytes(32, random), new Uint8Array(32)), new Uint8Array(32));
});
