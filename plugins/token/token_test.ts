import assert from "node:assert/strict";
import { toHex } from "../../core/bytes.ts";
import { InvalidInputError, ReplayError, VerificationError } from "../../core/errors.ts";
import {
  auditSettlements,
  authorizationHeader,
  beginToken,
  challengeDigest,
  challengeHeader,
  epochChallenge,
  generateTokenKey,
  issueToken,
  MemorySpentTokens,
  parseToken,
  readAuthorizationHeader,
  readChallengeHeader,
  readSettlement,
  redeemToken,
  settlementToEnvelope,
  type TokenSecretKey,
  type TokenType,
  verifyToken,
} from "./mod.ts";

const ISSUER = "issuer.test";
const ORIGIN = "svc.test";

const keys = new Map<string, Promise<TokenSecretKey>>();
function key(type: TokenType, epoch: number): Promise<TokenSecretKey> {
  const id = `${type}/${epoch}`;
  if (!keys.has(id)) keys.set(id, generateTokenKey({ type, epoch }));
  return keys.get(id)!;
}

async function mint(
  k: TokenSecretKey,
  options: { origin?: string; epoch?: number; issuerName?: string } = {},
): Promise<{ token: Uint8Array; request: Uint8Array; response: Uint8Array }> {
  const challenge = epochChallenge({
    type: k.type,
    issuerName: options.issuerName ?? ISSUER,
    origin: options.origin ?? ORIGIN,
    epoch: options.epoch ?? k.epoch,
  });
  const pending = await beginToken(challenge, k);
  const response = await issueToken(k, pending.request);
  return { token: await pending.finish(response), request: pending.request, response };
}

for (const type of [1, 2] as const) {
  Deno.test(`type ${type}: a token is issued, redeemed once, and refused the second time`, async () => {
    const k = await key(type, 100);
    const { token } = await mint(k);
    const spent = new MemorySpentTokens();
    const options = { origin: ORIGIN, issuerName: ISSUER, keys: [k], epochs: [100], spent };
    // A token inside a larger buffer (as msgpack decoding yields) verifies too.
    const padded = new Uint8Array(token.length + 3);
    padded.set(token, 3);
    await verifyToken(padded.subarray(3), options);
    const v = await redeemToken(token, options);
    assert.equal(v.epoch, 100);
    assert.deepEqual(v.tokenKeyId, k.tokenKeyId);
    await assert.rejects(redeemToken(token, options), (e) => {
      assert.ok(e instanceof ReplayError);
      assert.match(e.message, /already spent in epoch 100 \(double spend\)/);
      return true;
    });
  });

  Deno.test(`type ${type}: forged, wrong-epoch, wrong-origin and wrong-issuer tokens are refused`, async () => {
    const k = await key(type, 100);
    const next = await key(type, 101);
    const other = await key(type, 200); // another issuer's key (same epoch number below)
    const options = { origin: ORIGIN, issuerName: ISSUER, keys: [k, next], epochs: [100] };
    const { token } = await mint(k);
    // Forged: flip one bit of the authenticator.
    const forged = token.slice();
    forged[forged.length - 1]! ^= 0x01;
    await assert.rejects(verifyToken(forged, options), /does not verify .*\(forged\)/);
    // A forged nonce (same authenticator) fails the same way.
    const nonce = token.slice();
    nonce[2]! ^= 0x80;
    await assert.rejects(verifyToken(nonce, options), /\(forged\)/);
    // Wrong epoch: signed by the next epoch's key.
    const late = await mint(next);
    await assert.rejects(verifyToken(late.token, options), (e) => {
      assert.ok(e instanceof VerificationError);
      assert.match(
        e.message,
        /issued for epoch 101; this service accepts epoch 100 \(wrong epoch\)/,
      );
      return true;
    });
    // Wrong epoch inside the challenge (this epoch's key, next epoch's context).
    const shifted = await mint(k, { epoch: 101 });
    await assert.rejects(verifyToken(shifted.token, options), /wrong origin or epoch/);
    // Wrong origin.
    const elsewhere = await mint(k, { origin: "other.test" });
    await assert.rejects(
      verifyToken(elsewhere.token, options),
      /not origin 'svc.test'.*wrong origin/,
    );
    // Wrong issuer: a key this service does not accept.
    const foreign = await mint(other);
    await assert.rejects(
      verifyToken(foreign.token, options),
      /not a key of issuer .*\(wrong issuer\)/,
    );
    // Wrong issuer name in the challenge, right key.
    const renamed = await mint(k, { issuerName: "evil.test" });
    await assert.rejects(verifyToken(renamed.token, options), /wrong origin or epoch/);
    // Malformed.
    await assert.rejects(verifyToken(token.slice(0, 50), options), InvalidInputError);
    await assert.rejects(
      verifyToken(new Uint8Array([0, 9, 1]), options),
      /type 9 is not supported/,
    );
  });

  Deno.test(`type ${type}: the issuer's view and the service's view share no value`, async () => {
    const k = await key(type, 100);
    const { token, request, response } = await mint(k);
    const v = await verifyToken(token, {
      origin: ORIGIN,
      issuerName: ISSUER,
      keys: [k],
      epochs: [100],
    });
    // What the issuer sees: the request and its response. What the service sees: the token.
    // Apart from the public key id's last byte (the truncated key id, public) and the token
    // type, no 8-byte window of the token occurs in the issuer's view.
    const issuerView = toHex(request) + "|" + toHex(response);
    const windows = new Set<string>();
    for (let i = 0; i + 8 <= token.length; i++) windows.add(toHex(token.slice(i, i + 8)));
    for (const w of windows) assert.ok(!issuerView.includes(w), `shared window ${w}`);
    for (const secret of [v.nonce, token.slice(token.length - 32)]) {
      assert.ok(!issuerView.includes(toHex(secret)));
    }
    // Two tokens of the same user look alike to nobody: distinct nonces, distinct authenticators.
    const second = await mint(k);
    assert.notEqual(toHex(second.token.slice(2, 34)), toHex(token.slice(2, 34)));
  });
}

