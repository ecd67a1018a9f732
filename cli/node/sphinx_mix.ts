/**
 * The Sphinx mix role: a continuous-time mix (Loopix-style Poisson mixing). Packets
 * arrive on persistent TCP connections; each is unwrapped with the epoch key named by
 * its key-id byte, checked against the persistent replay cache of that epoch, and
 * committed to the delay queue together with its replay tag before the sender gets
 * its acknowledgement. A dispatcher releases each packet when its per-hop delay (set by
 * the sender in the routing command) expires: forwards go to the next hop over a
 * persistent link, deliveries go to the node's mailbox (HTTP). Keys rotate by epoch
 * with an overlap; an expired key is destroyed together with its replay tags.
 *
 * @module
 */

import {
  acceptLoop,
  type AcceptLoopState,
  acceptProblem,
  ConnectionGate,
  type TrackedConnection,
} from "./connections.ts";
import { sphinxConnectionLimits } from "./health.ts";
import { x25519 } from "@noble/curves/ed25519.js";
import { fromBase64Url, toBase64Url, toHex } from "../../core/bytes.ts";
import { PanoramixError } from "../../core/errors.ts";
import { toJsonView } from "../../core/envelope.ts";
import { randomBytes } from "../../core/random.ts";
import {
  checkSphinxFraming,
  type SphinxNodeKey,
  sphinxPacketSize,
  type SphinxX25519,
  sphinxX25519,
} from "../../backends/decrypt/mod.ts";
import type { EpochKey } from "./descriptor.ts";
import { readTopology, verifyTopology } from "./descriptor.ts";
import { Mailbox } from "./mailbox.ts";
import { MixLoops } from "./mix_loops.ts";
import { Provider } from "./provider.ts";
import { jsonResponse } from "./http_error.ts";
import type { NodeService, NodeServiceContext } from "./node.ts";
import type { Route } from "./server.ts";
import { RateLimiter } from "./rate_limit.ts";
import { SqliteReplayCache } from "./replay_store.ts";
import { readFrames, SPHINX_STATUS, SphinxLink } from "./sphinx_link.ts";
import { UnwrapBatcher } from "./unwrap_batcher.ts";
import { DelayQueue, type QueuedPacket } from "./delay_queue.ts";
import { PeerFilter } from "./sphinx_peers.ts";

interface KeyRow {
  epoch: number;
  key_id: number;
  secret: Uint8Array;
  public: Uint8Array;
  valid_from: number;
  valid_until: number;
}

type QueueRow = QueuedPacket;

/** A packet this node is the exit of, handed to the delivery handler inside the write. */
export interface SphinxDelivery {
  /** "deliver" (a forward message) or "reply" (a SURB reply). */
  kind: "deliver" | "reply";
  /** Recipient (mailbox id, 32 bytes). */
  recipient: Uint8Array;
  /** SURB id of a reply. */
  surbId: Uint8Array | null;
  /** The delivered message or reply payload. */
  message: Uint8Array;
}

/**
 * Decides what an exit does with a delivery; runs inside the store transaction of the
 * release, so what it writes (mailbox rows, queued ACK packets) commits with it.
 */
export type SphinxDeliveryHandler = (delivery: SphinxDelivery) => void;

const PER_CONNECTION_IN_FLIGHT = 512;
// How long a packet whose next hop is not in the topology is retried before it is dropped.
const UNROUTABLE_DROP_MS = 60_000;
// Most packets being forwarded (sent, not yet acknowledged by the next hop) at once.
const MAX_SENDING = 4096;
// Longest wait before the removal of an acknowledged forward gets a COMMIT of its own.
const FORWARD_DONE_COMMIT_MS = 25;

/**
 * Epoch number of a time.
 *
 * @param timeMs milliseconds since the epoch
 * @param epochSeconds epoch length
 * @returns the epoch number
 * @example
 * ```ts
 * import { epochOf } from "./sphinx_mix.ts";
 * console.assert(epochOf(7200_000, 3600) === 2);
 * ```
 */
export function epochOf(timeMs: number, epochSeconds: number): number {
  return Math.floor(timeMs / (epochSeconds * 1000));
}

/**
 * The Sphinx mix service.
 *
 * @example
 * ```ts ignore
 * const node = await startNode(config, { sphinx: sphinxService });
 * ```
 */
