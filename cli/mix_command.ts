/**
 * The generic mixing commands: `mix`, `verify`, `keygen`, `gen` and `backends`.
 * They work with any registered backend through the Mixer API.
 *
 * @module
 */

import { buildCommand, numberParser } from "@stricli/core";
import { assertBatchSize } from "../core/batcher.ts";
import { concatBytes } from "../core/bytes.ts";
import type { Envelope } from "../core/envelope.ts";
import { InvalidInputError, UsageError, VerificationError } from "../core/errors.ts";
import { readRecord } from "../core/fields.ts";
import {
  detectItemFormat,
  type ItemFormat,
  parseItems,
  serializeItem,
} from "../core/item_stream.ts";
import type { AnyMixBackend } from "../core/mixer.ts";
import { backendByName, BACKENDS } from "./backends.ts";
import { writeThresholdKeys } from "./crypt_command.ts";
import { contextFlag, contextOption, positiveInteger, progressFlag, workersFlag } from "./flags.ts";
import { transcriptVerifierFor } from "./transcripts.ts";
import type { CliContext } from "./context.ts";
import { readAnyEnvelopeFile, readInput, writeEnvelopeFile } from "./files.ts";
import { terminalProgress } from "./progress.ts";
import { openDecryptReplayStore, type ReplayDbFlags } from "./decrypt_replay.ts";

type FormatFlag = "auto" | ItemFormat;

const formatFlag = {
  kind: "enum",
  values: ["auto", "ndjson", "msgpack"],
  default: "auto",
  brief: "Item stream format (auto detects NDJSON or msgpack from the first byte)",
} as const;

const backendFlag = {
  kind: "parsed",
  parse: String,
  brief: "Mixing backend (list them with `panoramix backends`)",
} as const;

function decodeItems<T>(
  values: readonly unknown[],
  decode: (value: unknown, what: string) => T,
  what: string,
): T[] {
  return values.map((value, i) => {
    const kind = typeof value === "object" && value !== null
      ? (value as Record<string, unknown>).kind
      : undefined;
    if (typeof kind === "string" && kind.endsWith("proof")) {
      throw new InvalidInputError(
        `${what} ${
          i + 1
        } is a proof record ('${kind}'); pass --proof FILE to 'mix' when chaining mixers`,
      );
    }
    return decode(value, `${what} ${i + 1}`);
  });
}

async function writeItems(ctx: CliContext, values: readonly Envelope[], format: ItemFormat) {
  const chunk: Uint8Array[] = [];
  let size = 0;
  for (const value of values) {
    const bytes = serializeItem(value, format);
    chunk.push(bytes);
    size += bytes.length;
    if (size >= 1 << 20) {
      await ctx.stdout.write(concatBytes(...chunk));
      chunk.length = 0;
      size = 0;
    }
  }
  if (size > 0) await ctx.stdout.write(concatBytes(...chunk));
}

interface MixFlags extends ReplayDbFlags {
  backend: string;
  key: string;
  input: string;
  format: FormatFlag;
  outputFormat?: ItemFormat;
  proof?: string;
  context?: string;
  minBatch?: number;
  progress?: boolean;
  force?: boolean;
}

