/**
 * `panoramix vote init`: define an election and print its fingerprint.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { InvalidInputError, UsageError } from "../../core/errors.ts";
import { readRecord } from "../../core/fields.ts";
import {
  createElectionDefinition,
  type ElectionDefinition,
  electionDefinitionFromEnvelope,
  type ElectionDefinitionInput,
  electionDefinitionToEnvelope,
  electionFingerprint,
  formatElectionReceipt,
  type QuestionType,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { fromBase64Url } from "../../core/bytes.ts";
import { positiveInteger } from "../flags.ts";
import { readInput, writeEnvelopeFile } from "../files.ts";

interface InitFlags {
  from?: string;
  id?: string;
  title?: string;
  question?: readonly string[];
  trustees?: number;
  threshold?: number;
  mixers?: number;
  revote?: "reject" | "last";
  trusteeKey?: readonly string[];
  out: string;
  force?: boolean;
}

function parseQuestion(text: string): ElectionDefinitionInput["questions"][number] {
  // "[single:|multiple:|ranked:]Question text=choice1,choice2,…"
  const typed = /^(single|multiple|ranked):(.*)$/s.exec(text);
  const type = (typed?.[1] ?? "single") as QuestionType;
  const rest = typed?.[2] ?? text;
  const eq = rest.lastIndexOf("=");
  if (eq <= 0) {
    throw new UsageError(
      `Question '${text}' must look like '[single:|multiple:|ranked:]Text=choice1,choice2'`,
    );
  }
  const choices = rest.slice(eq + 1).split(",").map((c) => c.trim()).filter((c) => c !== "");
  return { text: rest.slice(0, eq).trim(), choices, type };
}

/** `panoramix vote init`: write an election definition. */
export const voteInitCommand = buildCommand({
  async func(this: CliContext, flags: InitFlags) {
    let definition: ElectionDefinition;
    if (flags.from !== undefined) {
      const bytes = await readInput(flags.from, this.stdin);
      let raw: unknown;
      try {
        raw = JSON.parse(new TextDecoder().decode(bytes));
      } catch (error) {
        throw new InvalidInputError(`File '${flags.from}' is not valid JSON`, { cause: error });
      }
      const record = readRecord(raw, flags.from);
      definition = record.kind === "vote.election"
        ? electionDefinitionFromEnvelope(record, flags.from)
        : createElectionDefinition(record as unknown as ElectionDefinitionInput);
    } else {
      if (flags.id === undefined || flags.question === undefined) {
        throw new UsageError("Pass --from FILE, or --id and at least one --question");
      }
      definition = createElectionDefinition({
        id: flags.id,
        ...(flags.title === undefined ? {} : { title: flags.title }),
        questions: flags.question.map(parseQuestion),
        trustees: flags.trustees ?? flags.trusteeKey?.length ?? 3,
        ...(flags.threshold === undefined ? {} : { threshold: flags.threshold }),
        mixers: flags.mixers ?? 3,
        ...(flags.revote === undefined ? {} : { revote: flags.revote }),
        ...(flags.trusteeKey === undefined ? {} : {
          trusteeKeys: flags.trusteeKey.map((k, i) => fromBase64Url(k, `--trustee-key ${i + 1}`)),
        }),
      });
    }
    await writeEnvelopeFile(flags.out, electionDefinitionToEnvelope(definition), {
      overwrite: flags.force ?? false,
    });
    await this.stdout.write(
      `election '${definition.id}' written to ${flags.out}; fingerprint ${
        formatElectionReceipt(electionFingerprint(definition))
      }\n`,
    );
  },
  parameters: {
    flags: {
      from: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "JSON file: a vote.election envelope or {id, questions, trustees, …}",
      },
      id: { kind: "parsed", parse: String, optional: true, brief: "Election id" },
      title: { kind: "parsed", parse: String, optional: true, brief: "Title" },
      question: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief: "Question '[single:|multiple:|ranked:]Text=a,b,c' (repeatable, in order)",
      },
      trustees: {
        kind: "parsed",
        parse: positiveInteger("--trustees", 32),
        optional: true,
        brief: "Number of trustees n (default 3)",
      },
      threshold: {
        kind: "parsed",
        parse: positiveInteger("--threshold", 32),
        optional: true,
        brief: "Trustees needed to decrypt t (default n)",
      },
      mixers: {
        kind: "parsed",
        parse: positiveInteger("--mixers", 16),
        optional: true,
        brief: "Number of mixers k (default 3)",
      },
      revote: {
        kind: "enum",
        values: ["reject", "last"],
        optional: true,
        brief: "Re-voting policy (default reject)",
      },
      trusteeKey: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief:
          "Identity key of each trustee in order (base64url, from vote trustee keygen); they sign their posts",
      },
      out: { kind: "parsed", parse: String, brief: "Where to write the definition (JSON)" },
      force: { kind: "boolean", optional: true, brief: "Replace an existing file" },
    },
  },
  docs: { brief: "Define an election and print its fingerprint" },
});
