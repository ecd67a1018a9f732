/**
 * Which addresses may open a connection to a node's Sphinx port when `sphinx.nodesOnly` is
 * on: the hosts of the `sphinxAddress` of every node in the directory's topology (names
 * resolved to IPv4 and IPv6 addresses). An unknown address triggers a refresh of the
 * topology, at most once per `refreshMs`, so a node that just joined is let in. Checked
 * once per connection, never per packet: no cost to throughput.
 *
 * @module
 */

/** How the filter learns the topology's Sphinx addresses and resolves host names. */
export interface PeerSource {
  /** Refreshes the topology and returns every node's `host:port` Sphinx address. */
  addresses(): Promise<string[]>;
  /** The IP addresses of a host name (empty when it does not resolve). */
  resolve(host: string): Promise<string[]>;
}

// "::ffff:10.0.0.1" (IPv4 mapped into IPv6) and "[::1]" compare as "10.0.0.1" and "::1".
function normal(host: string): string {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h.startsWith("::ffff:") && h.includes(".") ? h.slice(7) : h;
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

/**
 * The addresses of the network's nodes.
 *
 * @example
 * ```ts
 * import { PeerFilter } from "./sphinx_peers.ts";
 * const filter = new PeerFilter({
 *   addresses: () => Promise.resolve(["10.0.0.1:8471"]),
 *   resolve: () => Promise.resolve([]),
 * });
 * console.assert(await filter.allowed("10.0.0.1") && !(await filter.allowed("10.0.0.2")));
 * ```
 */
export class PeerFilter {
  #source: PeerSource;
  #refreshMs: number;
  #hosts = new Set<string>();
  #refreshedAt = -Infinity;
  #refreshing: Promise<void> | undefined;

  /**
   * Creates the filter.
   *
   * @param source the topology's addresses and a resolver
   * @param refreshMs least time between two refreshes caused by unknown addresses
   */
  constructor(source: PeerSource, refreshMs = 1000) {
    this.#source = source;
    this.#refreshMs = refreshMs;
  }

  /**
   * Whether an address belongs to a node of the topology.
   *
   * @param host the connecting peer's IP address
   * @returns true for a node's address
   */
  async allowed(host: string): Promise<boolean> {
    const h = normal(host);
    if (this.#hosts.has(h)) return true;
    if (performance.now() - this.#refreshedAt >= this.#refreshMs) {
      this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
    }
    if (this.#refreshing) await this.#refreshing.catch(() => {});
    return this.#hosts.has(h);
  }

  async #refresh(): Promise<void> {
    this.#refreshedAt = performance.now();
    const hosts = new Set<string>();
    for (const address of await this.#source.addresses()) {
      const host = normal(address.slice(0, address.lastIndexOf(":")));
      if (host === "") continue;
      if (isIpLiteral(host)) hosts.add(host);
      else for (const ip of await this.#source.resolve(host)) hosts.add(normal(ip));
    }
    this.#hosts = hosts;
  }
}
