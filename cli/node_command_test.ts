import assert from "node:assert/strict";
import { runInMemory } from "./test_context.ts";

Deno.test("node init writes a documented config and 0600 key files, and refuses to overwrite", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const init = await runInMemory([
      "node",
      "init",
      "--dir",
      dir,
      "--name",
      "n1",
      "--roles",
      "board,cascade",
      "--mix-key",
      "plain",
      "--json",
    ]);
    assert.equal(init.status, 0, init.stderr);
    const summary = JSON.parse(init.stdout);
    assert.equal(summary.identity.length, 43);
    const config = JSON.parse(await Deno.readTextFile(`${dir}/node.json`));
    assert.equal(config.name, "n1");
    assert.deepEqual(config.roles, ["board", "cascade"]);
    assert.equal(typeof config._comments["sphinx.epochSeconds"], "string");
    assert.equal(config.cascade.mixKeys.plain, "mix-plain.secret.json");
    for (const file of ["identity.key.json", "mix-plain.secret.json"]) {
      assert.equal((await Deno.stat(`${dir}/${file}`)).mode! & 0o777, 0o600, file);
    }
    const again = await runInMemory(["node", "init", "--dir", dir]);
    assert.equal(again.status, 5);
    assert.match(again.stderr, /already exists; pass --force/);
    const forced = await runInMemory(["node", "init", "--dir", dir, "--force", "--json"]);
    assert.equal(forced.status, 0, forced.stderr);
    assert.notEqual(JSON.parse(forced.stdout).identity, summary.identity);

    const info = await runInMemory(["node", "info", "-c", `${dir}/node.json`, "--json"]);
    assert.equal(info.status, 0, info.stderr);
    const descriptor = JSON.parse(info.stdout);
    assert.equal(descriptor.kind, "node.descriptor");
    assert.equal(descriptor.identity, JSON.parse(forced.stdout).identity);

    // A key file readable by others is refused.
    await Deno.chmod(`${dir}/identity.key.json`, 0o644);
    const loose = await runInMemory(["node", "info", "-c", `${dir}/node.json`]);
    assert.equal(loose.status, 5);
    assert.match(loose.stderr, /readable by others/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("node commands report bad usage and bad configs with their exit codes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const badRole = await runInMemory(["node", "init", "--dir", dir, "--roles", "mixer"]);
    assert.equal(badRole.status, 2);
    assert.match(badRole.stderr, /Role 'mixer' is unknown/);
    // Issue 14: a re-encryption mixer mixes under the job's public key; a key pair of its
    // own made it fail every poll. node init refuses it with the advice, and so does run.
    const reencrypt = await runInMemory(["node", "init", "--dir", dir, "--mix-key", "reencrypt"]);
    assert.equal(reencrypt.status, 2);
    assert.match(reencrypt.stderr, /mixes under the public key each job names.*drop --mix-key/);
    await Deno.writeTextFile(
      `${dir}/mixkey.json`,
      JSON.stringify({ roles: ["board"], cascade: { mixKeys: { reencrypt: "k.json" } } }),
    );
    const mixKey = await runInMemory(["node", "info", "-c", `${dir}/mixkey.json`]);
    assert.equal(mixKey.status, 5);
    assert.match(mixKey.stderr, /cascade\.mixKeys\.reencrypt.*needs no key of its own/);
    const missing = await runInMemory(["node", "run", "-c", `${dir}/none.json`]);
    assert.equal(missing.status, 5);
    assert.match(missing.stderr, /does not exist/);
    await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ roles: ["board"], port: 1 }));
    const bad = await runInMemory(["node", "info", "-c", `${dir}/bad.json`]);
    assert.equal(bad.status, 5);
    assert.match(bad.stderr, /Unknown config option 'port'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("node selftest reports positive rates as JSON", async () => {
  const run = await runInMemory(["node", "selftest", "--json", "--seconds", "0.2"]);
  assert.equal(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  for (const k of ["sphinxUnwrapsPerSecond", "signaturesPerSecond", "commitsPerSecond"]) {
    assert.ok(r[k] > 0, k);
  }
});
