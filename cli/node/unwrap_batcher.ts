/**
 * Gathers the Sphinx packets a node receives at about the same time (over all connections)
 * into batches for `unwrapSphinxPackets`, whose X25519 engine runs two ladders per SIMD step
 * and shares one field inversion per batch: a quarter less CPU per packet than one at a time.
 * A packet waits at most one timer tick for company; every caller gets its own result.
 *
 * @module
 */

import { PanoramixError } from "../../core/errors.ts";
import {
  type SphinxNodeKey,
  type SphinxUnwrapResult,
  type SphinxX25519,
  unwrapSphinxPackets,
} from "../../backends/decrypt/mod.ts";

/** Largest batch (the engine's own batch size). */
export const UNWRAP_BATCH_LIMIT = 64;

interface Waiting {
  packet: Uint8Array;
  resolve: (result: SphinxUnwrapResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Unwraps packets in batches per node key.
 *
 * @example
 * ```ts ignore
 * const batcher = new UnwrapBatcher({ payloadSize: 1024, x25519: engine });
 * const result = await batcher.unwrap(packet, key); // throws the packet's PanoramixError
 * ```
 */
export class UnwrapBatcher {
  readonly #options: { payloadSize: number; x25519: SphinxX25519 };
  readonly #waiting = new Map<SphinxNodeKey, Waiting[]>();
  #scheduled = false;

  /** @param options payload size of the network and the X25519 engine */
  constructor(options: { payloadSize: number; x25519: SphinxX25519 }) {
    this.#options = options;
  }

  /**
   * Unwraps one packet with the packets that arrive before the next timer tick.
   *
   * @param packet the framed packet
   * @param key the node's key for the packet's key id
   * @returns the routing decision
   * @throws {PanoramixError} what unwrapping this packet alone would throw
   */
  unwrap(packet: Uint8Array, key: SphinxNodeKey): Promise<SphinxUnwrapResult> {
    return new Promise((resolve, reject) => {
      const queue = this.#waiting.get(key) ?? [];
      queue.push({ packet, resolve, reject });
      this.#waiting.set(key, queue);
      if (queue.length >= UNWRAP_BATCH_LIMIT) {
        this.#waiting.delete(key);
        void this.#run(key, queue);
      } else if (!this.#scheduled) {
        this.#scheduled = true;
        setTimeout(() => this.#flush(), 0);
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batches = [...this.#waiting];
    this.#waiting.clear();
    for (const [key, queue] of batches) void this.#run(key, queue);
  }

  async #run(key: SphinxNodeKey, queue: Waiting[]): Promise<void> {
    try {
      const results = await unwrapSphinxPackets(queue.map((w) => w.packet), {
        keys: key,
        ...this.#options,
      });
      results.forEach((result, i) => {
        if (result instanceof PanoramixError) queue[i]!.reject(result);
        else queue[i]!.resolve(result);
      });
    } catch (error) {
      for (const w of queue) w.reject(error);
    }
  }
}
