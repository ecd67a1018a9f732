import assert from "node:assert/strict";
import {
  BatchTooSmallError,
  ConfigError,
  EXIT_CODES,
  exitCodeFor,
  InvalidInputError,
  PanoramixError,
  VerificationError,
} from "./errors.ts";

Deno.test("typed errors carry stable codes and exit statuses", () => {
  assert.equal(exitCodeFor(new VerificationError("x")), 3);
  assert.equal(exitCodeFor(new InvalidInputError("x")), 4);
  assert.equal(exitCodeFor(new ConfigError("x")), 5);
  assert.equal(exitCodeFor(new BatchTooSmallError("x")), 7);
  assert.equal(exitCodeFor(new Error("x")), 1);
  assert.ok(new ConfigError("x") instanceof PanoramixError);
  const codes = Object.values(EXIT_CODES);
  assert.equal(new Set(codes).size, codes.length, "exit codes must be distinct");
});
