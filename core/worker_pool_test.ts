import assert from "node:assert/strict";
import { ConfigError, VerificationError } from "./errors.ts";
import {
  closeWorkerPool,
  guidedRanges,
  isWorkerContext,
  registerWorkerTask,
  runWorkerJobs,
  runWorkerTasks,
  setWorkerEntry,
  setWorkerIdleTime,
  splitRange,
  WorkerPool,
} from "./worker_pool.ts";

// The test worker entry registers the same tasks, then serves them.
const ENTRY = new URL("./worker_pool_test_entry.ts", import.meta.url);
import { registerTestTasks } from "./worker_pool_test_entry.ts";
registerTestTasks();

Deno.test("tasks run in-thread with one worker", async () => {
  const out = await runWorkerTasks(
    "test/sum",
    [[new Uint8Array([1, 2, 3])], [new Uint8Array([4])]],
    {
      workers: 1,
    },
  );
  assert.deepEqual(out.map((r) => r[0]![0]), [6, 4]);
  assert.equal(isWorkerContext(), false);
});

Deno.test("tasks run on real workers, errors keep their class", async () => {
  const pool = new WorkerPool({ size: 2, entry: ENTRY });
  try {
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) => pool.run("test/sum", [new Uint8Array(n).fill(n)])),
    );
    assert.deepEqual(results.map((r) => r[0]![0]), [1, 4, 9, 16]);
    let caught: unknown;
    try {
      await pool.run("test/fail", []);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof VerificationError);
    assert.match((caught as Error).message, /planned failure/);
    await assert.rejects(pool.run("test/unknown", []), /not registered/);
  } finally {
    pool.close();
  }
});

Deno.test("a worker entry that cannot load falls back to in-thread execution", async () => {
  // A module that fails while loading (plain JavaScript, so no type-check noise in the log).
  setWorkerEntry("data:text/javascript,throw new Error('entry cannot load')");
  try {
    const out = await runWorkerTasks(
      "test/sum",
      [[new Uint8Array([2, 3])], [new Uint8Array([5])]],
      {
        workers: 2,
      },
    );
    assert.deepEqual(out.map((r) => r[0]![0]), [5, 5]);
  } finally {
    setWorkerEntry(undefined);
  }
});

Deno.test("registering a different task under a taken name is refused", () => {
  registerWorkerTask("test/unique", (a) => a);
  assert.throws(() => registerWorkerTask("test/unique", () => []), /already registered/);
  closeWorkerPool();
});

/** Runs a script in a child Deno (killed after 30 s); asserts it exits 0; its output. */
async function runScript(script: string): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const timer = setTimeout(() => child.kill(), 30_000);
  const out = await child.output();
  clearTimeout(timer);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return out;
}

Deno.test("guidedRanges covers 0..n in order, long chunks first, a shrinking tail on workers", () => {
  const sizes = { maxChunk: 4096, minChunk: 256 };
  for (const n of [1, 2, 7, 100, 2048, 4097, 20_000, 100_003]) {
    for (const workers of [1, 2, 3]) {
      const ranges = guidedRanges(n, workers, sizes);
      let next = 0;
      for (const [lo, hi] of ranges) {
        assert.equal(lo, next);
        assert.ok(hi > lo && hi - lo <= sizes.maxChunk, `chunk ${lo}..${hi} of ${n}`);
        next = hi;
      }
      assert.equal(next, n);
      const lengths = ranges.map(([lo, hi]) => hi - lo);
      if (workers === 1) {
        assert.equal(ranges.length, Math.ceil(n / sizes.maxChunk));
        continue;
      }
      // The last 4·workers·minChunk positions go in chunks of at most 2·minChunk.
      const tail = n - 4 * workers * sizes.minChunk;
      ranges.filter(([lo]) => lo >= tail).forEach(([lo, hi]) => {
        assert.ok(hi - lo <= 2 * sizes.minChunk, `tail chunk ${lo}..${hi} of ${n}`);
      });
      if (n >= 4 * workers * sizes.minChunk) {
        assert.ok(lengths.at(-1)! < 2 * sizes.minChunk, `last chunk ${lengths.at(-1)} for n=${n}`);
        assert.ok(ranges.length >= workers * 2, `only ${ranges.length} chunks for n=${n}`);
      }
    }
  }
});

Deno.test("splitRange cuts 0..count into at most `parts` contiguous near-equal ranges", () => {
  for (const count of [0, 1, 2, 7, 100, 8193]) {
    for (const parts of [1, 2, 3, 8, 1000]) {
      const ranges = splitRange(count, parts);
      assert.ok(ranges.length <= Math.max(1, parts));
      let next = 0;
      for (const [lo, hi] of ranges) {
        assert.equal(lo, next);
        assert.ok(hi > lo);
        next = hi;
      }
      assert.equal(next, count);
      const lengths = ranges.map(([lo, hi]) => hi - lo);
      if (lengths.length > 0) assert.ok(Math.max(...lengths) - Math.min(...lengths) <= 1);
    }
  }
});

