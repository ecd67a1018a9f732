/**
 * `panoramix msg ...`: anonymous messaging over the Sphinx network (docs/message.md).
 * `init` creates an identity and registers it with a provider, `address` prints it,
 * `send`, `inbox` and `reply` are one-shot commands, and `client` is the long-running
 * client that keeps the Poisson streams going and serves a local API on 127.0.0.1.
 *
 * @module
 */

import { msgSimulateCommand } from "./msg_simulate_command.ts";
import { buildCommand, buildRouteMap } from "@stricli/core";
import { fromBase64Url, toBase64Url } from "../core/bytes.ts";
import { ConfigError, InvalidInputError, PanoramixError, UsageError } from "../core/errors.ts";
import { randomBytes } from "../core/random.ts";
import {
  bodyText,
  type CoverRates,
  decodeAddress,
  DEFAULT_COVER_RATES,
  DEFAULT_MEAN_DELAY_MS,
  deriveIdentity,
  encodeAddress,
  type MessageClient,
  type ReceivedMessage,
  type SentReport,
} from "../plugins/message/mod.ts";
import type { CliContext } from "./context.ts";
import { integerFlag, positiveInteger, positiveNumber } from "./flags.ts";

/** A rate flag: a finite number ≥ 0 (0 turns the stream off). */
function rate(what: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
      throw new UsageError(`Flag '${what}' must be a number ≥ 0 (per second), got '${text}'`);
    }
    return value;
  };
}
import {
  defaultMsgDir,
  type InboxMessage,
  MsgStore,
  readProfile,
  writeProfile,
} from "./msg_store.ts";
import {
  openMessageClient,
  providerInfo,
  providerProfile,
  ProviderTransport,
  registerWithProvider,
} from "./msg_transport.ts";
import { TokenHttpError, type TokenSource } from "../plugins/token/mod.ts";
import { walletTokenSource } from "./token_command.ts";

const walletFlag = {
  kind: "parsed",
  parse: String,
  optional: true,
  brief:
    "Token wallet (panoramix token fetch) for a provider that requires Privacy Pass tokens; one token buys a batch of packets",
} as const;

/** The wallet as a token source; `say` reports each token taken (stderr). */
function walletSource(
  wallet: string | undefined,
  providerUrl: string,
  say: (line: string) => void,
): TokenSource | undefined {
  if (wallet === undefined) return undefined;
  return walletTokenSource(
    wallet,
    providerUrl,
    (left) => say(`provider asked for a token: spent 1, ${left} left in ${wallet}\n`),
  );
}

const jsonFlag = { kind: "boolean", optional: true, brief: "Print JSON" } as const;
const dirFlag = {
  kind: "parsed",
  parse: String,
  optional: true,
  brief: "Directory of the messaging files (default $PANORAMIX_MSG_DIR or ~/.panoramix/msg)",
} as const;
const textFlag = { kind: "parsed", parse: String, optional: true, brief: "Message text" } as const;
const fileFlag = {
  kind: "parsed",
  parse: String,
  optional: true,
  brief: "Send the contents of this file (up to 16 MiB)",
} as const;
const delayFlag = {
  kind: "parsed",
  parse: positiveNumber("--mean-delay-ms"),
  default: String(DEFAULT_MEAN_DELAY_MS),
  brief: "Mean per-hop delay 1/μ in ms (Poisson mixing)",
} as const;

function dirOf(ctx: CliContext, dir: string | undefined): string {
  return (dir ?? defaultMsgDir(ctx.env)).replace(/\/+$/, "") || ".";
}

async function bodyOf(flags: { text?: string; file?: string }): Promise<Uint8Array> {
  if ((flags.text === undefined) === (flags.file === undefined)) {
    throw new UsageError("Give exactly one of --text and --file");
  }
  if (flags.text !== undefined) return new TextEncoder().encode(flags.text);
  try {
    return await Deno.readFile(flags.file!);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new InvalidInputError(`File '${flags.file}' does not exist`);
    }
    throw error;
  }
}

