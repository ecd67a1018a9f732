import assert from "node:assert/strict";
import { compileFailure, denortUrl } from "./compile.ts";

const root = new URL("../..", import.meta.url).pathname;

Deno.test("a failed runtime download is one line that says where to get denort", () => {
  const stderr = "error: Writing deno compile executable\n\nCaused by:\n    0: Setting up base " +
    "binary.\n    1: error sending request for url (https://dl.deno.land/release/v2.9.6/x.zip)";
  const line = compileFailure(stderr, { version: "2.9.6", target: "x86_64-unknown-linux-gnu" });
  assert.equal(
    line?.includes(denortUrl("2.9.6", "x86_64-unknown-linux-gnu")),
    true,
  );
  assert.match(line!, /^panoramix: error: .*DENORT_BIN=.*deno task bundle/);
  assert.equal(line!.includes("\n"), false);
  assert.equal(
    compileFailure("error: Module not found", {}),
    undefined,
    "other errors pass through",
  );
  assert.match(
    compileFailure("No such file or directory (os error 2)", { denortBin: "/x" })!,
    /DENORT_BIN='\/x' is not a readable denort/,
  );
});

Deno.test("deno task compile with no reachable runtime prints one line, no backtrace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9" };
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-run",
        "--allow-env",
        "--allow-read",
        "--allow-write=dist",
        "cli/build/compile.ts",
        `${dir}/panoramix`,
      ],
      cwd: root,
      env: { ...env, RUST_BACKTRACE: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    if (out.code === 0) return; // the runtime was already in Deno's cache: nothing to download
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, /^panoramix: error: deno compile could not download/);
    assert.doesNotMatch(stderr, /backtrace/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
