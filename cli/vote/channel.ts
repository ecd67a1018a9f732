/**
 * Where a trustee's public ceremony posts go and come from: a board directory (`--board
 * DIR`, one file per post) or a node's bulletin board (`--board-url URL`, one signed post
 * each, under the election's job id). With an election that names trustee keys, each post
 * is also signed with the trustee's identity key (`--identity FILE`), which the board, the
 * other trustees, the tally and the universal verifier check.
 *
 * @module
 */

import type { Envelope } from "../../core/envelope.ts";
import { UsageError } from "../../core/errors.ts";
import {
  type CeremonyElection,
  type CeremonyPosts,
  type ElectionDecryption,
  type SignablePost,
  signCeremonyPost,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { writeEnvelopeFile } from "../files.ts";
import { NodeClient, retryNoticeOnce } from "../node/client.ts";
import type { Identity } from "../node/identity.ts";
import { loadIdentity } from "../node/node.ts";
import { electionJobId, postCeremony, readElectionBoard } from "../vote_nodes.ts";
import { ensureDir, readBoard } from "./support.ts";

/** Flags every command that reads or writes ceremony posts takes. */
export interface ChannelFlags {
  board?: string;
  boardUrl?: string;
  job?: string;
  identity?: string;
}

/** The flag definitions of {@linkcode ChannelFlags}. */
export const channelFlags = {
  board: {
    kind: "parsed",
    parse: String,
    optional: true,
    brief: "Directory of public posts (or use --board-url)",
  },
  boardUrl: {
    kind: "parsed",
    parse: String,
    optional: true,
    brief: "URL of the node bulletin board holding the election (instead of --board)",
  },
  job: {
    kind: "parsed",
    parse: String,
    optional: true,
    brief: "With --board-url: the election's job id (default vote-<election id>)",
  },
  identity: {
    kind: "parsed",
    parse: String,
    optional: true,
    brief: "This trustee's identity key file (vote trustee keygen); signs its posts",
  },
} as const;

/** A ceremony channel. */
export interface CeremonyChannel {
  /** Reads the public posts (signatures checked when the election names trustee keys). */
  read(): Promise<CeremonyPosts & { decryption: ElectionDecryption[]; decrypted: number[] }>;
  /**
   * Publishes a post.
   *
   * @param env the post envelope
   * @param file its file name in a board directory
   * @param overwrite replace an existing file (directory boards)
   * @returns where it went, for messages
   */
  publish(env: Envelope, file: string, overwrite: boolean): Promise<string>;
  /** Signs a post with the trustee's identity when the election names trustee keys. */
  sign(post: SignablePost): Uint8Array | undefined;
}

/**
 * Opens the channel the flags name.
 *
 * @param ctx CLI context
 * @param election the election
 * @param flags --board or --board-url (with --job), and --identity
 * @param needs whether the command posts (then a board directory is created if missing)
 * @returns the channel
 * @throws {UsageError} when neither or both boards are given, or --identity is missing
 *   where the election or the node board needs it
 */
export async function openChannel(
  ctx: CliContext,
  election: CeremonyElection,
  flags: ChannelFlags,
  needs: { post: boolean },
): Promise<CeremonyChannel> {
  if ((flags.board === undefined) === (flags.boardUrl === undefined)) {
    throw new UsageError("Give exactly one of --board DIR and --board-url URL");
  }
  const signed = election.definition.trusteeKeys !== undefined;
  let identity: Identity | undefined;
  if (flags.identity !== undefined) identity = await loadIdentity(flags.identity);
  if (needs.post && identity === undefined && (signed || flags.boardUrl !== undefined)) {
    throw new UsageError(
      "This election's trustees sign their posts: pass --identity FILE (vote trustee keygen)",
    );
  }
  const sign = (post: SignablePost) =>
    signed && identity !== undefined
      ? signCeremonyPost(election, post, identity.secretKey)
      : undefined;
  if (flags.board !== undefined) {
    const dir = flags.board;
    if (needs.post) await ensureDir(dir);
    return {
      read: async () => ({
        ...(await readBoard(ctx, election, dir)),
        decryption: [],
        decrypted: [],
      }),
      async publish(env, file, overwrite) {
        await ensureDir(dir);
        await writeEnvelopeFile(`${dir}/${file}`, env, { overwrite });
        return `${dir}/${file}`;
      },
      sign,
    };
  }
  const job = flags.job ?? electionJobId(election.definition.id);
  const client = new NodeClient(flags.boardUrl!, {
    ...(identity ? { identity } : {}),
    onRetry: retryNoticeOnce((line) => void ctx.stderr.write(`${line}\n`)),
  });
  return {
    read: async () => {
      const { ceremony, decryption, decrypted } = await readElectionBoard(client, {
        job,
        election,
      });
      return { ...ceremony, decryption, decrypted };
    },
    async publish(env) {
      const outcome = await postCeremony(client, { job, identity: identity!, body: env });
      return outcome === "already"
        ? `${flags.boardUrl} (job '${job}'; it was already there)`
        : `${flags.boardUrl} (job '${job}')`;
    },
    sign,
  };
}
