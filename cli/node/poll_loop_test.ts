import assert from "node:assert/strict";
import { PollLoop } from "./poll_loop.ts";

Deno.test("poll loop: steps repeat, a failing step is reported and the loop goes on, wake skips the wait", async () => {
  let steps = 0;
  const errors: unknown[] = [];
  const loop = new PollLoop({
    intervalMs: 60_000,
    step: () => {
      steps++;
      return steps === 1 ? Promise.reject(new Error("first fails")) : Promise.resolve();
    },
    onError: (e) => errors.push(e),
  });
  assert.equal(loop.stopping, false);
  loop.start();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(steps, 1, "waiting a minute after the first step");
  loop.wake();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(steps, 2, "woken early");
  assert.equal((errors[0] as Error).message, "first fails");
  const stopped = loop.stop();
  assert.equal(loop.stopping, true);
  await stopped;
  assert.equal(steps, 2, "no step after stop");
});