/** Refuses one-shot commands while a `msg client` owns the same files. */
async function checkNoClient(dir: string): Promise<void> {
  let url: string;
  try {
    url = JSON.parse(await Deno.readTextFile(`${dir}/client.lock`)).url;
  } catch {
    return;
  }
  try {
    const r = await fetch(`${url}/v1/address`, { signal: AbortSignal.timeout(1000) });
    await r.body?.cancel();
  } catch {
    return; // a stale lock: the client is gone
  }
  throw new UsageError(
    `A 'panoramix msg client' is running on these files (API at ${url}); use its API or stop it`,
  );
}

function messageView(m: ReceivedMessage | InboxMessage): Record<string, unknown> {
  return {
    id: m.id,
    kind: m.kind,
    from: m.from ?? null,
    inReplyTo: m.inReplyTo ?? null,
    text: bodyText(m.body),
    data: toBase64Url(m.body),
    sentAt: m.sentAt,
    receivedAt: m.receivedAt,
    latencyMs: m.receivedAt - m.sentAt,
  };
}

function messageLine(m: ReceivedMessage | InboxMessage): string {
  const who = m.kind === "reply"
    ? `reply to ${m.inReplyTo}`
    : m.from
    ? `from ${m.from}`
    : "from an anonymous sender";
  return `[${m.id}] ${new Date(m.receivedAt).toISOString()} ${who}\n${bodyText(m.body)}\n`;
}

/** `panoramix msg init`. */
export const msgInitCommand = buildCommand({
  async func(
    this: CliContext,
    flags: {
      provider: string;
      dir?: string;
      force?: boolean;
      tokenWallet?: string;
      json?: boolean;
    },
  ) {
    const dir = dirOf(this, flags.dir);
    let info;
    try {
      info = await providerInfo(flags.provider);
    } catch (error) {
      throw new PanoramixError(
        "unavailable",
        `Provider '${flags.provider}' did not answer as a provider: ${(error as Error).message}`,
      );
    }
    if (!flags.force && flags.tokenWallet !== undefined) {
      // Before a token is spent on registering a key that would not be kept.
      const exists = await Deno.stat(`${dir}/identity.json`).then(() => true, () => false);
      if (exists) {
        throw new ConfigError(
          `File '${dir}/identity.json' already exists; pass --force to replace it (the old address stops working)`,
        );
      }
    }
    const provider = fromBase64Url(info.provider, "provider");
    const seed = randomBytes(32);
    const identity = await deriveIdentity(seed, provider);
    await registerWithProvider(
      flags.provider,
      identity,
      walletSource(flags.tokenWallet, flags.provider, (l) => void this.stderr.write(l)),
    );
    await writeProfile(
      dir,
      providerProfile(flags.provider, info, { seed, directoryKey: info.directoryKey }),
      flags.force ?? false,
    );
    const { address } = await readProfile(dir);
    await this.stdout.write(
      flags.json
        ? JSON.stringify({ address, provider: info.provider, providerUrl: flags.provider, dir }) +
          "\n"
        : `${address}\n`,
    );
    if (!flags.json) {
      await this.stderr.write(
        `registered with provider ${info.provider} (${flags.provider}); identity in ${dir}/identity.json\n`,
      );
    }
  },
  parameters: {
    flags: {
      provider: { kind: "parsed", parse: String, brief: "URL of your provider's HTTP API" },
      dir: dirFlag,
      force: { kind: "boolean", optional: true, brief: "Replace an existing identity" },
      tokenWallet: walletFlag,
      json: jsonFlag,
    },
  },
  docs: {
    brief: "Create a messaging identity and register it with a provider",
    fullDescription:
      "Prints your address (pmx1…). The seed is written to identity.json (mode 0600).",
  },
});

/** `panoramix msg address`. */
export const msgAddressCommand = buildCommand({
  async func(this: CliContext, flags: { dir?: string; json?: boolean }) {
    const { address, profile } = await readProfile(dirOf(this, flags.dir));
    await this.stdout.write(
      flags.json
        ? JSON.stringify({
          address,
          provider: toBase64Url(profile.provider),
          providerUrl: profile.providerUrl,
        }) + "\n"
        : `${address}\n`,
    );
  },
  parameters: { flags: { dir: dirFlag, json: jsonFlag } },
  docs: { brief: "Print my address" },
});

