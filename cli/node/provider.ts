/**
 * The provider role (Loopix §3, docs/message.md §4): the entry and exit of the network
 * for its registered users. It runs with the `sphinx` role and adds
 *
 * - registration of users, authenticated by their mailbox key;
 * - packet submission by registered users (`POST /v1/provider/packets`): each packet goes
 *   through the same checks, replay cache and commit as one arriving on the Sphinx port;
 * - mailboxes of registered users only (deliveries to others are dropped), with TTL and
 *   quotas, readable and deletable only with the owner's key (`/v1/mailbox/*`);
 * - SURB-ACKs: when a data packet is stored in a mailbox, its SURB-ACK is queued in the
 *   same transaction and leaves only after the commit;
 * - drop cover traffic (the all-zero recipient) is discarded and counted.
 *
 * Client admission (registration and packet submission) goes through one function,
 * {@linkcode Provider.admitClient}. With Privacy Pass tokens on (docs/token.md, RFC 9577),
 * "provider.send" makes a token buy a credit of `provider.packetsPerToken` packets for the
 * mailbox key that presents it, until the end of the token's epoch; a submission beyond the
 * credit gets `401 WWW-Authenticate: PrivateToken`. "provider.register" makes registering a
 * new mailbox key cost one token. A request is checked before any token is spent.
 *
 * Tables: `provider_users`, `provider_credit`.
 *
 * @module
 */

import { toBase64Url, toHex } from "../../core/bytes.ts";
import { readArray, readRecord } from "../../core/fields.ts";
import { createSphinxReply } from "../../backends/decrypt/mod.ts";
import { ACK_MESSAGE, decodeDataMessage } from "../../plugins/message/mod.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import type { NodeServiceContext } from "./node.ts";
import { decodeBody, type Route, type RouteRequest } from "./server.ts";
import type { SphinxDelivery, SphinxMix } from "./sphinx_mix.ts";
import { type ServiceGate, serviceGate } from "./token_gate.ts";

/** Most packets in one submission. */
export const MAX_PACKETS_PER_SUBMISSION = 256;

/** What a client asks the provider to admit. */
export type ClientAction = "register" | "submit";

/** The provider's token services (`tokens.services`, docs/token.md). */
export const PROVIDER_TOKEN_SERVICES = {
  /** Packet submission: a token buys `provider.packetsPerToken` packets in its epoch. */
  send: "provider.send",
  /** Registration of a new mailbox key: one token. */
  register: "provider.register",
} as const;

/**
 * The provider role on top of a Sphinx mix.
 *
 * @example
 * ```ts ignore
 * const provider = new Provider(mix, ctx);
 * routes.push(...provider.routes);
 * ```
 */
export class Provider {
  #mix: SphinxMix;
  #ctx: NodeServiceContext;
  #users = new Set<string>();
  #sendGate: ServiceGate | undefined;
  #registerGate: ServiceGate | undefined;

