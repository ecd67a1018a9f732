/**
 * `panoramix token`: Privacy Pass access tokens. `issuer-init` writes an issuer
 * node's config, `id` makes a user identity key, `fetch` gets tokens for a service
 * from an issuer into a wallet file, `list` shows the wallet, `redeem` calls a
 * service with one token, `settle` posts a node's redeemed tokens of finished epochs
 * to the board, `audit` checks the board's settlements against the issuer's counts.
 * See docs/token.md.
 *
 * @module
 */

import { identityCommand } from "./identity_command.ts";
import { buildCommand, buildRouteMap, numberParser } from "@stricli/core";
import { toBase64Url } from "../core/bytes.ts";
import { toJsonView } from "../core/envelope.ts";
import { ConfigError, InvalidInputError, UsageError, VerificationError } from "../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../core/fields.ts";
import {
  authorizationHeader,
  fetchToken,
  readChallengeHeader,
  readTokenType,
  TokenHttpError,
  tokenKeyIdOf,
} from "../plugins/token/mod.ts";
import type { CliContext } from "./context.ts";
import { readAnyEnvelopeFile, writeEnvelopeFile } from "./files.ts";
import { signRequest } from "./node/auth.ts";
import { NodeClient } from "./node/client.ts";
import { defaultConfig, loadConfig, renderConfig } from "./node/config.ts";
import { readDescriptor, verifyDescriptor } from "./node/descriptor.ts";
import { generateIdentity, identityFromEnvelope, identityToEnvelope } from "./node/identity.ts";
import { createLogger } from "./node/log.ts";
import { MetricsRegistry } from "./node/metrics.ts";
import { loadIdentity } from "./node/node.ts";
import { Store } from "./node/storage.ts";
import { TokenGate } from "./node/token_gate.ts";
import { auditFromBoard, postSettlements } from "./node/token_settlement.ts";

/** Envelope kind of a wallet file. */
const WALLET_KIND = "token.wallet";

/** One token in a wallet. */
interface WalletToken {
  origin: string;
  issuerName: string;
  epoch: number;
  validUntil: number;
  token: Uint8Array;
}

