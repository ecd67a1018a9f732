import assert from "node:assert/strict";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { randomBytes, seededRandom } from "../../core/random.ts";
import { edwardsAffineBytes, edwardsFromU, TWO_D_BYTES } from "./edwards_table.ts";

const random = seededRandom("edwards-table-test");
const Fp = ed25519.Point.Fp;

Deno.test("u = 9 maps to ± the Ed25519 base point (RFC 7748 §4.1)", () => {
  const nine = new Uint8Array(32);
  nine[0] = 9;
  const point = edwardsFromU(nine);
  assert.ok(point);
  const base = ed25519.Point.BASE;
  assert.ok(point.equals(base) || point.equals(base.negate()));
});

Deno.test("node keys map to points whose u-coordinate is the key; twist points and u = −1 do not", () => {
  for (let i = 0; i < 10; i++) {
    const key = x25519.getPublicKey(randomBytes(32, random));
    const point = edwardsFromU(key);
    assert.ok(point);
    const bytes = edwardsAffineBytes(point);
    let y = 0n;
    for (let j = 63; j >= 32; j--) y = (y << 8n) | BigInt(bytes[j]!);
    let u = 0n;
    for (let j = 31; j >= 0; j--) u = (u << 8n) | BigInt(key[j]!);
    assert.equal(Fp.div(Fp.add(1n, y), Fp.sub(1n, y)), u); // RFC 7748 §4.1
  }
  let twist = 0;
  for (let i = 0; i < 20; i++) if (edwardsFromU(randomBytes(32, random)) === undefined) twist++;
  assert.ok(twist > 0 && twist < 20, `about half of random u are on the twist, got ${twist}`);
  const minusOne = new Uint8Array(32).fill(0xff);
  minusOne[0] = 0xec;
  minusOne[31] = 0x7f;
  assert.equal(edwardsFromU(minusOne), undefined);
  let twoD = 0n;
  for (let j = 31; j >= 0; j--) twoD = (twoD << 8n) | BigInt(TWO_D_BYTES[j]!);
  assert.equal(twoD, Fp.mul(2n, ed25519.Point.CURVE().d));
});