  /**
   * Creates the provider tables and takes over the mix's deliveries.
   *
   * @param mix the Sphinx role of the same node
   * @param ctx node context
   */
  constructor(mix: SphinxMix, ctx: NodeServiceContext) {
    this.#mix = mix;
    this.#ctx = ctx;
    const { store, metrics } = ctx;
    store.write(() =>
      store.db.exec(
        "CREATE TABLE IF NOT EXISTS provider_users (mailbox BLOB PRIMARY KEY, registered INTEGER NOT NULL)",
      )
    );
    // Packets a user may still submit, bought with tokens ("provider.send"), until valid_until.
    store.write(() =>
      store.db.exec(
        "CREATE TABLE IF NOT EXISTS provider_credit (mailbox BLOB PRIMARY KEY, packets INTEGER NOT NULL, valid_until INTEGER NOT NULL)",
      )
    );
    this.#sendGate = serviceGate(ctx.tokenGate, ctx.config, PROVIDER_TOKEN_SERVICES.send);
    this.#registerGate = serviceGate(ctx.tokenGate, ctx.config, PROVIDER_TOKEN_SERVICES.register);
    const rows = store.db.prepare("SELECT mailbox FROM provider_users").all() as {
      mailbox: Uint8Array;
    }[];
    for (const r of rows) this.#users.add(toHex(r.mailbox));
    metrics.gauge("panoramix_provider_users", "Registered users", () => this.#users.size);
    mix.setDeliveryHandler((d) => this.#deliver(d));
  }

  /**
   * Admission of a client request: the one place that decides whether a client may
   * register or submit packets. Call it once the request is known to be well formed:
   * it may spend the request's Privacy Pass token.
   *
   * With "provider.register" in `tokens.services`, registering a new key takes a token
   * (registering again is free). With "provider.send", a submission draws its packets
   * from the key's credit; when the credit is short (or the request presents a token)
   * the request's token is redeemed and adds `provider.packetsPerToken` packets, valid
   * until the end of the token's epoch (plus the grace period).
   *
   * @param request the authenticated request (its signer is the client's mailbox key)
   * @param action what the client asks for
   * @param packets packets in a submission
   * @returns the credit left after a submission (undefined when sending needs no token)
   * @throws {HttpError} 403 when the client is not registered, 503 when the provider is
   *   full, 401 with a PrivateToken challenge when a token is needed and missing, invalid
   *   or spent
   */
  async admitClient(
    request: RouteRequest,
    action: ClientAction,
    packets = 0,
  ): Promise<number | undefined> {
    const key = toHex(request.signer!);
    if (action === "register") {
      if (this.#users.has(key)) return undefined;
      if (this.#users.size >= this.#ctx.config.provider.maxUsers) {
        throw new HttpError(503, "unavailable", "This provider has no room for more users");
      }
      await this.#registerGate?.admit(request.request);
      return undefined;
    }
    if (!this.#users.has(key)) {
      throw new HttpError(
        403,
        "forbidden",
        "Mailbox key is not registered with this provider; run 'panoramix msg init'",
      );
    }
    const gate = this.#sendGate;
    if (!gate) return undefined;
    const presented = /^\s*PrivateToken\s/i.test(
      request.request.headers.get("authorization") ?? "",
    );
    if (!presented) {
      const left = this.#debit(request.signer!, packets);
      if (left !== undefined) return left;
    }
    // Short of credit (or a token offered): redeem it; 401 with the challenge otherwise.
    const token = await gate.admit(request.request);
    const { store, config } = this.#ctx;
    const until = token.validUntil + config.tokens.graceSeconds * 1000;
    const now = Date.now();
    store.write(() =>
      store.db.prepare(
        `INSERT INTO provider_credit (mailbox, packets, valid_until) VALUES (?, ?, ?)
         ON CONFLICT (mailbox) DO UPDATE SET
           packets = (CASE WHEN valid_until > ? THEN packets ELSE 0 END) + excluded.packets,
           valid_until = MAX(CASE WHEN valid_until > ? THEN valid_until ELSE 0 END, excluded.valid_until)`,
      ).run(request.signer!, config.provider.packetsPerToken, until, now, now)
    );
    this.#ctx.metrics.counter(
      "panoramix_provider_credit_bought_total",
      "Packets of credit bought with tokens",
    ).inc(config.provider.packetsPerToken);
    const left = this.#debit(request.signer!, packets);
    await store.commit(); // the credit is on disk before the packets are admitted
    if (left === undefined) {
      throw new HttpError(
        409,
        "conflict",
        "The token's epoch is over: its credit has expired; fetch a token of the current epoch",
      );
    }
    return left;
  }

  /** Takes packets from a key's live credit: the credit left, or undefined when short. */
  #debit(mailbox: Uint8Array, packets: number): number | undefined {
    const { store } = this.#ctx;
    return store.write(() => {
      const row = store.db.prepare(
        "SELECT packets, valid_until FROM provider_credit WHERE mailbox = ?",
      ).get(mailbox) as { packets: number; valid_until: number } | undefined;
      if (!row || row.valid_until <= Date.now() || row.packets < packets) return undefined;
      store.db.prepare("UPDATE provider_credit SET packets = packets - ? WHERE mailbox = ?")
        .run(packets, mailbox);
      return row.packets - packets;
    });
  }

  #deliver(d: SphinxDelivery): void {
    const { metrics, config } = this.#ctx;
    const count = (reason: string) =>
      metrics.counter("panoramix_provider_deliveries_total", "Deliveries at this provider")
        .inc(1, { reason });
    if (d.recipient.every((b) => b === 0)) return count("drop"); // λ_D cover traffic
    if (!this.#users.has(toHex(d.recipient))) return count("unknown_recipient");
    if (d.kind === "reply") {
      const ok = this.#mix.mailbox.put({
        kind: "reply",
        recipient: d.recipient,
        surbId: d.surbId,
        payload: d.message,
      });
      return count(ok ? "reply" : "over_quota");
    }
    let parsed;
    try {
      parsed = decodeDataMessage(d.message);
    } catch {
      return count("malformed");
    }
    // Over quota: nothing stored and no ACK, so the sender retransmits later.
    if (
      !this.#mix.mailbox.put({ kind: "deliver", recipient: d.recipient, payload: parsed.sealed })
    ) {
      return count("over_quota");
    }
    const ack = createSphinxReply(parsed.surbAck, {
      message: ACK_MESSAGE,
      payloadSize: config.sphinx.payloadSize,
    });
    this.#mix.enqueueForward(ack.firstHop, ack.packet);
    count("stored");
  }

  /** Routes of the client API. */
  get routes(): Route[] {
    const { config, identity, store } = this.#ctx;
    return [
      {
        method: "GET",
        path: "/v1/provider/info",
        handle: () =>
          jsonResponse({
            provider: toBase64Url(identity.publicKey),
            payloadSize: config.sphinx.payloadSize,
            layers: config.provider.layers,
            mailboxTtlSeconds: config.provider.mailboxTtlSeconds,
            quotaMessages: config.provider.quotaMessages,
            quotaBytes: config.provider.quotaBytes,
            directoryUrl: config.directoryUrl ||
              (config.roles.includes("directory") ? this.#ctx.selfUrl() : ""),
            directoryKey: config.directoryKey,
            tokens: {
              send: this.#sendGate !== undefined,
              register: this.#registerGate !== undefined,
              packetsPerToken: config.provider.packetsPerToken,
            },
          }),
      },
      {
        method: "POST",
        path: "/v1/provider/register",
        auth: true,
        handle: async (req) => {
          const body = readRecord(decodeBody(req), "registration");
          if (body.kind !== "provider.register") {
            throw new HttpError(
              400,
              "invalid_input",
              "Body must be a 'provider.register' envelope",
            );
          }
          await this.admitClient(req, "register");
          const key = toHex(req.signer!);
          if (!this.#users.has(key)) {
            store.write(() =>
              store.db.prepare(
                "INSERT OR IGNORE INTO provider_users (mailbox, registered) VALUES (?, ?)",
              ).run(req.signer!, Date.now())
            );
            await store.commit();
            this.#users.add(key);
          }
          return jsonResponse({ registered: toBase64Url(req.signer!) }, { status: 201 });
        },
      },
      {
        method: "POST",
        path: "/v1/provider/packets",
        auth: true,
        handle: async (req) => {
          const body = readRecord(decodeBody(req), "packet submission");
          if (body.kind !== "provider.packets") {
            throw new HttpError(400, "invalid_input", "Body must be a 'provider.packets' envelope");
          }
          const packets = readArray(body.packets, "packets", {
            minLength: 1,
            maxLength: MAX_PACKETS_PER_SUBMISSION,
          }).map((p, i) => {
            if (!(p instanceof Uint8Array)) {
              throw new HttpError(400, "invalid_input", `Value 'packets[${i}]' must be bytes`);
            }
            return p;
          });
          const credit = await this.admitClient(req, "submit", packets.length);
          // Each status comes after the packet's commit, as on the Sphinx port.
          const statuses = await Promise.all(packets.map((p) => this.#mix.submit(p)));
          // The debit is committed with the packets (a no-op when they were); refused packets
          // commit nothing, so commit it here.
          if (credit !== undefined) await store.commit();
          return jsonResponse(credit === undefined ? { statuses } : { statuses, credit });
        },
      },
    ];
  }
}