async function readWallet(path: string): Promise<WalletToken[]> {
  try {
    await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const env = await readAnyEnvelopeFile(path, new ReadableStream());
  if (env.kind !== WALLET_KIND) {
    throw new InvalidInputError(`File '${path}' is a '${env.kind}', not a token wallet`);
  }
  return readArray(env.tokens, `${path}.tokens`).map((t, i) => {
    const r = readRecord(t, `${path}.tokens[${i}]`);
    const w = `${path}.tokens[${i}]`;
    return {
      origin: readString(r.origin, `${w}.origin`),
      issuerName: readString(r.issuerName, `${w}.issuerName`),
      epoch: readInteger(r.epoch, `${w}.epoch`),
      validUntil: readInteger(r.validUntil, `${w}.validUntil`),
      token: readBytes(r.token, `${w}.token`),
    };
  });
}

async function writeWallet(path: string, tokens: WalletToken[]): Promise<void> {
  await writeEnvelopeFile(path, { v: 1, kind: WALLET_KIND, tokens }, {
    secret: true,
    overwrite: true,
  });
}

/** A wallet token may still be sent this long after its epoch (the services' grace period). */
const WALLET_GRACE_MS = 60_000;

function usable(t: WalletToken, origin: string, issuerNames: readonly string[] | undefined) {
  return t.origin === origin && Date.now() < t.validUntil + WALLET_GRACE_MS &&
    (!issuerNames || issuerNames.includes(t.issuerName));
}

/**
 * Counts the tokens of a wallet file that can still be spent at an origin.
 *
 * @param path the wallet file (`panoramix token fetch --wallet`); missing = empty
 * @param origin the service's origin (host:port)
 * @returns the number of usable tokens
 * @example
 * ```ts ignore
 * const n = await countWalletTokens("tokens.json", "127.0.0.1:8470");
 * ```
 */
export async function countWalletTokens(path: string, origin: string): Promise<number> {
  return (await readWallet(path)).filter((t) => usable(t, origin, undefined)).length;
}

/**
 * Takes one usable token for an origin out of a wallet file and saves the wallet
 * without it before returning: a token is spent the moment it is sent.
 *
 * @param path the wallet file
 * @param origin the service's origin (host:port)
 * @param issuerNames issuers the service accepts (from its challenge); undefined = any
 * @returns the token and how many tokens the wallet still holds
 * @throws {ConfigError} when the wallet holds no usable token for the origin
 * @example
 * ```ts ignore
 * const { token } = await takeWalletToken("tokens.json", "127.0.0.1:8470");
 * ```
 */
export async function takeWalletToken(
  path: string,
  origin: string,
  issuerNames?: readonly string[],
): Promise<{ token: Uint8Array; left: number }> {
  const wallet = await readWallet(path);
  const index = wallet.findIndex((t) => usable(t, origin, issuerNames));
  if (index < 0) {
    throw new ConfigError(
      `Wallet '${path}' holds no valid token for '${origin}'${
        issuerNames ? ` from issuer ${issuerNames.map((n) => `'${n}'`).join(" or ")}` : ""
      }; run 'panoramix token fetch'`,
    );
  }
  const [entry] = wallet.splice(index, 1);
  await writeWallet(path, wallet);
  return { token: entry!.token, left: wallet.length };
}

/**
 * A token source for a service (plugins/token `TokenSource`): each challenge the
 * service sends takes one token for the challenge's origin and issuers out of the
 * wallet file.
 *
 * @param path the wallet file
 * @param serviceUrl the service's URL (its host:port is the origin when the challenge names none)
 * @param onSpend told how many tokens the wallet still holds after each one taken
 * @returns the callback to pass as a token source
 * @example
 * ```ts ignore
 * await submitSurveyPackets(packets, { collector, survey, token: walletTokenSource("tokens.json", collector) });
 * ```
 */
export function walletTokenSource(
  path: string,
  serviceUrl: string,
  onSpend?: (left: number) => void,
): (challenge: string) => Promise<Uint8Array> {
  return async (header) => {
    let origin = originOf(serviceUrl, "Service URL");
    let issuerNames: string[] | undefined;
    try {
      const challenges = readChallengeHeader(header);
      origin = challenges[0]!.challenge.originInfo?.[0] ?? origin;
      issuerNames = challenges.map((c) => c.challenge.issuerName);
    } catch { /* an unreadable challenge: any token for the URL's origin */ }
    const { token, left } = await takeWalletToken(path, origin, issuerNames);
    onSpend?.(left);
    return token;
  };
}

/**
 * Whether a service takes tokens, and how many of a wallet's tokens fit it: reads the
 * service's `GET /v1/token/challenge` (404 = the node requires no token).
 *
 * @param path the wallet file
 * @param serviceUrl the service's URL
 * @returns `gated` (the node has a token gate), its origin, and the usable tokens
 * @throws {TokenHttpError} when the node answers neither a challenge nor 404
 * @example
 * ```ts ignore
 * const { gated, usable } = await walletTokensFor("tokens.json", collector);
 * ```
 */
export async function walletTokensFor(
  path: string,
  serviceUrl: string,
): Promise<{ gated: boolean; origin: string; usable: number }> {
  let origin = originOf(serviceUrl, "Service URL");
  const res = await fetch(new URL("/v1/token/challenge", serviceUrl));
  if (res.status === 404) {
    await res.body?.cancel();
    return { gated: false, origin, usable: await countWalletTokens(path, origin) };
  }
  const text = await res.text();
  if (!res.ok) {
    throw new TokenHttpError(
      res.status,
      `Service '${serviceUrl}' gave no token challenge (status ${res.status}): ${
        text.slice(0, 200)
      }`,
    );
  }
  try {
    origin = readString(readRecord(JSON.parse(text), "challenge").origin, "origin");
  } catch { /* keep the URL's host */ }
  return { gated: true, origin, usable: await countWalletTokens(path, origin) };
}

function originOf(url: string, what: string): string {
  try {
    return new URL(url).host;
  } catch {
    throw new UsageError(`${what} '${url}' is not a URL`);
  }
}

interface IssuerInitFlags {
  dir: string;
  name?: string;
  allow?: readonly string[];
  quota: number;
  type: number;
  epochSeconds: number;
  httpListen?: string;
  force?: boolean;
  json?: boolean;
}

/** `panoramix token issuer-init`: write an issuer node's config and identity. */
export const tokenIssuerInitCommand = buildCommand({
  async func(this: CliContext, flags: IssuerInitFlags) {
    const dir = flags.dir.replace(/\/+$/, "") || ".";
    await Deno.mkdir(dir, { recursive: true });
    const configPath = `${dir}/node.json`;
    const identityPath = `${dir}/identity.key.json`;
    const config = defaultConfig();
    config.name = flags.name ?? `issuer-${crypto.randomUUID().slice(0, 8)}`;
    config.roles = ["issuer"];
    if (flags.httpListen) config.httpListen = flags.httpListen;
    config.issuer.allow = [...(flags.allow ?? [])];
    config.issuer.quotaPerEpoch = flags.quota;
    config.issuer.type = flags.type;
    config.issuer.epochSeconds = flags.epochSeconds;
    const identity = generateIdentity();
    const overwrite = flags.force ?? false;
    const text = renderConfig(config);
    try {
      await Deno.writeTextFile(configPath, text, { createNew: !overwrite, mode: 0o644 });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        throw new ConfigError(`File '${configPath}' already exists; pass --force to replace it`);
      }
      throw error;
    }
    await writeEnvelopeFile(identityPath, identityToEnvelope(identity), {
      secret: true,
      overwrite,
    });
    await loadConfig(configPath); // validates what `node run` will read
    const summary = {
      config: configPath,
      identity: toBase64Url(identity.publicKey),
      allow: config.issuer.allow,
      quotaPerEpoch: config.issuer.quotaPerEpoch,
    };
    await this.stdout.write(
      flags.json ? JSON.stringify(summary) + "\n" : `wrote ${configPath}, ${identityPath}\n` +
        `issuer identity ${summary.identity}\nstart it with: panoramix node run -c ${configPath}\n`,
    );
  },
  parameters: {
    flags: {
      dir: { kind: "parsed", parse: String, default: ".", brief: "Directory for the files" },
      name: { kind: "parsed", parse: String, optional: true, brief: "Node name" },
      allow: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief: "Identity key (base64url) allowed to fetch tokens; repeatable (none = anyone)",
      },
      quota: {
        kind: "parsed",
        parse: numberParser,
        default: "0",
        brief: "Tokens per identity per epoch (0 = no limit)",
      },
      type: {
        kind: "parsed",
        parse: numberParser,
        default: "2",
        brief: "Token type: 2 blind RSA (publicly verifiable), 1 VOPRF",
      },
      epochSeconds: {
        kind: "parsed",
        parse: numberParser,
        default: "3600",
        brief: "Key epoch length in seconds",
      },
      httpListen: { kind: "parsed", parse: String, optional: true, brief: "HTTP host:port" },
      force: { kind: "boolean", optional: true, brief: "Replace existing files" },
      json: { kind: "boolean", optional: true, brief: "Print the result as JSON" },
    },
  },
  docs: {
    brief: "Write an issuer node's config (role issuer) and identity key",
    fullDescription: 'Writes DIR/node.json (roles ["issuer"]) and DIR/identity.key.json. ' +
      "Users on the allow-list (or anyone, when it is empty) fetch up to --quota tokens " +
      "per epoch; keys rotate every --epoch-seconds and are published in the node's " +
      "signed descriptor. Run it with `panoramix node run -c DIR/node.json`.",
  },
});

