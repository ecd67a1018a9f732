import assert from "node:assert/strict";
import { runInMemory } from "./test_context.ts";
import { encodeMsgpack } from "../core/envelope.ts";
import { concatBytes } from "../core/bytes.ts";

/** Arguments of `verify` for the plain backend; extra flags follow. */
function verifyArgs(key: string, inputs: string, outputs: string, ...extra: string[]): string[] {
  return [
    "verify",
    "--backend",
    "plain",
    "--key",
    key,
    "--inputs",
    inputs,
    "--outputs",
    outputs,
    ...extra,
  ];
}

/** Arguments of `keygen` for the plain backend writing into `dir`. */
function keygenArgs(dir: string, ...extra: string[]): string[] {
  return [
    "keygen",
    "--backend",
    "plain",
    "--public",
    `${dir}/pub.json`,
    "--secret",
    `${dir}/sec.json`,
    ...extra,
  ];
}

async function plainKeys(dir: string): Promise<string> {
  const run = await runInMemory(keygenArgs(dir));
  assert.equal(run.status, 0, run.stderr);
  return `${dir}/pub.json`;
}

async function sample(key: string, count: number, format = "ndjson"): Promise<Uint8Array> {
  const run = await runInMemory([
    "gen",
    "--backend",
    "plain",
    "--key",
    key,
    "--count",
    String(count),
    "--format",
    format,
  ]);
  assert.equal(run.status, 0, run.stderr);
  return run.stdoutBytes;
}

Deno.test("--help lists every subcommand and --version prints the version", async () => {
  const help = await runInMemory(["--help"]);
  assert.equal(help.status, 0);
  for (const cmd of ["mix", "verify", "keygen", "gen", "backends"]) {
    assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
  }
  const version = await runInMemory(["--version"]);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
});

