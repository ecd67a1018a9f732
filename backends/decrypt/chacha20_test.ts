import assert from "node:assert/strict";
import { chacha20 } from "@noble/ciphers/chacha.js";
import { toHex } from "../../core/bytes.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import { chacha20XorInPlace } from "./chacha20.ts";

const random = seededRandom("chacha20-test");

Deno.test("ChaCha20 keystream matches RFC 8439 appendix A.1 test vector 1 (zero key, nonce, counter)", () => {
  const block = new Uint8Array(64);
  chacha20XorInPlace(new Uint8Array(32), block);
  assert.equal(
    toHex(block),
    "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7" +
      "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586",
  );
});

Deno.test("ChaCha20 equals @noble/ciphers for every length up to 5 blocks and the largest", () => {
  const lengths = [...Array.from({ length: 5 * 64 + 2 }, (_, i) => i), 992, 65504];
  for (const length of lengths) {
    const key = randomBytes(32, random), data = new Uint8Array(length).fill(0x3c);
    data.set(randomBytes(Math.min(length, 400), random));
    const expected = chacha20(key, new Uint8Array(12), data);
    chacha20XorInPlace(key, data);
    assert.deepEqual(data, expected, `${length} bytes`);
  }
});