export class SphinxMix {
  #ctx: NodeServiceContext;
  #listener: Deno.TcpListener | undefined;
  #engine!: SphinxX25519;
  #batcher!: UnwrapBatcher;
  #keysById = new Map<number, { epoch: number; key: SphinxNodeKey; row: KeyRow }>();
  #replay = new Map<number, SqliteReplayCache>();
  #inflight = new Set<Promise<unknown>>();
  #connections = new Set<Deno.Conn>();
  #links = new Map<string, SphinxLink>();
  #connecting = new Map<string, Promise<SphinxLink>>();
  #refreshing: Promise<void> | undefined;
  #addresses = new Map<string, string>();
  #topologyFetchedAt = 0;
  #running = false;
  #dispatcher: Promise<void> | undefined;
  #acceptLoop: Promise<void> | undefined;
  #gate: ConnectionGate | undefined;
  /** Liveness of the packet listener, for `/v1/health`. */
  readonly acceptState: AcceptLoopState = { alive: true, lastError: undefined };
  #rotation: ReturnType<typeof setInterval> | undefined;
  #queueDepth = 0;
  // Committed packets by release time (the table is their crash journal).
  #queue = new DelayQueue();
  // Forwards sent and not yet answered by the next hop.
  #sendingCount = 0;
  #limiter: RateLimiter;
  #packetSize: number;
  #wake: (() => void) | undefined;
  // When the sleeping dispatcher wakes up by itself (0 when awake).
  #sleepUntil = 0;
  #mailbox: Mailbox;
  #delivery: SphinxDeliveryHandler | undefined;
  #loops: MixLoops;
  #pendingOwn: QueuedPacket[] = [];
  #unroutable = new Map<number, number>();
  // sphinx.nodesOnly: connections only from the addresses of the topology's nodes.
  #peers: PeerFilter | undefined;