Deno.test("mix then verify succeeds for NDJSON and msgpack, with the proof inline or in a file", async () => {
  const dir = await Deno.makeTempDir();
  const key = await plainKeys(dir);
  for (const format of ["ndjson", "msgpack"]) {
    const inputs = await sample(key, 20, format);
    await Deno.writeFile(`${dir}/in`, inputs);
    const mixed = await runInMemory(["mix", "--backend", "plain", "--key", key], inputs);
    assert.equal(mixed.status, 0, mixed.stderr);
    await Deno.writeFile(`${dir}/out`, mixed.stdoutBytes);
    const ok = await runInMemory(verifyArgs(key, `${dir}/in`, `${dir}/out`, "--json"));
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), {
      ok: true,
      backend: "plain",
      inputs: 20,
      outputs: 20,
      checked: "outputs are exactly the inputs reordered (reference backend, no cryptography)",
    });
  }
  const inputs = await sample(key, 10);
  const withFile = await runInMemory([
    "mix",
    "--backend",
    "plain",
    "--key",
    key,
    "--proof",
    `${dir}/proof.json`,
  ], inputs);
  assert.equal(withFile.status, 0, withFile.stderr);
  assert.equal(
    withFile.stdout.trim().split("\n").length,
    10,
    "only items on stdout when --proof is given",
  );
  await Deno.writeFile(`${dir}/in2`, inputs);
  await Deno.writeFile(`${dir}/out2`, withFile.stdoutBytes);
  const ok = await runInMemory(
    verifyArgs(key, `${dir}/in2`, `${dir}/out2`, "--proof", `${dir}/proof.json`),
  );
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(
    ok.stdout,
    /^verified \(plain, 10 inputs, 10 outputs\): outputs are exactly the inputs reordered/,
  );
  // Chaining: the output items of one mixer are valid inputs of the next.
  const next = await runInMemory(["mix", "--backend", "plain", "--key", key], withFile.stdoutBytes);
  assert.equal(next.status, 0, next.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("verify exits 3 with the failed check when an output is changed", async () => {
  const dir = await Deno.makeTempDir();
  const key = await plainKeys(dir);
  const inputs = await sample(key, 5);
  const mixed = await runInMemory(["mix", "--backend", "plain", "--key", key], inputs);
  const lines = mixed.stdout.trim().split("\n");
  lines[0] = JSON.stringify({ v: 1, kind: "plain.item", data: "AAAAAAAAAAAAAAAAAAAAAA" });
  await Deno.writeFile(`${dir}/in`, inputs);
  await Deno.writeTextFile(`${dir}/out`, lines.join("\n") + "\n");
  const bad = await runInMemory(verifyArgs(key, `${dir}/in`, `${dir}/out`));
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /panoramix: error: Outputs are not a permutation of the inputs/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/, "no stack trace");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bad input to mix gets a specific error and exit code, never a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  const key = await plainKeys(dir);
  const msgpack = await sample(key, 5, "msgpack");
  const cases: {
    name: string;
    args?: string[];
    stdin: Uint8Array | string;
    status: number;
    message: RegExp;
  }[] = [
    {
      name: "truncated msgpack",
      stdin: msgpack.subarray(0, msgpack.length - 3),
      status: 4,
      message: /truncated msgpack/,
    },
    {
      name: "wrong JSON",
      stdin: '{"v":1,"kind":"plain.item","data":"AA"}\n{"v":1,\n',
      status: 4,
      message: /Line 2 of 'stdin' is not valid JSON/,
    },
    {
      name: "wrong item kind",
      stdin: '{"v":1,"kind":"other","data":"AA"}\n{"v":1,"kind":"other","data":"AA"}\n',
      status: 4,
      message: /Input item 1' must be of kind 'plain.item'/,
    },
    {
      name: "missing field",
      stdin: '{"v":1,"kind":"plain.item"}\n{"v":1,"kind":"plain.item"}\n',
      status: 4,
      message: /Input item 1.data/,
    },
    {
      name: "unknown backend",
      args: ["mix", "--backend", "nope", "--key", key],
      stdin: "",
      status: 2,
      message: /Unknown backend 'nope' \(known backends: plain/,
    },
    {
      name: "empty batch",
      stdin: "",
      status: 7,
      message: /Batch of 0 items is below the minimum batch size of 2/,
    },
    {
      name: "one item",
      stdin: new TextDecoder().decode(await sample(key, 1)),
      status: 7,
      message: /Batch of 1 item is below/,
    },
    {
      name: "proof record as input",
      stdin: concatBytes(msgpack, encodeMsgpack({ v: 1, kind: "plain.proof" })),
      status: 4,
      message: /is a proof record/,
    },
    {
      name: "missing key file",
      args: ["mix", "--backend", "plain", "--key", `${dir}/none.json`],
      stdin: "",
      status: 6,
      message: /File '.*none.json' does not exist/,
    },
    {
      name: "unknown flag",
      args: ["mix", "--backend", "plain", "--key", key, "--bogus"],
      stdin: "",
      status: 2,
      message: /bogus/,
    },
  ];
  for (const c of cases) {
    const run = await runInMemory(c.args ?? ["mix", "--backend", "plain", "--key", key], c.stdin);
    assert.equal(run.status, c.status, `${c.name}: ${run.stderr}`);
    assert.match(run.stderr, c.message, c.name);
    assert.equal(run.stdout, "", `${c.name}: nothing on stdout`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("keygen writes the secret with mode 0600 and refuses to overwrite without --force", async () => {
  const dir = await Deno.makeTempDir();
  await plainKeys(dir);
  assert.equal((await Deno.stat(`${dir}/sec.json`)).mode! & 0o777, 0o600);
  const again = await runInMemory(keygenArgs(dir));
  assert.equal(again.status, 5);
  assert.match(again.stderr, /already exists; pass --force/);
  const forced = await runInMemory(keygenArgs(dir, "--force"));
  assert.equal(forced.status, 0, forced.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("backends --json lists every backend with its item kinds", async () => {
  const run = await runInMemory(["backends", "--json"]);
  const list = JSON.parse(run.stdout) as { name: string; input: string }[];
  assert.ok(list.some((b) => b.name === "plain" && b.input === "plain.item"));
});

Deno.test("verify explains what is missing, and refuses a file that is not a transcript", async () => {
  const dir = await Deno.makeTempDir();
  const key = await plainKeys(dir);
  const none = await runInMemory(["verify"]);
  assert.equal(none.status, 2);
  assert.match(
    none.stderr,
    /Give a transcript file, or check one mix with --backend, --key, --inputs, --outputs \(missing\)/,
  );
  const notTranscript = await runInMemory(["verify", key]);
  assert.equal(
    notTranscript.status,
    4,
    "a file of the wrong kind is invalid input, as in vote verify",
  );
  const voteNotTranscript = await runInMemory(["vote", "verify", key]);
  assert.equal(voteNotTranscript.status, 4);
  assert.match(
    notTranscript.stderr,
    /holds a 'plain.key', which is not a transcript \(verifiable kinds: reencrypt.cascade-transcript, vote.transcript\)/,
  );
  const both = await runInMemory(["verify", key, "--backend", "plain"]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /drop --backend/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--n is accepted for the one-letter flag -n", async () => {
  const run = await runInMemory(["bench", "reencrypt", "--n", "2", "--workers", "1", "--json"]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).n, 2);
});
