/**
 * `panoramix survey ...`: privacy accounting, minimum batch sizes, survey plans,
 * aggregation of mixed reports, the seeded simulation and the benchmark.
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import { toJsonView } from "../core/envelope.ts";
import { ConfigError, InvalidInputError, UsageError } from "../core/errors.ts";
import { readBytes, readRecord } from "../core/fields.ts";
import { parseItems, serializeItem } from "../core/item_stream.ts";
import { plainBackend } from "../core/plain_backend.ts";
import {
  assertSurveyPublishable,
  encodeSurveyReport,
  fetchSurveyInfo,
  plainSurveyTransport,
  readSurveyDefinition,
  readSurveyReport,
  runSurveyBench,
  sealSurveyReport,
  shuffleAmplification,
  shuffleMinBatchSize,
  simulateSurvey,
  submitSurveyPackets,
  SURVEY_EXAMPLE,
  SurveyAggregator,
  type SurveyAnswer,
  type SurveyCloneModel,
  type SurveyDefinition,
  surveyMinBatchSize,
  surveyOracleReportBytes,
  surveyOracleVariance,
  surveyPlan,
  surveyPrivacy,
  surveyRespond,
} from "../plugins/survey/mod.ts";
import {
  decodeSphinxCascade,
  decryptBackend,
  type SphinxCascade,
} from "../backends/decrypt/mod.ts";
import type { CliContext } from "./context.ts";
import { readAnyEnvelopeFile, readInput } from "./files.ts";
import { positiveInteger, positiveNumber } from "./flags.ts";
import { walletTokensFor, walletTokenSource } from "./token_command.ts";
import { TokenHttpError } from "../plugins/token/mod.ts";

const modelFlag = {
  kind: "enum",
  values: ["generic", "randomized-response"],
  default: "generic",
  brief: "Clone model: generic ε0-LDP randomizer, or randomized response (k-RR, numeric)",
} as const;

const jsonFlag = { kind: "boolean", optional: true, brief: "Print one JSON object" } as const;

const deltaFlag = {
  kind: "parsed",
  parse: positiveNumber("--delta"),
  default: "1e-6",
  brief: "δ of the central guarantee",
} as const;

async function readDefinition(path: string, ctx: CliContext): Promise<SurveyDefinition> {
  const bytes = await readInput(path, ctx.stdin);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new InvalidInputError(`File '${path}' is not valid JSON: ${(error as Error).message}`);
  }
  return readSurveyDefinition(value, path);
}

async function printJson(ctx: CliContext, value: unknown): Promise<void> {
  await ctx.stdout.write(JSON.stringify(toJsonView(value)) + "\n");
}

interface PrivacyFlags {
  reports: number;
  epsilon0: number;
  delta: number;
  model: SurveyCloneModel;
  json?: boolean;
}

/** `panoramix survey privacy -n N --epsilon0 E [--delta D] [--model M] [--json]`. */
export const surveyPrivacyCommand = buildCommand({
  func: async function (this: CliContext, flags: PrivacyFlags) {
    const r = shuffleAmplification({
      n: flags.reports,
      epsilon0: flags.epsilon0,
      delta: flags.delta,
      model: flags.model,
    });
    if (flags.json) return await printJson(this, { ...r, closedForm: r.closedForm ?? null });
    await this.stdout.write(
      `${r.text}\n  lower bound of the same analysis: ${r.epsilonLower.toPrecision(4)}\n` +
        `  FMT21 closed form: ${
          r.closedForm === undefined
            ? "not valid here (needs ε0 ≤ ln(n / (16 ln(4/δ))))"
            : r.closedForm.toPrecision(3)
        }\n`,
    );
  },
  parameters: {
    flags: {
      reports: {
        kind: "parsed",
        parse: positiveInteger("--reports", 1e9),
        brief: "Number of shuffled reports n (alias -n)",
      },
      epsilon0: {
        kind: "parsed",
        parse: positiveNumber("--epsilon0"),
        brief: "Local ε0 of each report",
      },
      delta: deltaFlag,
      model: modelFlag,
      json: jsonFlag,
    },
    aliases: { n: "reports" },
  },
  docs: { brief: "Central (ε, δ) of n shuffled ε0-LDP reports (numeric clone analysis)" },
});

