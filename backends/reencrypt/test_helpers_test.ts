// Shared helpers for this folder's tests (a *_test.ts file so it is never part of the library).
import assert from "node:assert/strict";

/**
 * Asserts that a promise or function rejects with an error of the given class.
 *
 * @param fn the code expected to fail
 * @param errorClass the expected class
 * @param pattern optional message pattern
 */
export async function assertRejectsWith(
  fn: () => unknown,
  errorClass: abstract new (...args: never[]) => Error,
  pattern?: RegExp,
): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, "expected an error, none thrown");
  assert.ok(
    caught instanceof errorClass,
    `expected ${errorClass.name}, got ${(caught as Error)?.name}: ${(caught as Error)?.message}`,
  );
  if (pattern !== undefined) assert.match((caught as Error).message, pattern);
}
