/**
 * Voter receipts: a voter keeps the 32-byte receipt the box returned (shown as hex)
 * and later checks that the published ballot box holds that exact ballot and that it
 * was counted (not superseded by a later ballot of the same voter).
 *
 * @module
 */

import { constantTimeEqual, fromHex, toHex } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import type { ItemChunks } from "../../core/records.ts";
import { BALLOT_RECEIPT_BYTES, ballotReceipt, type ElectionBallot } from "./ballot.ts";
import type { ElectionDefinition } from "./definition.ts";
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
 * Looks a receipt up in ballots seen in box order, a run at a time: the one pass of
 * {@linkcode checkElectionReceipt} and {@linkcode checkElectionReceiptRecords}.
 */
function receiptScan(definition: ElectionDefinition, receipt: Uint8Array) {
  let found: { position: number; credential: string } | undefined;
  let later = false;
  return {
    /** Ballots `lo`…: whether the answer is known (no later ballot can change it). */
    add(lo: number, ballots: readonly ElectionBallot[]): boolean {
      for (let k = 0; k < ballots.length && !later; k++) {
        const ballot = ballots[k]!;
        if (found === undefined) {
          if (constantTimeEqual(ballotReceipt(ballot), receipt)) {
            found = { position: lo + k + 1, credential: ballot.credential };
            // Under "reject" a ballot is never superseded.
            if (definition.revote !== "last") return true;
          }
        } else if (ballot.credential === found.credential) {
          later = true;
        }
      }
      return later;
    },
    result(): ReceiptCheck {
      if (found === undefined) return { status: "absent" };
      return { status: later ? "superseded" : "counted", ...found };
    },
  };
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
  const scan = receiptScan(transcript.definition, receipt);
  scan.add(0, transcript.ballots);
  return scan.result();
}

/**
 * Looks a receipt up in a published transcript whose ballots are read a chunk at a time
 * (issue 17: e.g. a transcript file opened in place), stopping as soon as the answer is
 * known: the result of {@linkcode checkElectionReceipt}.
 *
 * @param transcript the definition and the ballots in box order, as chunks
 * @param receipt the voter's receipt
 * @returns whether and where the ballot is, and whether it was counted
 * @example
 * ```ts ignore
 * const opened = await openElectionTranscriptFile(path);
 * const { status } = await checkElectionReceiptRecords(opened.transcript, receipt);
 * ```
 */
export async function checkElectionReceiptRecords(
  transcript: { definition: ElectionDefinition; ballots: ItemChunks<ElectionBallot> },
  receipt: Uint8Array,
): Promise<ReceiptCheck> {
  const scan = receiptScan(transcript.definition, receipt);
  let lo = 0;
  for await (const chunk of transcript.ballots.chunks()) {
    if (scan.add(lo, chunk)) break;
    lo += chunk.length;
  }
  return scan.result();
}
