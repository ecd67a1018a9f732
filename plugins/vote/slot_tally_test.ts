// Counting from the slots (issue 17, the tally's CPU): the counts of `slotTallyCounter`
// are those of `tallyAccumulator().add` over the answers decoded from the same slots, for
// random ballots with blanks, invalid and undecodable elements, several questions and
// widths > 1; and the share tasks hand the same tally as counts and as answers.
import assert from "node:assert/strict";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import { randomBytes, type RandomSource, seededRandom } from "../../core/random.ts";
import { memoryRecords } from "../../core/records.ts";
import { joinBytes } from "../../core/bytes.ts";
import {
  BASE_POINT,
  createDecryptionShare,
  embedBytes,
  encrypt,
  extractEncodedBytes,
  InvalidInputError,
  MAX_EMBED_BYTES,
  packPoints,
  type Point,
  simulateDkg,
} from "../../backends/reencrypt/mod.ts";
import {
  decodeElectionAnswers,
  decodeElementAnswers,
  electionBallotLayout,
  encodeElectionAnswers,
} from "./answers.ts";
import { createElectionDefinition, type ElectionDefinition } from "./definition.ts";
import { randomElectionAnswers } from "./simulate.ts";
import { slotTallyCounter, VOTE_NO_MESSAGE, VOTE_SLOT_BYTES, writeVoteSlot } from "./slot_tally.ts";
import { type ElectionTally, tallyAccumulator, tallyCountsLayout } from "./tally.ts";
import { voteCombineDecryptionSharesRecords, voteSlotMessages } from "./tasks.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

const DEFINITIONS: ElectionDefinition[] = [
  // The bench's: one element of one byte.
  createElectionDefinition({
    id: "one",
    trustees: 1,
    mixers: 1,
    questions: [{ text: "Q", choices: ["A", "B", "C", "D", "E"] }],
  }),
  // Several questions of every type in one element (values of several bytes).
  createElectionDefinition({
    id: "mixed",
    trustees: 1,
    mixers: 1,
    questions: [
      { text: "Chair?", choices: ["a", "b", "c"] },
      { text: "Approve?", choices: ["a", "b", "c", "d"], type: "multiple", min: 1, max: 3 },
      { text: "Rank", choices: ["a", "b", "c", "d"], type: "ranked", min: 0, max: 3 },
    ],
  }),
  // Width 3: elements of more than 6 bytes (cache keys as strings) and a ranked question.
  createElectionDefinition({
    id: "wide",
    trustees: 1,
    mixers: 1,
    questions: [
      {
        text: "Many",
        choices: Array.from({ length: 200 }, (_, i) => `c${i}`),
        type: "multiple",
        max: 4,
      },
      { text: "More", choices: Array.from({ length: 150 }, (_, i) => `m${i}`), type: "multiple" },
      {
        text: "Rank",
        choices: Array.from({ length: 30 }, (_, i) => `r${i}`),
        type: "ranked",
        max: 30,
      },
    ],
  }),
];

/** A number in [0, bound) (small bounds: the bias does not matter to a test). */
function uniform(random: RandomSource, bound: number): number {
  const b = new Uint8Array(4);
  random(b);
  return new DataView(b.buffer).getUint32(0) % bound;
}

/** One ballot's slot record: valid answers, or an invalid or undecodable element. */
function randomBallotSlots(
  definition: ElectionDefinition,
  width: number,
  random: RandomSource,
): Uint8Array {
  const out = new Uint8Array(VOTE_SLOT_BYTES * width);
  const layout = electionBallotLayout(definition);
  const parts: (Uint8Array | undefined)[] = width === layout.elements.length
    ? encodeElectionAnswers(definition, randomElectionAnswers(definition, random, { blank: 0.2 }))
    : Array.from({ length: width }, () => randomBytes(1 + uniform(random, 3), random));
  const kind = uniform(random, 10);
  const e = uniform(random, width);
  if (kind === 0) parts[e] = undefined; // no message (a point that embeds none)
  if (kind === 1) parts[e] = randomBytes(parts[e]?.length ?? 1, random); // likely out of range
  if (kind === 2) parts[e] = randomBytes(uniform(random, MAX_EMBED_BYTES + 1), random); // length
  if (kind === 3) parts[e] = new Uint8Array(parts[e]?.length ?? 1).fill(255); // past capacity
  parts.forEach((part, k) => {
    const at = k * VOTE_SLOT_BYTES;
    if (part === undefined) out[at] = VOTE_NO_MESSAGE;
    else {
      out[at] = part.length;
      out.set(part, at + 1);
    }
  });
  return out;
}

