/**
 * The context every command receives. It wraps the process streams so commands
 * can run in-process under tests with in-memory streams.
 *
 * @module
 */

import type { CommandContext } from "@stricli/core";

/** A sink for text or bytes. */
export interface OutputSink {
  /**
   * Writes text (UTF-8) or bytes.
   *
   * @param data what to write
   */
  write(data: string | Uint8Array): Promise<void>;
  /** True when the sink is an interactive terminal. */
  readonly isTerminal: boolean;
}

/** The command context: stricli's text streams plus binary stdin/stdout and stderr. */
export interface CliContext extends CommandContext {
  /** Text streams used by stricli for help and usage errors. */
  readonly process: {
    readonly stdout: { write(text: string): void };
    readonly stderr: { write(text: string): void };
    exitCode?: number | string | null;
  };
  /** Standard input as a byte stream. */
  readonly stdin: ReadableStream<Uint8Array>;
  /** Standard output. */
  readonly stdout: OutputSink;
  /** Standard error (diagnostics and progress). */
  readonly stderr: OutputSink;
  /** Environment variables visible to the command. */
  readonly env: Readonly<Record<string, string>>;
}
