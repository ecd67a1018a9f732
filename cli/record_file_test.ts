import assert from "node:assert/strict";
import { encodeMsgpack } from "../core/envelope.ts";
import { InvalidInputError } from "../core/errors.ts";
import { memoryRecords } from "../core/records.ts";
import { RecordFile, Spool } from "./record_file.ts";

Deno.test("spool files read back what was written, by range and by index, like memory records", async () => {
  const spool = await Spool.create();
  try {
    const bytes = crypto.getRandomValues(new Uint8Array(64 * 1000));
    const sink = spool.sinks("outputs", 1000, 64);
    for (const lo of [500, 0, 250, 750]) sink.write(lo, bytes.subarray(lo * 64, (lo + 250) * 64));
    const file = sink.finish();
    const memory = memoryRecords(bytes, 64);
    assert.deepEqual(file.read(0, 1000), bytes);
    assert.deepEqual(file.read(123, 457), memory.read(123, 457));
    const order = [999, 0, 500, 500, 1, 998];
    assert.deepEqual(file.gather(order), memory.gather(order));
    assert.throws(() => file.read(0, 1001), InvalidInputError);
    assert.throws(() => sink.write(999, new Uint8Array(128)), /outside/);
  } finally {
    spool.close();
  }
  await assert.rejects(Deno.stat(spool.dir), Deno.errors.NotFound);
});

Deno.test("a framed region of a msgpack file reads its byte strings in place", async () => {
  const items = Array.from({ length: 50 }, () => crypto.getRandomValues(new Uint8Array(32)));
  const encoded = encodeMsgpack({ before: "x", list: items });
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, encoded);
    // The list's first bin 8 header (0xc4 0x20) is after the array header (0x90 + 50 > 15: 0xdc 0x00 0x32).
    const offset = encoded.findIndex((_, i) => encoded[i] === 0xdc && encoded[i + 2] === 50) + 3;
    using file = Deno.openSync(path);
    const region = new RecordFile(
      file,
      { offset, count: 50, recordBytes: 32, stride: 34, skip: 2 },
      "list",
    );
    assert.deepEqual(region.read(10, 12), new Uint8Array([...items[10]!, ...items[11]!]));
    assert.deepEqual(region.gather([49, 3]), new Uint8Array([...items[49]!, ...items[3]!]));
    assert.throws(() => region.write(0, new Uint8Array(32)), /read-only/);
    const past = new RecordFile(
      file,
      { offset, count: 60, recordBytes: 32, stride: 34, skip: 2 },
      "list",
    );
    assert.throws(() => past.read(55, 60), /ends inside a record/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("an interrupted run removes its spool (Ctrl-C, SIGTERM) and exits as the signal would", async () => {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const tmp = await Deno.makeTempDir();
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          new URL("./main.ts", import.meta.url).pathname,
          "vote",
          "bench",
          "--ballots",
          "6000",
          "--workers",
          "1",
          "--no-progress",
        ],
        env: { TMPDIR: tmp },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      // Wait until the run is casting: its spool holds the simulated ballots by then.
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!seen.includes("encrypt ballots:")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
      const spools = [...Deno.readDirSync(tmp)].filter((e) =>
        e.name.startsWith("panoramix-spool-")
      );
      assert.equal(spools.length, 1, `a spool while running (stderr: ${seen})`);
      child.kill(signal);
      reader.releaseLock();
      await child.stderr.cancel().catch(() => {});
      const status = await child.status;
      assert.equal(status.code, code, `${signal}: exit code`);
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], `${signal}: left behind`);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }
});
