import assert from "node:assert/strict";
import { buildApplication, buildRouteMap, run } from "@stricli/core";
import type { CliContext } from "./context.ts";
import { decryptBenchCommand } from "./decrypt_command.ts";

async function runBench(
  args: string[],
): Promise<{ stdout: string; stderr: string; code: unknown }> {
  const out: string[] = [], err: string[] = [];
  const sink = (chunks: string[]) => ({
    isTerminal: false,
    write(data: string | Uint8Array) {
      chunks.push(typeof data === "string" ? data : new TextDecoder().decode(data));
      return Promise.resolve();
    },
  });
  const context: CliContext = {
    process: {
      stdout: { write: (t: string) => void out.push(t) },
      stderr: { write: (t: string) => void err.push(t) },
    },
    stdin: ReadableStream.from([new Uint8Array()]),
    stdout: sink(out),
    stderr: sink(err),
    env: {},
  };
  const app = buildApplication<CliContext>(
    buildRouteMap({ routes: { decrypt: decryptBenchCommand }, docs: { brief: "bench" } }),
    { name: "bench" },
  );
  await run(app, args, context);
  return { stdout: out.join(""), stderr: err.join(""), code: context.process.exitCode };
}

Deno.test("bench decrypt prints JSON figures for a small run", async () => {
  const { stdout, stderr } = await runBench(["decrypt", "--packets", "5", "--hops", "2", "--json"]);
  const figures = JSON.parse(stdout);
  assert.equal(figures.backend, "decrypt");
  assert.equal(figures.hops, 2);
  assert.equal(figures.packetSize, 546 + 1024);
  assert.ok(figures.createUs > 0 && figures.unwrapUs > 0 && figures.unwrapsPerSecondPerCore > 0);
  assert.match(stderr, /creating 5 packets over 2 hops/);
});

Deno.test("bench decrypt prints a readable report and refuses bad flags", async () => {
  const { stdout } = await runBench(["decrypt", "--packets", "3", "--engine", "noble"]);
  assert.match(stdout, /3 hops, payload 1024 B \(packet 1570 B\), X25519 engine noble/);
  assert.match(stdout, /packets\/s per core/);
  const bad = await runBench(["decrypt", "--hops", "6"]);
  assert.equal(bad.stdout, "");
  assert.notEqual(bad.code, 0);
});
