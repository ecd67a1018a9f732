/**
 * The survey collector role: runs surveys in rounds and takes their reports
 * through a decryption cascade on the bulletin board, never in the clear.
 *
 * 1. Devices seal each report as a Sphinx packet to the survey's cascade and post
 *    it to `POST /v1/surveys/:survey/reports`. {@linkcode admitSurveySubmission}
 *    decides what is admitted; the packets are committed to SQLite before the 202.
 * 2. Once `batchReports` packets wait, the collector forms a batch: a cascade job
 *    (`decrypt` backend) on the board with the packets as inputs, closed at once.
 *    The signed posts are stored with the batch before they are sent, so after a
 *    crash the same posts are re-sent (the board answers re-sent posts with their
 *    original receipts).
 * 3. When the mixers are done, the collector reads the final stage (the shuffled,
 *    decrypted reports), counts them into the round's counters and forgets the
 *    batch's packets, all in one transaction.
 * 4. A round's estimates, intervals and central (ε, δ) are published on
 *    `GET /v1/surveys/:survey/rounds` only when the round meets the survey's target.
 *
 * A report counts in the round during which its batch is formed; reports that wait
 * at a round's end are carried into the next round, never dropped.
 *
 * @module
 */

import { PollLoop } from "./poll_loop.ts";
import {
  decodeSphinxCascade,
  DECRYPT_KINDS,
  decryptBackend,
  encodeSphinxCascade,
  SPHINX_HEADER_SIZE,
  type SphinxCascade,
} from "../../backends/decrypt/mod.ts";
import { fromBase64Url, toBase64Url, toHex } from "../../core/bytes.ts";
import { decodeMsgpack, encodeMsgpack, readEnvelope, toJsonView } from "../../core/envelope.ts";
import { ConfigError, InvalidInputError, NotFoundError } from "../../core/errors.ts";
import { readArray, readBytes } from "../../core/fields.ts";
import {
  readSurveyDefinition,
  SURVEY_SUBMISSION_KIND,
  SURVEY_SUBMISSION_MAX_ITEMS,
  type SurveyAggregateSnapshot,
  SurveyAggregator,
  type SurveyDefinition,
  type SurveyEstimate,
  surveyMinBatchSize,
  surveyPlan,
} from "../../plugins/survey/mod.ts";
import { readAnyEnvelopeFile } from "../files.ts";
import { NodeClient, NodeHttpError } from "./client.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import type { Identity } from "./identity.ts";
import type { Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";
import type { NodeService, NodeServiceContext } from "./node.ts";
import { createPost, jobBody, type Post, postToEnvelope, readPost } from "./posts.ts";
import { decodeBody, type Route, type RouteRequest } from "./server.ts";
import type { Store } from "./storage.ts";
import type { SurveyRunConfig } from "./survey_config.ts";
import { type ServiceGate, serviceGate } from "./token_gate.ts";

/** A survey as the collector runs it. */
export interface CollectedSurvey {
  /** The definition. */
  definition: SurveyDefinition;
  /** The cascade reports are sealed to. */
  cascade: SphinxCascade;
  /** The cascade's mixer node identities, in order. */
  mixers: Uint8Array[];
  /** Round length in ms. */
  roundMs: number;
  /** Reports per batch. */
  batchReports: number;
  /** Largest batch. */
  maxBatchReports: number;
  /** Accountant's minimum respondents per batch for the target. */
  minBatchSize: number;
}

/**
 * Loads a configured survey: its definition, cascade and batch sizes.
 *
 * @param run the config entry
 * @returns the survey
 * @throws {ConfigError} when files do not fit each other
 * @example
 * ```ts ignore
 * const survey = await loadCollectedSurvey(config.survey.surveys[0]!);
 * ```
 */
export async function loadCollectedSurvey(run: SurveyRunConfig): Promise<CollectedSurvey> {
  let definition: SurveyDefinition;
  try {
    definition = readSurveyDefinition(
      JSON.parse(await Deno.readTextFile(run.definition)),
      run.definition,
    );
  } catch (error) {
    throw new ConfigError(`Survey definition '${run.definition}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  const cascade = decodeSphinxCascade(
    await readAnyEnvelopeFile(run.cascade, new ReadableStream()),
    run.cascade,
  );
  if (cascade.mixers.length !== run.mixers.length) {
    throw new ConfigError(
      `Survey '${definition.id}': the cascade has ${cascade.mixers.length} mixers, 'mixers' lists ${run.mixers.length}`,
    );
  }
  const minBatchSize = surveyMinBatchSize(definition);
  const batchReports = run.batchReports || minBatchSize * definition.questions.length;
  return {
    definition,
    cascade,
    mixers: run.mixers.map((k) => fromBase64Url(k, "survey.mixers")),
    roundMs: run.roundSeconds * 1000,
    batchReports,
    maxBatchReports: Math.max(run.maxBatchReports || 4 * batchReports, batchReports),
    minBatchSize,
  };
}

/**
 * Report admission: everything a submission must pass before the collector
 * stores it: a `survey.submission` envelope of 1 to 10,000 `decrypt.packet`
 * items, each exactly one packet of the survey's cascade. When the collector
 * requires tokens ("survey.reports" in `tokens.services`), one token admits one
 * request, which may then carry one respondent's reports of a round only:
 * `perRespondent` bounds the items to the survey's number of questions. The route
 * checks the body first and spends the token after (a malformed request spends none).
 *
 * @param survey the survey the submission is for
 * @param req the HTTP request (headers, body)
 * @param options `perRespondent`: at most one report per question (tokens on)
 * @returns the admitted packets
 * @throws {InvalidInputError} naming what is wrong
 * @example
 * ```ts ignore
 * const packets = admitSurveySubmission(survey, req);
 * ```
 */
export function admitSurveySubmission(
  survey: CollectedSurvey,
  req: RouteRequest,
  options: { perRespondent?: boolean } = {},
): Uint8Array[] {
  const env = readEnvelope(decodeBody(req), SURVEY_SUBMISSION_KIND, { what: "submission" });
  const items = readArray(env.items, "submission.items", {
    minLength: 1,
    maxLength: SURVEY_SUBMISSION_MAX_ITEMS,
  });
  const questions = survey.definition.questions.length;
  if (options.perRespondent && items.length > questions) {
    throw new InvalidInputError(
      `Submission holds ${items.length} reports; this collector takes one token per request and one respondent's reports of a round per token (at most ${questions}, one per question)`,
    );
  }
  const length = SPHINX_HEADER_SIZE + survey.cascade.payloadSize;
  return items.map((value, i) => {
    const item = readEnvelope(value, DECRYPT_KINDS.packet, { what: `submission.items[${i}]` });
    return readBytes(item.packet, `submission.items[${i}].packet`, { length });
  });
}

/** A round as published. */
export interface SurveyRoundView {
  /** Round index (time / round length). */
  round: number;
  /** Round start and end (ms since the epoch). */
  start: number;
  /** End of the round. */
  end: number;
  /** Reports counted per question. */
  reports: number[];
  /** Mixed batches counted. */
  batches: number;
  /** When the counters last changed (ms). */
  updated: number;
  /** Whether the estimates are published (the round meets the target). */
  published: boolean;
  /** Central privacy of the round's estimates. */
  privacy: {
    epsilon: number;
    delta: number;
    target: { epsilon: number; delta: number };
    meetsTarget: boolean;
    text: string;
  };
  /** Estimates with intervals, only when published. */
  estimate?: SurveyEstimate;
}

const BATCH_POSTS_CHUNK = 2000;

/** Options of {@linkcode SurveyCollector}. */
export interface SurveyCollectorOptions {
  /** Storage. */
  store: Store;
  /** The collector's identity (a board admin: it creates and closes the jobs). */
  identity: Identity;
  /** The board URL (known once the node listens). */
  boardUrl: () => string;
  /** Surveys to run. */
  surveys: CollectedSurvey[];
  /** Pump interval in ms. */
  pollIntervalMs: number;
  /** Logger. */
  logger: Logger;
  /** Metrics. */
  metrics: MetricsRegistry;
  /** Clock (default Date.now). */
  now?: () => number;
  /**
   * Most reports being stored at once (received, their COMMIT not yet done); beyond it a
   * submission is answered `503 busy` with Retry-After (default 20,000).
   */
  maxAcceptQueue?: number;
  /**
   * Most reports acknowledged and not yet counted (waiting for a batch or being mixed);
   * beyond it a submission is answered `503 busy` with Retry-After (default 5,000,000).
   */
  maxPendingReports?: number;
}

/** Seconds a device is asked to wait when the collector is busy (Retry-After). */
export const SURVEY_BUSY_RETRY_SECONDS = 1;

/**
 * The collector: stores admitted packets, moves them through cascade jobs, counts
 * the mixed reports per round and publishes estimates.
 *
 * @example
 * ```ts ignore
 * const collector = new SurveyCollector({ store, identity, boardUrl, surveys, pollIntervalMs: 250, logger, metrics });
 * collector.start();
 * await collector.stop();
 * ```
 */
export class SurveyCollector {
  #o: SurveyCollectorOptions;
  #byId = new Map<string, CollectedSurvey>();
  #poll: PollLoop;
  #views = new Map<string, { key: string; view: SurveyRoundView }>();
  #now: () => number;
  /** Reports of submissions being stored (their COMMIT not yet done). */
  #accepting = 0;
  /** Per survey: reports waiting for a batch (kept in memory, read from the store once). */
  #waitingCount = new Map<string, number>();
  /** Reports acknowledged and not yet counted, all surveys (undefined: read from the store). */
  #pendingCount: number | undefined;

  /**
   * Creates the collector and its tables.
   *
   * @param options storage, identity, board, surveys, logger, metrics
   */
  constructor(options: SurveyCollectorOptions) {
    this.#poll = new PollLoop({
      intervalMs: options.pollIntervalMs,
      step: () => this.tick(),
      onError: (error) => options.logger.log("warn", "survey_pump_failed", { error }),
    });
    this.#o = options;
    this.#now = options.now ?? Date.now;
    for (const s of options.surveys) {
      if (this.#byId.has(s.definition.id)) {
        throw new ConfigError(`Survey '${s.definition.id}' is configured twice`);
      }
      this.#byId.set(s.definition.id, s);
    }
    const { store } = options;
    store.write(() =>
      store.db.exec(`
      CREATE TABLE IF NOT EXISTS survey_pending (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, survey TEXT NOT NULL, received INTEGER NOT NULL,
        packet BLOB NOT NULL, batch TEXT);
      CREATE INDEX IF NOT EXISTS survey_pending_batch ON survey_pending (survey, batch, seq);
      CREATE TABLE IF NOT EXISTS survey_batches (
        batch TEXT PRIMARY KEY, survey TEXT NOT NULL, round INTEGER NOT NULL, state TEXT NOT NULL,
        items INTEGER NOT NULL, posts BLOB NOT NULL, formed INTEGER NOT NULL,
        first_received INTEGER NOT NULL, counted INTEGER, accepted INTEGER, rejected INTEGER);
      CREATE TABLE IF NOT EXISTS survey_rounds (
        survey TEXT NOT NULL, round INTEGER NOT NULL, snapshot TEXT NOT NULL,
        batches INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (survey, round));`)
    );
    // Stores written before batches were archived on the board get the column.
    store.write(() => {
      const columns = store.db.prepare("PRAGMA table_info(survey_batches)").all() as {
        name: string;
      }[];
      if (!columns.some((c) => c.name === "archived")) {
        store.db.exec("ALTER TABLE survey_batches ADD COLUMN archived INTEGER");
      }
    });
    const m = options.metrics;
    m.gauge(
      "panoramix_survey_pending_reports",
      "Reports acknowledged, not yet counted",
      () => (store.db.prepare("SELECT count(*) AS n FROM survey_pending").get() as { n: number }).n,
    );
  }

  /** The surveys run by this collector. */
  get surveys(): CollectedSurvey[] {
    return [...this.#byId.values()];
  }

  /**
   * A survey by id.
   *
   * @param id survey id
   * @returns the survey
   * @throws {NotFoundError} when this collector does not run it
   */
  survey(id: string): CollectedSurvey {
    const s = this.#byId.get(id);
    if (!s) throw new NotFoundError(`Survey '${id}' is not run by this collector`);
    return s;
  }

  /**
   * The round open now.
   *
   * @param survey the survey
   * @returns its index and bounds
   */
  currentRound(survey: CollectedSurvey): { index: number; start: number; end: number } {
    const index = Math.floor(this.#now() / survey.roundMs);
    return { index, start: index * survey.roundMs, end: (index + 1) * survey.roundMs };
  }

  /**
   * Stores admitted packets durably (the caller answers only after this resolves).
   *
   * @param survey the survey
   * @param packets admitted packets
   * @returns the current round
   */
  async accept(survey: CollectedSurvey, packets: readonly Uint8Array[]): Promise<number> {
    const { store } = this.#o;
    const busy = (what: string) =>
      new HttpError(503, "busy", `The collector ${what}; nothing was stored, retry later`, {
        "retry-after": String(SURVEY_BUSY_RETRY_SECONDS),
      });
    if (this.#accepting + packets.length > (this.#o.maxAcceptQueue ?? 20_000)) {
      this.#refused(survey, packets.length);
      throw busy("is storing too many reports at once");
    }
    if (this.#pending() + packets.length > (this.#o.maxPendingReports ?? 5_000_000)) {
      this.#refused(survey, packets.length);
      throw busy("holds too many reports not yet mixed");
    }
    const now = this.#now();
    // The counts before the insert (read from the store once, they would include it after).
    const waiting = this.#waiting(survey);
    const pending = this.#pending();
    // Group commit: every submission received while a COMMIT is pending shares it.
    store.write(() => {
      const insert = store.prepared(
        "INSERT INTO survey_pending (survey, received, packet) VALUES (?, ?, ?)",
      );
      for (const p of packets) insert.run(survey.definition.id, now, p);
    });
    const id = survey.definition.id;
    this.#waitingCount.set(id, waiting + packets.length);
    this.#pendingCount = pending + packets.length;
    this.#accepting += packets.length;
    try {
      await store.commit();
    } catch (error) {
      // Not stored: the counts are read again from the store.
      this.#waitingCount.clear();
      this.#pendingCount = undefined;
      throw error;
    } finally {
      this.#accepting -= packets.length;
    }
    this.#o.metrics.counter("panoramix_survey_reports_received_total", "Reports acknowledged")
      .inc(packets.length, { survey: id });
    if (this.#waiting(survey) >= survey.batchReports) this.#poll.wake();
    return this.currentRound(survey).index;
  }

  #refused(survey: CollectedSurvey, n: number): void {
    this.#o.metrics.counter(
      "panoramix_survey_reports_busy_total",
      "Reports answered 503 busy (not stored; the device retries)",
    ).inc(n, { survey: survey.definition.id });
  }

  #waiting(survey: CollectedSurvey): number {
    const id = survey.definition.id;
    let n = this.#waitingCount.get(id);
    if (n === undefined) {
      n = (this.#o.store.db.prepare(
        "SELECT count(*) AS n FROM survey_pending WHERE survey = ? AND batch IS NULL",
      ).get(id) as { n: number }).n;
      this.#waitingCount.set(id, n);
    }
    return n;
  }

  #pending(): number {
    this.#pendingCount ??=
      (this.#o.store.db.prepare("SELECT count(*) AS n FROM survey_pending").get() as { n: number })
        .n;
    return this.#pendingCount;
  }

  /**
   * Batch work (forming, posting, counting) yields to acceptance: while submissions are
   * being stored, it waits (up to `maxMs`), so a burst of reports is answered first and
   * the batches catch up after.
   */
  async #yieldToAccepts(maxMs = 500): Promise<void> {
    const until = performance.now() + maxMs;
    while (this.#accepting > 0 && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Starts polling. */
  start(): void {
    this.#poll.start();
  }

  /** Stops after the current step (drains in-flight work). */
  stop(): Promise<void> {
    return this.#poll.stop();
  }

  /**
   * One step: forms full batches, sends unsent ones, counts finished ones.
   *
   * @returns batches counted in this step
   */
  async tick(): Promise<number> {
    let counted = 0;
    for (const survey of this.#byId.values()) {
      while (this.#waiting(survey) >= survey.batchReports) {
        await this.#yieldToAccepts();
        await this.#formBatch(survey);
      }
      const rows = this.#o.store.db.prepare(
        "SELECT batch, state FROM survey_batches WHERE survey = ? AND state IN ('posting', 'mixing') ORDER BY formed",
      ).all(survey.definition.id) as { batch: string; state: string }[];
      for (const row of rows) {
        await this.#yieldToAccepts();
        if (row.state === "posting") await this.#send(row.batch);
        await this.#yieldToAccepts();
        if (this.#stateOf(row.batch) === "refused") continue;
        if (await this.#countIfMixed(survey, row.batch)) {
          counted++;
          await this.#archive(row.batch);
        }
      }
      // Counted batches whose archive post failed earlier (board down) are retried.
      const unarchived = this.#o.store.db.prepare(
        "SELECT batch FROM survey_batches WHERE survey = ? AND state = 'counted' AND archived IS NULL ORDER BY formed LIMIT 20",
      ).all(survey.definition.id) as { batch: string }[];
      for (const row of unarchived) await this.#archive(row.batch);
    }
    return counted;
  }

  /**
   * Once a batch is counted (committed), its job on the board is archived: the board drops
   * the packets and each mixer's outputs, keeping the posts' digests and chain. Best effort:
   * a failure is logged and retried at the next step.
   */
  async #archive(batch: string): Promise<void> {
    const { store } = this.#o;
    const client = new NodeClient(this.#o.boardUrl(), {
      identity: this.#o.identity,
      timeoutMs: 60_000,
    });
    try {
      await client.submitPost(createPost(this.#o.identity, {
        job: batch,
        type: "archive",
        body: { v: 1, kind: "node.archive" },
      }));
    } catch (error) {
      // 409: already archived (an earlier answer was lost).
      if (!(error instanceof NodeHttpError && error.status === 409)) {
        this.#o.logger.log("warn", "survey_archive_failed", { batch, error });
        return;
      }
    }
    store.write(() =>
      store.db.prepare("UPDATE survey_batches SET archived = ? WHERE batch = ?").run(
        this.#now(),
        batch,
      )
    );
    await store.commit();
  }

  async #formBatch(survey: CollectedSurvey): Promise<void> {
    const { store, identity } = this.#o;
    const rows = store.db.prepare(
      "SELECT seq, packet, received FROM survey_pending WHERE survey = ? AND batch IS NULL ORDER BY seq LIMIT ?",
    ).all(survey.definition.id, survey.maxBatchReports) as {
      seq: number;
      packet: Uint8Array;
      received: number;
    }[];
    // Never a batch below batchReports (the accountant's minimum): the count is checked
    // against the store itself.
    if (rows.length < survey.batchReports) {
      this.#waitingCount.delete(survey.definition.id);
      return;
    }
    const round = this.currentRound(survey).index;
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(6)));
    const job = `sv.${survey.definition.id.replace(/:/g, "_").slice(0, 32)}.${round}.${nonce}`;
    const key = encodeSphinxCascade(survey.cascade);
    const posts: Post[] = [
      createPost(identity, {
        job,
        type: "job",
        body: jobBody({
          backend: decryptBackend.name,
          stages: survey.mixers.map((mixer) => ({ mixer, key })),
          minInputs: Math.max(decryptBackend.minBatchSize, 1),
          submitters: [identity.publicKey],
        }),
      }),
    ];
    // A device that retries after a lost answer may have sent a packet twice. The board
    // refuses a job holding two copies of an input, so the batch takes one copy; the other
    // is counted as rejected. (A copy in a later batch is dropped by the cascade as a replay.)
    const seen = new Set<string>();
    const distinct = rows.filter((r) => {
      const key = toBase64Url(r.packet);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    for (let i = 0; i < distinct.length; i += BATCH_POSTS_CHUNK) {
      posts.push(createPost(identity, {
        job,
        type: "inputs",
        body: {
          v: 1,
          kind: "node.inputs",
          items: distinct.slice(i, i + BATCH_POSTS_CHUNK).map((r) =>
            decryptBackend.input.encode({ type: "packet", packet: r.packet })
          ),
        },
      }));
    }
    posts.push(createPost(identity, { job, type: "close", body: { v: 1, kind: "node.close" } }));
    const firstReceived = Math.min(...rows.map((r) => r.received));
    store.write(() => {
      store.db.prepare(
        "INSERT INTO survey_batches (batch, survey, round, state, items, posts, formed, first_received) VALUES (?, ?, ?, 'posting', ?, ?, ?, ?)",
      ).run(
        job,
        survey.definition.id,
        round,
        rows.length,
        encodeMsgpack(posts.map(postToEnvelope)),
        this.#now(),
        firstReceived,
      );
      store.db.prepare(
        "UPDATE survey_pending SET batch = ? WHERE survey = ? AND batch IS NULL AND seq <= ?",
      ).run(job, survey.definition.id, rows[rows.length - 1]!.seq);
    });
    this.#waitingCount.delete(survey.definition.id);
    await store.commit();
    this.#o.logger.log("info", "survey_batch_formed", {
      survey: survey.definition.id,
      batch: job,
      round,
      items: rows.length,
    });
  }

  async #send(batch: string): Promise<void> {
    const { store } = this.#o;
    const row = store.db.prepare("SELECT posts FROM survey_batches WHERE batch = ?").get(batch) as {
      posts: Uint8Array;
    };
    const posts = (decodeMsgpack(row.posts, "stored posts") as unknown[]).map((p, i) =>
      readPost(p, `stored post ${i}`)
    );
    const client = new NodeClient(this.#o.boardUrl(), {
      identity: this.#o.identity,
      timeoutMs: 60_000,
    });
    for (let k = 0; k < posts.length; k++) {
      for (;;) {
        const post = posts[k]!;
        try {
          await client.submitPost(post);
          break;
        } catch (error) {
          if (!(error instanceof NodeHttpError)) throw error;
          const refusal = error.status >= 400 && error.status < 500 && error.status !== 408 &&
            error.status !== 429;
          // The board refused one input it names (e.g. a copy of an input already in the job):
          // that report is refused (logged, counted as rejected); the others go in a new post.
          const named = /inputs\.items\[(\d+)\]/.exec(error.message);
          if (post.type === "inputs" && refusal && named) {
            const body = readEnvelope(decodeMsgpack(post.body, "inputs post"), "node.inputs");
            const items = body.items as unknown[];
            const bad = Number(named[1]);
            if (bad < items.length && items.length > 1) {
              this.#refusedReports(batch, 1, error.message);
              posts[k] = createPost(this.#o.identity, {
                job: post.job,
                type: "inputs",
                body: { ...body, items: items.filter((_, i) => i !== bad) },
              });
              // A restarted collector re-sends the new post, not the refused one.
              store.write(() =>
                store.db.prepare("UPDATE survey_batches SET posts = ? WHERE batch = ?")
                  .run(encodeMsgpack(posts.map(postToEnvelope)), batch)
              );
              await store.commit();
              continue;
            }
          }
          // 409 after a crash: the board is past this post (e.g. the job is already closed).
          if (error.status === 409) {
            this.#o.logger.log("warn", "survey_post_conflict", {
              batch,
              type: post.type,
              error: error.message,
            });
            break;
          }
          if (refusal) {
            // Refused for good: the batch is abandoned, its reports counted as refused, so
            // the batches after it go on (a batch retried forever would hold them all up).
            await this.#abandon(batch, error.message);
            return;
          }
          throw error;
        }
      }
    }
    store.write(() =>
      store.db.prepare("UPDATE survey_batches SET state = 'mixing' WHERE batch = ?").run(batch)
    );
    await store.commit();
    this.#o.logger.log("info", "survey_batch_sent", { batch, posts: posts.length });
  }

  #refusedReports(batch: string, n: number, reason: string): void {
    const survey = this.#o.store.db.prepare("SELECT survey FROM survey_batches WHERE batch = ?")
      .get(batch) as { survey: string };
    this.#o.metrics.counter(
      "panoramix_survey_reports_refused_total",
      "Acknowledged reports the board refused as a batch's inputs (logged)",
    ).inc(n, { survey: survey.survey });
    this.#o.logger.log("error", "survey_reports_refused", { batch, reports: n, error: reason });
  }

  #stateOf(batch: string): string {
    return (this.#o.store.db.prepare("SELECT state FROM survey_batches WHERE batch = ?")
      .get(batch) as { state: string }).state;
  }

  async #abandon(batch: string, reason: string): Promise<void> {
    const { store } = this.#o;
    const row = store.db.prepare("SELECT items FROM survey_batches WHERE batch = ?").get(batch) as {
      items: number;
    };
    store.write(() => {
      store.db.prepare(
        "UPDATE survey_batches SET state = 'refused', counted = ?, accepted = 0, rejected = ?, posts = x'' WHERE batch = ?",
      ).run(this.#now(), row.items, batch);
      store.db.prepare("DELETE FROM survey_pending WHERE batch = ?").run(batch);
    });
    this.#pendingCount = undefined;
    await store.commit();
    this.#refusedReports(batch, row.items, reason);
  }

  async #countIfMixed(survey: CollectedSurvey, batch: string): Promise<boolean> {
    const { store, metrics } = this.#o;
    // No retry waits inside a step of the daemon (a refused read is tried at the next one).
    const client = new NodeClient(this.#o.boardUrl(), { timeoutMs: 60_000, retryForMs: 0 });
    const summary = await client.getJson(`/v1/board/jobs/${encodeURIComponent(batch)}`) as {
      state: string;
      stages: number;
    };
    if (summary.state !== "done") return false;
    const { items } = await client.getJson(
      `/v1/board/jobs/${encodeURIComponent(batch)}/items?stage=${summary.stages}`,
    ) as { items: unknown[] };
    const payloads: Uint8Array[] = [];
    for (const [i, value] of items.entries()) {
      const item = decryptBackend.output.decode(value, `mixed item ${i + 1}`);
      if (item.type === "plaintext") payloads.push(item.message);
    }
    const meta = store.db.prepare(
      "SELECT round, first_received, items FROM survey_batches WHERE batch = ?",
    ).get(batch) as { round: number; first_received: number; items: number };
    const id = survey.definition.id;
    const now = this.#now();
    let accepted = 0;
    let rejected = 0;
    store.write(() => {
      const current = store.db.prepare(
        "SELECT snapshot, batches FROM survey_rounds WHERE survey = ? AND round = ?",
      ).get(id, meta.round) as { snapshot: string; batches: number } | undefined;
      const aggregator = current
        ? SurveyAggregator.restore(survey.definition, JSON.parse(current.snapshot))
        : new SurveyAggregator(survey.definition);
      const result = aggregator.ingestBatch(payloads);
      accepted = result.accepted;
      rejected = result.rejected.length + (meta.items - payloads.length);
      store.db.prepare(
        "INSERT OR REPLACE INTO survey_rounds (survey, round, snapshot, batches, updated) VALUES (?, ?, ?, ?, ?)",
      ).run(
        id,
        meta.round,
        JSON.stringify(aggregator.snapshot()),
        (current?.batches ?? 0) + 1,
        now,
      );
      store.db.prepare(
        "UPDATE survey_batches SET state = 'counted', counted = ?, accepted = ?, rejected = ?, posts = x'' WHERE batch = ?",
      ).run(now, accepted, rejected, batch);
      store.db.prepare("DELETE FROM survey_pending WHERE batch = ?").run(batch);
    });
    this.#pendingCount = undefined;
    await store.commit();
    metrics.counter("panoramix_survey_reports_counted_total", "Mixed reports counted")
      .inc(accepted, { survey: id });
    metrics.counter("panoramix_survey_reports_rejected_total", "Reports dropped or rejected")
      .inc(rejected, { survey: id });
    metrics.histogram(
      "panoramix_survey_batch_delay_seconds",
      "From the first report of a batch to its counting",
    ).observe((now - meta.first_received) / 1000);
    this.#o.logger.log("info", "survey_batch_counted", {
      survey: id,
      batch,
      round: meta.round,
      accepted,
      rejected,
    });
    return true;
  }

  /**
   * Rounds with counts, newest last.
   *
   * @param survey the survey
   * @returns their published views
   */
  rounds(survey: CollectedSurvey): SurveyRoundView[] {
    const rows = this.#o.store.db.prepare(
      "SELECT round, snapshot, batches, updated FROM survey_rounds WHERE survey = ? ORDER BY round",
    ).all(survey.definition.id) as {
      round: number;
      snapshot: string;
      batches: number;
      updated: number;
    }[];
    return rows.map((r) => this.#view(survey, r));
  }

  /**
   * One round's view.
   *
   * @param survey the survey
   * @param round the round index
   * @returns its view (zero reports when nothing was counted yet)
   */
  round(survey: CollectedSurvey, round: number): SurveyRoundView {
    const row = this.#o.store.db.prepare(
      "SELECT round, snapshot, batches, updated FROM survey_rounds WHERE survey = ? AND round = ?",
    ).get(survey.definition.id, round) as
      | { round: number; snapshot: string; batches: number; updated: number }
      | undefined;
    return this.#view(
      survey,
      row ??
        {
          round,
          snapshot: JSON.stringify(new SurveyAggregator(survey.definition).snapshot()),
          batches: 0,
          updated: 0,
        },
    );
  }

  /**
   * Estimates over every round together (all counted reports as one population).
   *
   * @param survey the survey
   * @returns the pooled view (round = -1)
   */
  pooled(survey: CollectedSurvey): SurveyRoundView {
    const rows = this.#o.store.db.prepare(
      "SELECT snapshot, batches, updated FROM survey_rounds WHERE survey = ?",
    ).all(survey.definition.id) as { snapshot: string; batches: number; updated: number }[];
    const agg = SurveyAggregator.restore(
      survey.definition,
      ...rows.map((r) => JSON.parse(r.snapshot) as SurveyAggregateSnapshot),
    );
    return this.#viewOf(survey, {
      round: -1,
      agg,
      batches: rows.reduce((a, r) => a + r.batches, 0),
      updated: Math.max(0, ...rows.map((r) => r.updated)),
    });
  }

  /**
   * Reports acknowledged and not yet counted.
   *
   * @param survey the survey
   * @returns waiting for a batch, and in batches being mixed
   */
  pending(survey: CollectedSurvey): { waiting: number; mixing: number } {
    const row = this.#o.store.db.prepare(
      "SELECT sum(batch IS NULL) AS waiting, sum(batch IS NOT NULL) AS mixing FROM survey_pending WHERE survey = ?",
    ).get(survey.definition.id) as { waiting: number | null; mixing: number | null };
    return { waiting: row.waiting ?? 0, mixing: row.mixing ?? 0 };
  }

  #view(
    survey: CollectedSurvey,
    r: { round: number; snapshot: string; batches: number; updated: number },
  ): SurveyRoundView {
    const key = `${survey.definition.id}/${r.round}`;
    const stamp = `${r.batches}/${r.updated}`;
    const cached = this.#views.get(key);
    if (cached?.key === stamp) return cached.view;
    const agg = SurveyAggregator.restore(survey.definition, JSON.parse(r.snapshot));
    const view = this.#viewOf(survey, {
      round: r.round,
      agg,
      batches: r.batches,
      updated: r.updated,
    });
    this.#views.set(key, { key: stamp, view });
    return view;
  }

  #viewOf(
    survey: CollectedSurvey,
    r: { round: number; agg: SurveyAggregator; batches: number; updated: number },
  ): SurveyRoundView {
    const reports = r.agg.counts;
    const privacy = reports.some((n) => n > 0) ? r.agg.privacy() : undefined;
    const meets = privacy?.meetsTarget ?? false;
    return {
      round: r.round,
      start: r.round < 0 ? 0 : r.round * survey.roundMs,
      end: r.round < 0 ? 0 : (r.round + 1) * survey.roundMs,
      reports,
      batches: r.batches,
      updated: r.updated,
      published: meets,
      privacy: {
        epsilon: privacy?.epsilon ?? Infinity,
        delta: privacy?.delta ?? survey.definition.target.delta,
        target: survey.definition.target,
        meetsTarget: meets,
        text: privacy?.text ?? "no reports counted yet",
      },
      ...(meets ? { estimate: r.agg.estimate() } : {}),
    };
  }
}

