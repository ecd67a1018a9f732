import assert from "node:assert/strict";
import { formatDuration, terminalProgress } from "./progress.ts";

function recorder(isTerminal: boolean) {
  const writes: string[] = [];
  return {
    writes,
    sink: {
      isTerminal,
      write: (t: string | Uint8Array) => Promise.resolve(void writes.push(String(t))),
    },
  };
}

Deno.test("progress on a terminal: one line per phase redrawn in place, with rate and time left", async () => {
  const { writes, sink } = recorder(true);
  let clock = 0;
  const { report, done } = terminalProgress(sink, true, { now: () => clock });
  report({ phase: "prove", done: 0, total: 1000 });
  clock = 10_000;
  report({ phase: "prove", done: 250, total: 1000 });
  clock = 10_100; // throttled: under 200 ms since the last redraw
  report({ phase: "prove", done: 260, total: 1000 });
  clock = 40_000;
  report({ phase: "prove", done: 1000, total: 1000 });
  clock = 41_000;
  report({ phase: "verify", done: 5, total: 10 });
  await done();
  assert.deepEqual(writes, [
    "\r\x1b[2Kprove: 0/1000 (0%)",
    "\r\x1b[2Kprove: 250/1000 (25%), 25/s, about 30 s left",
    "\r\x1b[2Kprove: 1000/1000 (100%), 25/s, 40 s",
    "\n",
    "\r\x1b[2Kverify: 5/10 (50%)",
    "\n",
  ]);
});

Deno.test("progress into a file: plain lines at most every 10 s per phase, always the last", async () => {
  const { writes, sink } = recorder(false);
  let clock = 0;
  const { report, done } = terminalProgress(sink, true, { now: () => clock });
  for (let i = 1; i <= 100; i++) {
    clock = i * 1000; // one unit per second for 100 s
    report({ phase: "mix", done: i, total: 100 });
  }
  await done();
  assert.equal(writes.length, 11, writes.join("")); // at 1 s, 11 s, …, 91 s, and the last
  assert.ok(writes.every((w) => w.endsWith("\n") && !w.includes("\r")));
  assert.equal(writes.at(-1), "mix: 100/100 (100%), 1.0/s, 1 min 39 s\n");
});

Deno.test("disabled progress writes nothing", async () => {
  const { writes, sink } = recorder(true);
  const { report, done } = terminalProgress(sink, false);
  report({ phase: "x", done: 1, total: 1 });
  await done();
  assert.deepEqual(writes, []);
});

Deno.test("durations read as a person would say them", () => {
  assert.equal(formatDuration(0), "0 s");
  assert.equal(formatDuration(59.4), "59 s");
  assert.equal(formatDuration(187), "3 min 07 s");
  assert.equal(formatDuration(3 * 3600 + 5 * 60 + 9), "3 h 05 min");
});
