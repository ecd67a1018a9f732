/**
 * The messaging client (Loopix, Piotrowska et al. 2017, §4): end-to-end encryption,
 * fragmentation, SURB-ACKs with retransmission, exactly-once delivery, SURB replies and the
 * Poisson streams of payload slots (λ_P), loops (λ_L) and drops (λ_D).
 *
 * The client is transport-agnostic ({@linkcode MessageTransport}: the provider's API) and
 * keeps its state in memory; {@linkcode MessageClient.state} returns the bytes to persist,
 * and `onState` is awaited before the client deletes anything from its mailbox, so a
 * message fetched is never lost (commit before acknowledgement).
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { constantTimeEqual, fromHex, toHex } from "../../core/bytes.ts";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError, NotFoundError } from "../../core/errors.ts";
import { randomBytes, type RandomSource, systemRandom } from "../../core/random.ts";
import { labelledDigest } from "../../core/transcript.ts";
import {
  createSphinxPacket,
  createSphinxReply,
  createSphinxSurb,
  decodeSphinxSurb,
  decodeSphinxSurbSecret,
  encodeSphinxSurb,
  encodeSphinxSurbSecret,
  openSphinxReply,
  SPHINX_SURB_ID_SIZE,
  sphinxExponentialDelayMs,
} from "../../backends/decrypt/mod.ts";
import {
  addressOf,
  decodeAddress,
  encodeAddress,
  MESSAGE_LABELS,
  type MessageAddress,
  type MessageIdentity,
} from "./address.ts";
import {
  decodeFragment,
  encodeFragment,
  LOOP_KIND,
  MESSAGE_ID_SIZE,
  Reassembler,
  type ReassemblerState,
  splitMessage,
} from "./fragment.ts";
import { hpkeOpen, hpkeSeal } from "./hpke.ts";
import { layeredRoute, type MessageTopology, providerById, randomProvider } from "./route.ts";
import { ACK_MESSAGE, encodeDataMessage, type MessageSizes, messageSizes } from "./wire.ts";

/** An item of the user's mailbox at the provider. */
export interface MailboxItem {
  /** Mailbox sequence number (for deletion). */
  id: number;
  /** "deliver": a sealed slot; "reply": a SURB reply (an ACK or a reply message). */
  kind: "deliver" | "reply";
  /** SURB id of a reply. */
  surbId?: Uint8Array;
  /** The sealed slot or the reply payload. */
  payload: Uint8Array;
  /** When the provider stored it (ms). */
  time: number;
}

/** The provider's client API, as the client uses it. */
export interface MessageTransport {
  /** The current stratified topology with keys. */
  topology(): Promise<MessageTopology>;
  /** Submits packets for the first hop (the own provider); returns a status per packet (0 = accepted). */
  submit(packets: Uint8Array[]): Promise<number[]>;
  /** Mailbox items after a sequence number. */
  fetch(after: number): Promise<MailboxItem[]>;
  /** Deletes mailbox items. */
  remove(ids: number[]): Promise<void>;
}

/** Poisson rates in events per second (Loopix §4.2). */
export interface CoverRates {
  /** λ_P: payload slots; a queued real packet takes the next slot, an empty slot sends a drop. */
  payload: number;
  /** λ_L: loops through the network back to the client. */
  loop: number;
  /** λ_D: drops to a random provider. */
  drop: number;
}

/** Default rates: see docs/message.md §6 for their bandwidth and CPU cost. */
export const DEFAULT_COVER_RATES: Readonly<CoverRates> = { payload: 2, loop: 1, drop: 1 };
/** Default mean per-hop delay (1/μ) in ms. */
export const DEFAULT_MEAN_DELAY_MS = 50;

