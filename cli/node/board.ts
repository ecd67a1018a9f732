/**
 * The bulletin board: an append-only, hash-chained log of signed posts in SQLite.
 * It accepts a post only when its signature verifies, its author may post it, and —
 * for a mixer's output — when the backend's `verify` accepts the proof against the
 * stage's inputs. Every accepted post is committed before the receipt (signed by the
 * board) is returned.
 *
 * @module
 */

import { toBase64Url } from "../../core/bytes.ts";
import { assertBatchSize } from "../../core/batcher.ts";
import { decodeMsgpack, encodeMsgpack, type Envelope, readEnvelope } from "../../core/envelope.ts";
import {
  ConfigError,
  IntegrityError,
  InvalidInputError,
  NotFoundError,
  VerificationError,
} from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../../core/fields.ts";
import {
  type CeremonyElection,
  DECRYPTION_POST_KIND,
  type ElectionDecryptionRecords,
  readCiphertexts,
} from "../../plugins/vote/mod.ts";
import {
  decodePublicKey,
  ELEMENT_BYTES,
  encodeCiphertext,
  SHUFFLE_PROOF_LISTS,
  type ShuffleProofList,
  verifyShuffleRecords,
} from "../../backends/reencrypt/mod.ts";
import { memoryRecordSinks, type RecordSource } from "../../core/records.ts";
import {
  readBodyHead,
  readBodyKind,
  readDecryptionBody,
  readMixBody,
} from "../vote_board_records.ts";
import {
  DEFAULT_MAX_MIX_PART_BYTES,
  MIX_PART_KIND,
  MIX_PARTS_VERSION,
  mixPartsProof,
  MixPartsState,
  readMixFinal,
  readMixPart,
} from "./mix_parts.ts";
import { Spool } from "../record_file.ts";
import {
  checkCeremonyBody,
  checkDecryptionPost,
  type CheckedCeremonyPost,
  checkTrusteeAuthor,
  ciphertextItemRecords,
  collectCeremony,
  readElectionBody,
} from "./election_board.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import { labelledDigest } from "../../core/transcript.ts";
import { HttpError } from "./http_error.ts";
import { type Identity, numberPart, SIGNING_LABELS, signParts, verifyParts } from "./identity.ts";
import type { Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";
import {
  type JobSpec,
  type Post,
  postDigest,
  postDigestAsync,
  postToEnvelope,
  readJobSpec,
  readPostBody,
  verifyPostDigest,
} from "./posts.ts";
import type { Store } from "./storage.ts";
import { readSettlement, SETTLEMENT_KIND } from "../../plugins/token/mod.ts";
import { CHECK_CHUNK, checkInputs, inputDigest } from "./input_contract.ts";
import { decodeMapInSlices } from "./chunked_msgpack.ts";
import { itemPage } from "./item_pages.ts";
import type { DatabaseSync } from "node:sqlite";

/** State of a job on the board. */
export type JobState = "open" | "mixing" | "done";

/** Summary of a job. */
export interface JobSummary {
  /** Job id. */
  job: string;
  /** Backend name. */
  backend: string;
  /** Current state. */
  state: JobState;
  /** Number of accepted inputs. */
  inputs: number;
  /** Next stage to mix (equals the number of stages when done). */
  stage: number;
  /** Number of stages. */
  stages: number;
  /** Mixer identity of each stage (base64url). */
  mixers: string[];
  /** The latest reason the mixer of the current stage posted for failing it, if any. */
  failure?: { stage: number; reason: string; time: number };
  /**
   * What the board's check of each mix establishes (issue 11 §15): "proof" (a public
   * proof of a correct mix), "complete" (outputs checked to be the inputs reordered), or
   * "unverifiable" (a mixer could substitute outputs undetected, e.g. decryption mixes).
   */
  verification: "proof" | "complete" | "unverifiable";
  /** Why the job's mixes are unverifiable, when they are. */
  warning?: string;
  /** Set once an admin archived the done job: its items are no longer on the board. */
  archived?: true;
}

/** The board's verification of each backend's mixes; any other backend is "unverifiable". */
const VERIFICATION: Record<string, "proof" | "complete"> = {
  reencrypt: "proof",
  plain: "complete",
};

/** Why a job whose backend has no public proof is unverifiable. */
export const UNVERIFIABLE_WARNING = "UNVERIFIABLE: the board checks this job's mixes without " +
  "a public proof (digests, counts and formats only); a mixer could substitute its outputs " +
  "and the board would accept them (docs/sphinx.md §8.4)";

/** Longest failure reason a mixer may post. */
export const MAX_FAILURE_REASON = 2000;

/** The board's signed receipt for an accepted post. */
export interface Receipt {
  /** Position in the log (1-based). */
  seq: number;
  /** The post's digest. */
  digest: Uint8Array;
  /** Chain value after this post. */
  chain: Uint8Array;
  /** The board's identity key. */
  board: Uint8Array;
  /** Board signature over [seq, digest, chain]. */
  signature: Uint8Array;
}

/** Options of {@linkcode BulletinBoard}. */
export interface BulletinBoardOptions {
  /** Storage (tables are created on demand). */
  store: Store;
  /** The board's identity (signs receipts). */
  identity: Identity;
  /** Identity keys allowed to create and close jobs. */
  admins: readonly Uint8Array[];
  /** Backend lookup by name. */
  backendByName: (name: string) => AnyMixBackend;
  /** Logger. */
  logger: Logger;
  /** Metrics. */
  metrics: MetricsRegistry;
  /**
   * File holding the last committed head (seq and chain), rewritten and fsynced after
   * every commit, before any receipt for it goes out; at start the log must reach it.
   */
  headFile?: string;
  /**
   * Most inputs one outside submitter (not an admin) may post to one open job
   * (`submitters: []`); 0 or absent = no limit (issue 11 §10).
   */
  maxInputsPerSubmitter?: number;
  /** Largest body of one part of a mix posted in parts (default 16 MiB; mix_parts.ts). */
  maxMixPartBytes?: number;
}

const GENESIS = new Uint8Array(64);

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A post body larger than this is a big post: decoded in slices and staged (§10). */
export const BIG_POST_BYTES = 64 * 1024;

/**
 * Items of a big post written and committed per staging transaction: a commit's fsync
 * and checkpoint grow with the pages it dirties (random digests), so chunks stay small.
 */
const STAGE_CHUNK = 1000;

/** Longest time spent inserting rows into one staging transaction, in ms. */
const STAGE_SLICE_MS = 15;

/** Big posts processed at once per node; the others wait their turn (§10). */
export const MAX_CONCURRENT_BIG_POSTS = 1;

/** A counting semaphore (first come, first served). */
class Semaphore {
  #free: number;
  #queue: (() => void)[] = [];
  constructor(count: number) {
    this.#free = count;
  }
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

/** The job name settlement posts carry (they belong to no mixing job). */
export const SETTLEMENT_JOB = "token-settlement";

/**
 * The bulletin board role.
 *
 * @example
 * ```ts ignore
 * const board = new BulletinBoard({ store, identity, admins, backendByName, logger, metrics });
 * const receipt = await board.submit(post);
 * ```
 */
export class BulletinBoard {
  #o: BulletinBoardOptions;
  #locks = new Map<string, Promise<unknown>>();
  #bigPosts = new Semaphore(MAX_CONCURRENT_BIG_POSTS);

  /**

   * Creates the instance.
   *
   * @param options storage, identity, admins, backends, logger, metrics
   */
  constructor(options: BulletinBoardOptions) {
    this.#o = options;
    options.store.write(() =>
      options.store.db.exec(`
      CREATE TABLE IF NOT EXISTS board_posts (
        seq INTEGER PRIMARY KEY, job TEXT NOT NULL, type TEXT NOT NULL, author BLOB NOT NULL,
        time INTEGER NOT NULL, body BLOB NOT NULL, signature BLOB NOT NULL,
        digest BLOB NOT NULL UNIQUE, chain BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS board_jobs (
        job TEXT PRIMARY KEY, spec BLOB NOT NULL, state TEXT NOT NULL,
        stage INTEGER NOT NULL, inputs INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS board_items (
        job TEXT NOT NULL, stage INTEGER NOT NULL, idx INTEGER NOT NULL, item BLOB NOT NULL,
        PRIMARY KEY (job, stage, idx));
      CREATE TABLE IF NOT EXISTS board_failures (
        job TEXT NOT NULL, stage INTEGER NOT NULL, reason TEXT NOT NULL, time INTEGER NOT NULL,
        seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS board_elections (job TEXT PRIMARY KEY, definition BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS board_ceremony (
        job TEXT NOT NULL, kind TEXT NOT NULL, trustee INTEGER NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (job, kind, trustee));
      CREATE TABLE IF NOT EXISTS board_submitter_inputs (
        job TEXT NOT NULL, author BLOB NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (job, author)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS board_input_digests (
        job TEXT NOT NULL, digest BLOB NOT NULL, PRIMARY KEY (job, digest)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS board_waiting (
        job TEXT PRIMARY KEY, mixer BLOB NOT NULL, stage INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS board_waiting_mixer ON board_waiting (mixer);
      CREATE TABLE IF NOT EXISTS board_mix_parts (
        job TEXT NOT NULL, stage INTEGER NOT NULL, part INTEGER NOT NULL, digest BLOB NOT NULL,
        count INTEGER NOT NULL, total INTEGER NOT NULL, width INTEGER NOT NULL,
        author BLOB NOT NULL, PRIMARY KEY (job, stage, part));`)
    );
    // Archiving (prunable bodies): columns added to stores written before they existed.
    options.store.write(() => {
      const db = options.store.db;
      const has = (table: string, column: string) =>
        (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[])
          .some((c) => c.name === column);
      if (!has("board_posts", "pruned")) {
        db.exec("ALTER TABLE board_posts ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0");
      }
      if (!has("board_jobs", "archived")) {
        db.exec("ALTER TABLE board_jobs ADD COLUMN archived INTEGER NOT NULL DEFAULT 0");
      }
    });
    // Jobs waiting on each mixer, derived from the jobs table (rebuilt at start, so a
    // store written before this index existed gets it too).
    options.store.write(() => {
      const db = options.store.db;
      db.exec("DELETE FROM board_waiting");
      const insert = db.prepare("INSERT INTO board_waiting (job, mixer, stage) VALUES (?, ?, ?)");
      const mixing = db.prepare(
        "SELECT job, spec, stage FROM board_jobs WHERE state = 'mixing' ORDER BY rowid",
      ).all() as { job: string; spec: Uint8Array; stage: number }[];
      for (const r of mixing) {
        const spec = readJobSpec(decodeMsgpack(r.spec, "job spec"), "job");
        insert.run(r.job, spec.stages[r.stage]!.mixer, r.stage);
      }
    });
    options.store.commitNow(); // readers see committed tables only
    this.#discardStaged(); // big posts a crash interrupted (issue 11 §10)
    // Issue 11 §12: the log must be intact and reach the last head this board vouched for.
    this.#verifyLog();
    if (options.headFile !== undefined) this.#trackHead(options.headFile);
    const m = options.metrics;
    m.gauge("panoramix_board_posts", "Posts in the bulletin board log", () => this.head().seq);
  }

  /**
   * Accepts a post: verifies it, appends it, commits, and returns the signed receipt.
   * Re-submitting an accepted post returns its original receipt.
   *
   * @param post the signed post
   * @returns the receipt
   * @throws {VerificationError} bad signature or failed mix proof
   * @throws {HttpError} 403 when the author may not make this post
   * @throws {InvalidInputError} malformed body or items
   */
  async submit(post: Post): Promise<Receipt> {
    // One digest (hashed off the event loop for a big body) serves the signature and the log.
    const digest = await postDigestAsync(post);
    verifyPostDigest(post, digest);
    // Only a committed row answers a re-submission at once (the reader sees no open
    // transaction); a copy still being written waits for that commit below (issue 11 §1).
    const existing = this.#receiptFor(digest, this.#o.store.reader);
    if (existing) return existing;
    const started = performance.now();
    // Posts of one job are applied one at a time (a mix proof may take seconds to verify).
    const previous = this.#locks.get(post.job) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(() => this.#apply(post, digest));
    this.#locks.set(post.job, run);
    try {
      const receipt = await run;
      await this.#o.store.commit();
      this.#o.metrics.counter("panoramix_board_posts_accepted_total", "Posts accepted")
        .inc(1, { type: post.type });
      if (post.type === "mix") {
        this.#o.metrics.histogram(
          "panoramix_board_verify_seconds",
          "Time to verify and append a mixer's output",
        ).observe((performance.now() - started) / 1000);
      }
      this.#o.logger.log("info", "post_accepted", {
        job: post.job,
        type: post.type,
        seq: receipt.seq,
        author: toBase64Url(post.author),
      });
      return receipt;
    } catch (error) {
      this.#o.metrics.counter("panoramix_board_posts_rejected_total", "Posts rejected")
        .inc(1, { type: post.type });
      throw error;
    } finally {
      if (this.#locks.get(post.job) === run) this.#locks.delete(post.job);
    }
  }

  #verifyLog(): void {
    const rows = this.#o.store.db.prepare(
      "SELECT seq, job, type, author, time, body, signature, digest, chain, pruned FROM board_posts ORDER BY seq",
    ).iterate() as Iterable<
      Post & { seq: number; digest: Uint8Array; chain: Uint8Array; pruned: number }
    >;
    // Pruned posts are only those of jobs archived by an `archive` post (itself in the chain).
    const archived = new Set(
      (this.#o.store.db.prepare("SELECT job FROM board_posts WHERE type = 'archive'").all() as {
        job: string;
      }[]).map((r) => r.job),
    );
    let chain: Uint8Array = GENESIS;
    let expected = 1;
    for (const r of rows) {
      const where = `Board log entry ${r.seq}`;
      if (r.seq !== expected) {
        throw new IntegrityError(`${where} follows entry ${expected - 1}: entries are missing`);
      }
      // An archived job's inputs and mixes keep their digest, not their body: the chain
      // over the digests is checked, the pruned bodies cannot be.
      const digest = r.pruned ? r.digest : postDigest(r);
      if (!r.pruned && !bytesEq(digest, r.digest)) {
        throw new IntegrityError(`${where} does not match its digest: the stored post changed`);
      }
      if (
        (r.pruned && (!(r.type === "inputs" || r.type === "mix") || !archived.has(r.job))) ||
        r.digest.length !== 64
      ) {
        throw new IntegrityError(`${where} is marked pruned but is not an archived job's item`);
      }
      chain = labelledDigest(SIGNING_LABELS.chain, [chain, numberPart(r.seq), digest]);
      if (!bytesEq(chain, r.chain)) {
        throw new IntegrityError(`${where} breaks the hash chain`);
      }
      expected++;
    }
  }

  #trackHead(path: string): void {
    let recorded: Uint8Array | undefined;
    try {
      recorded = Deno.readFileSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const head = this.#head(this.#o.store.db);
    if (recorded !== undefined) {
      if (recorded.length !== 72) {
        throw new IntegrityError(`Board head file '${path}' is damaged (${recorded.length} bytes)`);
      }
      const seq = Number(new DataView(recorded.buffer, recorded.byteOffset).getBigUint64(0));
      if (head.seq < seq) {
        throw new IntegrityError(
          `Board log ends at entry ${head.seq} but entry ${seq} was acknowledged: ` +
            `${seq - head.seq} acknowledged posts are lost (truncated or restored store); ` +
            "refusing to serve and re-use their sequence numbers",
        );
      }
      const row = this.#o.store.db.prepare("SELECT chain FROM board_posts WHERE seq = ?").get(
        seq,
      ) as { chain: Uint8Array } | undefined;
      const chain = row?.chain ?? GENESIS;
      if (!bytesEq(chain, recorded.subarray(8))) {
        throw new IntegrityError(
          `Board log entry ${seq} differs from the head this board acknowledged (a fork)`,
        );
      }
    }
    const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
    let written = recorded === undefined ? -1 : head.seq;
    const write = () => {
      const now = this.#head(this.#o.store.db);
      if (now.seq === written) return;
      const bytes = new Uint8Array(72);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(now.seq));
      bytes.set(now.chain, 8);
      file.seekSync(0, Deno.SeekMode.Start);
      let offset = 0;
      while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
      file.syncDataSync();
      written = now.seq;
    };
    write();
    this.#o.store.onCommit(write);
    this.#o.store.onClose(() => file.close());
  }

  #receiptFor(digest: Uint8Array, db: DatabaseSync): Receipt | undefined {
    const row = db.prepare("SELECT seq, chain FROM board_posts WHERE digest = ?")
      .get(digest) as { seq: number; chain: Uint8Array } | undefined;
    return row ? this.#receipt(row.seq, digest, row.chain) : undefined;
  }

  #receipt(seq: number, digest: Uint8Array, chain: Uint8Array): Receipt {
    const signature = signParts(this.#o.identity, {
      label: SIGNING_LABELS.receipt,
      parts: [numberPart(seq), digest, chain],
    });
    return { seq, digest, chain, board: this.#o.identity.publicKey, signature };
  }

  #isAdmin(key: Uint8Array): boolean {
    return this.#o.admins.some((a) => bytesEq(a, key));
  }

  async #apply(post: Post, digest: Uint8Array): Promise<Receipt> {
    // Seen in the open transaction: the caller still awaits the commit before answering.
    const again = this.#receiptFor(digest, this.#o.store.db);
    if (again) return again;
    const job = this.#jobRow(post.job, this.#o.store.db);
    switch (post.type) {
      case "job":
        return this.#applyJob(post, digest, job !== undefined);
      case "inputs":
        return await this.#applyInputs(post, digest, this.#need(job, post.job));
      case "close":
        return this.#applyClose(post, digest, this.#need(job, post.job));
      case "mix":
        return await this.#applyMix(post, digest, this.#need(job, post.job));
      case "failure":
        return this.#applyFailure(post, digest, this.#need(job, post.job));
      case "election":
        return this.#applyElection(post, digest);
      case "ceremony":
        return await this.#applyCeremony(post, digest);
      case "settlement":
        return this.#applySettlement(post, digest);
      case "archive":
        return this.#applyArchive(post, digest, this.#need(job, post.job));
    }
  }

  // An admin archives a finished job: its items and the bodies of its inputs and mix
  // posts are dropped, so the store grows per job, not per item. Kept: the job row (spec,
  // state, counts), every post's seq, author, time, signature, digest and chain value,
  // and the job, close, failure and archive posts whole.
  #applyArchive(post: Post, digest: Uint8Array, job: JobRow): Receipt {
    if (!this.#isAdmin(post.author)) {
      throw new HttpError(403, "forbidden", "Only a board admin may archive a job");
    }
    readPostBody(post, "node.archive");
    if (job.state !== "done") {
      throw new ConfigError(`Job '${post.job}' is not done (state '${job.state}'); not archived`);
    }
    if (job.archived) throw new ConfigError(`Job '${post.job}' is already archived`);
    return this.#o.store.write(() => {
      const db = this.#o.store.db;
      for (const table of ["board_items", "board_input_digests", "board_submitter_inputs"]) {
        db.prepare(`DELETE FROM ${table} WHERE job = ?`).run(post.job);
      }
      db.prepare(
        "UPDATE board_posts SET body = x'', pruned = 1 WHERE job = ? AND type IN ('inputs', 'mix')",
      ).run(post.job);
      db.prepare("UPDATE board_jobs SET archived = 1 WHERE job = ?").run(post.job);
      return this.#append(post, digest);
    });
  }

  // A service's per-epoch token settlement (issue 16): any signed author may post one;
  // the issuer audits it (`panoramix token audit`). It belongs to no job.
  #applySettlement(post: Post, digest: Uint8Array): Receipt {
    if (post.job !== SETTLEMENT_JOB) {
      throw new InvalidInputError(`A settlement post must use job '${SETTLEMENT_JOB}'`);
    }
    readSettlement(readPostBody(post, SETTLEMENT_KIND), "settlement");
    return this.#o.store.write(() => this.#append(post, digest));
  }

  #applyFailure(post: Post, digest: Uint8Array, job: JobRow): Receipt {
    const body = readPostBody(post, "node.failure");
    const stage = readInteger(body.stage, "failure.stage");
    const reason = readString(body.reason, "failure.reason").slice(0, MAX_FAILURE_REASON);
    if (job.state !== "mixing" || stage !== job.stage) {
      throw new ConfigError(`Job '${post.job}' is not waiting for stage ${stage}`);
    }
    if (!bytesEq(job.spec.stages[stage]!.mixer, post.author)) {
      throw new HttpError(403, "forbidden", `Author is not the mixer of stage ${stage}`);
    }
    this.#o.logger.log("warn", "mixer_failure_posted", { job: post.job, stage, reason });
    return this.#o.store.write(() => {
      const receipt = this.#append(post, digest);
      this.#o.store.db.prepare(
        "INSERT INTO board_failures (job, stage, reason, time, seq) VALUES (?, ?, ?, ?, ?)",
      ).run(post.job, stage, reason, post.time, receipt.seq);
      return receipt;
    });
  }

  #applyElection(post: Post, digest: Uint8Array): Receipt {
    if (!this.#isAdmin(post.author)) {
      throw new HttpError(403, "forbidden", "Only a board admin may post an election");
    }
    readElectionBody(post.body);
    if (this.#electionRow(post.job) !== undefined) {
      throw new ConfigError(`Election '${post.job}' is already on this board`);
    }
    return this.#o.store.write(() => {
      this.#o.store.db.prepare("INSERT INTO board_elections (job, definition) VALUES (?, ?)")
        .run(post.job, post.body);
      return this.#append(post, digest);
    });
  }

  async #applyCeremony(post: Post, digest: Uint8Array): Promise<Receipt> {
    const row = this.#electionRow(post.job);
    if (row === undefined) {
      throw new NotFoundError(`Election '${post.job}' is not on this board`);
    }
    const election = readElectionBody(row);
    // A big decryption post is decoded a chunk at a time into one record list of shares
    // (32·w bytes a ballot, no object per share); other ceremony posts are small.
    let streamed: ElectionDecryptionRecords | undefined;
    if (
      post.body.length > BIG_POST_BYTES &&
      await readBodyKind(ReadableStream.from([post.body])) === DECRYPTION_POST_KIND
    ) {
      streamed = await readDecryptionBody(ReadableStream.from([post.body]), {
        election,
        sinks: memoryRecordSinks,
        chunk: CHECK_CHUNK,
        what: "post.body",
        name: "shares",
      });
      checkTrusteeAuthor(election, streamed.trustee, post.author);
    }
    const checked = streamed === undefined
      ? checkCeremonyBody(election, post.author, post.body)
      : { kind: DECRYPTION_POST_KIND, trustee: streamed.trustee };
    const taken = this.#o.store.db.prepare(
      "SELECT seq FROM board_ceremony WHERE job = ? AND kind = ? AND trustee = ?",
    ).get(post.job, checked.kind, checked.trustee) as { seq: number } | undefined;
    if (taken !== undefined) {
      throw new ConfigError(
        `Trustee ${checked.trustee} already posted its ${checked.kind} for '${post.job}' (post ${taken.seq})`,
      );
    }
    if (checked.kind === DECRYPTION_POST_KIND) {
      const job = this.#jobRow(post.job);
      if (job === undefined || job.state !== "done") {
        throw new ConfigError(
          `Election '${post.job}' has no finished cascade to decrypt yet${
            job ? ` (stage ${job.stage} of ${job.spec.stages.length})` : ""
          }`,
        );
      }
      // The key ceremony's posts only (earlier trustees' shares are not decoded again), and
      // the final outputs read a page at a time into one record list.
      const { ceremony } = collectCeremony(this.ceremony(post.job, election, { shares: false }));
      const decryption = streamed ??
        ("post" in checked && "decryption" in checked.post ? checked.post.decryption : undefined);
      const stages = job.spec.stages.length;
      await checkDecryptionPost(election, {
        ceremony,
        outputs: ciphertextItemRecords(
          (from, n) => this.itemPage(post.job, stages, from, n),
          job.inputs,
        ),
        decryption: decryption!,
      });
    }
    return this.#o.store.write(() => {
      const receipt = this.#append(post, digest);
      this.#o.store.db.prepare(
        "INSERT INTO board_ceremony (job, kind, trustee, seq) VALUES (?, ?, ?, ?)",
      ).run(post.job, checked.kind, checked.trustee, receipt.seq);
      return receipt;
    });
  }

  #electionRow(job: string): Uint8Array | undefined {
    const row = this.#o.store.db.prepare("SELECT definition FROM board_elections WHERE job = ?")
      .get(job) as { definition: Uint8Array } | undefined;
    return row?.definition;
  }

  /**
   * The election registered under a job id, if any.
   *
   * @param job job id
   * @returns the election, or undefined
   */
  election(job: string): CeremonyElection | undefined {
    const row = this.#electionRow(job);
    return row === undefined ? undefined : readElectionBody(row);
  }

  /**
   * The accepted ceremony posts of an election, in board order.
   *
   * @param job job id
   * @param election the registered election
   * @param options `shares: false` leaves the decryption posts out (not read nor decoded)
   * @returns the checked posts
   */
  ceremony(
    job: string,
    election: CeremonyElection,
    options: { shares?: boolean } = {},
  ): CheckedCeremonyPost[] {
    const rows = this.#o.store.db.prepare(
      "SELECT author, body FROM board_posts WHERE job = ? AND type = 'ceremony' AND " +
        "(? OR seq NOT IN (SELECT seq FROM board_ceremony WHERE job = ? AND kind = ?)) ORDER BY seq",
    ).all(job, options.shares === false ? 0 : 1, job, DECRYPTION_POST_KIND) as {
      author: Uint8Array;
      body: Uint8Array;
    }[];
    return rows.map((r) => checkCeremonyBody(election, r.author, r.body));
  }

  #need(job: JobRow | undefined, id: string): JobRow {
    if (job === undefined) throw new NotFoundError(`Job '${id}' does not exist on this board`);
    return job;
  }

  #applyJob(post: Post, digest: Uint8Array, exists: boolean): Receipt {
    if (!this.#isAdmin(post.author)) {
      throw new HttpError(403, "forbidden", "Only a board admin may create a job");
    }
    if (exists) throw new ConfigError(`Job '${post.job}' already exists`);
    const spec = readJobSpec(decodeMsgpack(post.body, "post.body"), "job");
    this.#o.backendByName(spec.backend); // an unknown backend is refused here, not at mixing
    if (spec.stages.length === 0) {
      throw new InvalidInputError("Value 'job.stages' must name at least one mixer");
    }
    return this.#o.store.write(() => {
      this.#o.store.db.prepare(
        "INSERT INTO board_jobs (job, spec, state, stage, inputs) VALUES (?, ?, 'open', 0, 0)",
      ).run(post.job, post.body);
      return this.#append(post, digest);
    });
  }

  async #applyInputs(post: Post, digest: Uint8Array, job: JobRow): Promise<Receipt> {
    if (job.state !== "open") {
      throw new ConfigError(`Job '${post.job}' is closed; it accepts no more inputs`);
    }
    const spec = job.spec;
    if (spec.submitters.length > 0 && !spec.submitters.some((k) => bytesEq(k, post.author))) {
      throw new HttpError(403, "forbidden", `Author may not submit inputs to job '${post.job}'`);
    }
    const backend = this.#o.backendByName(spec.backend);
    const db = this.#o.store.db;
    // Outsiders of an open job have a quota, checked before any item is looked at (§10).
    const quota = this.#o.maxInputsPerSubmitter ?? 0;
    const counted = quota > 0 && spec.submitters.length === 0 && !this.#isAdmin(post.author);
    const checkQuota = (posted: number) => {
      if (!counted) return;
      const row = db.prepare(
        "SELECT count FROM board_submitter_inputs WHERE job = ? AND author = ?",
      ).get(post.job, post.author) as { count: number } | undefined;
      if ((row?.count ?? 0) + posted > quota) {
        throw new HttpError(
          403,
          "quota_exceeded",
          `Submitter has posted ${row?.count ?? 0} inputs to job '${post.job}'; ` +
            `${posted} more would exceed the quota of ${quota}`,
        );
      }
    };
    // A big post waits for its turn (one at a time per node: a flood queues, it does not
    // stack), and its body is decoded in slices with yields in between (§10).
    const big = post.body.length > BIG_POST_BYTES;
    let release = big ? await this.#bigPosts.acquire() : undefined;
    const turn = async () => {
      release ??= await this.#bigPosts.acquire();
    };
    try {
      const body = big
        ? readEnvelope(
          await decodeMapInSlices(post.body, "post.body", {
            chunk: CHECK_CHUNK,
            onArray: (key, length) => key === "items" && checkQuota(length),
          }),
          "node.inputs",
          { what: "post.body" },
        )
        : readPostBody(post, "node.inputs");
      checkQuota(Array.isArray(body.items) ? body.items.length : 0);
      return await this.#storeInputs(post, digest, job, backend, body, counted, turn);
    } finally {
      release?.();
    }
  }

  async #storeInputs(
    post: Post,
    digest: Uint8Array,
    job: JobRow,
    backend: AnyMixBackend,
    body: Envelope,
    counted: boolean,
    turn: () => Promise<void>,
  ): Promise<Receipt> {
    const spec = job.spec;
    const db = this.#o.store.db;
    // Rows a failed staging could not delete (its clean-up write failed too) go first.
    if (
      db.prepare("SELECT 1 AS x FROM board_items WHERE job = ? AND stage = 0 AND idx >= ? LIMIT 1")
        .get(post.job, job.inputs) !== undefined
    ) {
      this.#discardStaged(post.job);
    }
    // The job's full input contract, so no accepted item can stop a mixer (issue 11 §5, §6).
    const first = job.inputs === 0 ? undefined : this.#items(post.job, 0, db, 1)[0];
    const seen = db.prepare("SELECT 1 AS x FROM board_input_digests WHERE job = ? AND digest = ?");
    const { encoded, digests } = await checkInputs({
      job: post.job,
      spec,
      author: post.author,
      backend,
      items: body.items,
      proofs: body.proofs,
      firstWidth: first === undefined
        ? undefined
        : (backend.input.decode(first, "first input") as { width?: number }).width,
      seen: (d) => seen.get(post.job, d) !== undefined,
    });
    const store = this.#o.store;
    const insert = db.prepare(
      "INSERT INTO board_items (job, stage, idx, item) VALUES (?, 0, ?, ?)",
    );
    const remember = db.prepare("INSERT INTO board_input_digests (job, digest) VALUES (?, ?)");
    const rows = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        insert.run(post.job, job.inputs + i, encoded[i]!);
        remember.run(post.job, digests[i]!);
      }
    };
    const finish = () => {
      if (counted) {
        db.prepare(
          "INSERT INTO board_submitter_inputs (job, author, count) VALUES (?, ?, ?) " +
            "ON CONFLICT (job, author) DO UPDATE SET count = count + excluded.count",
        ).run(post.job, post.author, encoded.length);
      }
      db.prepare("UPDATE board_jobs SET inputs = inputs + ? WHERE job = ?")
        .run(encoded.length, post.job);
      return this.#append(post, digest);
    };
    if (encoded.length <= CHECK_CHUNK) {
      return store.write(() => {
        rows(0, encoded.length);
        return finish();
      });
    }
    // A big post is staged (issue 11 §10): its items are written in chunks, each committed
    // in a short transaction of its own, at indexes from the job's input count up. Readers
    // see a job's inputs below its count only, so the staged rows stay invisible until the
    // last small write adds the count and the post (the caller's commit, then the receipt).
    // A failure deletes the staged rows; a crash leaves them to the next start, which
    // deletes them (#discardStaged).
    await turn(); // a post of many small items is staged as a big one: it waits its turn
    let written = 0;
    try {
      while (written < encoded.length) {
        // Up to STAGE_CHUNK rows or STAGE_SLICE_MS of inserting, whichever comes first (a
        // big digest index or a loaded disk gives smaller transactions, not longer stalls).
        const end = Math.min(encoded.length, written + STAGE_CHUNK);
        const started = performance.now();
        store.write(() => {
          while (written < end) {
            const to = Math.min(end, written + 100);
            rows(written, to);
            written = to;
            if (performance.now() - started > STAGE_SLICE_MS) break;
          }
        });
        await store.commit();
      }
      return store.write(finish);
    } catch (error) {
      try {
        store.write(() => {
          db.prepare("DELETE FROM board_items WHERE job = ? AND stage = 0 AND idx >= ?")
            .run(post.job, job.inputs);
          const forget = db.prepare(
            "DELETE FROM board_input_digests WHERE job = ? AND digest = ?",
          );
          for (let i = 0; i < written; i++) forget.run(post.job, digests[i]!);
        });
      } catch { /* the transaction is gone: what is staged is deleted at the next start */ }
      throw error;
    }
  }

  /**
   * Deletes the staged items of big posts a crash interrupted (rows at or above their job's
   * input count, never acknowledged nor shown) and their duplicate-detection digests.
   *
   * @param only one job (a failed clean-up found later), else every job (at start)
   */
  #discardStaged(only?: string): void {
    const store = this.#o.store;
    const jobs = store.db.prepare(
      "SELECT job, inputs FROM board_jobs j WHERE (? IS NULL OR job = ?) AND EXISTS " +
        "(SELECT 1 FROM board_items i WHERE i.job = j.job AND i.stage = 0 AND i.idx >= j.inputs)",
    ).all(only ?? null, only ?? null) as { job: string; inputs: number }[];
    for (const { job, inputs } of jobs) {
      const discarded = store.write(() => {
        const staged = store.db.prepare(
          "SELECT item FROM board_items WHERE job = ? AND stage = 0 AND idx >= ?",
        ).iterate(job, inputs) as Iterable<{ item: Uint8Array }>;
        const forget = store.db.prepare(
          "DELETE FROM board_input_digests WHERE job = ? AND digest = ?",
        );
        let n = 0;
        for (const { item } of staged) {
          forget.run(job, inputDigest(item));
          n++;
        }
        store.db.prepare("DELETE FROM board_items WHERE job = ? AND stage = 0 AND idx >= ?")
          .run(job, inputs);
        return n;
      });
      if (only === undefined) store.commitNow(); // at start; later, with the next commit
      this.#o.logger.log("warn", "board_staged_inputs_discarded", { job, items: discarded });
    }
  }

  #applyClose(post: Post, digest: Uint8Array, job: JobRow): Receipt {
    if (!this.#isAdmin(post.author)) {
      throw new HttpError(403, "forbidden", "Only a board admin may close a job");
    }
    readPostBody(post, "node.close");
    if (job.state !== "open") throw new ConfigError(`Job '${post.job}' is already closed`);
    const backend = this.#o.backendByName(job.spec.backend);
    assertBatchSize(job.inputs, Math.max(backend.minBatchSize, job.spec.minInputs));
    return this.#o.store.write(() => {
      this.#o.store.db.prepare("UPDATE board_jobs SET state = 'mixing' WHERE job = ?").run(
        post.job,
      );
      this.#o.store.db.prepare("INSERT INTO board_waiting (job, mixer, stage) VALUES (?, ?, 0)")
        .run(post.job, job.spec.stages[0]!.mixer);
      return this.#append(post, digest);
    });
  }

  async #applyMix(post: Post, digest: Uint8Array, job: JobRow): Promise<Receipt> {
    // A mix in parts (mix_parts.ts): its parts, then its final post of version 2.
    const head = await readBodyHead(ReadableStream.from([post.body]));
    if (head.kind === MIX_PART_KIND) return this.#applyMixPart(post, digest, job);
    if (head.kind === "node.mix" && head.v === MIX_PARTS_VERSION) {
      return await this.#applyMixFinal(post, digest, job);
    }
    // The stage and author are checked (from the body's head) before the body is decoded.
    // (A body whose stage follows its outputs is taken as the job's current stage, then
    // checked against it once decoded.)
    this.#checkMixStage(
      post,
      job,
      head.stage === undefined ? job.stage : readInteger(head.stage, "mix.stage"),
      "mix",
    );
    // A re-encryption mix is decoded a chunk at a time into record lists (64 bytes a
    // ciphertext element, 32 a proof element), not into an object per ciphertext; no count
    // it claims may exceed what the body's bytes can hold, nor differ from the stage's inputs.
    const records = job.spec.backend === "reencrypt"
      ? await readMixBody(ReadableStream.from([post.body]), {
        sinks: memoryRecordSinks,
        chunk: CHECK_CHUNK,
        what: "mix",
        stage: job.stage,
        count: job.inputs,
        maxBytes: post.body.length,
      })
      : undefined;
    const body = records === undefined ? readPostBody(post, "node.mix") : undefined;
    const stage = job.stage;
    const spec = job.spec;
    const stageSpec = spec.stages[stage]!;
    // Parts already posted for this stage wait for the final post that names them: a mix in
    // one post would leave them in the log, and readers refuse such a log.
    const held = this.#mixParts(post.job, stage).parts.length;
    if (held > 0) {
      throw new ConfigError(
        `Job '${post.job}' holds ${held} parts of a mix of stage ${stage}: it expects the final post that names them, not a mix in one post`,
      );
    }
    const backend = this.#o.backendByName(spec.backend);
    let outputs: unknown[] = [];
    // The mixer's proof is checked before anything is appended (issue 5 §2).
    try {
      if (records !== undefined) {
        // The stage's inputs read a page at a time into one record list; the proof checked
        // on the records (the backend's verify, without its lists of objects).
        const inputs = ciphertextItemRecords(
          (from, n) => itemPage(this.#o.store.db, post.job, stage, from, n),
          job.inputs,
        );
        await verifyShuffleRecords({
          publicKey: decodePublicKey(stageSpec.key, "key"),
          inputs,
          outputs: records.outputs,
          ...(spec.context === undefined ? {} : { context: spec.context }),
        }, records.proof);
      } else {
        const inputs = this.#items(post.job, stage, this.#o.store.db).map((v, i) =>
          backend.input.decode(v, `stage ${stage} input ${i + 1}`)
        );
        const outputValues = readArray(body!.outputs, "mix.outputs", { maxLength: 10_000_000 });
        outputs = outputValues.map((v, i) => backend.output.decode(v, `mix.outputs[${i}]`));
        const proof = readRecord(body!.proof, "mix.proof") as Envelope;
        await backend.verify(inputs, outputs, proof, {
          key: stageSpec.key,
          ...(spec.context === undefined ? {} : { context: spec.context }),
        });
      }
    } catch (error) {
      this.#mixRejected(post, stage, error);
    }
    // Each output stored in its canonical encoding, encoded as it is inserted.
    if (records !== undefined) return this.#acceptMix(post, digest, stage, records.outputs);
    return this.#o.store.write(() => {
      const current = this.#jobRow(post.job, this.#o.store.db)!;
      if (current.stage !== stage) throw new ConfigError(`Stage ${stage} was already mixed`);
      const insert = this.#o.store.db.prepare(
        "INSERT INTO board_items (job, stage, idx, item) VALUES (?, ?, ?, ?)",
      );
      for (let i = 0; i < outputs.length; i++) {
        insert.run(post.job, stage + 1, i, encodeMsgpack(backend.output.encode(outputs[i])));
      }
      return this.#advance(post, digest, stage);
    });
  }

  /** Stores a checked re-encryption mix's outputs (read a chunk at a time) and advances. */
  #acceptMix(post: Post, digest: Uint8Array, stage: number, outputs: RecordSource): Receipt {
    return this.#o.store.write(() => {
      const current = this.#jobRow(post.job, this.#o.store.db)!;
      if (current.stage !== stage) throw new ConfigError(`Stage ${stage} was already mixed`);
      const insert = this.#o.store.db.prepare(
        "INSERT INTO board_items (job, stage, idx, item) VALUES (?, ?, ?, ?)",
      );
      for (let lo = 0; lo < outputs.count; lo += CHECK_CHUNK) {
        const hi = Math.min(outputs.count, lo + CHECK_CHUNK);
        readCiphertexts(outputs, lo, hi).forEach((ct, i) =>
          insert.run(post.job, stage + 1, lo + i, encodeMsgpack(encodeCiphertext(ct)))
        );
      }
      return this.#advance(post, digest, stage);
    });
  }

  /** Moves a job past a stage and appends the mix post (inside a write). */
  #advance(post: Post, digest: Uint8Array, stage: number): Receipt {
    const spec = this.#jobRow(post.job, this.#o.store.db)!.spec;
    const done = stage + 1 === spec.stages.length;
    this.#o.store.db.prepare("UPDATE board_jobs SET stage = ?, state = ? WHERE job = ?")
      .run(stage + 1, done ? "done" : "mixing", post.job);
    if (done) this.#o.store.db.prepare("DELETE FROM board_waiting WHERE job = ?").run(post.job);
    else {
      this.#o.store.db.prepare("UPDATE board_waiting SET mixer = ?, stage = ? WHERE job = ?")
        .run(spec.stages[stage + 1]!.mixer, stage + 1, post.job);
    }
    return this.#append(post, digest);
  }

  /** Logs a mix whose check failed and throws its error (any other as a VerificationError). */
  #mixRejected(post: Post, stage: number, error: unknown): never {
    this.#o.logger.log("warn", "mix_rejected", {
      job: post.job,
      stage,
      error: (error as Error).message,
    });
    if (error instanceof VerificationError || error instanceof InvalidInputError) throw error;
    throw new VerificationError(`Mix proof of stage ${stage} does not verify`, { cause: error });
  }

  /** The stage and author rules every mix post follows (before its content is used). */
  #checkMixStage(post: Post, job: JobRow, stage: number, what: string): void {
    if (job.state !== "mixing" || stage !== job.stage) {
      throw new ConfigError(
        `Job '${post.job}' expects ${
          job.state === "mixing" ? `stage ${job.stage}` : `no mix (state '${job.state}')`
        }, got a ${what} for stage ${stage}`,
      );
    }
    if (!bytesEq(job.spec.stages[stage]!.mixer, post.author)) {
      throw new HttpError(403, "forbidden", `Author is not the mixer of stage ${stage}`);
    }
  }

  /** The parts of a stage's mix this board holds, in order. */
  #mixParts(job: string, stage: number): MixPartsState {
    const rows = this.#o.store.db.prepare(
      "SELECT digest, count, total, width, author FROM board_mix_parts WHERE job = ? AND stage = ? ORDER BY part",
    ).all(job, stage) as unknown as {
      digest: Uint8Array;
      count: number;
      total: number;
      width: number;
      author: Uint8Array;
    }[];
    return new MixPartsState(stage, rows);
  }

  // One part of a re-encryption mix posted in parts (mix_parts.ts): its size, stage, author
  // and place (next part, at the next output) checked; its content is checked with the
  // whole mix when the final post arrives.
  #applyMixPart(post: Post, digest: Uint8Array, job: JobRow): Receipt {
    const limit = this.#o.maxMixPartBytes ?? DEFAULT_MAX_MIX_PART_BYTES;
    if (post.body.length > limit) {
      throw new InvalidInputError(
        `Mix part of ${post.body.length} bytes is over this board's limit of ${limit} bytes a part`,
      );
    }
    if (job.spec.backend !== "reencrypt") {
      throw new InvalidInputError(
        `Job '${post.job}' (backend '${job.spec.backend}') takes no mix parts: only re-encryption mixes`,
      );
    }
    const part = readMixPart(decodeMsgpack(post.body, "mix part"), "mix part");
    this.#checkMixStage(post, job, part.stage, `part of a mix`);
    // The whole mix's announced size must be the stage's: a held part announcing another
    // would wedge the stage (every later part and final post must agree with part 0).
    const width = job.spec.width ??
      ciphertextItemRecords(
          (from, n) => itemPage(this.#o.store.db, post.job, part.stage, from, n),
          1,
        ).recordBytes / (2 * ELEMENT_BYTES);
    if (part.total !== job.inputs || part.width !== width) {
      throw new VerificationError(
        `mix part ${part.part} of stage ${part.stage} announces ${part.total} outputs of width ${part.width}; the stage has ${job.inputs} inputs of width ${width}`,
      );
    }
    const state = this.#mixParts(post.job, part.stage);
    state.checkNext(part, post.author, "mix part");
    state.take(part, part.count, digest, post.author, "mix part");
    return this.#o.store.write(() => {
      this.#o.store.db.prepare(
        "INSERT INTO board_mix_parts (job, stage, part, digest, count, total, width, author) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(
        post.job,
        part.stage,
        part.part,
        digest,
        part.count,
        part.total,
        part.width,
        post.author,
      );
      return this.#append(post, digest);
    });
  }

  // The final post of a mix in parts: it must name exactly the parts held (digests and
  // counts, in order); the parts are read one body at a time into spool files, and the
  // proof checked on those record lists as for a mix in one post.
  async #applyMixFinal(post: Post, digest: Uint8Array, job: JobRow): Promise<Receipt> {
    if (job.spec.backend !== "reencrypt") {
      throw new InvalidInputError(
        `Job '${post.job}' (backend '${job.spec.backend}') takes no mix in parts: only re-encryption mixes`,
      );
    }
    const final = readMixFinal(decodeMsgpack(post.body, "mix"), "mix");
    this.#checkMixStage(post, job, final.stage, "mix");
    const stage = final.stage;
    const state = this.#mixParts(post.job, stage);
    state.checkFinal(final, post.author, "mix");
    const spool = await Spool.create();
    try {
      const { count: n, width: w } = final.proof;
      const outputs = spool.sinks("outputs", n, 2 * ELEMENT_BYTES * w);
      const lists = Object.fromEntries(
        SHUFFLE_PROOF_LISTS.map((l) => [l, spool.sinks(l, n, ELEMENT_BYTES)]),
      ) as Record<ShuffleProofList, ReturnType<typeof spool.sinks>>;
      const body = this.#o.store.db.prepare("SELECT body FROM board_posts WHERE digest = ?");
      for (const [i, held] of state.parts.entries()) {
        const row = body.get(held.digest) as { body: Uint8Array } | undefined;
        const part = readMixPart(decodeMsgpack(row!.body, "mix part"), `mix part ${i}`);
        outputs.write(part.offset, part.outputs);
        for (const l of SHUFFLE_PROOF_LISTS) lists[l].write(part.offset, part.lists[l]);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const records = {
        outputs: outputs.finish(),
        proof: mixPartsProof(
          final,
          Object.fromEntries(SHUFFLE_PROOF_LISTS.map((l) => [l, lists[l].finish()])) as Record<
            ShuffleProofList,
            RecordSource
          >,
        ),
      };
      const stageSpec = job.spec.stages[stage]!;
      try {
        await verifyShuffleRecords({
          publicKey: decodePublicKey(stageSpec.key, "key"),
          inputs: ciphertextItemRecords(
            (from, k) => itemPage(this.#o.store.db, post.job, stage, from, k),
            job.inputs,
            spool.sinks,
          ),
          outputs: records.outputs,
          ...(job.spec.context === undefined ? {} : { context: job.spec.context }),
        }, records.proof);
      } catch (error) {
        this.#mixRejected(post, stage, error);
      }
      return this.#acceptMix(post, digest, stage, records.outputs);
    } finally {
      spool.close();
    }
  }

  #append(post: Post, digest: Uint8Array): Receipt {
    const head = this.#head(this.#o.store.db);
    const seq = head.seq + 1;
    // Hash chain: chain_n = H("panoramix/node/board-chain/v1", chain_{n-1}, seq, digest_n).
    const chain = labelledDigest(SIGNING_LABELS.chain, [head.chain, numberPart(seq), digest]);
    this.#o.store.db.prepare(
      "INSERT INTO board_posts (seq, job, type, author, time, body, signature, digest, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      seq,
      post.job,
      post.type,
      post.author,
      post.time,
      post.body,
      post.signature,
      digest,
      chain,
    );
    return this.#receipt(seq, digest, chain);
  }

  /**
   * The last committed sequence number and chain value (seq 0 and 64 zero bytes when empty).
   *
   * @returns the head
   */
  head(): { seq: number; chain: Uint8Array } {
    return this.#head(this.#o.store.reader);
  }

  #head(db: DatabaseSync): { seq: number; chain: Uint8Array } {
    const row = db.prepare(
      "SELECT seq, chain FROM board_posts ORDER BY seq DESC LIMIT 1",
    ).get() as { seq: number; chain: Uint8Array } | undefined;
    return row ?? { seq: 0, chain: GENESIS };
  }

  /**
   * The signed head: what a reader compares with other readers to detect forks.
   *
   * @returns receipt-shaped head of the log
   */
  signedHead(): Receipt {
    const { seq, chain } = this.head();
    return this.#receipt(seq, new Uint8Array(64), chain);
  }

  /**
   * Posts after a sequence number, oldest first, as envelopes with `seq` and `chain`.
   *
   * @param after return posts with a larger seq
   * @param limit most posts returned
   * @param bodyLimit when given, a post whose body is longer comes without it, with
   *   `bodyBytes` (its length) and `digest` (the post digest) instead
   * @returns the posts
   */
  posts(after: number, limit: number, bodyLimit?: number): Envelope[] {
    // With a body limit, a longer body is left out (SQLite's length() of a blob reads no
    // content): the page stays small and the reader fetches that body as a stream.
    const rows = this.#o.store.reader.prepare(
      "SELECT seq, job, type, author, time, signature, digest, chain, pruned, length(body) AS " +
        "bodyBytes, CASE WHEN ? IS NOT NULL AND length(body) > ? THEN NULL ELSE body END AS body " +
        "FROM board_posts WHERE seq > ? ORDER BY seq LIMIT ?",
    ).all(bodyLimit ?? null, bodyLimit ?? null, after, limit) as unknown as (Omit<Post, "body"> & {
      body: Uint8Array | null;
      bodyBytes: number;
      seq: number;
      digest: Uint8Array;
      chain: Uint8Array;
      pruned: number;
    })[];
    return rows.map((r) => {
      if (!r.pruned && r.body !== null) {
        return {
          ...postToEnvelope({
            job: r.job,
            type: r.type,
            author: r.author,
            time: r.time,
            body: r.body,
            signature: r.signature,
          }),
          seq: r.seq,
          chain: r.chain,
        };
      }
      const head = {
        v: 1,
        kind: "node.post",
        job: r.job,
        type: r.type,
        author: r.author,
        time: r.time,
        signature: r.signature,
      };
      return r.pruned
        // An archived job's item post: no body; its digest keeps the chain checkable.
        ? { ...head, pruned: true, digest: r.digest, seq: r.seq, chain: r.chain }
        // A body over the limit (`GET /v1/board/posts/:seq/body` streams it): its length and
        // the post's digest, which the chain covers and the streamed body must hash to.
        : { ...head, bodyBytes: r.bodyBytes, digest: r.digest, seq: r.seq, chain: r.chain };
    });
  }

  /**
   * The body of the post at a sequence number (what `posts` leaves out over a body limit).
   * The row is read whole: a body is at most 64 MiB (`MAX_POST_BODY`, posts.ts).
   *
   * @param seq the post's sequence number
   * @returns the body bytes
   * @throws {NotFoundError} when no post has that number
   * @throws {HttpError} 410 when the post was pruned (its job archived)
   */
  postBody(seq: number): Uint8Array {
    const row = this.#o.store.reader.prepare(
      "SELECT body, pruned FROM board_posts WHERE seq = ?",
    ).get(seq) as { body: Uint8Array; pruned: number } | undefined;
    if (row === undefined) throw new NotFoundError(`Board post ${seq} does not exist`);
    if (row.pruned) {
      throw new HttpError(410, "archived", `Board post ${seq} was pruned (its job is archived)`);
    }
    return row.body;
  }

  /**
   * The items of a job at a stage: 0 = accepted inputs, k = outputs of stage k - 1.
   *
   * @param job job id
   * @param stage stage number
   * @returns decoded item envelopes in order
   */
  items(job: string, stage: number): unknown[] {
    return this.#items(job, stage, this.#o.store.reader);
  }

  /**
   * One page of a stage's committed items (raw msgpack), for streamed reads.
   *
   * @param job job id
   * @param stage stage number
   * @param fromIdx first item index
   * @param limit most items
   * @returns the rows in index order
   */
  itemPage(
    job: string,
    stage: number,
    fromIdx: number,
    limit: number,
  ): { idx: number; item: Uint8Array }[] {
    return itemPage(this.#o.store.reader, job, stage, fromIdx, limit);
  }

  #items(job: string, stage: number, db: DatabaseSync, limit = -1): unknown[] {
    // Stage 0 below the job's input count only: rows above it are a big post being staged.
    const rows = db.prepare(
      "SELECT item FROM board_items WHERE job = ? AND stage = ? AND " +
        "(? > 0 OR idx < (SELECT inputs FROM board_jobs WHERE job = ?)) ORDER BY idx LIMIT ?",
    ).all(job, stage, stage, job, limit) as { item: Uint8Array }[];
    return rows.map((r, i) => decodeMsgpack(r.item, `item ${i}`));
  }

  /**
   * A job's summary.
   *
   * @param job job id
   * @returns the summary
   * @throws {NotFoundError} when the job does not exist
   */
  job(job: string): JobSummary {
    const row = this.#need(this.#jobRow(job), job);
    return this.#withFailure(summary(row));
  }

  #withFailure(s: JobSummary): JobSummary {
    if (s.state !== "mixing") return s;
    const f = this.#o.store.db.prepare(
      "SELECT reason, time FROM board_failures WHERE job = ? AND stage = ? ORDER BY seq DESC LIMIT 1",
    ).get(s.job, s.stage) as { reason: string; time: number } | undefined;
    return f === undefined ? s : { ...s, failure: { stage: s.stage, ...f } };
  }

  /**
   * All jobs, oldest first.
   *
   * @returns their summaries
   */
  jobs(): JobSummary[] {
    const rows = this.#o.store.reader.prepare("SELECT job FROM board_jobs ORDER BY rowid")
      .all() as {
        job: string;
      }[];
    return rows.map((r) => this.#withFailure(summary(this.#jobRow(r.job)!)));
  }

  /**
   * The jobs whose next stage is a mixer's, oldest first: an indexed query, so a mixer's
   * poll costs the same however many jobs the board holds.
   *
   * @param mixer the mixer's identity key
   * @param limit most jobs returned
   * @returns their summaries
   */
  waitingFor(mixer: Uint8Array, limit = 100): JobSummary[] {
    const rows = this.#o.store.reader.prepare(
      "SELECT job FROM board_waiting WHERE mixer = ? ORDER BY rowid LIMIT ?",
    ).all(mixer, limit) as { job: string }[];
    return rows.flatMap((r) => {
      const row = this.#jobRow(r.job);
      return row === undefined ? [] : [this.#withFailure(summary(row))];
    });
  }

  /**
   * The spec of a job.
   *
   * @param job job id
   * @returns the spec
   * @throws {NotFoundError} when the job does not exist
   */
  spec(job: string): JobSpec {
    return this.#need(this.#jobRow(job), job).spec;
  }

  #jobRow(job: string, db: DatabaseSync = this.#o.store.reader): JobRow | undefined {
    const row = db.prepare(
      "SELECT job, spec, state, stage, inputs, archived FROM board_jobs WHERE job = ?",
    ).get(job) as
      | {
        job: string;
        spec: Uint8Array;
        state: JobState;
        stage: number;
        inputs: number;
        archived: number;
      }
      | undefined;
    if (row === undefined) return undefined;
    return {
      ...row,
      archived: row.archived === 1,
      spec: readJobSpec(decodeMsgpack(row.spec, "job spec"), "job"),
    };
  }
}

