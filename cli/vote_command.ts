/**
 * `panoramix vote …`: a verifiable election from the command line.
 *
 * Files: the election definition and every public ceremony post are JSON envelopes;
 * a "board" is a directory of public posts (dealings, complaints, answers, the election
 * key); a trustee's "outbox"/"inbox" holds the secret dealt shares sent privately. The
 * ballot box and the transcript are msgpack envelopes (JSON view when the file name
 * ends in `.json`). Progress and diagnostics go to stderr; `--json` prints one JSON
 * object on stdout for scripts.
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import { decodeMsgpack, encodeMsgpack, type Envelope, toJsonView } from "../core/envelope.ts";
import {
  ConfigError,
  InvalidInputError,
  NotFoundError,
  PanoramixError,
  UsageError,
  VerificationError,
} from "../core/errors.ts";
import { readRecord } from "../core/fields.ts";
import { closeWorkerPool, workerCount } from "../core/worker_pool.ts";
import {
  answerTrusteeComplaints,
  ballotBoxFromEnvelope,
  ballotBoxToEnvelope,
  ballotReceipt,
  CEREMONY_KINDS,
  type CeremonyElection,
  type CeremonyPosts,
  checkElectionReceipt,
  checkTrusteeShares,
  createElectionDefinition,
  createTrusteeDealing,
  decodeComplaintAnswers,
  decodeDealtShare,
  decodeElectionKey,
  decodeTrusteeComplaints,
  decodeTrusteeDealing,
  decodeTrusteeKey,
  decryptElectionShares,
  deriveTrusteeKey,
  type ElectionBallot,
  ElectionBallotBox,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  type ElectionCascade,
  type ElectionDecryption,
  type ElectionDefinition,
  electionDefinitionFromEnvelope,
  type ElectionDefinitionInput,
  electionDefinitionToEnvelope,
  electionFingerprint,
  type ElectionKey,
  type ElectionPublicInfo,
  type ElectionTranscript,
  electionTranscriptFromEnvelope,
  electionTranscriptToEnvelope,
  encodeCeremonyPost,
  encryptElectionBallot,
  formatElectionReceipt,
  mixElection,
  parseElectionReceipt,
  type QuestionType,
  replayBallotBox,
  resolveElectionKey,
  runLocalElection,
  simulateElectionBallots,
  tallyElection,
  verifyElection,
} from "../plugins/vote/mod.ts";
import type { CliContext } from "./context.ts";
import { positiveInteger } from "./flags.ts";
import { NodeClient } from "./node/client.ts";
import { loadIdentity } from "./node/node.ts";
import { boardElectionCascade } from "./vote_nodes.ts";
import { fromBase64Url } from "../core/bytes.ts";
import { readAnyEnvelopeFile, readInput, writeEnvelopeFile } from "./files.ts";
import { terminalProgress } from "./progress.ts";

// ------------------------------------------------------------------ helpers

async function readElection(ctx: CliContext, path: string): Promise<CeremonyElection> {
  const definition = electionDefinitionFromEnvelope(
    await readAnyEnvelopeFile(path, ctx.stdin),
    path,
  );
  return { definition, fingerprint: electionFingerprint(definition) };
}

async function readPublicInfo(
  ctx: CliContext,
  electionPath: string,
  keyPath: string,
): Promise<ElectionPublicInfo> {
  const election = await readElection(ctx, electionPath);
  const key = decodeElectionKey(election, await readAnyEnvelopeFile(keyPath, ctx.stdin), keyPath);
  return { ...election, publicKey: key.publicKey };
}

async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".json")) out.push(`${dir}/${entry.name}`);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`Directory '${dir}' does not exist`, { cause: error });
    }
    throw error;
  }
  return out.sort();
}

async function readDir(ctx: CliContext, dir: string): Promise<Array<[string, Envelope]>> {
  const out: Array<[string, Envelope]> = [];
  for (const path of await jsonFiles(dir)) {
    out.push([path, await readAnyEnvelopeFile(path, ctx.stdin)]);
  }
  return out;
}

async function readBoard(
  ctx: CliContext,
  election: CeremonyElection,
  dir: string,
): Promise<CeremonyPosts> {
  const posts: CeremonyPosts = { dealings: [], complaints: [], answers: [] };
  for (const [path, env] of await readDir(ctx, dir)) {
    if (env.kind === CEREMONY_KINDS.dealing) {
      posts.dealings.push(decodeTrusteeDealing(election, env, path));
    } else if (env.kind === CEREMONY_KINDS.complaints) {
      posts.complaints.push(decodeTrusteeComplaints(election, env, path));
    } else if (env.kind === CEREMONY_KINDS.answers) {
      posts.answers.push(decodeComplaintAnswers(election, env, path));
    }
  }
  return posts;
}

async function readShares(
  ctx: CliContext,
  election: CeremonyElection,
  dir: string,
  filter: { dealer?: number; recipient?: number },
) {
  const out = [];
  for (const [path, env] of await readDir(ctx, dir)) {
    if (env.kind !== CEREMONY_KINDS.dealtShare) continue;
    const share = decodeDealtShare(election, env, path);
    if (filter.dealer !== undefined && share.dealer !== filter.dealer) continue;
    if (filter.recipient !== undefined && share.recipient !== filter.recipient) continue;
    out.push(share);
  }
  return out;
}

async function ensureDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
}

async function writeBinaryOrJson(path: string, envelope: Envelope, force: boolean) {
  if (path.endsWith(".json")) {
    await writeEnvelopeFile(path, envelope, { overwrite: force });
    return;
  }
  try {
    await Deno.writeFile(path, encodeMsgpack(envelope), { createNew: !force });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new ConfigError(`File '${path}' already exists; pass --force to replace it`);
    }
    throw error;
  }
}

async function readTranscript(ctx: CliContext, path: string): Promise<ElectionTranscript> {
  return electionTranscriptFromEnvelope(await readAnyEnvelopeFile(path, ctx.stdin), path);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

function describeTally(transcript: ElectionTranscript): string {
  const { definition, tally } = transcript;
  const lines = [
    `tally of '${definition.id}': ${tally.ballots} ballots, ${tally.valid} valid, ${tally.invalid} invalid`,
  ];
  definition.questions.forEach((q, i) => {
    const t = tally.questions[i]!;
    lines.push(`  ${i + 1}. ${q.text} (${q.type})`);
    q.choices.forEach((c, j) => {
      const first = t.ranks ? `, first preference ${t.ranks[j]![0]}` : "";
      lines.push(`     ${String(t.counts[j]).padStart(8)}  ${c}${first}`);
    });
    lines.push(`     ${String(t.blank).padStart(8)}  (blank)`);
  });
  return lines.join("\n") + "\n";
}

// ------------------------------------------------------------------ init

interface InitFlags {
  from?: string;
  id?: string;
  title?: string;
  question?: readonly string[];
  trustees?: number;
  threshold?: number;
  mixers?: number;
  revote?: "reject" | "last";
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
        trustees: flags.trustees ?? 3,
        ...(flags.threshold === undefined ? {} : { threshold: flags.threshold }),
        mixers: flags.mixers ?? 3,
        ...(flags.revote === undefined ? {} : { revote: flags.revote }),
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
      out: { kind: "parsed", parse: String, brief: "Where to write the definition (JSON)" },
      force: { kind: "boolean", optional: true, brief: "Replace an existing file" },
    },
  },
  docs: { brief: "Define an election and print its fingerprint" },
});

// ------------------------------------------------------------------ key ceremony

interface TrusteeFlags {
  election: string;
  trustee: number;
  board: string;
  force?: boolean;
}

const trusteeFlags = {
  election: { kind: "parsed", parse: String, brief: "Election definition file" },
  trustee: {
    kind: "parsed",
    parse: positiveInteger("--trustee", 32),
    brief: "This trustee's index (1-based, order of the definition)",
  },
  board: { kind: "parsed", parse: String, brief: "Directory of public posts" },
  force: { kind: "boolean", optional: true, brief: "Replace existing files" },
} as const;

/** `panoramix vote trustee deal`: round 1 of the key ceremony. */
export const voteTrusteeDealCommand = buildCommand({
  async func(this: CliContext, flags: TrusteeFlags & { outbox: string }) {
    const election = await readElection(this, flags.election);
    const { dealing, shares } = createTrusteeDealing(election, { trustee: flags.trustee });
    const overwrite = flags.force ?? false;
    await ensureDir(flags.board);
    await ensureDir(flags.outbox);
    await writeEnvelopeFile(
      `${flags.board}/dealing-${flags.trustee}.json`,
      encodeCeremonyPost(election, { dealing }),
      { overwrite },
    );
    for (const share of shares) {
      await writeEnvelopeFile(
        `${flags.outbox}/share-${share.dealer}-to-${share.recipient}.json`,
        encodeCeremonyPost(election, { share }),
        { overwrite, secret: true },
      );
    }
    await this.stderr.write(
      `trustee ${flags.trustee}: dealing posted to ${flags.board}; send each ${flags.outbox}/share-${flags.trustee}-to-J.json privately to trustee J\n`,
    );
  },
  parameters: {
    flags: {
      ...trusteeFlags,
      outbox: {
        kind: "parsed",
        parse: String,
        brief: "Directory for the secret shares to send to each trustee",
      },
    },
  },
  docs: { brief: "Key ceremony round 1: post commitments, write one secret share per trustee" },
});