/** The tally of the answers decoded from the slots (what the main thread counted before). */
function decodedTally(definition: ElectionDefinition, slots: Uint8Array, width: number) {
  const tally = tallyAccumulator(definition);
  tally.add(
    voteSlotMessages(slots, width).map((parts) => decodeElectionAnswers(definition, parts)),
  );
  return tally.result();
}

function countedTally(definition: ElectionDefinition, slots: Uint8Array, width: number) {
  const tally = tallyAccumulator(definition);
  tally.addCounts(slotTallyCounter(definition, width)(slots));
  return tally.result();
}

Deno.test("slotTallyCounter: the tally of the decoded answers, for random ballots with blanks, invalid elements, several questions and widths", () => {
  const random = seededRandom("slot tally");
  for (const definition of DEFINITIONS) {
    const width = electionBallotLayout(definition).elements.length;
    const slots = joinBytes(
      Array.from({ length: 600 }, () => randomBallotSlots(definition, width, random)),
    );
    const expected = decodedTally(definition, slots, width);
    assert.deepEqual(countedTally(definition, slots, width), expected, definition.id);
    // The random ballots cover the cases this test is about.
    assert.ok(expected.invalid > 30 && expected.valid > 300, definition.id);
    assert.ok(expected.questions.every((q) => q.counts.some((c) => c > 0)), definition.id);
    assert.ok(expected.questions.some((q) => q.blank > 0), definition.id);
    // Chunk by chunk (a fresh cache per chunk) adds up to the same tally.
    const tally = tallyAccumulator(definition);
    const count = slotTallyCounter(definition, width);
    const ballot = VOTE_SLOT_BYTES * width;
    for (const [lo, hi] of [[0, 1], [1, 250], [250, 600]] as const) {
      tally.addCounts(count(slots.subarray(lo * ballot, hi * ballot)));
    }
    assert.deepEqual(tally.result(), expected);
  }
  assert.equal(DEFINITIONS[2]!.questions.length, 3);
  assert.equal(electionBallotLayout(DEFINITIONS[2]!).elements.length, 3);
  assert.ok(electionBallotLayout(DEFINITIONS[2]!).elements.some((e) => e.bytes > 6));
});

Deno.test("slotTallyCounter: a width other than the layout's makes every ballot invalid, as decoding does", () => {
  const random = seededRandom("slot width");
  const definition = DEFINITIONS[1]!; // one element
  const slots = joinBytes(
    Array.from({ length: 40 }, () => randomBallotSlots(definition, 2, random)),
  );
  const expected = decodedTally(definition, slots, 2);
  assert.equal(expected.invalid, 40);
  assert.deepEqual(countedTally(definition, slots, 2), expected);
  assert.deepEqual(
    countedTally(definition, new Uint8Array(0), 1),
    decodedTally(definition, new Uint8Array(0), 1),
  );
});

Deno.test("slotTallyCounter: slot records that are not whole ballots, and a bad width, are refused", () => {
  const definition = DEFINITIONS[0]!;
  assert.throws(
    () => slotTallyCounter(definition, 1)(new Uint8Array(VOTE_SLOT_BYTES + 1)),
    /Slot records of 32 bytes are not whole ballots of 31 bytes/,
  );
  assert.throws(
    () => slotTallyCounter(definition, 0),
    /Ballot width must be a positive integer, got 0/,
  );
});

Deno.test("decodeElementAnswers: per element what decodeElectionAnswers decodes", () => {
  const random = seededRandom("element answers");
  const definition = DEFINITIONS[2]!;
  const layout = electionBallotLayout(definition);
  for (let i = 0; i < 50; i++) {
    const answers = randomElectionAnswers(definition, random, { blank: 0.3 });
    const parts = encodeElectionAnswers(definition, answers);
    const perElement = parts.flatMap((p, e) => decodeElementAnswers(definition, e, p)!);
    const order = layout.elements.flatMap((e) => e.questions);
    assert.deepEqual(order.map((qi) => answers[qi]), perElement);
  }
  assert.equal(decodeElementAnswers(definition, 0, undefined), undefined);
  assert.equal(decodeElementAnswers(definition, 3, new Uint8Array(1)), undefined); // no element 3
  assert.equal(decodeElementAnswers(definition, 0, new Uint8Array(1)), undefined); // length
});

