/**
 * A messaging network on loopback, each node a separate `panoramix node run` process:
 * a directory, providers and mix nodes (used by the chat example, the message tests and
 * the benchmark). Ports are fixed at creation so a node killed with SIGKILL restarts on
 * the same addresses.
 *
 * @module
 */

import { NodeClient } from "./client.ts";
import { freePort, NodeProcess, writeNodeDir } from "./cluster.ts";
import { fetchTopology } from "./sphinx_client.ts";

/** Options of {@linkcode MessageNetwork.start}. */
export interface MessageNetworkOptions {
  /** Directory for the nodes' files. */
  root: string;
  /** Providers (default 2). */
  providers?: number;
  /** Mix nodes (default 3: one per layer). */
  mixes?: number;
  /** Sphinx payload size (default 2048). */
  payloadSize?: number;
  /** λ_M of every node (default 0). */
  loopsPerSecond?: number;
  /** Mean per-hop delay of node loops (default 50 ms). */
  loopMeanDelayMs?: number;
  /** `sphinx.nodesOnly` of every node: Sphinx ports take packets from the nodes only. */
  nodesOnly?: boolean;
  /** Provider overrides (quotas, TTL). */
  provider?: { mailboxTtlSeconds?: number; quotaMessages?: number; quotaBytes?: number };
  /** Node log level (default "warn"). */
  logLevel?: "debug" | "info" | "warn" | "error";
}

/** A started node. */
export interface NetworkNode {
  /** Node name. */
  name: string;
  /** Its config file. */
  configPath: string;
  /** HTTP URL. */
  url: string;
  /** The process (replaced on restart). */
  process: NodeProcess;
}

/** A running network. */
export class MessageNetwork {
  /** The directory node. */
  readonly directory: NetworkNode;
  /** Provider nodes. */
  readonly providers: NetworkNode[];
  /** Mix nodes. */
  readonly mixes: NetworkNode[];

  private constructor(directory: NetworkNode, providers: NetworkNode[], mixes: NetworkNode[]) {
    this.directory = directory;
    this.providers = providers;
    this.mixes = mixes;
  }

  /**
   * Writes the node directories and starts every node (in parallel).
   *
   * @param options sizes and settings
   * @returns the network, once every node has registered its descriptor
   */
  static async start(options: MessageNetworkOptions): Promise<MessageNetwork> {
    const dirPort = freePort();
    const directoryUrl = `http://127.0.0.1:${dirPort}`;
    const sphinx = {
      payloadSize: options.payloadSize ?? 2048,
      loopsPerSecond: options.loopsPerSecond ?? 0,
      loopMeanDelayMs: options.loopMeanDelayMs ?? 50,
      nodesOnly: options.nodesOnly ?? false,
    };
    const spec = async (name: string, roles: ("directory" | "sphinx" | "provider")[]) => {
      const httpPort = name === "directory" ? dirPort : freePort();
      const { configPath } = await writeNodeDir(`${options.root}/${name}`, {
        name,
        roles,
        httpPort,
        sphinxPort: roles.includes("sphinx") ? freePort() : 0,
        directoryUrl: name === "directory" ? "" : directoryUrl,
        sphinx,
        provider: options.provider ?? {},
        logLevel: options.logLevel ?? "warn",
      });
      return { name, configPath, url: `http://127.0.0.1:${httpPort}` };
    };
    const dir = await spec("directory", ["directory"]);
    const directory = { ...dir, process: await NodeProcess.spawn(dir.configPath) };
    const specs = [];
    for (let i = 0; i < (options.providers ?? 2); i++) {
      specs.push(await spec(`provider${i}`, ["sphinx", "provider"]));
    }
    for (let i = 0; i < (options.mixes ?? 3); i++) specs.push(await spec(`mix${i}`, ["sphinx"]));
    const started = await Promise.all(
      specs.map(async (s) => ({ ...s, process: await NodeProcess.spawn(s.configPath) })),
    );
    const providers = started.filter((n) => n.name.startsWith("provider"));
    const mixes = started.filter((n) => n.name.startsWith("mix"));
    const network = new MessageNetwork(directory, providers, mixes);
    await network.ready();
    return network;
  }

  /**
   * Waits until the directory lists every provider and mix with a key.
   *
   * @param timeoutMs how long to wait (default 30 s)
   */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const want = this.providers.length + this.mixes.length;
    for (;;) {
      try {
        const t = await fetchTopology(new NodeClient(this.directory.url));
        const n = t.nodes.filter((d) => d.sphinxAddress !== "" && d.epochKeys.length > 0).length;
        if (n >= want) return;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error("The messaging network did not come up in time");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Restarts a node from its files (after {@linkcode NetworkNode.process} was stopped).
   *
   * @param node the node
   */
  async restart(node: NetworkNode): Promise<void> {
    node.process = await NodeProcess.spawn(node.configPath);
  }

  /**
   * Stops every node.
   *
   * @param signal SIGTERM (graceful, default) or SIGKILL
   * @returns exit codes
   */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number[]> {
    const nodes = [...this.providers, ...this.mixes, this.directory];
    const statuses = await Promise.all(nodes.map((n) => n.process.stop(signal)));
    return statuses.map((s) => s.code);
  }
}
