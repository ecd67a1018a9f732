import assert from "node:assert/strict";
import { ConfigError } from "../../core/errors.ts";
import { CONFIG_DOCS, defaultConfig, loadConfig, parseConfig, renderConfig } from "./config.ts";

Deno.test("every option has a default and a comment, and the rendered file parses back", () => {
  const config = defaultConfig();
  const leaves: string[] = [];
  const walk = (v: Record<string, unknown>, prefix: string) => {
    for (const [k, x] of Object.entries(v)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (typeof x === "object" && x !== null && !Array.isArray(x) && key !== "cascade.mixKeys") {
        walk(x as Record<string, unknown>, key);
      } else leaves.push(key);
    }
  };
  walk(config as unknown as Record<string, unknown>, "");
  assert.deepEqual(leaves.sort(), Object.keys(CONFIG_DOCS).sort());
  const parsed = parseConfig(JSON.parse(renderConfig(config)), "/srv");
  assert.equal(parsed.dataDir, "/srv/data");
  assert.equal(parsed.identityKeyFile, "/srv/identity.key.json");
  assert.deepEqual(parsed.sphinx, config.sphinx);
});

Deno.test("bad options are refused with the option named", () => {
  const cases: [unknown, RegExp][] = [
    [{ rols: [] }, /Unknown config option 'rols'/],
    [{ roles: ["mixer"] }, /unknown role 'mixer'/],
    [{ limits: { burst: "10" } }, /'limits.burst' must be a number/],
    [{ limits: { burst: -1 } }, /'limits.burst' must be a positive number/],
    [{ httpListen: "localhost" }, /'httpListen' must be host:port/],
    [{ sphinx: { epochSeconds: 10, overlapSeconds: 10 } }, /overlapSeconds/],
    [{ board: { admins: ["short"] } }, /board.admins/],
    [[], /must be a map/],
  ];
  for (const [value, pattern] of cases) {
    assert.throws(
      () => parseConfig(value, "/x"),
      (e: unknown) => e instanceof ConfigError && pattern.test(e.message),
    );
  }
});

Deno.test("loadConfig names a missing or broken file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(loadConfig(`${dir}/none.json`), /does not exist/);
    await Deno.writeTextFile(`${dir}/bad.json`, "{");
    await assert.rejects(loadConfig(`${dir}/bad.json`), ConfigError);
    await Deno.writeTextFile(`${dir}/ok.json`, JSON.stringify({ _note: "ignored", name: "n" }));
    assert.equal((await loadConfig(`${dir}/ok.json`)).name, "n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs/node.md documents every option", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/node.md", import.meta.url));
  for (const key of Object.keys(CONFIG_DOCS)) {
    assert.ok(new RegExp(`\\| \`${key.replace(".", "\\.")}\` +\\|`).test(doc), key);
  }
});
