import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import {
  decodeFragment,
  encodeFragment,
  FRAGMENT_HEADER_SIZE,
  Reassembler,
  splitMessage,
} from "./fragment.ts";

function shuffle<T>(items: T[], seed: string): T[] {
  const random = seededRandom(seed);
  const out = items.slice();
  const b = new Uint32Array(1);
  for (let i = out.length - 1; i > 0; i--) {
    random(new Uint8Array(b.buffer));
    const j = b[0]! % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

Deno.test("a 1 MiB message survives shuffled and duplicated fragments and is delivered once", () => {
  const message = new Uint8Array(1024 * 1024 + 17);
  for (let i = 0; i < message.length; i += 65536) {
    crypto.getRandomValues(message.subarray(i, Math.min(message.length, i + 65536)));
  }
  const messageId = crypto.getRandomValues(new Uint8Array(16));
  const slot = 1341 + FRAGMENT_HEADER_SIZE;
  const parts = splitMessage(message, { messageId, dataSize: slot - FRAGMENT_HEADER_SIZE });
  assert.equal(parts.length, Math.ceil(message.length / 1341));
  const wire = parts.map((p) => encodeFragment(p, slot));
  assert.ok(wire.every((w) => w.length === slot));
  // Every fragment twice, in a random order.
  const arrivals = shuffle([...wire, ...wire], "shuffle-1");
  const r = new Reassembler();
  let completed = 0;
  let duplicates = 0;
  for (const w of arrivals) {
    const result = r.add(decodeFragment(w));
    if (result.status === "complete") {
      completed++;
      assert.deepEqual(result.message, message);
    }
    if (result.status === "duplicate") duplicates++;
  }
  assert.equal(completed, 1);
  assert.equal(duplicates, parts.length);
  // Exactly once, also after a restart from the persisted state.
  const again = new Reassembler();
  again.restore(r.state());
  assert.equal(again.add(decodeFragment(wire[0]!)).status, "duplicate");
});

Deno.test("a message missing a fragment is never delivered and is reported incomplete", () => {
  let now = 1000;
  const r = new Reassembler({ now: () => now });
  const parts = splitMessage(new Uint8Array(500).fill(3), {
    messageId: new Uint8Array(16).fill(1),
    dataSize: 100,
  });
  for (const p of shuffle(parts.slice(1), "shuffle-2")) {
    assert.equal(r.add(decodeFragment(encodeFragment(p, 200))).status, "stored");
  }
  assert.deepEqual(r.pending().map((p) => [p.have, p.count]), [[4, 5]]);
  // State survives a restart mid-way.
  const copy = new Reassembler({ now: () => now });
  copy.restore(r.state());
  now += 60_000;
  const given = r.expire(30_000);
  assert.equal(given.length, 1);
  assert.equal(given[0]!.have, 4);
  assert.equal(r.pending().length, 0);
  // The copy completes when the missing piece comes.
  const done = copy.add(parts[0]!);
  assert.equal(done.status, "complete");
});

Deno.test("malformed fragments get a specific error", () => {
  const good = encodeFragment(
    { messageId: new Uint8Array(16), index: 1, count: 2, data: new Uint8Array([1, 2]) },
    64,
  );
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(3), /at least 27 bytes/],
    [Uint8Array.from(good, (b, i) => (i === 0 ? 9 : b)), /kind 9/],
    [Uint8Array.from(good, (b, i) => (i === 20 ? 5 : b)), /index 5 is outside its count 2/],
    [Uint8Array.from(good, (b, i) => (i === 25 ? 200 : b)), /declares/],
    [Uint8Array.from(good, (b, i) => (i === 63 ? 1 : b)), /padding is not zero/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => decodeFragment(bytes), (e: Error) => {
      assert.ok(e instanceof InvalidInputError);
      assert.match(e.message, re);
      return true;
    });
  }
  const r = new Reassembler();
  r.add(decodeFragment(good));
  const liar = encodeFragment(
    { messageId: new Uint8Array(16), index: 0, count: 3, data: new Uint8Array([1]) },
    64,
  );
  assert.throws(() => r.add(decodeFragment(liar)), /says 3 fragments, earlier ones said 2/);
  assert.throws(
    () =>
      splitMessage(new Uint8Array(17 * 1024 * 1024), {
        messageId: new Uint8Array(16),
        dataSize: 1000,
      }),
    /exceeds the limit/,
  );
});
