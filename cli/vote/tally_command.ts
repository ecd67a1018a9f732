/**
 * `panoramix vote tally`: close the box, mix (locally or through mix nodes), decrypt and tally.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { ConfigError, PanoramixError, UsageError } from "../../core/errors.ts";
import { closeWorkerPool } from "../../core/worker_pool.ts";
import {
  decodeTrusteeKey,
  type ElectionKey,
  type ElectionPublicInfo,
  resolveElectionKey,
  type SecretShare,
} from "../../plugins/vote/mod.ts";
import { Spool } from "../record_file.ts";
import { FileBallotStore } from "./ballot_store_file.ts";
import { tallyBallotBox } from "./tally_records.ts";
import type { CliContext } from "../context.ts";
import { positiveInteger, progressFlag, workersFlag } from "../flags.ts";
import { NodeClient, retryNoticeOnce } from "../node/client.ts";
import { loadIdentity } from "../node/node.ts";
import { describeJob } from "../node/job_client.ts";
import {
  boardElectionCascadeRecords,
  type ElectionCascadeRecords,
  electionJobId,
} from "../vote_nodes.ts";
import { readDecryptionRecords, readElectionCascadeRecords } from "../vote_board_records.ts";
import { waitForCascade } from "./board_command.ts";
import { channelFlags, openChannel } from "./channel.ts";
import { fromBase64Url } from "../../core/bytes.ts";
import { readAnyEnvelopeFile } from "../files.ts";
import { terminalProgress } from "../progress.ts";
import { describeTally, openBoxFile, readElection, writeTranscriptFile } from "./support.ts";

async function fileExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

interface TallyFlags {
  election: string;
  board?: string;
  box: string;
  trusteeKey?: readonly string[];
  out: string;
  boardUrl?: string;
  job?: string;
  adminIdentity?: string;
  mixerNode?: readonly string[];
  timeout?: number;
  workers?: number;
  force?: boolean;
  progress?: boolean;
}

/** `panoramix vote tally`: close, mix (locally or via nodes), decrypt, tally, publish. */
export const voteTallyCommand = buildCommand({
  async func(this: CliContext, flags: TallyFlags) {
    const ce = await readElection(this, flags.election);
    const job = flags.job ?? electionJobId(ce.definition.id);
    if (!(flags.force ?? false) && await fileExists(flags.out)) {
      // Say so before the work, not after it.
      throw new ConfigError(`File '${flags.out}' already exists; pass --force to replace it`);
    }
    if (flags.board === undefined && flags.boardUrl === undefined) {
      throw new UsageError("Give --board DIR (ceremony posts) or --board-url URL");
    }
    if (flags.mixerNode !== undefined && flags.boardUrl === undefined) {
      throw new UsageError("--mixer-node needs --board-url (and --admin-identity)");
    }
    if (flags.trusteeKey === undefined && flags.boardUrl === undefined) {
      throw new UsageError(
        "Give --trustee-key FILE (t of them), or --board-url to read the trustees' posted shares",
      );
    }
    const channel = await openChannel(this, ce, {
      ...(flags.board === undefined ? { boardUrl: flags.boardUrl!, job } : { board: flags.board }),
    }, { post: false });
    const read = await channel.read();
    const posts = { dealings: read.dealings, complaints: read.complaints, answers: read.answers };
    const key: ElectionKey = resolveElectionKey(ce, posts);
    const election: ElectionPublicInfo = { ...ce, publicKey: key.publicKey };
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    const workers = flags.workers === undefined ? {} : { workers: flags.workers };
    const common = { ...workers, onProgress: progress.report };
    const timeout = flags.timeout ?? 600;
    // The decrypting trustees' keys are read (and checked) before any work.
    const trusteeKeys: SecretShare[] | undefined = flags.trusteeKey === undefined ? undefined : [];
    for (const path of flags.trusteeKey ?? []) {
      trusteeKeys!.push(decodeTrusteeKey(ce, await readAnyEnvelopeFile(path, this.stdin), path));
    }
    // Issue 17: the box is read a chunk at a time, and the replayed box's ballots, the mix
    // input, the mixes, the shares and the plaintexts are files of a spool (removed at the end
    // or on Ctrl-C), those from the node board streamed into it (cli/vote_board_records.ts).
    const spool = await Spool.create();
    // A board that answers a read with 503 (busy, e.g. sending other readers' bodies) is
    // asked again after its Retry-After; the first wait is said once on stderr.
    const onRetry = retryNoticeOnce((line) => void this.stderr.write(`${line}\n`));
    try {
      const ballots = await openBoxFile(this.stdin, election, flags.box, spool);
      let cascade: ElectionCascadeRecords | undefined;
      if (flags.mixerNode !== undefined) {
        if (flags.adminIdentity === undefined) {
          throw new UsageError("--mixer-node needs --admin-identity (a board admin's key file)");
        }
        const admin = await loadIdentity(flags.adminIdentity);
        const client = new NodeClient(flags.boardUrl!, { identity: admin, onRetry });
        const started = Date.now();
        cascade = boardElectionCascadeRecords({
          client,
          admin,
          mixers: flags.mixerNode.map((k) => fromBase64Url(k, "--mixer-node")),
          job,
          timeoutMs: timeout * 1000,
          log: (line) => void this.stderr.write(`${line}\n`),
          onProgress: (s) =>
            void this.stderr.write(
              `[${((Date.now() - started) / 1000).toFixed(0)} s] job '${job}': ${describeJob(s)}\n`,
            ),
        });
      } else if (flags.boardUrl !== undefined) {
        // The box was closed with `vote close`: wait for the nodes, then read their mixes.
        const client = new NodeClient(flags.boardUrl, { onRetry });
        cascade = async (inputs, { sinks }) => {
          await waitForCascade(this, client, { job, timeout });
          return (await readElectionCascadeRecords(client, { job, sinks, inputs })).mixes;
        };
      }
      // The trustees posted their shares with `vote trustee decrypt`: streamed into the spool.
      const postedDecryption = async () => {
        const onBoard = await readDecryptionRecords(new NodeClient(flags.boardUrl!, { onRetry }), {
          job,
          election: ce,
          sinks: spool.sinks,
        });
        // Any t of them decrypt: the t lowest trustee indices posted (all verified by the tally).
        const decryption = [...onBoard].sort((a, b) => a.trustee - b.trustee)
          .slice(0, ce.definition.threshold);
        if (decryption.length < ce.definition.threshold) {
          throw new PanoramixError(
            "unavailable",
            `Decryption needs ${ce.definition.threshold} trustees' shares; the board holds ${decryption.length}${
              decryption.length ? ` (trustees ${decryption.map((d) => d.trustee).join(", ")})` : ""
            }: each trustee runs 'vote trustee decrypt'`,
          );
        }
        return decryption;
      };
      const transcript = await tallyBallotBox(ce, {
        ceremony: posts,
        key,
        ballots,
        store: FileBallotStore.inSpool(spool, ce.fingerprint),
        sinks: spool.sinks,
        ...common,
        ...(cascade === undefined ? {} : { cascade }),
        ...(trusteeKeys === undefined ? { postedDecryption } : { trusteeKeys }),
      });
      await writeTranscriptFile(flags.out, transcript, flags.force ?? false);
      await progress.done();
      await this.stdout.write(describeTally(transcript));
      await this.stderr.write(`transcript written to ${flags.out}\n`);
    } finally {
      await progress.done();
      spool.close();
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      election: { kind: "parsed", parse: String, brief: "Election definition file" },
      board: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Directory of the ceremony posts (default with --board-url: the node board's)",
      },
      box: { kind: "parsed", parse: String, brief: "Ballot box file" },
      trusteeKey: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief:
          "Secret key file of a decrypting trustee (t of them; else the shares the trustees posted to --board-url)",
      },
      out: { kind: "parsed", parse: String, brief: "Transcript file (.msgpack, or .json)" },
      boardUrl: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief:
          "URL of the node bulletin board: mixes (after vote close, or with --mixer-node) and trustees' shares",
      },
      job: channelFlags.job,
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
        brief: "With --board-url: seconds to wait for the mixer nodes (default 600)",
      },
      workers: workersFlag,
      force: { kind: "boolean", optional: true, brief: "Replace an existing transcript" },
      progress: progressFlag,
    },
  },
  docs: {
    brief:
      "Close the box, mix (locally or through mix nodes), decrypt, tally, write the transcript",
    fullDescription: "Replays the stored box (every ballot through the box rules again), mixes " +
      "it through the election's mixers, decrypts with t trustees' keys (or the shares they " +
      "posted to --board-url), tallies and writes the transcript. The box is read a chunk at a " +
      "time and the run's lists (replayed ballots, mix input, mixes, shares, plaintexts) are " +
      "kept in a spool folder under $TMPDIR (about 2.5 KB a ballot, removed at the end or on " +
      "Ctrl-C), so memory does not grow with the box. With --board-url the mix input is " +
      "posted from the spool 500 ballots a post, and the mixer nodes' mixes and the shares the " +
      "trustees posted are read from the board a page and a body piece at a time (each body " +
      "checked against the board's hash chain and its signature) into the spool. The transcript " +
      "is written from the spool a chunk at a time, as msgpack or, for a .json path, as its " +
      "JSON view (the same bytes as the view built whole).",
  },
});
