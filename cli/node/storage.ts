/**
 * Embedded storage on `node:sqlite` with WAL and `synchronous=FULL`, and group
 * commit: handlers write inside an open transaction and await {@linkcode Store.commit}
 * before they acknowledge anything, so an acknowledged packet or post is on disk.
 * Writes that arrive in the same event-loop turn share one COMMIT (one fsync). With
 * {@linkcode Store.deferSync} the fsync of the WAL runs off the JavaScript thread instead
 * (the commit's waiters resolve after it; COMMITs made while one fsync runs share the next).
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { HttpError } from "./http_error.ts";
import { IntegrityError } from "../../core/errors.ts";

/** SQLite's "not a database" (26) and "corrupt" (11): the file is damaged. */
function damaged(what: string, error: unknown): unknown {
  const code = ((error as { errcode?: unknown } | null)?.errcode as number | undefined) ?? -1;
  const message = error instanceof Error ? error.message : "";
  const known = /file is not a database|database disk image is malformed/.test(message);
  if ((code & 0xff) !== 26 && (code & 0xff) !== 11 && !known) return error;
  return new IntegrityError(
    `Store '${what}' is damaged (${(error as Error).message}); restore it from a backup`,
    { cause: error },
  );
}

/** Seconds a client is asked to wait (Retry-After) when the disk is full. */
export const DISK_FULL_RETRY_SECONDS = 30;

/**
 * Whether a thrown value is SQLite reporting a full disk or a failed write
 * (SQLITE_FULL 13, SQLITE_IOERR 10 and its extended codes).
 *
 * @param error the thrown value
 * @returns true for a storage-capacity or I/O failure
 */
export function isStorageFailure(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && ((code & 0xff) === 13 || (code & 0xff) === 10);
}

function unavailable(error: unknown): HttpError {
  const e = new HttpError(
    503,
    "storage_unavailable",
    "The node cannot write to its storage (disk full?); nothing was accepted, retry later",
    { "retry-after": String(DISK_FULL_RETRY_SECONDS) },
  );
  (e as { cause?: unknown }).cause = error;
  return e;
}

