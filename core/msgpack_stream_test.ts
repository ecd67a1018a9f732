import { streamInPieces } from "./byte_stream_test_support.ts";
import { joinBytes } from "./bytes.ts";
import assert from "node:assert/strict";
import { encodeMsgpack } from "./envelope.ts";
import { InvalidInputError } from "./errors.ts";
import {
  msgpackChunks,
  MsgpackStreamReader,
  msgpackValueEnd,
  StreamedArray,
  StreamedMap,
} from "./msgpack_stream.ts";

/** The pieces of a chunked encoding joined. */
function concat(parts: Iterable<Uint8Array>): Uint8Array {
  return joinBytes([...parts]);
}

const big = new Uint8Array(100_000).map((_, i) => i * 7);
const plain = {
  v: 3,
  kind: "x",
  small: Array.from({ length: 15 }, (_, i) => i),
  sixteen: Array.from({ length: 16 }, (_, i) => `s${i}`),
  many: Array.from({ length: 70_000 }, (_, i) => (i % 3 === 0 ? new Uint8Array([i & 255]) : i)),
  wide: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i * 1e6])),
  big,
  nested: [{ a: "é".repeat(40), b: big.subarray(0, 70_000), c: [] }, { a: null, b: true }],
  strings: ["", "a".repeat(31), "b".repeat(32), "c".repeat(300), "δ".repeat(40_000)],
};
const streamed = new StreamedMap([
  ["v", 3],
  ["kind", "x"],
  ["small", new StreamedArray(15, plain.small)],
  ["sixteen", new StreamedArray(16, plain.sixteen)],
  ["many", new StreamedArray(70_000, plain.many)],
  ["wide", new StreamedMap(Object.entries(plain.wide))],
  ["big", big],
  [
    "nested",
    new StreamedArray(2, [
      new StreamedMap(Object.entries(plain.nested[0]!)),
      plain.nested[1],
    ]),
  ],
  ["strings", new StreamedArray(5, plain.strings)],
]);

Deno.test("msgpack stream: chunks concatenate to exactly encodeMsgpack's bytes", () => {
  const expected = encodeMsgpack(plain);
  for (const chunkBytes of [1, 100, 4096, 1 << 20]) {
    const chunks = [...msgpackChunks(streamed, { chunkBytes })];
    assert.deepEqual(concat(chunks), expected, `chunkBytes ${chunkBytes}`);
    if (chunkBytes === 4096) {
      // Big byte strings are yielded as views of the caller's buffer, not copies; only
      // single values bigger than a chunk make bigger chunks.
      assert.ok(
        chunks.every((c) => c.length <= 4096 || c.buffer === big.buffer || c.length > 70_000),
      );
      assert.ok(chunks.some((c) => c.buffer === big.buffer));
    }
  }
  assert.throws(() => [...msgpackChunks(new StreamedArray(3, [1, 2]))], /length 3 yielded 2/);
});

Deno.test("msgpack stream: the reader decodes headers, values and runs across any split", async () => {
  const bytes = encodeMsgpack(plain);
  for (const [piece, chunkBytes] of [[7, 64], [1000, 4096], [1 << 20, 1 << 20]] as const) {
    const reader = new MsgpackStreamReader(streamInPieces(bytes, piece), { chunkBytes });
    assert.equal(await reader.readMapHeader("m"), 9);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < 9; i++) {
      const key = await reader.readValue("key") as string;
      if (key === "many") {
        const n = await reader.readArrayHeader(key);
        const values: unknown[] = [];
        while (values.length < n) {
          values.push(...await reader.readValues(Math.min(999, n - values.length), key));
        }
        out[key] = values;
      } else {
        out[key] = await reader.readValue(key);
      }
    }
    await reader.end("m");
    assert.deepEqual(out, plain);
    assert.equal(reader.offset, bytes.length);
  }
});

Deno.test("msgpack stream: truncation, a wrong type and trailing bytes are named", async () => {
  const bytes = encodeMsgpack({ xs: [1, 2, new Uint8Array(300)] });
  const cut = new MsgpackStreamReader(streamInPieces(bytes.subarray(0, bytes.length - 5), 10));
  await cut.readMapHeader("m");
  await cut.readValue("k");
  await cut.readArrayHeader("m.xs");
  await cut.readValues(2, "m.xs[0]");
  await assert.rejects(
    cut.readValues(1, "m.xs[2]"),
    (e) =>
      e instanceof InvalidInputError && /^Value 'm\.xs\[2\]' is truncated msgpack/.test(e.message),
  );
  const notArray = new MsgpackStreamReader(streamInPieces(encodeMsgpack("text"), 3));
  await assert.rejects(notArray.readArrayHeader("m.xs"), /'m\.xs' must be an array, got string/);
  const trailing = new MsgpackStreamReader(
    streamInPieces(concat([encodeMsgpack(1), Uint8Array.of(2)]), 1),
  );
  assert.equal(await trailing.readValue("v"), 1);
  await assert.rejects(trailing.end("file"), /'file' has trailing bytes/);
  assert.throws(() => msgpackValueEnd(Uint8Array.of(0x92, 1), 0, "p"), /'p' is truncated/);
  assert.throws(() => msgpackValueEnd(Uint8Array.of(0xc1), 0, "p"), /byte 0xc1/);
});
