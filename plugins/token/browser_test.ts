/**
 * The token library in a real browser: bundled with `deno bundle --platform browser`
 * and run in headless Chromium (skipped when /usr/bin/chromium is absent).
 */
import assert from "node:assert/strict";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);

Deno.test({
  name: "token issuance and redemption (types 1 and 2) run in headless Chromium",
  ignore: !hasChromium,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "panoramix-token-browser-" });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/") {
          return new Response('<!doctype html><script type="module" src="/t.js"></script>', {
            headers: { "content-type": "text/html" },
          });
        }
        if (path === "/t.js") {
          return new Response(await Deno.readFile(`${dir}/t.js`), {
            headers: { "content-type": "text/javascript" },
          });
        }
        return new Response("not found", { status: 404 });
      },
    );
    try {
      const built = await new Deno.Command(Deno.execPath(), {
        args: [
          "bundle",
          "--quiet",
          "--platform",
          "browser",
          "--output",
          `${dir}/t.js`,
          new URL("./testdata/browser_entry.ts", import.meta.url).pathname,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
      const port = (server.addr as Deno.NetAddr).port;
      const child = new Deno.Command(CHROMIUM, {
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--no-first-run",
          "--enable-logging=stderr",
          "--v=0",
          `--user-data-dir=${dir}/profile`,
          `http://127.0.0.1:${port}/`,
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let log = "";
      const deadline = setTimeout(() => child.kill("SIGKILL"), 120_000);
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        log += decoder.decode(chunk, { stream: true });
        if (/PANORAMIX-TOKEN-RESULT [^"\n]*/.test(log)) break;
      }
      clearTimeout(deadline);
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      const result = /PANORAMIX-TOKEN-RESULT ([^"\n]*)/.exec(log)?.[1];
      assert.equal(result, "ok", log.slice(-2000));
    } finally {
      await server.shutdown();
      // Chromium's helper processes may still be writing the profile for a moment after
      // the browser is killed: retry the clean-up briefly rather than fail the test on it.
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await Deno.remove(dir, { recursive: true });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }
  },
});