Deno.test("tallyCountsLayout and addCounts: a count at each index lands in its field; a wrong length is refused", () => {
  const definition = DEFINITIONS[1]!;
  const layout = tallyCountsLayout(definition);
  const counts = Array.from({ length: layout.length }, (_, i) => i + 1);
  const tally = tallyAccumulator(definition);
  tally.addCounts(counts);
  tally.addCounts(counts);
  const t: ElectionTally = tally.result();
  assert.equal(t.ballots, 2 * 1);
  assert.equal(t.valid, 2 * 2);
  const ranked = layout.questions[2]!;
  assert.deepEqual(t.questions[0]!.counts, [2 * 3, 2 * 4, 2 * 5]);
  assert.equal(t.questions[0]!.blank, 2 * 6);
  assert.equal(t.questions[2]!.ranks![1]![2], 2 * (ranked.ranks! + 1 * ranked.max + 2 + 1));
  assert.equal(layout.length, 2 + (3 + 1) + (4 + 1) + (4 + 1 + 4 * 3));
  assert.throws(
    () => tally.addCounts([1, 2]),
    /Tally counts hold 2 numbers, the election's hold 28/,
  );
});

Deno.test("writeVoteSlot: the message extractEncodedBytes reads, and none where it throws", () => {
  const random = seededRandom("write slot");
  const encodings: Uint8Array[] = [];
  for (let len = 0; len <= MAX_EMBED_BYTES; len++) {
    encodings.push(embedBytes(randomBytes(len, random)).toBytes());
  }
  const padded = embedBytes(new Uint8Array([1, 2])).toBytes();
  padded[10] = 1; // non-zero padding
  const long = new Uint8Array(32);
  long[31] = MAX_EMBED_BYTES + 1; // length byte out of range
  encodings.push(padded, long, BASE_POINT.toBytes(), new Uint8Array(31), randomBytes(32, random));
  for (const element of encodings) {
    const slots = new Uint8Array(2 * VOTE_SLOT_BYTES).fill(0xaa);
    const ok = writeVoteSlot(slots, { at: VOTE_SLOT_BYTES, element });
    let expected: Uint8Array | undefined;
    try {
      expected = extractEncodedBytes(element);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
    }
    assert.equal(ok, expected !== undefined);
    assert.deepEqual(voteSlotMessages(slots.subarray(VOTE_SLOT_BYTES), 1)[0]![0], expected);
    assert.ok(slots.subarray(0, VOTE_SLOT_BYTES).every((b) => b === 0xaa)); // only its slot
    // The same from inside a buffer of several encodings, at either end.
    if (element.length !== 32) continue;
    const buffer = joinBytes([randomBytes(32, random), element, randomBytes(32, random)]);
    const cases = [[buffer, 32], [buffer.subarray(32), 0], [buffer.subarray(0, 64), 32]] as const;
    for (const [source, offset] of cases) {
      const from = new Uint8Array(VOTE_SLOT_BYTES);
      assert.equal(writeVoteSlot(from, { at: 0, element: source, offset }), ok);
      assert.deepEqual(
        from.subarray(0, 1 + (expected?.length ?? 0)),
        slots.subarray(VOTE_SLOT_BYTES, VOTE_SLOT_BYTES + 1 + (expected?.length ?? 0)),
      );
    }
  }
  // Past the end of the buffer: no message.
  {
    const slots = new Uint8Array(VOTE_SLOT_BYTES);
    const element = embedBytes(new Uint8Array([1])).toBytes();
    assert.equal(writeVoteSlot(slots, { at: 0, element, offset: 1 }), false);
    assert.equal(slots[0], VOTE_NO_MESSAGE);
    assert.equal(writeVoteSlot(slots, { at: 0, element: joinBytes([element, element]) }), false);
  }
});

