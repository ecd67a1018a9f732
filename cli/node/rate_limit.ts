/**
 * Per-client rate limiting with token buckets: each client (identity key or IP
 * address) gets `burst` tokens refilled at `ratePerSecond`; a request spends one.
 *
 * @module
 */

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Sustained requests per second per client. */
  ratePerSecond: number;
  /** Bucket size: requests a client may make at once. */
  burst: number;
  /** Most clients tracked; the least recently seen are dropped beyond it (default 10,000). */
  maxClients?: number;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token-bucket rate limiter keyed by client.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "./rate_limit.ts";
 * const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2 });
 * console.assert(limiter.take("a") && limiter.take("a") && !limiter.take("a"));
 * ```
 */
export class RateLimiter {
  #buckets = new Map<string, Bucket>();
  #options: Required<RateLimiterOptions>;

  /**

   * Creates the instance.
   *
   * @param options rate, burst, client bound and clock
   */
  constructor(options: RateLimiterOptions) {
    this.#options = {
      maxClients: 10_000,
      now: () => performance.now(),
      ...options,
    };
  }

  /**
   * Spends one token of a client.
   *
   * @param client client key
   * @returns true when allowed, false when the client must wait
   */
  take(client: string): boolean {
    const now = this.#options.now();
    let bucket = this.#buckets.get(client);
    if (bucket === undefined) {
      bucket = { tokens: this.#options.burst, at: now };
      if (this.#buckets.size >= this.#options.maxClients) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    } else {
      this.#buckets.delete(client); // re-insert to keep least-recently-seen order
      const refill = ((now - bucket.at) / 1000) * this.#options.ratePerSecond;
      bucket.tokens = Math.min(this.#options.burst, bucket.tokens + refill);
      bucket.at = now;
    }
    this.#buckets.set(client, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /**
   * Tells whether a client has a token, without spending it.
   *
   * @param client client key
   * @returns true when `take` would succeed now
   */
  has(client: string): boolean {
    const bucket = this.#buckets.get(client);
    if (bucket === undefined) return true;
    const refill = ((this.#options.now() - bucket.at) / 1000) * this.#options.ratePerSecond;
    return Math.min(this.#options.burst, bucket.tokens + refill) >= 1;
  }

  /**
   * Seconds until a client has a token again (for `Retry-After`).
   *
   * @param client client key
   * @returns seconds, rounded up, at least 1
   */
  retryAfter(client: string): number {
    const bucket = this.#buckets.get(client);
    const missing = bucket === undefined ? 0 : 1 - bucket.tokens;
    return Math.max(1, Math.ceil(missing / this.#options.ratePerSecond));
  }
}
