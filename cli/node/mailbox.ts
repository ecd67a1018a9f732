/**
 * Mailboxes of a Sphinx exit (a provider): what the network delivered for a recipient,
 * kept in the node's SQLite store (table `mailbox`) until its owner fetches and
 * deletes it, or until the TTL; bounded per recipient by a message and a byte quota.
 *
 * The mailbox id is an Ed25519 public key: only requests signed by that key may read,
 * count or delete its items (`POST /v1/mailbox/fetch`, `POST /v1/mailbox/delete`).
 *
 * @module
 */

import { fromBase64Url, toHex } from "../../core/bytes.ts";
import { randomBytes } from "../../core/random.ts";
import { NodeClient } from "./client.ts";
import type { Identity } from "./identity.ts";
import { toJsonView } from "../../core/envelope.ts";
import { readArray, readInteger, readRecord } from "../../core/fields.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import type { MetricsRegistry } from "./metrics.ts";
import { decodeBody, type Route } from "./server.ts";
import type { Store } from "./storage.ts";

/** Mailbox limits. */
export interface MailboxLimits {
  /** Seconds an item is kept when not fetched and deleted. */
  ttlSeconds: number;
  /** Most items per mailbox. */
  quotaMessages: number;
  /** Most payload bytes per mailbox. */
  quotaBytes: number;
}

/** A stored item. */
export interface MailboxRow {
  /** Sequence number. */
  id: number;
  /** "deliver" or "reply". */
  kind: string;
  /** SURB id of a reply. */
  surb_id: Uint8Array | null;
  /** The payload. */
  message: Uint8Array;
  /** When stored (ms). */
  time: number;
}

/** Largest number of items returned by one fetch. */
export const MAILBOX_FETCH_LIMIT = 1000;

/**
 * The mailboxes of one node.
 *
 * @example
 * ```ts ignore
 * const mailbox = new Mailbox(store, metrics, { ttlSeconds: 604800, quotaMessages: 10000, quotaBytes: 1 << 26 });
 * store.write(() => mailbox.put({ kind: "deliver", recipient, payload }));
 * ```
 */
export class Mailbox {
  #store: Store;
  #limits: MailboxLimits;
  #metrics: MetricsRegistry;
  #usage = new Map<string, { n: number; bytes: number }>();

  /**
   * Creates the table if needed.
   *
   * @param store the node store
   * @param metrics metrics registry
   * @param limits TTL and quotas
   */
  constructor(store: Store, metrics: MetricsRegistry, limits: MailboxLimits) {
    this.#store = store;
    this.#limits = limits;
    this.#metrics = metrics;
    // AUTOINCREMENT: an id is never reused after a delete, so a client's cursor never
    // skips a new item. Rows of the older table `sphinx_delivered` move over once.
    store.write(() =>
      store.db.exec(`
      CREATE TABLE IF NOT EXISTS mailbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
        recipient BLOB NOT NULL, surb_id BLOB, message BLOB NOT NULL, time INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS mailbox_recipient ON mailbox (recipient, id);
      CREATE INDEX IF NOT EXISTS mailbox_time ON mailbox (time);
      CREATE TABLE IF NOT EXISTS sphinx_delivered (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,
        recipient BLOB NOT NULL, surb_id BLOB, message BLOB NOT NULL, time INTEGER NOT NULL);
      INSERT INTO mailbox (kind, recipient, surb_id, message, time)
        SELECT kind, recipient, surb_id, message, time FROM sphinx_delivered ORDER BY id;
      DELETE FROM sphinx_delivered;`)
    );
    metrics.gauge(
      "panoramix_mailbox_items",
      "Items held in mailboxes",
      () => (store.db.prepare("SELECT COUNT(*) AS n FROM mailbox").get() as { n: number }).n,
    );
  }