/** `panoramix vote trustee check`: round 2. */
export const voteTrusteeCheckCommand = buildCommand({
  async func(this: CliContext, flags: TrusteeFlags & { inbox: string }) {
    const election = await readElection(this, flags.election);
    const posts = await readBoard(this, election, flags.board);
    const shares = await readShares(this, election, flags.inbox, { recipient: flags.trustee });
    const complaints = checkTrusteeShares(election, {
      trustee: flags.trustee,
      dealings: posts.dealings,
      shares,
    });
    await writeEnvelopeFile(
      `${flags.board}/complaints-${flags.trustee}.json`,
      encodeCeremonyPost(election, { complaints }),
      { overwrite: flags.force ?? false },
    );
    await this.stdout.write(
      complaints.against.length === 0
        ? `trustee ${flags.trustee}: all ${posts.dealings.length} shares check out\n`
        : `trustee ${flags.trustee}: complaints against dealers ${complaints.against.join(", ")}\n`,
    );
  },
  parameters: {
    flags: {
      ...trusteeFlags,
      inbox: {
        kind: "parsed",
        parse: String,
        brief: "Directory holding the shares this trustee received",
      },
    },
  },
  docs: { brief: "Key ceremony round 2: check received shares, post complaints (maybe none)" },
});

/** `panoramix vote trustee answer`: round 3. */
export const voteTrusteeAnswerCommand = buildCommand({
  async func(this: CliContext, flags: TrusteeFlags & { outbox: string }) {
    const election = await readElection(this, flags.election);
    const posts = await readBoard(this, election, flags.board);
    const shares = await readShares(this, election, flags.outbox, { dealer: flags.trustee });
    const answers = answerTrusteeComplaints(election, { shares, complaints: posts.complaints });
    await writeEnvelopeFile(
      `${flags.board}/answers-${flags.trustee}.json`,
      encodeCeremonyPost(election, { answers }),
      { overwrite: flags.force ?? false },
    );
    await this.stdout.write(
      `trustee ${flags.trustee}: answered ${answers.answers.length} complaints\n`,
    );
  },
  parameters: {
    flags: {
      ...trusteeFlags,
      outbox: {
        kind: "parsed",
        parse: String,
        brief: "Directory holding the shares this trustee dealt",
      },
    },
  },
  docs: { brief: "Key ceremony round 3: reveal the shares complained about" },
});

