/**
 * An election run through a node bulletin board, each step on its own machine and each
 * step resumable (run it again after an interruption):
 *
 * - `vote trustee keygen` — a trustee's identity key (signs its posts);
 * - `vote publish` — the administrator posts the definition;
 * - `vote close` — the administrator closes the box onto the board as a cascade job;
 * - `vote mix` — anyone waits for the mixer nodes, with progress and any mixer's reason;
 * - `vote trustee decrypt` — a trustee checks every shuffle proof, then posts its signed
 *   decryption shares (its key share never leaves its machine).
 *
 * `vote tally --board-url` then reads everything back and writes the transcript.
 *
 * @module
 */

import { identityCommand } from "../identity_command.ts";
import { buildCommand } from "@stricli/core";
import { fromBase64Url } from "../../core/bytes.ts";
import { PanoramixError, UsageError, VerificationError } from "../../core/errors.ts";
import { closeWorkerPool } from "../../core/worker_pool.ts";
import { verifyShuffleRecords } from "../../backends/reencrypt/mod.ts";
import {
  type CeremonyElection,
  decodeTrusteeKey,
  decryptElectionSharesRecords,
  type ElectionPublicInfo,
  replayBallotBoxRecords,
  resolveElectionKey,
} from "../../plugins/vote/mod.ts";
import type { ProgressReporter } from "../../core/mixer.ts";
import type { RecordSource } from "../../core/records.ts";
import { Spool } from "../record_file.ts";
import { FileBallotStore } from "./ballot_store_file.ts";
import type { CliContext } from "../context.ts";
import { positiveInteger, progressFlag, workersFlag } from "../flags.ts";
import { readAnyEnvelopeFile } from "../files.ts";
import type { JobSummary } from "../node/board.ts";
import { NodeClient, NodeHttpError, retryNoticeOnce } from "../node/client.ts";
import { describeJob } from "../node/job_client.ts";
import { loadIdentity } from "../node/node.ts";
import { terminalProgress } from "../progress.ts";
import {
  electionJobId,
  openElectionMix,
  postCeremony,
  publishElection,
  waitForElectionMix,
} from "../vote_nodes.ts";
import { decryptionPostStreamedBody, readElectionCascadeRecords } from "../vote_board_records.ts";
import { channelFlags, openChannel } from "./channel.ts";
import { openBoxFile, readElection } from "./support.ts";

const electionFlag = {
  kind: "parsed",
  parse: String,
  brief: "Election definition file",
} as const;
const boardUrlFlag = {
  kind: "parsed",
  parse: String,
  brief: "URL of the node bulletin board holding the election",
} as const;
const jobFlag = channelFlags.job;
const adminFlag = {
  kind: "parsed",
  parse: String,
  brief: "Identity key file of a board admin (node init writes one)",
} as const;

function jobOf(election: CeremonyElection, job: string | undefined): string {
  return job ?? electionJobId(election.definition.id);
}

/** `panoramix vote trustee keygen`: a trustee's identity key. */
export const voteTrusteeKeygenCommand = identityCommand({
  brief: "Create a trustee identity key; print its public key (base64url) for vote init",
  next: "give it to the administrator (vote init --trustee-key)",
});

/** `panoramix vote publish`: the administrator posts the definition to the board. */
export const votePublishCommand = buildCommand({
  async func(
    this: CliContext,
    flags: { election: string; boardUrl: string; adminIdentity: string; job?: string },
  ) {
    const election = await readElection(this, flags.election);
    if (election.definition.trusteeKeys === undefined) {
      throw new UsageError(
        "This election names no trustee keys; a node board needs them (vote init --trustee-key)",
      );
    }
    const admin = await loadIdentity(flags.adminIdentity);
    const job = jobOf(election, flags.job);
    const outcome = await publishElection(new NodeClient(flags.boardUrl, { identity: admin }), {
      job,
      admin,
      election,
    });
    await this.stdout.write(
      `election '${election.definition.id}' ${
        outcome === "already" ? "was already" : "is now"
      } on the board as job '${job}'\n`,
    );
  },
  parameters: {
    flags: {
      election: electionFlag,
      boardUrl: boardUrlFlag,
      adminIdentity: adminFlag,
      job: jobFlag,
    },
  },
  docs: {
    brief:
      "Post the election definition to a node's board for trustees and mixers (opens no ballot box)",
    fullDescription:
      "The first step of an election on a node network, before the key ceremony: posts the " +
      "signed definition to the board's log as job vote-<id>, where the trustees' ceremony " +
      "posts, the mixes and the decryption shares follow. It opens no ballot box: once the " +
      "ceremony has made the key, 'vote booth' opens the node's online box for voters in a " +
      "browser ('vote serve' is the stand-alone server without a node). Running it again " +
      "changes nothing.",
  },
});