interface MinBatchFlags {
  epsilon0?: number;
  targetEpsilon?: number;
  delta: number;
  model: SurveyCloneModel;
  definition?: string;
  json?: boolean;
}

/** `panoramix survey min-batch --epsilon0 E --target-epsilon T [--delta D]` or `--definition FILE`. */
export const surveyMinBatchCommand = buildCommand({
  func: async function (this: CliContext, flags: MinBatchFlags) {
    if (flags.definition !== undefined) {
      const definition = await readDefinition(flags.definition, this);
      const n = surveyMinBatchSize(definition);
      if (flags.json) {
        return await printJson(this, {
          survey: definition.id,
          minBatchSize: n,
          target: definition.target,
        });
      }
      await this.stdout.write(
        `survey '${definition.id}' needs at least ${n} respondents per batch for central ε ≤ ${definition.target.epsilon} at δ = ${definition.target.delta}\n`,
      );
      return;
    }
    if (flags.epsilon0 === undefined || flags.targetEpsilon === undefined) {
      throw new UsageError("Give '--epsilon0' and '--target-epsilon', or '--definition FILE'");
    }
    const n = shuffleMinBatchSize({
      epsilon0: flags.epsilon0,
      targetEpsilon: flags.targetEpsilon,
      delta: flags.delta,
      model: flags.model,
    });
    const at = shuffleAmplification({
      n,
      epsilon0: flags.epsilon0,
      delta: flags.delta,
      model: flags.model,
    });
    if (flags.json) {
      return await printJson(this, {
        minBatchSize: n,
        epsilon0: flags.epsilon0,
        targetEpsilon: flags.targetEpsilon,
        delta: flags.delta,
        model: flags.model,
        epsilonAtMin: at.epsilon,
      });
    }
    await this.stdout.write(`minimum batch: ${n} reports (${at.text})\n`);
  },
  parameters: {
    flags: {
      epsilon0: {
        kind: "parsed",
        parse: positiveNumber("--epsilon0"),
        optional: true,
        brief: "Local ε0 of each report",
      },
      targetEpsilon: {
        kind: "parsed",
        parse: positiveNumber("--target-epsilon"),
        optional: true,
        brief: "Central ε the batch must reach",
      },
      delta: deltaFlag,
      model: modelFlag,
      definition: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Survey definition (JSON); composes over its questions and uses its target",
      },
      json: jsonFlag,
    },
  },
  docs: { brief: "Smallest batch whose shuffle meets a target central ε" },
});

interface PlanFlags {
  definition: string;
  json?: boolean;
}

/** `panoramix survey plan --definition FILE [--json]`. */
export const surveyPlanCommand = buildCommand({
  func: async function (this: CliContext, flags: PlanFlags) {
    const definition = await readDefinition(flags.definition, this);
    const plans = surveyPlan(definition).map((p) => ({
      question: p.question.id,
      type: p.question.type,
      epsilon0: p.question.epsilon0,
      mechanism: p.mechanism,
      domain: p.oracle?.k ?? null,
      hashRange: p.mechanism === "olh" ? p.oracle!.g : null,
      payloadBytes: p.oracle === undefined ? 1 : surveyOracleReportBytes(p.oracle),
      variancePerReport: p.oracle === undefined ? null : surveyOracleVariance(p.oracle),
      cloneModel: p.cloneModel,
    }));
    const minBatchSize = surveyMinBatchSize(definition);
    if (flags.json) {
      return await printJson(this, { survey: definition.id, questions: plans, minBatchSize });
    }
    const lines = plans.map((p) =>
      `  ${p.question} (${p.type}, ε0 = ${p.epsilon0}): ${p.mechanism}` +
      (p.domain === null ? "" : ` over ${p.domain} values`) +
      (p.hashRange === null ? "" : `, g = ${p.hashRange}`) + `, ${p.payloadBytes} payload bytes`
    );
    await this.stdout.write(
      `survey '${definition.id}'\n${
        lines.join("\n")
      }\n  minimum batch: ${minBatchSize} respondents\n`,
    );
  },
  parameters: {
    flags: {
      definition: {
        kind: "parsed",
        parse: String,
        brief: "Survey definition (JSON file, - for stdin)",
      },
      json: jsonFlag,
    },
  },
  docs: { brief: "Show the randomizer chosen for every question and the minimum batch" },
});

