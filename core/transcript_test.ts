import assert from "node:assert/strict";
import { expandSha512, expandSha512At } from "./sha512_wasm.ts";
import { labelledDigest, labelledDigester, Transcript } from "./transcript.ts";
import { concatBytes, toHex } from "./bytes.ts";
import { wasmModuleStatus } from "./wasm_module.ts";

const bytes = (...xs: number[]) => new Uint8Array(xs);

Deno.test("the same statement gives the same challenge", () => {
  const a = new Transcript("test/v1").append("x", bytes(1, 2)).challenge("c");
  const b = new Transcript("test/v1").append("x", bytes(1, 2)).challenge("c");
  assert.equal(toHex(a), toHex(b));
});

Deno.test("framing is unambiguous: moving a byte between messages changes the challenge", () => {
  const a = new Transcript("test/v1").append("x", bytes(1, 2)).append("x", bytes(3)).challenge("c");
  const b = new Transcript("test/v1").append("x", bytes(1)).append("x", bytes(2, 3)).challenge("c");
  assert.notEqual(toHex(a), toHex(b));
});

Deno.test("protocol label, message label and challenge label all separate domains", () => {
  const base = toHex(new Transcript("test/v1").append("x", bytes(1)).challenge("c"));
  assert.notEqual(base, toHex(new Transcript("test/v2").append("x", bytes(1)).challenge("c")));
  assert.notEqual(base, toHex(new Transcript("test/v1").append("y", bytes(1)).challenge("c")));
  assert.notEqual(base, toHex(new Transcript("test/v1").append("x", bytes(1)).challenge("d")));
});

Deno.test("a second challenge depends on the first and long challenges expand", () => {
  const t = new Transcript("test/v1").append("x", bytes(9));
  const first = t.challenge("c", 64);
  const second = t.challenge("c", 64);
  assert.notEqual(toHex(first), toHex(second));
  const long = new Transcript("test/v1").challenge("wide", 200);
  assert.equal(long.length, 200);
  assert.notEqual(toHex(long.subarray(0, 64)), toHex(long.subarray(64, 128)));
});

Deno.test("appendList binds the count and labelledDigest is stable (known answer)", () => {
  const a = new Transcript("t/v1").appendList("l", [bytes(1), bytes(2)]).challenge("c");
  const b = new Transcript("t/v1").appendList("l", [bytes(1)]).appendList("l", [bytes(2)])
    .challenge("c");
  assert.notEqual(toHex(a), toHex(b));
  // Known answer pinned so any change to the framing is noticed (docs/transcript.md).
  assert.equal(
    toHex(labelledDigest("panoramix/test/v1", [bytes(1, 2, 3)])).slice(0, 32),
    KNOWN_DIGEST_PREFIX,
  );
});

// Computed independently with Python hashlib from the framing in docs/transcript.md.
const KNOWN_DIGEST_PREFIX = "67478a7128aeba503e7a665f21a924dd";

Deno.test("a message appended in parts and a challenge expanded in parts equal the one-call forms", () => {
  const data = new Uint8Array(3000).map((_, i) => i * 7);
  for (const length of [1, 64, 65, 640]) {
    const whole = new Transcript("test/parts/v1");
    whole.append("m", data);
    const parts = new Transcript("test/parts/v1");
    const part = parts.appendInParts("m", data.length);
    for (let lo = 0; lo < data.length; lo += 1000) part(data.subarray(lo, lo + 1000));
    assert.throws(() => part(new Uint8Array(1)), RangeError);
    const expected = whole.challenge("c", length);
    const seed = parts.challengeSeed("c");
    const blocks = Math.ceil(length / 64);
    const bytes = length <= 64 ? seed.slice(0, length) : expandSha512(seed, 64 * blocks);
    assert.deepEqual(bytes.subarray(0, length), expected);
    if (blocks > 2) {
      assert.deepEqual(expandSha512At(seed, [1, 2]), expected.subarray(64, 192));
      assert.deepEqual(
        expandSha512At(seed, [2, 0]),
        concatBytes(expected.subarray(128, 192), expected.subarray(0, 64)),
      );
    }
    if (length > 64) {
      const feed = parts.appendChallengeInParts("c", length);
      feed(bytes.subarray(0, 64));
      feed(bytes.subarray(64, length));
    } else {
      parts.appendChallenge("c", bytes.subarray(0, length));
    }
    // Later challenges agree too: the challenge was appended the same way.
    assert.deepEqual(parts.challenge("next"), whole.challenge("next"));
  }
});

