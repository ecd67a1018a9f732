/**
 * Issuer CPU per type-2 token as the issuer role signs it (platform RSA), next to
 * the library's JavaScript path. Run: deno bench --allow-all cli/node/token_issuer_bench.ts
 */
import {
  beginToken,
  epochChallenge,
  generateTokenKey,
  issueToken,
} from "../../plugins/token/mod.ts";
import { nativeBlindRsaIssue } from "./token_issuer.ts";

const key = await generateTokenKey({ type: 2, epoch: 1 });
const pending = await beginToken(
  epochChallenge({ type: 2, issuerName: "i", origin: "o", epoch: 1 }),
  key,
);

Deno.bench("type 2 issuer role: blind RSA-2048 signature (node:crypto, CRT)", {
  group: "issue",
  baseline: true,
}, () => {
  nativeBlindRsaIssue(key, pending.request);
});
Deno.bench("type 2 library: blind RSA-2048 signature (blindrsa-ts, JS big numbers)", {
  group: "issue",
}, async () => {
  await issueToken(key, pending.request);
});