/** Options of {@linkcode MessageClient}. */
export interface MessageClientOptions {
  /** The user's identity. */
  identity: MessageIdentity;
  /** The provider API. */
  transport: MessageTransport;
  /** The network's Sphinx payload size (from the provider). */
  payloadSize: number;
  /** Mean per-hop delay in ms (default 50). */
  meanDelayMs?: number;
  /** Cover rates (default {@linkcode DEFAULT_COVER_RATES}). */
  rates?: CoverRates;
  /** How often the mailbox is polled while streaming, in ms (default 500). */
  pollIntervalMs?: number;
  /** ACK timeout in ms (default derived from the route: see {@linkcode MessageClient.ackTimeoutMs}). */
  ackTimeoutMs?: number;
  /** Transmissions of a fragment before the message is reported failed (default 6). */
  maxAttempts?: number;
  /** A message still missing fragments this long after its first one is given up (default 1 h). */
  incompleteTimeoutMs?: number;
  /** Called for each message given up as incomplete (never delivered partially). */
  onIncomplete?: (message: { id: string; have: number; count: number }) => void;
  /** Persists the state; awaited before mailbox items are deleted. */
  onState?: (state: Uint8Array) => Promise<void>;
  /**
   * Called for each message delivered, and awaited before the client state is persisted and
   * the mailbox items deleted: store the message durably here (after a crash in between the
   * same message may come again; its id is the same, so keep messages by id).
   */
  onMessage?: (message: ReceivedMessage) => void | Promise<void>;
  /** Called when every fragment of a sent message was acknowledged, or when it failed. */
  onSent?: (report: SentReport) => void;
  /** Randomness (default the system CSPRNG). */
  random?: RandomSource;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

/** A message delivered to the application. */
export interface ReceivedMessage {
  /** Message id (hex). */
  id: string;
  /** "message": a forward message; "reply": a reply through one of our SURBs. */
  kind: "message" | "reply";
  /** The body. */
  body: Uint8Array;
  /** The sender's address, only when the sender revealed it (and proved it). */
  from?: string;
  /** Id of the message this answers (replies). */
  inReplyTo?: string;
  /** Sender's clock when sent (ms). */
  sentAt: number;
  /** When it was complete here (ms). */
  receivedAt: number;
  /** SURBs available to reply without knowing the sender. */
  replySurbs: number;
}

/** Outcome of a sent message. */
export interface SentReport {
  /** Message id (hex). */
  id: string;
  /** Delivered to the recipient's mailbox (all fragments ACKed) or failed. */
  status: "delivered" | "failed";
  /** Fragments. */
  fragments: number;
  /** Transmissions, retransmissions included. */
  transmissions: number;
  /** Time from send() to the last ACK (ms). */
  latencyMs: number;
}

/** Counters. */
export interface ClientStats {
  /** Real packets sent (first transmissions). */
  payloadPackets: number;
  /** Retransmissions. */
  retransmissions: number;
  /** Drops sent (empty payload slots and λ_D). */
  drops: number;
  /** Loops sent. */
  loopsSent: number;
  /** Loops back. */
  loopsReturned: number;
  /** Loops not back within the loop timeout. */
  loopsLost: number;
  /** loopsLost / (loopsReturned + loopsLost), 0 when none has settled. */
  loopLossRate: number;
  /** ACKs received. */
  acks: number;
  /** Duplicate fragments suppressed. */
  duplicates: number;
  /** Packets waiting for a payload slot. */
  queued: number;
  /** Fragments sent and not yet acknowledged. */
  unacked: number;
  /** Messages delivered to the application. */
  delivered: number;
  /** Mailbox items that did not open or parse. */
  rejected: number;
  /** Messages given up as incomplete. */
  incomplete: number;
}

interface Outgoing {
  messageId: string;
  index: number;
  to: string;
  slot: Uint8Array;
  attempts: number;
  deadline: number;
}

interface SentMessage {
  id: string;
  fragments: number;
  remaining: number;
  transmissions: number;
  started: number;
}

interface SurbRecord {
  purpose: "ack" | "reply" | "loop";
  secret: Uint8Array;
  key?: string;
  created: number;
}

interface QueueItem {
  kind: "fragment" | "reply";
  key?: string;
  packet?: Uint8Array;
}

interface PersistedState {
  v: number;
  kind: string;
  cursor: number;
  outgoing: Outgoing[];
  sent: SentMessage[];
  surbs: [string, SurbRecord][];
  replySurbs: [string, Uint8Array[]][];
  loops: [string, number][];
  reassembler: ReassemblerState;
  stats: ClientStats;
}

const decoder = new TextDecoder();

/**
 * The client.
 *
 * @example
 * ```ts ignore
 * const client = new MessageClient({ identity, transport, payloadSize: 2048 });
 * await client.send(decodeAddress(bob), new TextEncoder().encode("hi"));
 * await client.flush();
 * ```
 */
export class MessageClient {
  #o: MessageClientOptions;
  #sizes: MessageSizes;
  #random: RandomSource;
  #now: () => number;
  #topology: MessageTopology | undefined;
  #topologyAt = 0;
  #queue: QueueItem[] = [];
  #outgoing = new Map<string, Outgoing>();
  #sent = new Map<string, SentMessage>();
  #surbs = new Map<string, SurbRecord>();
  #replySurbs = new Map<string, Uint8Array[]>();
  #loops = new Map<string, number>();
  #reassembler: Reassembler;
  #cursor = 0;
  #stats: ClientStats = {
    payloadPackets: 0,
    retransmissions: 0,
    drops: 0,
    loopsSent: 0,
    loopsReturned: 0,
    loopsLost: 0,
    loopLossRate: 0,
    acks: 0,
    duplicates: 0,
    queued: 0,
    unacked: 0,
    delivered: 0,
    rejected: 0,
    incomplete: 0,
  };
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #streaming = false;
  #busy: Promise<unknown> = Promise.resolve();

