/**
 * The JSR entry points of deno.json: one per use, each a mod.ts that only re-exports, each
 * documented completely on its own (`deno doc --lint` names no private type).
 */
import assert from "node:assert/strict";
import denoConfig from "./deno.json" with { type: "json" };

const root = new URL(".", import.meta.url).pathname;
const exportsMap: Record<string, string> = denoConfig.exports;

Deno.test("deno.json exports the core and one entry per use", () => {
  for (const name of [".", "./vote", "./survey", "./reencrypt", "./decrypt"]) {
    assert.ok(exportsMap[name] !== undefined, `export '${name}' is missing`);
  }
});

Deno.test("every entry but the root is a mod.ts that only re-exports", async () => {
  for (const [name, path] of Object.entries(exportsMap)) {
    if (name === ".") continue;
    assert.match(path, /\/mod\.ts$/, name);
    const source = await Deno.readTextFile(`${root}${path}`);
    const code = source
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "")
      .replace(/export\s+(type\s+)?(\*|\{[^}]*\})\s+from\s+"[^"]+";/g, "")
      .trim();
    assert.equal(code, "", `${path} holds more than re-exports`);
  }
});

Deno.test("deno doc --lint is clean on every entry", async () => {
  const files = Object.values(exportsMap);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...files],
    cwd: root,
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});