Deno.test("a cloned transcript continues as the original would, and the two are independent", () => {
  const before = new Transcript("").challenge("x");
  const prefix = new Transcript("clone/v1").append("key", new Uint8Array([1, 2, 3]));
  // A prefix longer than one SHA-512 block, so the copy carries a partial buffer too.
  prefix.append("long", new Uint8Array(200).fill(7));
  const fresh = (item: number) =>
    new Transcript("clone/v1").append("key", new Uint8Array([1, 2, 3]))
      .append("long", new Uint8Array(200).fill(7)).append("item", new Uint8Array([item]));
  const a = prefix.clone().append("item", new Uint8Array([4]));
  const b = prefix.clone().append("item", new Uint8Array([5]));
  assert.deepEqual(a.challenge("c"), fresh(4).challenge("c"));
  assert.deepEqual(b.challenge("c", 100), fresh(5).challenge("c", 100));
  assert.notDeepEqual(fresh(4).challenge("c"), fresh(5).challenge("c"));
  // The prefix itself is unchanged by its copies, and a new transcript starts afresh.
  assert.deepEqual(
    prefix.challenge("p"),
    new Transcript("clone/v1").append("key", new Uint8Array([1, 2, 3]))
      .append("long", new Uint8Array(200).fill(7)).challenge("p"),
  );
  assert.deepEqual(new Transcript("").challenge("x"), before);
});

Deno.test("labelledDigester gives labelledDigest of the common parts followed by each rest", () => {
  const first = [new Uint8Array(32).fill(9), new Uint8Array([1])];
  const digest = labelledDigester("digester/v1", first);
  for (
    const rest of [[], [new Uint8Array(0)], [new Uint8Array(150).fill(3), new Uint8Array([4])]]
  ) {
    assert.deepEqual(digest(rest), labelledDigest("digester/v1", [...first, ...rest]));
  }
  // The framing of the parts is kept: moving a byte across a boundary changes the digest.
  assert.notDeepEqual(
    digest([new Uint8Array([5, 6])]),
    labelledDigest("digester/v1", [new Uint8Array(32).fill(9), new Uint8Array([1, 5, 6])]),
  );
});

Deno.test("finalChallengeSeed equals challengeSeed and challenge(…, 64), then the transcript is spent", () => {
  const make = () => new Transcript("test/final").append("m", new Uint8Array([1, 2, 3]));
  const seed = make().finalChallengeSeed("e");
  assert.deepEqual(seed, make().challengeSeed("e"));
  assert.deepEqual(seed, make().challenge("e", 64));
  const prefix = make();
  assert.deepEqual(prefix.clone().finalChallengeSeed("e"), seed);
  assert.deepEqual(prefix.challenge("e", 64), seed); // the prefix itself was not spent
  const spent = make();
  spent.finalChallengeSeed("e");
  assert.throws(() => spent.append("x", new Uint8Array(1)), /spent by its final challenge/);
  assert.throws(() => spent.challenge("e"), /spent by its final challenge/);
  assert.throws(() => spent.clone(), /spent by its final challenge/);
});

Deno.test("clone into a spent transcript: its storage reused, the same challenges, the two independent", () => {
  const bytes = (...b: number[]) => new Uint8Array(b);
  const prefix = new Transcript("test/clone-into").append("key", bytes(1, 2));
  const expected = (item: number) =>
    prefix.clone().append("item", bytes(item)).finalChallengeSeed("e");
  // Not spent (or no into, or itself): a new transcript, `into` left as it was.
  const live = prefix.clone().append("live", bytes(9));
  const fresh = prefix.clone(live);
  assert.notEqual(fresh, live);
  assert.deepEqual(
    live.finalChallengeSeed("e"),
    prefix.clone().append("live", bytes(9)).finalChallengeSeed("e"),
  );
  let spent = prefix.clone();
  spent.finalChallengeSeed("e");
  assert.notEqual(prefix.clone(prefix), prefix);
  for (let item = 0; item < 300; item++) {
    const next = prefix.clone(spent);
    // Reused with the WebAssembly SHA-512 (the JavaScript fallback makes a new one).
    assert.equal(next === spent, wasmModuleStatus().sha512 === true);
    next.append("item", bytes(item));
    // The prefix is not changed by appending to its copy, nor the copy by using the prefix.
    assert.deepEqual(expected(item), next.clone().finalChallengeSeed("e"));
    assert.deepEqual(next.finalChallengeSeed("e"), expected(item));
    assert.throws(() => next.append("late", bytes(1)), /spent/);
    spent = next;
  }
});
