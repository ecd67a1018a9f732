/**
 * Typed errors shared by every layer of Panoramix.
 *
 * Each error carries a stable machine-readable `code`; the command line maps
 * codes to exit statuses (see {@linkcode exitCodeFor}) so scripts can tell a
 * failed proof from a malformed file.
 *
 * @module
 */

/** Stable error codes. Never renumber or rename: scripts depend on them. */
export type ErrorCode =
  | "invalid_input"
  | "verification_failed"
  | "config"
  | "usage"
  | "not_found"
  | "batch_too_small"
  | "replay"
  | "unavailable"
  | "integrity"
  | "internal";

/** Exit status for each error code, used by `panoramix` (documented in docs/cli.md). */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  internal: 1,
  usage: 2,
  verification_failed: 3,
  invalid_input: 4,
  config: 5,
  not_found: 6,
  batch_too_small: 7,
  replay: 8,
  unavailable: 9,
  integrity: 10,
};

/** Options accepted by every Panoramix error. */
export interface PanoramixErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Base class of every error Panoramix throws on purpose.
 *
 * @example
 * ```ts
 * import { InvalidInputError, PanoramixError } from "./errors.ts";
 * const err = new InvalidInputError("Field 'c' is missing");
 * console.assert(err instanceof PanoramixError && err.code === "invalid_input");
 * ```
 */
export class PanoramixError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;

  /**
   * Creates the error.
   *
   * @param code stable error code
   * @param message sentence-case message naming the value and the failed action
   * @param options optional cause
   */
  constructor(code: ErrorCode, message: string, options: PanoramixErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = "PanoramixError";
  }
}

/** Input (an item, packet, ballot, proof, file) is malformed. */
export class InvalidInputError extends PanoramixError {
  /**
   * Creates the error.
   *
   * @param message what is wrong and where
   * @param options optional cause
   */
  constructor(message: string, options: PanoramixErrorOptions = {}) {
    super("invalid_input", message, options);
    this.name = "InvalidInputError";
  }
}

/** A cryptographic check (proof, MAC, signature, share) failed. */
export class VerificationError extends PanoramixError {
  /**
   * Creates the error.
   *
   * @param message which check failed
   * @param options optional cause
   */
  constructor(message: string, options: PanoramixErrorOptions = {}) {
    super("verification_failed", message, options);
    this.name = "VerificationError";
  }
}

/** A configuration file or option is invalid. */
export class ConfigError extends PanoramixError {
  /**
   * Creates the error.
   *
   * @param message which setting is wrong
   * @param options optional cause
   */
  constructor(message: string, options: PanoramixErrorOptions = {}) {
    super("config", message, options);
    this.name = "ConfigError";
  }
}

/** The command line was used wrongly (unknown backend, missing flag). */
export class UsageError extends PanoramixError {
  /**
   * Creates the error.
   *
   * @param message what was wrong with the invocation
   * @param options optional cause
   */
  constructor(message: string, options: PanoramixErrorOptions = {}) {
    super("usage", message, options);
    this.name = "UsageError";
  }
}

/** A named thing (file, backend, node, key) does not exist. */
export class NotFoundError extends PanoramixError {
  /**
   * Creates the error.
   *
   * @param message what was not found
   * @param options optional cause
   */
  constructor(message: string, options: PanoramixErrorOptions = {}) {
    super("not_found", message, options);
    this.name = "NotFoundError";
  }
}

/** A batch is smaller than the minimum that gives its members anonymity. */
export class BatchTooSmallError extends PanoramixError {
  /**
   * Creates the error.
   *
   * @param message the size and the minimum
   * @param options optional cause
   */
  constructor(message: string, options: PanoramixErrorOptions = {}) {
    super("batch_too_small", message, options);
    this.name = "BatchTooSmallError";
  }
}

/** A packet or ballot was seen before. */
export class ReplayError extends PanoramixError {
  /**
   * Creates the error.
   *
   * @param message what was replayed
   * @param options optional cause
   */
  constructor(message: string, options: PanoramixErrorOptions = {}) {
    super("replay", message, options);
    this.name = "ReplayError";
  }
}

/** Stored data is damaged or lost data that was acknowledged (a node refuses to serve it). */
export class IntegrityError extends PanoramixError {
  /**
   * Creates the error.
   *
   * @param message what is damaged or missing
   * @param options optional cause
   */
  constructor(message: string, options: PanoramixErrorOptions = {}) {
    super("integrity", message, options);
    this.name = "IntegrityError";
  }
}

/**
 * Exit status for any thrown value: the mapped code for a {@linkcode PanoramixError},
 * 1 (internal) for anything else.
 *
 * @param error the thrown value
 * @returns the process exit status
 * @example
 * ```ts
 * import { exitCodeFor, VerificationError } from "./errors.ts";
 * console.assert(exitCodeFor(new VerificationError("bad proof")) === 3);
 * ```
 */
export function exitCodeFor(error: unknown): number {
  return error instanceof PanoramixError ? EXIT_CODES[error.code] : EXIT_CODES.internal;
}
