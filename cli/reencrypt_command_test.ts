import assert from "node:assert/strict";
import { buildApplication, buildRouteMap, run } from "@stricli/core";
import { concatBytes } from "../core/bytes.ts";
import { toJsonView } from "../core/envelope.ts";
import { exitCodeFor } from "../core/errors.ts";
import { serializeItem } from "../core/item_stream.ts";
import { seededRandom } from "../core/random.ts";
import { reencryptBackend } from "../backends/reencrypt/mod.ts";
import type { CliContext, OutputSink } from "./context.ts";
import {
  reencryptBenchCommand,
  reencryptCascadeCommand,
  verifyTranscriptCommand,
} from "./reencrypt_command.ts";

const app = buildApplication<CliContext>(
  buildRouteMap({
    routes: {
      bench: buildRouteMap({
        routes: { reencrypt: reencryptBenchCommand },
        docs: { brief: "bench" },
      }),
      cascade: reencryptCascadeCommand,
      "verify-transcript": verifyTranscriptCommand,
    },
    docs: { brief: "test app" },
  }),
  {
    name: "panoramix",
    determineExitCode: exitCodeFor,
    scanner: { caseStyle: "allow-kebab-for-camel" },
  },
);

async function runApp(args: string[], stdin: Uint8Array = new Uint8Array()) {
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  const sink = (into: Uint8Array[]): OutputSink => ({
    isTerminal: false,
    write: (data) => {
      into.push(typeof data === "string" ? new TextEncoder().encode(data) : data);
      return Promise.resolve();
    },
  });
  const ctx: CliContext = {
    process: {
      stdout: { write: (t) => void out.push(new TextEncoder().encode(t)) },
      stderr: { write: (t) => void err.push(new TextEncoder().encode(t)) },
    },
    stdin: ReadableStream.from([stdin]),
    stdout: sink(out),
    stderr: sink(err),
    env: {},
  };
  await run(app, args, ctx);
  const dec = (parts: Uint8Array[]) => new TextDecoder().decode(concatBytes(...parts));
  return { status: Number(ctx.process.exitCode ?? 0), stdout: dec(out), stderr: dec(err) };
}

Deno.test("bench reencrypt prints per-ciphertext timings as JSON", async () => {
  const res = await runApp(["bench", "reencrypt", "-n", "3", "--workers", "1", "--json"]);
  assert.equal(res.status, 0, res.stderr);
  const report = JSON.parse(res.stdout);
  assert.equal(report.n, 3);
  assert.equal(report.cores, 1);
  for (const k of ["encrypt", "shuffleProve", "verify", "decrypt"]) {
    assert.ok(report.msPerCiphertext[k] > 0, k);
    assert.ok(report.cpuMsPerCiphertext[k] >= 0, k);
  }
});

Deno.test("cascade writes a transcript that verify-transcript accepts, tampering names the step", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const random = seededRandom("cli-cascade");
    const keys = await reencryptBackend.generateKeys({ random });
    const keyPath = `${dir}/pk.json`;
    await Deno.writeTextFile(keyPath, JSON.stringify(toJsonView(keys.publicKey)));
    const items = await reencryptBackend.sampleInputs(4, { key: keys.publicKey, random });
    const stdin = concatBytes(
      ...items.map((c) => serializeItem(reencryptBackend.input.encode(c), "ndjson")),
    );
    const transcriptPath = `${dir}/transcript.json`;
    const res = await runApp(
      ["cascade", "--key", keyPath, "--mixers", "2", "--transcript", transcriptPath],
      stdin,
    );
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim().split("\n").length, 4);
    const ok = await runApp(["verify-transcript", transcriptPath, "--workers", "1"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /transcript ok: 2 mixers, 4 ciphertexts/);
    const t = JSON.parse(await Deno.readTextFile(transcriptPath));
    const outs = t.steps[1].outputs;
    [outs[0], outs[1]] = [outs[1], outs[0]];
    await Deno.writeTextFile(transcriptPath, JSON.stringify(t));
    const bad = await runApp(["verify-transcript", transcriptPath, "--workers", "1"]);
    assert.equal(bad.status, 3);
    assert.match(bad.stderr + bad.stdout, /Cascade step 2 failed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
