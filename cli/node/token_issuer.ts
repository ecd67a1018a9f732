/**
 * The `issuer` role: a Privacy Pass issuer (RFC 9578). A user authenticates with a
 * signed request from an identity key that is on the operator's allow-list (or any
 * key, when the list is empty) and within the per-identity quota of the epoch, and
 * receives a blind signature on its token request. The issuer never sees the token.
 *
 * Keys rotate per epoch (`issuer.epochSeconds`): the key of epoch E signs tokens for
 * epoch E only; the current and next keys are published in the node's signed
 * descriptor (and so in the directory). Secret keys of past epochs are deleted; the
 * public keys and the issuance counts stay for settlement audits.
 *
 * Routes: `POST /v1/token/issue` (signed; body `application/private-token-request`),
 * `GET /v1/token/keys`, `GET /v1/token/issued?epoch=E`.
 * Tables: `token_issuer_keys`, `token_issuance`. Metrics: `panoramix_token_issued_total`,
 * `panoramix_token_issue_refused_total`, `panoramix_token_issuer_epoch`.
 *
 * @module
 */

import {
  constants,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
} from "node:crypto";
import { constantTimeEqual, toBase64Url } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { toJsonView } from "../../core/envelope.ts";
import { readInteger } from "../../core/fields.ts";
import {
  generateTokenKey,
  issueToken,
  readTokenType,
  TOKEN_RESPONSE_MEDIA_TYPE,
  TOKEN_TYPE_BLIND_RSA,
  type TokenSecretKey,
} from "../../plugins/token/mod.ts";
import type { PublishedTokenKey } from "./descriptor.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import type { NodeService, NodeServiceContext } from "./node.ts";
import type { Route } from "./server.ts";

interface KeyRow {
  epoch: number;
  type: number;
  public: Uint8Array;
  secret: Uint8Array | null;
  token_key_id: Uint8Array;
}

const nativeKeys = new WeakMap<TokenSecretKey, { secret: KeyObject; public: KeyObject }>();

/**
 * Blind RSA signing of a type-2 token request with the platform's RSA (OpenSSL, with
 * CRT and blinding) instead of the library's JavaScript big-number code: RFC 9474
 * §4.3 BlindSign, s = RSASP1(sk, m), then the m = RSAVP1(pk, s) check. The output is
 * bit-identical to `issueToken` (deterministic), about 60 times faster, and does not
 * run the secret exponent through non-constant-time JavaScript arithmetic.
 *
 * @param key the issuer's type-2 secret key
 * @param request the serialized TokenRequest (RFC 9578 §6.2)
 * @returns the serialized TokenResponse (the blind signature)
 * @throws {InvalidInputError} when the request is malformed, for another key, or m ≥ n
 * @example
 * ```ts ignore
 * const response = nativeBlindRsaIssue(key, request);
 * ```
 */
export function nativeBlindRsaIssue(key: TokenSecretKey, request: Uint8Array): Uint8Array {
  let keys = nativeKeys.get(key);
  if (!keys) {
    const secret = createPrivateKey({ key: key.secretKey as never, format: "der", type: "pkcs8" });
    keys = { secret, public: createPublicKey(secret) };
    nativeKeys.set(key, keys);
  }
  const kLen = (keys.secret.asymmetricKeyDetails?.modulusLength ?? 2048) / 8;
  // RFC 9578 §6.2: token_type (2) | truncated_token_key_id (1) | blinded_msg (Nk).
  if (request.length !== 3 + kLen || ((request[0]! << 8) | request[1]!) !== TOKEN_TYPE_BLIND_RSA) {
    throw new InvalidInputError(`Token request must be a type-2 request of ${3 + kLen} bytes`);
  }
  if (request[2] !== key.tokenKeyId[31]) {
    throw new InvalidInputError("Token request names another key id than this epoch's key");
  }
  const m = request.subarray(3);
  let s: Uint8Array;
  try {
    s = new Uint8Array(privateDecrypt({ key: keys.secret, padding: constants.RSA_NO_PADDING }, m));
  } catch (error) {
    throw new InvalidInputError("Token request's blinded message is out of range", {
      cause: error,
    });
  }
  const check = publicEncrypt({ key: keys.public, padding: constants.RSA_NO_PADDING }, s);
  if (!constantTimeEqual(new Uint8Array(check), m)) {
    throw new InvalidInputError("Blind signature failed its RSAVP1 check (signing failure)");
  }
  return s;
}

/** How many past epochs keep their public key and counts (for settlement audits). */
const KEEP_EPOCHS = 24 * 30;

/** A running issuer. */
export class TokenIssuer implements NodeService {
  #ctx: NodeServiceContext;
  #keys = new Map<number, TokenSecretKey>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #rotating: Promise<void> | undefined;
  #now: () => number;

