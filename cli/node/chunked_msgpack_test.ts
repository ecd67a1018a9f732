import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { decodeMapInSlices, MAX_CHUNKED_VALUE_BYTES, msgpackValueEnd } from "./chunked_msgpack.ts";

const manyKeys = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
const samples: unknown[] = [
  0,
  1,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 32,
  2 ** 40,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 40),
  0.5,
  1e300,
  null,
  true,
  false,
  "",
  "a",
  "x".repeat(31),
  "x".repeat(32),
  "é".repeat(200),
  "y".repeat(70_000),
  new Uint8Array(0),
  new Uint8Array(3),
  new Uint8Array(300),
  new Uint8Array(70_000),
  [],
  [1, [2, [3]]],
  Array.from({ length: 20 }, (_, i) => i),
  Array.from({ length: 70_000 }, () => 0),
  {},
  { a: { b: [1, { c: new Uint8Array(2) }] } },
  manyKeys,
];

Deno.test("msgpackValueEnd finds the end of every kind of value", () => {
  for (const value of samples) {
    const bytes = encodeMsgpack(value);
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes);
    assert.equal(
      msgpackValueEnd(padded, 0, "v"),
      bytes.length,
      `end of ${JSON.stringify(value)?.slice(0, 40)}`,
    );
    if (bytes.length > 1) {
      assert.throws(
        () => msgpackValueEnd(bytes.subarray(0, bytes.length - 1), 0, "v"),
        InvalidInputError,
      );
    }
  }
  assert.throws(() => msgpackValueEnd(new Uint8Array([0xc1]), 0, "v"), /not valid msgpack/);
});

Deno.test("a map decoded in slices equals the whole decode; arrays are announced first", async () => {
  const value = {
    v: 1,
    kind: "node.inputs",
    items: samples,
    proofs: samples.slice(0, 5),
    ...manyKeys,
  };
  const bytes = encodeMsgpack(value);
  const announced: [string, number][] = [];
  const sliced = await decodeMapInSlices(bytes, "body", {
    chunk: 3,
    onArray: (key, n) => announced.push([key, n]),
  });
  assert.deepEqual(sliced, decodeMsgpack(bytes, "body"));
  assert.deepEqual(announced, [["items", samples.length], ["proofs", 5]]);
  // The announcement may refuse before anything of the array is decoded.
  await assert.rejects(
    decodeMapInSlices(bytes, "body", {
      onArray: () => {
        throw new InvalidInputError("quota");
      },
    }),
    /quota/,
  );
});

Deno.test("slices yield to the event loop; malformed and oversized bodies are refused", async () => {
  const bytes = encodeMsgpack({ items: Array.from({ length: 10_000 }, (_, i) => ({ v: 1, i })) });
  let ticks = 0;
  let running = true;
  const tick = () => {
    ticks++;
    if (running) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  const decoded = await decodeMapInSlices(bytes, "body", { chunk: 1000 });
  running = false;
  assert.equal((decoded.items as unknown[]).length, 10_000);
  assert.ok(ticks >= 5, `${ticks} timer turns ran during the decode`);
  const refused = async (b: Uint8Array, pattern: RegExp) =>
    await assert.rejects(
      decodeMapInSlices(b, "body"),
      (e) => e instanceof InvalidInputError && pattern.test(e.message),
    );
  await refused(encodeMsgpack([1, 2]), /must be a msgpack map/);
  await refused(bytes.subarray(0, bytes.length - 2), /truncated/);
  await refused(new Uint8Array([...encodeMsgpack({ a: 1 }), 0]), /trailing bytes/);
  await refused(new Uint8Array([0x81, 0x01, 0x01]), /not a field name/);
  await refused(new Uint8Array([0x81, 0xa1, 0x61, 0xdd, 0xff, 0xff, 0xff, 0xff]), /truncated/);
  await refused(encodeMsgpack({ a: "z".repeat(MAX_CHUNKED_VALUE_BYTES + 1) }), /larger than/);
  await refused(encodeMsgpack({ a: [new Uint8Array(MAX_CHUNKED_VALUE_BYTES + 1)] }), /larger than/);
});
