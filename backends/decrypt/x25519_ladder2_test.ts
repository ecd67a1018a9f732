import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import { addField25519, FE_BYTES, FIELD_SCRATCH_BYTES } from "../../core/field25519.ts";
import { addField25519x2 } from "../../core/field25519x2.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import { WasmModuleBuilder } from "../../core/wasm_module.ts";
import { addLadder2, LADDER2_SCRATCH_BYTES } from "./x25519_ladder2.ts";

const m = new WasmModuleBuilder(1);
const field = addField25519(m, 0);
addLadder2(m, field, addField25519x2(m), FIELD_SCRATCH_BYTES);
const instance = m.instantiate("x25519-ladder2-test");
assert.ok(instance);
const fn = instance.exports, mem = instance.memory;
const IO = FIELD_SCRATCH_BYTES + LADDER2_SCRATCH_BYTES;
const [KA, UA, KB, UB] = [IO, IO + 40, IO + 80, IO + 120];
const at = (k: number) => IO + 160 + k * FE_BYTES;
const XA = at(0), ZA = at(1), XB = at(2), ZB = at(3), OUT = at(4);

function clamp(k: Uint8Array): Uint8Array {
  const c = k.slice();
  c[0]! &= 248, c[31]! &= 127, c[31]! |= 64; // RFC 7748 §5 decodeScalar25519
  return c;
}
function ladder2(
  ka: Uint8Array,
  ua: Uint8Array,
  kb: Uint8Array,
  ub: Uint8Array,
): [Uint8Array, Uint8Array] {
  mem.set(clamp(ka), KA), mem.set(ua, UA), mem.set(clamp(kb), KB), mem.set(ub, UB);
  fn.ladder2!(KA, UA, KB, UB, XA, ZA, XB, ZB);
  const result = (x: number, z: number) => {
    fn.fe_invert!(z, z);
    fn.fe_mul!(x, x, z);
    fn.fe_to_bytes!(OUT, x);
    return mem.slice(OUT, OUT + 32);
  };
  return [result(XA, ZA), result(XB, ZB)];
}
const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));

Deno.test("two ladders at once give RFC 7748 §5.2's vectors in either lane", () => {
  const k1 = hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
  const u1 = hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
  const r1 = "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552";
  const k2 = hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
  const u2 = hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
  const r2 = "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957";
  const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  const [a, b] = ladder2(k1, u1, k2, u2);
  assert.deepEqual([toHex(a), toHex(b)], [r1, r2]);
  const [c, d] = ladder2(k2, u2, k1, u1);
  assert.deepEqual([toHex(c), toHex(d)], [r2, r1]);
});

Deno.test("two ladders at once match @noble/curves for random scalars and points", () => {
  const random = seededRandom("x25519_ladder2_test");
  for (let i = 0; i < 40; i++) {
    const [ka, kb] = [randomBytes(32, random), randomBytes(32, random)];
    const ua = x25519.getPublicKey(randomBytes(32, random));
    const ub = i % 5 === 0 ? ua : randomBytes(32, random); // equal points and any 32 bytes
    const [a, b] = ladder2(ka, ua, kb, ub);
    assert.deepEqual([a, b], [x25519.getSharedSecret(ka, ua), x25519.getSharedSecret(kb, ub)]);
  }
});
