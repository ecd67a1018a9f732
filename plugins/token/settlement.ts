/**
 * Settlement: at the end of an epoch a service posts "N tokens of issuer key K were
 * redeemed at origin O in epoch E" with the redeemed tokens themselves; the issuer
 * checks every token (it verifies under its key and answers O's challenge for E),
 * that no token is counted twice, and that all claims together stay within what it
 * issued. The tokens are unlinkable to their issuance, so publishing them reveals
 * nothing about who spent them.
 *
 * @module
 */

import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readString } from "../../core/fields.ts";
import { toHex } from "../../core/bytes.ts";
import { TOKEN_KEY_ID_SIZE, type TokenPublicKey, type TokenSecretKey } from "./keys.ts";
import { verifyToken } from "./redeem.ts";

/** Envelope kind of a settlement record. */
export const SETTLEMENT_KIND = "token.settlement";

/** Most tokens one settlement record may list. */
export const MAX_SETTLEMENT_TOKENS = 1_000_000;

/** What a service claims for one issuer key and epoch. */
export interface Settlement {
  /** The issuer name its challenges carried. */
  issuerName: string;
  /** The issuer key (its epoch's token_key_id). */
  tokenKeyId: Uint8Array;
  /** The epoch. */
  epoch: number;
  /** The service's origin name. */
  origin: string;
  /** The redeemed tokens (serialized); their number is the claim. */
  tokens: Uint8Array[];
}

/**
 * Encodes a settlement as an envelope `{ v: 1, kind: "token.settlement", … , count }`.
 *
 * @param s the settlement
 * @returns the envelope
 * @example
 * ```ts
 * import { settlementToEnvelope } from "./settlement.ts";
 * const env = settlementToEnvelope({ issuerName: "i", tokenKeyId: new Uint8Array(32), epoch: 1, origin: "o", tokens: [] });
 * console.assert(env.kind === "token.settlement" && env.count === 0);
 * ```
 */
export function settlementToEnvelope(s: Settlement): Envelope {
  return {
    v: 1,
    kind: SETTLEMENT_KIND,
    issuerName: s.issuerName,
    tokenKeyId: s.tokenKeyId,
    epoch: s.epoch,
    origin: s.origin,
    count: s.tokens.length,
    tokens: s.tokens,
  };
}

/**
 * Decodes a settlement envelope.
 *
 * @param value the decoded value
 * @param what names it in errors
 * @returns the settlement
 * @throws {InvalidInputError} naming the malformed field, or when count and tokens disagree
 * @example
 * ```ts
 * import { readSettlement, settlementToEnvelope } from "./settlement.ts";
 * const env = settlementToEnvelope({ issuerName: "i", tokenKeyId: new Uint8Array(32), epoch: 1, origin: "o", tokens: [] });
 * console.assert(readSettlement(env, "s").epoch === 1);
 * ```
 */
export function readSettlement(value: unknown, what: string): Settlement {
  const env = readEnvelope(value, SETTLEMENT_KIND, { what });
  const tokens = readArray(env.tokens, `${what}.tokens`, { maxLength: MAX_SETTLEMENT_TOKENS })
    .map((t, i) => readBytes(t, `${what}.tokens[${i}]`));
  const count = readInteger(env.count, `${what}.count`);
  if (count !== tokens.length) {
    throw new InvalidInputError(
      `Value '${what}.count' is ${count} but ${tokens.length} tokens are listed`,
    );
  }
  return {
    issuerName: readString(env.issuerName, `${what}.issuerName`),
    tokenKeyId: readBytes(env.tokenKeyId, `${what}.tokenKeyId`, { length: TOKEN_KEY_ID_SIZE }),
    epoch: readInteger(env.epoch, `${what}.epoch`),
    origin: readString(env.origin, `${what}.origin`),
    tokens,
  };
}

/** The issuer's verdict on the settlements of one key and epoch. */
export interface SettlementAudit {
  /** The epoch. */
  epoch: number;
  /** Tokens the issuer signed with this key. */
  issued: number;
  /** Tokens claimed, per origin. */
  claimed: Record<string, number>;
  /** Sum of the claims. */
  total: number;
  /** Problems found (empty when the claims are consistent). */
  problems: string[];
}

/**
 * Checks settlements against the issuer's key and issuance count.
 *
 * @param settlements the records posted for this key (any origins)
 * @param options the issuer key (type 1 needs the secret), and how many tokens it issued
 * @returns the audit; `problems` lists every inconsistency
 * @example
 * ```ts
 * import { auditSettlements, generateTokenKey } from "./mod.ts";
 * const key = await generateTokenKey({ type: 1, epoch: 1 });
 * const audit = await auditSettlements([], { key, issuerName: "i", issued: 0 });
 * console.assert(audit.problems.length === 0);
 * ```
 */
export async function auditSettlements(
  settlements: readonly Settlement[],
  options: { key: TokenPublicKey | TokenSecretKey; issuerName: string; issued: number },
): Promise<SettlementAudit> {
  const { key } = options;
  const problems: string[] = [];
  const claimed: Record<string, number> = {};
  const seen = new Map<string, string>();
  let total = 0;
  for (const s of settlements) {
    if (toHex(s.tokenKeyId) !== toHex(key.tokenKeyId) || s.epoch !== key.epoch) {
      problems.push(`Settlement of '${s.origin}' is for another key or epoch ${s.epoch}`);
      continue;
    }
    claimed[s.origin] = (claimed[s.origin] ?? 0) + s.tokens.length;
    total += s.tokens.length;
    for (const [i, t] of s.tokens.entries()) {
      try {
        const v = await verifyToken(t, {
          origin: s.origin,
          issuerName: options.issuerName,
          keys: [key],
          epochs: [key.epoch],
        });
        const id = toHex(v.nonce);
        const first = seen.get(id);
        if (first !== undefined) {
          problems.push(`Token ${i} of '${s.origin}' was already claimed by '${first}'`);
        } else seen.set(id, s.origin);
      } catch (error) {
        if (!(error instanceof VerificationError || error instanceof InvalidInputError)) {
          throw error;
        }
        problems.push(`Token ${i} of '${s.origin}' is invalid: ${error.message}`);
      }
    }
  }
  if (total > options.issued) {
    problems.push(
      `${total} tokens claimed but only ${options.issued} issued in epoch ${key.epoch}`,
    );
  }
  return { epoch: key.epoch, issued: options.issued, claimed, total, problems };
}
