/**
 * Where Panoramix keeps per-user state on this machine (the decryption mixer's replay
 * store): the platform's user data directory.
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";

/**
 * The user data directory of Panoramix: `$XDG_DATA_HOME/panoramix`, else on Linux and other
 * Unix `~/.local/share/panoramix`, on macOS `~/Library/Application Support/panoramix`, on
 * Windows `%LOCALAPPDATA%\panoramix` (or `%APPDATA%`).
 *
 * @param env environment variables
 * @param os the operating system (`Deno.build.os`)
 * @returns the directory (not created)
 * @throws {ConfigError} when no variable tells where the home directory is
 * @example
 * ```ts
 * import { userDataDir } from "./data_dir.ts";
 * console.assert(userDataDir({ HOME: "/home/a" }, "linux") === "/home/a/.local/share/panoramix");
 * ```
 */
export function userDataDir(env: Readonly<Record<string, string>>, os: string): string {
  // XDG Base Directory Specification: only an absolute XDG_DATA_HOME counts.
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && xdg.startsWith("/")) return `${xdg}/panoramix`;
  if (os === "windows") {
    const base = env.LOCALAPPDATA ?? env.APPDATA;
    if (base !== undefined && base !== "") return `${base}\\panoramix`;
  } else {
    const home = env.HOME;
    if (home !== undefined && home !== "") {
      return os === "darwin"
        ? `${home}/Library/Application Support/panoramix`
        : `${home}/.local/share/panoramix`;
    }
  }
  throw new ConfigError(
    "Cannot find the user data directory (HOME, XDG_DATA_HOME or LOCALAPPDATA is unset): " +
      "pass --replay-db PATH",
  );
}