/** `panoramix vote trustee finalize`: derive the trustee's secret key share. */
export const voteTrusteeFinalizeCommand = buildCommand({
  async func(this: CliContext, flags: TrusteeFlags & { inbox: string; secret: string }) {
    const election = await readElection(this, flags.election);
    const posts = await readBoard(this, election, flags.board);
    const key = resolveElectionKey(election, posts);
    const shares = await readShares(this, election, flags.inbox, { recipient: flags.trustee });
    const secret = deriveTrusteeKey(election, {
      trustee: flags.trustee,
      key,
      shares,
      answers: posts.answers,
    });
    await writeEnvelopeFile(flags.secret, encodeCeremonyPost(election, { trusteeKey: secret }), {
      overwrite: flags.force ?? false,
      secret: true,
    });
    await writeEnvelopeFile(
      `${flags.board}/election-key.json`,
      encodeCeremonyPost(election, { key }),
      { overwrite: true },
    );
    await this.stdout.write(
      `trustee ${flags.trustee}: key share written to ${flags.secret} (mode 0600); election key in ${flags.board}/election-key.json\n`,
    );
  },
  parameters: {
    flags: {
      ...trusteeFlags,
      inbox: {
        kind: "parsed",
        parse: String,
        brief: "Directory holding the shares this trustee received",
      },
      secret: {
        kind: "parsed",
        parse: String,
        brief: "Where to write this trustee's secret key share (mode 0600)",
      },
    },
  },
  docs: { brief: "Key ceremony round 4: derive and check this trustee's key share" },
});