  /**
   * Creates a client.
   *
   * @param options identity, transport, payload size, rates, hooks
   */
  constructor(options: MessageClientOptions) {
    this.#o = options;
    this.#sizes = messageSizes(options.payloadSize);
    this.#random = options.random ?? systemRandom;
    this.#now = options.now ?? Date.now;
    this.#reassembler = new Reassembler({ now: this.#now });
  }

  /** The user's address. */
  get address(): MessageAddress {
    return addressOf(this.#o.identity);
  }

  /** Sizes of the format at this payload size. */
  get sizes(): MessageSizes {
    return this.#sizes;
  }

  /** Mean per-hop delay (ms). */
  get meanDelayMs(): number {
    return this.#o.meanDelayMs ?? DEFAULT_MEAN_DELAY_MS;
  }

  /**
   * The ACK timeout: three times the expected round trip (5 forward hops and 4 ACK hops,
   * each with mean delay 1/μ: P(Erlang(9) > 3 × mean) < 10⁻⁵), plus two mailbox polls and
   * 2 s of processing and queueing slack.
   */
  get ackTimeoutMs(): number {
    return this.#o.ackTimeoutMs ??
      Math.round(3 * 9 * this.meanDelayMs + 2 * (this.#o.pollIntervalMs ?? 500) + 2000);
  }

  /** Counters. */
  get stats(): ClientStats {
    const settled = this.#stats.loopsReturned + this.#stats.loopsLost;
    return {
      ...this.#stats,
      loopLossRate: settled === 0 ? 0 : this.#stats.loopsLost / settled,
      queued: this.#queue.length,
      unacked: this.#outgoing.size,
    };
  }

  async #topo(): Promise<MessageTopology> {
    // Keys rotate by epoch: refresh the topology every minute.
    if (this.#topology === undefined || this.#now() - this.#topologyAt > 60_000) {
      this.#topology = await this.#o.transport.topology();
      this.#topologyAt = this.#now();
    }
    return this.#topology;
  }

  /**
   * Queues a message: it is sealed to the recipient, fragmented, and each fragment takes a
   * payload slot ({@linkcode flush} sends at once).
   *
   * @param to the recipient's address (text or decoded)
   * @param body the message
   * @param options reveal the sender's address (signed), SURBs to attach for replies, reply-to id
   * @returns the message id (hex)
   * @throws {InvalidInputError} on a malformed address or an oversized message
   */
  async send(
    to: string | MessageAddress,
    body: Uint8Array,
    options: { revealSender?: boolean; replySurbs?: number } = {},
  ): Promise<string> {
    const address = typeof to === "string" ? decodeAddress(to) : to;
    const messageId = randomBytes(MESSAGE_ID_SIZE, this.#random);
    const content: Record<string, unknown> = {
      v: 1,
      kind: "message.content",
      body,
      sentAt: this.#now(),
    };
    if (options.revealSender) {
      content.from = encodeAddress(this.address);
      content.proof = ed25519.sign(
        senderDigest(messageId, address.mailbox, body),
        this.#o.identity.mailboxKey.secretKey,
      );
    }
    const surbCount = options.replySurbs ?? 0;
    if (surbCount > 0) {
      const topology = await this.#topo();
      const surbs: Uint8Array[] = [];
      for (let i = 0; i < surbCount; i++) {
        const { surb, secret } = await createSphinxSurb({
          route: layeredRoute(topology, {
            first: providerById(topology, address.provider),
            last: providerById(topology, this.#o.identity.provider),
            meanDelayMs: this.meanDelayMs,
            random: this.#random,
          }),
          recipient: this.#o.identity.mailboxKey.publicKey,
          random: this.#random,
        });
        this.#surbs.set(toHex(secret.surbId), {
          purpose: "reply",
          secret: encodeSphinxSurbSecret(secret),
          created: this.#now(),
        });
        surbs.push(encodeSphinxSurb(surb));
      }
      content.surbs = surbs;
    }
    const encoded = encodeMsgpack(content);
    const fragments = splitMessage(encoded, {
      messageId,
      dataSize: this.#sizes.dataPerPacket,
    });
    const id = toHex(messageId);
    const toText = encodeAddress(address);
    for (const f of fragments) {
      const key = `${id}:${f.index}`;
      this.#outgoing.set(key, {
        messageId: id,
        index: f.index,
        to: toText,
        slot: encodeFragment(f, this.#sizes.slotSize),
        attempts: 0,
        deadline: Number.POSITIVE_INFINITY,
      });
      this.#queue.push({ kind: "fragment", key });
    }
    this.#sent.set(id, {
      id,
      fragments: fragments.length,
      remaining: fragments.length,
      transmissions: 0,
      started: this.#now(),
    });
    await this.#persist();
    return id;
  }

  /**
   * Replies to a received message through the SURBs it carried; the reply's recipient
   * stays unknown to us. Each SURB carries one fragment.
   *
   * @param messageId id (hex) of the received message
   * @param body the reply
   * @returns the reply's message id (hex)
   * @throws {NotFoundError} when the message carried no (or too few) SURBs
   */
  async reply(messageId: string, body: Uint8Array): Promise<string> {
    const surbs = this.#replySurbs.get(messageId) ?? [];
    const replyId = randomBytes(MESSAGE_ID_SIZE, this.#random);
    const encoded = encodeMsgpack({
      v: 1,
      kind: "message.content",
      body,
      sentAt: this.#now(),
      inReplyTo: fromHex(messageId, "messageId"),
    });
    const fragments = splitMessage(encoded, {
      messageId: replyId,
      dataSize: this.#sizes.dataPerReply,
    });
    if (surbs.length < fragments.length) {
      throw new NotFoundError(
        `Message ${messageId} carried ${surbs.length} unused SURBs; this reply needs ${fragments.length}`,
      );
    }
    for (const f of fragments) {
      const surb = decodeSphinxSurb(surbs.shift()!);
      const { packet } = createSphinxReply(surb, {
        message: encodeFragment(f, this.#sizes.capacity),
        payloadSize: this.#sizes.payloadSize,
      });
      // A SURB's first hop is the original sender's view of our provider: submit there.
      this.#queue.push({ kind: "reply", packet });
    }
    if (surbs.length === 0) this.#replySurbs.delete(messageId);
    await this.#persist();
    return toHex(replyId);
  }

  async #dataPacket(to: MessageAddress, slot: Uint8Array, purpose: "ack" | "loop", key?: string) {
    const topology = await this.#topo();
    const own = providerById(topology, this.#o.identity.provider);
    const { surb, secret } = await createSphinxSurb({
      route: layeredRoute(topology, {
        last: own,
        meanDelayMs: this.meanDelayMs,
        random: this.#random,
      }),
      recipient: this.#o.identity.mailboxKey.publicKey,
      random: this.#random,
    });
    this.#surbs.set(toHex(secret.surbId), {
      purpose,
      secret: encodeSphinxSurbSecret(secret),
      ...(key === undefined ? {} : { key }),
      created: this.#now(),
    });
    const sealed = await hpkeSeal(to.encryptionKey, slot);
    const { packet } = await createSphinxPacket(encodeDataMessage(encodeSphinxSurb(surb), sealed), {
      route: layeredRoute(topology, {
        first: own,
        last: providerById(topology, to.provider),
        meanDelayMs: this.meanDelayMs,
        random: this.#random,
      }),
      recipient: to.mailbox,
      payloadSize: this.#sizes.payloadSize,
      random: this.#random,
    });
    return packet;
  }

  async #loopPacket(): Promise<{ packet: Uint8Array; id: string }> {
    const loopId = randomBytes(16, this.#random);
    const slot = new Uint8Array(this.#sizes.slotSize);
    slot[0] = LOOP_KIND;
    slot.set(loopId, 1);
    const id = toHex(loopId);
    this.#loops.set(id, this.#now());
    this.#stats.loopsSent++;
    return { packet: await this.#dataPacket(this.address, slot, "loop"), id };
  }

  async #dropPacket(): Promise<Uint8Array> {
    // Drops go to a random provider's all-zero mailbox, which discards them (Loopix §4.2).
    const topology = await this.#topo();
    const message = randomBytes(this.#sizes.capacity, this.#random);
    message[0] = 1;
    const { packet } = await createSphinxPacket(message, {
      route: layeredRoute(topology, {
        first: providerById(topology, this.#o.identity.provider),
        last: randomProvider(topology, this.#random),
        meanDelayMs: this.meanDelayMs,
        random: this.#random,
      }),
      recipient: new Uint8Array(32),
      payloadSize: this.#sizes.payloadSize,
      random: this.#random,
    });
    this.#stats.drops++;
    return packet;
  }

  /** Builds the packet for a queued item, or undefined when it no longer needs sending. */
  async #packetFor(item: QueueItem): Promise<Uint8Array | undefined> {
    if (item.kind === "reply") return item.packet;
    const out = this.#outgoing.get(item.key!);
    if (out === undefined) return undefined; // ACKed meanwhile
    const packet = await this.#dataPacket(decodeAddress(out.to), out.slot, "ack", item.key);
    out.attempts++;
    out.deadline = this.#now() + this.ackTimeoutMs;
    const sent = this.#sent.get(out.messageId);
    if (sent) sent.transmissions++;
    if (out.attempts === 1) this.#stats.payloadPackets++;
    else this.#stats.retransmissions++;
    return packet;
  }

  async #submit(packets: Uint8Array[], requeue: QueueItem[]): Promise<void> {
    if (packets.length === 0) return;
    const statuses = await this.#o.transport.submit(packets);
    statuses.forEach((s, i) => {
      // Busy or transient: the item waits for its ACK timeout and is retransmitted then.
      if (s !== 0 && requeue[i]?.kind === "reply") this.#queue.push(requeue[i]!);
    });
  }

  /**
   * Sends every queued packet now, without waiting for payload slots (no cover traffic:
   * for one-shot commands; a long-running client uses {@linkcode start}).
   *
   * @returns packets sent
   */
  async flush(): Promise<number> {
    const items = this.#queue.splice(0);
    const packets: Uint8Array[] = [];
    const sentItems: QueueItem[] = [];
    for (const item of items) {
      const p = await this.#packetFor(item);
      if (p) {
        packets.push(p);
        sentItems.push(item);
      }
    }
    await this.#persist();
    for (let i = 0; i < packets.length; i += 256) {
      await this.#submit(packets.slice(i, i + 256), sentItems.slice(i, i + 256));
    }
    return packets.length;
  }

  /** Requeues fragments whose ACK is overdue; fails messages out of attempts. */
  #checkTimeouts(): void {
    const now = this.#now();
    const max = this.#o.maxAttempts ?? 6;
    for (const [key, out] of this.#outgoing) {
      if (out.deadline > now) continue;
      if (out.attempts >= max) {
        this.#outgoing.delete(key);
        const sent = this.#sent.get(out.messageId);
        if (sent) {
          this.#sent.delete(out.messageId);
          for (const k of [...this.#outgoing.keys()]) {
            if (k.startsWith(`${out.messageId}:`)) this.#outgoing.delete(k);
          }
          this.#o.onSent?.({
            id: sent.id,
            status: "failed",
            fragments: sent.fragments,
            transmissions: sent.transmissions,
            latencyMs: now - sent.started,
          });
        }
        continue;
      }
      out.deadline = Number.POSITIVE_INFINITY; // queued: not again until re-sent
      this.#queue.unshift({ kind: "fragment", key });
    }
    const loopTimeout = this.ackTimeoutMs;
    for (const [id, t] of this.#loops) {
      if (now - t > loopTimeout) {
        this.#loops.delete(id);
        this.#stats.loopsLost++;
      }
    }
    for (const [id, s] of this.#surbs) {
      if (s.purpose !== "reply" && now - s.created > 10 * loopTimeout) this.#surbs.delete(id);
    }
  }

  /**
   * Fetches the mailbox, opens and reassembles what came, records ACKs and loops, persists
   * the state, then deletes the processed items from the mailbox.
   *
   * @returns the messages delivered by this poll
   */
  async poll(): Promise<ReceivedMessage[]> {
    const items = await this.#o.transport.fetch(this.#cursor);
    const delivered: ReceivedMessage[] = [];
    for (const item of items) {
      try {
        const m = await this.#process(item);
        if (m) delivered.push(m);
      } catch {
        this.#stats.rejected++;
      }
      this.#cursor = Math.max(this.#cursor, item.id);
    }
    this.#checkTimeouts();
    this.#reassembler.forgetDelivered(7 * 24 * 3600 * 1000);
    for (const p of this.#reassembler.expire(this.#o.incompleteTimeoutMs ?? 3600_000)) {
      this.#stats.incomplete++;
      this.#o.onIncomplete?.({ id: toHex(p.messageId), have: p.have, count: p.count });
    }
    for (const m of delivered) await this.#o.onMessage?.(m);
    if (items.length > 0) {
      await this.#persist();
      await this.#o.transport.remove(items.map((i) => i.id));
    }
    return delivered;
  }

  async #process(item: MailboxItem): Promise<ReceivedMessage | undefined> {
    if (item.kind === "reply") {
      const id = toHex(item.surbId ?? new Uint8Array(SPHINX_SURB_ID_SIZE));
      const record = this.#surbs.get(id);
      if (record === undefined) throw new InvalidInputError("Reply for an unknown SURB");
      this.#surbs.delete(id);
      const opened = openSphinxReply(decodeSphinxSurbSecret(record.secret), item.payload);
      if (record.purpose === "loop") return undefined; // the ACK of a loop
      if (record.purpose === "ack") {
        if (!constantTimeEqual(opened, ACK_MESSAGE)) throw new InvalidInputError("Bad ACK");
        this.#ack(record.key!);
        return undefined;
      }
      return this.#fragment(opened, "reply");
    }
    const slot = await hpkeOpen(this.#o.identity.encryptionKey, item.payload);
    if (slot[0] === LOOP_KIND) {
      const id = toHex(slot.subarray(1, 17));
      if (this.#loops.delete(id)) this.#stats.loopsReturned++;
      return undefined;
    }
    return this.#fragment(slot, "message");
  }

  #ack(key: string): void {
    const out = this.#outgoing.get(key);
    if (out === undefined) return; // a late ACK of a retransmitted fragment
    this.#stats.acks++;
    this.#outgoing.delete(key);
    const sent = this.#sent.get(out.messageId);
    if (sent === undefined) return;
    sent.remaining--;
    if (sent.remaining === 0) {
      this.#sent.delete(out.messageId);
      this.#o.onSent?.({
        id: sent.id,
        status: "delivered",
        fragments: sent.fragments,
        transmissions: sent.transmissions,
        latencyMs: this.#now() - sent.started,
      });
    }
  }

  #fragment(slot: Uint8Array, kind: "message" | "reply"): ReceivedMessage | undefined {
    const result = this.#reassembler.add(decodeFragment(slot));
    if (result.status === "duplicate") {
      this.#stats.duplicates++;
      return undefined;
    }
    if (result.status !== "complete") return undefined;
    const content = decodeMsgpack(result.message, "message content") as Record<string, unknown>;
    if (content.kind !== "message.content" || !(content.body instanceof Uint8Array)) {
      throw new InvalidInputError("Message content is malformed");
    }
    const id = toHex(result.messageId);
    const message: ReceivedMessage = {
      id,
      kind,
      body: content.body,
      sentAt: typeof content.sentAt === "number" ? content.sentAt : 0,
      receivedAt: this.#now(),
      replySurbs: 0,
    };
    if (typeof content.from === "string" && content.proof instanceof Uint8Array) {
      try {
        const from = decodeAddress(content.from);
        const ok = ed25519.verify(
          content.proof,
          senderDigest(result.messageId, this.#o.identity.mailboxKey.publicKey, content.body),
          from.mailbox,
        );
        if (ok) message.from = content.from;
      } catch { /* an unproven sender stays anonymous */ }
    }
    if (content.inReplyTo instanceof Uint8Array) message.inReplyTo = toHex(content.inReplyTo);
    if (Array.isArray(content.surbs)) {
      const surbs = content.surbs.filter((s): s is Uint8Array => s instanceof Uint8Array);
      if (surbs.length > 0) this.#replySurbs.set(id, surbs);
      message.replySurbs = surbs.length;
    }
    this.#stats.delivered++;
    return message;
  }

  /**
   * Starts the Poisson streams (λ_P, λ_L, λ_D) and mailbox polling.
   */
  start(): void {
    if (this.#streaming) return;
    this.#streaming = true;
    const rates = this.#o.rates ?? DEFAULT_COVER_RATES;
    const stream = (rate: number, action: () => Promise<void>) => {
      if (rate <= 0) return;
      const next = () => {
        if (!this.#streaming) return;
        const t = setTimeout(() => {
          this.#timers.delete(t);
          // Actions run one at a time; the next arrival is drawn independently (Poisson).
          // Actions still queued when the client stops are skipped (a queued real packet
          // stays in the queue).
          this.#busy = this.#busy.then(() => this.#streaming ? action() : undefined).catch(
            () => {},
          );
          next();
        }, sphinxExponentialDelayMs(1000 / rate, this.#random));
        this.#timers.add(t);
      };
      next();
    };
    stream(rates.payload, async () => {
      // A payload slot: the next real packet, else a drop (Loopix §4.2).
      let packet: Uint8Array | undefined;
      let item: QueueItem | undefined;
      while (packet === undefined && this.#queue.length > 0) {
        item = this.#queue.shift()!;
        packet = await this.#packetFor(item);
      }
      if (packet === undefined) {
        await this.#submit([await this.#dropPacket()], []);
        return;
      }
      await this.#persist();
      await this.#submit([packet], [item!]);
    });
    stream(rates.loop, async () => {
      const { packet, id } = await this.#loopPacket();
      try {
        await this.#submit([packet], []);
      } catch (error) {
        // Refused at the provider (e.g. no access token): it never entered the network, so
        // it says nothing about the mixes' loss.
        this.#loops.delete(id);
        this.#stats.loopsSent--;
        throw error;
      }
    });
    stream(rates.drop, async () => await this.#submit([await this.#dropPacket()], []));
    const pollMs = this.#o.pollIntervalMs ?? 500;
    const poll = () => {
      if (!this.#streaming) return;
      const t = setTimeout(() => {
        this.#timers.delete(t);
        this.#busy = this.#busy.then(() => this.poll()).catch(() => {}).finally(poll);
      }, pollMs);
      this.#timers.add(t);
    };
    poll();
  }

  /** Stops the streams; waits for the action in progress. */
  async stop(): Promise<void> {
    this.#streaming = false;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#busy;
  }

  /** Whether messages are waiting to be sent or acknowledged. */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#outgoing.size === 0;
  }

  /** Messages still incomplete here. */
  incomplete(): { id: string; have: number; count: number }[] {
    return this.#reassembler.pending().map((p) => ({
      id: toHex(p.messageId),
      have: p.have,
      count: p.count,
    }));
  }

  /** Unused reply SURBs per received message id. */
  replySurbCount(messageId: string): number {
    return this.#replySurbs.get(messageId)?.length ?? 0;
  }

  /**
   * The state to persist (msgpack).
   *
   * @returns bytes for {@linkcode restore}
   */
  state(): Uint8Array {
    const state: PersistedState = {
      v: 1,
      kind: "message.client-state",
      cursor: this.#cursor,
      outgoing: [...this.#outgoing.values()],
      sent: [...this.#sent.values()],
      surbs: [...this.#surbs],
      replySurbs: [...this.#replySurbs],
      loops: [...this.#loops],
      reassembler: this.#reassembler.state(),
      stats: this.#stats,
    };
    return encodeMsgpack(state);
  }

  /**
   * Restores persisted state; unacknowledged fragments are queued again.
   *
   * @param bytes what {@linkcode state} returned
   * @throws {InvalidInputError} when the bytes are not a client state
   */
  restore(bytes: Uint8Array): void {
    const s = decodeMsgpack(bytes, "client state") as PersistedState;
    if (s?.kind !== "message.client-state" || s.v !== 1) {
      throw new InvalidInputError("Client state file is not a message client state (v1)");
    }
    this.#cursor = s.cursor;
    this.#outgoing = new Map(
      s.outgoing.map((o) => [`${o.messageId}:${o.index}`, { ...o, deadline: 0 }]),
    );
    this.#sent = new Map(s.sent.map((m) => [m.id, m]));
    this.#surbs = new Map(s.surbs);
    this.#replySurbs = new Map(s.replySurbs);
    this.#loops = new Map(s.loops);
    this.#reassembler.restore(s.reassembler);
    this.#stats = { ...this.#stats, ...s.stats };
    this.#queue = [];
    this.#checkTimeouts();
  }

  async #persist(): Promise<void> {
    if (this.#o.onState) await this.#o.onState(this.state());
  }
}

function senderDigest(messageId: Uint8Array, recipient: Uint8Array, body: Uint8Array): Uint8Array {
  // The sender signs which message, to whom, and what: a proof cannot be moved to another.
  return labelledDigest(MESSAGE_LABELS.senderProof, [messageId, recipient, sha256(body)]);
}

/**
 * Text of a message body for display (UTF-8, replacement characters for bad bytes).
 *
 * @param body the bytes
 * @returns the text
 */
export function bodyText(body: Uint8Array): string {
  return decoder.decode(body);
}
