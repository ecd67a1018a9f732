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
 * {@linkcode Provider.admitClient}, where an access-token check can slot in.
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

/** Most packets in one submission. */
export const MAX_PACKETS_PER_SUBMISSION = 256;

/** What a client asks the provider to admit. */
export type ClientAction = "register" | "submit";

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
    const rows = store.db.prepare("SELECT mailbox FROM provider_users").all() as {
      mailbox: Uint8Array;
    }[];
    for (const r of rows) this.#users.add(toHex(r.mailbox));
    metrics.gauge("panoramix_provider_users", "Registered users", () => this.#users.size);
    mix.setDeliveryHandler((d) => this.#deliver(d));
  }

  /**
   * Admission of a client request: the one place that decides whether a client may
   * register or submit packets (an anonymous access token check belongs here).
   *
   * @param request the authenticated request (its signer is the client's mailbox key)
   * @param action what the client asks for
   * @throws {HttpError} 403 when the client is not registered, 503 when the provider is full
   */
  admitClient(request: RouteRequest, action: ClientAction): void {
    const key = toHex(request.signer!);
    if (action === "register") {
      if (!this.#users.has(key) && this.#users.size >= this.#ctx.config.provider.maxUsers) {
        throw new HttpError(503, "unavailable", "This provider has no room for more users");
      }
      return;
    }
    if (!this.#users.has(key)) {
      throw new HttpError(
        403,
        "forbidden",
        "Mailbox key is not registered with this provider; run 'panoramix msg init'",
      );
    }
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
          this.admitClient(req, "register");
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
          this.admitClient(req, "submit");
          const packets = readArray(body.packets, "packets", {
            minLength: 1,
            maxLength: MAX_PACKETS_PER_SUBMISSION,
          }).map((p, i) => {
            if (!(p instanceof Uint8Array)) {
              throw new HttpError(400, "invalid_input", `Value 'packets[${i}]' must be bytes`);
            }
            return p;
          });
          // Each status comes after the packet's commit, as on the Sphinx port.
          const statuses = await Promise.all(packets.map((p) => this.#mix.submit(p)));
          return jsonResponse({ statuses });
        },
      },
    ];
  }
}
