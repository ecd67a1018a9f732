/**
 * Voter receipts: a voter keeps the 32-byte receipt the box returned (shown as hex)
 * and later checks that the published ballot box holds that exact ballot and that it
 * was counted (not superseded by a later ballot of the same voter).
 *
 * @module
 */

import { constantTimeEqual, fromHex, toHex } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { BALLOT_RECEIPT_BYTES, ballotReceipt } from "./ballot.ts";
import type { ElectionTranscript } from "./election_transcript.ts";

/** Outcome of {@linkcode checkElectionReceipt}. */
export interface ReceiptCheck {
  /** `counted`: in the box and counted; `superseded`: in the box, replaced by a later ballot of the same voter; `absent`: not in the box. */
  status: "counted" | "superseded" | "absent";
  /** 1-based position of the ballot in the box (absent: undefined). */
  position?: number;
  /** The credential of the ballot (absent: undefined). */
  credential?: string;
}

/**
 * Parses a receipt given as 64 hex characters.
 *
 * @param text the receipt text
 * @returns 32 bytes
 * @throws {InvalidInputError} when it is not 32 bytes of hex
 * @example
 * ```ts
 * import { parseElectionReceipt } from "./receipt.ts";
 * console.assert(parseElectionReceipt("00".repeat(32)).length === 32);
 * ```
 */
export function parseElectionReceipt(text: string): Uint8Array {
  const bytes = fromHex(text.trim(), "receipt");
  if (bytes.length !== BALLOT_RECEIPT_BYTES) {
    throw new InvalidInputError(
      `Receipt '${text.slice(0, 20)}' must be ${BALLOT_RECEIPT_BYTES} bytes (${
        2 * BALLOT_RECEIPT_BYTES
      } hex characters)`,
    );
  }
  return bytes;
}

/**
 * Formats a receipt for the voter (lower-case hex).
 *
 * @param receipt 32 bytes
 * @returns 64 hex characters
 * @example
 * ```ts
 * import { formatElectionReceipt } from "./receipt.ts";
 * console.assert(formatElectionReceipt(new Uint8Array(32)).length === 64);
 * ```
 */
export function formatElectionReceipt(receipt: Uint8Array): string {
  return toHex(receipt);
}

/**
 * Looks a receipt up in a published transcript (recomputing every ballot's receipt).
 *
 * @param transcript the transcript
 * @param receipt the voter's receipt
 * @returns whether and where the ballot is, and whether it was counted
 * @example
 * ```ts ignore
 * const { status } = checkElectionReceipt(transcript, parseElectionReceipt(text));
 * ```
 */
export function checkElectionReceipt(
  transcript: ElectionTranscript,
  receipt: Uint8Array,
): ReceiptCheck {
  const ballots = transcript.ballots;
  for (let i = 0; i < ballots.length; i++) {
    if (!constantTimeEqual(ballotReceipt(ballots[i]!), receipt)) continue;
    const credential = ballots[i]!.credential;
    const later = transcript.definition.revote === "last" &&
      ballots.slice(i + 1).some((b) => b.credential === credential);
    return { status: later ? "superseded" : "counted", position: i + 1, credential };
  }
  return { status: "absent" };
}