interface CloseFlags {
  election: string;
  box: string;
  boardUrl: string;
  adminIdentity: string;
  mixerNode: readonly string[];
  job?: string;
  board?: string;
  workers?: number;
  progress?: boolean;
}

/**
 * The mix input of a closed box: its file read a chunk at a time and replayed through the
 * box rules into files of the spool, giving the counted ballots' ciphertexts in box order
 * (what `vote close` posts, and what `vote trustee decrypt --box` expects on the board).
 */
async function countedBallotsOfBox(
  ctx: CliContext,
  election: ElectionPublicInfo,
  options: {
    box: string;
    spool: Spool;
    workers?: number;
    onProgress: ProgressReporter;
  },
): Promise<RecordSource> {
  const { spool } = options;
  const { counted } = await replayBallotBoxRecords(
    election,
    await openBoxFile(ctx.stdin, election, options.box, spool),
    {
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      onProgress: options.onProgress,
      store: FileBallotStore.inSpool(spool, election.fingerprint),
      sinks: spool.sinks,
    },
  );
  return counted;
}

/** `panoramix vote close`: the box's counted ballots become the board's cascade job. */
export const voteCloseCommand = buildCommand({
  async func(this: CliContext, flags: CloseFlags) {
    const ce = await readElection(this, flags.election);
    const admin = await loadIdentity(flags.adminIdentity);
    const job = jobOf(ce, flags.job);
    const channel = await openChannel(this, ce, {
      ...(flags.board === undefined ? { boardUrl: flags.boardUrl, job } : { board: flags.board }),
    }, { post: false });
    const key = resolveElectionKey(ce, await channel.read());
    const election: ElectionPublicInfo = { ...ce, publicKey: key.publicKey };
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    // Issue 17: the box is read a chunk at a time and replayed into a file of a spool, and
    // the counted ciphertexts are posted from their record file, 500 a post.
    const spool = await Spool.create();
    try {
      const counted = await countedBallotsOfBox(this, election, {
        box: flags.box,
        spool,
        ...(flags.workers === undefined ? {} : { workers: flags.workers }),
        onProgress: progress.report,
      });
      await progress.done();
      await openElectionMix(election, counted, {
        client: new NodeClient(flags.boardUrl, {
          identity: admin,
          onRetry: retryNoticeOnce((line) => void this.stderr.write(`${line}\n`)),
        }),
        admin,
        mixers: flags.mixerNode.map((k, i) => fromBase64Url(k, `--mixer-node ${i + 1}`)),
        job,
        log: (line) => void this.stderr.write(`${line}\n`),
      });
      await this.stdout.write(
        `box closed: ${counted.count} counted ballots in job '${job}' for ${flags.mixerNode.length} mixer nodes\n`,
      );
    } finally {
      await progress.done();
      spool.close();
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      election: electionFlag,
      box: { kind: "parsed", parse: String, brief: "Ballot box file" },
      boardUrl: boardUrlFlag,
      adminIdentity: adminFlag,
      mixerNode: {
        kind: "parsed",
        parse: String,
        variadic: true,
        brief: "Node id (base64url) of each mixer node, in the election's mixer order",
      },
      job: jobFlag,
      board: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Directory of the ceremony posts (default: the node board's)",
      },
      workers: workersFlag,
      progress: progressFlag,
    },
  },
  docs: {
    brief:
      "Close the ballot box: post the counted ballots to the board as the mixer nodes' job (resumable)",
    fullDescription: "Replays the box file through the box rules and posts the counted " +
      "ciphertexts to the board as the cascade job of the mixer nodes. The box is read a chunk " +
      "at a time and its ballots and counted ciphertexts kept in a spool folder under $TMPDIR " +
      "(removed at the end or on Ctrl-C); the counted ciphertexts are posted from there, 500 a " +
      "post, and those already on the board (a resumed close) are compared a chunk at a time.",
  },
});

