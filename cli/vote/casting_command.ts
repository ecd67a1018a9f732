/**
 * `panoramix vote encrypt` and `vote submit`: the voter's client and the ballot box.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { NotFoundError, PanoramixError, UsageError } from "../../core/errors.ts";
import {
  ballotReceipt,
  type ElectionBallot,
  ElectionBallotBox,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  type ElectionDefinition,
  type ElectionPublicInfo,
  encryptElectionBallot,
  formatElectionReceipt,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { readAnyEnvelopeFile, writeEnvelopeFile } from "../files.ts";
import { readBoxFile, readPublicInfo, readVoters, writeBoxFile } from "./support.ts";

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

async function openBox(
  election: ElectionPublicInfo,
  path: string,
  voters: string[] | undefined,
  stdin: ReadableStream<Uint8Array>,
): Promise<ElectionBallotBox> {
  let stored: ElectionBallot[] = [];
  try {
    stored = await readBoxFile(stdin, election, path);
  } catch (error) {
    // No box yet: the first submission creates it.
    if (!(error instanceof NotFoundError)) throw error;
  }
  const box = new ElectionBallotBox(election, voters === undefined ? {} : { voters });
  // Stored ballots were checked when they were accepted; their proofs are trusted here.
  stored.forEach((b) => box.cast(b, { proofValid: true }));
  return box;
}

/** `panoramix vote submit`: the ballot box accepts or rejects ballots. */
export const voteSubmitCommand = buildCommand({
  async func(this: CliContext, flags: SubmitFlags, ...files: string[]) {
    if (files.length === 0) throw new UsageError("Pass at least one ballot file");
    const election = await readPublicInfo(this, flags.election, flags.key);
    const box = await openBox(
      election,
      flags.box,
      await readVoters(this, flags.voters),
      this.stdin,
    );
    const results: Array<Record<string, unknown>> = [];
    let firstError: PanoramixError | undefined;
    for (const file of files) {
      try {
        const ballot = electionBallotFromEnvelope(await readAnyEnvelopeFile(file, this.stdin), {
          what: file,
        });
        const r = box.cast(ballot);
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
    await writeBoxFile(flags.box, election, box.ballots);
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
      throw new (firstError.constructor as new (m: string) => PanoramixError)(
        `${
          results.filter((r) => !r.accepted).length
        } of ${files.length} ballots rejected (first: ${firstError.message})`,
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
        brief: "Ballot box file (msgpack; created if missing)",
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
      "8 replayed, copied or duplicate; 3 invalid proof (the first rejection's code).",
  },
});
