import assert from "node:assert/strict";
import { blake2b } from "@noble/hashes/blake2.js";
import { randomBytes, seededRandom } from "../../core/random.ts";
import { keyedBlake2b256 } from "./blake2b.ts";

const random = seededRandom("blake2b-test");

Deno.test("keyed BLAKE2b-256 equals @noble/hashes for every length up to 4 blocks", () => {
  for (let length = 0; length <= 4 * 128 + 1; length++) {
    const key = randomBytes(32, random), message = randomBytes(length, random);
    assert.deepEqual(keyedBlake2b256(key, message), blake2b(message, { key, dkLen: 32 }));
  }
});

Deno.test("keyed BLAKE2b-256 equals @noble/hashes at LIONESS sizes up to the largest", () => {
  for (const length of [992, 2016, 65504]) {
    const key = randomBytes(32, random), message = new Uint8Array(length).fill(0xa7);
    message.set(randomBytes(64, random));
    assert.deepEqual(keyedBlake2b256(key, message), blake2b(message, { key, dkLen: 32 }));
  }
});

Deno.test("keyed BLAKE2b-256: the key and every message byte change the digest", () => {
  const key = randomBytes(32, random), message = randomBytes(300, random);
  const digest = keyedBlake2b256(key, message);
  for (const at of [0, 127, 128, 299]) {
    const changed = message.slice();
    changed[at]! ^= 1;
    assert.notDeepEqual(keyedBlake2b256(key, changed), digest);
  }
  const otherKey = key.slice();
  otherKey[31]! ^= 0x80;
  assert.notDeepEqual(keyedBlake2b256(otherKey, message), digest);
  // State does not leak from one call into the next.
  assert.deepEqual(keyedBlake2b256(key, message), digest);
});
