import assert from "node:assert/strict";
import { toHex } from "../../core/bytes.ts";
import {
  beginToken,
  epochChallenge,
  generateTokenKey,
  issueToken,
  verifyToken,
} from "../../plugins/token/mod.ts";
import { nativeBlindRsaIssue } from "./token_issuer.ts";

Deno.test("native blind RSA issuance is bit-identical to the library's and checks its input", async () => {
  const key = await generateTokenKey({ type: 2, epoch: 3 });
  const challenge = epochChallenge({ type: 2, issuerName: "i", origin: "o", epoch: 3 });
  for (let i = 0; i < 3; i++) {
    const pending = await beginToken(challenge, key);
    const native = nativeBlindRsaIssue(key, pending.request);
    assert.equal(toHex(native), toHex(await issueToken(key, pending.request)));
    const token = await pending.finish(native);
    await verifyToken(token, { origin: "o", issuerName: "i", keys: [key], epochs: [3] });
  }
  const pending = await beginToken(challenge, key);
  const tooBig = pending.request.slice();
  tooBig.fill(0xff, 3);
  assert.throws(() => nativeBlindRsaIssue(key, tooBig), /out of range/);
  const otherKey = pending.request.slice();
  otherKey[2] = (otherKey[2]! + 1) & 0xff;
  assert.throws(() => nativeBlindRsaIssue(key, otherKey), /another key id/);
  assert.throws(
    () => nativeBlindRsaIssue(key, pending.request.slice(0, 100)),
    /type-2 request of 259 bytes/,
  );
});