/** `panoramix mix`: mix one batch read from stdin (or --input), write outputs and proof. */
export const mixCommand = buildCommand({
  async func(this: CliContext, flags: MixFlags) {
    const backend = backendByName(flags.backend);
    const key = await readAnyEnvelopeFile(flags.key, this.stdin);
    const bytes = await readInput(flags.input, this.stdin);
    const inFormat = flags.format === "auto" ? detectItemFormat(bytes) : flags.format;
    const values = parseItems(bytes, {
      format: inFormat,
      what: flags.input === "-" ? "stdin" : flags.input,
    });
    const inputs = decodeItems(values, (v, w) => backend.input.decode(v, w), "Input item");
    const minimum = Math.max(backend.minBatchSize, flags.minBatch ?? 0);
    assertBatchSize(inputs.length, minimum);
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    const started = performance.now();
    // decrypt: replay tags persist across runs (docs/sphinx.md §8), recorded before any output.
    const replayStore = openDecryptReplayStore(flags.backend, flags, this.env);
    let result;
    try {
      result = await (replayStore?.backend ?? backend).mix(inputs, {
        key,
        onProgress: progress.report,
        ...contextOption(flags.context),
      });
      await progress.done();
      const replays = await replayStore?.commit(result.proof, inputs.length);
      if (replays) {
        await this.stderr.write(
          `dropped ${replays} of ${inputs.length} packets already processed by this mixer ` +
            `(replay store '${replayStore!.path}')\n`,
        );
      }
    } finally {
      replayStore?.close();
    }
    const outFormat = flags.outputFormat ?? inFormat;
    const outputs = result.outputs.map((item) => backend.output.encode(item));
    await writeItems(this, outputs, outFormat);
    if (flags.proof !== undefined) {
      await writeEnvelopeFile(flags.proof, result.proof, { overwrite: flags.force ?? false });
    } else {
      await writeItems(this, [result.proof], outFormat);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    await this.stderr.write(
      `mixed ${inputs.length} items with '${backend.name}' in ${seconds} s\n`,
    );
  },
  parameters: {
    flags: {
      backend: backendFlag,
      key: {
        kind: "parsed",
        parse: String,
        brief:
          "Key file the backend mixes with (reencrypt: public key; decrypt: this mixer's secret key)",
      },
      input: {
        kind: "parsed",
        parse: String,
        default: "-",
        brief: "Input items file, - for stdin",
      },
      format: formatFlag,
      outputFormat: {
        kind: "enum",
        values: ["ndjson", "msgpack"],
        optional: true,
        brief: "Output format (default: the input's)",
      },
      proof: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Write the proof to this file instead of as the last record on stdout",
      },
      context: contextFlag,
      minBatch: {
        kind: "parsed",
        parse: numberParser,
        optional: true,
        brief: "Refuse batches smaller than this (never below the backend's minimum)",
      },
      progress: progressFlag,
      force: { kind: "boolean", optional: true, brief: "Replace an existing proof file" },
      replayDb: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "decrypt: replay store file (default: decrypt-replay.sqlite in the user data dir)",
      },
      noReplayDb: {
        kind: "boolean",
        optional: true,
        brief: "decrypt: keep replay tags for this run only (tests, throw-away cascades)",
      },
    },
  },
  docs: {
    brief: "Mix one batch: items on stdin, shuffled items and proof on stdout",
    fullDescription:
      "Reads input items (NDJSON or msgpack envelopes) from stdin, mixes them with the chosen backend " +
      "and writes the output items to stdout in the same format, followed by the proof record " +
      "(or the proof goes to --proof FILE, so mixers can be chained with pipes). " +
      "Progress and diagnostics go to stderr. Exit codes: 0 ok, 2 usage, 4 invalid input, " +
      "6 file not found, 7 batch below the minimum size, 8 every packet a replay (decrypt). " +
      "The decrypt backend records replay tags in a persistent store (--replay-db PATH, default " +
      "$XDG_DATA_HOME/panoramix or ~/.local/share/panoramix) and drops packets it processed " +
      "before, in this run or an earlier one; --no-replay-db keeps them in memory for this run.",
  },
});

interface VerifyFlags {
  backend?: string;
  key?: string;
  inputs?: string;
  outputs?: string;
  proof?: string;
  context?: string;
  workers?: number;
  json?: boolean;
  progress?: boolean;
}

async function readStream(ctx: CliContext, path: string): Promise<unknown[]> {
  return parseItems(await readInput(path, ctx.stdin), { what: path });
}

/** Runs a check, printing `{ok:false,error}` on stdout for --json before the error propagates. */
async function reportingFailure<T>(
  ctx: CliContext,
  json: boolean,
  check: () => Promise<T>,
): Promise<T> {
  try {
    return await check();
  } catch (error) {
    if (json && error instanceof VerificationError) {
      await ctx.stdout.write(JSON.stringify({ ok: false, error: error.message }) + "\n");
    }
    throw error;
  }
}

async function verifyTranscriptFile(ctx: CliContext, path: string, flags: VerifyFlags) {
  const misplaced = (["backend", "key", "inputs", "outputs", "proof", "context"] as const)
    .filter((name) => flags[name] !== undefined);
  if (misplaced.length > 0) {
    throw new UsageError(
      `A transcript file is verified on its own; drop ${misplaced.map((n) => `--${n}`).join(", ")}`,
    );
  }
  const envelope = await readAnyEnvelopeFile(path, ctx.stdin);
  const verifier = transcriptVerifierFor(envelope.kind, path);
  const progress = terminalProgress(ctx.stderr, flags.progress ?? ctx.stderr.isTerminal);
  const summary = await reportingFailure(ctx, flags.json ?? false, () =>
    verifier.verify(envelope, {
      what: path,
      onProgress: progress.report,
      ...(flags.workers === undefined ? {} : { workers: flags.workers }),
    })).finally(() => progress.done());
  await ctx.stdout.write(
    flags.json
      ? JSON.stringify({ ok: true, kind: envelope.kind, checked: summary }) + "\n"
      : `verified: ${summary}\n`,
  );
}

