/**
 * The client side of the provider API over HTTP (signed with the user's mailbox key) and
 * the directory topology: the {@linkcode MessageTransport} of `panoramix msg`.
 *
 * @module
 */

import { fromBase64Url } from "../core/bytes.ts";
import { encodeMsgpack, type Envelope } from "../core/envelope.ts";
import { PanoramixError } from "../core/errors.ts";
import { randomBytes } from "../core/random.ts";
import { fetchAnsweringChallenge, TokenHttpError, type TokenSource } from "../plugins/token/mod.ts";
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
import { signRequest } from "./node/auth.ts";
import { NodeClient, NodeHttpError } from "./node/client.ts";
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
  /** Which client requests need Privacy Pass tokens (absent on providers without the gate). */
  tokens?: { send: boolean; register: boolean; packetsPerToken: number };
}

/**
 * POSTs a signed envelope to a provider and answers a PrivateToken challenge (RFC 9577)
 * with one token from `tokens`; each attempt is signed afresh (a signature is accepted
 * once).
 *
 * @param url provider HTTP URL
 * @param path request path
 * @param envelope the body
 * @param identity the mailbox key that signs
 * @param tokens where a token comes from when the provider asks for one
 * @param what what the request does, for errors ("send packets")
 * @returns the parsed JSON answer
 * @throws {TokenHttpError} 401 when a token is needed and none was given, or the provider
 *   refused the token; the token source's own error (an empty wallet) as is
 */
export async function postToProvider(
  url: string,
  path: string,
  envelope: Envelope,
  identity: MessageIdentity["mailboxKey"],
  tokens: TokenSource | undefined,
  what: string,
): Promise<unknown> {
  const body = encodeMsgpack(envelope);
  const base = url.replace(/\/+$/, "");
  const signedFetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(signRequest(identity, { method: "POST", path, body }))) {
      headers.set(k, v);
    }
    return fetch(input, { ...init, headers, signal: AbortSignal.timeout(30_000) });
  };
  let result;
  try {
    result = await fetchAnsweringChallenge(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/msgpack" },
      body: body as BodyInit,
    }, { token: tokens, fetch: signedFetch });
  } catch (error) {
    if (error instanceof PanoramixError) throw error; // the token source's (empty wallet)
    throw new PanoramixError("unavailable", `Provider '${url}' cannot be reached`, {
      cause: error,
    });
  }
  const { response, challenged, presented } = result;
  const text = await response.text();
  let answer: { error?: string; message?: string } | undefined;
  try {
    answer = text === "" ? undefined : JSON.parse(text);
  } catch { /* not JSON */ }
  if (response.ok) return answer;
  const message = answer?.message ?? text.slice(0, 200);
  if (response.status === 401 && challenged) {
    throw new TokenHttpError(
      401,
      presented
        ? `Provider refused the token: ${message}`
        : `Provider '${url}' requires a Privacy Pass token to ${what} (WWW-Authenticate: PrivateToken); pass '--token-wallet FILE' (filled by 'panoramix token fetch --service ${url}')`,
    );
  }
  throw new NodeHttpError(response.status, answer?.error ?? "internal", message);
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
 * A client profile for a provider, from its public info.
 *
 * @param url provider HTTP URL
 * @param info what the provider's `/v1/provider/info` answered
 * @param options the user's seed (default all zero, for tests and demos) and the directory key
 *   to check the topology's signature with (default "": not checked)
 * @returns the profile
 * @example
 * ```ts ignore
 * const profile = providerProfile(url, await providerInfo(url));
 * ```
 */
export function providerProfile(
  url: string,
  info: ProviderInfo,
  options: { seed?: Uint8Array; directoryKey?: string } = {},
): MsgProfile {
  return {
    seed: options.seed ?? new Uint8Array(32),
    providerUrl: url,
    provider: fromBase64Url(info.provider, "provider"),
    directoryUrl: info.directoryUrl,
    directoryKey: options.directoryKey ?? "",
    payloadSize: info.payloadSize,
    layers: info.layers,
  };
}

/**
 * Registers a user's mailbox key with a provider (signed by that key).
 *
 * @param url provider HTTP URL
 * @param identity the user's identity
 * @param tokens where a token comes from when the provider charges one for registering
 */
export async function registerWithProvider(
  url: string,
  identity: MessageIdentity,
  tokens?: TokenSource,
): Promise<void> {
  await postToProvider(
    url,
    "/v1/provider/register",
    { v: 1, kind: "provider.register", nonce: randomBytes(8) },
    identity.mailboxKey,
    tokens,
    "register a mailbox",
  );
}

/** The provider and directory over HTTP. */
export class ProviderTransport implements MessageTransport {
  #profile: MsgProfile;
  #identity: MessageIdentity;
  #tokens: TokenSource | undefined;
  /** Packets the provider still credits this key with ("provider.send"), once it said so. */
  credit: number | undefined;

  /**
   * Creates the transport.
   *
   * @param profile provider and directory
   * @param identity the user's identity (its mailbox key signs every request)
   * @param tokens where tokens come from when the provider asks for one (a wallet)
   */
  constructor(profile: MsgProfile, identity: MessageIdentity, tokens?: TokenSource) {
    this.#profile = profile;
    this.#identity = identity;
    this.#tokens = tokens;
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
    const { statuses, credit } = await postToProvider(
      this.#profile.providerUrl,
      "/v1/provider/packets",
      { v: 1, kind: "provider.packets", packets, nonce: randomBytes(8) },
      this.#identity.mailboxKey,
      this.#tokens,
      "send packets",
    ) as { statuses: number[]; credit?: number };
    if (credit !== undefined) this.credit = credit;
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
  tokens?: TokenSource;
  rates?: CoverRates;
  meanDelayMs?: number;
  pollIntervalMs?: number;
  onSent?: (report: SentReport) => void;
  onMessage?: (message: ReceivedMessage, isNew: boolean) => void;
}): MessageClient {
  const { store } = options;
  const client = new MessageClient({
    identity: options.identity,
    transport: options.transport ??
      new ProviderTransport(options.profile, options.identity, options.tokens),
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
