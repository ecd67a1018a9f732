/**
 * `panoramix node identity` (create an operator or admin identity key file) and
 * `panoramix job create|submit|close|status` (a generic cascade job on a bulletin board:
 * the admin creates it naming the mixers, submitters post items, the admin closes it, the
 * mixers mix it stage by stage, and anyone follows its state).
 *
 * @module
 */

import { identityCommand } from "./identity_command.ts";
import { buildCommand, buildRouteMap } from "@stricli/core";
import { fromBase64Url } from "../core/bytes.ts";
import { PanoramixError, UsageError } from "../core/errors.ts";
import { detectItemFormat, parseItems } from "../core/item_stream.ts";
import { backendByName } from "./backends.ts";
import type { CliContext } from "./context.ts";
import { readAnyEnvelopeFile, readInput } from "./files.ts";
import { contextFlag, contextOption, positiveInteger } from "./flags.ts";
import type { JobSummary } from "./node/board.ts";
import { NodeClient } from "./node/client.ts";
import { type Identity, identityFromEnvelope, NODE_ID_SIZE } from "./node/identity.ts";
import { closeJob, createJob, submitInputs, waitForJob } from "./node/job_client.ts";

/** `panoramix node identity --out FILE`: a fresh Ed25519 identity key file. */
export const nodeIdentityCommand = identityCommand({
  brief: "Create an identity (Ed25519 key file) for an operator, a board admin or a submitter",
  next: "the id a board lists in its admins (node init --admin), a job lists in its " +
    "submitters, or the id of a mixer",
});

/**
 * Runs a board request; a board that cannot be reached is "unavailable" (exit 9), not an
 * internal error. Refusals arrive as NodeHttpError with the board's code and message.
 *
 * @param board the board URL
 * @param request the request
 * @returns its result
 */
async function atBoard<T>(board: string, request: () => Promise<T>): Promise<T> {
  if (!URL.canParse(board) || !/^https?:$/.test(new URL(board).protocol)) {
    throw new UsageError(`Board URL '${board}' must be an http:// or https:// URL`);
  }
  try {
    return await request();
  } catch (error) {
    if (error instanceof PanoramixError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new PanoramixError("unavailable", `Board '${board}' cannot be reached: ${detail}`, {
      cause: error,
    });
  }
}

async function readIdentity(ctx: CliContext, path: string): Promise<Identity> {
  return identityFromEnvelope(await readAnyEnvelopeFile(path, ctx.stdin), path);
}

function nodeId(text: string, what: string): Uint8Array {
  const bytes = fromBase64Url(text, what);
  if (bytes.length !== NODE_ID_SIZE) {
    throw new UsageError(
      `${what} '${text}' is ${bytes.length} bytes; an identity is ${NODE_ID_SIZE} bytes (base64url)`,
    );
  }
  return bytes;
}

const boardFlag = {
  kind: "parsed",
  parse: String,
  brief: "Bulletin board URL, e.g. http://127.0.0.1:8470",
} as const;
const idFlag = {
  kind: "parsed",
  parse: String,
  brief: "Job id (1 to 64 of A-Z a-z 0-9 . _ -)",
} as const;
const adminFlag = {
  kind: "parsed",
  parse: String,
  brief: "Board admin identity key file (panoramix node identity)",
} as const;

interface CreateFlags {
  board: string;
  admin: string;
  id: string;
  backend: string;
  key: string;
  stage: readonly string[];
  minInputs?: number;
  submitter?: readonly string[];
  context?: string;
}

/** `panoramix job create`: post a cascade job (board admin only). */
export const jobCreateCommand = buildCommand({
  async func(this: CliContext, flags: CreateFlags) {
    const backend = backendByName(flags.backend);
    const admin = await readIdentity(this, flags.admin);
    const key = await readAnyEnvelopeFile(flags.key, this.stdin);
    const stages = flags.stage.map((text, i) => ({
      mixer: nodeId(text, `Stage ${i + 1} mixer`),
      key,
    }));
    const submitters = (flags.submitter ?? []).map((text) => nodeId(text, "Submitter"));
    const client = new NodeClient(flags.board, { identity: admin });
    const seq = await atBoard(flags.board, () =>
      createJob(client, {
        id: flags.id,
        admin,
        spec: {
          backend: backend.name,
          stages,
          minInputs: Math.max(flags.minInputs ?? 0, backend.minBatchSize),
          submitters,
          ...contextOption(flags.context),
        },
      }));
    await this.stderr.write(
      `job '${flags.id}' created on ${flags.board} (post ${seq}): ${backend.name}, ` +
        `${stages.length} stage(s)\n`,
    );
  },
  parameters: {
    flags: {
      board: boardFlag,
      admin: adminFlag,
      id: idFlag,
      backend: {
        kind: "parsed",
        parse: String,
        brief: "Mixing backend (panoramix backends)",
      },
      key: {
        kind: "parsed",
        parse: String,
        brief: "Public key file every stage mixes with (reencrypt: the public key; decrypt: the " +
          "cascade key)",
      },
      stage: {
        kind: "parsed",
        parse: String,
        variadic: true,
        brief: "Mixer identity (base64url) of the next stage; repeat in cascade order",
      },
      minInputs: {
        kind: "parsed",
        parse: positiveInteger("--min-inputs", 1 << 24),
        optional: true,
        brief: "Inputs needed before the job may close (never below the backend's minimum)",
      },
      submitter: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief:
          "Identity (base64url) allowed to submit; repeatable (default: anyone authenticated, " +
          "and then a reencrypt job takes only inputs with proofs of knowledge)",
      },
      context: contextFlag,
    },
  },
  docs: {
    brief: "Create a cascade job on a bulletin board (as a board admin)",
    fullDescription:
      "Posts a job naming the backend, the key and the mixers in order. Submitters then post " +
      "items (`job submit`), the admin closes it (`job close`), and each mixer mixes its stage. " +
      "Exit codes: 0 ok, 2 usage, 4 malformed key file, 9 board unreachable; the board's " +
      "refusal (not an admin, job exists) is reported with its message.",
  },
});

