import assert from "node:assert/strict";
import { detectItemFormat, parseItems, serializeItem } from "./item_stream.ts";
import { concatBytes } from "./bytes.ts";
import { InvalidInputError } from "./errors.ts";
import { readBytes } from "./fields.ts";

const items = [
  { v: 1, kind: "k", data: new Uint8Array([0, 255]) },
  { v: 1, kind: "k", data: new Uint8Array([7]) },
];

for (const format of ["ndjson", "msgpack"] as const) {
  Deno.test(`${format} streams round-trip and are detected`, () => {
    const stream = concatBytes(...items.map((i) => serializeItem(i, format)));
    assert.equal(detectItemFormat(stream), format);
    const back = parseItems(stream) as Record<string, unknown>[];
    assert.equal(back.length, 2);
    assert.deepEqual([...readBytes(back[0]!.data, "d")], [0, 255]);
  });
}

Deno.test("NDJSON errors name the line; blank lines are ignored", () => {
  const text = '{"v":1}\n\n{"v":2}\n{"v":\n';
  assert.throws(
    () => parseItems(new TextEncoder().encode(text), { what: "in.ndjson" }),
    /Line 4 of 'in.ndjson'/,
  );
  assert.equal(parseItems(new TextEncoder().encode('{"v":1}\n\n')).length, 1);
  assert.throws(
    () => parseItems(new Uint8Array([0x7b, 0xff, 0xfe]), { format: "ndjson" }),
    InvalidInputError,
  );
});

Deno.test("an empty stream has no items", () => {
  assert.deepEqual(parseItems(new Uint8Array()), []);
});