  /**

   * Creates the instance.
   *
   * @param ctx the node context
   */
  constructor(ctx: NodeServiceContext) {
    this.#ctx = ctx;
    const { store, config, metrics } = ctx;
    this.#packetSize = sphinxPacketSize(config.sphinx.payloadSize);
    this.#limiter = new RateLimiter({
      ratePerSecond: config.sphinx.packetsPerSecond,
      burst: config.sphinx.packetBurst,
    });
    store.write(() =>
      store.db.exec(`
      CREATE TABLE IF NOT EXISTS sphinx_keys (epoch INTEGER PRIMARY KEY, key_id INTEGER NOT NULL,
        secret BLOB NOT NULL, public BLOB NOT NULL, valid_from INTEGER NOT NULL, valid_until INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS sphinx_queue (id INTEGER PRIMARY KEY, release_at INTEGER NOT NULL,
        kind TEXT NOT NULL, target BLOB NOT NULL, packet BLOB NOT NULL, surb_id BLOB);
      CREATE INDEX IF NOT EXISTS sphinx_queue_release ON sphinx_queue (release_at);
      CREATE TABLE IF NOT EXISTS sphinx_delivered (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,
        recipient BLOB NOT NULL, surb_id BLOB, message BLOB NOT NULL, time INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS sphinx_delivered_recipient ON sphinx_delivered (recipient, id);`)
    );
    store.commitNow(); // the mailbox is read from committed rows only
    // Under load, COMMITs take at most half the time of the node's thread (group commits).
    store.paceCommits(1);
    // The WAL fsync off the JavaScript thread; not with the board role, which signs heads
    // and re-issues receipts from committed rows, nor the directory, which signs topologies
    // from committed descriptors (Store.deferSync).
    if (!config.roles.includes("board") && !config.roles.includes("directory")) {
      store.deferSync();
    }
    new SqliteReplayCache(store, "init");
    this.#mailbox = new Mailbox(store, metrics, {
      ttlSeconds: config.provider.mailboxTtlSeconds,
      quotaMessages: config.provider.quotaMessages,
      quotaBytes: config.provider.quotaBytes,
    });
    this.#loops = new MixLoops(this, ctx);
    if (config.sphinx.nodesOnly) {
      this.#peers = new PeerFilter({
        addresses: async () => {
          await this.#refreshTopology();
          return [...this.#addresses.values()];
        },
        resolve: async (host) => {
          const ips: string[] = [];
          for (const type of ["A", "AAAA"] as const) {
            try {
              ips.push(...await Deno.resolveDns(host, type));
            } catch { /* no such record */ }
          }
          return ips;
        },
      });
    }
    // After a restart: every packet still in the journal is queued again.
    for (
      const row of store.db.prepare(
        "SELECT id, release_at, kind, target, packet, surb_id FROM sphinx_queue",
      ).all() as unknown as {
        id: number;
        release_at: number;
        kind: string;
        target: Uint8Array;
        packet: Uint8Array;
        surb_id: Uint8Array | null;
      }[]
    ) {
      this.#queue.push({
        id: row.id,
        releaseAt: row.release_at,
        kind: row.kind,
        target: row.target,
        packet: row.packet,
        surbId: row.surb_id,
      });
    }
    this.#queueDepth = this.#queue.size;
    metrics.gauge(
      "panoramix_sphinx_queue_depth",
      "Packets waiting in the delay queue",
      () => this.#queueDepth,
    );
    new SqliteReplayCache(store, "init"); // creates the replay table
    metrics.gauge(
      "panoramix_sphinx_replay_tags",
      "Replay tags held for the live epoch keys",
      () =>
        (store.db.prepare(
          "SELECT COUNT(*) AS n FROM replay_tags WHERE scope >= 'epoch:' AND scope < 'epoch;'",
        ).get() as { n: number }).n,
    );
  }

  /** The node's mailboxes. */
  get mailbox(): Mailbox {
    return this.#mailbox;
  }

  /** The node's own id (identity key). */
  get nodeId(): Uint8Array {
    return this.#ctx.identity.publicKey;
  }

  /**
   * Replaces the default delivery (store in the recipient's mailbox) by a handler: the
   * provider role uses it to send SURB-ACKs and to keep mailboxes of registered users only.
   *
   * @param handler runs inside the release's write transaction
   */
  setDeliveryHandler(handler: SphinxDeliveryHandler): void {
    this.#delivery = handler;
  }

  /**
   * Queues a packet this node originates (a SURB-ACK, a loop) for `target`; call inside
   * `store.write`. It leaves only after the surrounding transaction commits.
   *
   * @param target node id of the first hop
   * @param packet the packet
   * @param releaseAt when to send (ms; default now)
   */
  enqueueForward(target: Uint8Array, packet: Uint8Array, releaseAt: number = Date.now()): void {
    const info = this.#ctx.store.prepared(
      "INSERT INTO sphinx_queue (release_at, kind, target, packet, surb_id) VALUES (?, 'forward', ?, ?, NULL)",
    ).run(releaseAt, target, packet);
    const id = Number(info.lastInsertRowid);
    // Not eligible for sending until its transaction commits (commitOwn or the release).
    this.#pendingOwn.push({ id, releaseAt, kind: "forward", target, packet, surbId: null });
    this.#queueDepth++;
  }

  /**
   * Accepts a packet submitted by a local client (the provider's client API): the same
   * checks, replay cache, commit and status as a packet arriving on the Sphinx port.
   *
   * @param packet the packet
   * @returns the status byte ({@linkcode SPHINX_STATUS})
   */
  submit(packet: Uint8Array): Promise<number> {
    return this.#track(this.#accept1(packet));
  }

  /**
   * Commits pending writes, then releases packets queued by {@linkcode enqueueForward}.
   */
  async commitOwn(): Promise<void> {
    const own = this.#pendingOwn.splice(0);
    await this.#ctx.store.commit();
    this.#queueAll(own);
  }

  /** Routes: the mailbox of delivered messages and the current keys. */
  get routes(): Route[] {
    return [
      // Mailbox reads and deletes are signed by the mailbox key (no open read by id).
      ...this.#mailbox.routes,
      {
        method: "GET",
        path: "/v1/sphinx/keys",
        handle: () => jsonResponse({ keys: toJsonView(this.epochKeys()) }),
      },
    ];
  }

  /**
   * The published epoch keys (current and next).
   *
   * @returns the keys
   */
  epochKeys(): EpochKey[] {
    return [...this.#keysById.values()].map(({ row }) => ({
      epoch: row.epoch,
      keyId: row.key_id,
      publicKey: row.public,
      validFrom: row.valid_from,
      validUntil: row.valid_until,
    })).sort((a, b) => a.epoch - b.epoch);
  }

  /**

   * Reads the host:port packets are sent to.
   *

   * @returns host:port packets are sent to

   */
  sphinxAddress(): string {
    if (this.#ctx.config.sphinx.publicAddress) return this.#ctx.config.sphinx.publicAddress;
    const addr = this.#listener?.addr as Deno.NetAddr | undefined;
    return addr ? `${addr.hostname}:${addr.port}` : "";
  }

  /**
   * Creates keys for the current and next epoch, destroys expired keys with their
   * replay tags.
   *
   * @param now clock in ms
   * @returns true when the key set changed
   */
  rotateKeys(now = Date.now()): boolean {
    const { store, config, logger } = this.#ctx;
    const length = config.sphinx.epochSeconds * 1000;
    const overlap = config.sphinx.overlapSeconds * 1000;
    const current = epochOf(now, config.sphinx.epochSeconds);
    let changed = false;
    store.write(() => {
      const expired = store.db.prepare("SELECT epoch FROM sphinx_keys WHERE valid_until <= ?")
        .all(now) as { epoch: number }[];
      for (const { epoch } of expired) {
        // Forward secrecy and bounded replay state: the key and its tags go together.
        store.db.prepare("DELETE FROM sphinx_keys WHERE epoch = ?").run(epoch);
        const dropped = SqliteReplayCache.dropScope(store, `epoch:${epoch}`);
        this.#replay.delete(epoch);
        logger.log("info", "sphinx_key_expired", { epoch, replayTagsDropped: dropped });
        changed = true;
      }
      for (const epoch of [current, current + 1]) {
        const exists = store.db.prepare("SELECT 1 AS x FROM sphinx_keys WHERE epoch = ?").get(
          epoch,
        );
        if (exists) continue;
        const secret = randomBytes(32);
        store.db.prepare(
          "INSERT INTO sphinx_keys (epoch, key_id, secret, public, valid_from, valid_until) VALUES (?, ?, ?, ?, ?, ?)",
        ).run(
          epoch,
          epoch % 256,
          secret,
          x25519.getPublicKey(secret),
          epoch * length,
          (epoch + 1) * length + overlap,
        );
        logger.log("info", "sphinx_key_created", { epoch, keyId: epoch % 256 });
        changed = true;
      }
    });
    const rows = store.db.prepare("SELECT * FROM sphinx_keys").all() as unknown as KeyRow[];
    this.#keysById.clear();
    for (const row of rows) {
      this.#keysById.set(row.key_id, {
        epoch: row.epoch,
        row,
        key: { keyId: row.key_id, secretKey: row.secret, publicKey: row.public },
      });
      if (!this.#replay.has(row.epoch)) {
        this.#replay.set(row.epoch, new SqliteReplayCache(store, `epoch:${row.epoch}`));
      }
    }
    return changed;
  }

  /** Starts listening, the dispatcher and key rotation. */
  async start(): Promise<void> {
    const { config, store } = this.#ctx;
    this.#engine = await sphinxX25519();
    this.#batcher = new UnwrapBatcher({
      payloadSize: config.sphinx.payloadSize,
      x25519: this.#engine,
    });
    this.rotateKeys();
    await store.commit();
    const i = config.sphinx.listen.lastIndexOf(":");
    this.#listener = Deno.listen({
      hostname: config.sphinx.listen.slice(0, i),
      port: Number(config.sphinx.listen.slice(i + 1)),
    });
    this.#running = true;
    this.#gate = new ConnectionGate(
      "sphinx",
      sphinxConnectionLimits(config),
      this.#ctx.logger,
      this.#ctx.metrics,
    );
    this.#acceptLoop = this.#accept(this.#listener);
    this.#dispatcher = this.#dispatch();
    const period = Math.min(config.sphinx.epochSeconds * 250, 30_000);
    this.#loops.start();
    this.#rotation = setInterval(() => {
      this.#mailbox.prune().catch((error) =>
        this.#ctx.logger.log("error", "mailbox_prune_failed", { error })
      );
      try {
        if (this.rotateKeys()) {
          void store.commit().then(() => this.#ctx.publish()).catch((error) =>
            this.#ctx.logger.log("warn", "publish_failed", { error })
          );
        }
      } catch (error) {
        this.#ctx.logger.log("error", "sphinx_rotation_failed", { error });
      }
    }, period);
  }

  #accept(listener: Deno.TcpListener): Promise<void> {
    // Survives EMFILE and failed handshakes; bounded per address and in total (issue 11 §2).
    return acceptLoop(listener, (conn) => {
      const client = (conn.remoteAddr as Deno.NetAddr).hostname;
      if (this.#peers === undefined) return this.#admit(conn, client);
      // Once per connection (not per packet): is the peer one of the network's nodes?
      void this.#peers.allowed(client).then((ok) => {
        if (ok && this.#running) return this.#admit(conn, client);
        this.#ctx.metrics.counter(
          "panoramix_sphinx_connections_refused_total",
          "Sphinx connections refused: the peer is not a node of the topology (sphinx.nodesOnly)",
        ).inc();
        this.#ctx.logger.log("debug", "sphinx_peer_refused", { client });
        try {
          conn.close();
        } catch { /* already closed */ }
      });
    }, {
      name: "sphinx",
      logger: this.#ctx.logger,
      running: () => this.#running,
      state: this.acceptState,
    });
  }

  #admit(conn: Deno.TcpConn, client: string): void {
    const tracked = this.#gate!.admit(client, () => conn.close());
    if (tracked === undefined) {
      conn.close();
      return;
    }
    this.#connections.add(conn);
    conn.setNoDelay(true);
    void this.#serve(conn, tracked).finally(() => {
      this.#connections.delete(conn);
      this.#gate!.release(tracked);
      tracked.close();
    });
  }

  async #serve(conn: Deno.Conn, tracked: TrackedConnection): Promise<void> {
    const writer = conn.writable.getWriter();
    // Traffic and partial frames feed the gate's idle and slow-frame deadlines.
    const readable = conn.readable.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          tracked.activity(true, true);
          controller.enqueue(chunk);
        },
      }),
    );
    const client = (conn.remoteAddr as Deno.NetAddr).hostname;
    // Acknowledgements go out in arrival order, each only after its packet's commit; the
    // statuses that are ready together (one group commit) leave in one write.
    const ready = new Map<number, number>();
    let nextSeq = 0; // sequence number of the next packet read
    let sendSeq = 0; // sequence number of the next status to send
    let pending = 0;
    let draining = false;
    let room: (() => void) | undefined;
    let idle: (() => void) | undefined;
    let lastWrite: Promise<void> = Promise.resolve();
    const drain = () => {
      draining = false;
      const out: number[] = [];
      for (let s = ready.get(sendSeq); s !== undefined; s = ready.get(sendSeq)) {
        ready.delete(sendSeq++);
        out.push(s);
      }
      if (out.length === 0) return;
      pending -= out.length;
      tracked.busy -= out.length;
      tracked.activity(false, false);
      lastWrite = writer.write(Uint8Array.from(out)).catch((error) => {
        // The peer is gone (or we are stopping): its later acknowledgements cannot be sent,
        // but every packet it sent is still processed and committed.
        this.#ctx.logger.log("debug", "sphinx_ack_failed", { client, error });
      });
      if (pending < PER_CONNECTION_IN_FLIGHT && room) {
        room();
        room = undefined;
      }
      if (pending === 0 && idle) {
        idle();
        idle = undefined;
      }
    };
    const settled = async () => {
      if (pending > 0) await new Promise<void>((r) => (idle = r));
      await lastWrite;
    };
    try {
      for await (const packet of readFrames(readable, this.#packetSize + 16)) {
        tracked.partialSince = undefined;
        if (!this.#running) break;
        const status = this.#limiter.take(client)
          ? this.#track(this.#accept1(packet))
          : Promise.resolve(SPHINX_STATUS.busy);
        const seq = nextSeq++;
        pending++;
        tracked.busy++;
        const done = (s: number) => {
          ready.set(seq, s);
          if (!draining) {
            draining = true;
            queueMicrotask(drain); // after the other statuses resolved in this turn
          }
        };
        status.then(done, () => done(SPHINX_STATUS.internal));
        if (pending >= PER_CONNECTION_IN_FLIGHT) await new Promise<void>((r) => (room = r));
      }
      await settled();
    } catch (error) {
      // A malformed stream (oversized frame) or a dropped peer ends this connection only.
      this.#ctx.logger.log("debug", "sphinx_connection_closed", { client, error });
    } finally {
      await settled();
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = () => this.#inflight.delete(p);
    p.then(done, (error) => {
      done();
      this.#ctx.logger.log("error", "sphinx_task_failed", { error });
    });
    return p;
  }

  async #accept1(packet: Uint8Array): Promise<number> {
    const { store, config, metrics, logger } = this.#ctx;
    metrics.counter("panoramix_sphinx_packets_in_total", "Sphinx packets received").inc();
    const reject = (reason: string, status: number) => {
      metrics.counter("panoramix_sphinx_packets_rejected_total", "Sphinx packets rejected")
        .inc(1, { reason });
      return status;
    };
    try {
      if (this.#queueDepth >= config.sphinx.maxQueue) return reject("busy", SPHINX_STATUS.busy);
      checkSphinxFraming(packet, config.sphinx.payloadSize);
      const entry = this.#keysById.get(packet[1]!);
      if (entry === undefined) return reject("unknown_key", SPHINX_STATUS.unknownKey);
      const started = performance.now();
      // Batched with the packets of every connection that arrive in the same tick.
      const result = await this.#batcher.unwrap(packet, entry.key);
      metrics.histogram("panoramix_sphinx_unwrap_seconds", "Time to unwrap one packet")
        .observe((performance.now() - started) / 1000);
      const cache = this.#replay.get(entry.epoch)!;
      const delay = Math.min(result.delayMs, config.sphinx.maxDelayMs);
      const releaseAt = Date.now() + delay;
      const queued: QueuedPacket = result.kind === "forward"
        ? {
          id: 0,
          releaseAt,
          kind: "forward",
          target: result.nextHop,
          packet: result.packet,
          surbId: null,
        }
        : result.kind === "deliver"
        ? {
          id: 0,
          releaseAt,
          kind: "deliver",
          target: result.recipient,
          packet: result.message,
          surbId: null,
        }
        : {
          id: 0,
          releaseAt,
          kind: "reply",
          target: result.recipient,
          packet: result.payload,
          surbId: result.surbId,
        };
      // Replay tag and queued packet are written together: both or neither survive a crash.
      const fresh = store.write(() => {
        if (!cache.addInWrite(result.replayTag)) return false;
        queued.id = Number(
          store.prepared(
            "INSERT INTO sphinx_queue (release_at, kind, target, packet, surb_id) VALUES (?, ?, ?, ?, ?)",
          ).run(releaseAt, queued.kind, queued.target, queued.packet, queued.surbId)
            .lastInsertRowid,
        );
        return true;
      });
      if (!fresh) {
        // The first copy may still be uncommitted: "replay" tells the sender this hop holds
        // the packet, so it is said only once that copy is durable (issue 11 §1).
        await store.commit();
        metrics.counter("panoramix_sphinx_replays_dropped_total", "Replayed packets dropped")
          .inc();
        return SPHINX_STATUS.replay;
      }
      await store.commit();
      this.#queueDepth++;
      this.#queue.push(queued); // committed: now the dispatcher may release it
      this.#wakeFor(releaseAt);
      return SPHINX_STATUS.accepted;
    } catch (error) {
      if (error instanceof PanoramixError) {
        switch (error.code) {
          case "invalid_input":
            return reject("invalid", SPHINX_STATUS.invalid);
          case "not_found":
            return reject("unknown_key", SPHINX_STATUS.unknownKey);
          case "verification_failed":
            return reject("bad_mac", SPHINX_STATUS.badMac);
          case "replay":
            return reject("replay", SPHINX_STATUS.replay);
        }
      }
      logger.log("error", "sphinx_packet_failed", { error });
      return reject("internal", SPHINX_STATUS.internal);
    }
  }

  // Packets committed by the caller: eligible for release from now on.
  #queueAll(entries: QueuedPacket[]): void {
    for (const e of entries) {
      this.#queue.push(e);
      this.#wakeFor(e.releaseAt);
    }
  }

  // Wakes the dispatcher when a packet is due before it would wake up by itself, so a
  // packet leaves at its release time (its Poisson delay), not at the next 50 ms tick.
  #wakeFor(releaseAt: number): void {
    if (this.#wake !== undefined && releaseAt < this.#sleepUntil) {
      this.#sleepUntil = 0;
      this.#wake();
    }
  }

  async #dispatch(): Promise<void> {
    const { logger } = this.#ctx;
    while (this.#running) {
      try {
        const now = Date.now();
        // From memory: the due packets, as many as there is room to send.
        const room = Math.max(0, MAX_SENDING - this.#sendingCount);
        const rows = this.#queue.takeDue(now, room);
        if (rows.length > 0) this.#release(rows);
        if (rows.length > 0 && rows.length === room) {
          // Full: wait for a forward to be answered (it wakes us), or 50 ms.
        } else if (rows.length > 0) continue;
        // Sleep until the next packet is due, or a wake-up (a packet queued or answered).
        const next = this.#queue.nextAt();
        const wait = next === undefined ? 50 : Math.max(1, Math.min(50, next - Date.now()));
        this.#sleepUntil = Date.now() + wait;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          this.#wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.#wake = undefined;
        this.#sleepUntil = 0;
      } catch (error) {
        logger.log("error", "sphinx_dispatch_failed", { error });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Releases due packets: deliveries at once, forwards concurrently over persistent links. */
  #release(rows: QueueRow[]): void {
    const { store, metrics, logger } = this.#ctx;
    const local = rows.filter((r) => r.kind !== "forward");
    if (local.length > 0) {
      const ownBefore = this.#pendingOwn.length;
      try {
        store.write(() => {
          const del = store.prepared("DELETE FROM sphinx_queue WHERE id = ?");
          for (const r of local) {
            this.#deliverLocal(r);
            del.run(r.id);
          }
        });
      } catch (error) {
        // Nothing of this release was written (its ACKs neither): retry the rows later.
        this.#pendingOwn.length = ownBefore;
        const retryAt = Date.now() + 1000;
        for (const r of local) this.#queue.push({ ...r, releaseAt: retryAt });
        logger.log("error", "sphinx_delivery_failed", { error });
        return this.#forwardAll(rows);
      }
      const own = this.#pendingOwn.splice(0);
      this.#track(
        store.commit().then(() => {
          this.#queueAll(own); // ACKs and loops queued by the deliveries, now durable
          metrics.counter("panoramix_sphinx_delivered_total", "Messages delivered to the mailbox")
            .inc(local.length);
          this.#queueDepth -= local.length;
        }, (error) => {
          // Not durable (rolled back with the ACKs they queued): deliver them again later.
          const retryAt = Date.now() + 1000;
          for (const r of local) this.#queue.push({ ...r, releaseAt: retryAt });
          logger.log("error", "sphinx_delivery_commit_failed", { error });
        }),
      );
    }
    this.#forwardAll(rows);
  }

  #forwardAll(rows: QueueRow[]): void {
    for (const r of rows) {
      if (r.kind !== "forward") continue;
      this.#sendingCount++;
      this.#track(this.#forward(r));
    }
  }

  #deliverLocal(r: QueueRow): void {
    const delivery: SphinxDelivery = {
      kind: r.kind === "reply" ? "reply" : "deliver",
      recipient: r.target,
      surbId: r.surbId,
      message: r.packet,
    };
    // A loop of this node's own (λ_M) comes back addressed to the node itself.
    if (this.#loops.receive(delivery)) return;
    if (this.#delivery) {
      this.#delivery(delivery);
      return;
    }
    this.#mailbox.put({
      kind: delivery.kind,
      recipient: delivery.recipient,
      surbId: delivery.surbId,
      payload: delivery.message,
    });
  }

  async #forward(r: QueueRow): Promise<void> {
    const { store, metrics } = this.#ctx;
    let retryAt: number | undefined;
    try {
      const link = await this.#linkTo(r.target);
      const status = await link.send(r.packet);
      if (status === SPHINX_STATUS.busy || status === SPHINX_STATUS.internal) {
        retryAt = Date.now() + 1000;
      } else {
        // Accepted or a replay (the next hop already has it): either way it is delivered.
        // Invalid/unknown-key/bad-MAC: the next hop will never take it; drop.
        metrics.counter("panoramix_sphinx_packets_out_total", "Sphinx packets forwarded")
          .inc(1, { status: String(status) });
      }
    } catch (error) {
      this.#ctx.logger.log("warn", "sphinx_forward_failed", {
        nextHop: toBase64Url(r.target),
        error,
      });
      const soon = error instanceof PanoramixError && error.code === "not_found";
      retryAt = Date.now() + (soon ? 200 : 1000);
      if (soon) {
        // A next hop absent from the topology for a minute (e.g. the first hop of a forged
        // SURB-ACK) will not appear: drop the packet instead of retrying it for ever.
        const first = this.#unroutable.get(r.id) ?? Date.now();
        this.#unroutable.set(r.id, first);
        if (Date.now() - first > UNROUTABLE_DROP_MS) {
          this.#unroutable.delete(r.id);
          retryAt = undefined;
          metrics.counter(
            "panoramix_sphinx_unroutable_dropped_total",
            "Packets dropped: next hop not in the topology for a minute",
          ).inc();
        }
      }
    }
    if (retryAt === undefined) this.#unroutable.delete(r.id);
    try {
      // At-least-once: the row leaves the queue only after the next hop acknowledged it.
      store.write(() => {
        if (retryAt === undefined) {
          store.prepared("DELETE FROM sphinx_queue WHERE id = ?").run(r.id);
        } else {
          store.prepared("UPDATE sphinx_queue SET release_at = ? WHERE id = ?").run(
            retryAt,
            r.id,
          );
        }
      });
      if (retryAt !== undefined) {
        this.#queue.push({ ...r, releaseAt: retryAt });
        this.#wakeFor(retryAt);
      }
      // The row is gone (or rescheduled) for the dispatcher at once; its COMMIT may ride
      // with the next group commit: were it lost in a crash, the packet is sent again and
      // the next hop answers "replay".
      if (retryAt === undefined) this.#queueDepth--;
      void store.commitSoon(FORWARD_DONE_COMMIT_MS).catch((error) =>
        this.#ctx.logger.log("warn", "sphinx_forward_commit_failed", { error })
      );
    } finally {
      this.#sendingCount--;
      if (this.#sendingCount === MAX_SENDING - 1) this.#wake?.();
    }
  }

  async #linkTo(nodeId: Uint8Array): Promise<SphinxLink> {
    const id = toHex(nodeId);
    let address = this.#addresses.get(id);
    // A node that joined after our last fetch: refresh (at most every 100 ms).
    if (address === undefined && Date.now() - this.#topologyFetchedAt > 100) {
      this.#refreshing ??= this.#refreshTopology().finally(() => (this.#refreshing = undefined));
      await this.#refreshing;
      address = this.#addresses.get(id);
    }
    if (address === undefined) {
      throw new PanoramixError(
        "not_found",
        `Next hop ${toBase64Url(nodeId)} is not in the topology`,
      );
    }
    const link = this.#links.get(address);
    if (link !== undefined && !link.closed) return link;
    // One connection per next hop: concurrent forwards share the pending connect (a second
    // connection would be orphaned, never closed, and keep the process alive).
    let connecting = this.#connecting.get(address);
    if (connecting === undefined) {
      const target = address;
      connecting = SphinxLink.connect(target).then((fresh) => {
        if (!this.#running) fresh.close();
        this.#links.set(target, fresh);
        return fresh;
      }).finally(() => this.#connecting.delete(target));
      this.#connecting.set(address, connecting);
    }
    return await connecting;
  }

  async #refreshTopology(): Promise<void> {
    this.#topologyFetchedAt = Date.now();
    const client = this.#ctx.directoryClient();
    if (!client) return;
    const topology = readTopology(await client.getJson("/v1/directory/topology"), "topology");
    const expected = this.#ctx.config.directoryKey
      ? fromBase64Url(this.#ctx.config.directoryKey, "directoryKey")
      : undefined;
    verifyTopology(topology, expected);
    for (const d of topology.nodes) {
      if (d.sphinxAddress) this.#addresses.set(toHex(d.identity), d.sphinxAddress);
    }
  }

  /** Stops accepting packets, drains in-flight packets and the current release, closes links. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#loops.stop();
    clearInterval(this.#rotation);
    this.#listener?.close();
    this.#wake?.();
    await Promise.allSettled([...this.#inflight]);
    await this.#dispatcher;
    await Promise.allSettled([...this.#inflight]); // forwards started by the last release
    await this.#acceptLoop;
    this.#gate?.closeAll();
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    for (const link of this.#links.values()) link.close();
    await this.#ctx.store.commit();
  }
}

/**
 * Factory registered with {@linkcode startNode}: builds the Sphinx mix service.
 *
 * @param ctx the node context
 * @returns the service
 * @example
 * ```ts ignore
 * const node = await startNode(config, { sphinx: sphinxService });
 * ```
 */
export function sphinxService(ctx: NodeServiceContext): Promise<NodeService> {
  const mix = new SphinxMix(ctx);
  // The provider role (messaging entry and exit) runs on top of the Sphinx role.
  const provider = ctx.config.roles.includes("provider") ? new Provider(mix, ctx) : undefined;
  return Promise.resolve({
    routes: [...mix.routes, ...(provider?.routes ?? [])],
    epochKeys: () => mix.epochKeys(),
    sphinxAddress: () => mix.sphinxAddress(),
    start: () => mix.start(),
    stop: () => mix.stop(),
    health: () => {
      const problem = acceptProblem("Sphinx", mix.acceptState);
      return problem === undefined ? {} : { sphinx: problem };
    },
  });
}