interface SubmitFlags {
  board: string;
  identity: string;
  id: string;
  input: string;
}

/** `panoramix job submit`: post input items to an open job. */
export const jobSubmitCommand = buildCommand({
  async func(this: CliContext, flags: SubmitFlags) {
    const submitter = await readIdentity(this, flags.identity);
    const bytes = await readInput(flags.input, this.stdin);
    const what = flags.input === "-" ? "stdin" : flags.input;
    const items = parseItems(bytes, { format: detectItemFormat(bytes), what }).map((value, i) => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new UsageError(`Item ${i} of ${what} is not an envelope`);
      }
      return value as { v: number; kind: string };
    });
    const client = new NodeClient(flags.board, { identity: submitter });
    const sent = await atBoard(
      flags.board,
      () => submitInputs(client, { id: flags.id, submitter, items }),
    );
    await this.stderr.write(`submitted ${sent} item(s) to job '${flags.id}'\n`);
  },
  parameters: {
    flags: {
      board: boardFlag,
      identity: {
        kind: "parsed",
        parse: String,
        brief: "Submitter identity key file (panoramix node identity)",
      },
      id: idFlag,
      input: {
        kind: "parsed",
        parse: String,
        default: "-",
        brief: "Input items (NDJSON or msgpack), - for stdin",
      },
    },
  },
  docs: { brief: "Submit input items to an open job" },
});

interface CloseFlags {
  board: string;
  admin: string;
  id: string;
}

/** `panoramix job close`: close a job to inputs; mixing starts (board admin only). */
export const jobCloseCommand = buildCommand({
  async func(this: CliContext, flags: CloseFlags) {
    const admin = await readIdentity(this, flags.admin);
    const client = new NodeClient(flags.board, { identity: admin });
    const seq = await atBoard(flags.board, () => closeJob(client, { id: flags.id, admin }));
    await this.stderr.write(`job '${flags.id}' closed (post ${seq}); mixing starts\n`);
  },
  parameters: { flags: { board: boardFlag, admin: adminFlag, id: idFlag } },
  docs: { brief: "Close a job to inputs so its mixers start (as a board admin)" },
});

