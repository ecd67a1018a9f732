/**
 * Architecture rules from the brief, checked on every run:
 * library code (core/, backends/, plugins/) uses no Deno or node APIs, so mod.ts runs in
 * browsers; core knows no backend or plugin; backends and plugins never reach into
 * another component's internals (only its mod.ts).
 */
import assert from "node:assert/strict";

const root = new URL(".", import.meta.url);

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(new URL(dir, root))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "testdata") yield* sourceFiles(path);
    else if (entry.isFile && path.endsWith(".ts")) yield path;
  }
}

function isTestOrBench(path: string): boolean {
  return /_(test|bench)\.ts$/.test(path);
}

function imports(source: string): string[] {
  return [...source.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!);
}

function component(path: string): string {
  const parts = path.split("/");
  return parts[0] === "core" ? "core" : `${parts[0]}/${parts[1]}`;
}

function resolve(from: string, spec: string): string {
  return new URL(spec, new URL(from, root)).pathname.slice(root.pathname.length);
}

const LIBRARY_DIRS = ["core", "backends", "plugins"];
// Browser code of the node's pages: bundled for browsers, so Web-standard APIs only.
const PAGE_DIRS = ["cli/web/pages"];

Deno.test("library and page code use only Web-standard APIs (no Deno.*, no node:*)", async () => {
  const offenders: string[] = [];
  for (const dir of [...LIBRARY_DIRS, ...PAGE_DIRS]) {
    for await (const path of sourceFiles(dir)) {
      if (isTestOrBench(path)) continue;
      const source = await Deno.readTextFile(new URL(path, root));
      if (/\bDeno\./.test(source.replace(/^\s*(\/\/|\*).*$/gm, ""))) {
        offenders.push(`${path}: Deno.*`);
      }
      for (const spec of imports(source)) {
        if (spec.startsWith("node:")) offenders.push(`${path}: ${spec}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

Deno.test("components depend on core and on other components' mod.ts only", async () => {
  const offenders: string[] = [];
  for (const dir of LIBRARY_DIRS) {
    for await (const path of sourceFiles(dir)) {
      const self = component(path);
      const source = await Deno.readTextFile(new URL(path, root));
      for (const spec of imports(source).filter((s) => s.startsWith("."))) {
        const target = resolve(path, spec);
        if (target.startsWith("cli/")) offenders.push(`${path} imports the CLI: ${spec}`);
        const other = component(target);
        if (other === self || other === "core") continue;
        if (self === "core") offenders.push(`${path}: core imports ${target}`);
        else if (self.startsWith("backends/") && other.startsWith("plugins/")) {
          offenders.push(`${path}: a backend imports a plugin: ${target}`);
        } else if (!target.endsWith("/mod.ts")) {
          offenders.push(`${path}: reaches into ${other} internals: ${target}`);
        }
      }
    }
  }
  assert.deepEqual(offenders, []);
});
