/**
 * File and stream helpers of the command line: read whole inputs, read and write
 * envelope files (JSON view or msgpack, detected), write secrets with mode 0600.
 *
 * @module
 */

import { decodeMsgpack, type Envelope, toJsonView } from "../core/envelope.ts";
import { ConfigError, InvalidInputError, NotFoundError } from "../core/errors.ts";
import { readInteger, readRecord, readString } from "../core/fields.ts";
import { detectItemFormat } from "../core/item_stream.ts";

/**
 * Reads a file, or standard input for "-".
 *
 * @param path file path or "-"
 * @param stdin the standard input stream
 * @returns the whole contents
 * @throws {NotFoundError} when the file does not exist
 */
export async function readInput(
  path: string,
  stdin: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  if (path === "-") return await new Response(stdin).bytes();
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`File '${path}' does not exist`, { cause: error });
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new InvalidInputError(`Path '${path}' is a directory, expected a file`);
    }
    throw error;
  }
}

/**
 * Reads an envelope file (JSON view or msgpack) without checking its kind.
 *
 * @param path file path
 * @param stdin standard input, used when the path is "-"
 * @returns the envelope
 * @throws {InvalidInputError} when the file is not one envelope
 */
export async function readAnyEnvelopeFile(
  path: string,
  stdin: ReadableStream<Uint8Array>,
): Promise<Envelope> {
  const bytes = await readInput(path, stdin);
  let value: unknown;
  if (detectItemFormat(bytes) === "ndjson") {
    try {
      value = JSON.parse(new TextDecoder().decode(bytes));
    } catch (error) {
      throw new InvalidInputError(`File '${path}' is not valid JSON: ${(error as Error).message}`);
    }
  } else {
    value = decodeMsgpack(bytes, path);
  }
  // Kind and version are checked here only for shape; each kind's decoder checks the versions it reads.
  const record = readRecord(value, path);
  readString(record.kind, `${path}.kind`);
  readInteger(record.v, `${path}.v`, { min: 1 });
  return record as Envelope;
}

/** Options of {@linkcode writeEnvelopeFile}. */
export interface WriteEnvelopeOptions {
  /** Write with mode 0600 (secrets). */
  secret?: boolean;
  /** Replace an existing file. */
  overwrite?: boolean;
}

/**
 * Writes an envelope as pretty JSON (the JSON view).
 *
 * @param path file path
 * @param envelope the envelope
 * @param options secrecy and overwrite
 * @throws {ConfigError} when the file exists and overwrite is off, or cannot be written
 * @throws {NotFoundError} when the file's folder does not exist
 */
export async function writeEnvelopeFile(
  path: string,
  envelope: Envelope,
  options: WriteEnvelopeOptions = {},
): Promise<void> {
  const text = JSON.stringify(toJsonView(envelope), null, 2) + "\n";
  try {
    await Deno.writeTextFile(path, text, {
      createNew: !options.overwrite,
      mode: options.secret ? 0o600 : 0o644,
    });
    if (options.secret) await Deno.chmod(path, 0o600);
  } catch (error) {
    throw fileWriteError(path, error);
  }
}

/**
 * The typed error for a file that could not be created for writing: it exists (and
 * `--force` was not given), its folder does not exist, or it cannot be written.
 *
 * @param path the file
 * @param error what `Deno.open` / `Deno.writeFile` threw
 * @returns a {@linkcode ConfigError} or {@linkcode NotFoundError} naming the file, or `error`
 */
export function fileWriteError(path: string, error: unknown): unknown {
  if (error instanceof Deno.errors.AlreadyExists) {
    return new ConfigError(`File '${path}' already exists; pass --force to replace it`);
  }
  if (error instanceof Deno.errors.NotFound) {
    return new NotFoundError(`Cannot write '${path}': its folder does not exist`, {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.IsADirectory) {
    return new ConfigError(`Cannot write '${path}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error;
}
