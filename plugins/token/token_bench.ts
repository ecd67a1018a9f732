/**
 * Per-token costs: issuer CPU (blind signature / VOPRF evaluation), client CPU
 * (blind + finalize), verification at a service, and the double-spend lookup in a
 * SQLite spent-token table holding 1,000,000 tokens (the node's table layout).
 *
 * Run: deno bench --allow-read --allow-write --allow-env plugins/token/token_bench.ts
 */
import { DatabaseSync } from "node:sqlite";
import {
  beginToken,
  epochChallenge,
  generateTokenKey,
  issueToken,
  type TokenType,
  verifyToken,
} from "./mod.ts";

const ORIGIN = "svc.bench";
const ISSUER = "issuer.bench";

for (const type of [2, 1] as TokenType[]) {
  const name = type === 2 ? "type 2 (blind RSA-2048)" : "type 1 (VOPRF P-384)";
  const key = await generateTokenKey({ type, epoch: 1 });
  const challenge = epochChallenge({ type, issuerName: ISSUER, origin: ORIGIN, epoch: 1 });
  const pending = await beginToken(challenge, key);
  const response = await issueToken(key, pending.request);
  const token = await pending.finish(response);
  const options = { origin: ORIGIN, issuerName: ISSUER, keys: [key], epochs: [1] };

  Deno.bench(`${name}: issuer signs one token request`, { group: `issuer-${type}` }, async () => {
    await issueToken(key, pending.request);
  });
  Deno.bench(`${name}: client blinds one token request`, { group: `client-${type}` }, async () => {
    await beginToken(challenge, key);
  });
  Deno.bench(
    `${name}: client unblinds (finalizes) one token`,
    { group: `client-${type}` },
    async (b) => {
      const p = await beginToken(challenge, key);
      const r = await issueToken(key, p.request);
      b.start();
      await p.finish(r);
      b.end();
    },
  );
  Deno.bench(`${name}: service verifies one token`, { group: `verify-${type}` }, async () => {
    await verifyToken(token, options);
  });
}

// The node's spent-token table (cli/node/token_gate.ts) with 1,000,000 tokens.
const dir = await Deno.makeTempDir({ prefix: "panoramix-token-bench-" });
const db = new DatabaseSync(`${dir}/spent.sqlite`);
db.exec("PRAGMA journal_mode=WAL");
db.exec(`CREATE TABLE token_spent (
  token_key_id BLOB NOT NULL, nonce BLOB NOT NULL, epoch INTEGER NOT NULL,
  issuer_name TEXT NOT NULL, origin TEXT NOT NULL, valid_until INTEGER NOT NULL,
  service TEXT NOT NULL, token BLOB NOT NULL, time INTEGER NOT NULL,
  PRIMARY KEY (token_key_id, nonce)) WITHOUT ROWID`);
const keyId = crypto.getRandomValues(new Uint8Array(32));
const filler = new Uint8Array(354);
const insert = db.prepare(
  "INSERT OR IGNORE INTO token_spent VALUES (?, ?, 1, 'i', 'o', 0, 's', ?, 0)",
);
db.exec("BEGIN");
const nonce = new Uint8Array(32);
for (let i = 0; i < 1_000_000; i++) {
  crypto.getRandomValues(nonce);
  insert.run(keyId, nonce, filler);
}
db.exec("COMMIT");
const spentNonce = nonce.slice();

Deno.bench("double-spend check, 1,000,000 spent: a fresh token (insert)", {
  group: "spent",
}, () => {
  db.exec("BEGIN");
  if (insert.run(keyId, crypto.getRandomValues(new Uint8Array(32)), filler).changes !== 1) {
    throw new Error("fresh token refused");
  }
  db.exec("ROLLBACK");
});
Deno.bench("double-spend check, 1,000,000 spent: a spent token (refused)", {
  group: "spent",
}, () => {
  if (insert.run(keyId, spentNonce, filler).changes !== 0) throw new Error("double spend");
});

globalThis.addEventListener("unload", () => {
  db.close();
  Deno.removeSync(dir, { recursive: true });
});
