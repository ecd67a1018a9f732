/**
 * The real process context: Deno's standard streams and environment.
 *
 * @module
 */

import { PanoramixError } from "../core/errors.ts";
import type { CliContext, OutputSink } from "./context.ts";

const encoder = new TextEncoder();

function sink(file: typeof Deno.stdout | typeof Deno.stderr): OutputSink {
  return {
    isTerminal: file.isTerminal(),
    async write(data) {
      let bytes = typeof data === "string" ? encoder.encode(data) : data;
      try {
        while (bytes.length > 0) {
          const n = await file.write(bytes);
          bytes = bytes.subarray(n);
        }
      } catch (error) {
        // The reader went away (e.g. the next command of a pipeline failed): one line, exit 9.
        if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
        throw new PanoramixError(
          "unavailable",
          "Output was closed before it was complete (broken pipe: the reading command ended)",
          { cause: error },
        );
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

/** Said on stderr when a command starts reading a terminal, so it does not look hung. */
export const STDIN_TERMINAL_HINT =
  "panoramix: reading items from stdin (the terminal); end with Ctrl-D, or give a file " +
  "with '< FILE' or --input FILE\n";

/**
 * Wraps standard input so that, when it is a terminal, the first read says on stderr that
 * the command waits for input. The source is only opened when a command reads it.
 *
 * @param open opens the underlying stream
 * @param options whether stdin is a terminal and where the hint goes
 * @returns the stream commands read
 * @example
 * ```ts
 * import { hintingStdin } from "./deno_context.ts";
 * const said: string[] = [];
 * const stdin = hintingStdin(() => ReadableStream.from([new Uint8Array([1])]), {
 *   isTerminal: true,
 *   hint: (text) => said.push(text),
 * });
 * await new Response(stdin).bytes();
 * console.assert(said.length === 1);
 * ```
 */
export function hintingStdin(
  open: () => ReadableStream<Uint8Array>,
  options: { isTerminal: boolean; hint: (text: string) => void },
): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (reader === undefined) {
        if (options.isTerminal) options.hint(STDIN_TERMINAL_HINT);
        reader = open().getReader();
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await reader?.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Builds the command context of this process.
 *
 * @returns the context over Deno's stdin, stdout, stderr and environment
 */
export function denoContext(): CliContext {
  const stderr = textWriter(Deno.stderr);
  return {
    process: { stdout: textWriter(Deno.stdout), stderr },
    stdin: hintingStdin(() => Deno.stdin.readable, {
      isTerminal: Deno.stdin.isTerminal(),
      hint: (text) => stderr.write(text),
    }),
    stdout: sink(Deno.stdout),
    stderr: sink(Deno.stderr),
    env: Deno.env.toObject(),
  };
}