/** `panoramix vote key`: anyone resolves the board into the election key. */
export const voteKeyCommand = buildCommand({
  async func(
    this: CliContext,
    flags: { election: string; board: string; out?: string; force?: boolean },
  ) {
    const election = await readElection(this, flags.election);
    const key = resolveElectionKey(election, await readBoard(this, election, flags.board));
    const env = encodeCeremonyPost(election, { key });
    if (flags.out !== undefined) {
      await writeEnvelopeFile(flags.out, env, { overwrite: flags.force ?? false });
    } else {
      await this.stdout.write(JSON.stringify(toJsonView(env), null, 2) + "\n");
    }
    await this.stderr.write(
      `qualified trustees: ${key.qualified.join(", ")}${
        key.disqualified.map((d) => `; trustee ${d.dealer} disqualified: ${d.reason}`).join("")
      }\n`,
    );
  },
  parameters: {
    flags: {
      election: trusteeFlags.election,
      board: trusteeFlags.board,
      out: { kind: "parsed", parse: String, optional: true, brief: "Write the key here" },
      force: trusteeFlags.force,
    },
  },
  docs: { brief: "Resolve the public ceremony posts into the election key (anyone can)" },
});

// ------------------------------------------------------------------ casting

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

async function readVoters(ctx: CliContext, path: string | undefined) {
  if (path === undefined) return undefined;
  const text = new TextDecoder().decode(await readInput(path, ctx.stdin));
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

async function openBox(
  election: ElectionPublicInfo,
  path: string,
  voters: string[] | undefined,
): Promise<ElectionBallotBox> {
  let stored: ElectionBallot[] = [];
  try {
    stored = ballotBoxFromEnvelope(election, decodeMsgpack(await Deno.readFile(path), path));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
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
    const box = await openBox(election, flags.box, await readVoters(this, flags.voters));
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
    await Deno.writeFile(flags.box, encodeMsgpack(ballotBoxToEnvelope(election, box.ballots)));
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
      parameter: { brief: "Ballot files", parse: String },
    },
  },
  docs: {
    brief: "Submit ballots to the box; rejected ones are named with the reason",
    fullDescription:
      "Exit codes: 0 all accepted; 4 malformed or wrong election or not on the roll; " +
      "8 replayed, copied or duplicate; 3 invalid proof (the first rejection's code).",
  },
});

// ------------------------------------------------------------------ tally

interface TallyFlags {
  election: string;
  board: string;
  box: string;
  trusteeKey: readonly string[];
  out: string;
  boardUrl?: string;
  adminIdentity?: string;
  mixerNode?: readonly string[];
  timeout?: number;
  workers?: number;
  force?: boolean;
  progress?: boolean;
}

async function nodeCascade(flags: TallyFlags): Promise<{ cascade?: ElectionCascade }> {
  if (flags.boardUrl === undefined) return {};
  if (flags.adminIdentity === undefined || flags.mixerNode === undefined) {
    throw new UsageError("--board-url needs --admin-identity and one --mixer-node per mixer");
  }
  const admin = await loadIdentity(flags.adminIdentity);
  return {
    cascade: boardElectionCascade({
      client: new NodeClient(flags.boardUrl, { identity: admin }),
      admin,
      mixers: flags.mixerNode.map((k) => fromBase64Url(k, "--mixer-node")),
      timeoutMs: (flags.timeout ?? 600) * 1000,
    }),
  };
}