function finite(view: SurveyRoundView): unknown {
  // JSON has no Infinity: an unreached ε is null.
  return {
    ...view,
    privacy: {
      ...view.privacy,
      epsilon: Number.isFinite(view.privacy.epsilon) ? view.privacy.epsilon : null,
    },
  };
}

/**
 * The collector's HTTP routes.
 *
 * `GET /v1/surveys`, `GET /v1/surveys/:survey` (definition, plan, transport, round),
 * `POST /v1/surveys/:survey/reports` (a `survey.submission`; 202 once on disk; with
 * tokens, 401 `WWW-Authenticate: PrivateToken` until one valid unspent token comes),
 * `GET /v1/surveys/:survey/rounds` (every round), `GET /v1/surveys/:survey/rounds/:round`
 * (`current` for the open round), `GET /v1/surveys/:survey/estimate` (all rounds pooled).
 *
 * @param collector the collector
 * @param options `tokens`: the "survey.reports" gate when reports need a token
 * @returns the routes
 * @example
 * ```ts ignore
 * routes.push(...surveyRoutes(collector));
 * ```
 */
export function surveyCollectorRoutes(
  collector: SurveyCollector,
  options: { tokens?: ServiceGate | undefined } = {},
): Route[] {
  const info = (s: CollectedSurvey) => ({
    id: s.definition.id,
    definition: { v: 1, kind: "survey.definition", ...s.definition },
    plan: surveyPlan(s.definition).map((p) => ({
      question: p.question.id,
      type: p.question.type,
      epsilon0: p.question.epsilon0,
      mechanism: p.mechanism,
    })),
    roundSeconds: s.roundMs / 1000,
    round: collector.currentRound(s),
    batchReports: s.batchReports,
    minBatchSize: s.minBatchSize,
    pending: collector.pending(s),
    transport: { backend: "decrypt", cascade: toJsonView(encodeSphinxCascade(s.cascade)) },
    tokenRequired: options.tokens !== undefined,
  });
  return [
    {
      method: "GET",
      path: "/v1/surveys",
      handle: () => jsonResponse({ surveys: collector.surveys.map(info) }),
    },
    {
      method: "GET",
      path: "/v1/surveys/:survey",
      handle: (req) => jsonResponse(info(collector.survey(req.params.survey!))),
    },
    {
      method: "POST",
      path: "/v1/surveys/:survey/reports",
      async handle(req) {
        const survey = collector.survey(req.params.survey!);
        const packets = admitSurveySubmission(survey, req, { perRespondent: !!options.tokens });
        // The spent token is committed before the packets are stored and acknowledged.
        if (options.tokens) await options.tokens.admit(req.request);
        const round = await collector.accept(survey, packets);
        return jsonResponse({ accepted: packets.length, round }, { status: 202 });
      },
    },
    {
      method: "GET",
      path: "/v1/surveys/:survey/rounds",
      handle(req) {
        const survey = collector.survey(req.params.survey!);
        return jsonResponse({
          survey: survey.definition.id,
          current: collector.currentRound(survey),
          pending: collector.pending(survey),
          rounds: collector.rounds(survey).map(finite),
        });
      },
    },
    {
      method: "GET",
      path: "/v1/surveys/:survey/rounds/:round",
      handle(req) {
        const survey = collector.survey(req.params.survey!);
        const raw = req.params.round!;
        const round = raw === "current" ? collector.currentRound(survey).index : Number(raw);
        if (!Number.isSafeInteger(round) || round < 0) {
          throw new HttpError(400, "invalid_input", `Round '${raw}' must be an index or 'current'`);
        }
        return jsonResponse(finite(collector.round(survey, round)));
      },
    },
    {
      method: "GET",
      path: "/v1/surveys/:survey/estimate",
      handle(req) {
        const survey = collector.survey(req.params.survey!);
        return jsonResponse(finite(collector.pooled(survey)));
      },
    },
  ];
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`Config option '${name}' must be an integer ≥ 1, got ${String(value)}`);
  }
  return value;
}

