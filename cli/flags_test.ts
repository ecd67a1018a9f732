import assert from "node:assert/strict";
import { integerFlag, positiveInteger, positiveNumber } from "./flags.ts";
import { UsageError } from "../core/errors.ts";

Deno.test("integer flags accept their range and name the flag otherwise", () => {
  const hops = integerFlag("--hops", { min: 1, max: 5 });
  assert.equal(hops("1"), 1);
  assert.equal(hops("5"), 5);
  for (const bad of ["0", "6", "2.5", "x", ""]) {
    assert.throws(() => hops(bad), (e) => e instanceof UsageError || e instanceof SyntaxError);
  }
  assert.throws(() => hops("6"), /Flag '--hops' must be an integer from 1 to 5, got '6'/);
  assert.equal(positiveInteger("--n", 3)("3"), 3);
  assert.throws(() => positiveInteger("--n", 3)("0"), UsageError);
});

Deno.test("positive numbers reject zero, negatives and infinity", () => {
  const p = positiveNumber("--delta");
  assert.equal(p("1e-6"), 1e-6);
  for (const bad of ["0", "-1", "Infinity"]) assert.throws(() => p(bad), UsageError);
});
