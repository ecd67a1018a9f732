import assert from "node:assert/strict";
import { watchEventLoop } from "./event_loop.ts";
import { MetricsRegistry } from "./metrics.ts";

Deno.test("a blocked event loop shows in the stall metrics", async () => {
  const metrics = new MetricsRegistry();
  const stop = watchEventLoop(metrics);
  try {
    await new Promise((r) => setTimeout(r, 30));
    const busyUntil = performance.now() + 250;
    while (performance.now() < busyUntil) { /* block the loop */ }
    await new Promise((r) => setTimeout(r, 30));
    const text = metrics.render();
    const max = Number(/^panoramix_event_loop_stall_max_seconds (\S+)$/m.exec(text)?.[1]);
    assert.ok(max >= 0.2 && max < 5, `stall max ${max} s`);
    assert.match(text, /^panoramix_event_loop_stalls_total 1$/m);
  } finally {
    stop();
  }
});
