/**
 * Browser tests in a real Chromium (Debian's `chromium`, driven by `puppeteer-core`).
 * Test support only.
 *
 * The browser is found at `PANORAMIX_CHROMIUM`, `/usr/bin/chromium` or
 * `/usr/bin/chromium-browser`. Without one, browser tests are ignored — unless
 * `PANORAMIX_REQUIRE_BROWSER=1` (set by `.ci/run`), where a missing browser fails them.
 * Screenshots go to `PANORAMIX_SCREENSHOTS` (default `dist/screenshots/`).
 *
 * @module
 */

import puppeteer, { type Browser, type Page } from "puppeteer-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * The Chromium executable, if one is installed.
 *
 * @returns its path, or undefined
 * @example
 * ```ts ignore
 * const path = chromiumPath();
 * ```
 */
export function chromiumPath(): string | undefined {
  const fromEnv = Deno.env.get("PANORAMIX_CHROMIUM");
  if (fromEnv) return fromEnv;
  return CANDIDATES.find(exists);
}

/**
 * Whether browser tests are to be ignored: no browser and none required.
 *
 * @returns true to ignore
 * @example
 * ```ts ignore
 * Deno.test({ name: "booth", ignore: ignoreBrowserTests(), fn: async () => {} });
 * ```
 */
export function ignoreBrowserTests(): boolean {
  return chromiumPath() === undefined && Deno.env.get("PANORAMIX_REQUIRE_BROWSER") !== "1";
}

/**
 * Launches headless Chromium with the flags this machine needs (no sandbox as root,
 * no background connections to the outside), runs `fn`, and closes it.
 *
 * @param fn what to do with the browser
 * @returns what `fn` returns
 * @example
 * ```ts ignore
 * await withBrowser(async (browser) => (await browser.newPage()).goto(url));
 * ```
 */
export async function withBrowser<T>(fn: (browser: Browser) => Promise<T>): Promise<T> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) {
    throw new Error("No Chromium found: install Debian's 'chromium' or set PANORAMIX_CHROMIUM");
  }
  const userDataDir = await Deno.makeTempDir({ prefix: "panoramix-chromium-" });
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
    ],
  });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
    await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
  }
}

/**
 * Saves a full-page screenshot for people to look at.
 *
 * @param page the page
 * @param name file name without extension, e.g. "booth-review"
 * @returns the PNG's path
 * @example
 * ```ts ignore
 * await screenshot(page, "home");
 * ```
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = Deno.env.get("PANORAMIX_SCREENSHOTS") ??
    new URL("../../dist/screenshots/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir.replace(/\/$/, "")}/${name}.png`;
  await page.screenshot({ path: path as `${string}.png`, fullPage: true });
  return path;
}

/**
 * Collects what the page logs as errors (console errors, uncaught exceptions,
 * refused requests) so a test can assert there were none.
 *
 * @param page the page
 * @returns the live list of messages
 * @example
 * ```ts ignore
 * const errors = pageErrors(page);
 * ```
 */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()} ${m.location().url ?? ""}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${(e as Error).message ?? String(e)}`));
  page.on("requestfailed", (r) => errors.push(`request: ${r.url()} ${r.failure()?.errorText}`));
  return errors;
}
