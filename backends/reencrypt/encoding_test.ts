import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import {
  decodeInteger,
  embedBytes,
  embeddedLength,
  encodeInteger,
  extractBytes,
  extractEncodedBytes,
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

Deno.test("embeddedLength reads in place what extractEncodedBytes reads, at any offset", () => {
  for (let n = 0; n <= 30; n++) {
    const message = crypto.getRandomValues(new Uint8Array(n));
    const bytes = embedBytes(message).toBytes();
    // The same encoding inside a larger buffer, at an offset.
    const framed = new Uint8Array(40);
    framed.set(bytes, 5);
    assert.equal(embeddedLength(bytes), extractEncodedBytes(bytes).length);
    assert.equal(embeddedLength(framed, 5), n);
    assert.deepEqual(framed.subarray(6, 6 + n), message);
  }
  // No message: a length byte over 30, non-zero padding, too few bytes after the offset.
  const long = new Uint8Array(32);
  long[31] = 31;
  const padded = embedBytes(new Uint8Array([1])).toBytes();
  padded[20] = 1;
  for (const bytes of [long, padded]) {
    assert.equal(embeddedLength(bytes), -1);
    assert.throws(() => extractEncodedBytes(bytes), InvalidInputError);
  }
  assert.equal(embeddedLength(new Uint8Array(40), 9), -1);
});
