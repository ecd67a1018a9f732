/**
 * `panoramix vote serve`: a stand-alone voting site for one election without a node
 * network — the booth, the receipt check and the results pages, and the online ballot
 * box of {@linkcode OnlineBallotBoxes} in a local SQLite file.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { ConfigError } from "../../core/errors.ts";
import {
  decodeElectionKey,
  electionDefinitionFromEnvelope,
  electionDefinitionToEnvelope,
  electionFingerprint,
  encodeCeremonyPost,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { readAnyEnvelopeFile } from "../files.ts";
import { jsonResponse } from "../node/http_error.ts";
import { createLogger, type Logger } from "../node/log.ts";
import { MetricsRegistry } from "../node/metrics.ts";
import { createHandler } from "../node/server.ts";
import { Store } from "../node/storage.ts";
import { webRoutes } from "../web/routes.ts";
import { OnlineBallotBoxes, onlineBoxRoutes } from "./online_box.ts";

/** Options of {@linkcode startVoteServer}. */
export interface VoteServerOptions {
  /** The election definition file. */
  election: string;
  /** The election key file. */
  key: string;
  /** Voter roll file (one credential per line), if any. */
  voters?: string;
  /** The SQLite file of the ballot box (created if missing). */
  store: string;
  /** Address to listen on, host:port (port 0 picks a free one). */
  listen: string;
  /** A transcript to publish as the results (closes the box; an empty box takes its ballots). */
  transcript?: string;
  /** Serve the pages under a policy that refuses WebAssembly. */
  refuseWasm?: boolean;
  /** Logger (default JSON lines on stderr). */
  logger?: Logger;
}

/** A running `vote serve`. */
export interface VoteServer {
  /** Base URL. */
  url: string;
  /** The election id. */
  id: string;
  /** Stops and closes the store. */
  stop(): Promise<void>;
  /** Resolves once stopped. */
  finished: Promise<void>;
}

/**
 * Starts the stand-alone voting site.
 *
 * @param options files, store, address
 * @returns the running server
 * @example
 * ```ts ignore
 * const server = await startVoteServer({ election, key, store, listen: "127.0.0.1:0" });
 * ```
 */
export async function startVoteServer(options: VoteServerOptions): Promise<VoteServer> {
  const noStdin = new ReadableStream<Uint8Array>();
  const definition = electionDefinitionFromEnvelope(
    await readAnyEnvelopeFile(options.election, noStdin),
    options.election,
  );
  const election = { definition, fingerprint: electionFingerprint(definition) };
  const key = decodeElectionKey(
    election,
    await readAnyEnvelopeFile(options.key, noStdin),
    options.key,
  );
  const voters = options.voters === undefined
    ? undefined
    : (await Deno.readTextFile(options.voters))
      .split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const logger = options.logger ?? createLogger({ level: "info" }).child({ role: "vote-serve" });
  const store = new Store(options.store);
  const boxes = new OnlineBallotBoxes({ store });
  const id = await boxes.add({
    election: electionDefinitionToEnvelope(election.definition),
    key: encodeCeremonyPost(election, { key }),
    ...(voters === undefined ? {} : { voters }),
  });
  if (options.transcript !== undefined) {
    await boxes.publishTranscript(id, await readAnyEnvelopeFile(options.transcript, noStdin), {
      importBallots: true,
    });
  }
  const i = options.listen.lastIndexOf(":");
  const hostname = options.listen.slice(0, i);
  const port = Number(options.listen.slice(i + 1));
  if (i < 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
    store.close();
    throw new ConfigError(`Address '${options.listen}' must be host:port, e.g. 127.0.0.1:8080`);
  }
  const metrics = new MetricsRegistry();
  const handler = createHandler({
    routes: [
      ...onlineBoxRoutes(boxes, { admins: [] }),
      ...webRoutes({ allowWasm: !options.refuseWasm }),
      { method: "GET", path: "/v1/health", handle: () => jsonResponse({ ok: true }) },
      {
        method: "GET",
        path: "/v1/info",
        handle: () => jsonResponse({ name: `election ${id}`, roles: ["vote"] }),
      },
    ],
    requestsPerSecond: 50,
    burst: 200,
    maxBodyBytes: 64 * 1024 * 1024,
    authWindowSeconds: 300,
    logger,
    metrics,
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ hostname, port, onListen: () => {} }, handler);
  } catch (error) {
    store.close();
    throw new ConfigError(`Cannot listen on '${options.listen}': ${(error as Error).message}`);
  }
  const addr = server.addr as Deno.NetAddr;
  const url = `http://${addr.hostname}:${addr.port}`;
  let stopping: Promise<void> | undefined;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => (resolveFinished = r));
  return {
    url,
    id,
    finished,
    stop() {
      stopping ??= (async () => {
        await server.shutdown();
        await store.commit();
        store.close();
        resolveFinished();
      })();
      return stopping;
    },
  };
}

