/**
 * `GET /v1/board/posts/:seq/body` holds each body it sends against a byte budget: over it a
 * request gets 503 until a response ends or is cancelled; one body alone always goes.
 */
import assert from "node:assert/strict";
import { ServedBodies } from "./board_stream.ts";
import { HttpError } from "./http_error.ts";

Deno.test("bodies being sent are bounded by a byte budget, released when a response ends or is cancelled", async () => {
  const served = new ServedBodies(100);
  const refused = () => {
    const error = (() => {
      try {
        served.respond(() => new Uint8Array(60));
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof HttpError, String(error));
    assert.equal(error.status, 503);
    assert.deepEqual(error.headers, { "retry-after": "1" });
    assert.match(
      error.message,
      /^This node is sending 60 bytes of post bodies \(limit 100\); retry later$/,
    );
  };
  const a = served.respond(() => new Uint8Array(60).fill(1));
  assert.equal(served.used, 60);
  refused();
  // Read to its end: released.
  assert.deepEqual(new Uint8Array(await a.arrayBuffer()), new Uint8Array(60).fill(1));
  assert.equal(served.used, 0);
  // Cancelled by the client: released too.
  const b = served.respond(() => new Uint8Array(60));
  refused();
  await b.body!.cancel();
  assert.equal(served.used, 0);
  // A body over the whole budget still goes when nothing else is being sent.
  const big = served.respond(() => new Uint8Array(500));
  assert.equal((await big.arrayBuffer()).byteLength, 500);
  assert.equal(served.used, 0);
});
