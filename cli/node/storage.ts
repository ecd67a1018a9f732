/**
 * Embedded storage on `node:sqlite` with WAL and `synchronous=FULL`, and group
 * commit: handlers write inside an open transaction and await {@linkcode Store.commit}
 * before they acknowledge anything, so an acknowledged packet or post is on disk.
 * Writes that arrive in the same event-loop turn share one COMMIT (one fsync).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** A SQLite database with group commit. */
export class Store {
  /** The underlying connection (reads may use it directly). */
  readonly db: DatabaseSync;
  #inTransaction = false;
  #waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * Opens (or creates) a database file.
   *
   * @param path file path, or ":memory:"
   * @example
   * ```ts ignore
   * const store = new Store(":memory:");
   * store.write(() => store.db.exec("create table t(x)"));
   * await store.commit();
   * store.close();
   * ```
   */
  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec("PRAGMA journal_mode=WAL");
    // FULL: the WAL is fsynced at every COMMIT, so a committed write survives power loss.
    this.db.exec("PRAGMA synchronous=FULL");
    this.db.exec("PRAGMA busy_timeout=5000");
    // Deleted rows (expired epoch keys, replay tags) are overwritten with zeros, not left in free pages.
    this.db.exec("PRAGMA secure_delete=ON");
  }

  /**
   * Runs `fn` inside the open transaction (opened on demand); if it throws, only its
   * own writes are rolled back (savepoint) and the error propagates.
   *
   * @param fn synchronous function doing the writes
   * @returns what `fn` returns
   */
  write<T>(fn: () => T): T {
    if (this.#closed) throw new Error("Store is closed");
    if (!this.#inTransaction) {
      this.db.exec("BEGIN IMMEDIATE");
      this.#inTransaction = true;
    }
    this.db.exec("SAVEPOINT w");
    try {
      const result = fn();
      this.db.exec("RELEASE w");
      return result;
    } catch (error) {
      this.db.exec("ROLLBACK TO w");
      this.db.exec("RELEASE w");
      throw error;
    }
  }

  /**
   * Resolves once every write made so far is committed to disk.
   *
   * @returns a promise settled after the COMMIT
   */
  commit(): Promise<void> {
    if (!this.#inTransaction) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#timer ??= setTimeout(() => this.#flush(), 0);
    return p;
  }

  #flush(): void {
    this.#timer = undefined;
    const waiters = this.#waiters.splice(0);
    if (!this.#inTransaction) {
      for (const w of waiters) w.resolve();
      return;
    }
    try {
      this.db.exec("COMMIT");
      this.#inTransaction = false;
      for (const w of waiters) w.resolve();
    } catch (error) {
      try {
        this.db.exec("ROLLBACK");
      } catch { /* already rolled back */ }
      this.#inTransaction = false;
      for (const w of waiters) w.reject(error);
    }
  }

  /** Commits pending writes synchronously and closes the database. */
  close(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#flush();
    this.#closed = true;
    this.db.close();
  }
}