Deno.test("an idle pool stops its workers and starts them again on the next task", async () => {
  const pool = new WorkerPool({ size: 2, entry: ENTRY, idleMs: 20 });
  try {
    assert.equal(pool.running, 0);
    const first = await pool.run("test/sum", [new Uint8Array([1, 2])]);
    assert.equal(first[0]![0], 3);
    assert.equal(pool.running, 2, "workers stay for the next task");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(pool.running, 0, "idle workers were stopped");
    const again = await pool.run("test/sum", [new Uint8Array([4])]);
    assert.equal(again[0]![0], 4);
  } finally {
    pool.close();
  }
});

Deno.test("a script that used the shared pool ends without closeWorkerPool()", async () => {
  const script = `
    import { registerTestTasks } from ${JSON.stringify(ENTRY.href)};
    import { runWorkerTasks, setWorkerEntry } from ${
    JSON.stringify(new URL("./worker_pool.ts", import.meta.url).href)
  };
    registerTestTasks();
    setWorkerEntry(${JSON.stringify(ENTRY.href)});
    const out = await runWorkerTasks("test/sum", [[new Uint8Array([1])], [new Uint8Array([2])]], {
      workers: 2,
    });
    console.log(out.map((r) => r[0][0]).join(","));
  `;
  const out = await runScript(script);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "1,2");
});

Deno.test("runWorkerJobs builds arguments on demand and keeps at most `inFlight` jobs", async () => {
  setWorkerEntry(new URL("./worker_pool_test_entry.ts", import.meta.url));
  try {
    for (const [workers, inFlight] of [[2, 4], [2, 2], [1, 1]] as const) {
      let most = 0;
      const built: number[] = [];
      const out = await runWorkerJobs("test/sum", {
        count: 40,
        args: (i) => {
          built.push(i);
          return [new Uint8Array([i, 1])];
        },
      }, {
        workers,
        inFlight,
        onArgs: (started, done) => void (most = Math.max(most, started - done)),
      });
      // Every job ran once, in order, with its own result.
      assert.deepEqual(built, Array.from({ length: 40 }, (_, i) => i));
      assert.deepEqual(out.map((r) => r[0]![0]), Array.from({ length: 40 }, (_, i) => i + 1));
      // Memory holds the arguments of the jobs in flight, never of all 40.
      // (and the window is used: as many jobs as allowed are in flight at the start).
      assert.equal(most, inFlight, `jobs in flight with ${workers} worker(s)`);
    }
  } finally {
    closeWorkerPool();
    setWorkerEntry(undefined);
  }
});

Deno.test("a long idle time keeps workers between tasks; closeWorkerPool() still ends the script", async () => {
  assert.throws(() => setWorkerIdleTime(-1), ConfigError);
  const script = `
    import { registerTestTasks } from ${JSON.stringify(ENTRY.href)};
    import { closeWorkerPool, runWorkerTasks, setWorkerEntry, setWorkerIdleTime } from ${
    JSON.stringify(new URL("./worker_pool.ts", import.meta.url).href)
  };
    registerTestTasks();
    setWorkerEntry(${JSON.stringify(ENTRY.href)});
    setWorkerIdleTime(60_000);
    const jobs = () => [[new Uint8Array([1])], [new Uint8Array([2])]];
    const first = await runWorkerTasks("test/sum", jobs(), { workers: 2 });
    await new Promise((resolve) => setTimeout(resolve, 600)); // past the default 250 ms
    const second = await runWorkerTasks("test/sum", jobs(), { workers: 2 });
    console.log([...first, ...second].map((r) => r[0][0]).join(","));
    closeWorkerPool();
  `;
  const started = performance.now();
  const out = await runScript(script);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "1,2,1,2");
  // Ended by closeWorkerPool(), not by the 60 s idle timer.
  assert.ok(performance.now() - started < 25_000);
});

Deno.test("a pool hands each worker the shared WebAssembly modules, compiled once on this thread", async () => {
  setWorkerEntry(new URL("./worker_pool_test_entry.ts", import.meta.url));
  try {
    const out = await runWorkerJobs("test/shared-wasm", { count: 6, args: () => [] }, {
      workers: 2,
    });
    // Every worker instantiated the module it was handed (no worker compiles it) and runs it.
    assert.deepEqual(out.map((r) => [...r[0]!]), Array.from({ length: 6 }, () => [1, 5]));
  } finally {
    closeWorkerPool();
  }
});
