/**
 * The static registry of mixing backends known to the command line and the node
 * daemon. Registered here, not discovered at run time, so the compiled binary and
 * the bundle hold every backend.
 *
 * @module
 */

import type { AnyMixBackend } from "../core/mixer.ts";
import { plainBackend } from "../core/plain_backend.ts";
import { reencryptBackend } from "../backends/reencrypt/mod.ts";
import { decryptBackend } from "../backends/decrypt/mod.ts";
import { UsageError } from "../core/errors.ts";

/** Every backend, by its command-line name. */
export const BACKENDS: ReadonlyMap<string, AnyMixBackend> = new Map<string, AnyMixBackend>([
  [plainBackend.name, plainBackend],
  [reencryptBackend.name, reencryptBackend],
  [decryptBackend.name, decryptBackend],
]);

/**
 * Looks a backend up by name.
 *
 * @param name the `--backend` value
 * @returns the backend
 * @throws {UsageError} naming the unknown backend and listing the known ones
 */
export function backendByName(name: string): AnyMixBackend {
  const backend = BACKENDS.get(name);
  if (backend === undefined) {
    throw new UsageError(
      `Unknown backend '${name}' (known backends: ${[...BACKENDS.keys()].join(", ")})`,
    );
  }
  return backend;
}
