import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import {
  decodeInteger,
  embedBytes,
  encodeInteger,
  extractBytes,
  MAX_EMBED_BYTES,
} from "./encoding.ts";
import { BASE_POINT } from "./group.ts";

Deno.test("byte embedding round-trips every length 0..30", () => {
  const random = seededRandom("embedding");
  for (let len = 0; len <= MAX_EMBED_BYTES; len++) {
    const data = randomBytes(len, random);
    assert.deepEqual(extractBytes(embedBytes(data)), data);
  }
});

Deno.test("byte embedding is injective on trailing zeros and rejects long messages", () => {
  const a = embedBytes(new Uint8Array([1]));
  const b = embedBytes(new Uint8Array([1, 0]));
  assert.ok(!a.equals(b));
  assert.throws(() => embedBytes(new Uint8Array(31)), InvalidInputError);
});

Deno.test("integers round-trip and out-of-range values are refused", () => {
  for (const v of [0, 1, 2, 255, 65536, 0xffffffff]) {
    assert.equal(decodeInteger(encodeInteger(v)), v);
  }
  assert.throws(() => encodeInteger(-1), /cannot be encoded/);
  assert.throws(() => encodeInteger(2 ** 32), InvalidInputError);
  assert.throws(() => encodeInteger(1.5), InvalidInputError);
  assert.throws(() => decodeInteger(embedBytes(new Uint8Array(3))), InvalidInputError);
});

Deno.test("arbitrary elements are reported as not embedding a message", () => {
  assert.throws(() => extractBytes(BASE_POINT), InvalidInputError);
});
