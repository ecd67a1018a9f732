/**
 * Progress lines on standard error for long work, throttled, only when stderr is
 * a terminal (or when forced with --progress).
 *
 * @module
 */

import type { ProgressEvent, ProgressReporter } from "../core/mixer.ts";
import type { OutputSink } from "./context.ts";

const MIN_INTERVAL_MS = 200;

/**
 * A reporter that redraws one status line on the sink.
 *
 * @param sink standard error
 * @param enabled print anything at all
 * @returns the reporter and a `done` function that ends the line
 */
export function terminalProgress(
  sink: OutputSink,
  enabled: boolean,
): { report: ProgressReporter; done: () => Promise<void> } {
  let last = 0;
  let drawn = false;
  let pending: Promise<void> = Promise.resolve();
  const report = (event: ProgressEvent) => {
    if (!enabled) return;
    const now = performance.now();
    if (now - last < MIN_INTERVAL_MS && event.done < event.total) return;
    last = now;
    drawn = true;
    const pct = event.total > 0 ? Math.floor((100 * event.done) / event.total) : 100;
    const line = `${event.phase}: ${event.done}/${event.total} (${pct}%)`;
    pending = pending.then(() => sink.write(sink.isTerminal ? `\r\x1b[2K${line}` : `${line}\n`));
  };
  const done = async () => {
    await pending;
    if (drawn && sink.isTerminal) await sink.write("\n");
  };
  return { report, done };
}
