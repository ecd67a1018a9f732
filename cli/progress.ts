/**
 * Progress on standard error for long work: on a terminal one line per phase,
 * redrawn in place (done/total, percentage, rate, time left), ended with a newline
 * when the phase finishes or the next begins; elsewhere (a log file, CI, or with
 * `--progress` into a pipe) plain lines, at most one per phase every 10 seconds plus
 * the phase's last. Enabled when stderr is a terminal, or forced with --progress.
 *
 * @module
 */

import type { ProgressEvent, ProgressReporter } from "../core/mixer.ts";
import type { OutputSink } from "./context.ts";

const TERMINAL_INTERVAL_MS = 200;
const PLAIN_INTERVAL_MS = 10_000;

/**
 * Formats seconds as a short duration: "42 s", "3 min 07 s", "1 h 05 min".
 *
 * @param seconds a duration
 * @returns the text
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * console.assert(formatDuration(187) === "3 min 07 s");
 * ```
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

function formatRate(perSecond: number): string {
  if (perSecond >= 100) return `${Math.round(perSecond).toLocaleString("en-US")}/s`;
  return `${perSecond.toPrecision(2)}/s`;
}

/** Options of {@linkcode terminalProgress}. */
export interface ProgressOptions {
  /** Clock in milliseconds (default `performance.now`); tests pass their own. */
  now?: () => number;
}

/**
 * A reporter that shows each phase's progress with its rate and estimated time left.
 *
 * @param sink standard error
 * @param enabled print anything at all
 * @param options a clock for tests
 * @returns the reporter and a `done` function that ends the last line
 * @example
 * ```ts
 * import { terminalProgress } from "./progress.ts";
 * const lines: string[] = [];
 * const sink = { isTerminal: false, write: async (t: string | Uint8Array) => void lines.push(String(t)) };
 * const { report, done } = terminalProgress(sink, true);
 * report({ phase: "verify", done: 10, total: 10 });
 * await done();
 * console.assert(lines[0]!.startsWith("verify: 10/10 (100%)"));
 * ```
 */
export function terminalProgress(
  sink: OutputSink,
  enabled: boolean,
  options: ProgressOptions = {},
): { report: ProgressReporter; done: () => Promise<void> } {
  const now = options.now ?? (() => performance.now());
  const interval = sink.isTerminal ? TERMINAL_INTERVAL_MS : PLAIN_INTERVAL_MS;
  let phase: string | undefined;
  let started = 0;
  let firstDone = 0; // units already done when the phase's first event came
  let last = -Infinity;
  let open = false; // a terminal line drawn and not yet ended
  let pending: Promise<void> = Promise.resolve();
  const write = (text: string) => {
    pending = pending.then(() => sink.write(text));
  };
  const endLine = () => {
    if (open) write("\n");
    open = false;
  };
  const report = (event: ProgressEvent) => {
    if (!enabled) return;
    const t = now();
    if (event.phase !== phase) {
      endLine();
      phase = event.phase;
      started = t;
      firstDone = event.done;
      last = -Infinity;
    }
    const finished = event.done >= event.total;
    if (!finished && t - last < interval) return;
    last = t;
    const pct = event.total > 0 ? Math.floor((100 * event.done) / event.total) : 100;
    let line = `${event.phase}: ${event.done}/${event.total} (${pct}%)`;
    const elapsed = (t - started) / 1000;
    if (elapsed > 0 && event.done > firstDone) {
      const rate = (event.done - firstDone) / elapsed;
      line += `, ${formatRate(rate)}`;
      line += finished
        ? `, ${formatDuration(elapsed)}`
        : `, about ${formatDuration((event.total - event.done) / rate)} left`;
    }
    if (sink.isTerminal) {
      write(`\r\x1b[2K${line}`);
      open = true;
      if (finished) endLine();
    } else {
      write(`${line}\n`);
    }
  };
  const done = async () => {
    endLine();
    await pending;
  };
  return { report, done };
}
