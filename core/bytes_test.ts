import assert from "node:assert/strict";
import {
  concatBytes,
  constantTimeEqual,
  fromBase64Url,
  fromHex,
  joinBytes,
  toBase64Url,
  toHex,
} from "./bytes.ts";
import { InvalidInputError } from "./errors.ts";
import { seededRandom } from "./random.ts";

Deno.test("base64url matches RFC 4648 test vectors (unpadded, url alphabet)", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "Zg"],
    ["fo", "Zm8"],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg"],
    ["fooba", "Zm9vYmE"],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [plain, encoded] of vectors) {
    assert.equal(toBase64Url(new TextEncoder().encode(plain)), encoded);
    assert.equal(new TextDecoder().decode(fromBase64Url(encoded, "v")), plain);
  }
  assert.equal(toBase64Url(new Uint8Array([0xfb, 0xff])), "-_8");
});

Deno.test("base64url and hex round-trip random bytes of many lengths", () => {
  const random = seededRandom("bytes");
  for (let len = 0; len < 70; len++) {
    const b = new Uint8Array(len);
    random(b);
    assert.deepEqual(fromBase64Url(toBase64Url(b), "x"), b);
    assert.deepEqual(fromHex(toHex(b), "x"), b);
  }
  const big = new Uint8Array(100_000);
  random(big);
  assert.deepEqual(fromBase64Url(toBase64Url(big), "big"), big);
});

Deno.test("malformed base64url and hex are rejected naming the value", () => {
  assert.throws(() => fromBase64Url("ab+c", "field x"), /field x/);
  assert.throws(() => fromBase64Url("a", "y"), InvalidInputError);
  assert.throws(() => fromHex("abc", "h"), InvalidInputError);
  assert.throws(() => fromHex("zz", "h"), InvalidInputError);
});

Deno.test("concatBytes and constantTimeEqual", () => {
  const joined = concatBytes(new Uint8Array([1, 2]), new Uint8Array(), new Uint8Array([3]));
  assert.deepEqual([...joined], [1, 2, 3]);
  assert.ok(constantTimeEqual(joined, new Uint8Array([1, 2, 3])));
  assert.ok(!constantTimeEqual(joined, new Uint8Array([1, 2, 4])));
  assert.ok(!constantTimeEqual(joined, new Uint8Array([1, 2])));
});

Deno.test("joinBytes joins more parts than a call could take as spread arguments", () => {
  const parts = Array.from({ length: 1_000_000 }, (_, i) => new Uint8Array([i & 0xff]));
  const joined = joinBytes(parts);
  assert.equal(joined.length, 1_000_000);
  assert.equal(joined[999_999], 999_999 & 0xff);
  assert.deepEqual(
    concatBytes(new Uint8Array([1]), new Uint8Array([2, 3])),
    joinBytes([new Uint8Array([1]), new Uint8Array([2, 3])]),
  );
});
