/**
 * Backends as the node uses them: the static registry, except that the decryption
 * cascade records replay tags in the node's persistent SQLite cache (staged during a
 * mix and written in the same transaction as the mix result).
 *
 * @module
 */

import { toHex } from "../../core/bytes.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import { createDecryptBackend, type ReplayCache } from "../../backends/decrypt/mod.ts";
import { backendByName } from "../backends.ts";
import { SqliteReplayCache } from "./replay_store.ts";
import type { Store } from "./storage.ts";

/** A backend prepared for one mix, with the hook that persists its side effects. */
export interface PreparedBackend {
  /** The backend to call `mix` on. */
  backend: AnyMixBackend;
  /** Writes staged state (replay tags); call inside the store write that records the result. */
  persist(): void;
}

/**
 * A replay cache that checks the persistent tags and stages new ones in memory until
 * {@linkcode StagedReplayCache.persist}.
 */
class StagedReplayCache implements ReplayCache {
  #persistent: SqliteReplayCache;
  #staged = new Map<string, Uint8Array>();
  constructor(persistent: SqliteReplayCache) {
    this.#persistent = persistent;
  }
  async add(tag: Uint8Array): Promise<boolean> {
    const k = toHex(tag);
    if (this.#staged.has(k) || await this.#persistent.has(tag)) return false;
    this.#staged.set(k, tag);
    return true;
  }
  async has(tag: Uint8Array): Promise<boolean> {
    return this.#staged.has(toHex(tag)) || await this.#persistent.has(tag);
  }
  persist(): void {
    for (const tag of this.#staged.values()) this.#persistent.addNow(tag);
    this.#staged.clear();
  }
}

/**
 * Prepares a backend for one cascade mix.
 *
 * @param name backend name
 * @param store the node store (for persistent replay tags)
 * @returns the backend and its persist hook
 * @example
 * ```ts ignore
 * const { backend, persist } = prepareBackend("decrypt", store);
 * const result = await backend.mix(inputs, { key });
 * store.write(() => { saveResult(result); persist(); });
 * ```
 */
export function prepareBackend(name: string, store: Store): PreparedBackend {
  if (name !== "decrypt") return { backend: backendByName(name), persist: () => {} };
  const caches: StagedReplayCache[] = [];
  const backend = createDecryptBackend({
    replayCacheFor: (publicKey) => {
      const cache = new StagedReplayCache(
        new SqliteReplayCache(store, `cascade:${toHex(publicKey)}`),
      );
      caches.push(cache);
      return cache;
    },
  });
  return { backend, persist: () => caches.forEach((c) => c.persist()) };
}
