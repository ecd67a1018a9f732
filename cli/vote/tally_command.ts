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
  decryptElectionShares,
  type ElectionCascade,
  type ElectionDecryption,
  type ElectionKey,
  type ElectionPublicInfo,
  type ElectionTranscript,
  mixElection,
  replayBallotBox,
  resolveElectionKey,
  tallyElection,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { positiveInteger, progressFlag, workersFlag } from "../flags.ts";
import { NodeClient } from "../node/client.ts";
import { loadIdentity } from "../node/node.ts";
import { describeJob } from "../node/job_client.ts";
import {
  boardElectionCascade,
  electionJobId,
  readElectionBoard,
  readElectionMixes,
} from "../vote_nodes.ts";
import { waitForCascade } from "./board_command.ts";
import { channelFlags, openChannel } from "./channel.ts";
import { fromBase64Url } from "../../core/bytes.ts";
import { readAnyEnvelopeFile } from "../files.ts";
import { terminalProgress } from "../progress.ts";
import { describeTally, readBoxFile, readElection, writeTranscriptFile } from "./support.ts";

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
    try {
      const stored = await readBoxFile(this.stdin, election, flags.box);
      const box = await replayBallotBox(election, stored, common);
      const mixInput = box.close();
      let cascade: ElectionCascade | undefined;
      if (flags.mixerNode !== undefined) {
        if (flags.adminIdentity === undefined) {
          throw new UsageError("--mixer-node needs --admin-identity (a board admin's key file)");
        }
        const admin = await loadIdentity(flags.adminIdentity);
        const client = new NodeClient(flags.boardUrl!, { identity: admin });
        const started = Date.now();
        cascade = boardElectionCascade({
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
        const client = new NodeClient(flags.boardUrl);
        cascade = async (inputs) => {
          await waitForCascade(this, client, { job, timeout });
          return await readElectionMixes(client, { job, inputs });
        };
      }
      const mixes = await mixElection(election, {
        inputs: mixInput,
        ...common,
        ...(cascade === undefined ? {} : { cascade }),
      });
      const final = mixes[mixes.length - 1]!.outputs;
      let decryption: ElectionDecryption[] = [];
      if (flags.trusteeKey !== undefined) {
        for (const path of flags.trusteeKey) {
          const secret = decodeTrusteeKey(ce, await readAnyEnvelopeFile(path, this.stdin), path);
          decryption.push(
            await decryptElectionShares(secret, {
              ciphertexts: final,
              fingerprint: election.fingerprint,
              ...common,
            }),
          );
        }
      } else {
        // The trustees posted their shares with `vote trustee decrypt`.
        const onBoard = flags.board === undefined ? read.decryption : (
          await readElectionBoard(new NodeClient(flags.boardUrl!), { job, election: ce })
        ).decryption;
        // Any t of them decrypt: the t lowest trustee indices posted (all verified by the tally).
        decryption = [...onBoard].sort((a, b) => a.trustee - b.trustee)
          .slice(0, ce.definition.threshold);
        if (decryption.length < ce.definition.threshold) {
          throw new PanoramixError(
            "unavailable",
            `Decryption needs ${ce.definition.threshold} trustees' shares; the board holds ${decryption.length}${
              decryption.length ? ` (trustees ${decryption.map((d) => d.trustee).join(", ")})` : ""
            }: each trustee runs 'vote trustee decrypt'`,
          );
        }
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
      await writeTranscriptFile(flags.out, transcript, flags.force ?? false);
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
  },
});
