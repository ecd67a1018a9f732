/**
 * `NodeClient` tries a GET again while the node answers 503 (or 429 with `Retry-After`):
 * after the node's `Retry-After`, else a capped backoff with jitter, within `retryForMs`;
 * then the refusal is thrown as it is. POSTs are never tried again.
 */
import assert from "node:assert/strict";
import { ServedBodies } from "./board_stream.ts";
import { NodeClient, NodeHttpError, type NodeRetry } from "./client.ts";
import { errorResponse } from "./http_error.ts";
import { generateIdentity } from "./identity.ts";

/** A server on 127.0.0.1 (port 0) answering with `handler`, counting the requests. */
async function withStub(
  handler: (request: Request, n: number) => Response | Promise<Response>,
  run: (url: string, requests: () => number) => Promise<void>,
): Promise<void> {
  let n = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => handler(request, ++n),
  );
  try {
    await run(`http://127.0.0.1:${server.addr.port}`, () => n);
  } finally {
    await server.shutdown();
  }
}

const busy = (headers: Record<string, string> = {}, status = 503) =>
  Response.json({ error: "unavailable", message: "Busy here" }, { status, headers });

Deno.test("a GET refused with 503 twice is tried again and succeeds, telling onRetry", async () => {
  await withStub((_, n) => n <= 2 ? busy() : Response.json({ ok: n }), async (url, requests) => {
    const retries: NodeRetry[] = [];
    const client = new NodeClient(url, {
      initialBackoffMs: 5,
      onRetry: (r) => retries.push(r),
    });
    assert.deepEqual(await client.getJson("/v1/board/jobs"), { ok: 3 });
    assert.equal(requests(), 3);
    assert.deepEqual(retries.map((r) => [r.attempt, r.status, r.path]), [
      [1, 503, "/v1/board/jobs"],
      [2, 503, "/v1/board/jobs"],
    ]);
    assert.equal(retries[0]!.message, "Busy here (HTTP 503)");
    // Backoff without Retry-After: 5 then 10 ms, each jittered into its upper half.
    assert.ok(retries[0]!.waitMs >= 2.5 && retries[0]!.waitMs <= 5, String(retries[0]!.waitMs));
    assert.ok(retries[1]!.waitMs >= 5 && retries[1]!.waitMs <= 10, String(retries[1]!.waitMs));
  });
});

Deno.test("a streamed GET refused with 503 is tried again and its body arrives whole", async () => {
  const body = new Uint8Array(1000).map((_, i) => i % 251);
  await withStub(
    (_, n) => n <= 2 ? busy() : new Response(body),
    async (url, requests) => {
      const client = new NodeClient(url, { initialBackoffMs: 1 });
      const stream = await client.getStream("/v1/board/posts/7/body");
      assert.deepEqual(new Uint8Array(await new Response(stream).arrayBuffer()), body);
      assert.equal(requests(), 3);
    },
  );
});

Deno.test("the wait is the node's Retry-After when it gives one", async () => {
  await withStub(
    (_, n) => n === 1 ? busy({ "retry-after": "1" }) : Response.json(n),
    async (url) => {
      const waits: number[] = [];
      const client = new NodeClient(url, {
        initialBackoffMs: 1,
        jitter: () => 0,
        onRetry: (r) => waits.push(r.waitMs),
      });
      const started = performance.now();
      assert.equal(await client.getJson("/x"), 2);
      const took = performance.now() - started;
      assert.deepEqual(waits, [1000]);
      assert.ok(took >= 990, `answered after ${took} ms, before the Retry-After of 1 s`);
    },
  );
});

Deno.test("a GET still refused when retryForMs ends fails with the node's one-line error", async () => {
  await withStub(() => busy(), async (url, requests) => {
    const client = new NodeClient(url, { retryForMs: 300, initialBackoffMs: 20, maxBackoffMs: 40 });
    const started = performance.now();
    const error = await client.getStream("/v1/board/posts/3/body").then(
      () => assert.fail("no error"),
      (e) => e,
    );
    const took = performance.now() - started;
    assert.ok(error instanceof NodeHttpError, String(error));
    assert.equal(error.status, 503);
    assert.equal(error.code, "unavailable");
    assert.equal(error.message, "Busy here (HTTP 503)");
    assert.ok(requests() >= 4, `${requests()} tries`);
    // The last try starts within the window and no wait follows it (the margin is for a
    // loaded machine: the default window would be 3 minutes).
    assert.ok(took < 2000, `gave up after ${took} ms, beyond retryForMs`);
  });
  // A Retry-After longer than the window: no wait at all, the refusal at once.
  await withStub(() => busy({ "retry-after": "30" }), async (url, requests) => {
    const client = new NodeClient(url, { retryForMs: 5_000 });
    await assert.rejects(client.getJson("/x"), /^NodeHttpError: Busy here \(HTTP 503\)$/);
    assert.equal(requests(), 1);
  });
  // retryForMs 0: never tried again.
  await withStub(() => busy(), async (url, requests) => {
    await assert.rejects(new NodeClient(url, { retryForMs: 0 }).getJson("/x"), NodeHttpError);
    assert.equal(requests(), 1);
  });
});

Deno.test("429 is tried again only with Retry-After; other refusals and POSTs never", async () => {
  await withStub(
    (_, n) => n === 1 ? busy({ "retry-after": "0" }, 429) : Response.json(n),
    async (url, requests) => {
      assert.equal(await new NodeClient(url).getJson("/x"), 2);
      assert.equal(requests(), 2);
    },
  );
  for (const status of [429, 500, 502, 404, 400]) {
    await withStub(() => busy({}, status), async (url, requests) => {
      await assert.rejects(new NodeClient(url, { initialBackoffMs: 1 }).getJson("/x"), (e) => {
        return e instanceof NodeHttpError && e.status === status;
      });
      assert.equal(requests(), 1, `HTTP ${status} tried again`);
    });
  }
  await withStub(() => busy({ "retry-after": "0" }), async (url, requests) => {
    const client = new NodeClient(url, { identity: generateIdentity(), initialBackoffMs: 1 });
    await assert.rejects(
      client.postEnvelope("/v1/board/posts", { v: 1, kind: "test" }),
      /Busy here \(HTTP 503\)/,
    );
    assert.equal(requests(), 1);
  });
});

Deno.test("a reader refused by a node's body budget waits its Retry-After and then gets the body", async () => {
  // Bodies bigger than the sockets' buffers, so that one not read by its client stays held.
  const served = new ServedBodies(32 << 20);
  const body = new Uint8Array(24 << 20).fill(7);
  await withStub(() => {
    try {
      return served.respond(() => body);
    } catch (error) {
      return errorResponse(error);
    }
  }, async (url, requests) => {
    const retries: NodeRetry[] = [];
    const client = new NodeClient(url, { jitter: () => 0, onRetry: (r) => retries.push(r) });
    // The first reader holds the budget until it reads its body, half a second later.
    const first = await client.getStream("/v1/board/posts/1/body");
    const second = client.getStream("/v1/board/posts/2/body");
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(new Uint8Array(await new Response(first).arrayBuffer()), body);
    assert.deepEqual(new Uint8Array(await new Response(await second).arrayBuffer()), body);
    assert.equal(requests(), 3);
    assert.equal(retries.length, 1);
    assert.equal(retries[0]!.waitMs, 1000);
    assert.match(
      retries[0]!.message,
      /^This node is sending 25165824 bytes of post bodies \(limit 33554432\); retry later/,
    );
  });
});