interface StatusFlags {
  board: string;
  id: string;
  wait?: number;
  json?: boolean;
}

/** `panoramix job status`: a job's state, optionally waiting until it is done. */
export const jobStatusCommand = buildCommand({
  async func(this: CliContext, flags: StatusFlags) {
    const client = new NodeClient(flags.board);
    const summary = await atBoard(
      flags.board,
      async () =>
        flags.wait === undefined
          ? await client.getJson(`/v1/board/jobs/${encodeURIComponent(flags.id)}`) as JobSummary
          : await waitForJob(client, { id: flags.id, timeoutMs: flags.wait * 1000 }),
    );
    await this.stdout.write(
      flags.json
        ? JSON.stringify(summary) + "\n"
        : `job '${summary.job}' (${summary.backend}): ${summary.state}, ${summary.inputs} ` +
          `input(s), stage ${summary.stage} of ${summary.stages}\n`,
    );
  },
  parameters: {
    flags: {
      board: boardFlag,
      id: idFlag,
      wait: {
        kind: "parsed",
        parse: positiveInteger("--wait", 86_400),
        optional: true,
        brief: "Wait up to this many seconds for the job to be done (exit 9 on timeout)",
      },
      json: { kind: "boolean", optional: true, brief: "Print the board's job summary as JSON" },
    },
  },
  docs: {
    brief: "Show a job's state (open, closed, mixing, done), inputs and stage",
    fullDescription: "Exit codes: 0 ok, 6 no such job, 9 board unreachable or --wait timed out.",
  },
});

interface ItemsFlags {
  board: string;
  id: string;
  stage?: number;
}

/** `panoramix job items`: a job's items at a stage (default: the last mixer's outputs). */
export const jobItemsCommand = buildCommand({
  async func(this: CliContext, flags: ItemsFlags) {
    const client = new NodeClient(flags.board);
    const path = `/v1/board/jobs/${encodeURIComponent(flags.id)}`;
    const stage = flags.stage ??
      (await atBoard(flags.board, () => client.getJson(path)) as JobSummary).stages;
    const answer = await atBoard(
      flags.board,
      () => client.getJson(`${path}/items?stage=${stage}`),
    ) as { items?: unknown[] };
    const items = answer.items ?? [];
    await this.stdout.write(items.map((item) => JSON.stringify(item) + "\n").join(""));
    await this.stderr.write(`${items.length} item(s) of job '${flags.id}' at stage ${stage}\n`);
  },
  parameters: {
    flags: {
      board: boardFlag,
      id: idFlag,
      stage: {
        kind: "parsed",
        parse: (text: string) => {
          const value = Number(text);
          if (!Number.isInteger(value) || value < 0 || value > 64) {
            throw new UsageError(`Flag '--stage' must be an integer from 0 to 64, got '${text}'`);
          }
          return value;
        },
        optional: true,
        brief: "0 = the accepted inputs, K = the outputs of mixer K (default: the last mixer's)",
      },
    },
  },
  docs: {
    brief: "Print a job's items at a stage as NDJSON (default: the final outputs)",
    fullDescription:
      "Writes the items the board holds for the job at that stage, one JSON envelope per line, " +
      "ready for `panoramix decrypt` (reencrypt) or `panoramix verify`. Before the last mixer " +
      "has posted, the final stage is empty. Exit codes: 0 ok, 6 no such job, 9 board unreachable.",
  },
});

/** The `panoramix job` route map. */
export const jobRoutes = buildRouteMap({
  routes: {
    create: jobCreateCommand,
    submit: jobSubmitCommand,
    close: jobCloseCommand,
    status: jobStatusCommand,
    items: jobItemsCommand,
  },
  docs: { brief: "Cascade jobs on a bulletin board: create, submit items, close, follow" },
});