/** Rejected items listed one by one before the rest are only counted. */
const MAX_REJECTION_LINES = 10;

/**
 * The report bytes carried by one item: a bare `survey.report` envelope, or a mix
 * output with a `data` (plain) or `message` (decrypt plaintext) bytes field.
 */
function surveyItemBytes(value: unknown, what: string): Uint8Array {
  const record = readRecord(value, what);
  if (record.kind === "survey.report") {
    return encodeSurveyReport(readSurveyReport(value, what));
  }
  if (record.data !== undefined) return readBytes(record.data, `${what}.data`);
  if (record.message !== undefined) return readBytes(record.message, `${what}.message`);
  const kind = typeof record.kind === "string"
    ? `a '${record.kind}' item`
    : "an item without a kind";
  throw new InvalidInputError(
    `Value '${what}' is ${kind}, not a survey report (expected 'survey.report', or a mix output with 'data' or 'message' bytes)`,
  );
}

interface AggregateFlags {
  definition: string;
  input: string;
  confidence: number;
  force?: boolean;
  json?: boolean;
}

/** `panoramix survey aggregate --definition FILE --input ITEMS [--json] [--force]`. */
export const surveyAggregateCommand = buildCommand({
  func: async function (this: CliContext, flags: AggregateFlags) {
    if (flags.definition === "-" && flags.input === "-") {
      throw new UsageError("Only one of '--definition' and '--input' can read standard input");
    }
    const definition = await readDefinition(flags.definition, this);
    const items = parseItems(await readInput(flags.input, this.stdin), { what: flags.input });
    if (items.length === 0) {
      throw new InvalidInputError(`Input '${flags.input}' holds no items; nothing to estimate`);
    }
    const aggregator = new SurveyAggregator(definition);
    let rejected = 0;
    let firstError = "";
    items.forEach((value, i) => {
      try {
        aggregator.ingestBytes(surveyItemBytes(value, `item ${i + 1}`));
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        rejected++;
        firstError ||= error.message;
        // A few lines say what is wrong; thousands of identical lines would hide it.
        if (rejected <= MAX_REJECTION_LINES) {
          void this.stderr.write(`item ${i + 1} rejected: ${error.message}\n`);
        }
      }
    });
    if (rejected > MAX_REJECTION_LINES) {
      await this.stderr.write(`… ${rejected - MAX_REJECTION_LINES} more items rejected\n`);
    }
    if (rejected === items.length) {
      throw new InvalidInputError(
        `Input '${flags.input}' holds no survey reports (${items.length} items rejected; first: ${firstError})`,
      );
    }
    const privacy = surveyPrivacy(definition, aggregator.counts);
    if (!flags.force) assertSurveyPublishable(privacy);
    const estimate = aggregator.estimate({ confidence: flags.confidence });
    if (flags.json) {
      return await printJson(this, {
        estimate,
        privacy: { ...privacy, text: privacy.text },
        rejected,
      });
    }
    const out: string[] = [];
    for (const q of estimate.questions) {
      out.push(`${q.id} (${q.mechanism}, n = ${q.n}):`);
      if (q.mean !== undefined) {
        out.push(
          `  mean ${q.mean.estimate.toFixed(3)}  [${q.mean.low.toFixed(3)}, ${
            q.mean.high.toFixed(3)
          }]`,
        );
      }
      for (const f of q.frequencies ?? []) {
        out.push(
          `  ${f.option}: ${f.estimate.toFixed(4)}  [${f.low.toFixed(4)}, ${f.high.toFixed(4)}]`,
        );
      }
    }
    out.push(privacy.text, `rejected reports: ${rejected}`);
    await this.stdout.write(out.join("\n") + "\n");
  },
  parameters: {
    flags: {
      definition: { kind: "parsed", parse: String, brief: "Survey definition (JSON file)" },
      input: {
        kind: "parsed",
        parse: String,
        default: "-",
        brief:
          "Mix output items (NDJSON or msgpack; items with a `data` field or survey.report envelopes)",
      },
      confidence: {
        kind: "parsed",
        parse: positiveNumber("--confidence"),
        default: "0.95",
        brief: "Confidence level of the intervals",
      },
      force: {
        kind: "boolean",
        optional: true,
        brief: "Print estimates even when the central privacy target is not met",
      },
      json: jsonFlag,
    },
  },
  docs: {
    brief: "Estimate a survey from mixed reports; refuses when the privacy target is not met",
  },
});

