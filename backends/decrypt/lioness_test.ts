import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import { lionessDecrypt, lionessEncrypt } from "./lioness.ts";

const random = seededRandom("lioness-test");

function differing(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

Deno.test("LIONESS round trips for several block sizes", () => {
  for (const size of [33, 64, 100, 1024]) {
    const key = randomBytes(128, random), block = randomBytes(size, random);
    const ct = lionessEncrypt(key, block);
    assert.notDeepEqual(ct, block);
    assert.deepEqual(lionessDecrypt(key, ct), block);
    assert.deepEqual(lionessEncrypt(key, lionessDecrypt(key, block)), block);
  }
});

Deno.test("LIONESS: one flipped ciphertext bit scrambles the whole block", () => {
  const key = randomBytes(128, random), block = new Uint8Array(256);
  const ct = lionessEncrypt(key, block);
  for (const at of [0, 31, 32, 100, 255]) {
    const bad = ct.slice();
    bad[at]! ^= 0x01;
    const pt = lionessDecrypt(key, bad);
    // Both halves change: the left 32 bytes and the right part.
    assert.ok(differing(pt.subarray(0, 32), block.subarray(0, 32)) > 24);
    assert.ok(differing(pt.subarray(32), block.subarray(32)) > 200);
  }
});

Deno.test("LIONESS: a different key gives a different block", () => {
  const block = randomBytes(64, random);
  assert.notDeepEqual(
    lionessEncrypt(randomBytes(128, random), block),
    lionessEncrypt(randomBytes(128, random), block),
  );
});

Deno.test("LIONESS rejects bad key and block lengths", () => {
  assert.throws(() => lionessEncrypt(new Uint8Array(127), new Uint8Array(64)), InvalidInputError);
  assert.throws(() => lionessDecrypt(new Uint8Array(128), new Uint8Array(32)), InvalidInputError);
});
