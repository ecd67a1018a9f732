/**
 * The decryption mixer's persistent replay store for `panoramix mix --backend decrypt`
 * (issue 11, point 9): replay tags survive the process, so running a mixer again on the
 * same packets refuses them. It reuses the node daemon's SQLite replay cache
 * (cli/node/replay_store.ts through cli/node/backends.ts), one scope per mixer key.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Envelope } from "../core/envelope.ts";
import { PanoramixError, ReplayError, UsageError } from "../core/errors.ts";
import type { AnyMixBackend } from "../core/mixer.ts";
import { prepareBackend } from "./node/backends.ts";
import { Store } from "./node/storage.ts";
import { userDataDir } from "./data_dir.ts";

/** File name of the replay store in the user data directory. */
export const REPLAY_DB_FILE = "decrypt-replay.sqlite";

/** The `--replay-db` and `--no-replay-db` flags of `mix`. */
export interface ReplayDbFlags {
  /** Replay store file (default: the user data directory's). */
  replayDb?: string;
  /** Keep replay tags in memory only, for this process (tests, throw-away cascades). */
  noReplayDb?: boolean;
}

/** An open replay store wrapped around the decryption backend for one mix. */
export interface DecryptReplayStore {
  /** The store's path. */
  path: string;
  /** The decryption backend whose mixers check and record tags in the store. */
  backend: AnyMixBackend;
  /**
   * Records the new tags of a finished mix durably (before any output is written).
   *
   * @param proof the mix proof (its dropped list tells the replays)
   * @param inputs number of input packets
   * @returns number of inputs dropped as replays
   * @throws {ReplayError} when every input was a replay
   */
  commit(proof: Envelope, inputs: number): Promise<number>;
  /** Closes the store. */
  close(): void;
}

/**
 * Opens the replay store for a `mix` run, unless the backend is not `decrypt` or the user
 * turned it off.
 *
 * @param backendName the `--backend` value
 * @param flags the replay flags
 * @param env environment variables (to find the user data directory)
 * @returns the store, or undefined when there is none for this run
 * @throws {UsageError} on contradictory or misplaced flags
 * @throws {PanoramixError} code "unavailable" when another process holds the store
 */
export function openDecryptReplayStore(
  backendName: string,
  flags: ReplayDbFlags,
  env: Readonly<Record<string, string>>,
): DecryptReplayStore | undefined {
  if (flags.noReplayDb && flags.replayDb !== undefined) {
    throw new UsageError("Flags '--replay-db' and '--no-replay-db' cannot be used together");
  }
  if (backendName !== "decrypt") {
    if (flags.replayDb !== undefined || flags.noReplayDb) {
      throw new UsageError(
        `Flags '--replay-db' and '--no-replay-db' apply to '--backend decrypt' only, not '${backendName}'`,
      );
    }
    return undefined;
  }
  if (flags.noReplayDb) return undefined;
  const path = flags.replayDb ?? `${userDataDir(env, Deno.build.os)}/${REPLAY_DB_FILE}`;
  if (flags.replayDb === undefined) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let store: Store;
  try {
    store = new Store(path);
    // Hold the write lock for the whole mix: two mixers sharing a store must not both
    // accept the same packet between their checks and their commits.
    store.write(() => {});
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    if (/locked|busy/i.test(detail)) {
      throw new PanoramixError(
        "unavailable",
        `Replay store '${path}' is in use by another mix; try again`,
      );
    }
    throw new UsageError(`Cannot open replay store '${path}': ${detail}`, { cause: error });
  }
  const prepared = prepareBackend("decrypt", store);
  return {
    path,
    backend: prepared.backend,
    async commit(proof, inputs) {
      const replays = countReplays(proof);
      if (inputs > 0 && replays === inputs) {
        throw new ReplayError(
          `All ${inputs} packets were already processed by this mixer (replay store '${path}')`,
        );
      }
      store.write(() => prepared.persist());
      await store.commit();
      return replays;
    },
    close: () => store.close(),
  };
}

/** Inputs a decryption proof lists as dropped for being replays, over all its stages. */
function countReplays(proof: Envelope): number {
  const stages = (proof as { stages?: unknown }).stages;
  if (!Array.isArray(stages)) return 0;
  let count = 0;
  for (const stage of stages) {
    const dropped = (stage as { dropped?: unknown })?.dropped;
    if (!Array.isArray(dropped)) continue;
    for (const d of dropped) if ((d as { reason?: unknown })?.reason === "replay") count++;
  }
  return count;
}