/** `panoramix token id`: write a user identity key (to authenticate to issuers). */
export const tokenIdCommand = identityCommand({
  brief: "Write a user identity key; prints the public key for an issuer's allow-list",
  next: "the key an issuer lists in its allow-list (token issuer-init --allow)",
});

interface FetchFlags {
  service: string;
  issuer: string;
  issuerKey?: string;
  identity: string;
  count: number;
  wallet: string;
  json?: boolean;
}

/** `panoramix token fetch`: tokens for a service, from an issuer, into a wallet. */
export const tokenFetchCommand = buildCommand({
  async func(this: CliContext, flags: FetchFlags) {
    if (!Number.isInteger(flags.count) || flags.count < 1 || flags.count > 10_000) {
      throw new UsageError(`Count '${flags.count}' must be an integer from 1 to 10000`);
    }
    const identity = identityFromEnvelope(
      await readAnyEnvelopeFile(flags.identity, new ReadableStream()),
      flags.identity,
    );
    originOf(flags.service, "Service URL");
    const res = await fetch(new URL("/v1/token/challenge", flags.service));
    await res.body?.cancel();
    const header = res.headers.get("www-authenticate");
    if (!res.ok || header === null) {
      throw new TokenHttpError(
        res.status,
        `Service '${flags.service}' gave no token challenge (status ${res.status}); does it require tokens?`,
      );
    }
    const info = readDescriptor(await new NodeClient(flags.issuer).getJson("/v1/info"), "issuer");
    verifyDescriptor(info);
    if (flags.issuerKey && toBase64Url(info.identity) !== flags.issuerKey) {
      throw new VerificationError(
        `Issuer '${flags.issuer}' is identity ${
          toBase64Url(info.identity)
        }, not ${flags.issuerKey}`,
      );
    }
    // Only a key the issuer signed into its descriptor: a service cannot tag a client
    // with a key of its own making.
    const challenges = readChallengeHeader(header);
    let chosen;
    for (const c of challenges) {
      const k = (info.tokenKeys ?? []).find((k) =>
        toBase64Url(k.publicKey) === toBase64Url(c.tokenKey) &&
        k.issuerName === c.challenge.issuerName
      );
      if (k) chosen = { challenge: c.challenge, key: k };
    }
    if (!chosen) {
      throw new VerificationError(
        `Service '${flags.service}' asks for no token key that issuer '${flags.issuer}' publishes`,
      );
    }
    const { challenge, key } = chosen;
    const publicKey = {
      type: readTokenType(key.type, "type"),
      epoch: key.epoch,
      publicKey: key.publicKey,
      tokenKeyId: await tokenKeyIdOf(key.publicKey),
    };
    const wallet = await readWallet(flags.wallet);
    const origin = challenge.originInfo?.[0] ?? originOf(flags.service, "Service URL");
    const fetched: WalletToken[] = [];
    try {
      for (let i = 0; i < flags.count; i++) {
        const token = await fetchToken({
          issuerUrl: new URL("/v1/token/issue", flags.issuer).href,
          challenge,
          key: publicKey,
          headers: (body, path) => signRequest(identity, { method: "POST", path, body }),
        });
        fetched.push({
          origin,
          issuerName: key.issuerName,
          epoch: key.epoch,
          validUntil: key.validUntil,
          token,
        });
      }
    } finally {
      // Tokens fetched before a refusal (e.g. quota) are kept.
      if (fetched.length > 0) await writeWallet(flags.wallet, [...wallet, ...fetched]);
    }
    const summary = { origin, epoch: key.epoch, fetched: fetched.length, wallet: flags.wallet };
    await this.stdout.write(
      flags.json
        ? JSON.stringify(summary) + "\n"
        : `fetched ${fetched.length} token(s) for ${origin}, epoch ${key.epoch}, into ${flags.wallet}\n`,
    );
  },
  parameters: {
    flags: {
      service: {
        kind: "parsed",
        parse: String,
        brief: "URL of the node whose service needs tokens",
      },
      issuer: { kind: "parsed", parse: String, brief: "URL of the issuer node" },
      issuerKey: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Expected issuer identity key (base64url)",
      },
      identity: {
        kind: "parsed",
        parse: String,
        brief: "Your identity key file (token id), signs the requests to the issuer",
      },
      count: { kind: "parsed", parse: numberParser, default: "1", brief: "How many tokens" },
      wallet: {
        kind: "parsed",
        parse: String,
        default: "tokens.json",
        brief: "Wallet file (mode 0600)",
      },
      json: { kind: "boolean", optional: true, brief: "Print the result as JSON" },
    },
  },
  docs: {
    brief: "Fetch tokens for a service from an issuer into a wallet file",
    fullDescription: "Reads the service's challenge (GET /v1/token/challenge), checks that its " +
      "token key is one the issuer signed into its descriptor, and fetches --count tokens " +
      "(blinded: the issuer cannot recognise them later). Tokens are valid for that service " +
      "and the issuer's current epoch only.",
  },
});

