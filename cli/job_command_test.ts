import assert from "node:assert/strict";
import { toBase64Url } from "../core/bytes.ts";
import { runInMemory } from "./test_context.ts";
import { TestNetwork } from "./node/test_support.ts";

Deno.test("node identity writes a 0600 key file and prints its public key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = await runInMemory(["node", "identity", "--out", `${dir}/admin.key.json`]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^[A-Za-z0-9_-]{43}\n$/);
    assert.equal((await Deno.stat(`${dir}/admin.key.json`)).mode! & 0o777, 0o600);
    const again = await runInMemory(["node", "identity", "--out", `${dir}/admin.key.json`]);
    assert.equal(again.status, 5, "an existing key file is never replaced without --force");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("job create, submit, close and status drive a 3-mixer cascade on a board", async () => {
  const dir = await Deno.makeTempDir();
  const admin = await runInMemory(["node", "identity", "--out", `${dir}/admin.json`]);
  const user = await runInMemory(["node", "identity", "--out", `${dir}/user.json`]);
  assert.equal(user.status, 0, user.stderr);
  const net = await TestNetwork.create();
  try {
    const { board, mixers } = await net.startCascade({ admins: [admin.stdout.trim()] });
    const keygen = await runInMemory([
      "keygen",
      "--backend",
      "reencrypt",
      "--public",
      `${dir}/pub.json`,
      "--secret",
      `${dir}/sec.json`,
    ]);
    assert.equal(keygen.status, 0, keygen.stderr);
    const stages = mixers.flatMap((m) => ["--stage", toBase64Url(m.identity.publicKey)]);
    const common = ["--board", board.url, "--id", "job-1"];
    const notAdmin = await runInMemory([
      "job",
      "create",
      ...common,
      "--admin",
      `${dir}/user.json`,
      "--backend",
      "reencrypt",
      "--key",
      `${dir}/pub.json`,
      ...stages,
    ]);
    assert.notEqual(notAdmin.status, 0);
    assert.match(notAdmin.stderr, /^panoramix: error: Only a board admin may create a job/);
    const created = await runInMemory([
      "job",
      "create",
      ...common,
      "--admin",
      `${dir}/admin.json`,
      "--backend",
      "reencrypt",
      "--key",
      `${dir}/pub.json`,
      "--min-inputs",
      "3",
      // Listed submitters post plain ciphertexts; a job open to anyone needs proofs of
      // knowledge with every input (issue 11 §6), which `panoramix encrypt` does not make.
      "--submitter",
      user.stdout.trim(),
      ...stages,
    ]);
    assert.equal(created.status, 0, created.stderr);
    const items = await runInMemory(["encrypt", "--key", `${dir}/pub.json`, "5", "6", "7"]);
    const submitted = await runInMemory(
      ["job", "submit", ...common, "--identity", `${dir}/user.json`],
      items.stdoutBytes,
    );
    assert.equal(submitted.status, 0, submitted.stderr);
    const open = await runInMemory(["job", "status", ...common, "--json"]);
    assert.equal(open.status, 0, open.stderr);
    assert.deepEqual(
      { state: JSON.parse(open.stdout).state, inputs: JSON.parse(open.stdout).inputs },
      { state: "open", inputs: 3 },
    );
    const closed = await runInMemory(["job", "close", ...common, "--admin", `${dir}/admin.json`]);
    assert.equal(closed.status, 0, closed.stderr);
    const done = await runInMemory(["job", "status", ...common, "--wait", "60"]);
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stdout, /^job 'job-1' \(reencrypt\): done, 3 input\(s\), stage 3 of 3\n$/);
    const outputs = await runInMemory(["job", "items", ...common]);
    assert.equal(outputs.status, 0, outputs.stderr);
    const values = await runInMemory(
      ["decrypt", "--secret", `${dir}/sec.json`, "--key", `${dir}/pub.json`],
      outputs.stdoutBytes,
    );
    assert.equal(values.status, 0, values.stderr);
    assert.deepEqual(values.stdout.trim().split("\n").sort(), ["5", "6", "7"]);
    const inputs = await runInMemory(["job", "items", ...common, "--stage", "0"]);
    assert.equal(inputs.stdout, items.stdout, "stage 0 holds the submitted items as sent");
    const missing = await runInMemory(["job", "status", "--board", board.url, "--id", "nope"]);
    assert.equal(missing.status, 6, missing.stderr);
  } finally {
    await net.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("job status of an unreachable board is exit 9 with one line", async () => {
  const run = await runInMemory(["job", "status", "--board", "http://127.0.0.1:9", "--id", "j"]);
  assert.equal(run.status, 9, run.stderr);
  assert.match(run.stderr, /^panoramix: error: Board 'http:\/\/127\.0\.0\.1:9' cannot be reached/);
});

Deno.test("a key file in a missing folder and a board that is not a URL are one-line errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const folder = await runInMemory(["node", "identity", "--out", `${dir}/no/such/key.json`]);
    assert.equal(folder.status, 6, folder.stderr);
    assert.match(
      folder.stderr,
      /^panoramix: error: Cannot write '.*': its folder does not exist\n$/,
    );
    const url = await runInMemory(["job", "status", "--board", "hub:8470", "--id", "j"]);
    assert.equal(url.status, 2, url.stderr);
    assert.match(url.stderr, /Board URL 'hub:8470' must be an http:\/\/ or https:\/\/ URL/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
