/**
 * `panoramix vote tally`: close the box, mix (locally or through mix nodes), decrypt and tally.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { decodeMsgpack } from "../../core/envelope.ts";
import { UsageError } from "../../core/errors.ts";
import { closeWorkerPool } from "../../core/worker_pool.ts";
import {
  ballotBoxFromEnvelope,
  decodeTrusteeKey,
  decryptElectionShares,
  type ElectionCascade,
  type ElectionDecryption,
  type ElectionKey,
  type ElectionPublicInfo,
  type ElectionTranscript,
  electionTranscriptToEnvelope,
  mixElection,
  replayBallotBox,
  resolveElectionKey,
  tallyElection,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { positiveInteger, progressFlag, workersFlag } from "../flags.ts";
import { NodeClient } from "../node/client.ts";
import { loadIdentity } from "../node/node.ts";
import { boardElectionCascade } from "../vote_nodes.ts";
import { fromBase64Url } from "../../core/bytes.ts";
import { readAnyEnvelopeFile, readInput } from "../files.ts";
import { terminalProgress } from "../progress.ts";
import { describeTally, readBoard, readElection, writeBinaryOrJson } from "./support.ts";

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
        decryption.push(
          await decryptElectionShares(secret, {
            ciphertexts: final,
            fingerprint: election.fingerprint,
            ...common,
          }),
        );
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