Deno.test("share combination: the tally counted on the workers equals the decoded answers', on 1 and 2 workers", async () => {
  try {
    const random = seededRandom("combine counts");
    const definition = DEFINITIONS[2]!;
    const width = electionBallotLayout(definition).elements.length;
    assert.equal(width, 3);
    const { result, secretShares } = simulateDkg({ threshold: 2, trustees: 3 });
    const elements: Point[][] = Array.from({ length: 45 }, (_, i) => {
      const parts = encodeElectionAnswers(
        definition,
        randomElectionAnswers(definition, random, { blank: 0.3 }),
      ).map((p) => embedBytes(p));
      if (i % 7 === 3) parts[1] = BASE_POINT; // embeds no message
      if (i % 11 === 5) parts[2] = embedBytes(new Uint8Array([255, 255])); // wrong length
      return parts;
    });
    const ciphertexts = elements.map((parts) => encrypt(result.publicKey, parts));
    const posts = [1, 3].map((trustee) => ({
      trustee,
      shares: memoryRecords(
        joinBytes(
          ciphertexts.map((c) =>
            packPoints(createDecryptionShare(secretShares[trustee - 1]!, c).shares)
          ),
        ),
        32 * width,
      ),
    }));
    const records = memoryRecords(joinBytes(ciphertexts.map((c) => c.bytes)), 64 * width);
    let first: ElectionTally | undefined;
    for (const workers of [1, 2]) {
      const fromAnswers = tallyAccumulator(definition), fromCounts = tallyAccumulator(definition);
      let chunks = 0;
      await voteCombineDecryptionSharesRecords(posts, {
        ciphertexts: records,
        definition,
        workers,
        onAnswers: (_lo, answers) => fromAnswers.add(answers),
        onCounts: (_lo, counts) => {
          chunks++;
          fromCounts.addCounts(counts);
        },
      });
      assert.ok(workers === 1 || chunks > 1); // several chunks on workers
      const tally = fromCounts.result();
      assert.deepEqual(tally, fromAnswers.result());
      assert.ok(tally.invalid >= 9 && tally.valid > 20);
      first ??= tally;
      assert.deepEqual(tally, first);
    }
    // Counts only: no answers are decoded for a caller that takes none.
    const counted = tallyAccumulator(definition);
    await voteCombineDecryptionSharesRecords(posts, {
      ciphertexts: records,
      definition,
      workers: 1,
      onCounts: (_lo, counts) => counted.addCounts(counts),
    });
    assert.deepEqual(counted.result(), first);
  } finally {
    await closeWorkerPool();
  }
});

Deno.test("share combination: the first c2 that does not decode, of a ballot whose shares do, is named", async () => {
  const random = seededRandom("bad c2");
  const { result, secretShares } = simulateDkg({ threshold: 2, trustees: 3 });
  const width = 2;
  const ciphertexts = Array.from(
    { length: 5 },
    () =>
      encrypt(result.publicKey, [
        embedBytes(randomBytes(3, random)),
        embedBytes(randomBytes(4, random)),
      ]),
  );
  const shares = [1, 2].map((trustee) =>
    joinBytes(
      ciphertexts.map((c) =>
        packPoints(createDecryptionShare(secretShares[trustee - 1]!, c).shares)
      ),
    )
  );
  const bytes = joinBytes(ciphertexts.map((c) => c.bytes));
  const nonCanonical = new Uint8Array(32).fill(0xff).fill(0x7f, 31);
  const c2At = (i: number, k: number) => (2 * (i * width + k) + 1) * 32; // (c1, c2) per element
  bytes.set(nonCanonical, c2At(1, 0)); // ballot 1: c2 and a share bad, not named
  shares[1]!.set(nonCanonical, (1 * width + 1) * 32);
  bytes.set(nonCanonical, c2At(3, 1)); // ballot 3, element 1: named
  bytes.set(nonCanonical, c2At(4, 0)); // later: not named
  await assert.rejects(
    voteCombineDecryptionSharesRecords(
      [1, 2].map((trustee, t) => ({ trustee, shares: memoryRecords(shares[t]!, 32 * width) })),
      { ciphertexts: memoryRecords(bytes, 64 * width), workers: 1 },
    ),
    (error: Error) =>
      error instanceof InvalidInputError && /ciphertext 3\.c2\[1\]/.test(error.message),
  );
});