async function verifyOneMix(ctx: CliContext, flags: VerifyFlags) {
  const missing = (["backend", "key", "inputs", "outputs"] as const)
    .filter((name) => flags[name] === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      `Give a transcript file, or check one mix with ${
        missing.map((n) => `--${n}`).join(", ")
      } (missing)`,
    );
  }
  const { inputs: inputsPath, outputs: outputsPath } = flags as Required<VerifyFlags>;
  if (inputsPath === "-" && outputsPath === "-") {
    throw new UsageError("Only one of --inputs and --outputs can be read from stdin");
  }
  const backend = backendByName(flags.backend!);
  const key = await readAnyEnvelopeFile(flags.key!, ctx.stdin);
  const inputValues = await readStream(ctx, inputsPath);
  const outputValues = await readStream(ctx, outputsPath);
  const proofValue = flags.proof !== undefined
    ? await readAnyEnvelopeFile(flags.proof, ctx.stdin)
    : outputValues.pop();
  if (proofValue === undefined) {
    throw new InvalidInputError(`File '${outputsPath}' is empty; expected items and a proof`);
  }
  // The backend checks the proof's kind and version (versions differ per backend).
  const proof = readRecord(proofValue, "proof") as Envelope;
  const inputs = decodeItems(inputValues, (v, w) => backend.input.decode(v, w), "Input item");
  const outputs = decodeItems(outputValues, (v, w) => backend.output.decode(v, w), "Output item");
  const progress = terminalProgress(ctx.stderr, flags.progress ?? ctx.stderr.isTerminal);
  const report = await reportingFailure(
    ctx,
    flags.json ?? false,
    () =>
      backend.verify(inputs, outputs, proof, {
        key,
        onProgress: progress.report,
        ...contextOption(flags.context),
      }).catch((error) => {
        throw withStatementHint(error, flags.context !== undefined);
      }),
  )
    .finally(() => progress.done());
  if (report.unverifiable !== undefined) {
    // Impossible to miss (issue 11 §15): a check that proves nothing about substitution.
    await ctx.stderr.write(`panoramix: warning: UNVERIFIABLE: ${report.unverifiable}\n`);
  }
  await ctx.stdout.write(
    flags.json
      ? JSON.stringify({
        ok: true,
        backend: backend.name,
        inputs: inputs.length,
        outputs: outputs.length,
        checked: report.checked,
        ...(report.unverifiable === undefined ? {} : { unverifiable: report.unverifiable }),
      }) + "\n"
      : `verified (${backend.name}, ${inputs.length} inputs, ${outputs.length} outputs): ${report.checked}\n`,
  );
}

/**
 * Adds the likely causes to a proof whose Fiat–Shamir challenge does not match: the
 * challenge hashes the key, the inputs, the outputs and the context, so a wrong key file,
 * swapped files or another context all end there.
 *
 * @param error what the backend threw
 * @param withContext whether --context was given
 * @returns the error to report
 */
function withStatementHint(error: unknown, withContext: boolean): unknown {
  if (!(error instanceof VerificationError) || !/challenge does not match/.test(error.message)) {
    return error;
  }
  const context = withContext
    ? "a --context different from the one the mix used"
    : "a missing --context (the mix may have used one)";
  return new VerificationError(
    `${error.message} (hint: most likely a --key other than the mix's, --inputs and --outputs ` +
      `swapped, or ${context})`,
    { cause: error },
  );
}

/** `panoramix verify`: check one mix (inputs, outputs, proof) or a whole published transcript. */
export const verifyCommand = buildCommand({
  async func(this: CliContext, flags: VerifyFlags, transcript?: string) {
    if (transcript !== undefined) await verifyTranscriptFile(this, transcript, flags);
    else await verifyOneMix(this, flags);
  },
  parameters: {
    flags: {
      backend: { ...backendFlag, optional: true },
      key: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Key file the backend verifies with",
      },
      inputs: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "The mixer's input items (file, - for stdin)",
      },
      outputs: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "The mixer's output items, with the proof as last record unless --proof is given",
      },
      proof: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Proof file written by mix --proof",
      },
      context: contextFlag,
      workers: workersFlag,
      json: { kind: "boolean", optional: true, brief: "Print the result as JSON on stdout" },
      progress: progressFlag,
    },
    positional: {
      kind: "tuple",
      parameters: [{
        placeholder: "TRANSCRIPT",
        brief: "A published transcript (cascade or election), JSON view or msgpack",
        parse: String,
        optional: true,
      }],
    },
  },
  docs: {
    brief: "Verify one mix, or every proof of a published transcript",
    fullDescription:
      "With a TRANSCRIPT file (a re-encryption cascade transcript or an election transcript), " +
      "re-checks every proof in it and names the first failing step. Without one, checks a " +
      "single mix: --backend, --key, --inputs, --outputs (and --proof unless the proof is the " +
      "last record of the outputs). The success line says what was checked: a backend whose " +
      "proof covers less (the decryption cascade with a public key) says so. " +
      "Exit code 0 when valid, 3 when a check fails, 4 on malformed input.",
  },
});

