/**
 * Helpers to set up a local network of nodes on loopback: write node directories
 * (config and identity key files) and run nodes as child processes. Used by the
 * example (examples/network.ts) and the tests; not needed to run a real node.
 *
 * @module
 */

import { toBase64Url } from "../../core/bytes.ts";
import type { Envelope } from "../../core/envelope.ts";
import { PanoramixError } from "../../core/errors.ts";
import { writeEnvelopeFile } from "../files.ts";
import { defaultConfig, type NodeRole, renderConfig } from "./config.ts";
import { generateIdentity, type Identity, identityToEnvelope } from "./identity.ts";

/** What to put in a local node's config. */
export interface LocalNodeSpec {
  /** Node name. */
  name: string;
  /** Roles. */
  roles: NodeRole[];
  /** HTTP port (default 0: any free port). */
  httpPort?: number;
  /** Sphinx port (default 0). */
  sphinxPort?: number;
  /** Board URL. */
  boardUrl?: string;
  /** Directory URL. */
  directoryUrl?: string;
  /** Board admin keys (base64url). */
  admins?: string[];
  /** Mixing keys per backend, written as files with mode 0600. */
  mixKeys?: Record<string, Envelope>;
  /** Overrides of the sphinx section. */
  sphinx?: Partial<ReturnType<typeof defaultConfig>["sphinx"]>;
  /** Cascade poll interval (default 100 ms). */
  pollIntervalMs?: number;
  /** Outputs per part of a re-encryption mix posted in parts (default 0: 16 MiB parts). */
  mixPartItems?: number;
  /** Largest mix part body the board takes (default 16 MiB). */
  maxMixPartBytes?: number;
  /** Items per request when the mixer reads its stage's batch (default 10,000). */
  inputPage?: number;
  /** Log level (default "warn"). */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** Overrides of the request limits (default: generous, for loopback tests). */
  limits?: Partial<ReturnType<typeof defaultConfig>["limits"]>;
  /** Use this identity instead of a fresh one. */
  identity?: Identity;
  /** Overrides of the provider section. */
  provider?: Partial<ReturnType<typeof defaultConfig>["provider"]>;
}

/** A written node directory. */
export interface LocalNodeFiles {
  /** Path of node.json. */
  configPath: string;
  /** The node identity. */
  identity: Identity;
}

/**
 * Writes a node directory: node.json, identity.key.json and mix key files (0600).
 *
 * @param dir the directory (created)
 * @param spec what to configure
 * @returns the config path and identity
 * @example
 * ```ts ignore
 * const { configPath } = await writeNodeDir("/tmp/n1", { name: "n1", roles: ["board"] });
 * ```
 */
export async function writeNodeDir(dir: string, spec: LocalNodeSpec): Promise<LocalNodeFiles> {
  await Deno.mkdir(dir, { recursive: true });
  const identity = spec.identity ?? generateIdentity();
  await writeEnvelopeFile(`${dir}/identity.key.json`, identityToEnvelope(identity), {
    secret: true,
    overwrite: true,
  });
  const config = defaultConfig();
  config.name = spec.name;
  config.roles = spec.roles;
  config.httpListen = `127.0.0.1:${spec.httpPort ?? 0}`;
  config.sphinx.listen = `127.0.0.1:${spec.sphinxPort ?? 0}`;
  config.boardUrl = spec.boardUrl ?? "";
  config.directoryUrl = spec.directoryUrl ?? "";
  config.board.admins = spec.admins ?? [];
  config.directory.openRegistration = true; // a local test network
  config.cascade.pollIntervalMs = spec.pollIntervalMs ?? 100;
  if (spec.mixPartItems !== undefined) config.cascade.mixPartItems = spec.mixPartItems;
  if (spec.maxMixPartBytes !== undefined) config.board.maxMixPartBytes = spec.maxMixPartBytes;
  if (spec.inputPage !== undefined) config.cascade.inputPage = spec.inputPage;
  config.logLevel = spec.logLevel ?? "warn";
  config.limits.requestsPerSecond = 10_000;
  config.limits.burst = 10_000;
  Object.assign(config.limits, spec.limits ?? {});
  Object.assign(config.sphinx, spec.sphinx ?? {});
  Object.assign(config.provider, spec.provider ?? {});
  for (const [backend, key] of Object.entries(spec.mixKeys ?? {})) {
    const file = `mix-${backend}.secret.json`;
    await writeEnvelopeFile(`${dir}/${file}`, key, { secret: true, overwrite: true });
    config.cascade.mixKeys[backend] = file;
  }
  await Deno.writeTextFile(`${dir}/node.json`, renderConfig(config));
  return { configPath: `${dir}/node.json`, identity };
}