interface RespondFlags {
  definition?: string;
  answers?: string;
  input?: string;
  inputFormat: "auto" | "ndjson" | "csv";
  backend: "plain" | "decrypt";
  cascade?: string;
  collector?: string;
  tokenWallet?: string;
  format: "ndjson" | "msgpack";
  json?: boolean;
}

/** Packets per submission to a collector. */
const SUBMIT_CHUNK = 1000;

/**
 * Parses one CSV line (RFC 4180 quoting: "a ""b"" c").
 *
 * @param line the line without its newline
 * @returns the cells
 */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else cell += c;
  }
  cells.push(cell);
  return cells.map((x) => x.trim());
}

/**
 * Reads respondents' answers: NDJSON (one JSON object per line) or CSV (a header of
 * question ids; multiple-choice selections separated by ';'; numbers as numbers).
 */
function readRespondents(
  text: string,
  options: { format: "auto" | "ndjson" | "csv"; path: string; definition: SurveyDefinition },
): Record<string, SurveyAnswer>[] {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l, n: i + 1 })).filter((x) => x.l.trim());
  if (lines.length === 0) {
    throw new InvalidInputError(`Input '${options.path}' holds no respondents`);
  }
  const csv = options.format === "csv" ||
    (options.format === "auto" && !lines[0]!.l.trimStart().startsWith("{"));
  if (!csv) {
    return lines.map(({ l, n }) => {
      try {
        return readRecord(JSON.parse(l), `line ${n}`) as Record<string, SurveyAnswer>;
      } catch (error) {
        throw new InvalidInputError(
          `Line ${n} of '${options.path}' is not a JSON object of answers: ${
            (error as Error).message
          }`,
        );
      }
    });
  }
  const header = csvCells(lines[0]!.l);
  const questions = new Map(options.definition.questions.map((q) => [q.id, q]));
  for (const h of header) {
    if (!questions.has(h)) {
      throw new InvalidInputError(
        `Column '${h}' of '${options.path}' is not a question of survey '${options.definition.id}'`,
      );
    }
  }
  return lines.slice(1).map(({ l, n }) => {
    const cells = csvCells(l);
    if (cells.length !== header.length) {
      throw new InvalidInputError(
        `Line ${n} of '${options.path}' has ${cells.length} cells, the header ${header.length}`,
      );
    }
    const answers: Record<string, SurveyAnswer> = {};
    header.forEach((id, j) => {
      const q = questions.get(id)!;
      const cell = cells[j]!;
      if (q.type === "numeric") {
        const x = Number(cell);
        if (cell === "" || !Number.isFinite(x)) {
          throw new InvalidInputError(
            `Line ${n} of '${options.path}': '${id}' must be a number, got '${cell}'`,
          );
        }
        answers[id] = x;
      } else if (q.type === "multiple") {
        answers[id] = cell === "" ? [] : cell.split(";").map((x) => x.trim());
      } else answers[id] = cell;
    });
    return answers;
  });
}

/**
 * `panoramix survey respond`: randomizes answers (system CSPRNG) for one respondent
 * (`--answers`) or many (`--input` NDJSON or CSV) and writes one mix input item per
 * report — plain items, or Sphinx packets sealed to a decryption cascade — or posts
 * the packets to a survey collector (`--collector`).
 */