/** `panoramix token list`: the wallet's tokens. */
export const tokenListCommand = buildCommand({
  async func(this: CliContext, flags: { wallet: string; json?: boolean }) {
    const wallet = await readWallet(flags.wallet);
    const now = Date.now();
    if (flags.json) {
      await this.stdout.write(
        JSON.stringify({
          tokens: wallet.map((t) => ({
            ...toJsonView(t) as Record<string, unknown>,
            expired: now >= t.validUntil,
          })),
        }) + "\n",
      );
      return;
    }
    const lines = wallet.map((t) =>
      `${t.origin}\tepoch ${t.epoch}\tissuer ${t.issuerName}\t${
        now >= t.validUntil ? "expired" : "valid"
      }`
    );
    await this.stdout.write(lines.length ? lines.join("\n") + "\n" : "");
    await this.stderr.write(`${wallet.length} token(s) in ${flags.wallet}\n`);
  },
  parameters: {
    flags: {
      wallet: { kind: "parsed", parse: String, default: "tokens.json", brief: "Wallet file" },
      json: { kind: "boolean", optional: true, brief: "Print the tokens as JSON" },
    },
  },
  docs: { brief: "List the tokens of a wallet (origin, epoch, issuer, expiry)" },
});

interface RedeemFlags {
  url: string;
  wallet: string;
  method: string;
  data?: string;
  contentType: string;
  sign?: string;
  json?: boolean;
}