/** A SQLite database with group commit. */
export class Store {
  /** The underlying connection (reads may use it directly). */
  readonly db: DatabaseSync;
  /**
   * A second connection that sees committed data only (WAL snapshot): every read that
   * answers a client (a signed head, a job's items, a mailbox) uses it, so nothing is
   * shown before it is durable. For ":memory:" it is {@linkcode Store.db}.
   */
  readonly reader: DatabaseSync;
  #hooks: (() => void)[] = [];
  /**
   * Set when SQLite rolled back the whole open transaction (it may, on a full disk or an
   * I/O error): every write of this group is gone, so until the next flush every write
   * fails and every waiter is rejected; nobody acknowledges a write that was undone.
   */
  #broken: unknown;
  #closers: (() => void)[] = [];
  /** Statements of the hot paths, compiled once (see {@linkcode Store.prepared}). */
  #statements = new Map<string, StatementSync>();
  #lazyTimer: ReturnType<typeof setTimeout> | undefined;
  /** Last write or commit failure (cleared by the next successful commit). */
  #failure: { at: number; message: string } | undefined;
  #inTransaction = false;
  #waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #paceFactor = 0;
  #walPath: string | undefined;
  #wal: Deno.FsFile | undefined;
  // The fsync that covers every COMMIT so far (settled once the last one is durable).
  #lastSync: Promise<void> = Promise.resolve();
  // An fsync requested but not yet started: COMMITs made meanwhile join it.
  #queuedSync: Promise<void> | undefined;
  #syncedAtClose = false;
  #deferred = false;
  #nextCommitAt = 0;

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
    try {
      this.db = new DatabaseSync(path);
      this.db.exec("PRAGMA journal_mode=WAL");
    } catch (error) {
      throw damaged(path, error);
    }
    // FULL: the WAL is fsynced at every COMMIT, so a committed write survives power loss
    // (deferSync() moves that fsync off the JavaScript thread).
    this.db.exec("PRAGMA synchronous=FULL");
    this.#walPath = path === ":memory:" || path === "" ? undefined : `${path}-wal`;
    this.db.exec("PRAGMA busy_timeout=5000");
    // Deleted rows (expired epoch keys, replay tags) are overwritten with zeros, not left in free pages.
    this.db.exec("PRAGMA secure_delete=ON");
    this.reader = path === ":memory:" ? this.db : new DatabaseSync(path, { readOnly: true });
    if (this.reader !== this.db) this.reader.exec("PRAGMA busy_timeout=5000");
  }

  /**
   * Checks the database structure (`PRAGMA quick_check`: every page, b-tree and index
   * is well formed); run at start, before anything is served (issue 11 §12).
   *
   * @param what names the database in the error
   * @throws {IntegrityError} naming the first problem SQLite found
   */
  quickCheck(what: string): void {
    let rows: { quick_check: string }[];
    try {
      rows = this.db.prepare("PRAGMA quick_check(5)").all() as { quick_check: string }[];
    } catch (error) {
      throw damaged(what, error);
    }
    const problems = rows.map((r) => r.quick_check).filter((m) => m !== "ok");
    if (problems.length > 0) {
      throw new IntegrityError(
        `Store '${what}' is damaged (SQLite quick_check: ${
          // deno-lint-ignore no-control-regex -- control characters become spaces
          problems.join("; ").replace(/[\x00-\x1f\x7f]/g, " ")}); restore it from a backup`,
      );
    }
  }

  /**
   * Registers a function run right after every successful COMMIT, before any waiter is
   * told (so it may record what is now durable, e.g. the board's head).
   *
   * @param fn synchronous hook; if it throws, the waiters get that error
   */
  onCommit(fn: () => void): void {
    this.#hooks.push(fn);
  }

  /**
   * Registers a function run when the store closes (after the last commit).
   *
   * @param fn synchronous hook
   */
  onClose(fn: () => void): void {
    this.#closers.push(fn);
  }

  /**
   * The last storage failure (disk full, I/O error) since the last successful commit.
   *
   * @returns when and what failed, or undefined when writes succeed
   */
  failure(): { at: number; message: string } | undefined {
    return this.#failure;
  }

  #fail(error: unknown): unknown {
    if (!isStorageFailure(error)) return error;
    this.#failure = { at: Date.now(), message: (error as Error).message };
    return unavailable(error);
  }

  /**
   * A statement of the writer connection, compiled on first use and reused (the packet
   * path runs the same few statements thousands of times a second).
   *
   * @param sql the statement
   * @returns the cached prepared statement
   */
  prepared(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
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
    if (this.#broken !== undefined) throw this.#fail(this.#broken);
    try {
      if (!this.#inTransaction) {
        this.db.exec("BEGIN IMMEDIATE");
        this.#inTransaction = true;
      }
      this.db.exec("SAVEPOINT w");
    } catch (error) {
      throw this.#fail(error);
    }
    try {
      const result = fn();
      this.db.exec("RELEASE w");
      return result;
    } catch (error) {
      if (this.db.isTransaction) {
        this.db.exec("ROLLBACK TO w");
        this.db.exec("RELEASE w");
      } else {
        this.#broken = error;
        this.#timer ??= setTimeout(() => this.#flush(), 0);
      }
      throw this.#fail(error);
    }
  }

  /**
   * Resolves once every write made so far is committed to disk.
   *
   * @returns a promise settled after the COMMIT
   */
  commit(): Promise<void> {
    if (!this.#inTransaction) return this.#lastSync; // durable once its fsync is done
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#timer ??= setTimeout(() => this.#flush(), this.#pace());
    return p;
  }

  /**
   * Paces group commits under load: after a COMMIT that took d ms (mostly the fsync), the
   * next one waits until `factor × d` ms after it ended, so a busy writer spends at most
   * 1 / (1 + factor) of its time in COMMIT and each one carries more writes. An idle store
   * commits at once as before. Default 0 (no pacing).
   *
   * @param factor the pause after a COMMIT, in multiples of its duration
   * @example
   * ```ts
   * import { Store } from "./storage.ts";
   * const store = new Store(":memory:");
   * store.paceCommits(1);
   * store.close();
   * ```
   */
  paceCommits(factor: number): void {
    this.#paceFactor = factor;
  }

  /**
   * Moves the fsync that makes a COMMIT durable off the JavaScript thread: SQLite writes the
   * WAL at COMMIT (`synchronous=NORMAL`, which still syncs around checkpoints) and the store
   * fsyncs the WAL with an asynchronous `FsFile.sync()` before it resolves that COMMIT's
   * waiters or runs the commit hooks. Acknowledgements stay behind durability; only code that
   * reads committed rows through {@linkcode Store.reader} and vouches for them without
   * awaiting {@linkcode Store.commit} would see rows not yet durable — a store serving such a
   * role (the board signs heads from committed rows) must not call this. No effect in memory.
   *
   * @example
   * ```ts
   * import { Store } from "./storage.ts";
   * const dir = Deno.makeTempDirSync();
   * const store = new Store(`${dir}/s.sqlite`);
   * store.deferSync();
   * store.close();
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  deferSync(): void {
    if (this.#walPath === undefined || this.#deferred) return;
    this.commitNow();
    this.db.exec("PRAGMA synchronous=NORMAL");
    this.#deferred = true;
  }

  #pace(): number {
    if (this.#paceFactor === 0) return 0;
    return Math.max(0, Math.min(20, this.#nextCommitAt - performance.now()));
  }

  /**
   * Like {@linkcode Store.commit}, but lets the writes ride with the next group commit
   * for up to `withinMs` (for writes nobody waits on, e.g. removing a forwarded packet
   * the next hop has acknowledged): fewer COMMITs (fsyncs) under load.
   *
   * @param withinMs longest wait before a COMMIT of its own
   * @returns a promise settled after the COMMIT
   */
  commitSoon(withinMs: number): Promise<void> {
    if (!this.#inTransaction) return this.#lastSync;
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#timer === undefined && this.#lazyTimer === undefined) {
      this.#lazyTimer = setTimeout(() => {
        this.#lazyTimer = undefined;
        if (this.#timer === undefined) this.#flush();
      }, withinMs);
    }
    return p;
  }

  #walFile(): Deno.FsFile {
    if (this.#wal === undefined) {
      this.#wal = Deno.openSync(this.#walPath!, { read: true });
      // The WAL was just created (first write): make its directory entry durable too.
      const dir = this.#walPath!.slice(0, Math.max(1, this.#walPath!.lastIndexOf("/")));
      try {
        using d = Deno.openSync(dir, { read: true });
        d.syncSync();
      } catch { /* a directory that cannot be opened for sync: as SQLite on such systems */ }
    }
    return this.#wal;
  }

  // An fsync of the WAL that starts after the COMMIT just made (joined by later COMMITs
  // until it starts); fsync covers every write to the file, whichever connection made it.
  #requestSync(): Promise<void> {
    if (this.#queuedSync !== undefined) return this.#queuedSync;
    const queued = this.#lastSync.catch(() => {}).then(() => {
      if (this.#queuedSync === queued) this.#queuedSync = undefined;
      if (this.#closed) return; // close() synced everything
      // An fsync cut short by close() is covered by the fsync close() made first.
      return this.#walFile().sync().catch((error) => {
        if (!this.#syncedAtClose) throw error;
      });
    });
    this.#queuedSync = queued;
    this.#lastSync = queued;
    return queued;
  }

  #flush(syncNow = false): void {
    this.#timer = undefined;
    clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    const waiters = this.#waiters.splice(0);
    if (this.#broken !== undefined) {
      const reported = this.#fail(this.#broken);
      this.#broken = undefined;
      this.#inTransaction = false;
      if (this.db.isTransaction) {
        try {
          this.db.exec("ROLLBACK");
        } catch { /* already rolled back */ }
      }
      for (const w of waiters) w.reject(reported);
      return;
    }
    if (!this.#inTransaction) {
      const durable = this.#lastSync;
      for (const w of waiters) durable.then(w.resolve, (e) => w.reject(this.#fail(e)));
      return;
    }
    try {
      const started = performance.now();
      this.db.exec("COMMIT");
      const ended = performance.now();
      this.#nextCommitAt = ended + this.#paceFactor * (ended - started);
      this.#inTransaction = false;
      if (this.#deferred && syncNow) this.#walFile().syncSync();
      if (!this.#deferred || syncNow) {
        this.#failure = undefined;
        for (const hook of this.#hooks) hook();
        for (const w of waiters) w.resolve();
        return;
      }
      // Durable once the WAL is fsynced: only then the hooks and the acknowledgements.
      this.#requestSync().then(() => {
        this.#failure = undefined;
        try {
          for (const hook of this.#hooks) hook();
        } catch (error) {
          for (const w of waiters) w.reject(this.#fail(error));
          return;
        }
        for (const w of waiters) w.resolve();
      }, (error) => {
        // The fsync failed: nothing of this group may be acknowledged.
        const reported = this.#fail(error);
        for (const w of waiters) w.reject(reported);
      });
    } catch (error) {
      // Nothing of this group is durable: every waiter fails, none may acknowledge.
      try {
        this.db.exec("ROLLBACK");
      } catch { /* already rolled back */ }
      this.#inTransaction = false;
      const reported = this.#fail(error);
      for (const w of waiters) w.reject(reported);
    }
  }

  /**
   * Commits pending writes synchronously (schema set-up at start, before any reader).
   *
   * @throws {HttpError} 503 when the storage cannot be written
   */
  commitNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#inTransaction) return;
    let failure: unknown;
    this.#waiters.push({ resolve: () => {}, reject: (e) => (failure ??= e) });
    this.#flush(true);
    if (failure !== undefined) throw failure;
  }

  /** Commits pending writes synchronously and closes the database. */
  close(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    clearTimeout(this.#lazyTimer);
    this.#flush(true);
    if (this.#deferred) {
      try {
        this.#walFile().syncSync(); // what earlier COMMITs still wait for
        this.#syncedAtClose = true;
      } catch { /* reported to their waiters by their own fsync */ }
    }
    this.#closed = true;
    this.#wal?.close();
    for (const fn of this.#closers) fn();
    if (this.reader !== this.db) this.reader.close();
    this.db.close();
  }
}