export const surveyRespondCommand = buildCommand({
  func: async function (this: CliContext, flags: RespondFlags) {
    if ((flags.answers === undefined) === (flags.input === undefined)) {
      throw new UsageError("Give exactly one of '--answers JSON' and '--input FILE'");
    }
    let cascade: SphinxCascade | undefined;
    let definition: SurveyDefinition;
    let round: number | undefined;
    let tokenRequired = false;
    if (flags.tokenWallet !== undefined && flags.collector === undefined) {
      throw new UsageError(
        "'--token-wallet' is for '--collector' (tokens are spent at a collector)",
      );
    }
    if (flags.collector !== undefined) {
      if (flags.cascade !== undefined) {
        throw new UsageError("'--collector' gives the cascade; do not pass '--cascade' too");
      }
      if (flags.definition === undefined) {
        throw new UsageError("'--collector' needs '--definition' (its id names the survey)");
      }
      const local = await readDefinition(flags.definition, this);
      const info = await fetchSurveyInfo({ collector: flags.collector, survey: local.id });
      if (JSON.stringify(info.definition) !== JSON.stringify(local)) {
        throw new InvalidInputError(
          `Survey '${local.id}' of '${flags.definition}' differs from the collector's definition`,
        );
      }
      definition = info.definition;
      cascade = info.cascade;
      round = info.round.index;
      tokenRequired = info.tokenRequired;
      if (tokenRequired && flags.tokenWallet === undefined) {
        throw new UsageError(
          `Collector '${flags.collector}' requires a Privacy Pass token per respondent for survey '${local.id}'; pass '--token-wallet FILE' (filled by 'panoramix token fetch')`,
        );
      }
    } else {
      if (flags.definition === undefined) throw new UsageError("Flag '--definition' is required");
      definition = await readDefinition(flags.definition, this);
      if (flags.backend === "decrypt") {
        if (flags.cascade === undefined) {
          throw new UsageError(
            "'--backend decrypt' needs '--cascade FILE' (the decrypt public key)",
          );
        }
        cascade = decodeSphinxCascade(
          await readAnyEnvelopeFile(flags.cascade, this.stdin),
          flags.cascade,
        );
      } else if (flags.cascade !== undefined) {
        throw new UsageError("'--cascade' is for '--backend decrypt'");
      }
    }
    let respondents: Record<string, SurveyAnswer>[];
    if (flags.answers !== undefined) {
      let answers: unknown;
      try {
        answers = JSON.parse(flags.answers);
      } catch (error) {
        throw new InvalidInputError(
          `Flag '--answers' is not valid JSON: ${(error as Error).message}`,
        );
      }
      respondents = [readRecord(answers, "answers") as Record<string, SurveyAnswer>];
    } else {
      const bytes = await readInput(flags.input!, this.stdin);
      respondents = readRespondents(new TextDecoder().decode(bytes), {
        format: flags.inputFormat,
        path: flags.input!,
        definition,
      });
    }
    // Randomize everyone first: a bad line stops the run before anything is sent.
    const perRespondent = respondents.map((answers, i) => {
      try {
        return surveyRespond(definition, { answers });
      } catch (error) {
        if (error instanceof InvalidInputError && respondents.length > 1) {
          throw new InvalidInputError(`Respondent ${i + 1}: ${error.message}`);
        }
        throw error;
      }
    });
    const reports = perRespondent.flat();
    if (cascade === undefined) {
      for (const report of reports) {
        const item = plainBackend.input.encode(
          plainSurveyTransport.wrap(encodeSurveyReport(report)),
        );
        await this.stdout.write(serializeItem(item, flags.format));
      }
      return;
    }
    const packets: Uint8Array[] = [];
    for (const report of reports) packets.push(await sealSurveyReport(report, cascade));
    if (flags.collector === undefined) {
      for (const packet of packets) {
        await this.stdout.write(
          serializeItem(decryptBackend.input.encode({ type: "packet", packet }), flags.format),
        );
      }
      return;
    }
    // A collector that requires tokens: one request (one token) per respondent, the
    // wallet checked up front so that a short wallet stops the run before anything is sent.
    let chunks: Uint8Array[][] = [];
    let left: number | undefined;
    let spent = 0;
    // A token is taken from the wallet only when the collector answers a challenge.
    const token = flags.tokenWallet === undefined
      ? undefined
      : walletTokenSource(flags.tokenWallet, flags.collector, (n) => {
        spent++;
        left = n;
      });
    if (flags.tokenWallet !== undefined && tokenRequired) {
      const wallet = flags.tokenWallet;
      const { origin, usable } = await walletTokensFor(wallet, flags.collector);
      if (usable < respondents.length) {
        throw new ConfigError(
          usable === 0
            ? `Wallet '${wallet}' is empty: it holds no valid token for '${origin}'; run 'panoramix token fetch --service ${flags.collector}'`
            : `Wallet '${wallet}' holds ${usable} valid token(s) for '${origin}', ${respondents.length} respondent(s) need one each; run 'panoramix token fetch --count ${
              respondents.length - usable
            }'`,
        );
      }
      let at = 0;
      for (const r of perRespondent) {
        chunks.push(packets.slice(at, at + r.length));
        at += r.length;
      }
    } else {
      for (let i = 0; i < packets.length; i += SUBMIT_CHUNK) {
        chunks.push(packets.slice(i, i + SUBMIT_CHUNK));
      }
    }
    chunks = chunks.filter((c) => c.length > 0);
    let accepted = 0;
    for (const chunk of chunks) {
      let ack;
      try {
        ack = await submitSurveyPackets(chunk, {
          collector: flags.collector,
          survey: definition.id,
          ...(token ? { token } : {}),
        });
      } catch (error) {
        if (error instanceof TokenHttpError && error.status === 401) {
          throw new TokenHttpError(
            401,
            flags.tokenWallet === undefined
              ? `${error.message}; pass '--token-wallet FILE' (filled by 'panoramix token fetch')`
              : `${error.message} (${accepted} of ${packets.length} reports were accepted before)`,
          );
        }
        throw error;
      }
      accepted += ack.accepted;
      round = ack.round;
      await this.stderr.write(`submitted ${accepted}/${packets.length} reports\n`);
    }
    if (spent > 0) {
      await this.stderr.write(`spent ${spent} token(s); ${left} left in ${flags.tokenWallet}\n`);
    }
    const summary = {
      survey: definition.id,
      respondents: respondents.length,
      accepted,
      round,
      ...(flags.tokenWallet !== undefined ? { tokensSpent: spent } : {}),
    };
    if (flags.json) return await printJson(this, summary);
    await this.stdout.write(
      `${respondents.length} respondents: ${accepted} sealed reports accepted by the collector for round ${round}\n`,
    );
  },
  parameters: {
    flags: {
      definition: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Survey definition (JSON file)",
      },
      answers: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief:
          'One respondent\'s answers as JSON, e.g. \'{"color":"red","tools":["email"],"age":31}\'',
      },
      input: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief:
          "Many respondents: NDJSON (one answers object a line) or CSV (header of question ids)",
      },
      inputFormat: {
        kind: "enum",
        values: ["auto", "ndjson", "csv"],
        default: "auto",
        brief: "Format of --input (auto: NDJSON when the first line starts with '{')",
      },
      backend: {
        kind: "enum",
        values: ["plain", "decrypt"],
        default: "plain",
        brief: "Items to write: plain (tests, docs) or decrypt (Sphinx packets, needs --cascade)",
      },
      cascade: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Public decrypt.cascade key file the reports are sealed to",
      },
      collector: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Survey collector URL: seal to its cascade and submit there",
      },
      tokenWallet: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief:
          "Token wallet ('panoramix token fetch'): one token per respondent when the collector requires tokens",
      },
      format: {
        kind: "enum",
        values: ["ndjson", "msgpack"],
        default: "ndjson",
        brief: "Item stream format",
      },
      json: jsonFlag,
    },
  },
  docs: {
    brief:
      "Randomize respondents' answers into mix items (plain or sealed packets) or submit them to a collector",
  },
});

