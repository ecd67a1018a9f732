import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import {
  decodeElectionAnswers,
  electionBallotLayout,
  encodeElectionAnswers,
  VOTE_ELEMENT_BYTES,
} from "./answers.ts";
import { createElectionDefinition, type ElectionDefinition } from "./definition.ts";

function mixed(): ElectionDefinition {
  return createElectionDefinition({
    id: "answers-test",
    trustees: 1,
    mixers: 1,
    questions: [
      { text: "Chair", choices: ["a", "b", "c"] },
      { text: "Board", choices: ["p", "q", "r", "s"], type: "multiple", min: 1, max: 2 },
      { text: "Order", choices: ["x", "y", "z", "w", "v"], type: "ranked", min: 0, max: 3 },
    ],
  });
}

function randomAnswers(d: ElectionDefinition, rand: () => number): number[][] {
  return d.questions.map((q) => {
    const order = q.choices.map((_, i) => i).sort(() => rand() - 0.5);
    const n = q.min + Math.floor(rand() * (q.max - q.min + 1));
    const picked = order.slice(0, n);
    return q.type === "ranked" ? picked : picked.sort((a, b) => a - b);
  });
}

Deno.test("answers: single, multiple and ranked pack into one element and round-trip", () => {
  const d = mixed();
  const layout = electionBallotLayout(d);
  assert.equal(layout.elements.length, 1);
  assert.deepEqual(layout.radices, [4n, 16n, 6n * 5n * 4n]);
  const answers = [[1], [0, 3], [4, 0]];
  const parts = encodeElectionAnswers(d, answers);
  assert.equal(parts.length, 1);
  assert.deepEqual(decodeElectionAnswers(d, parts), answers);
});

Deno.test("answers: property — random valid answers round-trip", () => {
  const d = mixed();
  const stream = seededRandom("answers-property");
  const rand = () => {
    const b = new Uint8Array(4);
    stream(b);
    return new DataView(b.buffer).getUint32(0) / 2 ** 32;
  };
  for (let i = 0; i < 300; i++) {
    const answers = randomAnswers(d, rand);
    assert.deepEqual(decodeElectionAnswers(d, encodeElectionAnswers(d, answers)), answers);
  }
});

Deno.test("answers: every value of a small space decodes to a valid answer or undefined, injectively", () => {
  const d = mixed();
  const capacity = Number(electionBallotLayout(d).elements[0]!.capacity);
  const seen = new Set<string>();
  let valid = 0;
  for (let v = 0; v < capacity; v++) {
    const answers = decodeElectionAnswers(d, [new Uint8Array([v >> 8, v & 255])]);
    if (answers === undefined) continue;
    valid++;
    const key = JSON.stringify(answers);
    assert.ok(!seen.has(key));
    seen.add(key);
    assert.deepEqual(decodeElectionAnswers(d, encodeElectionAnswers(d, answers)), answers);
  }
  // 3 choices + blank; 4 + 6 sets of size 1..2; 1 + 5 + 20 + 60 rankings of length 0..3.
  assert.equal(valid, 4 * 10 * 86);
});

Deno.test("answers: invalid answers are rejected with InvalidInputError", () => {
  const d = mixed();
  assert.throws(() => encodeElectionAnswers(d, [[1], [0]]), InvalidInputError);
  assert.throws(() => encodeElectionAnswers(d, [[3], [0], []]), /choice '3'/);
  assert.throws(() => encodeElectionAnswers(d, [[0, 1], [0], []]), /must hold 0 to 1/);
  assert.throws(() => encodeElectionAnswers(d, [[0], [], []]), /must hold 1 to 2/);
  assert.throws(() => encodeElectionAnswers(d, [[0], [1, 1], []]), /twice/);
  assert.throws(() => encodeElectionAnswers(d, [[0], [1], [1, 2, 3, 4]]), InvalidInputError);
});

Deno.test("answers: out-of-range and malformed plaintexts decode as invalid", () => {
  const d = mixed();
  assert.equal(decodeElectionAnswers(d, [new Uint8Array([255, 255])]), undefined);
  assert.equal(decodeElectionAnswers(d, [new Uint8Array([0])]), undefined);
  assert.equal(decodeElectionAnswers(d, []), undefined);
  assert.equal(decodeElectionAnswers(d, [undefined]), undefined);
  // A ranking with a gap (digit 0 then a choice) is invalid: question 3 digits (0, 1, 0).
  const gap = 0n + 4n * (1n + 16n * (0n + 6n * 1n));
  assert.equal(
    decodeElectionAnswers(d, [new Uint8Array([Number(gap >> 8n), Number(gap & 255n)])]),
    undefined,
  );
});

Deno.test("answers: large elections split over several elements; oversize questions rejected", () => {
  const many = createElectionDefinition({
    id: "many",
    trustees: 1,
    mixers: 1,
    questions: Array.from({ length: 10 }, (_, i) => ({
      text: `Q${i}`,
      choices: Array.from({ length: 40 }, (_, j) => `c${j}`),
      type: "multiple" as const,
    })),
  });
  const layout = electionBallotLayout(many);
  assert.equal(layout.elements.length, 2); // 6 × 40 bits, then 4 × 40 bits
  assert.ok(layout.elements.every((e) => e.bytes <= VOTE_ELEMENT_BYTES));
  const answers = many.questions.map((_, i) => [i, 39 - i]);
  assert.deepEqual(decodeElectionAnswers(many, encodeElectionAnswers(many, answers)), answers);
  const huge = createElectionDefinition({
    id: "huge",
    trustees: 1,
    mixers: 1,
    questions: [{
      text: "Q",
      choices: Array.from({ length: 241 }, (_, j) => `c${j}`),
      type: "multiple",
    }],
  });
  assert.throws(() => electionBallotLayout(huge), /more than one group element/);
});

Deno.test("answers: elements up to 2^53 values (number arithmetic) and above (bigints) give the same bytes as their values", () => {
  // Capacity 2^53 is encoded with numbers, 2^54 with bigints: each value's big-endian bytes.
  for (const choices of [53, 54]) {
    const d = createElectionDefinition({
      id: `bits-${choices}`,
      trustees: 1,
      mixers: 1,
      questions: [
        {
          text: "Q",
          choices: Array.from({ length: choices }, (_, j) => `c${j}`),
          type: "multiple",
          min: 0,
          max: choices,
        },
      ],
    });
    for (const answer of [[], [0], [choices - 1], Array.from({ length: choices }, (_, j) => j)]) {
      const [part] = encodeElectionAnswers(d, [answer]);
      let value = 0n;
      for (const i of answer) value |= 1n << BigInt(i);
      const expected = new Uint8Array(7);
      for (let b = 6; b >= 0; b--, value >>= 8n) expected[b] = Number(value & 0xffn);
      assert.deepEqual(part, expected, `${choices} choices, answer [${answer.join()}]`);
      assert.deepEqual(decodeElectionAnswers(d, [part!]), [answer]);
    }
  }
  // A ranked question (radix 6·5·4): [4, 0, 2] has digits 5, 1, 2 (value 5 + 1·6 + 2·30 = 71),
  // after a single [0] (value 1, radix 4) and a multiple [1] (value 2, radix 16).
  const value = 1 + 4 * (2 + 16 * 71);
  assert.deepEqual(encodeElectionAnswers(mixed(), [[0], [1], [4, 0, 2]]), [
    new Uint8Array([value >> 8, value & 255]),
  ]);
});