async function withClient<T>(
  ctx: CliContext,
  options: {
    dir?: string;
    meanDelayMs?: number;
    tokenWallet?: string;
    onSent?: (r: SentReport) => void;
  },
  run: (client: MessageClient, store: MsgStore) => Promise<T>,
): Promise<T> {
  const dir = dirOf(ctx, options.dir);
  const { profile, identity } = await readProfile(dir);
  await checkNoClient(dir);
  const store = new MsgStore(dir);
  try {
    const client = openMessageClient({
      profile,
      identity,
      store,
      pollIntervalMs: 250,
      ...tokensOption(
        walletSource(options.tokenWallet, profile.providerUrl, (l) => void ctx.stderr.write(l)),
      ),
      ...(options.meanDelayMs === undefined ? {} : { meanDelayMs: options.meanDelayMs }),
      ...(options.onSent === undefined ? {} : { onSent: options.onSent }),
    });
    return await run(client, store);
  } finally {
    store.close();
  }
}

/** A transport whose refused submissions (a refused token) are also told to `say`. */
function reportingRefusals(
  transport: ProviderTransport,
  say: (message: string) => void,
): ProviderTransport {
  const submit = transport.submit.bind(transport);
  transport.submit = async (packets) => {
    try {
      return await submit(packets);
    } catch (error) {
      if (error instanceof TokenHttpError) say(error.message);
      throw error;
    }
  };
  return transport;
}

function tokensOption(tokens: TokenSource | undefined): { tokens?: TokenSource } {
  return tokens === undefined ? {} : { tokens };
}

/** `panoramix msg send`. */
export const msgSendCommand = buildCommand({
  async func(this: CliContext, flags: {
    to: string;
    text?: string;
    file?: string;
    reveal?: boolean;
    surbs: number;
    wait: number;
    meanDelayMs: number;
    tokenWallet?: string;
    dir?: string;
    json?: boolean;
  }) {
    const to = decodeAddress(flags.to);
    const body = await bodyOf(flags);
    const reports: SentReport[] = [];
    const result = await withClient(
      this,
      { ...flags, onSent: (r) => reports.push(r) },
      async (client) => {
        const id = await client.send(to, body, {
          revealSender: flags.reveal ?? false,
          replySurbs: flags.surbs,
        });
        const packets = await client.flush();
        await this.stderr.write(`sent ${packets} packet(s); waiting for acknowledgements\n`);
        const deadline = Date.now() + flags.wait * 1000;
        while (Date.now() < deadline && !reports.some((r) => r.id === id)) {
          await new Promise((r) => setTimeout(r, 250));
          await client.poll();
          await client.flush(); // retransmissions
        }
        return { id, packets, report: reports.find((r) => r.id === id) };
      },
    );
    const status = result.report?.status ?? (flags.wait === 0 ? "sent" : "unacknowledged");
    const view = {
      id: result.id,
      status,
      packets: result.packets,
      transmissions: result.report?.transmissions ?? result.packets,
      latencyMs: result.report?.latencyMs ?? null,
    };
    await this.stdout.write(
      flags.json
        ? JSON.stringify(view) + "\n"
        : `${result.id} ${status}${view.latencyMs === null ? "" : ` in ${view.latencyMs} ms`}\n`,
    );
    if (status === "failed" || status === "unacknowledged") {
      throw new PanoramixError(
        "unavailable",
        `Message ${result.id} was not acknowledged within ${flags.wait} s; 'panoramix msg inbox' keeps retransmitting`,
      );
    }
  },
  parameters: {
    flags: {
      to: { kind: "parsed", parse: String, brief: "Recipient address (pmx1…)" },
      text: textFlag,
      file: fileFlag,
      reveal: {
        kind: "boolean",
        optional: true,
        brief: "Reveal (and prove) my address to the recipient; default anonymous",
      },
      surbs: {
        kind: "parsed",
        parse: positiveInteger("--surbs", 16),
        default: "1",
        brief: "Reply blocks (SURBs) to attach so the recipient can reply anonymously",
      },
      wait: {
        kind: "parsed",
        parse: integerFlag("--wait", { min: 0, max: 3600 }),
        default: "60",
        brief: "Seconds to wait for the acknowledgements (0: do not wait)",
      },
      meanDelayMs: delayFlag,
      tokenWallet: walletFlag,
      dir: dirFlag,
      json: jsonFlag,
    },
  },
  docs: {
    brief: "Send a message (one-shot, no cover traffic; 'msg client' adds it)",
    fullDescription:
      "Encrypts to the recipient (HPKE), fragments, sends through your provider and the mix " +
      "layers, and waits until every fragment is acknowledged by the recipient's provider.",
  },
});

