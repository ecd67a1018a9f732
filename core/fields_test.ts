import assert from "node:assert/strict";
import { readArray, readBytes, readInteger, readNumber, readRecord, readString } from "./fields.ts";
import { InvalidInputError } from "./errors.ts";

Deno.test("readBytes accepts bytes and base64url, enforces lengths", () => {
  assert.deepEqual([...readBytes(new Uint8Array([1, 2]), "b", { length: 2 })], [1, 2]);
  assert.deepEqual([...readBytes("AQI", "b", { length: 2 })], [1, 2]);
  assert.throws(
    () => readBytes("AQI", "item 3.c", { length: 3 }),
    /item 3.c' must be 3 bytes, got 2/,
  );
  assert.throws(() => readBytes("AQID", "b", { maxLength: 2 }), /at most 2 bytes/);
  assert.throws(() => readBytes(5, "b"), InvalidInputError);
});

Deno.test("readInteger enforces integrality and range", () => {
  assert.equal(readInteger(4, "n", { min: 1, max: 5 }), 4);
  assert.throws(() => readInteger(6, "n", { max: 5 }), /between 0 and 5, got 6/);
  assert.throws(() => readInteger(1.5, "n"), InvalidInputError);
  assert.throws(() => readInteger("1", "n"), InvalidInputError);
  assert.throws(() => readInteger(-1, "n"), InvalidInputError);
});

Deno.test("readRecord, readArray, readString and readNumber reject wrong types", () => {
  assert.deepEqual(readRecord({ a: 1 }, "r"), { a: 1 });
  for (const bad of [null, [], new Uint8Array(1), "x", 3]) {
    assert.throws(() => readRecord(bad, "r"), InvalidInputError);
  }
  assert.equal(readArray([1, 2], "a", { minLength: 1, maxLength: 2 }).length, 2);
  assert.throws(() => readArray([], "a", { minLength: 1 }), /at least 1/);
  assert.throws(() => readArray([1, 2, 3], "a", { maxLength: 2 }), /at most 2/);
  assert.throws(() => readArray({}, "a"), InvalidInputError);
  assert.equal(readString("s", "s"), "s");
  assert.throws(() => readString(1, "s"), InvalidInputError);
  assert.equal(readNumber(0.25, "x"), 0.25);
  assert.throws(() => readNumber(Number.NaN, "x"), InvalidInputError);
  assert.throws(() => readNumber(Infinity, "x"), InvalidInputError);
});
