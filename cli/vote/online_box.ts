/**
 * Online ballot boxes: the elections a node (board role) or `panoramix vote serve` holds
 * for voters in a browser. Each election keeps its definition, its election key, an
 * optional voter roll, its accepted ballots and, once tallied, its transcript in the
 * node's SQLite store. A ballot goes through exactly the rules of `vote submit`
 * (`ElectionBallotBox.cast`: shape and election, replay, copy, roll, re-voting policy,
 * proof, docs/vote.md "Ballot box rules") and is committed to disk before its receipt
 * is returned.
 *
 * HTTP (JSON unless said otherwise):
 * - `GET /v1/vote/elections` → `{ elections: [{ id, title, state, ballots, results }] }`
 * - `GET /v1/vote/elections/:id` → `{ id, title, state, ballots, roll, results, election, key }`
 *   (the `vote.election` and `vote.election-key` envelopes, JSON view)
 * - `POST /v1/vote/elections/:id/ballots` (a `vote.ballot` envelope, JSON view or msgpack)
 *   → 201 `{ receipt, position, supersedes? }`; rejections are `{ error, message }` with
 *   the box's reason; rate limited per client address
 * - `GET /v1/vote/elections/:id/receipts/:receipt` → `{ status, position?, state }`
 *   (`counted`, `superseded` or `absent`)
 * - `GET /v1/vote/elections/:id/box` → the `vote.ballot-box` envelope (msgpack)
 * - `GET /v1/vote/elections/:id/transcript` → the `vote.transcript` envelope (msgpack)
 * - admin only (signed by a board admin): `POST /v1/vote/elections` (`vote.booth-election`:
 *   `{ election, key, voters? }`), `POST /v1/vote/elections/:id/close`,
 *   `POST /v1/vote/elections/:id/transcript` (a `vote.transcript` of this election).
 *
 * @module
 */

import { constantTimeEqual, joinBytes, toHex } from "../../core/bytes.ts";
import {
  decodeMsgpack,
  encodeMsgpack,
  type Envelope,
  readEnvelope,
  toJsonView,
} from "../../core/envelope.ts";
import { ConfigError, InvalidInputError, NotFoundError } from "../../core/errors.ts";
import { readArray, readString } from "../../core/fields.ts";
import {
  ballotBoxChunks,
  ballotReceipt,
  decodeElectionKey,
  ElectionBallotBox,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  electionDefinitionFromEnvelope,
  electionDefinitionToEnvelope,
  electionFingerprint,
  type ElectionKey,
  type ElectionPublicInfo,
  electionTranscriptChunks,
  electionTranscriptFromEnvelope,
  encodeCeremonyPost,
  formatElectionReceipt,
  parseElectionReceipt,
} from "../../plugins/vote/mod.ts";
import { HttpError, jsonResponse } from "../node/http_error.ts";
import { RateLimiter } from "../node/rate_limit.ts";
import { decodeBody, type Route } from "../node/server.ts";
import type { Store } from "../node/storage.ts";

/** Envelope kind of an election put on a node for voters. */
export const BOOTH_ELECTION_KIND = "vote.booth-election";

/** State of an online ballot box. */
export type OnlineBoxState = "open" | "closed";

/** Result of casting one ballot online. */
export interface OnlineCastResult {
  /** The receipt, 64 hex characters. */
  receipt: string;
  /** 1-based position in the box. */
  position: number;
  /** 1-based position of the ballot it supersedes (policy `last`). */
  supersedes?: number;
}

/** Result of a receipt lookup. */
export interface OnlineReceiptCheck {
  /** `counted` (in the box, the voter's latest), `superseded` or `absent`. */
  status: "counted" | "superseded" | "absent";
  /** 1-based position of the ballot. */
  position?: number;
  /** Whether the box is still open. */
  state: OnlineBoxState;
}

interface Loaded {
  info: ElectionPublicInfo;
  key: ElectionKey;
  voters: string[] | undefined;
  box: ElectionBallotBox;
  receipts: Map<string, number>;
  credentials: Map<string, number>;
  state: OnlineBoxState;
  hasTranscript: boolean;
}

/** Options of {@linkcode OnlineBallotBoxes}. */
export interface OnlineBallotBoxesOptions {
  /** Storage (tables created on demand). */
  store: Store;
}

