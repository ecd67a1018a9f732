// Bundled for the browser by ../browser_test.ts: a full issue–redeem round trip of both token
// types in a page, reported on the console.
import {
  beginToken,
  epochChallenge,
  generateTokenKey,
  issueToken,
  MemorySpentTokens,
  redeemToken,
} from "../mod.ts";

async function roundTrip(type: 1 | 2): Promise<void> {
  const key = await generateTokenKey({ type, epoch: 1 });
  const challenge = epochChallenge({ type, issuerName: "issuer", origin: "page", epoch: 1 });
  const pending = await beginToken(challenge, key);
  const token = await pending.finish(await issueToken(key, pending.request));
  const spent = new MemorySpentTokens();
  const options = { origin: "page", issuerName: "issuer", keys: [key], epochs: [1], spent };
  await redeemToken(token, options);
  const again = await redeemToken(token, options).then(() => "accepted", () => "refused");
  if (again !== "refused") throw new Error(`type ${type}: double spend ${again}`);
}

try {
  await roundTrip(2);
  await roundTrip(1);
  console.log("PANORAMIX-TOKEN-RESULT ok");
} catch (error) {
  console.log(`PANORAMIX-TOKEN-RESULT error ${(error as Error).message}`);
}