  #usageOf(recipient: Uint8Array): { n: number; bytes: number } {
    const key = toHex(recipient);
    let u = this.#usage.get(key);
    if (u === undefined) {
      const row = this.#store.db.prepare(
        "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(message)), 0) AS bytes FROM mailbox WHERE recipient = ?",
      ).get(recipient) as { n: number; bytes: number };
      u = { n: row.n, bytes: row.bytes };
      if (this.#usage.size > 100_000) this.#usage.clear();
      this.#usage.set(key, u);
    }
    return u;
  }

  /**
   * Stores an item (call inside `store.write`; commit before acknowledging it).
   *
   * @param item kind, recipient, SURB id, payload, time
   * @returns false when the recipient's quota is full (nothing stored)
   */
  put(item: {
    kind: "deliver" | "reply";
    recipient: Uint8Array;
    surbId?: Uint8Array | null;
    payload: Uint8Array;
    time?: number;
  }): boolean {
    const u = this.#usageOf(item.recipient);
    if (
      u.n + 1 > this.#limits.quotaMessages ||
      u.bytes + item.payload.length > this.#limits.quotaBytes
    ) {
      this.#metrics.counter("panoramix_mailbox_over_quota_total", "Items refused: quota full")
        .inc();
      return false;
    }
    this.#store.prepared(
      "INSERT INTO mailbox (kind, recipient, surb_id, message, time) VALUES (?, ?, ?, ?, ?)",
    ).run(item.kind, item.recipient, item.surbId ?? null, item.payload, item.time ?? Date.now());
    u.n++;
    u.bytes += item.payload.length;
    return true;
  }

  /**
   * Items of a mailbox after a sequence number.
   *
   * @param recipient the mailbox id
   * @param options after, limit
   * @returns the items in order
   */
  fetch(recipient: Uint8Array, options: { after: number; limit: number }): MailboxRow[] {
    return this.#store.db.prepare(
      "SELECT id, kind, surb_id, message, time FROM mailbox WHERE recipient = ? AND id > ? ORDER BY id LIMIT ?",
    ).all(recipient, options.after, options.limit) as unknown as MailboxRow[];
  }

  /**
   * Deletes items of one mailbox (others' ids are ignored); commits before resolving.
   *
   * @param recipient the mailbox id
   * @param ids item ids
   * @returns how many were deleted
   */
  async remove(recipient: Uint8Array, ids: readonly number[]): Promise<number> {
    let deleted = 0;
    this.#store.write(() => {
      const del = this.#store.db.prepare(
        "DELETE FROM mailbox WHERE id = ? AND recipient = ? RETURNING LENGTH(message) AS bytes",
      );
      const u = this.#usageOf(recipient);
      for (const id of ids) {
        const row = del.get(id, recipient) as { bytes: number } | undefined;
        if (row) {
          deleted++;
          u.n--;
          u.bytes -= row.bytes;
        }
      }
    });
    await this.#store.commit();
    return deleted;
  }

  /**
   * Deletes items older than the TTL; commits before resolving.
   *
   * @param now clock in ms
   * @returns how many were deleted
   */
  async prune(now: number = Date.now()): Promise<number> {
    const cutoff = now - this.#limits.ttlSeconds * 1000;
    const n = this.#store.write(() =>
      Number(
        this.#store.db.prepare("DELETE FROM mailbox WHERE time < ?").run(cutoff).changes,
      )
    );
    if (n > 0) {
      this.#usage.clear();
      this.#metrics.counter("panoramix_mailbox_expired_total", "Items deleted at their TTL").inc(n);
    }
    await this.#store.commit();
    return n;
  }

  /** Routes: authenticated fetch and delete. */
  get routes(): Route[] {
    return [
      {
        method: "POST",
        path: "/v1/mailbox/fetch",
        auth: true,
        handle: (req) => {
          const body = readRecord(decodeBody(req), "mailbox fetch");
          if (body.kind !== "mailbox.fetch") {
            throw new HttpError(400, "invalid_input", "Body must be a 'mailbox.fetch' envelope");
          }
          const after = readInteger(body.after ?? 0, "after");
          const limit = readInteger(body.limit ?? MAILBOX_FETCH_LIMIT, "limit", {
            min: 1,
            max: MAILBOX_FETCH_LIMIT,
          });
          // The signer is the mailbox: nobody reads, counts or deletes another's items.
          const rows = this.fetch(req.signer!, { after, limit });
          return jsonResponse({
            messages: rows.map((r) =>
              toJsonView({
                id: r.id,
                kind: r.kind,
                surbId: r.surb_id ?? undefined,
                message: r.message,
                time: r.time,
              })
            ),
          });
        },
      },
      {
        method: "POST",
        path: "/v1/mailbox/delete",
        auth: true,
        handle: async (req) => {
          const body = readRecord(decodeBody(req), "mailbox delete");
          if (body.kind !== "mailbox.delete") {
            throw new HttpError(400, "invalid_input", "Body must be a 'mailbox.delete' envelope");
          }
          const ids = readArray(body.ids, "ids", { maxLength: 10_000 }).map((x, i) =>
            readInteger(x, `ids[${i}]`)
          );
          const deleted = await this.remove(req.signer!, ids);
          return jsonResponse({ deleted });
        },
      },
    ];
  }
}

/** A mailbox item as the client reads it. */
export interface FetchedItem {
  /** Sequence number. */
  id: number;
  /** "deliver" or "reply". */
  kind: "deliver" | "reply";
  /** SURB id of a reply. */
  surbId?: Uint8Array;
  /** The payload. */
  message: Uint8Array;
  /** When stored (ms). */
  time: number;
}

/**
 * Reads a mailbox with a request signed by its key.
 *
 * @param url the node's HTTP URL
 * @param options the mailbox key (an identity), after, limit
 * @returns the items
 * @example
 * ```ts ignore
 * const items = await fetchMailbox(node.url, { identity: alice });
 * ```
 */
export async function fetchMailbox(
  url: string,
  options: { identity: Identity; after?: number; limit?: number; timeoutMs?: number },
): Promise<FetchedItem[]> {
  const client = new NodeClient(url, {
    identity: options.identity,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const { messages } = await client.postEnvelope("/v1/mailbox/fetch", {
    v: 1,
    kind: "mailbox.fetch",
    after: options.after ?? 0,
    limit: options.limit ?? MAILBOX_FETCH_LIMIT,
    // Two identical fetches in one millisecond would carry the same signature (a replay).
    nonce: randomBytes(8),
  }) as {
    messages: { id: number; kind: string; surbId?: string; message: string; time: number }[];
  };
  return messages.map((m) => ({
    id: m.id,
    kind: m.kind === "reply" ? "reply" : "deliver",
    ...(m.surbId === undefined ? {} : { surbId: fromBase64Url(m.surbId, "surbId") }),
    message: fromBase64Url(m.message, "message"),
    time: m.time,
  }));
}

/**
 * Deletes mailbox items with a request signed by the mailbox key.
 *
 * @param url the node's HTTP URL
 * @param options the mailbox key and the item ids
 * @returns how many were deleted
 * @example
 * ```ts ignore
 * await deleteMailboxItems(node.url, { identity: alice, ids: [1, 2] });
 * ```
 */
export async function deleteMailboxItems(
  url: string,
  options: { identity: Identity; ids: number[]; timeoutMs?: number },
): Promise<number> {
  const client = new NodeClient(url, {
    identity: options.identity,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const { deleted } = await client.postEnvelope("/v1/mailbox/delete", {
    v: 1,
    kind: "mailbox.delete",
    ids: options.ids,
    nonce: randomBytes(8),
  }) as { deleted: number };
  return deleted;
}
