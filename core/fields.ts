/**
 * Validators for decoded input (msgpack or JSON view). Every reader names the
 * offending value in its error, so bad input is reported precisely.
 * Binary fields accept a `Uint8Array` (msgpack) or base64url text (JSON view).
 *
 * @module
 */

import { fromBase64Url } from "./bytes.ts";
import { InvalidInputError } from "./errors.ts";

/** Length constraints for {@linkcode readBytes}. */
export interface BytesConstraint {
  /** Exact length in bytes. */
  length?: number;
  /** Largest allowed length in bytes. */
  maxLength?: number;
}

/** Range constraints for {@linkcode readInteger}. */
export interface IntegerConstraint {
  /** Smallest allowed value (default 0). */
  min?: number;
  /** Largest allowed value (default `Number.MAX_SAFE_INTEGER`). */
  max?: number;
}

/** Length constraints for {@linkcode readArray}. */
export interface ArrayConstraint {
  /** Smallest allowed length. */
  minLength?: number;
  /** Largest allowed length. */
  maxLength?: number;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return `a ${typeof value}`;
}

/**
 * Reads a plain object (a map).
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the object
 * @throws {InvalidInputError} when the value is not a map
 * @example
 * ```ts
 * import { readRecord } from "./fields.ts";
 * console.assert(readRecord({ a: 1 }, "item").a === 1);
 * ```
 */
export function readRecord(value: unknown, what: string): Record<string, unknown> {
  if (
    typeof value !== "object" || value === null || Array.isArray(value) ||
    value instanceof Uint8Array
  ) {
    throw new InvalidInputError(`Value '${what}' must be a map, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Reads a binary field: `Uint8Array` or base64url text.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @param constraint optional exact or maximum length
 * @returns the bytes (a plain `Uint8Array`, never a subclass)
 * @throws {InvalidInputError} on wrong type or length
 * @example
 * ```ts
 * import { readBytes } from "./fields.ts";
 * console.assert(readBytes("AAE", "x", { length: 2 })[1] === 1);
 * ```
 */
export function readBytes(
  value: unknown,
  what: string,
  constraint: BytesConstraint = {},
): Uint8Array {
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) {
    bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  } else if (typeof value === "string") {
    bytes = fromBase64Url(value, what);
  } else {
    throw new InvalidInputError(
      `Value '${what}' must be bytes or base64url text, got ${describe(value)}`,
    );
  }
  if (constraint.length !== undefined && bytes.length !== constraint.length) {
    throw new InvalidInputError(
      `Value '${what}' must be ${constraint.length} bytes, got ${bytes.length}`,
    );
  }
  if (constraint.maxLength !== undefined && bytes.length > constraint.maxLength) {
    throw new InvalidInputError(
      `Value '${what}' must be at most ${constraint.maxLength} bytes, got ${bytes.length}`,
    );
  }
  return bytes;
}

/**
 * Reads a safe integer within a range.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @param constraint optional range (default 0..MAX_SAFE_INTEGER)
 * @returns the integer
 * @throws {InvalidInputError} when not an integer in range
 * @example
 * ```ts
 * import { readInteger } from "./fields.ts";
 * console.assert(readInteger(3, "n", { max: 5 }) === 3);
 * ```
 */
export function readInteger(
  value: unknown,
  what: string,
  constraint: IntegerConstraint = {},
): number {
  const min = constraint.min ?? 0;
  const max = constraint.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new InvalidInputError(`Value '${what}' must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new InvalidInputError(`Value '${what}' must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/**
 * Reads a finite number.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the number
 * @throws {InvalidInputError} when not a finite number
 * @example
 * ```ts
 * import { readNumber } from "./fields.ts";
 * console.assert(readNumber(0.5, "x") === 0.5);
 * ```
 */
export function readNumber(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new InvalidInputError(`Value '${what}' must be a finite number, got ${describe(value)}`);
  }
  return value;
}

/**
 * Reads a string.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the string
 * @throws {InvalidInputError} when not a string
 * @example
 * ```ts
 * import { readString } from "./fields.ts";
 * console.assert(readString("a", "name") === "a");
 * ```
 */
export function readString(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw new InvalidInputError(`Value '${what}' must be text, got ${describe(value)}`);
  }
  return value;
}

/**
 * Reads an array within length bounds.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @param constraint optional length bounds
 * @returns the array
 * @throws {InvalidInputError} when not an array of allowed length
 * @example
 * ```ts
 * import { readArray } from "./fields.ts";
 * console.assert(readArray([1, 2], "list", { maxLength: 2 }).length === 2);
 * ```
 */
export function readArray(
  value: unknown,
  what: string,
  constraint: ArrayConstraint = {},
): unknown[] {
  if (!Array.isArray(value)) {
    throw new InvalidInputError(`Value '${what}' must be an array, got ${describe(value)}`);
  }
  if (constraint.minLength !== undefined && value.length < constraint.minLength) {
    throw new InvalidInputError(
      `Value '${what}' must hold at least ${constraint.minLength} entries, got ${value.length}`,
    );
  }
  if (constraint.maxLength !== undefined && value.length > constraint.maxLength) {
    throw new InvalidInputError(
      `Value '${what}' must hold at most ${constraint.maxLength} entries, got ${value.length}`,
    );
  }
  return value;
}