/** `panoramix msg inbox`. */
export const msgInboxCommand = buildCommand({
  async func(this: CliContext, flags: {
    follow?: boolean;
    all?: boolean;
    tokenWallet?: string;
    dir?: string;
    json?: boolean;
  }) {
    const print = async (m: ReceivedMessage | InboxMessage) =>
      await this.stdout.write(
        flags.json ? JSON.stringify(messageView(m)) + "\n" : messageLine(m),
      );
    await withClient(this, flags, async (client, store) => {
      const fresh: ReceivedMessage[] = [];
      let stopped = false;
      const stop = () => (stopped = true);
      if (flags.follow) Deno.addSignalListener("SIGINT", stop);
      try {
        // --all: every stored message, including those this call fetches; then (--follow) new ones.
        if (flags.all) {
          for (const m of await client.poll()) fresh.push(m);
          await client.flush();
          for (const m of store.messages()) await print(m);
        }
        while (!flags.all || flags.follow) {
          const got = await client.poll();
          await client.flush(); // retransmissions of our own sent messages
          for (const m of got) {
            fresh.push(m);
            await print(m);
          }
          if (!flags.follow || stopped) break;
          await new Promise((r) => setTimeout(r, 500));
          if (stopped) break;
        }
      } finally {
        if (flags.follow) Deno.removeSignalListener("SIGINT", stop);
      }
      for (const p of client.incomplete()) {
        await this.stderr.write(`message ${p.id} incomplete: ${p.have}/${p.count} fragments\n`);
      }
      if (!flags.json && fresh.length === 0 && !flags.all) {
        await this.stderr.write("no new messages\n");
      }
    });
  },
  parameters: {
    flags: {
      follow: { kind: "boolean", optional: true, brief: "Keep waiting for messages (Ctrl-C)" },
      all: { kind: "boolean", optional: true, brief: "Print every stored message, not only new" },
      tokenWallet: walletFlag,
      dir: dirFlag,
      json: { kind: "boolean", optional: true, brief: "Print one JSON object per line" },
    },
  },
  docs: { brief: "Fetch, decrypt and print new messages" },
});

/** `panoramix msg reply`. */
export const msgReplyCommand = buildCommand({
  async func(
    this: CliContext,
    flags: { text?: string; file?: string; tokenWallet?: string; dir?: string; json?: boolean },
    id: string,
  ) {
    if (!/^[0-9a-f]{32}$/.test(id)) {
      throw new InvalidInputError(`Message id '${id}' must be 32 hex characters`);
    }
    const body = await bodyOf(flags);
    const replyId = await withClient(this, flags, async (client) => {
      const r = await client.reply(id, body);
      await client.flush();
      return r;
    });
    await this.stdout.write(
      flags.json ? JSON.stringify({ id: replyId, inReplyTo: id }) + "\n" : `${replyId}\n`,
    );
  },
  parameters: {
    flags: {
      text: textFlag,
      file: fileFlag,
      tokenWallet: walletFlag,
      dir: dirFlag,
      json: jsonFlag,
    },
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Id of the received message to answer", parse: String }],
    },
  },
  docs: {
    brief: "Reply through the SURBs a message carried (the sender stays unknown to you)",
  },
});

function jsonReply(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value) + "\n", {
    status,
    headers: { "content-type": "application/json" },
  });
}

async function readJson(req: Request): Promise<Record<string, unknown>> {
  try {
    const v = await req.json();
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v;
  } catch { /* below */ }
  throw new InvalidInputError("Body must be a JSON object");
}

function apiBody(body: Record<string, unknown>): Uint8Array {
  if (typeof body.text === "string") return new TextEncoder().encode(body.text);
  if (typeof body.data === "string") return fromBase64Url(body.data, "data");
  throw new InvalidInputError("Give 'text' (a string) or 'data' (base64url)");
}

/**
 * The local API of `msg client`.
 *
 * @param client the running client
 * @param store the inbox
 * @param sent recent send reports
 * @param status more fields of `GET /v1/status` (the token credit)
 * @returns the request handler
 */