/**
 * The elections held online, backed by the store.
 *
 * @example
 * ```ts ignore
 * const boxes = new OnlineBallotBoxes({ store });
 * await boxes.add({ election, key });
 * const { receipt } = await boxes.cast("board-2026", ballotEnvelope);
 * ```
 */
export class OnlineBallotBoxes {
  readonly #store: Store;
  readonly #loaded = new Map<string, Loaded>();

  /**
   * Opens the boxes, replaying the stored ballots of every election.
   *
   * @param options the store
   */
  constructor(options: OnlineBallotBoxesOptions) {
    this.#store = options.store;
    this.#store.write(() =>
      this.#store.db.exec(`
      CREATE TABLE IF NOT EXISTS vote_elections (
        id TEXT PRIMARY KEY, election BLOB NOT NULL, key BLOB NOT NULL, voters BLOB,
        state TEXT NOT NULL, transcript BLOB);
      CREATE TABLE IF NOT EXISTS vote_ballots (
        election TEXT NOT NULL, idx INTEGER NOT NULL, ballot BLOB NOT NULL,
        PRIMARY KEY (election, idx));`)
    );
    const rows = this.#store.db.prepare("SELECT id FROM vote_elections ORDER BY rowid").all() as {
      id: string;
    }[];
    for (const r of rows) this.#load(r.id);
  }

  #load(id: string): Loaded {
    const row = this.#store.db.prepare(
      "SELECT election, key, voters, state, transcript IS NOT NULL AS t FROM vote_elections WHERE id = ?",
    ).get(id) as
      | {
        election: Uint8Array;
        key: Uint8Array;
        voters: Uint8Array | null;
        state: string;
        t: number;
      }
      | undefined;
    if (row === undefined) throw new NotFoundError(`Election '${id}' is not on this node`);
    const definition = electionDefinitionFromEnvelope(decodeMsgpack(row.election, "election"));
    const fingerprint = electionFingerprint(definition);
    const key = decodeElectionKey({ definition, fingerprint }, decodeMsgpack(row.key, "key"));
    const voters = row.voters === null
      ? undefined
      : readArray(decodeMsgpack(row.voters, "voters"), "voters").map((v, i) =>
        readString(v, `voters[${i}]`)
      );
    const info = { definition, fingerprint, publicKey: key.publicKey };
    const box = new ElectionBallotBox(info, voters === undefined ? {} : { voters });
    const loaded: Loaded = {
      info,
      key,
      voters,
      box,
      receipts: new Map(),
      credentials: new Map(),
      state: row.state === "closed" ? "closed" : "open",
      hasTranscript: row.t === 1,
    };
    const ballots = this.#store.db.prepare(
      "SELECT ballot FROM vote_ballots WHERE election = ? ORDER BY idx",
    ).all(id) as { ballot: Uint8Array }[];
    // Stored ballots passed every rule when they were accepted; their proofs are trusted here.
    for (const b of ballots) {
      const ballot = electionBallotFromEnvelope(decodeMsgpack(b.ballot, "stored ballot"));
      const r = box.cast(ballot, { proofValid: true });
      loaded.receipts.set(toHex(r.receipt), r.index);
      loaded.credentials.set(ballot.credential, r.index);
    }
    this.#loaded.set(id, loaded);
    return loaded;
  }

  #get(id: string): Loaded {
    const loaded = this.#loaded.get(id);
    if (loaded === undefined) throw new NotFoundError(`Election '${id}' is not on this node`);
    return loaded;
  }

  /**
   * Puts an election on the node (or confirms it is already there, unchanged).
   *
   * @param entry the definition and election key envelopes, and the voter roll
   * @returns the election id
   * @throws {InvalidInputError} when the key does not belong to the definition
   * @throws {ConfigError} when another election with this id is already held
   */
  async add(entry: { election: unknown; key: unknown; voters?: readonly string[] }): Promise<
    string
  > {
    const definition = electionDefinitionFromEnvelope(entry.election);
    const fingerprint = electionFingerprint(definition);
    const key = decodeElectionKey({ definition, fingerprint }, entry.key);
    const existing = this.#loaded.get(definition.id);
    if (existing !== undefined) {
      if (!constantTimeEqual(existing.info.fingerprint, fingerprint)) {
        throw new ConfigError(
          `Election '${definition.id}' is already on this node with another definition`,
        );
      }
      return definition.id;
    }
    const voters = entry.voters === undefined ? null : encodeMsgpack([...entry.voters]);
    this.#store.write(() =>
      this.#store.db.prepare(
        "INSERT INTO vote_elections (id, election, key, voters, state) VALUES (?, ?, ?, ?, 'open')",
      ).run(
        definition.id,
        encodeMsgpack(electionDefinitionToEnvelope(definition)),
        encodeMsgpack(encodeCeremonyPost({ definition, fingerprint }, { key })),
        voters,
      )
    );
    await this.#store.commit();
    this.#load(definition.id);
    return definition.id;
  }

  /**
   * Summaries of the elections held, oldest first.
   *
   * @returns id, title, state, ballot count and whether results are published
   */
  list(): Array<
    { id: string; title: string; state: OnlineBoxState; ballots: number; results: boolean }
  > {
    return [...this.#loaded.entries()].map(([id, l]) => ({
      id,
      title: l.info.definition.title,
      state: l.state,
      ballots: l.box.ballots.length,
      results: l.hasTranscript,
    }));
  }

  /**
   * What a voter's browser needs to know about one election.
   *
   * @param id election id
   * @returns the summary plus the definition and key envelopes (JSON view)
   * @throws {NotFoundError} when the election is not held here
   */
  describe(id: string): Record<string, unknown> {
    const l = this.#get(id);
    const election = { definition: l.info.definition, fingerprint: l.info.fingerprint };
    return {
      id,
      title: l.info.definition.title,
      state: l.state,
      ballots: l.box.ballots.length,
      roll: l.voters !== undefined,
      results: l.hasTranscript,
      fingerprint: toHex(l.info.fingerprint),
      election: toJsonView(electionDefinitionToEnvelope(l.info.definition)),
      key: toJsonView(encodeCeremonyPost(election, { key: l.key })),
    };
  }

  /**
   * Casts one ballot: the box's rules, then a durable write, then the receipt.
   *
   * @param id election id
   * @param value the decoded `vote.ballot` envelope (msgpack or JSON view)
   * @returns receipt and position
   * @throws {InvalidInputError} malformed, other election, box closed, not on the roll
   * @throws {ReplayError} replayed, copied, or duplicate under policy `reject`
   * @throws {VerificationError} invalid proof
   */
  async cast(id: string, value: unknown): Promise<OnlineCastResult> {
    const l = this.#get(id);
    if (l.state !== "open") {
      throw new InvalidInputError(
        `Ballot box of election '${id}' is closed; no more ballots accepted`,
      );
    }
    const ballot = electionBallotFromEnvelope(value, { what: "ballot" });
    const result = l.box.cast(ballot);
    try {
      this.#store.write(() =>
        this.#store.db.prepare("INSERT INTO vote_ballots (election, idx, ballot) VALUES (?, ?, ?)")
          .run(id, result.index, encodeMsgpack(electionBallotToEnvelope(ballot)))
      );
      await this.#store.commit();
    } catch (error) {
      this.#load(id); // the box in memory must not hold a ballot the disk lost
      throw error;
    }
    l.receipts.set(toHex(result.receipt), result.index);
    l.credentials.set(ballot.credential, result.index);
    return {
      receipt: formatElectionReceipt(result.receipt),
      position: result.index + 1,
      ...(result.supersedes === undefined ? {} : { supersedes: result.supersedes + 1 }),
    };
  }

  /**
   * Says whether the ballot with this receipt is in the box, and whether it counts.
   *
   * @param id election id
   * @param receipt 64 hex characters
   * @returns the status
   * @throws {InvalidInputError} when the receipt is not 64 hex characters
   */
  check(id: string, receipt: string): OnlineReceiptCheck {
    const l = this.#get(id);
    const index = l.receipts.get(toHex(parseElectionReceipt(receipt)));
    if (index === undefined) return { status: "absent", state: l.state };
    const credential = l.box.ballots[index]!.credential;
    const latest = l.credentials.get(credential);
    return {
      status: latest === index ? "counted" : "superseded",
      position: index + 1,
      state: l.state,
    };
  }

  /**
   * Closes the box: no more ballots.
   *
   * @param id election id
   */
  async close(id: string): Promise<void> {
    const l = this.#get(id);
    if (l.state === "closed") return;
    this.#store.write(() =>
      this.#store.db.prepare("UPDATE vote_elections SET state = 'closed' WHERE id = ?").run(id)
    );
    await this.#store.commit();
    l.state = "closed";
  }

  /**
   * The accepted ballots as a `vote.ballot-box` envelope (the input of `vote tally --box`).
   *
   * @param id election id
   * @returns msgpack bytes
   */
  boxBytes(id: string): Uint8Array {
    const l = this.#get(id);
    return joinChunks(ballotBoxChunks(l.info, l.box.ballots));
  }

  /**
   * Publishes the election's transcript (results) and closes the box. The transcript must
   * be this election's, under its key, and hold exactly the box's ballots; an empty box
   * takes the transcript's ballots when `importBallots` is set (results of an election run
   * elsewhere, so voters can still check their receipts here).
   *
   * @param id election id
   * @param value the decoded `vote.transcript` envelope
   * @param options `importBallots`: fill an empty box from the transcript
   * @throws {InvalidInputError} when it is malformed, of another election or key, or its
   *   ballots are not the box's
   */
  async publishTranscript(
    id: string,
    value: unknown,
    options: { importBallots?: boolean } = {},
  ): Promise<void> {
    const l = this.#get(id);
    const transcript = electionTranscriptFromEnvelope(value);
    if (!constantTimeEqual(transcript.fingerprint, l.info.fingerprint)) {
      throw new InvalidInputError(`Transcript belongs to another election than '${id}'`);
    }
    if (!transcript.key.publicKey.equals(l.info.publicKey)) {
      throw new InvalidInputError(`Transcript of '${id}' is under another election key`);
    }
    if (l.box.ballots.length === 0 && options.importBallots) {
      this.#store.write(() => {
        const insert = this.#store.db.prepare(
          "INSERT INTO vote_ballots (election, idx, ballot) VALUES (?, ?, ?)",
        );
        transcript.ballots.forEach((b, i) =>
          insert.run(id, i, encodeMsgpack(electionBallotToEnvelope(b)))
        );
      });
    } else {
      const held = l.box.receipts;
      if (held.length !== transcript.ballots.length) {
        throw new InvalidInputError(
          `Transcript holds ${transcript.ballots.length} ballots, the ballot box of '${id}' holds ${held.length}`,
        );
      }
      transcript.ballots.forEach((b, i) => {
        if (!constantTimeEqual(ballotReceipt(b), held[i]!)) {
          throw new InvalidInputError(
            `Transcript ballot ${i + 1} is not ballot ${i + 1} of the ballot box of '${id}'`,
          );
        }
      });
    }
    // Encoded a chunk at a time into one buffer of the exact size (issue 17: msgpackr grows
    // its buffer several times over for a big value).
    const bytes = joinChunks(electionTranscriptChunks(transcript));
    this.#store.write(() =>
      this.#store.db.prepare(
        "UPDATE vote_elections SET transcript = ?, state = 'closed' WHERE id = ?",
      ).run(bytes, id)
    );
    await this.#store.commit();
    this.#load(id);
  }

  /**
   * The published transcript.
   *
   * @param id election id
   * @returns msgpack bytes
   * @throws {NotFoundError} when no results are published yet
   */
  transcriptBytes(id: string): Uint8Array {
    this.#get(id);
    const row = this.#store.db.prepare("SELECT transcript FROM vote_elections WHERE id = ?")
      .get(id) as { transcript: Uint8Array | null } | undefined;
    if (!row?.transcript) {
      throw new NotFoundError(`Election '${id}' has no published results yet`);
    }
    return row.transcript;
  }
}

/** Options of {@linkcode onlineBoxRoutes}. */
export interface OnlineBoxRoutesOptions {
  /** Identity keys allowed to add, close and publish elections (board admins). */
  admins: readonly Uint8Array[];
  /** Ballots per second per client address (default 1). */
  ballotsPerSecond?: number;
  /** Ballots a client address may send at once (default 10). */
  ballotBurst?: number;
}

function msgpackResponse(bytes: Uint8Array, name: string): Response {
  return new Response(bytes.slice(), {
    headers: {
      "content-type": "application/msgpack",
      "content-disposition": `attachment; filename="${name}"`,
      "cache-control": "no-cache",
    },
  });
}

/**
 * The HTTP routes of the online ballot boxes (see the module docs).
 *
 * @param boxes the boxes
 * @param options admins and the ballot rate limit
 * @returns the routes
 * @example
 * ```ts ignore
 * routes.push(...onlineBoxRoutes(boxes, { admins }));
 * ```
 */
export function onlineBoxRoutes(
  boxes: OnlineBallotBoxes,
  options: OnlineBoxRoutesOptions,
): Route[] {
  const limiter = new RateLimiter({
    ratePerSecond: options.ballotsPerSecond ?? 1,
    burst: options.ballotBurst ?? 10,
  });
  const admin = (signer: Uint8Array | undefined) => {
    if (!signer || !options.admins.some((a) => constantTimeEqual(a, signer))) {
      throw new HttpError(403, "forbidden", "Only a board admin may manage elections");
    }
  };
  return [
    {
      method: "GET",
      path: "/v1/vote/elections",
      handle: () => jsonResponse({ elections: boxes.list() }),
    },
    {
      method: "GET",
      path: "/v1/vote/elections/:id",
      handle: (req) => jsonResponse(boxes.describe(req.params.id!)),
    },
    {
      method: "POST",
      path: "/v1/vote/elections/:id/ballots",
      async handle(req) {
        const client = req.client ?? "unknown";
        if (!limiter.take(client)) {
          throw new HttpError(
            429,
            "rate_limited",
            "Too many ballots from this address; wait a few seconds and try again",
            { "retry-after": String(limiter.retryAfter(client)) },
          );
        }
        const result = await boxes.cast(req.params.id!, decodeBody(req));
        return jsonResponse(result, { status: 201 });
      },
    },
    {
      method: "GET",
      path: "/v1/vote/elections/:id/receipts/:receipt",
      handle: (req) => jsonResponse(boxes.check(req.params.id!, req.params.receipt!)),
    },
    {
      method: "GET",
      path: "/v1/vote/elections/:id/box",
      handle: (req) => msgpackResponse(boxes.boxBytes(req.params.id!), "box.msgpack"),
    },
    {
      method: "GET",
      path: "/v1/vote/elections/:id/transcript",
      handle: (req) => msgpackResponse(boxes.transcriptBytes(req.params.id!), "transcript.msgpack"),
    },
    {
      method: "POST",
      path: "/v1/vote/elections",
      auth: true,
      async handle(req) {
        admin(req.signer);
        const env = readEnvelope(decodeBody(req), BOOTH_ELECTION_KIND, { what: "election entry" });
        const voters = env.voters === undefined || env.voters === null
          ? undefined
          : readArray(env.voters, "voters").map((v, i) => readString(v, `voters[${i}]`));
        const id = await boxes.add({
          election: env.election,
          key: env.key,
          ...(voters === undefined ? {} : { voters }),
        });
        return jsonResponse({ id }, { status: 201 });
      },
    },
    {
      method: "POST",
      path: "/v1/vote/elections/:id/close",
      auth: true,
      async handle(req) {
        admin(req.signer);
        await boxes.close(req.params.id!);
        return jsonResponse({ id: req.params.id, state: "closed" });
      },
    },
    {
      method: "POST",
      path: "/v1/vote/elections/:id/transcript",
      auth: true,
      async handle(req) {
        admin(req.signer);
        await boxes.publishTranscript(req.params.id!, decodeBody(req));
        return jsonResponse({ id: req.params.id, results: true }, { status: 201 });
      },
    },
  ];
}

/**
 * The envelope an admin posts to put an election on a node.
 *
 * @param entry definition and key envelopes, optional roll
 * @returns the `vote.booth-election` envelope
 * @example
 * ```ts ignore
 * await client.postEnvelope("/v1/vote/elections", boothElectionEnvelope({ election, key }));
 * ```
 */
export function boothElectionEnvelope(
  entry: { election: Envelope; key: Envelope; voters?: readonly string[] },
): Envelope {
  return {
    v: 1,
    kind: BOOTH_ELECTION_KIND,
    election: entry.election,
    key: entry.key,
    ...(entry.voters === undefined ? {} : { voters: [...entry.voters] }),
  };
}

/** The concatenation of chunks, in one buffer of the exact size. */
function joinChunks(chunks: Iterable<Uint8Array>): Uint8Array {
  return joinBytes([...chunks]);
}
