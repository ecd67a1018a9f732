/**
 * `panoramix vote booth`: a board admin puts an election on a node so that voters can
 * use its booth (`/vote`), closes its online ballot box and downloads the box for
 * `vote tally --box`, and publishes the transcript as the results (`/vote/results`).
 * Without `--key`, the election key is resolved from the ceremony posts on the same
 * node's board (as `vote key --board-url` does), every trustee signature checked.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { NotFoundError } from "../../core/errors.ts";
import {
  decodeElectionKey,
  electionDefinitionToEnvelope,
  type ElectionKey,
  encodeCeremonyPost,
  resolveElectionKey,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { readAnyEnvelopeFile } from "../files.ts";
import { NodeClient, NodeHttpError } from "../node/client.ts";
import { loadIdentity } from "../node/node.ts";
import { boothElectionEnvelope } from "./online_box.ts";
import { electionJobId, readElectionBoard } from "../vote_nodes.ts";
import { readElection, readVoters } from "./support.ts";

interface PublishFlags {
  boardUrl: string;
  adminIdentity: string;
  election: string;
  key?: string;
  job?: string;
  voters?: string;
  close?: boolean;
  boxOut?: string;
  transcript?: string;
  json?: boolean;
}

/** `panoramix vote booth`. */
export const voteBoothCommand = buildCommand({
  async func(this: CliContext, flags: PublishFlags) {
    const admin = await loadIdentity(flags.adminIdentity);
    const election = await readElection(this, flags.election);
    const voters = await readVoters(this, flags.voters);
    const client = new NodeClient(flags.boardUrl, { identity: admin });
    const id = election.definition.id;
    let key: ElectionKey;
    if (flags.key !== undefined) {
      key = decodeElectionKey(
        election,
        await readAnyEnvelopeFile(flags.key, this.stdin),
        flags.key,
      );
    } else {
      // The key the trustees' signed ceremony posts on this board resolve to (vote key --board-url).
      const job = flags.job ?? electionJobId(id);
      const { ceremony } = await readElectionBoard(client, { job, election });
      const trustees = election.definition.trustees.length;
      if (ceremony.dealings.length < trustees) {
        throw new NotFoundError(
          `The key ceremony on the board is not finished (${ceremony.dealings.length} of ` +
            `${trustees} trustees have dealt): open the box once every trustee has run ` +
            "'vote trustee finalize', or pass --key",
        );
      }
      key = resolveElectionKey(election, ceremony);
    }
    const path = `/v1/vote/elections/${encodeURIComponent(id)}`;
    await client.postEnvelope(
      "/v1/vote/elections",
      boothElectionEnvelope({
        election: electionDefinitionToEnvelope(election.definition),
        key: encodeCeremonyPost(election, { key }),
        ...(voters === undefined ? {} : { voters }),
      }),
    );
    if (flags.close) {
      await client.postEnvelope(`${path}/close`, { v: 1, kind: "vote.booth-close" });
    }
    if (flags.boxOut !== undefined) {
      const response = await fetch(`${client.baseUrl}${path}/box`);
      if (!response.ok) {
        throw new NodeHttpError(response.status, "internal", "Cannot download the ballot box");
      }
      await Deno.writeFile(flags.boxOut, await response.bytes());
    }
    if (flags.transcript !== undefined) {
      await client.postEnvelope(
        `${path}/transcript`,
        await readAnyEnvelopeFile(flags.transcript, this.stdin),
      );
    }
    const info = await client.getJson(path) as { state: string; ballots: number; results: boolean };
    const base = client.baseUrl;
    const q = `?election=${encodeURIComponent(id)}`;
    const out = {
      id,
      state: info.state,
      ballots: info.ballots,
      results: info.results,
      booth: `${base}/vote${q}`,
      check: `${base}/vote/check${q}`,
      resultsPage: `${base}/vote/results${q}`,
    };
    if (flags.json) {
      await this.stdout.write(JSON.stringify(out) + "\n");
      return;
    }
    await this.stdout.write(
      `election ${id}: ballot box ${info.state}, ${info.ballots} ballots` +
        (info.results ? ", results published" : "") +
        (flags.boxOut === undefined ? "" : `, box written to ${flags.boxOut}`) +
        `\n  booth:   ${out.booth}\n  check:   ${out.check}\n  results: ${out.resultsPage}\n`,
    );
  },
  parameters: {
    flags: {
      boardUrl: { kind: "parsed", parse: String, brief: "URL of the node holding the board" },
      adminIdentity: {
        kind: "parsed",
        parse: String,
        brief: "A board admin's identity key file (signs the requests)",
      },
      election: { kind: "parsed", parse: String, brief: "Election definition file" },
      key: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Election key file (default: resolved from the ceremony on this node's board)",
      },
      job: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Without --key: the election's job id on the board (default vote-<election id>)",
      },
      voters: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Voter roll: one credential per line (default: any credential)",
      },
      close: { kind: "boolean", optional: true, brief: "Close the ballot box: no more ballots" },
      boxOut: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Download the ballot box here (input of 'vote close --box' and 'vote tally --box')",
      },
      transcript: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Publish this election transcript as the results",
      },
      json: { kind: "boolean", optional: true, brief: "Print the outcome as JSON" },
    },
  },
  docs: {
    brief:
      "Open a board node's online ballot box for the browser booth; close it, download it, publish results",
    fullDescription:
      "Run by a board admin after the key ceremony: puts the election and its key on the node's " +
      "online ballot box, so that voters vote at NODE/vote?election=ID and check receipts at " +
      "/vote/check; --close --box-out box.msgpack closes the box and downloads it (the input of " +
      "'vote close --box' and 'vote tally --box'); --transcript publishes the results at " +
      "/vote/results. Without --key the election key is resolved from the signed ceremony posts " +
      "on the same node's board. Compare: 'vote publish' posts the definition to the board's log " +
      "for the trustees and mixers (before the ceremony; no voting); 'vote serve' runs a " +
      "stand-alone web server with its own local box, no node needed. Idempotent: putting the " +
      "same election on the node again changes nothing; another definition under the same id is " +
      "refused. The node must have the board role and list the identity among its board admins.",
  },
});
