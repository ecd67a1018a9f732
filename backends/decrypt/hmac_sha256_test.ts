import assert from "node:assert/strict";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../../core/bytes.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import { HmacSha256 } from "./hmac_sha256.ts";

const random = seededRandom("hmac-sha256-test");
const encoder = new TextEncoder();

Deno.test("HMAC-SHA256 matches RFC 4231 test case 2", () => {
  const mac = new HmacSha256(encoder.encode("Jefe")).digest([
    encoder.encode("what do ya want "),
    encoder.encode("for nothing?"),
  ]);
  assert.equal(toHex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
});

Deno.test("HMAC-SHA256 equals @noble/hashes for message lengths across block boundaries", () => {
  for (const keyLength of [0, 30, 32, 64, 65, 131]) {
    const key = randomBytes(keyLength, random), mac = new HmacSha256(key);
    for (let length = 0; length <= 3 * 64 + 1; length++) {
      const message = randomBytes(length, random), cut = length >> 1;
      assert.deepEqual(
        mac.digest([message.subarray(0, cut), message.subarray(cut)]),
        hmac(sha256, key, message),
        `key ${keyLength} bytes, message ${length} bytes`,
      );
    }
  }
});

Deno.test("HMAC-SHA256 equals @noble/hashes for a header MAC and a message over 64 KiB", () => {
  const key = randomBytes(32, random), mac = new HmacSha256(key);
  const header = randomBytes(482, random), long = new Uint8Array(70000).fill(0x5c);
  assert.deepEqual(mac.digest([header]), hmac(sha256, key, header));
  assert.deepEqual(mac.digest([long]), hmac(sha256, key, long));
  // A keyed instance gives the same MAC again after other keys were used.
  new HmacSha256(randomBytes(32, random)).digest([header]);
  assert.deepEqual(mac.digest([header]), hmac(sha256, key, header));
});