/** `panoramix token redeem`: call a service with one token from the wallet. */
export const tokenRedeemCommand = buildCommand({
  async func(this: CliContext, flags: RedeemFlags) {
    const origin = originOf(flags.url, "URL");
    const method = flags.method.toUpperCase();
    if (method !== "GET" && method !== "POST") {
      throw new UsageError(`Method '${flags.method}' must be GET or POST`);
    }
    // The token is spent the moment it is sent: it leaves the wallet first.
    const { token, left } = await takeWalletToken(flags.wallet, origin);
    const body = flags.data === undefined ? new Uint8Array() : await Deno.readFile(flags.data);
    const url = new URL(flags.url);
    const headers: Record<string, string> = { authorization: authorizationHeader(token) };
    if (method === "POST") headers["content-type"] = flags.contentType;
    if (flags.sign) {
      const identity = identityFromEnvelope(
        await readAnyEnvelopeFile(flags.sign, new ReadableStream()),
        flags.sign,
      );
      Object.assign(
        headers,
        signRequest(identity, { method, path: url.pathname + url.search, body }),
      );
    }
    const res = await fetch(url, {
      method,
      headers,
      ...(method === "POST" ? { body: body as BodyInit } : {}),
    });
    const text = await res.text();
    if (flags.json) {
      await this.stdout.write(
        JSON.stringify({ status: res.status, body: text, left }) + "\n",
      );
    } else {
      await this.stdout.write(text.endsWith("\n") || text === "" ? text : text + "\n");
      await this.stderr.write(`status ${res.status}; ${left} token(s) left\n`);
    }
    if (res.status === 401) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch { /* not JSON */ }
      throw new TokenHttpError(401, `Service refused the token: ${message}`);
    }
  },
  parameters: {
    flags: {
      url: { kind: "parsed", parse: String, brief: "URL to call (a gated route)" },
      wallet: { kind: "parsed", parse: String, default: "tokens.json", brief: "Wallet file" },
      method: { kind: "parsed", parse: String, default: "GET", brief: "GET or POST" },
      data: { kind: "parsed", parse: String, optional: true, brief: "File with the POST body" },
      contentType: {
        kind: "parsed",
        parse: String,
        default: "application/msgpack",
        brief: "Content type of the POST body",
      },
      sign: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Identity key file that signs the request (routes that need a signature)",
      },
      json: { kind: "boolean", optional: true, brief: "Print status and body as JSON" },
    },
  },
  docs: {
    brief: "Call a service with one token from the wallet (Authorization: PrivateToken)",
    fullDescription: "Takes a valid token for the URL's origin out of the wallet, sends the " +
      "request with it and prints the response body on stdout. Exit 3 when the service " +
      "refuses the token (invalid or already spent).",
  },
});

