/**
 * Prepares a self-contained build: bundles every web asset of the manifest into
 * `dist/web_assets.json` and writes `dist/panoramix_main.ts`, the entry that
 * registers those assets and runs the command line. `deno task bundle` and
 * `deno task compile` build from that entry, so the single file and the binary
 * serve the pages without their sources.
 *
 * Usage: `deno run --allow-read --allow-write=dist cli/web/build.ts`
 *
 * @module
 */

import { buildAllWebAssets } from "./assets.ts";

const ENTRY = `// Written by cli/web/build.ts: the build entry that carries the web pages.
import assets from "./web_assets.json" with { type: "json" };
import { provideEmbeddedWebAssets } from "../cli/web/assets.ts";
import { runProcess } from "../cli/run.ts";

provideEmbeddedWebAssets(assets);
await runProcess(new URL(import.meta.url));
`;

/**
 * Writes the embedded assets and the build entry into a folder.
 *
 * @param dir output folder URL (created if missing)
 * @returns the entry module's path
 * @example
 * ```ts ignore
 * const entry = await writeBuildEntry(new URL("../../dist/", import.meta.url));
 * ```
 */
export async function writeBuildEntry(dir: URL): Promise<string> {
  const assets = await buildAllWebAssets();
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(new URL("web_assets.json", dir), JSON.stringify(assets));
  const entry = new URL("panoramix_main.ts", dir);
  await Deno.writeTextFile(entry, ENTRY);
  return entry.pathname;
}

if (import.meta.main) {
  const out = new URL("../../dist/", import.meta.url);
  console.error(`panoramix: web assets bundled into ${await writeBuildEntry(out)}`);
}