interface KeygenFlags {
  backend: string;
  public: string;
  secret: string;
  set?: readonly string[];
  force?: boolean;
}

function parseSettings(pairs: readonly string[]): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`Setting '${pair}' must look like NAME=VALUE`);
    const raw = pair.slice(eq + 1);
    const asNumber = Number(raw);
    settings[pair.slice(0, eq)] = raw !== "" && Number.isFinite(asNumber) ? asNumber : raw;
  }
  return settings;
}

/** `panoramix keygen`: create a backend's key pair as two files. */
export const keygenCommand = buildCommand({
  async func(this: CliContext, flags: KeygenFlags) {
    const backend = backendByName(flags.backend);
    const settings = parseSettings(flags.set ?? []);
    const overwrite = flags.force ?? false;
    if (backend.name === "reencrypt") {
      const files = { public: flags.public, secret: flags.secret, overwrite };
      const written = await writeThresholdKeys(settings, files);
      if (written !== undefined) {
        await this.stderr.write(
          `wrote public key to ${written[0]} and ${written.length - 1} trustee key shares to ` +
            `${written.slice(1).join(", ")} (mode 0600)\n`,
        );
        return;
      }
    }
    const keys = await backend.generateKeys({ settings });
    await writeEnvelopeFile(flags.public, keys.publicKey, { overwrite });
    await writeEnvelopeFile(flags.secret, keys.secretKey, { secret: true, overwrite });
    await this.stderr.write(
      `wrote public key to ${flags.public} and secret key to ${flags.secret} (mode 0600)\n`,
    );
  },
  parameters: {
    flags: {
      backend: backendFlag,
      public: { kind: "parsed", parse: String, brief: "Where to write the public key" },
      secret: { kind: "parsed", parse: String, brief: "Where to write the secret key (mode 0600)" },
      set: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief: "Backend setting NAME=VALUE (decrypt: mixers=3; reencrypt: trustees=3, " +
          "threshold=2 for a t-of-n key); repeatable",
      },
      force: { kind: "boolean", optional: true, brief: "Replace existing files" },
    },
  },
  docs: { brief: "Create a key pair for a backend" },
});

interface GenFlags {
  backend: string;
  key: string;
  count: number;
  format: ItemFormat;
}

/** `panoramix gen`: write random valid input items (demos, tests, benchmarks). */
export const genCommand = buildCommand({
  async func(this: CliContext, flags: GenFlags) {
    const backend = backendByName(flags.backend);
    const key = await readAnyEnvelopeFile(flags.key, this.stdin);
    const items = await backend.sampleInputs(flags.count, { key });
    await writeItems(this, items.map((item) => backend.input.encode(item)), flags.format);
  },
  parameters: {
    flags: {
      backend: backendFlag,
      key: { kind: "parsed", parse: String, brief: "Key file inputs are made for (public)" },
      count: {
        kind: "parsed",
        parse: positiveInteger("--count", 100_000_000),
        brief: "Number of items (1 or more)",
      },
      format: {
        kind: "enum",
        values: ["ndjson", "msgpack"],
        default: "ndjson",
        brief: "Output format",
      },
    },
  },
  docs: { brief: "Generate random valid input items for a backend" },
});

function describeBackend(backend: AnyMixBackend) {
  return {
    name: backend.name,
    summary: backend.summary,
    minBatchSize: backend.minBatchSize,
    input: backend.input.kind,
    output: backend.output.kind,
  };
}

/** `panoramix backends`: list the registered backends. */
export const backendsCommand = buildCommand({
  async func(this: CliContext, flags: { json?: boolean }) {
    const list = [...BACKENDS.values()].map(describeBackend);
    if (flags.json) {
      await this.stdout.write(JSON.stringify(list) + "\n");
      return;
    }
    for (const b of list) {
      await this.stdout.write(
        `${b.name.padEnd(10)} ${b.summary} (minimum batch ${b.minBatchSize})\n`,
      );
    }
  },
  parameters: {
    flags: { json: { kind: "boolean", optional: true, brief: "Print as JSON" } },
  },
  docs: { brief: "List the mixing backends" },
});
