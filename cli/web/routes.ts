/**
 * HTTP routes that serve the web pages of {@linkcode WEB_ASSETS} with a strict
 * content security policy: scripts, workers, styles and connections only from the
 * node itself (no request leaves for a third party), WebAssembly allowed to compile
 * (`'wasm-unsafe-eval'`, without which the library falls back to plain JavaScript).
 *
 * @module
 */

import type { Route } from "../node/server.ts";
import { webAsset } from "./assets.ts";
import { WEB_ASSETS } from "./manifest.ts";

/**
 * The content security policy sent with every page.
 *
 * @param allowWasm whether WebAssembly may be compiled (`'wasm-unsafe-eval'`)
 * @returns the header value
 * @example
 * ```ts
 * import { contentSecurityPolicy } from "./routes.ts";
 * console.assert(contentSecurityPolicy(true).includes("'wasm-unsafe-eval'"));
 * ```
 */
export function contentSecurityPolicy(allowWasm: boolean): string {
  const script = allowWasm ? "'self' 'wasm-unsafe-eval'" : "'self'";
  return [
    "default-src 'none'",
    `script-src ${script}`,
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Options of {@linkcode webRoutes}. */
export interface WebRoutesOptions {
  /** Allow WebAssembly in pages (default true). */
  allowWasm?: boolean;
}

/**
 * One GET route per registered asset.
 *
 * @param options policy options
 * @returns the routes
 * @example
 * ```ts
 * import { webRoutes } from "./routes.ts";
 * console.assert(webRoutes().some((r) => r.path === "/"));
 * ```
 */
export function webRoutes(options: WebRoutesOptions = {}): Route[] {
  const policy = contentSecurityPolicy(options.allowWasm ?? true);
  return WEB_ASSETS.map((source) => ({
    method: "GET" as const,
    path: source.path,
    async handle() {
      const asset = await webAsset(source.path);
      return new Response(asset.body.slice(), {
        headers: {
          "content-type": asset.type,
          "content-security-policy": policy,
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
          "cache-control": "no-cache",
        },
      });
    },
  }));
}