interface SimulateFlags {
  respondents: number;
  seed: string;
  mix: boolean;
  json?: boolean;
}

/** `panoramix survey simulate --respondents N --seed S [--no-mix] [--json]`. */
export const surveySimulateCommand = buildCommand({
  func: async function (this: CliContext, flags: SimulateFlags) {
    const sim = await simulateSurvey({
      respondents: flags.respondents,
      seed: flags.seed,
      mix: flags.mix,
      onProgress: (done, total) =>
        void this.stderr.write(`simulated ${done}/${total} respondents\n`),
    });
    if (flags.json) {
      return await printJson(this, {
        respondents: sim.respondents,
        batchSize: sim.batchSize,
        minBatchSize: sim.minBatchSize,
        rejected: sim.rejected,
        questions: sim.questions,
        privacy: {
          epsilon: sim.privacy.epsilon,
          delta: sim.privacy.delta,
          rule: sim.privacy.rule,
          meetsTarget: sim.privacy.meetsTarget,
          target: sim.privacy.target,
          text: sim.privacy.text,
        },
      });
    }
    const out: string[] = [
      `survey '${SURVEY_EXAMPLE.id}': ${sim.respondents} simulated respondents, mix batches of ${sim.batchSize} (minimum ${sim.minBatchSize})`,
    ];
    sim.questions.forEach((q, i) => {
      const est = sim.estimate.questions[i]!;
      out.push(
        `${q.id} (${est.mechanism}): ${
          (100 * q.coverage).toFixed(0)
        }% of intervals cover the truth, largest error ${q.maxError.toPrecision(3)}`,
      );
      const labels = est.frequencies?.map((f) => f.option) ?? ["mean"];
      const shown = Math.min(q.truth.length, 6);
      for (let j = 0; j < shown; j++) {
        out.push(
          `  ${labels[j]}: true ${q.truth[j]!.toFixed(4)}  estimate ${
            q.estimates[j]!.toFixed(4)
          }  [${q.low[j]!.toFixed(4)}, ${q.high[j]!.toFixed(4)}]`,
        );
      }
      if (q.truth.length > shown) out.push(`  … ${q.truth.length - shown} more`);
    });
    out.push(sim.privacy.text);
    await this.stdout.write(out.join("\n") + "\n");
  },
  parameters: {
    flags: {
      respondents: {
        kind: "parsed",
        parse: positiveInteger("--respondents", 1e8),
        default: "100000",
        brief: "Simulated respondents",
      },
      seed: { kind: "parsed", parse: String, default: "1", brief: "Simulation seed" },
      mix: {
        kind: "boolean",
        default: true,
        brief: "Shuffle the reports through the plain backend (--no-mix skips it)",
      },
      json: jsonFlag,
    },
  },
  docs: { brief: "Simulate the example survey with a known true distribution" },
});

