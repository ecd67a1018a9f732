import assert from "node:assert/strict";
import { TestNetwork } from "../node/test_support.ts";
import { buildAllWebAssets, buildWebAsset } from "./assets.ts";
import { WEB_ASSETS } from "./manifest.ts";

Deno.test("every registered web asset builds; bundles are self-contained browser modules", async () => {
  const built = await buildAllWebAssets();
  assert.deepEqual(Object.keys(built), WEB_ASSETS.map((a) => a.path));
  for (const source of WEB_ASSETS.filter((a) => a.bundle)) {
    const text = new TextDecoder().decode((await buildWebAsset(source)).body);
    assert.ok(text.length > 0, source.path);
    // A browser bundle resolves every import at build time and never touches Deno.
    assert.doesNotMatch(text, /\bDeno\.|from\s*"(npm|jsr|node):/, source.path);
  }
});

Deno.test("asset paths are unique and pages are served with a strict content security policy", async () => {
  const paths = WEB_ASSETS.map((a) => a.path);
  assert.equal(new Set(paths).size, paths.length);
  const net = await TestNetwork.create();
  try {
    const node = await net.start({ name: "web", roles: ["board"] });
    const res = await fetch(`${node.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/html/);
    const csp = res.headers.get("content-security-policy")!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
    assert.match(await res.text(), /<title>Panoramix node<\/title>/);
    const js = await fetch(`${node.url}/web/home.js`);
    assert.match(js.headers.get("content-type")!, /^text\/javascript/);
    await js.body?.cancel();
    const missing = await fetch(`${node.url}/web/nothing.js`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await net.close();
  }
});
