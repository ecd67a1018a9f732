/**
 * Structured logs: one JSON object per line on standard error, with a time, a
 * level, an event name and fields. Operators feed them to any log shipper.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Writes one finished log line (without the newline). */
export type LogSink = (line: string) => void;

/** A structured logger. */
export interface Logger {
  /**
   * Logs an event.
   *
   * @param level severity
   * @param event short snake_case event name, e.g. "post_accepted"
   * @param fields extra JSON-serialisable fields
   */
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  /**
   * A logger that adds fixed fields (e.g. the role) to every line.
   *
   * @param fields fields to add
   * @returns the child logger
   */
  child(fields: Record<string, unknown>): Logger;
}

const encoder = new TextEncoder();

/** The default sink: synchronous writes to standard error (lines never interleave). */
export const stderrSink: LogSink = (line) => {
  let bytes = encoder.encode(line + "\n");
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
};

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Smallest level written (default "info"). */
  level?: LogLevel;
  /** Where lines go (default standard error). */
  sink?: LogSink;
  /** Fields on every line. */
  fields?: Record<string, unknown>;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/**
 * Creates a JSON-lines logger.
 *
 * @param options level, sink and fixed fields
 * @returns the logger
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * createLogger({ sink: (l) => lines.push(l) }).log("info", "started", { port: 1 });
 * console.assert(JSON.parse(lines[0]!).event === "started");
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const sink = options.sink ?? stderrSink;
  const base = options.fields ?? {};
  return {
    log(level, event, fields = {}) {
      if (RANK[level] < min) return;
      const record: Record<string, unknown> = {
        time: new Date().toISOString(),
        level,
        event,
        ...base,
      };
      for (const [k, v] of Object.entries(fields)) record[k] = errorFields(v);
      sink(JSON.stringify(record));
    },
    child(fields) {
      return createLogger({ ...options, fields: { ...base, ...fields } });
    },
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = {
  log() {},
  child() {
    return silentLogger;
  },
};