interface JobRow {
  job: string;
  spec: JobSpec;
  state: JobState;
  stage: number;
  inputs: number;
  archived: boolean;
}

function summary(row: JobRow): JobSummary {
  return {
    job: row.job,
    backend: row.spec.backend,
    state: row.state,
    inputs: row.inputs,
    stage: row.stage,
    stages: row.spec.stages.length,
    mixers: row.spec.stages.map((s) => toBase64Url(s.mixer)),
    verification: VERIFICATION[row.spec.backend] ?? "unverifiable",
    ...(VERIFICATION[row.spec.backend] ? {} : { warning: UNVERIFIABLE_WARNING }),
    ...(row.archived ? { archived: true } : {}),
  };
}

/**
 * Receipt as a JSON-view-ready envelope.
 *
 * @param receipt the receipt
 * @returns the envelope
 * @example
 * ```ts ignore
 * receiptToEnvelope(await board.submit(post));
 * ```
 */
export function receiptToEnvelope(receipt: Receipt): Envelope {
  return { v: 1, kind: "node.receipt", ...receipt };
}

/**
 * Decodes a receipt (msgpack or JSON view) without checking its signature.
 *
 * @param value decoded receipt envelope
 * @param what names it in errors
 * @returns the receipt
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts ignore
 * const receipt = readReceipt(await client.submitPost(post), "receipt");
 * ```
 */