/** `panoramix vote tally`: close, mix (locally or via nodes), decrypt, tally, publish. */
export const voteTallyCommand = buildCommand({
  async func(this: CliContext, flags: TallyFlags) {
    const ce = await readElection(this, flags.election);
    const posts = await readBoard(this, ce, flags.board);
    const key: ElectionKey = resolveElectionKey(ce, posts);
    const election: ElectionPublicInfo = { ...ce, publicKey: key.publicKey };
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    const workers = flags.workers === undefined ? {} : { workers: flags.workers };
    const common = { ...workers, onProgress: progress.report };
    try {
      const stored = ballotBoxFromEnvelope(
        election,
        decodeMsgpack(await readInput(flags.box, this.stdin), flags.box),
      );
      const box = await replayBallotBox(election, stored, common);
      const mixInput = box.close();
      const mixes = await mixElection(election, {
        inputs: mixInput,
        ...common,
        ...(await nodeCascade(flags)),
      });
      const final = mixes[mixes.length - 1]!.outputs;
      const decryption: ElectionDecryption[] = [];
      for (const path of flags.trusteeKey) {
        const secret = decodeTrusteeKey(ce, await readAnyEnvelopeFile(path, this.stdin), path);
        decryption.push(await decryptElectionShares(secret, { ciphertexts: final, ...common }));
      }
      const results = await tallyElection(election, {
        key,
        ciphertexts: final,
        decryption,
        ...common,
      });
      const transcript: ElectionTranscript = {
        ...ce,
        ceremony: posts,
        key,
        ballots: [...box.ballots],
        mixInput,
        mixes,
        decryption,
        ...results,
      };
      await writeBinaryOrJson(
        flags.out,
        electionTranscriptToEnvelope(transcript),
        flags.force ?? false,
      );
      await progress.done();
      await this.stdout.write(describeTally(transcript));
      await this.stderr.write(`transcript written to ${flags.out}\n`);
    } finally {
      await progress.done();
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      election: { kind: "parsed", parse: String, brief: "Election definition file" },
      board: { kind: "parsed", parse: String, brief: "Directory of the ceremony posts" },
      box: { kind: "parsed", parse: String, brief: "Ballot box file" },
      trusteeKey: {
        kind: "parsed",
        parse: String,
        variadic: true,
        brief: "Secret key file of a decrypting trustee (at least t; repeatable)",
      },
      out: { kind: "parsed", parse: String, brief: "Transcript file (.msgpack, or .json)" },
      boardUrl: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Mix through mix nodes: URL of their bulletin board (else mix locally)",
      },
      adminIdentity: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "With --board-url: identity key file of a board admin (node init writes one)",
      },
      mixerNode: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief: "With --board-url: node id (base64url) of each mixer, in the election's order",
      },
      timeout: {
        kind: "parsed",
        parse: positiveInteger("--timeout", 86_400),
        optional: true,
        brief: "With --board-url: seconds to wait for the nodes (default 600)",
      },
      workers: {
        kind: "parsed",
        parse: positiveInteger("--workers", 1024),
        optional: true,
        brief: "Workers (default: all cores)",
      },
      force: { kind: "boolean", optional: true, brief: "Replace an existing transcript" },
      progress: { kind: "boolean", optional: true, brief: "Force progress lines on stderr" },
    },
  },
  docs: {
    brief:
      "Close the box, mix (locally or through mix nodes), decrypt, tally, write the transcript",
  },
});

// ------------------------------------------------------------------ run / bench

interface RunFlags {
  election: string;
  ballots: number;
  out: string;
  workers?: number;
  force?: boolean;
  progress?: boolean;
}

/** `panoramix vote run`: a whole simulated election (trustees and voters simulated). */
export const voteRunCommand = buildCommand({
  async func(this: CliContext, flags: RunFlags) {
    const { definition } = await readElection(this, flags.election);
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    try {
      const { transcript, times } = await runLocalElection(definition, {
        ...(flags.workers === undefined ? {} : { workers: flags.workers }),
        onProgress: progress.report,
        ballots: (e) => simulateElectionBallots(e, { count: flags.ballots }).ballots,
        onPhase: (phase, ms) => void this.stderr.write(`${phase}: ${seconds(ms)} s\n`),
      });
      await writeBinaryOrJson(
        flags.out,
        electionTranscriptToEnvelope(transcript),
        flags.force ?? false,
      );
      await progress.done();
      await this.stdout.write(describeTally(transcript));
      await this.stderr.write(
        `transcript written to ${flags.out} (${
          seconds(Object.values(times).reduce((a, b) => a + b, 0))
        } s)\n`,
      );
    } finally {
      await progress.done();
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      election: { kind: "parsed", parse: String, brief: "Election definition file" },
      ballots: {
        kind: "parsed",
        parse: positiveInteger("--ballots", 10_000_000),
        brief: "Number of simulated voters",
      },
      out: { kind: "parsed", parse: String, brief: "Transcript file (.msgpack, or .json)" },
      workers: {
        kind: "parsed",
        parse: positiveInteger("--workers", 1024),
        optional: true,
        brief: "Workers (default: all cores)",
      },
      force: { kind: "boolean", optional: true, brief: "Replace an existing transcript" },
      progress: { kind: "boolean", optional: true, brief: "Force progress lines on stderr" },
    },
  },
  docs: {
    brief: "Run a whole local election with simulated trustees and voters; write the transcript",
  },
});