Deno.test("type-1 tokens do not verify without the issuer's secret key", async () => {
  const k = await key(1, 100);
  const { token } = await mint(k);
  const { secretKey: _, ...publicOnly } = k;
  await assert.rejects(
    verifyToken(token, { origin: ORIGIN, issuerName: ISSUER, keys: [publicOnly], epochs: [100] }),
    /only with the issuer's secret key/,
  );
});

Deno.test("issuer refuses a request for another key or type", async () => {
  const k1 = await key(1, 100);
  const k2 = await key(2, 100);
  const other = await key(2, 101);
  const pending = await beginToken(
    epochChallenge({ type: 2, issuerName: ISSUER, origin: ORIGIN, epoch: 100 }),
    k2,
  );
  await assert.rejects(issueToken(k1, pending.request), /is of type 2, this issuer signs type 1/);
  if (other.tokenKeyId.at(-1) !== k2.tokenKeyId.at(-1)) {
    await assert.rejects(issueToken(other, pending.request), /names key id/);
  }
  await assert.rejects(issueToken(k2, new Uint8Array([0, 2])), /too short/);
});

Deno.test("WWW-Authenticate and Authorization headers round-trip (RFC 9577)", async () => {
  const k = await key(2, 100);
  const challenge = epochChallenge({ type: 2, issuerName: ISSUER, origin: ORIGIN, epoch: 100 });
  const header = challengeHeader(challenge, k);
  assert.match(
    header,
    /^PrivateToken challenge="[A-Za-z0-9_-]+=*", ?token-key="[A-Za-z0-9_-]+=*"$/,
  );
  const [parsed] = readChallengeHeader(header);
  assert.deepEqual(parsed!.tokenKey, k.publicKey);
  assert.deepEqual(
    await challengeDigest(parsed!.challenge),
    await challengeDigest(challenge),
  );
  assert.deepEqual(parsed!.challenge.originInfo, [ORIGIN]);
  const { token } = await mint(k);
  assert.deepEqual(readAuthorizationHeader(authorizationHeader(token)), token);
  assert.deepEqual(
    readAuthorizationHeader(`PrivateToken token=${btoa("ab")}`),
    new Uint8Array([97, 98]),
  );
  assert.throws(
    () => readAuthorizationHeader("Bearer abc"),
    /does not use the PrivateToken scheme/,
  );
  assert.throws(() => readAuthorizationHeader("PrivateToken foo=1"), /no 'token' parameter/);
  assert.throws(() => readChallengeHeader("Basic realm=x"), InvalidInputError);
  assert.equal(parseToken(token).tokenType, 2);
});

Deno.test("settlement: the issuer accepts honest claims and finds over-claims, duplicates and forgeries", async () => {
  const k = await key(2, 100);
  const a = [await mint(k), await mint(k)].map((m) => m.token);
  const b = [(await mint(k, { origin: "b.test" })).token];
  const settle = (origin: string, tokens: Uint8Array[]) =>
    readSettlement(
      settlementToEnvelope({
        issuerName: ISSUER,
        tokenKeyId: k.tokenKeyId,
        epoch: 100,
        origin,
        tokens,
      }),
      "s",
    );
  const ok = await auditSettlements([settle(ORIGIN, a), settle("b.test", b)], {
    key: k,
    issuerName: ISSUER,
    issued: 3,
  });
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.claimed, { [ORIGIN]: 2, "b.test": 1 });
  const over = await auditSettlements([settle(ORIGIN, a), settle("b.test", b)], {
    key: k,
    issuerName: ISSUER,
    issued: 2,
  });
  assert.match(over.problems.join("\n"), /3 tokens claimed but only 2 issued/);
  const dup = await auditSettlements([settle(ORIGIN, [a[0]!, a[0]!])], {
    key: k,
    issuerName: ISSUER,
    issued: 5,
  });
  assert.match(dup.problems.join("\n"), /already claimed by 'svc.test'/);
  // A token redeemed at b.test claimed by svc.test fails its challenge.
  const stolen = await auditSettlements([settle(ORIGIN, b)], {
    key: k,
    issuerName: ISSUER,
    issued: 5,
  });
  assert.match(stolen.problems.join("\n"), /wrong origin/);
  assert.throws(
    () =>
      readSettlement({
        ...settlementToEnvelope({
          issuerName: ISSUER,
          tokenKeyId: k.tokenKeyId,
          epoch: 1,
          origin: "o",
          tokens: a,
        }),
        count: 5,
      }, "s"),
    /count' is 5 but 2 tokens are listed/,
  );
});
