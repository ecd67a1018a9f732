import assert from "node:assert/strict";
import { toHex } from "../../core/bytes.ts";
import { labelledDigest } from "../../core/transcript.ts";
import { ASYNC_DIGEST_BYTES, labelledDigestAsync, sha256Async } from "./async_digest.ts";
import { sha256Digest } from "./identity.ts";

Deno.test("the digests off the event loop equal the synchronous ones, small and big", async () => {
  for (
    const size of [0, 1, ASYNC_DIGEST_BYTES - 1, ASYNC_DIGEST_BYTES, 3 * ASYNC_DIGEST_BYTES + 5]
  ) {
    const bytes = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
    const big = new Uint8Array(size);
    for (let i = 0; i < size; i += bytes.length) big.set(bytes.subarray(0, size - i), i);
    assert.equal(toHex(await sha256Async(big)), toHex(sha256Digest(big)), `sha256 of ${size}`);
    const parts = [new Uint8Array([1, 2, 3]), big, new Uint8Array(0), big.subarray(7)];
    assert.equal(
      toHex(await labelledDigestAsync("panoramix/node/post/v1", parts)),
      toHex(labelledDigest("panoramix/node/post/v1", parts)),
      `labelled digest of ${size}`,
    );
  }
  // A different label or part boundary gives another digest (the framing is the same).
  const big = new Uint8Array(ASYNC_DIGEST_BYTES * 2);
  const a = toHex(await labelledDigestAsync("a/v1", [big.subarray(0, 10), big.subarray(10)]));
  assert.notEqual(
    a,
    toHex(await labelledDigestAsync("a/v1", [big.subarray(0, 11), big.subarray(11)])),
  );
  assert.notEqual(
    a,
    toHex(await labelledDigestAsync("b/v1", [big.subarray(0, 10), big.subarray(10)])),
  );
});
