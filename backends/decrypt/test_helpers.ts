/**
 * Helpers shared by this folder's tests (not exported from mod.ts).
 *
 * @module
 */

import { x25519 } from "@noble/curves/ed25519.js";
import { randomBytes, type RandomSource, seededRandom } from "../../core/random.ts";
import type { SphinxHop } from "./header.ts";
import type { SphinxNodeKey } from "./unwrap.ts";

/**
 * Asserts that a promise rejects with an instance of the given class.
 *
 * @param promise the promise or a function returning it
 * @param errorClass expected class
 * @param includes optional text the message must contain
 * @returns the error
 */
export async function assertRejectsWith(
  promise: Promise<unknown> | (() => Promise<unknown>),
  // deno-lint-ignore no-explicit-any
  errorClass: new (...args: any[]) => Error,
  includes?: string,
): Promise<Error> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    if (!(error instanceof errorClass)) {
      throw new Error(`Expected ${errorClass.name}, got ${String(error)}`);
    }
    if (includes !== undefined && !error.message.includes(includes)) {
      throw new Error(`Expected message to include '${includes}', got '${error.message}'`);
    }
    return error;
  }
  throw new Error(`Expected ${errorClass.name}, but nothing was thrown`);
}

/** Test nodes with keys and ids from a seed. */
export function testNodes(count: number, seed = "test-nodes"): {
  keys: SphinxNodeKey[];
  route: SphinxHop[];
} {
  const random: RandomSource = seededRandom(seed);
  const keys: SphinxNodeKey[] = [];
  const route: SphinxHop[] = [];
  for (let i = 0; i < count; i++) {
    const secretKey = randomBytes(32, random);
    const key = { keyId: i + 1, secretKey, publicKey: x25519.getPublicKey(secretKey) };
    keys.push(key);
    route.push({
      nodeId: randomBytes(32, random),
      publicKey: key.publicKey,
      keyId: key.keyId,
      delayMs: 7 * i,
    });
  }
  return { keys, route };
}
