import assert from "node:assert/strict";
import { closeWorkerPool, runWorkerJobs, setWorkerEntry } from "./worker_pool.ts";
import { registerTestTasks } from "./worker_pool_test_entry.ts";
registerTestTasks();

Deno.test("runWorkerJobs: a throwing onResult or argument builder on workers rejects the run", async () => {
  setWorkerEntry(new URL("./worker_pool_test_entry.ts", import.meta.url));
  try {
    const jobs = (failAt: number) => ({
      count: 8,
      args: (i: number) => {
        if (i === failAt) throw new RangeError(`arguments of job ${i}`);
        return [new Uint8Array([i])];
      },
    });
    await assert.rejects(
      runWorkerJobs("test/sum", jobs(-1), {
        workers: 2,
        onResult: (i) => {
          if (i === 2) throw new RangeError("result of job 2");
        },
      }),
      /result of job 2/,
    );
    // Job 6's arguments are built after a result came in (jobs 0..3 start at once).
    await assert.rejects(runWorkerJobs("test/sum", jobs(6), { workers: 2 }), /arguments of job 6/);
    // The pool still serves the next run.
    const out = await runWorkerJobs("test/sum", jobs(-1), { workers: 2 });
    assert.deepEqual(out.map((r) => r[0]![0]), [0, 1, 2, 3, 4, 5, 6, 7]);
  } finally {
    closeWorkerPool();
    setWorkerEntry(undefined);
  }
});
