/**
 * `panoramix vote verify` and `vote receipt`: the universal verifier and the voter's receipt check.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { NotFoundError, VerificationError } from "../../core/errors.ts";
import { closeWorkerPool } from "../../core/worker_pool.ts";
import {
  checkElectionReceiptRecords,
  parseElectionReceipt,
  verifyElectionRecords,
} from "../../plugins/vote/mod.ts";
import { Spool } from "../record_file.ts";
import { FileBallotStore } from "./ballot_store_file.ts";
import type { CliContext } from "../context.ts";
import { progressFlag, workersFlag } from "../flags.ts";
import { terminalProgress } from "../progress.ts";
import { describeTally, openTranscriptInput, readVoters } from "./support.ts";

/** `panoramix vote verify TRANSCRIPT`: the universal verifier. */
export const voteVerifyCommand = buildCommand({
  async func(
    this: CliContext,
    flags: { json?: boolean; workers?: number; progress?: boolean; voters?: string },
    path: string,
  ) {
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    // Issue 17: a transcript file is read in place, a chunk at a time; the replayed box keeps
    // its ballots and counted ciphertexts in spool files. Standard input is copied to the
    // spool first, then read in place as a file is.
    const spool = await Spool.create();
    let opened;
    try {
      opened = await openTranscriptInput(this.stdin, path, spool);
    } catch (error) {
      spool.close();
      throw error;
    }
    try {
      const { transcript } = opened;
      const voters = await readVoters(this, flags.voters);
      let report;
      try {
        report = await verifyElectionRecords(transcript, {
          ...(flags.workers === undefined ? {} : { workers: flags.workers }),
          ...(voters === undefined ? {} : { voters }),
          onProgress: progress.report,
          sinks: spool.sinks,
          store: FileBallotStore.inSpool(spool, transcript.fingerprint),
        });
      } catch (error) {
        await progress.done();
        if (flags.json && error instanceof VerificationError) {
          await this.stdout.write(JSON.stringify({ ok: false, error: error.message }) + "\n");
        }
        throw error;
      }
      await progress.done();
      if (flags.json) {
        await this.stdout.write(
          JSON.stringify({ ok: true, ...report, tally: transcript.tally }) + "\n",
        );
        return;
      }
      await this.stdout.write(
        `verified: election '${report.election}', ${report.ballots} ballots (${report.counted} counted), ` +
          `${report.mixers} mixes, decryption by trustees ${report.trustees.join(", ")}; ` +
          `the tally matches\n` + describeTally(transcript),
      );
    } finally {
      await progress.done();
      opened.close();
      spool.close();
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      json: { kind: "boolean", optional: true, brief: "Print the result as JSON" },
      workers: workersFlag,
      voters: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Voter roll to check credentials against (one per line)",
      },
      progress: progressFlag,
    },
    positional: {
      kind: "tuple",
      parameters: [{
        placeholder: "TRANSCRIPT",
        brief: "Transcript file (msgpack or JSON view), or - for standard input",
        parse: String,
      }],
    },
  },
  docs: {
    brief: "Verify an election transcript: every proof and the tally; names the failing step",
    fullDescription:
      "Rechecks the fingerprint, the key ceremony, every ballot (box rules and proof), the " +
      "cleansing, every mixer's shuffle proof, every decryption share, the plaintexts, the " +
      "decoding and the tally. Exit code 0 when valid, 3 when a check fails (the message " +
      "names the step, e.g. 'Mixer 2 (mixer-2): shuffle proof invalid'), 4 on a malformed file. " +
      "A transcript file is read in place a chunk at a time (the replayed box is kept in a spool " +
      "folder under $TMPDIR, removed at the end or on Ctrl-C), so memory does not grow with it; " +
      "a transcript on standard input (-) is first copied to that folder a chunk at a time and " +
      "read in place from there. The JSON view is read whole (it is for small elections).",
  },
});

/** `panoramix vote receipt --transcript T RECEIPT`: is my ballot in the box and counted? */
export const voteReceiptCommand = buildCommand({
  async func(this: CliContext, flags: { transcript: string; json?: boolean }, receipt: string) {
    const parsed = parseElectionReceipt(receipt);
    // Issue 17: a transcript file is read in place; its ballots a chunk at a time. Standard
    // input is copied to a spool file first, then read in place as a file is.
    const spool = await Spool.create();
    let check;
    try {
      const opened = await openTranscriptInput(this.stdin, flags.transcript, spool);
      try {
        check = await checkElectionReceiptRecords(opened.transcript, parsed);
      } finally {
        opened.close();
      }
    } finally {
      spool.close();
    }
    if (flags.json) {
      await this.stdout.write(JSON.stringify(check) + "\n");
    } else {
      await this.stdout.write(
        check.status === "absent"
          ? "receipt not found in the published ballot box\n"
          : `receipt found: ballot ${check.position} of '${check.credential}', ${check.status}\n`,
      );
    }
    if (check.status === "absent") {
      throw new NotFoundError(`Receipt '${receipt.slice(0, 16)}…' is not in the ballot box`);
    }
  },
  parameters: {
    flags: {
      transcript: {
        kind: "parsed",
        parse: String,
        brief: "Published transcript file, or - for standard input",
      },
      json: { kind: "boolean", optional: true, brief: "Print the result as JSON" },
    },
    positional: {
      kind: "tuple",
      parameters: [{ placeholder: "RECEIPT", brief: "Receipt (64 hex characters)", parse: String }],
    },
  },
  docs: {
    brief: "Check that a receipt's ballot is in the published box and counted",
    fullDescription:
      "Exit code 0 when found (counted or superseded by a later ballot of the same voter), " +
      "6 when absent. Run 'vote verify' too: a receipt in an unverified transcript proves little. " +
      "A transcript file is read in place, its ballots a chunk at a time (memory does not grow " +
      "with it); one on standard input (-) is first copied to a spool folder under $TMPDIR a " +
      "chunk at a time and read in place from there. The JSON view is read whole.",
  },
});
