import { streamInPieces } from "./byte_stream_test_support.ts";
import { joinBytes } from "./bytes.ts";
import assert from "node:assert/strict";
import { encodeMsgpack } from "./envelope.ts";
import { InvalidInputError } from "./errors.ts";
import {
  EncodedItems,
  msgpackChunks,
  msgpackChunksAsync,
  MsgpackStreamReader,
  msgpackValueEnd,
  StreamedArray,
  StreamedBytes,
  StreamedMap,
  writeMsgpackStream,
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

/** Yields the items after a tick each (a file read a chunk at a time). */
async function* slowly<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

/** Pieces of `bytes`, `size` bytes each. */
function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

Deno.test("msgpack stream: async items and streamed byte strings give encodeMsgpack's bytes", async () => {
  // Byte strings of every header width: bin 8 (≤ 255), bin 16, bin 32; and the empty one.
  const strings = [0, 1, 64, 255, 256, 320, 65_535, 65_536, 100_000].map((n) =>
    new Uint8Array(n).map((_, i) => i * 13)
  );
  const plainValue = {
    v: 1,
    lists: strings,
    items: plain.many.slice(0, 3000),
    nested: [{ a: strings[3], b: [1, 2] }],
  };
  const expected = encodeMsgpack(plainValue);
  const value = (async: boolean) =>
    new StreamedMap([
      ["v", 1],
      [
        "lists",
        new StreamedArray(
          strings.length,
          strings.map((b) =>
            new StreamedBytes(b.length, async ? slowly(pieces(b, 97)) : pieces(b, 97))
          ),
        ),
      ],
      ["items", new StreamedArray(3000, async ? slowly(plainValue.items) : plainValue.items)],
      [
        "nested",
        new StreamedArray(1, [
          new StreamedMap([["a", new StreamedBytes(255, slowly([strings[3]!]))], [
            "b",
            new StreamedArray(2, slowly([1, 2])),
          ]]),
        ]),
      ],
    ]);
  for (const chunkBytes of [1, 100, 4096, 1 << 20]) {
    const chunks: Uint8Array[] = [];
    for await (const c of msgpackChunksAsync(value(true), { chunkBytes })) chunks.push(c.slice());
    assert.deepEqual(concat(chunks), expected, `async, chunkBytes ${chunkBytes}`);
  }
  const syncValue = new StreamedArray(
    strings.length,
    strings.map((b) => new StreamedBytes(b.length, pieces(b, 1000))),
  );
  assert.deepEqual(concat(msgpackChunks(syncValue, { chunkBytes: 512 })), encodeMsgpack(strings));
  const written: Uint8Array[] = [];
  const n = await writeMsgpackStream(
    value(true),
    new WritableStream({ write: (c) => void written.push(c.slice()) }),
  );
  assert.equal(n, expected.length);
  assert.deepEqual(concat(written), expected);
  // The synchronous encoder refuses async parts; a wrong length is refused.
  assert.throws(() => [...msgpackChunks(value(true))], /needs msgpackChunksAsync/);
  await assert.rejects(async () => {
    for await (const _ of msgpackChunksAsync(new StreamedBytes(5, slowly([new Uint8Array(4)])))) {
      // drain
    }
  }, /length 5 yielded 4 bytes/);
  await assert.rejects(async () => {
    for await (const _ of msgpackChunksAsync(new StreamedBytes(3, [new Uint8Array(4)]))) {
      // drain
    }
  }, /length 3 yielded 4 bytes/);
  await assert.rejects(async () => {
    for await (const _ of msgpackChunksAsync(new StreamedArray(3, slowly([1, 2])))) {
      // drain
    }
  }, /length 3 yielded 2 items/);
});

Deno.test("msgpack stream: the reader skips byte strings and reports where values end", async () => {
  const strings = [64, 300, 70_000].map((n) => new Uint8Array(n).fill(n & 255));
  const bytes = encodeMsgpack([strings, [1, "two", new Uint8Array(64)], 7]);
  for (const [piece, chunkBytes] of [[5, 64], [1000, 4096], [1 << 20, 1 << 20]] as const) {
    const reader = new MsgpackStreamReader(streamInPieces(bytes, piece), { chunkBytes });
    await reader.readArrayHeader("a");
    await reader.readArrayHeader("a[0]");
    for (const s of strings) {
      assert.equal(await reader.readBinHeader("s"), s.length);
      const at = reader.offset;
      await reader.skip(s.length, "s");
      assert.equal(reader.offset, at + s.length);
    }
    await reader.readArrayHeader("a[1]");
    assert.equal(await reader.readBinHeader("a[1][0]"), undefined);
    const ends: number[] = [];
    const values: unknown[] = [];
    while (values.length < 3) {
      values.push(...await reader.readValues(3 - values.length, "a[1]", ends));
    }
    assert.deepEqual(values.slice(0, 2), [1, "two"]);
    const start = ends[0]! - 1;
    assert.deepEqual(ends, [start + 1, start + 5, start + 5 + 66]);
    assert.equal(ends[2], reader.offset);
    assert.equal(await reader.readValue("a[2]"), 7);
    await reader.end("a");
  }
  const cut = new MsgpackStreamReader(streamInPieces(bytes.subarray(0, 200), 50));
  await cut.readArrayHeader("a");
  await cut.readArrayHeader("a[0]");
  await cut.skip((await cut.readBinHeader("s"))!, "s");
  const length = (await cut.readBinHeader("a[0][1]"))!;
  await assert.rejects(
    cut.skip(length, "a[0][1]"),
    (e) =>
      e instanceof InvalidInputError &&
      e.message === "Value 'a[0][1]' is truncated msgpack (the input ends after 200 bytes)",
  );
});

Deno.test("a value whose last element ends the input is whole, for every msgpack type", async () => {
  // Each last element: uint8, int8, uint16, int16, uint32, float64, empty and short bin/str 8,
  // fixext 1, and a value's bytes cut one short (then it is truncated).
  const lasts: unknown[] = [
    200,
    -100,
    40_000,
    -30_000,
    4_000_000_000,
    0.5,
    new Uint8Array(0),
    new Uint8Array([9]),
    "x".repeat(40),
    "",
  ];
  for (const last of lasts) {
    const bytes = encodeMsgpack({ ranks: [[342, 215, 109], [1, 2, last]] });
    assert.equal(msgpackValueEnd(bytes, 0, "t"), bytes.length, `ending in ${String(last)}`);
    for (const size of [1, 2, 3, bytes.length]) {
      const reader = new MsgpackStreamReader(streamInPieces(bytes, size));
      assert.deepEqual(await reader.readValue("t"), { ranks: [[342, 215, 109], [1, 2, last]] });
      await reader.end("t");
    }
    assert.throws(
      () => msgpackValueEnd(bytes.subarray(0, bytes.length - 1), 0, "t"),
      (e: unknown) => e instanceof InvalidInputError && /truncated msgpack/.test(e.message),
    );
  }
});

Deno.test("msgpack stream: EncodedItems runs are written as they are after the array header, their count checked", async () => {
  const items = Array.from({ length: 5000 }, (_, i) => new Uint8Array(20).fill(i & 255));
  const runs = (size: number) =>
    Array.from({ length: Math.ceil(items.length / size) }, (_, k) => {
      const part = items.slice(k * size, (k + 1) * size);
      return { count: part.length, bytes: concat(part.map((x) => encodeMsgpack(x))) };
    });
  const expected = encodeMsgpack({ v: 1, xs: items, tail: "end" });
  for (const size of [1, 7, 5000]) {
    const value = new StreamedMap([
      ["v", 1],
      ["xs", new EncodedItems(items.length, runs(size))],
      ["tail", "end"],
    ]);
    for (const chunkBytes of [100, 1 << 20]) {
      const chunks = [...msgpackChunks(value, { chunkBytes })];
      assert.deepEqual(concat(chunks), expected, `${size} ${chunkBytes}`);
      // A run of 64 KB or more is handed on, not copied.
      const whole = size === 5000 ? runs(5000)[0]!.bytes : undefined;
      if (whole !== undefined) {
        const direct = new StreamedArray(1, [
          new EncodedItems(items.length, [{
            count: items.length,
            bytes: whole,
          }]),
        ]);
        assert.ok([...msgpackChunks(direct, { chunkBytes })].some((c) => c === whole));
      }
    }
    // Async runs, and inside a StreamedArray.
    const asyncRuns = async function* () {
      yield* runs(size);
    };
    const parts: Uint8Array[] = [];
    for await (
      const c of msgpackChunksAsync(
        new StreamedArray(1, [new EncodedItems(items.length, asyncRuns())]),
      )
    ) {
      parts.push(c);
    }
    assert.deepEqual(concat(parts), encodeMsgpack([items]));
  }
  // A count other than the length is refused, not written short or long.
  for (const length of [items.length - 1, items.length + 1]) {
    assert.throws(
      () => [...msgpackChunks(new EncodedItems(length, runs(7)))],
      (e) => e instanceof RangeError && /yielded/.test(e.message),
    );
  }
});

Deno.test("msgpack stream: raw values and framed skips read what readValues reads, stopping where it must", async () => {
  const bins = Array.from({ length: 300 }, (_, i) => new Uint8Array(64).fill(i & 255));
  const odd = encodeMsgpack([...bins.slice(0, 200), new Uint8Array(63), ...bins.slice(201)]);
  const header = Uint8Array.of(0xc4, 64);
  for (const [piece, chunkBytes] of [[7, 100], [1000, 4096], [1 << 20, 1 << 20]] as const) {
    const bytes = encodeMsgpack([bins, [1, "two", [3]], 7]);
    const reader = new MsgpackStreamReader(streamInPieces(bytes, piece), { chunkBytes });
    await reader.readArrayHeader("a");
    assert.equal(await reader.readArrayHeader("a[0]"), 300);
    // Every item framed alike: skipped to the count asked, then to the end of the list.
    assert.equal(await reader.skipFramed(10, header, 64), 10);
    assert.equal(reader.offset, 1 + 3 + 10 * 66);
    let skipped = 10;
    while (skipped < 300) skipped += await reader.skipFramed(300 - skipped, header, 64);
    assert.equal(reader.offset, 1 + 3 + 300 * 66);
    // A value framed otherwise stops it (nothing skipped, nothing read).
    await reader.readArrayHeader("a[1]");
    assert.equal(await reader.skipFramed(3, header, 64), 0);
    const raw: Uint8Array[] = [];
    let ends: number[] = [];
    while (ends.length < 3) {
      const got = await reader.readRawValues(3 - ends.length, "a[1]");
      const base = raw.reduce((n, r) => n + r.length, 0);
      ends = [...ends, ...got.ends.map((e) => base + e)];
      raw.push(got.bytes.slice());
    }
    assert.deepEqual(concat(raw), concat([1, "two", [3]].map((v) => encodeMsgpack(v))));
    assert.deepEqual(ends, [1, 5, 7]);
    assert.equal(await reader.readValue("a[2]"), 7);
    await reader.end("a");
    // An item of another size stops the skip at it; readValues then reads it.
    const list = new MsgpackStreamReader(streamInPieces(odd, piece), { chunkBytes });
    await list.readArrayHeader("b");
    let n = 0;
    for (let step = -1; step !== 0;) n += step = await list.skipFramed(300 - n, header, 64);
    assert.equal(n, 200);
    assert.equal(((await list.readValues(1, "b[200]"))[0] as Uint8Array).length, 63);
  }
  // A cut inside an item stops the skip before it; readValues names the cut.
  const cut = encodeMsgpack(bins).subarray(0, 3 + 100 * 66 + 30);
  const reader = new MsgpackStreamReader(streamInPieces(cut, 500));
  await reader.readArrayHeader("c");
  let n = 0;
  for (let step = -1; step !== 0;) n += step = await reader.skipFramed(300 - n, header, 64);
  assert.equal(n, 100);
  await assert.rejects(
    reader.readValues(1, "c[100]"),
    (e) =>
      e instanceof InvalidInputError && /^Value 'c\[100\]' is truncated msgpack/.test(e.message),
  );
});

Deno.test("msgpack stream: writeMsgpackStream writes every chunk in order and reports a failed write", async () => {
  const items = Array.from({ length: 3000 }, (_, i) => new Uint8Array(1000).fill(i & 255));
  const value = new StreamedArray(items.length, items);
  const parts: Uint8Array[] = [];
  const n = await writeMsgpackStream(
    value,
    new WritableStream({
      // A slow sink: the next chunk is made while a write is under way.
      write: async (c) => {
        await new Promise((r) => setTimeout(r, 1));
        parts.push(c.slice());
      },
    }),
  );
  assert.ok(parts.length > 2);
  assert.equal(n, concat(parts).length);
  assert.deepEqual(concat(parts), encodeMsgpack(items));
  let writes = 0;
  await assert.rejects(
    writeMsgpackStream(
      value,
      new WritableStream({
        write: () => {
          if (++writes === 2) throw new Error("disk full");
        },
      }),
    ),
    /disk full/,
  );
  assert.ok(writes <= 3, `${writes} writes`);
});
