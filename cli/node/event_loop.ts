/**
 * Event-loop stall metric (issue 11 §10): a 10 ms interval timer measures how late it
 * runs; the largest delay since start is `panoramix_event_loop_stall_max_seconds`, and
 * delays over 100 ms are counted in `panoramix_event_loop_stalls_total`. A node whose
 * loop stalls answers nothing meanwhile (health included), so this is what a flood test
 * reads from the node process.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";

/** Period of the probe timer in ms. */
export const EVENT_LOOP_PROBE_MS = 10;

/**
 * Starts the probe (an unreferenced timer: it keeps no process alive).
 *
 * @param metrics where the gauge and the counter are registered
 * @param logger optional: a stall over 500 ms is logged (`event_loop_stall`, at most once a
 *   second) with its length and the time it ended, to find what caused it
 * @returns a function that stops the probe
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * import { watchEventLoop } from "./event_loop.ts";
 * const stop = watchEventLoop(new MetricsRegistry());
 * stop();
 * ```
 */
export function watchEventLoop(metrics: MetricsRegistry, logger?: Logger): () => void {
  let worst = 0;
  metrics.gauge(
    "panoramix_event_loop_stall_max_seconds",
    "Largest delay of the event loop since start (a 10 ms timer run late), seconds",
    () => worst / 1000,
  );
  const stalls = metrics.counter(
    "panoramix_event_loop_stalls_total",
    "Times the event loop was blocked for more than 100 ms",
  );
  let last = performance.now();
  let logged = -Infinity;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - last - EVENT_LOOP_PROBE_MS);
    last = now;
    if (late > worst) worst = late;
    if (late > 100) stalls.inc(1);
    if (late > 500 && logger !== undefined && now - logged > 1000) {
      logged = now;
      logger.log("warn", "event_loop_stall", { ms: Math.round(late) });
    }
  }, EVENT_LOOP_PROBE_MS);
  if (typeof Deno !== "undefined") Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