/**
 * Waits for the election's cascade on the board, writing each change to stderr.
 *
 * @param ctx CLI context
 * @param client board client
 * @param options job id and timeout in seconds
 * @returns the final summary
 */
export async function waitForCascade(
  ctx: CliContext,
  client: NodeClient,
  options: { job: string; timeout: number },
): Promise<JobSummary> {
  const started = Date.now();
  return await waitForElectionMix(client, {
    job: options.job,
    timeoutMs: options.timeout * 1000,
    onProgress: (s) =>
      void ctx.stderr.write(
        `[${((Date.now() - started) / 1000).toFixed(0)} s] job '${options.job}': ${
          describeJob(s)
        }\n`,
      ),
  });
}

/** `panoramix vote mix`: wait for the mixer nodes, showing progress and failures. */
export const voteMixCommand = buildCommand({
  async func(
    this: CliContext,
    flags: { election: string; boardUrl: string; job?: string; timeout?: number },
  ) {
    const ce = await readElection(this, flags.election);
    const job = jobOf(ce, flags.job);
    const client = new NodeClient(flags.boardUrl, {
      onRetry: retryNoticeOnce((line) => void this.stderr.write(`${line}\n`)),
    });
    const summary = await waitForCascade(this, client, { job, timeout: flags.timeout ?? 600 });
    await this.stdout.write(
      `job '${job}' mixed by ${summary.stages} mixer nodes (${summary.inputs} ballots)\n`,
    );
  },
  parameters: {
    flags: {
      election: electionFlag,
      boardUrl: boardUrlFlag,
      job: jobFlag,
      timeout: {
        kind: "parsed",
        parse: positiveInteger("--timeout", 86_400),
        optional: true,
        brief: "Seconds to wait for the nodes (default 600)",
      },
    },
  },
  docs: {
    brief:
      "Wait for the mixer nodes to mix the closed box; show each stage and any mixer's failure reason",
  },
});

interface DecryptFlags {
  election: string;
  trustee: number;
  secret: string;
  boardUrl: string;
  job?: string;
  identity: string;
  box?: string;
  mixerNode?: readonly string[];
  workers?: number;
  progress?: boolean;
}

/**
 * What a trustee takes on the board's word before decrypting: the line `vote trustee decrypt`
 * writes once on stderr when `--mixer-node` or `--box` is not given (undefined when both are).
 *
 * @param flags the trust anchors given
 * @returns the warning line, or undefined
 * @example
 * ```ts
 * import { trustedBoardWarning } from "./board_command.ts";
 * console.assert(trustedBoardWarning({ box: "box.msgpack" })?.includes("--mixer-node"));
 * console.assert(trustedBoardWarning({ box: "b", mixerNode: ["m"] }) === undefined);
 * ```
 */
export function trustedBoardWarning(
  flags: { box?: string; mixerNode?: readonly string[] },
): string | undefined {
  const trusted = [
    ...(flags.mixerNode === undefined ? ["the mixer nodes"] : []),
    ...(flags.box === undefined ? ["the mix input"] : []),
  ];
  if (trusted.length === 0) return undefined;
  const options = [
    ...(flags.mixerNode === undefined
      ? ["--mixer-node ID (each mixer node the administrator named, in order)"]
      : []),
    ...(flags.box === undefined ? ["--box FILE (the closed ballot box)"] : []),
  ];
  return `panoramix: warning: trusting the board for ${trusted.join(" and ")} of this job; pass ${
    options.join(" and ")
  } to check ${trusted.length === 1 ? "it" : "them"} before decrypting`;
}

