/**
 * `deno task compile`: runs `deno compile` for the single binary `dist/panoramix` from the
 * build entry that `cli/web/build.ts` writes first (it carries the web pages), and when
 * the Deno runtime it embeds (denort) cannot be downloaded says so in one line with where to
 * get it, instead of Deno's chain of causes and a Rust backtrace.
 *
 * @module
 */

import { writeBuildEntry } from "../web/build.ts";

/** Permissions the compiled binary runs with (as `deno task panoramix`). */
const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-sys"];

/**
 * Where the runtime of this Deno release is published.
 *
 * @param version the Deno version
 * @param target the target triple
 * @returns the download URL of denort
 */
export function denortUrl(version: string, target: string): string {
  return `https://dl.deno.land/release/v${version}/denort-${target}.zip`;
}

/**
 * The one-line message for a compile that failed.
 *
 * @param stderr what `deno compile` printed
 * @param env the DENORT_BIN setting, if any
 * @returns the line to print, or undefined to show Deno's own output
 * @example
 * ```ts
 * import { compileFailure } from "./compile.ts";
 * const line = compileFailure("error sending request for url (https://dl.deno.land/x)", {});
 * console.assert(line?.includes("DENORT_BIN"));
 * ```
 */
export function compileFailure(
  stderr: string,
  env: { denortBin?: string; version?: string; target?: string },
): string | undefined {
  const version = env.version ?? Deno.version.deno;
  const target = env.target ?? Deno.build.target;
  if (env.denortBin !== undefined) {
    if (/No such file|not found|os error 2/i.test(stderr)) {
      return `panoramix: error: DENORT_BIN='${env.denortBin}' is not a readable denort ${version} ` +
        `binary; get it from ${denortUrl(version, target)} (unzip it)`;
    }
    return undefined;
  }
  if (/denort|dl\.deno\.land|Setting up base binary|error sending request/i.test(stderr)) {
    return `panoramix: error: deno compile could not download the Deno runtime it embeds; ` +
      `fetch ${denortUrl(version, target)} on a connected machine, unzip it and set ` +
      `DENORT_BIN=/path/to/denort, or build the single file dist/panoramix.js with ` +
      `'deno task bundle' (works offline)`;
  }
  return undefined;
}

if (import.meta.main) {
  const root = new URL("../..", import.meta.url).pathname;
  // The binary starts from the build entry that carries the web pages (cli/web/build.ts).
  await writeBuildEntry(new URL("../../dist/", import.meta.url));
  const output = Deno.args[0] ?? `${root}dist/panoramix`;
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["compile", ...PERMISSIONS, "--output", output, `${root}dist/panoramix_main.ts`],
    env: { RUST_BACKTRACE: "0" },
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(child.stderr);
  if (child.code === 0) {
    await Deno.stderr.write(child.stderr);
  } else {
    const denortBin = Deno.env.get("DENORT_BIN");
    const line = compileFailure(stderr, denortBin === undefined ? {} : { denortBin });
    if (line === undefined) await Deno.stderr.write(child.stderr);
    else console.error(line);
  }
  Deno.exit(child.code);
}
