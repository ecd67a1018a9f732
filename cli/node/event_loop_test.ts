import assert from "node:assert/strict";
import { watchEventLoop } from "./event_loop.ts";
import { MetricsRegistry } from "./metrics.ts";
import { silentLogger } from "./log.ts";

Deno.test("a blocked event loop shows in the stall metrics", async () => {
  const metrics = new MetricsRegistry();
  const logged: string[] = [];
  const logger = {
    ...silentLogger,
    log: (_level: string, event: string) => void logged.push(event),
  };
  const stop = watchEventLoop(metrics, logger as typeof silentLogger);
  try {
    await new Promise((r) => setTimeout(r, 30));
    const busyUntil = performance.now() + 600;
    while (performance.now() < busyUntil) { /* block the loop */ }
    await new Promise((r) => setTimeout(r, 30));
    const text = metrics.render();
    const max = Number(/^panoramix_event_loop_stall_max_seconds (\S+)$/m.exec(text)?.[1]);
    assert.ok(max >= 0.55 && max < 10, `stall max ${max} s`);
    assert.deepEqual(logged, ["event_loop_stall"]);
    assert.match(text, /^panoramix_event_loop_stalls_total 1$/m);
  } finally {
    stop();
  }
});