interface BenchFlags {
  reports: number;
  json?: boolean;
}

/** `panoramix survey bench [--reports N] [--json]`. */
export const surveyBenchCommand = buildCommand({
  func: async function (this: CliContext, flags: BenchFlags) {
    await this.stderr.write(`ingesting ${flags.reports} reports on one core\n`);
    const r = runSurveyBench({
      reports: flags.reports,
      onProgress: (done, total) => void this.stderr.write(`ingested ${done}/${total}\n`),
    });
    const report = {
      reports: r.reports,
      cores: 1,
      reportsPerSecondPerCore: Math.round(r.reportsPerSecond),
      ingestSeconds: Number(r.ingestSeconds.toFixed(3)),
      estimateMs: Number(r.estimateMs.toFixed(3)),
      privacyAccountingMs: Number(r.privacyMs.toFixed(1)),
      mechanisms: r.mechanisms.map((m) => ({
        ...m,
        reportsPerSecond: Math.round(m.reportsPerSecond),
      })),
      goals: { reportsPerSecondPerCore: 20000, estimateMs: 100 },
    };
    if (flags.json) return await printJson(this, report);
    const lines = [
      `survey bench: ${r.reports} reports (decode + validate + count, 1 core)`,
      `  ingest      ${report.reportsPerSecondPerCore} reports/s/core (goal ≥ 20000)`,
      `  estimate    ${report.estimateMs} ms (goal < 100 ms)`,
      `  accounting  ${report.privacyAccountingMs} ms (first, uncached, 5 questions)`,
      ...report.mechanisms.map((m) =>
        `  ${m.question.padEnd(9)} ${m.mechanism.padEnd(8)} k = ${
          String(m.k).padEnd(4)
        } ${m.reportsPerSecond} reports/s`
      ),
    ];
    await this.stdout.write(lines.join("\n") + "\n");
  },
  parameters: {
    flags: {
      reports: {
        kind: "parsed",
        parse: positiveInteger("--reports", 1e9),
        default: "5000000",
        brief: "Reports to ingest",
      },
      json: jsonFlag,
    },
  },
  docs: { brief: "Measure report ingest rate and estimate latency" },
});

/** The `panoramix survey` route map. */
export const surveyRoutes = buildRouteMap({
  routes: {
    privacy: surveyPrivacyCommand,
    "min-batch": surveyMinBatchCommand,
    plan: surveyPlanCommand,
    respond: surveyRespondCommand,
    aggregate: surveyAggregateCommand,
    simulate: surveySimulateCommand,
    bench: surveyBenchCommand,
  },
  docs: {
    brief: "Private surveys: LDP randomizers, mix-net submission and shuffle privacy accounting",
  },
});
