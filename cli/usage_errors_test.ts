import assert from "node:assert/strict";
import { runInMemory } from "./test_context.ts";
import { hintingStdin, STDIN_TERMINAL_HINT } from "./deno_context.ts";

const ONE_LINE = /^panoramix: error: [^\n]+\n$/;

/** Each mistake, in several commands, with the line it must print. */
const MISTAKES: { args: string[]; says: RegExp }[] = [
  { args: ["gen", "--cuont", "3"], says: /Unknown flag '--cuont'; did you mean '--count'\?/ },
  {
    args: ["gen", "--backend", "plain", "--key", "k", "--count", "ten"],
    says: /Flag '--count' must be a number, got 'ten'/,
  },
  {
    args: ["mix", "--backend", "plain", "--key", "k", "--proof"],
    says: /Flag '--proof' needs a value/,
  },
  {
    args: ["gen", "--backend", "plain", "--key", "k", "--count", "0"],
    says: /Flag '--count' must be an integer from 1 to/,
  },
  { args: ["vote", "verify"], says: /Missing argument TRANSCRIPT/ },
  { args: ["vote", "verify", "--cuont"], says: /Unknown flag '--cuont'/ },
  { args: ["verify", "--cuont"], says: /Unknown flag '--cuont'/ },
  { args: ["survey", "privacy", "-n", "ten"], says: /must be/ },
  { args: ["node", "run", "--frob"], says: /Unknown flag '--frob'/ },
  { args: ["mxi"], says: /Unknown command 'mxi'; did you mean 'mix'\?/ },
  {
    args: ["mix", "--backend", "plain", "--key", "k", "--format", "xml"],
    says: /Flag '--format' must be one of 'auto', 'ndjson', 'msgpack', got 'xml'/,
  },
  { args: ["backends", "extra"], says: /Unexpected argument 'extra'/ },
];

for (const { args, says } of MISTAKES) {
  Deno.test(`'panoramix ${args.join(" ")}' is a usage error in the documented form`, async () => {
    const run = await runInMemory(args);
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, ONE_LINE);
    assert.match(run.stderr, says);
    if (args[0] !== "mxi") {
      const nested = ["vote", "node", "survey"].includes(args[0]!);
      const command = args.slice(0, nested ? 2 : 1).join(" ");
      assert.ok(run.stderr.endsWith(`(see 'panoramix ${command} --help')\n`), run.stderr);
    }
  });
}

Deno.test("reading stdin from a terminal says so on the first read only", async () => {
  const said: string[] = [];
  let opened = 0;
  const open = () => {
    opened++;
    return ReadableStream.from([new Uint8Array([1, 2]), new Uint8Array([3])]);
  };
  const terminal = hintingStdin(open, { isTerminal: true, hint: (t) => said.push(t) });
  assert.equal(opened, 0, "the source opens only when a command reads");
  assert.deepEqual(await new Response(terminal).bytes(), new Uint8Array([1, 2, 3]));
  assert.deepEqual(said, [STDIN_TERMINAL_HINT]);
  const piped = hintingStdin(open, { isTerminal: false, hint: (t) => said.push(t) });
  assert.deepEqual(await new Response(piped).bytes(), new Uint8Array([1, 2, 3]));
  assert.equal(said.length, 1, "no hint when stdin is a pipe or file");
});

Deno.test("a reader that stops early (| head) ends the command with one line and exit 9", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keygen = await runInMemory([
      "keygen",
      "--backend",
      "plain",
      "--public",
      `${dir}/pub.json`,
      "--secret",
      `${dir}/sec.json`,
    ]);
    assert.equal(keygen.status, 0, keygen.stderr);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-env",
        "--allow-sys",
        new URL("./main.ts", import.meta.url).pathname,
        "gen",
        "--backend",
        "plain",
        "--key",
        `${dir}/pub.json`,
        "--count",
        "200000",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read();
    await reader.cancel();
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    assert.equal(status.code, 9, stderr);
    assert.match(stderr, /^panoramix: error: Output was closed before it was complete[^\n]*\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
