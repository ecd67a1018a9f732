/**
 * The local files of a messaging user (`panoramix msg`): the identity file (seed and
 * provider, mode 0600) and a SQLite database (WAL, synchronous=FULL) holding the client
 * state and the inbox. A message is written to the inbox before the client deletes it
 * from the provider's mailbox; the inbox is keyed by message id (exactly once).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { fromBase64Url, toBase64Url } from "../core/bytes.ts";
import { ConfigError, InvalidInputError } from "../core/errors.ts";
import { readInteger, readRecord, readString } from "../core/fields.ts";
import {
  addressOf,
  deriveIdentity,
  encodeAddress,
  type MessageIdentity,
  type ReceivedMessage,
} from "../plugins/message/mod.ts";

/** What `msg init` writes to identity.json. */
export interface MsgProfile {
  /** The user's seed (secret). */
  seed: Uint8Array;
  /** Provider HTTP URL. */
  providerUrl: string;
  /** Provider node id. */
  provider: Uint8Array;
  /** Directory URL. */
  directoryUrl: string;
  /** Directory key (base64url) or "". */
  directoryKey: string;
  /** The network's Sphinx payload size. */
  payloadSize: number;
  /** Mix layers. */
  layers: number;
}

/** A stored inbox message. */
export interface InboxMessage {
  /** Message id (hex). */
  id: string;
  /** "message" or "reply". */
  kind: string;
  /** Revealed sender address, if any. */
  from: string | null;
  /** Id answered, for replies. */
  inReplyTo: string | null;
  /** The body. */
  body: Uint8Array;
  /** Sender's clock (ms). */
  sentAt: number;
  /** Local arrival (ms). */
  receivedAt: number;
  /** Local sequence number. */
  seq: number;
}

/**
 * Default directory of the messaging files: $PANORAMIX_MSG_DIR, else ~/.panoramix/msg.
 *
 * @param env environment
 * @returns the directory
 */
export function defaultMsgDir(env: Readonly<Record<string, string>>): string {
  if (env.PANORAMIX_MSG_DIR) return env.PANORAMIX_MSG_DIR;
  if (env.HOME) return `${env.HOME}/.panoramix/msg`;
  throw new ConfigError("Set --dir or PANORAMIX_MSG_DIR (no HOME to put the messaging files in)");
}

/**
 * Writes the profile (mode 0600; refuses to overwrite unless asked).
 *
 * @param dir the directory
 * @param profile the profile
 * @param overwrite replace an existing file
 */
export async function writeProfile(
  dir: string,
  profile: MsgProfile,
  overwrite: boolean,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const text = JSON.stringify(
    {
      v: 1,
      kind: "message.profile",
      seed: toBase64Url(profile.seed),
      providerUrl: profile.providerUrl,
      provider: toBase64Url(profile.provider),
      directoryUrl: profile.directoryUrl,
      directoryKey: profile.directoryKey,
      payloadSize: profile.payloadSize,
      layers: profile.layers,
    },
    null,
    2,
  ) + "\n";
  try {
    await Deno.writeTextFile(`${dir}/identity.json`, text, { createNew: !overwrite, mode: 0o600 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new ConfigError(
        `File '${dir}/identity.json' already exists; pass --force to replace it (the old address stops working)`,
      );
    }
    throw error;
  }
  await Deno.chmod(`${dir}/identity.json`, 0o600);
}

/**
 * Reads the profile and derives the identity.
 *
 * @param dir the directory
 * @returns profile and identity
 * @throws {ConfigError} when there is none (run `msg init`) or it is malformed
 */
export async function readProfile(
  dir: string,
): Promise<{ profile: MsgProfile; identity: MessageIdentity; address: string }> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/identity.json`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ConfigError(
        `No messaging identity in '${dir}'; run 'panoramix msg init --provider URL' first`,
      );
    }
    throw error;
  }
  let profile: MsgProfile;
  try {
    const r = readRecord(JSON.parse(text), "identity.json");
    if (r.kind !== "message.profile") throw new InvalidInputError("kind is not message.profile");
    profile = {
      seed: fromBase64Url(readString(r.seed, "seed"), "seed"),
      providerUrl: readString(r.providerUrl, "providerUrl"),
      provider: fromBase64Url(readString(r.provider, "provider"), "provider"),
      directoryUrl: readString(r.directoryUrl, "directoryUrl"),
      directoryKey: typeof r.directoryKey === "string" ? r.directoryKey : "",
      payloadSize: readInteger(r.payloadSize, "payloadSize"),
      layers: readInteger(r.layers, "layers", { min: 1, max: 3 }),
    };
  } catch (error) {
    throw new ConfigError(
      `File '${dir}/identity.json' is not a messaging identity: ${(error as Error).message}`,
    );
  }
  const identity = await deriveIdentity(profile.seed, profile.provider);
  return { profile, identity, address: encodeAddress(addressOf(identity)) };
}

/** The client state and inbox database. */
export class MsgStore {
  readonly #db: DatabaseSync;

  /**
   * Opens (creates) `msg.sqlite` in the directory.
   *
   * @param dir the directory
   */
  constructor(dir: string) {
    this.#db = new DatabaseSync(`${dir}/msg.sqlite`);
    this.#db.exec("PRAGMA journal_mode=WAL");
    this.#db.exec("PRAGMA synchronous=FULL");
    this.#db.exec("PRAGMA busy_timeout=5000");
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS inbox (seq INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL,
        kind TEXT NOT NULL, sender TEXT, in_reply_to TEXT, body BLOB NOT NULL,
        sent_at INTEGER NOT NULL, received_at INTEGER NOT NULL);`);
  }

  /** The saved client state, if any. */
  loadState(): Uint8Array | undefined {
    const row = this.#db.prepare("SELECT v FROM state WHERE k = 'client'").get() as
      | { v: Uint8Array }
      | undefined;
    return row?.v;
  }

  /**
   * Saves the client state (durable when it returns).
   *
   * @param bytes the state
   */
  saveState(bytes: Uint8Array): Promise<void> {
    this.#db.prepare("INSERT OR REPLACE INTO state (k, v) VALUES ('client', ?)").run(bytes);
    return Promise.resolve();
  }

  /**
   * Adds a received message (ignored when its id is already there).
   *
   * @param m the message
   * @returns true when new
   */
  addMessage(m: ReceivedMessage): boolean {
    const r = this.#db.prepare(
      "INSERT OR IGNORE INTO inbox (id, kind, sender, in_reply_to, body, sent_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(m.id, m.kind, m.from ?? null, m.inReplyTo ?? null, m.body, m.sentAt, m.receivedAt);
    return Number(r.changes) > 0;
  }

  /**
   * Messages after a local sequence number.
   *
   * @param after sequence number (0 = all)
   * @returns messages, oldest first
   */
  messages(after = 0): InboxMessage[] {
    const rows = this.#db.prepare(
      "SELECT seq, id, kind, sender, in_reply_to, body, sent_at, received_at FROM inbox WHERE seq > ? ORDER BY seq LIMIT 10000",
    ).all(after) as Record<string, unknown>[];
    return rows.map((r) => ({
      seq: r.seq as number,
      id: r.id as string,
      kind: r.kind as string,
      from: r.sender as string | null,
      inReplyTo: r.in_reply_to as string | null,
      body: r.body as Uint8Array,
      sentAt: r.sent_at as number,
      receivedAt: r.received_at as number,
    }));
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }
}
