/**
 * Replay protection: a node records the 32-byte replay tag of every packet it processed
 * under an epoch key and refuses a tag it has seen (D&G 2009 §3.3: "checks that the tag
 * has not been seen before"). The persistent cache comes with the node daemon; this file
 * defines the interface and an in-memory implementation.
 *
 * @module
 */

import { toHex } from "../../core/bytes.ts";
import { ConfigError, InvalidInputError } from "../../core/errors.ts";
import { SPHINX_REPLAY_TAG_SIZE } from "./params.ts";

/** A set of seen replay tags. */
export interface ReplayCache {
  /**
   * Records a tag atomically.
   *
   * @param tag a 32-byte replay tag
   * @returns true when the tag is new, false when it was seen before
   */
  add(tag: Uint8Array): Promise<boolean>;
  /**
   * Tells whether a tag was seen, without recording it.
   *
   * @param tag a 32-byte replay tag
   * @returns true when seen before
   */
  has(tag: Uint8Array): Promise<boolean>;
}

/** Options of {@linkcode MemoryReplayCache}. */
export interface MemoryReplayCacheOptions {
  /** Largest number of tags held (default unlimited); beyond it `add` throws. */
  maxEntries?: number;
}

function key(tag: Uint8Array): string {
  if (!(tag instanceof Uint8Array) || tag.length !== SPHINX_REPLAY_TAG_SIZE) {
    throw new InvalidInputError(`Replay tag must be ${SPHINX_REPLAY_TAG_SIZE} bytes`);
  }
  return toHex(tag);
}

/**
 * An in-memory {@linkcode ReplayCache} (one per epoch key; drop it when the key expires).
 *
 * @example
 * ```ts
 * import { MemoryReplayCache } from "./replay_cache.ts";
 * const cache = new MemoryReplayCache();
 * const tag = new Uint8Array(32);
 * console.assert(await cache.add(tag) === true);
 * console.assert(await cache.add(tag) === false);
 * ```
 */
export class MemoryReplayCache implements ReplayCache {
  #seen = new Set<string>();
  #max: number;

  /**
   * Creates an empty cache.
   *
   * @param options optional size bound
   */
  constructor(options: MemoryReplayCacheOptions = {}) {
    this.#max = options.maxEntries ?? Infinity;
  }

  /** Number of tags held. */
  get size(): number {
    return this.#seen.size;
  }

  /**
   * Records a tag.
   *
   * @param tag 32-byte tag
   * @returns true when new
   * @throws {ConfigError} when full (refusing is safer than forgetting tags)
   */
  add(tag: Uint8Array): Promise<boolean> {
    const k = key(tag);
    if (this.#seen.has(k)) return Promise.resolve(false);
    if (this.#seen.size >= this.#max) {
      return Promise.reject(
        new ConfigError(`Replay cache is full (${this.#max} tags); rotate the epoch key`),
      );
    }
    this.#seen.add(k);
    return Promise.resolve(true);
  }

  /**
   * Tells whether a tag was seen.
   *
   * @param tag 32-byte tag
   * @returns true when seen before
   */
  has(tag: Uint8Array): Promise<boolean> {
    return Promise.resolve(this.#seen.has(key(tag)));
  }

  /** Forgets every tag (when the epoch key it guards is destroyed). */
  clear(): void {
    this.#seen.clear();
  }
}