interface BenchFlags {
  ballots: number;
  trustees: number;
  threshold: number;
  mixers: number;
  workers?: number;
  json?: boolean;
  progress?: boolean;
}

/** `panoramix vote bench --ballots N`: time per phase of a whole election. */
export const voteBenchCommand = buildCommand({
  async func(this: CliContext, flags: BenchFlags) {
    const definition = createElectionDefinition({
      id: "bench",
      trustees: flags.trustees,
      threshold: flags.threshold,
      mixers: flags.mixers,
      questions: [{ text: "Which option?", choices: ["A", "B", "C", "D", "E"] }],
    });
    const workers = flags.workers ?? workerCount();
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    const log = (text: string) => void this.stderr.write(text);
    try {
      log(
        `vote bench: ${flags.ballots} ballots, ${flags.mixers} mixers, ${flags.threshold}-of-${flags.trustees} trustees, ${workers} worker(s)\n`,
      );
      const { transcript, times } = await runLocalElection(definition, {
        workers,
        onProgress: progress.report,
        ballots: (e) => simulateElectionBallots(e, { count: flags.ballots }).ballots,
        onPhase: (phase, ms) => log(`  ${phase}: ${seconds(ms)} s\n`),
      });
      let t = performance.now();
      const bytes = encodeMsgpack(electionTranscriptToEnvelope(transcript));
      times["write transcript"] = performance.now() - t;
      t = performance.now();
      const decoded = electionTranscriptFromEnvelope(decodeMsgpack(bytes, "transcript"));
      times["read transcript"] = performance.now() - t;
      t = performance.now();
      let mark = t;
      const verifySteps: Record<string, number> = {};
      await verifyElection(decoded, {
        workers,
        onProgress: (e) => {
          progress.report(e);
          if (e.done !== e.total) return;
          const now = performance.now();
          verifySteps[e.phase] = Number(((now - mark) / 1000).toFixed(2));
          mark = now;
        },
      });
      times["verify"] = performance.now() - t;
      await progress.done();
      const election = Object.entries(times)
        .filter(([p]) => p !== "encrypt ballots")
        .reduce((a, [, ms]) => a + ms, 0);
      const report = {
        ballots: flags.ballots,
        mixers: flags.mixers,
        trustees: `${flags.threshold}-of-${flags.trustees}`,
        workers,
        transcriptBytes: bytes.length,
        seconds: Object.fromEntries(
          Object.entries(times).map(([p, ms]) => [p, Number((ms / 1000).toFixed(2))]),
        ),
        verifySteps,
        // Everything but the voters' own encryption (done on their devices).
        electionSeconds: Number((election / 1000).toFixed(2)),
        tally: transcript.tally.questions[0]!.counts,
      };
      if (flags.json) {
        await this.stdout.write(JSON.stringify(report) + "\n");
        return;
      }
      const lines = Object.entries(report.seconds).map(([p, s]) =>
        `  ${p.padEnd(18)} ${s.toFixed(2).padStart(9)} s`
      );
      // Each verification step under "verify".
      for (const [p, s] of Object.entries(verifySteps)) {
        lines.push(`    ${p.padEnd(28)} ${s.toFixed(2).padStart(9)} s`);
      }
      await this.stdout.write(
        `vote bench: ${flags.ballots} ballots through ${flags.mixers} mixers, ${report.trustees} trustees, ${workers} worker(s)\n` +
          lines.join("\n") +
          `\n  election total     ${
            report.electionSeconds.toFixed(2).padStart(9)
          } s (all phases except voters' encryption)\n` +
          `  transcript         ${(bytes.length / 1e6).toFixed(1)} MB; tally ${
            report.tally.join(" / ")
          }\n`,
      );
    } finally {
      await progress.done();
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      ballots: {
        kind: "parsed",
        parse: positiveInteger("--ballots", 10_000_000),
        brief: "Number of ballots N",
      },
      trustees: {
        kind: "parsed",
        parse: positiveInteger("--trustees", 32),
        default: "3",
        brief: "Trustees n",
      },
      threshold: {
        kind: "parsed",
        parse: positiveInteger("--threshold", 32),
        default: "2",
        brief: "Threshold t",
      },
      mixers: {
        kind: "parsed",
        parse: positiveInteger("--mixers", 16),
        default: "3",
        brief: "Mixers k",
      },
      workers: {
        kind: "parsed",
        parse: positiveInteger("--workers", 1024),
        optional: true,
        brief: "Workers (default: all cores)",
      },
      json: { kind: "boolean", optional: true, brief: "Print one JSON object" },
      progress: { kind: "boolean", optional: true, brief: "Force progress lines on stderr" },
    },
  },
  docs: { brief: "Benchmark a whole election: time per phase, including full verification" },
});