/** `panoramix token settle`: post a node's settlements of finished epochs to the board. */
export const tokenSettleCommand = buildCommand({
  async func(this: CliContext, flags: { config: string; json?: boolean }) {
    const config = await loadConfig(flags.config);
    const identity = await loadIdentity(config.identityKeyFile);
    const selfUrl = config.publicUrl || `http://${config.httpListen}`;
    const boardUrl = config.boardUrl || (config.roles.includes("board") ? selfUrl : "");
    if (!boardUrl) {
      throw new ConfigError("Config option 'boardUrl' is required to settle (or the board role)");
    }
    const store = new Store(`${config.dataDir}/node.sqlite`);
    try {
      const gate = new TokenGate({
        store,
        origin: () => config.tokens.origin || new URL(selfUrl).host,
        issuers: [],
        graceSeconds: config.tokens.graceSeconds,
        metrics: new MetricsRegistry(),
        logger: createLogger({ level: "error" }),
      });
      // Release the write lock before the board (possibly this very node) writes.
      await store.commit();
      const client = new NodeClient(boardUrl, { identity });
      const posted = await postSettlements(gate, {
        identity,
        sink: (post) => client.submitPost(post),
      });
      const rows = posted.map((p) => ({
        epoch: p.settlement.epoch,
        origin: p.settlement.origin,
        issuerName: p.settlement.issuerName,
        tokenKeyId: toBase64Url(p.settlement.tokenKeyId),
        count: p.settlement.tokens.length,
        seq: p.seq,
      }));
      await this.stdout.write(
        flags.json
          ? JSON.stringify({ posted: rows }) + "\n"
          : rows.map((r) =>
            `epoch ${r.epoch}: ${r.count} token(s) of ${r.issuerName} redeemed at ${r.origin} (board seq ${r.seq})\n`
          ).join(""),
      );
      if (!flags.json && rows.length === 0) {
        await this.stderr.write("nothing to settle: no finished epoch with unsettled tokens\n");
      }
    } finally {
      store.close();
    }
  },
  parameters: {
    flags: {
      config: { kind: "parsed", parse: String, brief: "The service node's node.json" },
      json: { kind: "boolean", optional: true, brief: "Print the posted records as JSON" },
    },
    aliases: { c: "config" },
  },
  docs: {
    brief: "Post the node's redeemed tokens of finished epochs to the board (settlement)",
    fullDescription: 'One signed `settlement` post per issuer key: "N tokens of issuer I ' +
      'redeemed at origin O in epoch E" with the tokens. A running node does this by itself ' +
      "every 30 s when tokens.settle is on; this command does it now.",
  },
});

/** `panoramix token audit`: check the board's settlements against the issuer's count. */
export const tokenAuditCommand = buildCommand({
  async func(
    this: CliContext,
    flags: { issuer: string; board: string; epoch?: number; json?: boolean },
  ) {
    const audit = await auditFromBoard({
      board: new NodeClient(flags.board),
      issuer: new NodeClient(flags.issuer),
      ...(flags.epoch === undefined ? {} : { epoch: flags.epoch }),
    });
    if (flags.json) {
      await this.stdout.write(JSON.stringify(audit) + "\n");
    } else {
      const lines = [
        `epoch ${audit.epoch}: ${audit.issued} issued, ${audit.total} claimed`,
        ...Object.entries(audit.claimed).map(([o, n]) => `  ${o}: ${n}`),
        ...audit.problems.map((p) => `  problem: ${p}`),
      ];
      await this.stdout.write(lines.join("\n") + "\n");
    }
    if (audit.problems.length > 0) {
      throw new VerificationError(
        `Settlements of epoch ${audit.epoch} are inconsistent: ${audit.problems[0]}`,
      );
    }
  },
  parameters: {
    flags: {
      issuer: { kind: "parsed", parse: String, brief: "Issuer node URL" },
      board: { kind: "parsed", parse: String, brief: "Bulletin board URL" },
      epoch: {
        kind: "parsed",
        parse: numberParser,
        optional: true,
        brief: "Epoch to audit (default the last finished one)",
      },
      json: { kind: "boolean", optional: true, brief: "Print the audit as JSON" },
    },
  },
  docs: {
    brief: "Check the board's settlements of an epoch against the issuer's issuance count",
    fullDescription: "Every claimed token must verify under the issuer's key of that epoch and " +
      "answer the claiming origin's challenge; no token may be claimed twice; the claims " +
      "together may not exceed the tokens issued. Exit 3 when a check fails.",
  },
});

/** The `panoramix token` route map. */
export const tokenRoutes = buildRouteMap({
  routes: {
    "issuer-init": tokenIssuerInitCommand,
    id: tokenIdCommand,
    fetch: tokenFetchCommand,
    list: tokenListCommand,
    redeem: tokenRedeemCommand,
    settle: tokenSettleCommand,
    audit: tokenAuditCommand,
  },
  docs: {
    brief: "Anonymous access tokens (Privacy Pass): issue, fetch, redeem, settle, audit",
    fullDescription: "Privacy Pass (RFC 9576-9578): an issuer signs blinded tokens for users it " +
      "knows; services (node routes) accept a token once without learning who spends it. " +
      "See docs/token.md.",
  },
});
