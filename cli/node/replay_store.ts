/**
 * A persistent {@linkcode ReplayCache} on the node's SQLite store. Tags are kept per
 * scope (a Sphinx key epoch, or a cascade mixer's key) and dropped with
 * {@linkcode SqliteReplayCache.dropScope} when the key they guard is destroyed, so the
 * cache rotates with the epochs. A tag is recorded in the store's open transaction:
 * it becomes durable at the same COMMIT as whatever the caller records with it (the
 * forwarded packet), never before.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import type { ReplayCache } from "../../backends/decrypt/mod.ts";
import { SPHINX_REPLAY_TAG_SIZE } from "../../backends/decrypt/mod.ts";
import type { Store } from "./storage.ts";

function checkTag(tag: Uint8Array): void {
  if (!(tag instanceof Uint8Array) || tag.length !== SPHINX_REPLAY_TAG_SIZE) {
    throw new InvalidInputError(`Replay tag must be ${SPHINX_REPLAY_TAG_SIZE} bytes`);
  }
}

/**
 * Creates the replay table if needed.
 *
 * @param store the node store
 * @example
 * ```ts ignore
 * ensureReplayTable(store);
 * ```
 */
export function ensureReplayTable(store: Store): void {
  store.write(() =>
    store.db.exec(
      "CREATE TABLE IF NOT EXISTS replay_tags (scope TEXT NOT NULL, tag BLOB NOT NULL, PRIMARY KEY (scope, tag)) WITHOUT ROWID",
    )
  );
}

/**
 * Replay cache for one scope, persisted in SQLite.
 *
 * @example
 * ```ts ignore
 * const cache = new SqliteReplayCache(store, "epoch:42");
 * if (!cache.addNow(tag)) throw new ReplayError("seen");
 * await store.commit();
 * ```
 */
export class SqliteReplayCache implements ReplayCache {
  #store: Store;
  #scope: string;

  /**

   * Creates the instance.
   *
   * @param store the node store
   * @param scope what the tags belong to, e.g. "epoch:42"
   */
  constructor(store: Store, scope: string) {
    this.#store = store;
    this.#scope = scope;
    ensureReplayTable(store);
  }

  /**
   * Records a tag in the open transaction.
   *
   * @param tag 32-byte replay tag
   * @returns true when new, false when seen before
   */
  addNow(tag: Uint8Array): boolean {
    checkTag(tag);
    return this.#store.write(() =>
      this.#store.prepared("INSERT OR IGNORE INTO replay_tags (scope, tag) VALUES (?, ?)").run(
        this.#scope,
        tag,
      ).changes === 1
    );
  }

  /**
   * Records a tag inside the caller's `store.write` (no savepoint of its own): for a node
   * that writes a packet and its tag together.
   *
   * @param tag the replay tag
   * @returns true when the tag is new
   * @throws {InvalidInputError} when the tag has the wrong size
   */
  addInWrite(tag: Uint8Array): boolean {
    checkTag(tag);
    return this.#store.prepared("INSERT OR IGNORE INTO replay_tags (scope, tag) VALUES (?, ?)")
      .run(this.#scope, tag).changes === 1;
  }

  /**
   * Records a tag (the {@linkcode ReplayCache} interface); durable at the next commit.
   *
   * @param tag 32-byte replay tag
   * @returns true when new
   */
  add(tag: Uint8Array): Promise<boolean> {
    try {
      return Promise.resolve(this.addNow(tag));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Tells whether a tag was recorded, without recording it.
   *
   * @param tag 32-byte replay tag
   * @returns true when seen before
   */
  has(tag: Uint8Array): Promise<boolean> {
    try {
      checkTag(tag);
      const row = this.#store.db.prepare(
        "SELECT 1 AS x FROM replay_tags WHERE scope = ? AND tag = ?",
      ).get(this.#scope, tag);
      return Promise.resolve(row !== undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Number of tags held in this scope.
   *
   * @returns the count
   */
  size(): number {
    const row = this.#store.db.prepare("SELECT COUNT(*) AS n FROM replay_tags WHERE scope = ?")
      .get(this.#scope) as { n: number };
    return row.n;
  }

  /**
   * Forgets every tag of a scope (its key was destroyed).
   *
   * @param store the node store
   * @param scope the scope
   * @returns the number of tags removed
   */
  static dropScope(store: Store, scope: string): number {
    ensureReplayTable(store);
    return store.write(() =>
      Number(store.db.prepare("DELETE FROM replay_tags WHERE scope = ?").run(scope).changes)
    );
  }
}
