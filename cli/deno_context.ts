/**
 * The real process context: Deno's standard streams and environment.
 *
 * @module
 */

import type { CliContext, OutputSink } from "./context.ts";

const encoder = new TextEncoder();

function sink(file: typeof Deno.stdout | typeof Deno.stderr): OutputSink {
  return {
    isTerminal: file.isTerminal(),
    async write(data) {
      let bytes = typeof data === "string" ? encoder.encode(data) : data;
      while (bytes.length > 0) {
        const n = await file.write(bytes);
        bytes = bytes.subarray(n);
      }
    },
  };
}

function textWriter(file: typeof Deno.stdout | typeof Deno.stderr) {
  return {
    write(text: string) {
      let bytes = encoder.encode(text);
      while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
    },
  };
}

/**
 * Builds the command context of this process.
 *
 * @returns the context over Deno's stdin, stdout, stderr and environment
 */
export function denoContext(): CliContext {
  return {
    process: { stdout: textWriter(Deno.stdout), stderr: textWriter(Deno.stderr) },
    stdin: Deno.stdin.readable,
    stdout: sink(Deno.stdout),
    stderr: sink(Deno.stderr),
    env: Deno.env.toObject(),
  };
}
