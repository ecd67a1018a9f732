/**
 * The cascade mixer role: poll the bulletin board for a job whose next stage is
 * this node's, take that stage's batch, mix it with the job's backend, and post
 * the outputs with the proof. The signed post is committed locally before it is
 * sent, so after a crash the node re-sends the same mix instead of producing a
 * second, different shuffle of the same batch (two published shuffles of one batch
 * would let observers intersect them).
 *
 * Memory: the stage's batch is read a page of 10,000 items at a time (one page of JSON
 * held). A re-encryption stage is written a page at a time into a spool file of 64·w-byte
 * records, shuffled and proven into spool files (`shuffleAndProveRecords` with the spool's
 * sinks), and posted from them: in one post when it fits in one part, else in parts of at
 * most `mixPartItems` outputs (mix_parts.ts), each part's body written from the files and
 * stored, then a final post that names them; a part's body is the most held at once.
 * Another backend's stage is decoded and mixed as lists of objects (its `mix`) and posted
 * as one message (at most 64 MiB).
 *
 * @module
 */

import { PollLoop } from "./poll_loop.ts";
import { joinBytes, toBase64Url } from "../../core/bytes.ts";
import { decodeMsgpack, encodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { IntegrityError, InvalidInputError, PanoramixError } from "../../core/errors.ts";
import type { RecordSource } from "../../core/records.ts";
import { msgpackChunks, StreamedArray, StreamedMap } from "../../core/msgpack_stream.ts";
import {
  Ciphertext,
  decodeCiphertext,
  decodePublicKey,
  encodeCiphertext,
  encodeShuffleProof,
  shuffleAndProveRecords,
  shuffleProofFromRecords,
  type ShuffleProofRecords,
} from "../../backends/reencrypt/mod.ts";
import { readArray, readRecord } from "../../core/fields.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import { NodeClient, NodeHttpError } from "./client.ts";
import type { Identity } from "./identity.ts";
import type { Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";
import {
  createPost,
  createPostFromBody,
  type Post,
  postDigest,
  postToEnvelope,
  readJobSpec,
  readPost,
} from "./posts.ts";
import type { Store } from "./storage.ts";
import type { JobSummary } from "./board.ts";
import type { PreparedBackend } from "./backends.ts";
import { mixFinalBody, mixPartBody, mixPartItems } from "./mix_parts.ts";
import { RecordFile, Spool } from "../record_file.ts";

/** Items per request when a mixer reads its stage's batch from the board (default). */
const INPUT_PAGE = 10_000;

/** Options of {@linkcode CascadeMixer}. */
export interface CascadeMixerOptions {
  /** Storage. */
  store: Store;
  /** The node identity (must be a stage's mixer in the job). */
  identity: Identity;
  /** Board URL. */
  boardUrl: string;
  /** Poll interval in ms. */
  pollIntervalMs: number;
  /** Backend lookup. */
  backendByName: (name: string) => AnyMixBackend;
  /** Prepares a backend for one mix (default: the looked-up backend, nothing to persist). */
  prepareBackend?: (name: string) => PreparedBackend;
  /** Loads this node's own mixing key for a backend, or undefined to use the stage key. */
  mixKey: (backend: string) => Promise<Envelope | undefined>;
  /** Logger. */
  logger: Logger;
  /** Metrics. */
  metrics: MetricsRegistry;
  /** Items per request when reading a stage's batch (default 10,000). */
  inputPage?: number;
  /**
   * Outputs per part of a re-encryption mix posted in parts (0 or absent: as many as fit in
   * 16 MiB); a mix of at most this many outputs goes in one post.
   */
  mixPartItems?: number;
}

/**
 * The cascade mixer loop.
 *
 * @example
 * ```ts ignore
 * const mixer = new CascadeMixer({ store, identity, boardUrl, pollIntervalMs: 500, ... });
 * mixer.start();
 * await mixer.stop();
 * ```
 */
export class CascadeMixer {
  #o: CascadeMixerOptions;
  #client: NodeClient;
  #poll: PollLoop;
  #me: string;
  #reported = new Map<string, string>();
  /** Failed stages: retried after an exponential back-off, not at every poll (issue 11 §5). */
  #failed = new Map<string, { count: number; until: number }>();

  /**

   * Creates the instance.
   *
   * @param options storage, identity, board, backends, keys, logger, metrics
   */
  constructor(options: CascadeMixerOptions) {
    this.#poll = new PollLoop({
      intervalMs: options.pollIntervalMs,
      step: () => this.tick(),
      onError: (error) => options.logger.log("warn", "cascade_poll_failed", { error }),
    });
    this.#o = options;
    // A refused read is tried again at the next poll: no wait inside a step, which a stop
    // awaits.
    this.#client = new NodeClient(options.boardUrl, { identity: options.identity, retryForMs: 0 });
    this.#me = toBase64Url(options.identity.publicKey);
    options.store.write(() =>
      options.store.db.exec(
        "CREATE TABLE IF NOT EXISTS cascade_results (job TEXT NOT NULL, stage INTEGER NOT NULL, post BLOB NOT NULL, sent INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job, stage));" +
          "CREATE TABLE IF NOT EXISTS cascade_parts (job TEXT NOT NULL, stage INTEGER NOT NULL, part INTEGER NOT NULL, post BLOB NOT NULL, PRIMARY KEY (job, stage, part))",
      )
    );
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
   * One poll: mixes every stage that is waiting for this node.
   *
   * @returns the number of stages mixed
   */
  async tick(): Promise<number> {
    // Only the jobs waiting on this mixer (an indexed query on the board).
    const { jobs } = await this.#client.getJson(
      `/v1/board/jobs?mixer=${this.#me}&limit=100`,
    ) as { jobs: JobSummary[] };
    let mixed = 0;
    for (const job of jobs) {
      if (this.#poll.stopping) break;
      if (job.state !== "mixing" || job.mixers[job.stage] !== this.#me) continue;
      const id = `${job.job}\u0000${job.stage}`;
      const failed = this.#failed.get(id);
      if (failed !== undefined && Date.now() < failed.until) continue;
      try {
        await this.#mixStage(job.job, job.stage);
        this.#failed.delete(id);
        mixed++;
      } catch (error) {
        const count = (failed?.count ?? 0) + 1;
        const wait = Math.min(60_000, this.#o.pollIntervalMs * 2 ** Math.min(count, 16));
        this.#failed.set(id, { count, until: Date.now() + wait });
        // One job this node cannot mix (unknown backend, missing key) must not stall the others.
        this.#o.logger.log("error", "cascade_stage_failed", {
          job: job.job,
          stage: job.stage,
          error,
          failures: count,
          retryInMs: wait,
        });
        await this.#reportFailure(job.job, job.stage, error);
      }
    }
    return mixed;
  }

  /**
   * Posts why this node cannot mix a stage, once per job, stage and reason, so that the
   * job's admin sees it on the board (`vote tally`, `GET /v1/board/jobs/:job`).
   */
  async #reportFailure(jobId: string, stage: number, error: unknown): Promise<void> {
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
    const key = `${jobId}\u0000${stage}`;
    if (this.#reported.get(key) === reason) return;
    try {
      await this.#client.submitPost(createPost(this.#o.identity, {
        job: jobId,
        type: "failure",
        body: { v: 1, kind: "node.failure", stage, reason },
      }));
      this.#reported.set(key, reason);
    } catch (postError) {
      this.#o.logger.log("warn", "cascade_failure_not_posted", {
        job: jobId,
        stage,
        error: postError,
      });
    }
  }

  async #mixStage(jobId: string, stage: number): Promise<void> {
    const { store, logger, metrics } = this.#o;
    const saved = store.db.prepare(
      "SELECT post FROM cascade_results WHERE job = ? AND stage = ?",
    ).get(jobId, stage) as { post: Uint8Array } | undefined;
    let post: Post;
    if (saved) {
      if (saved.post.length === 0) {
        throw new IntegrityError(
          `This node already mixed and posted stage ${stage} of job '${jobId}'; ` +
            "the board asks for it again (restored board?): refusing to mix it twice",
        );
      }
      post = readPost(decodeMsgpack(saved.post, "saved mix"), "saved mix");
      logger.log("info", "cascade_resend", { job: jobId, stage });
    } else {
      const started = performance.now();
      // Parts of a mix whose final post was never committed (a crash while writing them)
      // were never sent: they are dropped, and the stage mixed again.
      store.write(() =>
        store.db.prepare("DELETE FROM cascade_parts WHERE job = ? AND stage = ?").run(jobId, stage)
      );
      const detail = await this.#client.getJson(`/v1/board/jobs/${encodeURIComponent(jobId)}`) as {
        spec: unknown;
      };
      const spec = readJobSpec(detail.spec, "job spec");
      const prepared = this.#o.prepareBackend?.(spec.backend) ??
        { backend: this.#o.backendByName(spec.backend), persist: () => {} };
      const backend = prepared.backend;
      const key = (await this.#o.mixKey(spec.backend)) ?? spec.stages[stage]!.key;
      const fetchPage = async (offset: number, limit: number) => {
        const { items } = await this.#client.getJson(
          `/v1/board/jobs/${
            encodeURIComponent(jobId)
          }/items?stage=${stage}&offset=${offset}&limit=${limit}`,
        ) as { items: unknown };
        return readArray(items, "items", { maxLength: limit });
      };
      const pageSize = this.#o.inputPage ?? INPUT_PAGE;
      const context = spec.context === undefined ? {} : { context: spec.context };
      let body: Uint8Array;
      let items: number;
      let fetched: number;
      if (backend.name === "reencrypt") {
        // A re-encryption stage on record lists in spool files: the batch written a page at
        // a time into one file of 64·w-byte records, shuffled and proven into files, and the
        // post (or its parts) written from them (no object per ciphertext).
        const spool = await Spool.create();
        try {
          const { file } = spool.openFile("stage-inputs");
          let count = 0;
          let size = 0;
          for (;;) {
            const page = await fetchPage(count, pageSize);
            const cts = page.map((v, i) =>
              decodeCiphertext(v, `stage ${stage} input ${count + i + 1}`)
            );
            size ||= cts[0]?.bytes.length ?? 0;
            const bytes = new Uint8Array(cts.length * size);
            cts.forEach((c, i) => {
              if (c.bytes.length !== size) {
                throw new InvalidInputError(
                  `Stage ${stage} input ${count + i + 1} has another width than the first`,
                );
              }
              bytes.set(c.bytes, i * size);
            });
            let at = 0;
            while (at < bytes.length) at += file.writeSync(bytes.subarray(at));
            count += cts.length;
            if (page.length < pageSize) break;
          }
          fetched = performance.now();
          const inputs = new RecordFile(file, {
            offset: 0,
            count,
            recordBytes: Math.max(size, 64),
          }, "stage inputs");
          const { outputs, proof } = await shuffleAndProveRecords(
            decodePublicKey(key, "key"),
            inputs,
            { ...context, sinks: spool.sinks },
          );
          const width = outputs.recordBytes / 64;
          const per = mixPartItems(width, this.#o.mixPartItems ?? 0);
          if (count <= per) body = mixBodyFromRecords(stage, outputs, proof);
          else {
            // A mix in parts: each part signed as it is written (its digest goes into the
            // final post); the parts are stored with the final post below.
            const named: { count: number; digest: Uint8Array }[] = [];
            for (let lo = 0, part = 0; lo < count; lo += per, part++) {
              const hi = Math.min(count, lo + per);
              const partPost = createPostFromBody(this.#o.identity, {
                job: jobId,
                type: "mix",
                body: mixPartBody({ stage, part, total: count, width }, outputs, proof, lo, hi),
              });
              named.push({ count: hi - lo, digest: postDigest(partPost) });
              // Stored as it is written (in the write transaction the final post commits).
              store.write(() =>
                store.db.prepare(
                  "INSERT INTO cascade_parts (job, stage, part, post) VALUES (?, ?, ?, ?)",
                ).run(jobId, stage, part, encodeMsgpack(postToEnvelope(partPost)))
              );
            }
            body = mixFinalBody(stage, proof, named);
          }
          items = count;
        } finally {
          spool.close();
        }
      } else {
        // The stage's batch a page at a time: one page of JSON is held, not the stage's (a
        // stage may hold fewer items than the job's inputs: a decryption mix drops replays).
        const inputs: unknown[] = [];
        for (;;) {
          const page = await fetchPage(inputs.length, pageSize);
          for (const v of page) {
            inputs.push(backend.input.decode(v, `stage ${stage} input ${inputs.length + 1}`));
          }
          if (page.length < pageSize) break;
        }
        fetched = performance.now();
        const result = await backend.mix(inputs, { key, ...context });
        body = encodeMsgpack({
          v: 1,
          kind: "node.mix",
          stage,
          outputs: result.outputs.map((o) => backend.output.encode(o)),
          proof: readRecord(result.proof, "proof") as Envelope,
        });
        items = inputs.length;
      }
      post = createPostFromBody(this.#o.identity, { job: jobId, type: "mix", body });
      // Commit the mix before anyone sees it: a restart re-sends this exact post (and its
      // parts) ...together with the replay tags the mix recorded, in one transaction.
      store.write(() => {
        store.db.prepare("INSERT INTO cascade_results (job, stage, post) VALUES (?, ?, ?)").run(
          jobId,
          stage,
          encodeMsgpack(postToEnvelope(post)),
        );
        prepared.persist();
      });
      await store.commit();
      const seconds = (performance.now() - started) / 1000;
      metrics.histogram("panoramix_cascade_mix_seconds", "Time to fetch and mix one batch")
        .observe(seconds);
      logger.log("info", "cascade_mixed", {
        job: jobId,
        stage,
        items,
        backend: backend.name,
        seconds,
        fetchSeconds: (fetched - started) / 1000,
      });
    }
    try {
      // A mix in parts: its parts first, in order, each read back from the store.
      const partNumbers = store.db.prepare(
        "SELECT part FROM cascade_parts WHERE job = ? AND stage = ? ORDER BY part",
      ).all(jobId, stage) as { part: number }[];
      const readPart = store.db.prepare(
        "SELECT post FROM cascade_parts WHERE job = ? AND stage = ? AND part = ?",
      );
      for (const { part } of partNumbers) {
        const row = readPart.get(jobId, stage, part) as { post: Uint8Array };
        await this.#client.submitPost(
          readPost(decodeMsgpack(row.post, "saved mix part"), "saved mix part"),
        );
      }
      const receipt = await this.#client.submitPost(post);
      metrics.counter("panoramix_cascade_batches_total", "Batches mixed and posted").inc();
      logger.log("info", "cascade_posted", { job: jobId, stage, seq: receipt.seq });
    } catch (error) {
      // 409: the board already moved past this stage (our earlier send was accepted).
      if (error instanceof NodeHttpError && error.status === 409) {
        logger.log("info", "cascade_already_posted", { job: jobId, stage });
      } else if (
        // A refusal (not a failure to reach the board) is reported, not retried forever: a
        // proof that does not verify, or a post the board takes as malformed or forbidden. A
        // post over the board's body limit (413) stays retried: the operator may raise the
        // limit and restart the board, and the cascade resumes.
        error instanceof PanoramixError &&
        (error.code === "verification_failed" ||
          (error instanceof NodeHttpError && error.code === "invalid_input" &&
            error.status < 500 && error.status !== 429 && error.status !== 413))
      ) {
        logger.log("error", "cascade_rejected", { job: jobId, stage, error });
        await this.#reportFailure(
          jobId,
          stage,
          `the board rejected this node's mix: ${error.message}`,
        );
      } else throw error;
    }
    // Once the board holds the mix, the local copy is no longer needed to re-send it; the
    // row stays, so this node never mixes the same stage twice.
    store.write(() => {
      store.db.prepare(
        "UPDATE cascade_results SET sent = 1, post = x'' WHERE job = ? AND stage = ?",
      ).run(jobId, stage);
      store.db.prepare("DELETE FROM cascade_parts WHERE job = ? AND stage = ?").run(jobId, stage);
    });
    await store.commit();
  }
}

/**
 * The msgpack body of a re-encryption `node.mix` post written from record lists a chunk at a
 * time: the bytes `encodeMsgpack` gives for the same mix as objects.
 */
function mixBodyFromRecords(
  stage: number,
  outputs: RecordSource,
  proof: ShuffleProofRecords,
): Uint8Array {
  const CHUNK = 4096;
  function* items(): Iterable<unknown> {
    for (let lo = 0; lo < outputs.count; lo += CHUNK) {
      const hi = Math.min(outputs.count, lo + CHUNK);
      const bytes = outputs.read(lo, hi);
      for (let i = 0; i < hi - lo; i++) {
        const ct = Ciphertext.unchecked(
          bytes.subarray(i * outputs.recordBytes, (i + 1) * outputs.recordBytes),
          `output ${lo + i + 1}`,
        );
        yield encodeCiphertext(ct);
      }
    }
  }
  const value = new StreamedMap([
    ["v", 1],
    ["kind", "node.mix"],
    ["stage", stage],
    ["outputs", new StreamedArray(outputs.count, items())],
    ["proof", encodeShuffleProof(shuffleProofFromRecords(proof))],
  ]);
  return joinBytes([...msgpackChunks(value)]);
}
