/**
 * `panoramix vote encrypt` and `vote submit`: the voter's client and the ballot box.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { PanoramixError, UsageError } from "../../core/errors.ts";
import {
  ballotReceipt,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  type ElectionDefinition,
  encryptElectionBallot,
  formatElectionReceipt,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { readAnyEnvelopeFile, writeEnvelopeFile } from "../files.ts";
import { Spool } from "../record_file.ts";
import { BoxFileAppender } from "./box_file.ts";
import { readPublicInfo, readVoters } from "./support.ts";

interface EncryptFlags {
  election: string;
  key: string;
  credential: string;
  answer: readonly string[];
  out: string;
  force?: boolean;
}

function parseAnswer(definition: ElectionDefinition, text: string, q: number): number[] {
  const question = definition.questions[q];
  if (question === undefined) {
    throw new UsageError(
      `Election has ${definition.questions.length} questions; too many --answer`,
    );
  }
  if (text.trim() === "") return [];
  return text.split(",").map((part) => {
    const name = part.trim();
    const byName = question.choices.indexOf(name);
    if (byName >= 0) return byName;
    const index = Number(name);
    if (!Number.isInteger(index)) {
      throw new UsageError(
        `Answer '${name}' to question ${q + 1} is neither a choice nor an index`,
      );
    }
    return index;
  });
}

/** `panoramix vote encrypt`: a voter's client. */
export const voteEncryptCommand = buildCommand({
  async func(this: CliContext, flags: EncryptFlags) {
    const election = await readPublicInfo(this, flags.election, flags.key);
    if (flags.answer.length !== election.definition.questions.length) {
      throw new UsageError(
        `Pass one --answer per question (${election.definition.questions.length}), got ${flags.answer.length}`,
      );
    }
    const answers = flags.answer.map((a, q) => parseAnswer(election.definition, a, q));
    const ballot = encryptElectionBallot(election, { credential: flags.credential, answers });
    await writeEnvelopeFile(flags.out, electionBallotToEnvelope(ballot), {
      overwrite: flags.force ?? false,
    });
    await this.stdout.write(`receipt ${formatElectionReceipt(ballotReceipt(ballot))}\n`);
  },
  parameters: {
    flags: {
      election: { kind: "parsed", parse: String, brief: "Election definition file" },
      key: { kind: "parsed", parse: String, brief: "Election key file (vote.election-key)" },
      credential: { kind: "parsed", parse: String, brief: "Voter credential" },
      answer: {
        kind: "parsed",
        parse: String,
        variadic: true,
        brief: "Answer per question, in order: choices by name or index, comma-separated; '' blank",
      },
      out: { kind: "parsed", parse: String, brief: "Where to write the ballot (JSON)" },
      force: { kind: "boolean", optional: true, brief: "Replace an existing file" },
    },
  },
  docs: { brief: "Encrypt a ballot (the voter's client) and print its receipt" },
});

interface SubmitFlags {
  election: string;
  key: string;
  box: string;
  voters?: string;
  json?: boolean;
}

/** `panoramix vote submit`: the ballot box accepts or rejects ballots. */
export const voteSubmitCommand = buildCommand({
  async func(this: CliContext, flags: SubmitFlags, ...files: string[]) {
    if (files.length === 0) throw new UsageError("Pass at least one ballot file");
    const election = await readPublicInfo(this, flags.election, flags.key);
    const voters = await readVoters(this, flags.voters);
    // Issue 17: the box file is read a chunk at a time and the accepted ballots appended to
    // it (cli/vote/box_file.ts); the replayed box keeps its ballots in a spool file.
    const spool = await Spool.create();
    const results: Array<Record<string, unknown>> = [];
    let firstError: PanoramixError | undefined;
    try {
      const boxFile = await BoxFileAppender.open(flags.box, election, {
        ...(voters === undefined ? {} : { voters }),
        spool,
        onNote: (line) => this.stderr.write(`${line}\n`),
      });
      try {
        for (const file of files) {
          try {
            const ballot = electionBallotFromEnvelope(
              await readAnyEnvelopeFile(file, this.stdin),
              { what: file },
            );
            const r = await boxFile.cast(ballot);
            results.push({
              file,
              accepted: true,
              position: r.index + 1,
              receipt: formatElectionReceipt(r.receipt),
              ...(r.supersedes === undefined ? {} : { supersedes: r.supersedes + 1 }),
            });
          } catch (error) {
            if (!(error instanceof PanoramixError)) throw error;
            firstError ??= error;
            results.push({ file, accepted: false, code: error.code, reason: error.message });
          }
        }
        // Nothing is reported accepted before it is on disk.
        await boxFile.commit();
      } finally {
        boxFile.close();
      }
    } finally {
      spool.close();
    }
    if (flags.json) {
      await this.stdout.write(JSON.stringify(results) + "\n");
    } else {
      for (const r of results) {
        await this.stdout.write(
          r.accepted
            ? `accepted ${r.file}: ballot ${r.position}, receipt ${r.receipt}\n`
            : `rejected ${r.file}: ${r.reason}\n`,
        );
      }
    }
    if (firstError !== undefined) {
      // The same class as the first rejection (its exit code), which is kept as the cause.
      throw new (firstError.constructor as new (m: string, o: { cause: unknown }) => Error)(
        `${
          results.filter((r) => !r.accepted).length
        } of ${files.length} ballots rejected (first: ${firstError.message})`,
        { cause: firstError },
      );
    }
  },
  parameters: {
    flags: {
      election: { kind: "parsed", parse: String, brief: "Election definition file" },
      key: { kind: "parsed", parse: String, brief: "Election key file" },
      box: {
        kind: "parsed",
        parse: String,
        brief: "Ballot box file (msgpack; created if missing; accepted ballots are appended)",
      },
      voters: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Voter roll: one credential per line",
      },
      json: { kind: "boolean", optional: true, brief: "Print the outcomes as JSON" },
    },
    positional: {
      kind: "array",
      parameter: { placeholder: "BALLOT", brief: "Ballot files", parse: String },
    },
  },
  docs: {
    brief: "Submit ballots to the box; rejected ones are named with the reason",
    fullDescription:
      "Exit codes: 0 all accepted; 4 malformed or wrong election or not on the roll; " +
      "8 replayed, copied or duplicate; 3 invalid proof (the first rejection's code). " +
      "The box file is read a chunk at a time (the box's rules replay it into a spool folder " +
      "under $TMPDIR) and the accepted ballots are appended to it, synced to disk before the " +
      "ballots' count in the file is updated and before anything is reported accepted: an " +
      "interrupted submit leaves the box as it was, followed by bytes other commands refuse " +
      "with a one-line error and the next submit drops. When the count's header must grow " +
      "(past 15 or 65,535 ballots) or the file is new, the whole box is written to BOX.submit-tmp " +
      "and renamed over it. The file is locked while a submit runs.",
  },
});