/** `panoramix vote trustee decrypt`: one trustee's decryption shares, on its own machine. */
export const voteTrusteeDecryptCommand = buildCommand({
  async func(this: CliContext, flags: DecryptFlags) {
    const ce = await readElection(this, flags.election);
    const job = jobOf(ce, flags.job);
    // The trust anchors the administrator's `vote tally --mixer-node` uses, read first.
    const mixers = flags.mixerNode?.map((k, i) => fromBase64Url(k, `--mixer-node ${i + 1}`));
    if (mixers !== undefined && mixers.length !== ce.definition.mixers.length) {
      throw new UsageError(
        `The election defines ${ce.definition.mixers.length} mixers; got ${mixers.length} --mixer-node`,
      );
    }
    if (flags.box === "-" && flags.secret === "-") {
      throw new UsageError("Only one of --box and --secret can be read from standard input");
    }
    const channel = await openChannel(this, ce, {
      boardUrl: flags.boardUrl,
      job,
      identity: flags.identity,
    }, { post: true });
    const posts = await channel.read();
    if (posts.decrypted.includes(flags.trustee)) {
      await this.stdout.write(
        `trustee ${flags.trustee}: decryption shares already on the board (job '${job}')\n`,
      );
      return;
    }
    const secret = decodeTrusteeKey(
      ce,
      await readAnyEnvelopeFile(flags.secret, this.stdin),
      flags.secret,
    );
    if (secret.index !== flags.trustee) {
      throw new UsageError(`File '${flags.secret}' holds trustee ${secret.index}'s key share`);
    }
    const key = resolveElectionKey(ce, posts);
    const election: ElectionPublicInfo = { ...ce, publicKey: key.publicKey };
    const client = new NodeClient(flags.boardUrl, {
      onRetry: retryNoticeOnce((line) => void this.stderr.write(`${line}\n`)),
    });
    let summary: JobSummary;
    try {
      summary = await client.getJson(`/v1/board/jobs/${encodeURIComponent(job)}`) as JobSummary;
    } catch (error) {
      if (error instanceof NodeHttpError && error.status === 404) {
        throw new PanoramixError(
          "unavailable",
          `The box is not closed yet: no job '${job}' on the board (vote close)`,
        );
      }
      throw error;
    }
    if (summary.state !== "done") {
      throw new PanoramixError(
        "unavailable",
        `Job '${job}' is not mixed yet (${
          describeJob(summary)
        }); run this again once 'vote mix' reports it done`,
      );
    }
    const warning = trustedBoardWarning(flags);
    if (warning !== undefined) await this.stderr.write(`${warning}\n`);
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    const workers = flags.workers === undefined ? {} : { workers: flags.workers };
    // Issue 17: the board's mix input and every mix are streamed into record files of a
    // spool (removed at the end or on Ctrl-C), checked and decrypted a chunk at a time.
    const spool = await Spool.create();
    try {
      // With --box, the mix input must be the box's counted ballots (replayed as `vote close`
      // does): else a board could have a target voter's ballot decrypted alone.
      const expected = flags.box === undefined ? undefined : await countedBallotsOfBox(
        this,
        election,
        { box: flags.box, spool, ...workers, onProgress: progress.report },
      );
      // Decrypt only what a verified cascade produced: every shuffle proof, from the board's
      // inputs, bound to this election (a trustee must not decrypt unmixed ballots), through
      // the mixer nodes named with --mixer-node (else a board's own mixers could know the
      // permutation).
      const { inputs, mixes, spec } = await readElectionCascadeRecords(client, {
        job,
        sinks: spool.sinks,
        ...(expected === undefined ? {} : { inputs: expected }),
        ...(mixers === undefined ? {} : { mixers }),
      });
      if (mixers !== undefined && spec === undefined) {
        throw new VerificationError(`Board job '${job}' has no job post naming its mixer nodes`);
      }
      if (mixes.length !== ce.definition.mixers.length) {
        throw new VerificationError(
          `Job '${job}' holds ${mixes.length} mixes, the election defines ${ce.definition.mixers.length}`,
        );
      }
      let current = inputs;
      for (const [m, mix] of mixes.entries()) {
        try {
          await verifyShuffleRecords(
            {
              publicKey: key.publicKey,
              inputs: current,
              outputs: mix.outputs,
              context: ce.fingerprint,
            },
            mix.proof,
            workers,
          );
        } catch (error) {
          throw new VerificationError(
            `Mixer ${m + 1}: shuffle proof invalid; not decrypting (${(error as Error).message})`,
            { cause: error },
          );
        }
        current = mix.outputs;
        progress.report({ phase: "check shuffle proofs", done: m + 1, total: mixes.length });
      }
      const identity = await loadIdentity(flags.identity);
      const decryption = await decryptElectionSharesRecords(secret, {
        ciphertexts: current,
        fingerprint: ce.fingerprint,
        sinks: spool.sinks,
        ...workers,
        onProgress: progress.report,
        ...(ce.definition.trusteeKeys === undefined
          ? {}
          : { sign: { election: ce, identity: identity.secretKey } }),
      });
      await progress.done();
      // The post is one message of the board: its body is written from the share records.
      await postCeremony(new NodeClient(flags.boardUrl, { identity }), {
        job,
        identity,
        // Encoded from the shares' spool file a chunk at a time and sent as a stream.
        body: decryptionPostStreamedBody(election, decryption),
      });
      const checked = [
        `${mixes.length} shuffle proofs checked`,
        ...(mixers === undefined ? [] : ["mixer nodes as given"]),
        ...(expected === undefined
          ? []
          : [`mix input = the box's ${expected.count} counted ballots`]),
      ];
      await this.stdout.write(
        `trustee ${flags.trustee}: ${current.count} decryption shares posted to job '${job}' (${
          checked.join(", ")
        })\n`,
      );
    } finally {
      await progress.done();
      spool.close();
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      election: electionFlag,
      trustee: {
        kind: "parsed",
        parse: positiveInteger("--trustee", 32),
        brief: "This trustee's index (1-based, order of the definition)",
      },
      secret: {
        kind: "parsed",
        parse: String,
        brief: "This trustee's key share file (vote trustee finalize wrote it)",
      },
      boardUrl: boardUrlFlag,
      job: jobFlag,
      identity: {
        kind: "parsed",
        parse: String,
        brief: "This trustee's identity key file (signs the shares)",
      },
      box: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief:
          "Closed ballot box file the administrator published: refuse unless the board's mix input is its counted ballots",
      },
      mixerNode: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief:
          "Node id (base64url) of each mixer node, in the election's mixer order: refuse unless the job names exactly these",
      },
      workers: workersFlag,
      progress: progressFlag,
    },
  },
  docs: {
    brief:
      "Check every shuffle proof on the board, then post this trustee's signed decryption shares",
    fullDescription: "Reads the job's mix input and every mix from the node board (the log a " +
      "page at a time, each post's body as a stream checked against the board's hash chain and " +
      "its signature) into a spool folder under $TMPDIR (removed at the end or on Ctrl-C), " +
      "checks every shuffle proof and computes this trustee's decryption shares on those " +
      "files, a chunk at a time. With --mixer-node (each mixer node the administrator named, " +
      "in order) it refuses a job whose stages are other nodes, and with --box (the closed " +
      "ballot box, replayed a chunk at a time as 'vote close' does) a mix input other than the " +
      "box's counted ballots in box order; without them it trusts the board for both and says " +
      "so on stderr. A refusal exits 3 and posts nothing. The shares go to the board as one " +
      "signed post (about 34 bytes a ballot; a board post is at most 64 MiB), encoded a chunk " +
      "at a time from the spool and sent as a stream.",
  },
});
