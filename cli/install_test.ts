/**
 * The installed command as a Node-only user gets it: a copy of the repository (what a
 * fresh clone holds) gets `npm ci`, then `npm install -g` into a temporary prefix; the
 * `panoramix` of that prefix runs from a folder outside the repository, with no `deno`
 * on PATH, offline against the npm cache. It must keep the caller's working directory and
 * write nothing but data on stdout.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
) {
  const out = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env === undefined ? {} : { env: options.env, clearEnv: true }),
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Copies the files a clone of the working tree would hold (tracked and new, not ignored).
 *
 * @param to the destination folder
 */
async function copyClone(to: string): Promise<void> {
  const listed = await run(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: root,
    },
  );
  assert.equal(listed.code, 0, listed.stderr);
  for (const path of listed.stdout.split("\0").filter((p) => p !== "")) {
    try {
      const target = join(to, path);
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.copyFile(join(root, path), target);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error; // deleted, not committed
    }
  }
  await Deno.chmod(join(to, "bin/panoramix.cjs"), 0o755);
}

/** Where `node` lives, so the user's PATH can hold node and npm but no deno. */
async function nodeDir(): Promise<string> {
  const which = await run("node", ["-e", "process.stdout.write(process.execPath)"], { cwd: root });
  assert.equal(which.code, 0, which.stderr);
  return dirname(which.stdout);
}

Deno.test({
  name: "npm install -g of a clone gives a panoramix that keeps the working directory",
  async fn() {
    const temp = await Deno.makeTempDir({ prefix: "panoramix-install-" });
    try {
      const clone = join(temp, "clone");
      await copyClone(clone);
      const npmFlags = ["--offline", "--no-audit", "--no-fund", "--loglevel=error"];
      const ci = await run("npm", ["ci", ...npmFlags], { cwd: clone });
      assert.equal(ci.code, 0, ci.stderr);
      const prefix = join(temp, "prefix");
      const install = await run("npm", ["install", "-g", "--prefix", prefix, ...npmFlags, clone], {
        cwd: temp,
      });
      assert.equal(install.code, 0, install.stderr);

      const work = join(temp, "work", "sub");
      await Deno.mkdir(work, { recursive: true });
      const env = {
        PATH: `${join(prefix, "bin")}:${await nodeDir()}:/usr/bin:/bin`,
        HOME: Deno.env.get("HOME") ?? temp,
        ...(Deno.env.has("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      };
      const noDeno = await run("sh", ["-c", "command -v deno || echo none"], { cwd: work, env });
      assert.equal(noDeno.stdout.trim(), "none", "the test PATH must not hold a deno");

      const keygen = await run("panoramix", [
        "keygen",
        "--backend",
        "reencrypt",
        "--public",
        "pub.json",
        "--secret",
        "sec.json",
      ], { cwd: work, env });
      assert.equal(keygen.code, 0, keygen.stderr);
      assert.equal(keygen.stdout, "");
      assert.equal((await Deno.stat(join(work, "pub.json"))).isFile, true);
      assert.equal((await Deno.stat(join(work, "sec.json"))).mode! & 0o777, 0o600);

      const gen = await run("panoramix", [
        "gen",
        "--backend",
        "reencrypt",
        "--key",
        "pub.json",
        "--count",
        "3",
      ], { cwd: work, env });
      assert.equal(gen.code, 0, gen.stderr);
      const lines = gen.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 3, "stdout holds the three items and nothing else");
      for (const line of lines) assert.equal(JSON.parse(line).kind, "reencrypt.ciphertext");

      const npx = await run(
        "npx",
        ["--offline", "--yes", clone, "gen", "--backend", "reencrypt", "--key", "pub.json"]
          .concat(["--count", "2"]),
        { cwd: work, env },
      );
      assert.equal(npx.code, 0, npx.stderr);
      assert.equal(npx.stdout.trimEnd().split("\n").length, 2, "npx adds nothing to stdout");

      const bad = await run("panoramix", ["gen", "--cuont", "3"], { cwd: work, env });
      assert.equal(bad.code, 2);
      assert.equal(bad.stdout, "");
      assert.match(bad.stderr, /^panoramix: error: /);
    } finally {
      await Deno.remove(temp, { recursive: true });
    }
  },
});

Deno.test({
  name: "deno install --global as the README shows gives a panoramix that works anywhere",
  async fn() {
    const temp = await Deno.makeTempDir({ prefix: "panoramix-deno-install-" });
    try {
      const clone = join(temp, "clone");
      await copyClone(clone);
      const readme = await Deno.readTextFile(join(clone, "README.md"));
      const command = /\n {2}(deno install --global [^\n]*\\\n[^\n]*)\n/.exec(readme);
      assert.ok(command !== null, "the README shows deno install --global");
      const args = command[1]!.replace("\\\n", " ").split(/\s+/).filter((a) => a !== "");
      const rootDir = join(temp, "deno-root");
      const installed = await run(
        Deno.execPath(),
        [...args.slice(1, 3), "--root", rootDir, ...args.slice(3)],
        { cwd: clone },
      );
      assert.equal(installed.code, 0, installed.stderr);
      const work = join(temp, "work");
      await Deno.mkdir(work);
      const env = {
        PATH: `${join(rootDir, "bin")}:${dirname(Deno.execPath())}:/usr/bin:/bin`,
        HOME: Deno.env.get("HOME") ?? temp,
        ...(Deno.env.has("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      };
      const keygen = await run("panoramix", [
        "keygen",
        "--backend",
        "plain",
        "--public",
        "pub.json",
        "--secret",
        "sec.json",
      ], { cwd: work, env });
      assert.equal(keygen.code, 0, keygen.stderr);
      assert.equal((await Deno.stat(join(work, "pub.json"))).isFile, true);
    } finally {
      await Deno.remove(temp, { recursive: true });
    }
  },
});

Deno.test("deno task panoramix works in the caller's folder and keeps stdout for data", async () => {
  const work = await Deno.makeTempDir({ prefix: "panoramix-task-" });
  // A task runner (npm, deno task) sets INIT_CWD for the tasks it starts; this test may itself run
  // under one, so its own INIT_CWD (the repository) must not reach the task it starts.
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  try {
    const task = (...args: string[]) =>
      run(Deno.execPath(), ["task", "--config", join(root, "deno.json"), "panoramix", ...args], {
        cwd: work,
        env,
      });
    const keygen = await task(
      "keygen",
      "--backend",
      "plain",
      "--public",
      "pub.json",
      "--secret",
      "sec.json",
    );
    assert.equal(keygen.code, 0, keygen.stderr);
    assert.equal((await Deno.stat(join(work, "sec.json"))).isFile, true, "written where called");
    const gen = await task("gen", "--backend", "plain", "--key", "pub.json", "--count", "2");
    assert.equal(gen.code, 0, gen.stderr);
    assert.deepEqual(
      gen.stdout.trimEnd().split("\n").map((line) => JSON.parse(line).kind),
      ["plain.item", "plain.item"],
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
