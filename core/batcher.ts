/**
 * Batching: collect items until a size or time threshold, and never release a
 * batch smaller than the minimum that gives its members anonymity.
 *
 * @module
 */

import { BatchTooSmallError, ConfigError } from "./errors.ts";

/**
 * Throws unless a batch holds at least `minimum` items.
 *
 * @param size number of items in the batch
 * @param minimum smallest acceptable batch
 * @throws {BatchTooSmallError} naming the size and the minimum
 * @example
 * ```ts
 * import { assertBatchSize } from "./batcher.ts";
 * assertBatchSize(10, 2);
 * ```
 */
export function assertBatchSize(size: number, minimum: number): void {
  if (size < minimum) {
    throw new BatchTooSmallError(
      `Batch of ${size} item${size === 1 ? "" : "s"} is below the minimum batch size of ${minimum}`,
    );
  }
}

/** Settings of a {@linkcode Batcher}. */
export interface BatcherOptions<T> {
  /** Release a batch as soon as it holds this many items. */
  maxSize: number;
  /** Release a batch this many milliseconds after its first item, if it meets `minSize`. */
  maxWaitMs: number;
  /** Never release fewer items than this (held until more arrive or `close`). */
  minSize: number;
  /** Receives each released batch; awaited before the next is released. */
  onBatch: (batch: T[]) => void | Promise<void>;
}

/**
 * Collects items into batches by size or age.
 *
 * @example
 * ```ts
 * import { Batcher } from "./batcher.ts";
 * const batches: number[][] = [];
 * const batcher = new Batcher<number>({
 *   maxSize: 2, maxWaitMs: 1000, minSize: 2, onBatch: (b) => { batches.push(b); },
 * });
 * await batcher.add(1);
 * await batcher.add(2);
 * await batcher.close();
 * console.assert(batches.length === 1);
 * ```
 */
export class Batcher<T> {
  #options: BatcherOptions<T>;
  #pending: T[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #releasing: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Creates a batcher.
   *
   * @param options thresholds and the batch consumer
   * @throws {ConfigError} on inconsistent thresholds
   */
  constructor(options: BatcherOptions<T>) {
    if (!(options.minSize >= 1 && options.maxSize >= options.minSize)) {
      throw new ConfigError(
        `Batch sizes must satisfy 1 <= minSize <= maxSize, got minSize ${options.minSize} and maxSize ${options.maxSize}`,
      );
    }
    if (!(options.maxWaitMs > 0)) {
      throw new ConfigError(`Batch wait 'maxWaitMs' must be positive, got ${options.maxWaitMs}`);
    }
    this.#options = options;
  }

  /** Items waiting for a batch. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Adds one item; resolves once any batch it completed has been handled.
   *
   * @param item the item
   */
  async add(item: T): Promise<void> {
    if (this.#closed) throw new ConfigError("Batcher is closed; no more items are accepted");
    this.#pending.push(item);
    if (this.#pending.length === 1) this.#arm();
    if (this.#pending.length >= this.#options.maxSize) await this.#release();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#pending.length >= this.#options.minSize) {
        void this.#release();
      } // Below the minimum the items wait for more arrivals; the next add re-arms nothing
      // until a release, so re-arm here to check again after another interval.
      else if (!this.#closed && this.#pending.length > 0) this.#arm();
    }, this.#options.maxWaitMs);
  }

  #release(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0, this.#options.maxSize);
    if (this.#pending.length > 0) this.#arm();
    this.#releasing = this.#releasing.then(() => this.#options.onBatch(batch));
    return this.#releasing;
  }

  /**
   * Stops accepting items and releases what is left if it meets the minimum.
   *
   * @returns the items left over because they were fewer than `minSize`
   */
  async close(): Promise<T[]> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length >= this.#options.minSize) await this.#release();
    await this.#releasing;
    return this.#pending.splice(0);
  }
}
