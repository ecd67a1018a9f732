/**
 * Errors quoting raw input are one line with control characters escaped, and
 * `cascade --transcript x.msgpack` writes msgpack (issue 11 §14).
 */
import assert from "node:assert/strict";
import { runInMemory } from "./test_context.ts";

const NASTY = "x\ny\u001b[31mred\u0007\r\u2028end";

Deno.test("errors quoting raw input are one line without terminal escapes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const runs = [
      ["keygen", "--backend", NASTY, "--public", `${dir}/p`, "--secret", `${dir}/s`],
      ["mix", "--backend", "plain", "--key", `${dir}/${NASTY}`],
      ["gen", "--backend", "plain", "--key", `${dir}/k`, "--count", NASTY],
      [NASTY],
      ["verify", `${dir}/${NASTY}`],
    ];
    for (const args of runs) {
      const run = await runInMemory(args);
      assert.notEqual(run.status, 0);
      const text = run.stderr;
      assert.equal(text.endsWith("\n"), true, JSON.stringify(text));
      const body = text.slice(0, -1);
      // deno-lint-ignore no-control-regex -- no control character may remain
      assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(body), JSON.stringify(text));
      assert.match(body, /x\\ny\\x1b\[31mred\\x07\\r\\u2028end/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cascade --transcript x.msgpack writes msgpack, x.json the JSON view", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keygen = await runInMemory([
      "keygen",
      "--backend",
      "reencrypt",
      "--public",
      `${dir}/pk.json`,
      "--secret",
      `${dir}/sk.json`,
    ]);
    assert.equal(keygen.status, 0, keygen.stderr);
    const gen = await runInMemory([
      "gen",
      "--backend",
      "reencrypt",
      "--key",
      `${dir}/pk.json`,
      "--count",
      "3",
    ]);
    assert.equal(gen.status, 0, gen.stderr);
    for (const name of ["t.msgpack", "t.json"]) {
      const run = await runInMemory(
        [
          "cascade",
          "--key",
          `${dir}/pk.json`,
          "--mixers",
          "2",
          "--transcript",
          `${dir}/${name}`,
        ],
        gen.stdout,
      );
      assert.equal(run.status, 0, run.stderr);
      const bytes = await Deno.readFile(`${dir}/${name}`);
      if (name.endsWith(".json")) assert.equal(bytes[0], 0x7b, "JSON view");
      else assert.ok((bytes[0]! & 0xf0) === 0x80 || bytes[0] === 0xde, "a msgpack map");
      const verify = await runInMemory(["verify", `${dir}/${name}`, "--workers", "1"]);
      assert.equal(verify.status, 0, verify.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