interface ServeFlags {
  election: string;
  key: string;
  voters?: string;
  store: string;
  listen: string;
  transcript?: string;
  refuseWasm?: boolean;
  readyFile?: string;
}

/** `panoramix vote serve`: the voting site of one election, until SIGINT or SIGTERM. */
export const voteServeCommand = buildCommand({
  async func(this: CliContext, flags: ServeFlags) {
    const server = await startVoteServer({
      election: flags.election,
      key: flags.key,
      store: flags.store,
      listen: flags.listen,
      ...(flags.voters === undefined ? {} : { voters: flags.voters }),
      ...(flags.transcript === undefined ? {} : { transcript: flags.transcript }),
      ...(flags.refuseWasm ? { refuseWasm: true } : {}),
    });
    const stop = () => void server.stop();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    const base = `${server.url}`;
    const q = `?election=${encodeURIComponent(server.id)}`;
    await this.stderr.write(
      `panoramix: election '${server.id}' served at ${base}\n` +
        `  booth:   ${base}/vote${q}\n  check:   ${base}/vote/check${q}\n` +
        `  results: ${base}/vote/results${q}\n  ballot box for 'vote tally --box': ` +
        `${base}/v1/vote/elections/${server.id}/box\n`,
    );
    if (flags.readyFile) {
      const tmp = `${flags.readyFile}.tmp`;
      await Deno.writeTextFile(tmp, JSON.stringify({ url: server.url, id: server.id }) + "\n");
      await Deno.rename(tmp, flags.readyFile);
    }
    await server.finished;
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  },
  parameters: {
    flags: {
      election: { kind: "parsed", parse: String, brief: "Election definition file" },
      key: { kind: "parsed", parse: String, brief: "Election key file (vote.election-key)" },
      voters: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Voter roll: one credential per line (default: any credential)",
      },
      store: {
        kind: "parsed",
        parse: String,
        default: "booth.sqlite",
        brief: "SQLite file holding the ballot box (created if missing)",
      },
      listen: {
        kind: "parsed",
        parse: String,
        default: "127.0.0.1:8080",
        brief: "Address to listen on, host:port",
      },
      transcript: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Publish this transcript as the results (the box is then closed)",
      },
      refuseWasm: {
        kind: "boolean",
        optional: true,
        brief: "Serve the pages under a policy that refuses WebAssembly (plain JavaScript)",
      },
      readyFile: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Write {url, id} as JSON here once listening",
      },
    },
  },
  docs: {
    brief:
      "Stand-alone server, no node: one election's booth, check and results pages, local ballot box",
    fullDescription:
      "A stand-alone web server for one election, no node network: voters open /vote in a " +
      "browser, answer one question per screen, review and cast; the ballot is encrypted in " +
      "their browser and checked by the same rules as 'vote submit' into a local box (--store). " +
      "Stops on SIGINT/SIGTERM; the ballots stay in the store file. On a node network use " +
      "'vote publish' (definition to the board, before the ceremony) and 'vote booth' (the " +
      "board node's own online box and pages) instead.",
  },
});
