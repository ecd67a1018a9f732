/**
 * Internal: converts a {@linkcode TokenChallengeLike} to the library's class (not
 * exported from mod.ts, so the public API names no library type).
 *
 * @module
 */

import { TokenChallenge } from "@cloudflare/privacypass-ts";
import type { TokenChallengeLike } from "./challenge.ts";

/**
 * The library's TokenChallenge for a challenge (rebuilt when it is not one already).
 *
 * @param c the challenge
 * @returns a privacypass-ts TokenChallenge
 */
export function asLibraryChallenge(c: TokenChallengeLike): TokenChallenge {
  return c instanceof TokenChallenge
    ? c
    : new TokenChallenge(c.tokenType, c.issuerName, c.redemptionContext, c.originInfo);
}
