import assert from "node:assert/strict";
import { createElectionDefinition } from "./definition.ts";
import { randomElectionAnswers } from "./simulate.ts";

const definition = createElectionDefinition({
  id: "sim",
  trustees: 1,
  mixers: 1,
  questions: [
    { text: "Chair?", choices: ["Ann", "Bob"] },
    { text: "Approve?", choices: ["a", "b", "c"], type: "multiple" },
    { text: "Order?", choices: ["x", "y", "z"], type: "ranked", max: 2 },
  ],
});

Deno.test("simulated voters choose like voters: no blank answers unless asked for", () => {
  // Issue 14: `vote run` made 532 of 1,000 voters blank on a 2-choice question (min 0 was
  // drawn as often as a choice). A voter picks at least one choice.
  const counts = [0, 0];
  for (let i = 0; i < 1000; i++) {
    const [single, multiple, ranked] = randomElectionAnswers(definition);
    assert.equal(single!.length, 1);
    counts[single![0]!]!++;
    assert.ok(multiple!.length >= 1 && multiple!.length <= 3);
    assert.ok(ranked!.length >= 1 && ranked!.length <= 2);
    assert.equal(new Set(ranked).size, ranked!.length);
  }
  // Both choices get votes (each is a fair coin: 500 ± 5 standard deviations).
  assert.ok(counts[0]! > 420 && counts[1]! > 420, `counts ${counts}`);
});

Deno.test("simulated voters vote blank at the requested rate", () => {
  let blanks = 0;
  for (let i = 0; i < 1000; i++) {
    if (randomElectionAnswers(definition, undefined, { blank: 0.25 })[0]!.length === 0) blanks++;
  }
  assert.ok(blanks > 180 && blanks < 320, `blanks ${blanks}`);
  assert.throws(() => randomElectionAnswers(definition, undefined, { blank: 2 }), /Blank rate/);
});
