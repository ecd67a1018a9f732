/**
 * The client side of the provider API over HTTP (signed with the user's mailbox key) and
 * the directory topology: the {@linkcode MessageTransport} of `panoramix msg`.
 *
 * @module
 */

import { fromBase64Url } from "../core/bytes.ts";
import { randomBytes } from "../core/random.ts";
import {
  type CoverRates,
  type MailboxItem,
  MessageClient,
  type MessageIdentity,
  type MessageTopology,
  type MessageTransport,
  type ReceivedMessage,
  type SentReport,
} from "../plugins/message/mod.ts";
import { NodeClient } from "./node/client.ts";
import { deleteMailboxItems, fetchMailbox } from "./node/mailbox.ts";
import { messageTopology } from "./node/message_topology.ts";
import { fetchTopology } from "./node/sphinx_client.ts";
import type { MsgProfile, MsgStore } from "./msg_store.ts";

/** What `GET /v1/provider/info` answers. */
export interface ProviderInfo {
  /** Provider node id (base64url). */
  provider: string;
  /** Sphinx payload size. */
  payloadSize: number;
  /** Mix layers. */
  layers: number;
  /** Mailbox TTL. */
  mailboxTtlSeconds: number;
  /** Directory URL. */
  directoryUrl: string;
  /** Directory key or "". */
  directoryKey: string;
}

/**
 * Reads a provider's public info.
 *
 * @param url provider HTTP URL
 * @returns the info
 */
export async function providerInfo(url: string): Promise<ProviderInfo> {
  return await new NodeClient(url, { timeoutMs: 10_000 }).getJson(
    "/v1/provider/info",
  ) as ProviderInfo;
}

/**
 * Registers a user's mailbox key with a provider (signed by that key).
 *
 * @param url provider HTTP URL
 * @param identity the user's identity
 */
export async function registerWithProvider(url: string, identity: MessageIdentity): Promise<void> {
  await new NodeClient(url, { identity: identity.mailboxKey, timeoutMs: 10_000 }).postEnvelope(
    "/v1/provider/register",
    { v: 1, kind: "provider.register", nonce: randomBytes(8) },
  );
}

/** The provider and directory over HTTP. */
export class ProviderTransport implements MessageTransport {
  #profile: MsgProfile;
  #identity: MessageIdentity;
  #client: NodeClient;

  /**
   * Creates the transport.
   *
   * @param profile provider and directory
   * @param identity the user's identity (its mailbox key signs every request)
   */
  constructor(profile: MsgProfile, identity: MessageIdentity) {
    this.#profile = profile;
    this.#identity = identity;
    this.#client = new NodeClient(profile.providerUrl, {
      identity: identity.mailboxKey,
      timeoutMs: 30_000,
    });
  }

  /** The stratified topology from the directory (signature checked). */
  async topology(): Promise<MessageTopology> {
    const key = this.#profile.directoryKey
      ? fromBase64Url(this.#profile.directoryKey, "directoryKey")
      : undefined;
    const t = await fetchTopology(new NodeClient(this.#profile.directoryUrl), key);
    return messageTopology(t, { layers: this.#profile.layers });
  }

  /** Submits packets to the provider. */
  async submit(packets: Uint8Array[]): Promise<number[]> {
    const { statuses } = await this.#client.postEnvelope("/v1/provider/packets", {
      v: 1,
      kind: "provider.packets",
      packets,
      nonce: randomBytes(8),
    }) as { statuses: number[] };
    return statuses;
  }

  /** Reads the mailbox. */
  async fetch(after: number): Promise<MailboxItem[]> {
    const items = await fetchMailbox(this.#profile.providerUrl, {
      identity: this.#identity.mailboxKey,
      after,
    });
    return items.map((i) => ({
      id: i.id,
      kind: i.kind,
      ...(i.surbId === undefined ? {} : { surbId: i.surbId }),
      payload: i.message,
      time: i.time,
    }));
  }

  /** Deletes mailbox items. */
  async remove(ids: number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 5000) {
      await deleteMailboxItems(this.#profile.providerUrl, {
        identity: this.#identity.mailboxKey,
        ids: ids.slice(i, i + 5000),
      });
    }
  }
}

/**
 * A message client wired to the local store: state restored and persisted, messages
 * written to the inbox before the mailbox is cleared.
 *
 * @param options profile, identity, store, rates, hooks
 * @returns the client
 */
export function openMessageClient(options: {
  profile: MsgProfile;
  identity: MessageIdentity;
  store: MsgStore;
  transport?: MessageTransport;
  rates?: CoverRates;
  meanDelayMs?: number;
  pollIntervalMs?: number;
  onSent?: (report: SentReport) => void;
  onMessage?: (message: ReceivedMessage, isNew: boolean) => void;
}): MessageClient {
  const { store } = options;
  const client = new MessageClient({
    identity: options.identity,
    transport: options.transport ?? new ProviderTransport(options.profile, options.identity),
    payloadSize: options.profile.payloadSize,
    ...(options.rates === undefined ? {} : { rates: options.rates }),
    ...(options.meanDelayMs === undefined ? {} : { meanDelayMs: options.meanDelayMs }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    onState: (s) => store.saveState(s),
    onMessage: (m) => {
      const isNew = store.addMessage(m);
      options.onMessage?.(m, isNew);
    },
    ...(options.onSent === undefined ? {} : { onSent: options.onSent }),
  });
  const saved = store.loadState();
  if (saved) client.restore(saved);
  return client;
}
