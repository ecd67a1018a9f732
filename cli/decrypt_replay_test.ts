/**
 * Issue 11, point 9: `panoramix mix --backend decrypt` keeps its replay tags in a persistent
 * store, so a second process mixing the same packets refuses them (before the fix the cache
 * lived only as long as the process and the second run re-emitted every plaintext).
 */
import assert from "node:assert/strict";
import { userDataDir } from "./data_dir.ts";

const main = new URL("./main.ts", import.meta.url).pathname;

async function panoramix(args: string[], cwd: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", main, ...args],
    cwd,
    env: { HOME: cwd, XDG_DATA_HOME: `${cwd}/data`, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const lines = (text: string) => text.split("\n").filter((line) => line !== "");

/** A one-mixer cascade and 8 packets for it, in a fresh folder. */
async function setUp(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "decrypt-replay-" });
  const keygen = await panoramix([
    "keygen",
    "--backend",
    "decrypt",
    "--set",
    "mixers=1",
    "--public",
    "cascade.json",
    "--secret",
    "all.json",
  ], dir);
  assert.equal(keygen.code, 0, keygen.stderr);
  const all = JSON.parse(await Deno.readTextFile(`${dir}/all.json`));
  await Deno.writeTextFile(`${dir}/mixer.json`, JSON.stringify(all.mixers[0]));
  const gen = await panoramix(
    ["gen", "--backend", "decrypt", "--key", "cascade.json", "--count", "8"],
    dir,
  );
  assert.equal(gen.code, 0, gen.stderr);
  const packets = lines(gen.stdout);
  assert.equal(packets.length, 8);
  await Deno.writeTextFile(`${dir}/first.ndjson`, packets.slice(0, 4).join("\n") + "\n");
  await Deno.writeTextFile(`${dir}/second.ndjson`, packets.slice(4).join("\n") + "\n");
  await Deno.writeTextFile(
    `${dir}/mixed.ndjson`,
    [...packets.slice(0, 2), ...packets.slice(4, 6)].join("\n") + "\n",
  );
  return dir;
}

function mix(input: string, extra: string[] = []): string[] {
  return [
    "mix",
    "--backend",
    "decrypt",
    "--key",
    "mixer.json",
    "--input",
    input,
    "--proof",
    `${input}.proof.json`,
    "--force",
    ...extra,
  ];
}

Deno.test({
  name: "mix --backend decrypt: a second process refuses the replays (default store, exit 8)",
  sanitizeResources: false,
  async fn() {
    const dir = await setUp();
    try {
      const first = await panoramix(mix("first.ndjson"), dir);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(lines(first.stdout).length, 4);
      // The default store is in the user data directory.
      await Deno.stat(`${dir}/data/panoramix/decrypt-replay.sqlite`);

      const again = await panoramix(mix("first.ndjson"), dir);
      assert.equal(again.code, 8, again.stderr);
      assert.equal(again.stdout, "");
      assert.match(
        again.stderr,
        /^panoramix: error: All 4 packets were already processed by this mixer \(replay store '.*decrypt-replay\.sqlite'\)\n$/,
      );

      // Partly replayed: the new packets go through, the old ones are dropped and reported.
      const partial = await panoramix(mix("mixed.ndjson"), dir);
      assert.equal(partial.code, 0, partial.stderr);
      assert.equal(lines(partial.stdout).length, 2);
      assert.match(partial.stderr, /dropped 2 of 4 packets already processed by this mixer/);
      const proof = JSON.parse(await Deno.readTextFile(`${dir}/mixed.ndjson.proof.json`));
      assert.deepEqual(
        proof.stages[0].dropped.map((d: { reason: string }) => d.reason),
        ["replay", "replay"],
      );
      // The remaining two of `second` were never mixed, the other two were.
      const rest = await panoramix(mix("second.ndjson"), dir);
      assert.equal(rest.code, 0, rest.stderr);
      assert.equal(lines(rest.stdout).length, 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "mix --backend decrypt: --replay-db PATH, --no-replay-db, and misuse of the flags",
  sanitizeResources: false,
  async fn() {
    const dir = await setUp();
    try {
      const db = ["--replay-db", "mixer-replay.sqlite"];
      assert.equal((await panoramix(mix("first.ndjson", db), dir)).code, 0);
      assert.equal((await panoramix(mix("first.ndjson", db), dir)).code, 8);
      // Another store knows nothing of those tags; so does a run without any store.
      const other = await panoramix(mix("first.ndjson", ["--replay-db", "other.sqlite"]), dir);
      assert.equal(other.code, 0, other.stderr);
      for (let i = 0; i < 2; i++) {
        const off = await panoramix(mix("first.ndjson", ["--no-replay-db"]), dir);
        assert.equal(off.code, 0, off.stderr);
        assert.equal(lines(off.stdout).length, 4);
      }
      // Nothing was written to the default store by those runs.
      await assert.rejects(Deno.stat(`${dir}/data/panoramix/decrypt-replay.sqlite`));

      const both = await panoramix(mix("first.ndjson", [...db, "--no-replay-db"]), dir);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /'--replay-db' and '--no-replay-db' cannot be used together/);
      const missing = await panoramix(
        mix("first.ndjson", ["--replay-db", "no/such/dir/x.sqlite"]),
        dir,
      );
      assert.equal(missing.code, 2);
      assert.match(
        missing.stderr,
        /^panoramix: error: Cannot open replay store 'no\/such\/dir\/x\.sqlite'/,
      );
      assert.equal(missing.stderr.trim().split("\n").length, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("userDataDir: XDG_DATA_HOME, then the platform's place, else a clear error", () => {
  assert.equal(userDataDir({ XDG_DATA_HOME: "/x", HOME: "/h" }, "linux"), "/x/panoramix");
  assert.equal(
    userDataDir({ XDG_DATA_HOME: "rel", HOME: "/h" }, "linux"),
    "/h/.local/share/panoramix",
  );
  assert.equal(userDataDir({ HOME: "/h" }, "darwin"), "/h/Library/Application Support/panoramix");
  assert.equal(userDataDir({ LOCALAPPDATA: "C:\\L" }, "windows"), "C:\\L\\panoramix");
  assert.equal(userDataDir({ APPDATA: "C:\\A" }, "windows"), "C:\\A\\panoramix");
  assert.throws(() => userDataDir({}, "linux"), /pass --replay-db PATH/);
});