  /**
   * Creates the role (tables are created at once; keys at {@linkcode TokenIssuer.start}).
   *
   * @param ctx the node context
   * @param now clock in ms (tests)
   */
  constructor(ctx: NodeServiceContext, now: () => number = Date.now) {
    this.#ctx = ctx;
    this.#now = now;
    const { store, metrics } = ctx;
    store.write(() =>
      store.db.exec(`
      CREATE TABLE IF NOT EXISTS token_issuer_keys (
        epoch INTEGER PRIMARY KEY, type INTEGER NOT NULL, public BLOB NOT NULL,
        secret BLOB, token_key_id BLOB NOT NULL UNIQUE, issued INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS token_issuance (
        epoch INTEGER NOT NULL, identity BLOB NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (epoch, identity)) WITHOUT ROWID;`)
    );
    metrics.gauge("panoramix_token_issuer_epoch", "Current issuer key epoch", () => this.epoch());
  }

  /**
   * The current epoch.
   *
   * @returns floor(now / issuer.epochSeconds)
   */
  epoch(): number {
    return Math.floor(this.#now() / 1000 / this.#ctx.config.issuer.epochSeconds);
  }

  /**
   * The issuer name challenges carry.
   *
   * @returns the configured name, or host:port of the node URL
   */
  issuerName(): string {
    const name = this.#ctx.config.issuer.name;
    if (name) return name;
    const url = this.#ctx.selfUrl();
    return url ? new URL(url).host : "issuer";
  }

  /**
   * The live keys (current and next epoch), secrets included (type-1 verification
   * at this node needs them).
   *
   * @returns the keys, oldest first
   */
  liveKeys(): TokenSecretKey[] {
    const e = this.epoch();
    return [...this.#keys.values()].filter((k) => k.epoch >= e - 1 && k.epoch <= e + 1)
      .sort((a, b) => a.epoch - b.epoch);
  }

  /**
   * The keys to publish in the descriptor (current and next epoch).
   *
   * @returns published keys
   */
  tokenKeys(): PublishedTokenKey[] {
    const e = this.epoch();
    const ms = this.#ctx.config.issuer.epochSeconds * 1000;
    return this.liveKeys().filter((k) => k.epoch >= e).map((k) => ({
      issuerName: this.issuerName(),
      type: k.type,
      epoch: k.epoch,
      publicKey: k.publicKey,
      validFrom: k.epoch * ms,
      validUntil: (k.epoch + 1) * ms,
    }));
  }

  async #rotate(): Promise<void> {
    const { store, config, logger } = this.#ctx;
    const e = this.epoch();
    const type = readTokenType(config.issuer.type, "issuer.type");
    let changed = false;
    for (const epoch of [e, e + 1]) {
      if (this.#keys.has(epoch)) continue;
      const row = store.db.prepare(
        "SELECT epoch, type, public, secret, token_key_id FROM token_issuer_keys WHERE epoch = ?",
      ).get(epoch) as KeyRow | undefined;
      if (row && row.secret) {
        this.#keys.set(epoch, {
          type: readTokenType(row.type, "token_issuer_keys.type"),
          epoch,
          publicKey: row.public,
          tokenKeyId: row.token_key_id,
          secretKey: row.secret,
        });
        continue;
      }
      const key = await generateTokenKey({ type, epoch });
      store.write(() =>
        store.db.prepare(
          "INSERT OR REPLACE INTO token_issuer_keys (epoch, type, public, secret, token_key_id) VALUES (?, ?, ?, ?, ?)",
        ).run(epoch, key.type, key.publicKey, key.secretKey, key.tokenKeyId)
      );
      this.#keys.set(epoch, key);
      changed = true;
      logger.log("info", "token_key_created", { epoch, type, keyId: toBase64Url(key.tokenKeyId) });
    }
    // A past epoch's secret is destroyed; its public key and counts stay for audits.
    for (const epoch of [...this.#keys.keys()]) if (epoch < e - 1) this.#keys.delete(epoch);
    store.write(() => {
      store.db.prepare("UPDATE token_issuer_keys SET secret = NULL WHERE epoch < ?").run(e - 1);
      store.db.prepare("DELETE FROM token_issuer_keys WHERE epoch < ?").run(e - KEEP_EPOCHS);
      store.db.prepare("DELETE FROM token_issuance WHERE epoch < ?").run(e - 1);
    });
    await store.commit();
    if (changed) await this.#ctx.publish().catch(() => {});
  }

  /**
   * Makes sure the current and next keys exist (generating them if needed).
   *
   * @returns a promise settled when they do
   */
  rotate(): Promise<void> {
    this.#rotating ??= this.#rotate().finally(() => (this.#rotating = undefined));
    return this.#rotating;
  }

  /** Creates or loads the keys and starts the rotation timer. */
  async start(): Promise<void> {
    await this.rotate();
    const every = Math.min(60_000, (this.#ctx.config.issuer.epochSeconds * 1000) / 4);
    this.#timer = setInterval(() => {
      this.rotate().catch((error) =>
        this.#ctx.logger.log("warn", "token_rotate_failed", { error })
      );
    }, every);
    Deno.unrefTimer(this.#timer);
  }

  /** Stops the rotation timer. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#rotating?.catch(() => {});
  }

  /**
   * Tokens issued with the key of an epoch.
   *
   * @param epoch the epoch
   * @returns the count and the key, or undefined when the epoch has no key
   */
  issued(epoch: number): { count: number; type: number; publicKey: Uint8Array } | undefined {
    const row = this.#ctx.store.db.prepare(
      "SELECT issued, type, public FROM token_issuer_keys WHERE epoch = ?",
    ).get(epoch) as { issued: number; type: number; public: Uint8Array } | undefined;
    return row ? { count: row.issued, type: row.type, publicKey: row.public } : undefined;
  }

  #refuse(reason: string, error: HttpError): never {
    this.#ctx.metrics.counter("panoramix_token_issue_refused_total", "Token requests refused")
      .inc(1, { reason });
    throw error;
  }

  async #issue(signer: Uint8Array, body: Uint8Array): Promise<Response> {
    const { config, store, metrics } = this.#ctx;
    const allow = config.issuer.allow;
    const id = toBase64Url(signer);
    if (allow.length > 0 && !allow.includes(id)) {
      this.#refuse(
        "not_allowed",
        new HttpError(403, "forbidden", `Identity '${id}' is not on this issuer's allow-list`),
      );
    }
    if (body.length < 3) {
      this.#refuse("malformed", new HttpError(400, "invalid_input", "Token request is too short"));
    }
    if (this.liveKeys().length === 0) await this.rotate();
    const e = this.epoch();
    // Clients may fetch for the current epoch or, near its end, for the next one.
    const key = this.liveKeys().find((k) =>
      k.epoch >= e && k.tokenKeyId[31] === body[2] && k.type === ((body[0]! << 8) | body[1]!)
    );
    if (!key) {
      this.#refuse(
        "unknown_key",
        new HttpError(
          400,
          "invalid_input",
          `Token request names no current key of this issuer (epochs ${e} and ${
            e + 1
          }); refresh the issuer keys`,
        ),
      );
    }
    const response = key.type === TOKEN_TYPE_BLIND_RSA
      ? nativeBlindRsaIssue(key, body)
      : await issueToken(key, body);
    const quota = config.issuer.quotaPerEpoch;
    store.write(() => {
      const row = store.db.prepare(
        "INSERT INTO token_issuance (epoch, identity, count) VALUES (?, ?, 1) ON CONFLICT (epoch, identity) DO UPDATE SET count = count + 1 RETURNING count",
      ).get(key.epoch, signer) as { count: number };
      if (quota > 0 && row.count > quota) {
        this.#refuse(
          "quota",
          new HttpError(
            429,
            "quota_exceeded",
            `Identity '${id}' has fetched its ${quota} tokens of epoch ${key.epoch}`,
          ),
        );
      }
      store.db.prepare("UPDATE token_issuer_keys SET issued = issued + 1 WHERE epoch = ?").run(
        key.epoch,
      );
    });
    await store.commit();
    metrics.counter("panoramix_token_issued_total", "Tokens issued").inc(1, {
      type: String(key.type),
    });
    return new Response(response as BodyInit, {
      headers: { "content-type": TOKEN_RESPONSE_MEDIA_TYPE },
    });
  }

  /** The routes of the role. */
  get routes(): Route[] {
    return [
      {
        method: "POST",
        path: "/v1/token/issue",
        auth: true,
        handle: (req) => this.#issue(req.signer!, req.body),
      },
      {
        method: "GET",
        path: "/v1/token/keys",
        handle: () =>
          jsonResponse({
            issuerName: this.issuerName(),
            epochSeconds: this.#ctx.config.issuer.epochSeconds,
            keys: toJsonView(this.tokenKeys()),
          }),
      },
      {
        method: "GET",
        path: "/v1/token/issued",
        handle: (req) => {
          const raw = req.url.searchParams.get("epoch");
          const epoch = raw === null
            ? this.epoch() - 1
            : readInteger(/^\d+$/.test(raw) ? Number(raw) : raw, "query parameter 'epoch'");
          const info = this.issued(epoch);
          if (!info) throw new HttpError(404, "not_found", `No issuer key for epoch ${epoch}`);
          return jsonResponse({
            epoch,
            issuerName: this.issuerName(),
            type: info.type,
            issued: info.count,
            publicKey: toBase64Url(info.publicKey),
          });
        },
      },
    ];
  }
}

/**
 * Creates the issuer role.
 *
 * @param ctx the node context
 * @returns the role
 * @example
 * ```ts ignore
 * services.push(createTokenIssuer(ctx));
 * ```
 */
export function createTokenIssuer(ctx: NodeServiceContext): TokenIssuer {
  return new TokenIssuer(ctx);
}
