/// <reference lib="dom" />
import assert from "node:assert/strict";
import { TestNetwork } from "../node/test_support.ts";
import { ignoreBrowserTests, pageErrors, screenshot, withBrowser } from "./browser_test_support.ts";

Deno.test({
  name: "home page: a browser sees the node's name, health and roles in plain words",
  ignore: ignoreBrowserTests(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const net = await TestNetwork.create();
    try {
      const node = await net.start({ name: "alpha", roles: ["board", "directory"] });
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        const errors = pageErrors(page);
        await page.goto(`${node.url}/`);
        await page.waitForFunction(() =>
          document.getElementById("status")?.textContent !== "Checking this node…"
        );
        const text = await page.evaluate(() => document.body.innerText);
        assert.match(text, /Panoramix node “alpha”/);
        assert.match(text, /running normally/);
        assert.match(text, /Bulletin board/);
        assert.match(text, /Directory/);
        assert.deepEqual(errors, []);
        await screenshot(page, "home");
      });
    } finally {
      await net.close();
    }
  },
});