/**
 * Finds a free TCP port on 127.0.0.1 (so a restarted node can keep its address).
 *
 * @returns the port
 * @example
 * ```ts ignore
 * const port = freePort();
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** What a started node reports in its ready file. */
export interface ReadyInfo {
  /** HTTP URL. */
  url: string;
  /** Sphinx address or "". */
  sphinxAddress: string;
  /** Identity (base64url). */
  identity: string;
  /** Process id. */
  pid: number;
}

const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
];

/**
 * Extra `deno run` flags for child nodes from PANORAMIX_NODE_DENO_FLAGS (space-separated),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile every node of a benchmark.
 */
function extraDenoFlags(): string[] {
  let flags: string | undefined;
  try {
    flags = Deno.env.get("PANORAMIX_NODE_DENO_FLAGS");
  } catch { /* no env permission: none */ }
  return flags?.split(" ").filter((f) => f !== "") ?? [];
}

/** The `panoramix` entry point child nodes run. */
const ENTRY = new URL("../main.ts", import.meta.url).pathname;

/**
 * A node running as a child process.
 *
 * @example
 * ```ts ignore
 * const node = await NodeProcess.spawn("/tmp/n1/node.json");
 * await node.stop();
 * ```
 */
export class NodeProcess {
  /** What the node reported once listening. */
  readonly info: ReadyInfo;
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** Last lines the node logged on stderr (for diagnostics). */
  readonly log: string[];
  #status: Promise<Deno.CommandStatus>;

  private constructor(info: ReadyInfo, child: Deno.ChildProcess, log: string[]) {
    this.info = info;
    this.child = child;
    this.log = log;
    this.#status = child.status;
  }

  /**
   * Starts `panoramix node run -c CONFIG` and waits until it listens.
   *
   * @param configPath the config file
   * @param options startup timeout in ms (default 30,000)
   * @returns the running node
   * @throws {PanoramixError} when the node exits or does not start in time
   */
  static async spawn(
    configPath: string,
    options: {
      timeoutMs?: number;
      openFiles?: number;
      /** Called with every line the node logs on stderr. */
      onLine?: (line: string) => void;
      /** Extra `deno run` flags, e.g. `--cpu-prof` (profiling a node). */
      denoFlags?: string[];
      /** Run under `nice -n` this value (lower CPU priority, e.g. a load run's cascade). */
      nice?: number;
    } = {},
  ): Promise<NodeProcess> {
    const readyFile = `${configPath}.ready.json`;
    await Deno.remove(readyFile).catch(() => {});
    // openFiles: run under a lower RLIMIT_NOFILE (prlimit), e.g. to test descriptor floods.
    const limit = options.openFiles === undefined
      ? []
      : [`--nofile=${options.openFiles}:${options.openFiles}`, Deno.execPath()];
    // nice and prlimit exec the next program: the pid stays the node's.
    const wrap = [
      ...(options.nice ? ["nice", "-n", String(options.nice)] : []),
      ...(limit.length > 0 ? ["prlimit", ...limit] : [Deno.execPath()]),
    ];
    const child = new Deno.Command(wrap[0]!, {
      args: [
        ...wrap.slice(1),
        "run",
        ...(options.denoFlags ?? []),
        ...PERMISSIONS,
        ...extraDenoFlags(),
        ENTRY,
        "node",
        "run",
        "-c",
        configPath,
        "--ready-file",
        readyFile,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const log: string[] = [];
    void (async () => {
      const lines = child.stderr.pipeThrough(new TextDecoderStream());
      let rest = "";
      for await (const chunk of lines) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        log.push(...parts);
        if (options.onLine !== undefined) { for (const line of parts) options.onLine(line); }
        if (log.length > 200) log.splice(0, log.length - 200);
      }
    })().catch(() => {});
    let exited = false;
    void child.status.then(() => (exited = true));
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    while (Date.now() < deadline && !exited) {
      try {
        const info = JSON.parse(await Deno.readTextFile(readyFile)) as ReadyInfo;
        return new NodeProcess(info, child, log);
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (!exited) child.kill("SIGKILL");
    await child.status;
    throw new PanoramixError(
      "unavailable",
      `Node '${configPath}' did not start: ${log.slice(-5).join(" | ")}`,
    );
  }

  /**
   * Sends a signal and waits for the process to exit.
   *
   * @param signal the signal (default SIGTERM: graceful)
   * @returns the exit status
   */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch { /* already exited */ }
    return await this.#status;
  }
}

/**
 * Base64url of an identity's public key (config lists, job specs).
 *
 * @param identity the identity
 * @returns the key text
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { keyText } from "./cluster.ts";
 * console.assert(keyText(generateIdentity()).length === 43);
 * ```
 */
export function keyText(identity: Identity): string {
  return toBase64Url(identity.publicKey);
}
