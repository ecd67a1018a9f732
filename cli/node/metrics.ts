/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters,
 * gauges and histograms with optional labels, rendered at `GET /metrics`.
 *
 * @module
 */

type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  const escape = (v: string) =>
    v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
  return `{${keys.map((k) => `${k}="${escape(labels[k]!)}"`).join(",")}}`;
}

interface Series {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): string[];
}

/** A monotonically increasing count. */
export class Counter {
  #values = new Map<string, number>();
  /**
   * Adds to the counter.
   *
   * @param amount non-negative amount (default 1)
   * @param labels label values
   */
  inc(amount = 1, labels: Labels = {}): void {
    const k = labelKey(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + amount);
  }
  /**
   * Current value.
   *
   * @param labels label values
   * @returns the count
   */
  value(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  /**
   * Reads the [label key, value] pairs.
   *
   * @returns [label key, value] pairs
   */
  entries(): [string, number][] {
    return [...this.#values.entries()];
  }
}

/** A value that goes up and down, or is read from a callback at scrape time. */
export class Gauge {
  #values = new Map<string, number>();
  #read: (() => number) | undefined;
  /**
   * Creates the instance.
   *
   * @param read optional callback giving the unlabelled value at scrape time
   */
  constructor(read?: () => number) {
    this.#read = read;
  }
  /**
   * Sets the gauge.
   *
   * @param value the value
   * @param labels label values
   */
  set(value: number, labels: Labels = {}): void {
    this.#values.set(labelKey(labels), value);
  }
  /**
   * Reads the [label key, value] pairs.
   *
   * @returns [label key, value] pairs
   */
  entries(): [string, number][] {
    if (this.#read) return [["", this.#read()]];
    return [...this.#values.entries()];
  }
}

/** Default histogram buckets in seconds (1 ms to 60 s). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.001,
  0.005,
  0.01,
  0.05,
  0.1,
  0.5,
  1,
  5,
  10,
  30,
  60,
];

/** A distribution of observed values (e.g. batch durations in seconds). */
export class Histogram {
  #buckets: readonly number[];
  #counts: number[];
  #sum = 0;
  #count = 0;
  /**
   * Creates the instance.
   *
   * @param buckets upper bounds in increasing order
   */
  constructor(buckets: readonly number[] = DEFAULT_BUCKETS) {
    this.#buckets = buckets;
    this.#counts = buckets.map(() => 0);
  }
  /**
   * Records one value.
   *
   * @param value the observation
   */
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (let i = 0; i < this.#buckets.length; i++) {
      if (value <= this.#buckets[i]!) this.#counts[i]!++;
    }
  }
  /**
   * Reads the the number of observations.
   *
   * @returns the number of observations
   */
  get count(): number {
    return this.#count;
  }
  /**
   * Renders the buckets, sum and count.
   *
   * @param name metric name
   * @returns exposition lines
   */
  lines(name: string): string[] {
    const out = this.#buckets.map((b, i) => `${name}_bucket{le="${b}"} ${this.#counts[i]}`);
    out.push(`${name}_bucket{le="+Inf"} ${this.#count}`);
    out.push(`${name}_sum ${this.#sum}`);
    out.push(`${name}_count ${this.#count}`);
    return out;
  }
}

/**
 * A set of named metrics rendered together.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const m = new MetricsRegistry();
 * m.counter("panoramix_packets_in_total", "Packets received").inc();
 * console.assert(m.render().includes("panoramix_packets_in_total 1"));
 * ```
 */
export class MetricsRegistry {
  #series = new Map<string, Series>();
  #objects = new Map<string, Counter | Gauge | Histogram>();

  /**
   * Gets or creates a counter.
   *
   * @param name metric name ending in `_total`
   * @param help one-line description
   * @returns the counter
   */
  counter(name: string, help: string): Counter {
    const existing = this.#objects.get(name);
    if (existing instanceof Counter) return existing;
    const c = new Counter();
    this.#add(name, help, "counter", c, () => c.entries().map(([k, v]) => `${name}${k} ${v}`));
    return c;
  }

  /**
   * Gets or creates a gauge.
   *
   * @param name metric name
   * @param help one-line description
   * @param read optional callback read at scrape time
   * @returns the gauge
   */
  gauge(name: string, help: string, read?: () => number): Gauge {
    const existing = this.#objects.get(name);
    if (existing instanceof Gauge) return existing;
    const g = new Gauge(read);
    this.#add(name, help, "gauge", g, () => g.entries().map(([k, v]) => `${name}${k} ${v}`));
    return g;
  }

  /**
   * Gets or creates a histogram.
   *
   * @param name metric name (seconds as unit suffix recommended)
   * @param help one-line description
   * @returns the histogram
   */
  histogram(name: string, help: string): Histogram {
    const existing = this.#objects.get(name);
    if (existing instanceof Histogram) return existing;
    const h = new Histogram();
    this.#add(name, help, "histogram", h, () => h.lines(name));
    return h;
  }

  #add(
    name: string,
    help: string,
    type: Series["type"],
    obj: Counter | Gauge | Histogram,
    render: () => string[],
  ): void {
    this.#objects.set(name, obj);
    this.#series.set(name, { name, help, type, render });
  }

  /**

   * Reads the the text exposition of every metric.
   *

   * @returns the text exposition of every metric

   */
  render(): string {
    const lines: string[] = [];
    for (const s of this.#series.values()) {
      lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`, ...s.render());
    }
    return lines.join("\n") + "\n";
  }
}
