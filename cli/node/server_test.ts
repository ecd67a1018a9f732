import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { signRequest } from "./auth.ts";
import { jsonResponse } from "./http_error.ts";
import { generateIdentity } from "./identity.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createHandler, decodeBody } from "./server.ts";

function handler(burst: number) {
  return createHandler({
    routes: [
      {
        method: "GET",
        path: "/v1/items/:id",
        handle: (req) => jsonResponse({ id: req.params.id }),
      },
      {
        method: "POST",
        path: "/v1/items",
        auth: true,
        handle: (req) => jsonResponse({ value: decodeBody(req) }, { status: 201 }),
      },
      {
        method: "GET",
        path: "/v1/boom",
        handle: () => {
          throw new Error("secret detail");
        },
      },
      {
        method: "GET",
        path: "/v1/bad",
        handle: () => {
          throw new InvalidInputError("Value 'x' is wrong");
        },
      },
    ],
    requestsPerSecond: 0.001,
    burst,
    maxBodyBytes: 1000,
    authWindowSeconds: 60,
    logger: silentLogger,
    metrics: new MetricsRegistry(),
  });
}

const info = (ip: string) =>
  ({ remoteAddr: { transport: "tcp", hostname: ip, port: 1 } }) as unknown as Deno.ServeHandlerInfo;

function signed(identity = generateIdentity(), body = '{"a":1}') {
  const bytes = new TextEncoder().encode(body);
  const headers = signRequest(identity, { method: "POST", path: "/v1/items", body: bytes });
  return new Request("http://node/v1/items", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: bytes,
  });
}

Deno.test("routing, params, JSON errors: 404, 405, 400 with the message, 500 without details", async () => {
  const h = handler(100);
  const get = (path: string) => h(new Request(`http://node${path}`), info("10.0.0.1"));
  assert.deepEqual(await (await get("/v1/items/a%20b")).json(), { id: "a b" });
  const cases: [Response, number, RegExp][] = [
    [await get("/nope"), 404, /No such endpoint/],
    [
      await h(new Request("http://node/v1/items/x", { method: "POST" }), info("10.0.0.1")),
      405,
      /not allowed/,
    ],
    [await get("/v1/bad"), 400, /Value 'x' is wrong/],
    [await get("/v1/boom"), 500, /see the node log/],
  ];
  for (const [response, status, pattern] of cases) {
    assert.equal(response.status, status);
    const body = await response.json();
    assert.match(body.message, pattern);
    assert.doesNotMatch(body.message, /secret detail/);
  }
  const ok = await h(signed(), info("10.0.0.1"));
  assert.equal(ok.status, 201);
  assert.deepEqual(await ok.json(), { value: { a: 1 } });
  const broken = await h(signed(generateIdentity(), "{oops"), info("10.0.0.1"));
  assert.equal(broken.status, 400);
  assert.match((await broken.json()).message, /not valid JSON/);
});

Deno.test("rate limits: per address for everything, per identity key for signed requests", async () => {
  const h = handler(2);
  // One key from three addresses: its own bucket runs out.
  const id = generateIdentity();
  const byKey = [];
  // Distinct bodies: signatures are deterministic, and one signed twice in the same
  // millisecond would be refused as a replay (401) before the rate limit is reached.
  for (const [i, ip] of ["10.0.0.1", "10.0.0.2", "10.0.0.3"].entries()) {
    byKey.push((await h(signed(id, `{"a":${i}}`), info(ip))).status);
  }
  assert.deepEqual(byKey, [201, 201, 429]);
  // Fresh keys from one address: the address bucket runs out.
  const byAddress = [];
  for (let i = 0; i < 3; i++) byAddress.push((await h(signed(), info("10.0.0.9"))).status);
  assert.deepEqual(byAddress, [201, 201, 429]);
  const r = await h(new Request("http://node/v1/items/x"), info("10.0.0.9"));
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get("retry-after")) >= 1);
});