export function clientApi(
  client: MessageClient,
  store: MsgStore,
  sent: SentReport[],
  status: () => Record<string, unknown> = () => ({}),
): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    try {
      const route = `${req.method} ${url.pathname}`;
      switch (route) {
        case "GET /v1/address":
          return jsonReply({ address: encodeAddress(client.address) });
        case "GET /v1/status":
          return jsonReply({ stats: client.stats, sent: sent.slice(-100), ...status() });
        case "GET /v1/messages": {
          const after = Number(url.searchParams.get("after") ?? "0");
          if (!Number.isSafeInteger(after) || after < 0) {
            throw new InvalidInputError("Query parameter 'after' must be a sequence number");
          }
          return jsonReply({
            messages: store.messages(after).map((m) => ({ seq: m.seq, ...messageView(m) })),
          });
        }
        case "POST /v1/send": {
          const body = await readJson(req);
          if (typeof body.to !== "string") throw new InvalidInputError("Give 'to' (an address)");
          const surbs = body.surbs ?? 1;
          if (typeof surbs !== "number" || !Number.isInteger(surbs) || surbs < 0 || surbs > 16) {
            throw new InvalidInputError("Value 'surbs' must be an integer from 0 to 16");
          }
          const id = await client.send(decodeAddress(body.to), apiBody(body), {
            revealSender: body.reveal === true,
            replySurbs: surbs,
          });
          return jsonReply({ id, status: "queued" }, 202);
        }
        case "POST /v1/reply": {
          const body = await readJson(req);
          if (typeof body.id !== "string") throw new InvalidInputError("Give 'id' (a message id)");
          const id = await client.reply(body.id, apiBody(body));
          return jsonReply({ id, inReplyTo: body.id, status: "queued" }, 202);
        }
        default:
          return jsonReply({ error: "not_found", message: `No route ${route}` }, 404);
      }
    } catch (error) {
      if (error instanceof PanoramixError) {
        const status = error.code === "not_found" ? 404 : 400;
        return jsonReply({ error: error.code, message: error.message }, status);
      }
      return jsonReply({ error: "internal", message: (error as Error).message }, 500);
    }
  };
}