// ------------------------------------------------------------------ verify / receipt

/** `panoramix vote verify TRANSCRIPT`: the universal verifier. */
export const voteVerifyCommand = buildCommand({
  async func(
    this: CliContext,
    flags: { json?: boolean; workers?: number; progress?: boolean; voters?: string },
    path: string,
  ) {
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    try {
      const transcript = await readTranscript(this, path);
      const voters = await readVoters(this, flags.voters);
      let report;
      try {
        report = await verifyElection(transcript, {
          ...(flags.workers === undefined ? {} : { workers: flags.workers }),
          ...(voters === undefined ? {} : { voters }),
          onProgress: progress.report,
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
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      json: { kind: "boolean", optional: true, brief: "Print the result as JSON" },
      workers: {
        kind: "parsed",
        parse: positiveInteger("--workers", 1024),
        optional: true,
        brief: "Workers (default: all cores)",
      },
      voters: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Voter roll to check credentials against (one per line)",
      },
      progress: { kind: "boolean", optional: true, brief: "Force progress lines on stderr" },
    },
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Transcript file (msgpack or JSON view)", parse: String }],
    },
  },
  docs: {
    brief: "Verify an election transcript: every proof and the tally; names the failing step",
    fullDescription:
      "Rechecks the fingerprint, the key ceremony, every ballot (box rules and proof), the " +
      "cleansing, every mixer's shuffle proof, every decryption share, the plaintexts, the " +
      "decoding and the tally. Exit code 0 when valid, 3 when a check fails (the message " +
      "names the step, e.g. 'Mixer 2 (mixer-2): shuffle proof invalid'), 4 on a malformed file.",
  },
});

/** `panoramix vote receipt --transcript T RECEIPT`: is my ballot in the box and counted? */
export const voteReceiptCommand = buildCommand({
  async func(this: CliContext, flags: { transcript: string; json?: boolean }, receipt: string) {
    const transcript = await readTranscript(this, flags.transcript);
    const check = checkElectionReceipt(transcript, parseElectionReceipt(receipt));
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
      transcript: { kind: "parsed", parse: String, brief: "Published transcript file" },
      json: { kind: "boolean", optional: true, brief: "Print the result as JSON" },
    },
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Receipt (64 hex characters)", parse: String }],
    },
  },
  docs: {
    brief: "Check that a receipt's ballot is in the published box and counted",
    fullDescription:
      "Exit code 0 when found (counted or superseded by a later ballot of the same voter), " +
      "6 when absent. Run 'vote verify' too: a receipt in an unverified transcript proves little.",
  },
});

/** The `panoramix vote` route map. */
export const voteRoutes = buildRouteMap({
  routes: {
    init: voteInitCommand,
    trustee: buildRouteMap({
      routes: {
        deal: voteTrusteeDealCommand,
        check: voteTrusteeCheckCommand,
        answer: voteTrusteeAnswerCommand,
        finalize: voteTrusteeFinalizeCommand,
      },
      docs: { brief: "Key ceremony steps of one trustee (each writes a file others verify)" },
    }),
    key: voteKeyCommand,
    encrypt: voteEncryptCommand,
    submit: voteSubmitCommand,
    tally: voteTallyCommand,
    run: voteRunCommand,
    verify: voteVerifyCommand,
    receipt: voteReceiptCommand,
    bench: voteBenchCommand,
  },
  docs: {
    brief: "Verifiable elections: define, key ceremony, cast, mix, decrypt, tally, verify",
  },
});