/**
 * The survey role as a node service.
 *
 * @param ctx the node's context
 * @param boardUrl the board URL (this node's own when it is the board)
 * @returns the service
 * @throws {ConfigError} when no survey is configured or a file does not fit
 * @example
 * ```ts ignore
 * services.push(await surveyService(ctx, () => boardUrl));
 * ```
 */
export async function surveyService(
  ctx: NodeServiceContext,
  boardUrl: () => string,
): Promise<NodeService> {
  const runs = ctx.config.survey.surveys;
  if (runs.length === 0) {
    throw new ConfigError("Config option 'survey.surveys' must list at least one survey");
  }
  // The WAL fsync off the JavaScript thread (acknowledgements still wait for it), so a
  // burst's submissions are parsed while the last group commit syncs; not with the board
  // or directory role, which vouch for committed rows (Store.deferSync).
  if (!ctx.config.roles.includes("board") && !ctx.config.roles.includes("directory")) {
    ctx.store.deferSync();
  }
  const collector = new SurveyCollector({
    store: ctx.store,
    identity: ctx.identity,
    boardUrl,
    surveys: await Promise.all(runs.map(loadCollectedSurvey)),
    pollIntervalMs: ctx.config.survey.pollIntervalMs,
    maxAcceptQueue: positive(ctx.config.survey.maxAcceptQueue, "survey.maxAcceptQueue"),
    maxPendingReports: positive(ctx.config.survey.maxPendingReports, "survey.maxPendingReports"),
    logger: ctx.logger.child({ role: "survey" }),
    metrics: ctx.metrics,
  });
  return {
    routes: surveyCollectorRoutes(collector, {
      tokens: serviceGate(ctx.tokenGate, ctx.config, "survey.reports"),
    }),
    start: () => collector.start(),
    stop: () => collector.stop(),
  };
}
