/**
 * The bytes of the node's web pages. A build made by `cli/web/build.ts` (the
 * compiled binary, the single-file bundle) carries every asset inside it and
 * registers them with {@linkcode provideEmbeddedWebAssets}; run from source, an
 * asset is read, or bundled with `Deno.bundle` (enabled by `deno.json`), on first
 * use and kept in memory.
 *
 * @module
 */

import { fromBase64Url, toBase64Url } from "../../core/bytes.ts";
import { ConfigError, NotFoundError } from "../../core/errors.ts";
import { WEB_ASSETS, type WebAssetSource } from "./manifest.ts";

/** One asset ready to serve. */
export interface WebAsset {
  /** Content type. */
  readonly type: string;
  /** The bytes. */
  readonly body: Uint8Array;
}

/** The embedded form: path → content type and base64url bytes (JSON-friendly). */
export type EmbeddedWebAssets = Record<string, { type: string; base64: string }>;

let embedded: Map<string, WebAsset> | undefined;
const built = new Map<string, Promise<WebAsset>>();

/**
 * Registers the assets a build carries inside it; later lookups never touch the sources.
 *
 * @param assets the embedded assets, as written by `cli/web/build.ts`
 * @example
 * ```ts ignore
 * provideEmbeddedWebAssets({ "/": { type: "text/html", base64: "PGgxPg" } });
 * ```
 */
export function provideEmbeddedWebAssets(assets: EmbeddedWebAssets): void {
  embedded = new Map(
    Object.entries(assets).map((
      [path, a],
    ) => [path, { type: a.type, body: fromBase64Url(a.base64, `web asset ${path}`) }]),
  );
}

/**
 * Turns one source into served bytes: bundles a browser module, reads any other file.
 *
 * @param source the manifest entry
 * @returns the asset
 * @throws {ConfigError} when the source cannot be read or bundled
 * @example
 * ```ts ignore
 * const asset = await buildWebAsset(WEB_ASSETS[0]!);
 * ```
 */
export async function buildWebAsset(source: WebAssetSource): Promise<WebAsset> {
  if (!source.bundle) {
    try {
      return { type: source.type, body: await Deno.readFile(source.source) };
    } catch (error) {
      throw new ConfigError(
        `Cannot read web asset '${source.path}': ${(error as Error).message}`,
      );
    }
  }
  if (typeof Deno.bundle !== "function") {
    throw new ConfigError(
      `Cannot build web asset '${source.path}': this build carries no web pages and ` +
        "Deno.bundle is unavailable (run from the repository with its deno.json, or build with " +
        "'deno task bundle' or 'deno task compile')",
    );
  }
  const result = await Deno.bundle({
    entrypoints: [source.source.pathname],
    platform: "browser",
    format: "esm",
    minify: true,
    write: false,
  });
  const file = result.outputFiles?.[0];
  if (!result.success || file === undefined) {
    const reasons = result.errors.map((e) => e.text).join("; ");
    throw new ConfigError(`Cannot bundle web asset '${source.path}': ${reasons}`);
  }
  return { type: source.type, body: file.contents ?? new TextEncoder().encode(file.text()) };
}

/**
 * Looks up the asset served at a path: embedded bytes when the build has them,
 * otherwise built from the source once and cached.
 *
 * @param path URL path, e.g. "/web/home.js"
 * @returns the asset
 * @throws {NotFoundError} when no asset is registered at the path
 * @example
 * ```ts ignore
 * const { type, body } = await webAsset("/");
 * ```
 */
export function webAsset(path: string): Promise<WebAsset> {
  const fromBuild = embedded?.get(path);
  if (fromBuild) return Promise.resolve(fromBuild);
  const source = WEB_ASSETS.find((a) => a.path === path);
  if (!source) return Promise.reject(new NotFoundError(`No web asset at '${path}'`));
  let pending = built.get(path);
  if (!pending) {
    pending = buildWebAsset(source);
    built.set(path, pending);
    pending.catch(() => built.delete(path));
  }
  return pending;
}

/**
 * Builds every registered asset into the embedded form.
 *
 * @returns path → type and base64url bytes
 * @example
 * ```ts ignore
 * const assets = await buildAllWebAssets();
 * ```
 */
export async function buildAllWebAssets(): Promise<EmbeddedWebAssets> {
  const out: EmbeddedWebAssets = {};
  for (const source of WEB_ASSETS) {
    const asset = await buildWebAsset(source);
    out[source.path] = { type: asset.type, base64: toBase64Url(asset.body) };
  }
  return out;
}
