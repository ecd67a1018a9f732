/**
 * In-process test networks: nodes started with {@linkcode startNode} on loopback,
 * ephemeral ports, temporary directories, all stopped and removed by `close`.
 * Test support only.
 *
 * @module
 */

import type { Envelope } from "../../core/envelope.ts";
import { loadConfig } from "./config.ts";
import { type LocalNodeSpec, writeNodeDir } from "./cluster.ts";
import { silentLogger } from "./log.ts";
import { type NodeHandle, startNode } from "./node.ts";
import { sphinxService } from "./sphinx_mix.ts";

/** A set of in-process nodes sharing one temporary directory. */
export class TestNetwork {
  /** Temporary root directory. */
  readonly root: string;
  /** Started nodes by name. */
  readonly nodes = new Map<string, NodeHandle>();
  /** Config path per node name. */
  readonly configs = new Map<string, string>();

  private constructor(root: string) {
    this.root = root;
  }

  /**
   * Creates an empty network.
   *
   * @returns the network
   */
  static async create(): Promise<TestNetwork> {
    return new TestNetwork(await Deno.makeTempDir({ prefix: "panoramix-node-test-" }));
  }

  /**
   * Writes a node directory and starts the node in-process.
   *
   * @param spec node settings
   * @returns the running node
   */
  async start(spec: LocalNodeSpec): Promise<NodeHandle> {
    const dir = `${this.root}/${spec.name}`;
    let configPath = this.configs.get(spec.name);
    if (configPath === undefined) {
      configPath = (await writeNodeDir(dir, spec)).configPath;
      this.configs.set(spec.name, configPath);
    }
    const node = await startNode(await loadConfig(configPath), {
      logger: silentLogger,
      sphinx: sphinxService,
    });
    this.nodes.set(spec.name, node);
    return node;
  }

  /**
   * Starts a board-and-directory node and three cascade mixers polling it every 50 ms.
   *
   * @param options the board admins' identity keys (base64url) and each mixer's mix keys
   * @returns the board and the mixers, in cascade order
   */
  async startCascade(options: {
    admins: string[];
    mixKeys?: (index: number) => Record<string, Envelope>;
    mixPartItems?: number;
    maxMixPartBytes?: number;
    inputPage?: number;
  }): Promise<{ board: NodeHandle; mixers: NodeHandle[] }> {
    const board = await this.start({
      name: "board",
      roles: ["board", "directory"],
      admins: options.admins,
      ...(options.maxMixPartBytes === undefined
        ? {}
        : { maxMixPartBytes: options.maxMixPartBytes }),
    });
    const mixers: NodeHandle[] = [];
    for (let i = 0; i < 3; i++) {
      mixers.push(
        await this.start({
          name: `mixer${i}`,
          roles: ["cascade"],
          boardUrl: board.url,
          ...(options.mixKeys === undefined ? {} : { mixKeys: options.mixKeys(i) }),
          pollIntervalMs: 50,
          ...(options.mixPartItems === undefined ? {} : { mixPartItems: options.mixPartItems }),
          ...(options.inputPage === undefined ? {} : { inputPage: options.inputPage }),
        }),
      );
    }
    return { board, mixers };
  }

  /**
   * Stops one node (its files stay, so it can be restarted with {@linkcode start}).
   *
   * @param name node name
   */
  async stop(name: string): Promise<void> {
    await this.nodes.get(name)?.stop();
    this.nodes.delete(name);
  }

  /** Stops every node and removes the directory. */
  async close(): Promise<void> {
    for (const name of [...this.nodes.keys()]) await this.stop(name);
    await Deno.remove(this.root, { recursive: true });
  }
}
