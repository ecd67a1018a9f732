/**
 * An in-memory command context for tests: feed stdin bytes, read what the
 * command wrote to stdout and stderr.
 *
 * @module
 */

import type { CliContext, OutputSink } from "./context.ts";
import { runPanoramix } from "./app.ts";
import { concatBytes } from "../core/bytes.ts";

/** What a command run produced. */
export interface CliRun {
  /** Exit status. */
  status: number;
  /** Standard output as bytes. */
  stdoutBytes: Uint8Array;
  /** Standard output as text. */
  stdout: string;
  /** Standard error as text. */
  stderr: string;
}

function memorySink(chunks: Uint8Array[]): OutputSink {
  return {
    isTerminal: false,
    write(data) {
      chunks.push(typeof data === "string" ? new TextEncoder().encode(data) : data.slice());
      return Promise.resolve();
    },
  };
}

/**
 * Runs `panoramix` in-process with the given arguments and stdin.
 *
 * @param args command-line arguments
 * @param stdin bytes or text fed to standard input
 * @returns status and captured output
 */
export async function runInMemory(
  args: readonly string[],
  stdin: Uint8Array | string = new Uint8Array(),
): Promise<CliRun> {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const input = typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
  const stdoutSink = memorySink(out);
  const stderrSink = memorySink(err);
  const context: CliContext = {
    process: {
      stdout: { write: (text) => void stdoutSink.write(text) },
      stderr: { write: (text) => void stderrSink.write(text) },
    },
    stdin: ReadableStream.from([input]),
    stdout: stdoutSink,
    stderr: stderrSink,
    env: {},
  };
  const status = await runPanoramix(args, context);
  const stdoutBytes = concatBytes(...out);
  return {
    status,
    stdoutBytes,
    stdout: new TextDecoder().decode(stdoutBytes),
    stderr: new TextDecoder().decode(concatBytes(...err)),
  };
}