/** `panoramix msg client`. */
export const msgClientCommand = buildCommand({
  async func(this: CliContext, flags: {
    listen: string;
    ratePayload: number;
    rateLoop: number;
    rateDrop: number;
    meanDelayMs: number;
    pollMs: number;
    readyFile?: string;
    tokenWallet?: string;
    dir?: string;
  }) {
    const m = /^(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$/.exec(flags.listen);
    if (!m) {
      throw new UsageError(
        `--listen must be a loopback address such as 127.0.0.1:8480, got '${flags.listen}'`,
      );
    }
    const dir = dirOf(this, flags.dir);
    const { profile, identity, address } = await readProfile(dir);
    await checkNoClient(dir);
    const store = new MsgStore(dir);
    const sent: SentReport[] = [];
    // The streams swallow a failed submission (the packet is retransmitted later), so a
    // wallet that runs dry or a refused token is said here, once per new reason.
    let lastTokenError = "";
    const say = (line: string) => void this.stderr.write(line);
    const wallet = walletSource(flags.tokenWallet, profile.providerUrl, (line) => {
      lastTokenError = "";
      say(line);
    });
    const tokens: TokenSource | undefined = wallet === undefined
      ? undefined
      : async (challenge) => {
        try {
          return await (wallet as (c: string) => Promise<Uint8Array>)(challenge);
        } catch (error) {
          const message = (error as Error).message;
          if (message !== lastTokenError) {
            lastTokenError = message;
            say(`panoramix: error: ${message}; packets wait until the wallet is refilled\n`);
          }
          throw error;
        }
      };
    const rates: CoverRates = {
      payload: flags.ratePayload,
      loop: flags.rateLoop,
      drop: flags.rateDrop,
    };
    const transport = tokens === undefined
      ? undefined
      : reportingRefusals(new ProviderTransport(profile, identity, tokens), (m) => {
        if (m !== lastTokenError) {
          lastTokenError = m;
          say(`panoramix: error: ${m}\n`);
        }
      });
    const client = openMessageClient({
      profile,
      identity,
      store,
      rates,
      ...(transport === undefined ? {} : { transport }),
      meanDelayMs: flags.meanDelayMs,
      pollIntervalMs: flags.pollMs,
      onSent: (r) => {
        sent.push(r);
        if (sent.length > 1000) sent.splice(0, 500);
        void this.stderr.write(`message ${r.id} ${r.status} in ${r.latencyMs} ms\n`);
      },
      onMessage: (msg, isNew) => {
        if (isNew) void this.stderr.write(`message ${msg.id} received\n`);
      },
    });
    const server = Deno.serve(
      {
        hostname: m[1] === "localhost" ? "127.0.0.1" : m[1]!.replace(/[[\]]/g, ""),
        port: Number(m[2]),
        onListen: () => {},
      },
      clientApi(client, store, sent, () =>
        transport === undefined ? {} : {
          // Packets the provider still credits (null until it first says), the wallet's file.
          tokens: { credit: transport.credit ?? null, wallet: flags.tokenWallet },
        }),
    );
    const a = server.addr as Deno.NetAddr;
    const url = `http://${a.hostname}:${a.port}`;
    await Deno.writeTextFile(`${dir}/client.lock`, JSON.stringify({ pid: Deno.pid, url }));
    client.start();
    await this.stderr.write(
      `msg client for ${address}\nAPI on ${url} (λ_P ${rates.payload}/s, λ_L ${rates.loop}/s, λ_D ${rates.drop}/s)\n`,
    );
    if (flags.readyFile) {
      await Deno.writeTextFile(flags.readyFile, JSON.stringify({ url, address, pid: Deno.pid }));
    }
    let resolveStop!: () => void;
    const stopped = new Promise<void>((r) => (resolveStop = r));
    const onSignal = () => resolveStop();
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    await stopped;
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await client.stop();
    await server.shutdown();
    await store.saveState(client.state());
    store.close();
    await Deno.remove(`${dir}/client.lock`).catch(() => {});
    const s = client.stats;
    await this.stderr.write(
      `stopped; loops ${s.loopsReturned}/${s.loopsSent} back (loss ${
        (100 * s.loopLossRate).toFixed(1)
      }%), ${s.payloadPackets} real packets, ${s.drops} drops\n`,
    );
  },
  parameters: {
    flags: {
      listen: {
        kind: "parsed",
        parse: String,
        default: "127.0.0.1:8480",
        brief: "Loopback address of the local API (port 0 picks a free port)",
      },
      ratePayload: {
        kind: "parsed",
        parse: rate("--rate-payload"),
        default: String(DEFAULT_COVER_RATES.payload),
        brief: "λ_P: payload slots per second (real packets, else drops)",
      },
      rateLoop: {
        kind: "parsed",
        parse: rate("--rate-loop"),
        default: String(DEFAULT_COVER_RATES.loop),
        brief: "λ_L: loops per second",
      },
      rateDrop: {
        kind: "parsed",
        parse: rate("--rate-drop"),
        default: String(DEFAULT_COVER_RATES.drop),
        brief: "λ_D: drops per second",
      },
      meanDelayMs: delayFlag,
      pollMs: {
        kind: "parsed",
        parse: positiveInteger("--poll-ms", 600_000),
        default: "500",
        brief: "Mailbox poll interval in ms",
      },
      readyFile: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Write {url, address, pid} as JSON to this file once listening",
      },
      tokenWallet: walletFlag,
      dir: dirFlag,
    },
  },
  docs: {
    brief: "Run the client: cover traffic and a local API on 127.0.0.1 for other programs",
    fullDescription:
      "Keeps the Poisson streams going (payload slots, loops, drops), polls the mailbox, and " +
      "serves GET /v1/address, GET /v1/status, GET /v1/messages?after=SEQ, POST /v1/send " +
      "{to, text|data, reveal?, surbs?}, POST /v1/reply {id, text|data}. Stop with Ctrl-C.",
  },
});

/** The `msg` route map (the simulation command is added beside these). */
export const msgRoutes = buildRouteMap({
  routes: {
    init: msgInitCommand,
    address: msgAddressCommand,
    send: msgSendCommand,
    inbox: msgInboxCommand,
    reply: msgReplyCommand,
    client: msgClientCommand,
    simulate: msgSimulateCommand,
  },
  docs: { brief: "Anonymous messaging over the Sphinx network (Loopix)" },
});
