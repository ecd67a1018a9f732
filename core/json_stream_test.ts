import assert from "node:assert/strict";
import { toJsonView } from "./envelope.ts";
import { jsonViewChunks, writeJsonViewStream } from "./json_stream.ts";
import { StreamedArray, StreamedBytes, StreamedMap } from "./msgpack_stream.ts";
import { seededRandom } from "./random.ts";

async function text(value: unknown, indent?: number): Promise<string> {
  let out = "";
  for await (const piece of jsonViewChunks(value, indent)) out += piece;
  return out;
}

/** A value built twice: with streamed parts, and as the plain value they stand for. */
function pair(random: (n: number) => number, depth: number): [unknown, unknown] {
  const kind = depth > 3 ? random(6) : random(10);
  switch (kind) {
    case 0:
      return [null, null];
    case 1: {
      const n = random(1000) - 500;
      return [n, n];
    }
    case 2: {
      const s = ["", "a\nb", 'q"uo\\te', "é✓𝄞", "\u2028\u0000"][random(5)]!;
      return [s, s];
    }
    case 3: {
      const b = BigInt(random(1 << 30)) * 1_000_000_007n;
      return [b, b];
    }
    case 4: {
      const bytes = new Uint8Array(random(9)).map(() => random(256));
      return [bytes, bytes];
    }
    case 5: {
      const plain = { k: [1, new Uint8Array([1, 2]), { z: undefined, y: "x" }], e: [], o: {} };
      return [plain, plain];
    }
    case 6: {
      // A byte string in pieces of any sizes (base64 across piece boundaries).
      const length = random(40);
      const bytes = new Uint8Array(length).map(() => random(256));
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < length;) {
        const take = Math.min(length - at, random(7));
        pieces.push(bytes.subarray(at, at + take));
        at += take;
      }
      return [new StreamedBytes(length, pieces), bytes];
    }
    case 7:
    case 8: {
      const n = random(5);
      const items = Array.from({ length: n }, () => pair(random, depth + 1));
      const source = items.map(([s]) => s);
      // Sync and async item sources, undefined items (null in JSON).
      const streamed = random(2) === 0 ? source : {
        async *[Symbol.asyncIterator]() {
          yield* source;
        },
      };
      if (n > 0 && random(3) === 0) {
        return [new StreamedArray(n + 1, [...source, undefined]), [
          ...items.map(([, p]) => p),
          undefined,
        ]];
      }
      return [new StreamedArray(n, streamed), items.map(([, p]) => p)];
    }
    default: {
      // Keys that are array indices come first in a JavaScript object; undefined is left out.
      const keys = ["b", "1", "a", "10", "0", "b", "u", "__x"];
      const entries: [string, unknown][] = [];
      const plain: Record<string, unknown> = {};
      for (let i = random(6); i > 0; i--) {
        const key = keys[random(keys.length)]!;
        const [s, p] = key === "u" ? [undefined, undefined] : pair(random, depth + 1);
        entries.push([key, s]);
        plain[key] = p;
      }
      return [new StreamedMap(entries), plain];
    }
  }
}

Deno.test("jsonViewChunks: the text of JSON.stringify(toJsonView(v), null, 2), part by part", async () => {
  const rng = seededRandom("json-stream");
  const b = new Uint8Array(4);
  const random = (n: number) => {
    rng(b);
    return ((b[0]! << 24 | b[1]! << 16 | b[2]! << 8 | b[3]!) >>> 0) % n;
  };
  for (let i = 0; i < 400; i++) {
    const [streamed, plain] = pair(random, 0);
    for (const indent of [2, 0, 4]) {
      assert.equal(
        await text(streamed, indent),
        JSON.stringify(toJsonView(plain), null, indent) ?? "null",
        `case ${i}, indent ${indent}`,
      );
    }
  }
});

Deno.test("writeJsonViewStream: UTF-8 bytes in chunks, the suffix after; wrong lengths refused", async () => {
  const value = new StreamedMap([
    ["s", "é✓"],
    ["xs", new StreamedArray(3000, Array.from({ length: 3000 }, (_, i) => "x".repeat(i % 1400)))],
  ]);
  const parts: Uint8Array[] = [];
  const n = await writeJsonViewStream(
    value,
    new WritableStream({ write: (c) => void parts.push(c) }),
    {
      suffix: "\n",
    },
  );
  const whole = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((at, p) => (whole.set(p, at), at + p.length), 0);
  assert.equal(n, whole.length);
  assert.ok(parts.length > 1, "written in more than one chunk");
  assert.equal(
    new TextDecoder().decode(whole),
    JSON.stringify(
      { s: "é✓", xs: Array.from({ length: 3000 }, (_, i) => "x".repeat(i % 1400)) },
      null,
      2,
    ) +
      "\n",
  );
  await assert.rejects(
    text(new StreamedArray(3, [1, 2])),
    /Streamed array of length 3 yielded 2 items/,
  );
  await assert.rejects(
    text(new StreamedArray(1, [1, 2])),
    /Streamed array of length 1 yielded 2 items/,
  );
  await assert.rejects(
    text(new StreamedBytes(4, [new Uint8Array(3)])),
    /Streamed bytes of length 4 yielded 3 bytes/,
  );
});
