/**
 * Proves the single-file build offline: `deno bundle` turns the CLI into one
 * JavaScript file, which must run every statically registered command on its own.
 */
import assert from "node:assert/strict";

const root = new URL("..", import.meta.url).pathname;

async function run(args: string[], options: { stdin?: Uint8Array; cwd?: string } = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? root,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stdoutBytes: out.stdout,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Bundles the CLI into an empty temporary folder.
 *
 * @returns the folder and the `deno` arguments that run the bundle from it with no config,
 * so the file must hold everything it needs
 */
async function buildBundle(): Promise<{ dir: string; cli: string[] }> {
  const dir = await Deno.makeTempDir();
  const bundle = `${dir}/panoramix.js`;
  const web = await run(["run", "--allow-read", "--allow-write=dist", "cli/web/build.ts"]);
  assert.equal(web.code, 0, web.stderr);
  const built = await run([
    "bundle",
    "--quiet",
    "--platform",
    "deno",
    "--output",
    bundle,
    "dist/panoramix_main.ts",
  ]);
  assert.equal(built.code, 0, built.stderr);
  const cli = [
    "run",
    "--no-config",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    "--allow-net",
    bundle,
  ];
  return { dir, cli };
}

Deno.test("the bundled single-file CLI runs --help and a mix piped through it", async () => {
  const { dir, cli } = await buildBundle();
  const help = await run([...cli, "--help"], { cwd: dir });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /panoramix mix/);
  const keygen = await run([
    ...cli,
    "keygen",
    "--backend",
    "plain",
    "--public",
    "pub.json",
    "--secret",
    "sec.json",
  ], { cwd: dir });
  assert.equal(keygen.code, 0, keygen.stderr);
  const gen = await run(
    [...cli, "gen", "--backend", "plain", "--key", "pub.json", "--count", "8"],
    { cwd: dir },
  );
  assert.equal(gen.code, 0, gen.stderr);
  const mix = await run([...cli, "mix", "--backend", "plain", "--key", "pub.json"], {
    cwd: dir,
    stdin: gen.stdoutBytes,
  });
  assert.equal(mix.code, 0, mix.stderr);
  assert.equal(mix.stdout.trim().split("\n").length, 9, "8 items and the proof");
  await Deno.writeFile(`${dir}/in.ndjson`, gen.stdoutBytes);
  await Deno.writeFile(`${dir}/out.ndjson`, mix.stdoutBytes);
  const verify = await run([
    ...cli,
    "verify",
    "--backend",
    "plain",
    "--key",
    "pub.json",
    "--inputs",
    "in.ndjson",
    "--outputs",
    "out.ndjson",
  ], { cwd: dir });
  assert.equal(verify.code, 0, verify.stderr);
  const bad = await run([...cli, "mix", "--backend", "plain", "--key", "pub.json"], {
    cwd: dir,
    stdin: new TextEncoder().encode("{oops\n"),
  });
  assert.equal(bad.code, 4);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the bundle proves and verifies a re-encryption mix, its workers started from the bundle itself", async () => {
  const { dir, cli } = await buildBundle();
  const step = async (args: string[], stdin?: Uint8Array) => {
    const result = await run([...cli, ...args], { cwd: dir, ...(stdin ? { stdin } : {}) });
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return result;
  };
  await step(["keygen", "--backend", "reencrypt", "--public", "pub.json", "--secret", "sec.json"]);
  const gen = await step(["gen", "--backend", "reencrypt", "--key", "pub.json", "--count", "64"]);
  await Deno.writeFile(`${dir}/in.ndjson`, gen.stdoutBytes);
  const mix = await step(["mix", "--backend", "reencrypt", "--key", "pub.json"], gen.stdoutBytes);
  // The pool warns when its workers cannot start from the bundle and it falls back to one thread.
  assert.doesNotMatch(mix.stderr, /continuing on one thread/);
  await Deno.writeFile(`${dir}/out.ndjson`, mix.stdoutBytes);
  const verify = await step([
    "verify",
    "--backend",
    "reencrypt",
    "--key",
    "pub.json",
    "--inputs",
    "in.ndjson",
    "--outputs",
    "out.ndjson",
  ]);
  assert.match(verify.stdout, /Terelius–Wikström/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the bundle serves the web pages it carries, without their sources", async () => {
  const { dir, cli } = await buildBundle();
  const init = await run([
    ...cli,
    "node",
    "init",
    "--dir",
    "n",
    "--name",
    "web",
    "--roles",
    "board",
    "--http-listen",
    "127.0.0.1:0",
  ], {
    cwd: dir,
  });
  assert.equal(init.code, 0, init.stderr);
  const node = new Deno.Command(Deno.execPath(), {
    args: [...cli, "node", "run", "-c", "n/node.json", "--ready-file", "ready.json"],
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let url = "";
    for (let i = 0; i < 300 && !url; i++) {
      url = await Deno.readTextFile(`${dir}/ready.json`).then((t) => JSON.parse(t).url, () => "");
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, "the node started");
    const home = await fetch(`${url}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /Panoramix node/);
    const script = await fetch(`${url}/web/home.js`);
    assert.equal(script.status, 200);
    assert.match(await script.text(), /v1\/info/);
  } finally {
    node.kill("SIGTERM");
    await node.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "deno compile builds a working binary (needs a local runtime in DENORT_BIN)",
  ignore: !Deno.env.get("DENORT_BIN"),
  async fn() {
    const dir = await Deno.makeTempDir();
    const web = await run(["run", "--allow-read", "--allow-write=dist", "cli/web/build.ts"]);
    assert.equal(web.code, 0, web.stderr);
    const built = await run([
      "compile",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--output",
      `${dir}/panoramix`,
      "dist/panoramix_main.ts",
    ]);
    assert.equal(built.code, 0, built.stderr);
    const out = await new Deno.Command(`${dir}/panoramix`, { args: ["--version"] }).output();
    assert.equal(out.code, 0);
    await Deno.remove(dir, { recursive: true });
  },
});