export function readReceipt(value: unknown, what: string): Receipt {
  const env = readEnvelope(value, "node.receipt", { what });
  return {
    seq: readInteger(env.seq, `${what}.seq`),
    digest: readBytes(env.digest, `${what}.digest`, { length: 64 }),
    chain: readBytes(env.chain, `${what}.chain`, { length: 64 }),
    board: readBytes(env.board, `${what}.board`, { length: 32 }),
    signature: readBytes(env.signature, `${what}.signature`, { length: 64 }),
  };
}

/**
 * Checks a receipt: signed by the expected board, for this post.
 *
 * @param receipt the receipt
 * @param expected the board's identity key and the post it acknowledges
 * @throws {VerificationError} when the board, the digest or the signature does not match
 * @example
 * ```ts ignore
 * verifyReceipt(readReceipt(response, "receipt"), { boardKey, post });
 * ```
 */
export function verifyReceipt(
  receipt: Receipt,
  expected: { boardKey: Uint8Array; post: Post },
): void {
  if (!bytesEq(receipt.board, expected.boardKey)) {
    throw new VerificationError("Receipt is signed by another board than expected");
  }
  if (!bytesEq(receipt.digest, postDigest(expected.post))) {
    throw new VerificationError("Receipt acknowledges another post");
  }
  verifyParts(receipt.board, {
    label: SIGNING_LABELS.receipt,
    parts: [numberPart(receipt.seq), receipt.digest, receipt.chain],
    signature: receipt.signature,
    what: `receipt ${receipt.seq}`,
  });
}
