import assert from "node:assert/strict";
import {
  decodeMsgpack,
  decodeMsgpackSequence,
  encodeMsgpack,
  readEnvelope,
  toJsonView,
} from "./envelope.ts";
import { concatBytes } from "./bytes.ts";
import { InvalidInputError } from "./errors.ts";
import { readBytes } from "./fields.ts";

const sample = { v: 1, kind: "test.thing", data: new Uint8Array([1, 2, 3]), n: 7, list: ["a"] };

Deno.test("envelopes round-trip through msgpack with bytes intact", () => {
  const back = decodeMsgpack(encodeMsgpack(sample), "sample") as Record<string, unknown>;
  assert.equal(back.kind, "test.thing");
  assert.deepEqual([...readBytes(back.data, "data")], [1, 2, 3]);
  assert.deepEqual(back.list, ["a"]);
});

Deno.test("msgpack encoding is plain maps (first byte is a fixmap), readable elsewhere", () => {
  const bytes = encodeMsgpack({ v: 1, kind: "k" });
  assert.equal(bytes[0], 0x82);
});

Deno.test("JSON view turns bytes into base64url and decodes back through readBytes", () => {
  const view = JSON.parse(JSON.stringify(toJsonView(sample)));
  assert.equal(view.data, "AQID");
  assert.deepEqual([...readBytes(view.data, "data")], [1, 2, 3]);
  assert.equal(toJsonView(5n), "5");
});

Deno.test("truncated, trailing and garbage msgpack are rejected with specific messages", () => {
  const bytes = encodeMsgpack(sample);
  assert.throws(() => decodeMsgpack(bytes.subarray(0, bytes.length - 2), "f"), /truncated/);
  assert.throws(() => decodeMsgpack(concatBytes(bytes, bytes), "f"), /one msgpack value, got 2/);
  assert.throws(() => decodeMsgpack(new Uint8Array([0x82, 0xc1]), "f"), InvalidInputError);
  assert.equal(decodeMsgpackSequence(concatBytes(bytes, bytes), "f").length, 2);
});

Deno.test("readEnvelope checks kind and version", () => {
  assert.equal(readEnvelope(sample, "test.thing").n, 7);
  assert.throws(() => readEnvelope(sample, "other"), /kind 'other', got 'test.thing'/);
  assert.throws(() => readEnvelope({ ...sample, v: 2 }, "test.thing"), /unsupported version 2/);
  assert.throws(() => readEnvelope({ kind: "test.thing" }, "test.thing"), InvalidInputError);
  assert.throws(() => readEnvelope("x", "test.thing"), InvalidInputError);
});
