/**
 * `panoramix vote booth`: a board admin puts an election on a node so that voters can
 * use its booth (`/vote`), closes its online ballot box and downloads the box for
 * `vote tally --box`, and publishes the transcript as the results (`/vote/results`).
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import {
  decodeElectionKey,
  electionDefinitionToEnvelope,
  encodeCeremonyPost,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { readAnyEnvelopeFile } from "../files.ts";
import { NodeClient, NodeHttpError } from "../node/client.ts";
import { loadIdentity } from "../node/node.ts";
import { boothElectionEnvelope } from "./online_box.ts";
import { readPublicInfo, readVoters } from "./support.ts";

interface PublishFlags {
  boardUrl: string;
  adminIdentity: string;
  election: string;
  key: string;
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
    const election = await readPublicInfo(this, flags.election, flags.key);
    const key = decodeElectionKey(election, await readAnyEnvelopeFile(flags.key, this.stdin));
    const voters = await readVoters(this, flags.voters);
    const client = new NodeClient(flags.boardUrl, { identity: admin });
    const id = election.definition.id;
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
      key: { kind: "parsed", parse: String, brief: "Election key file (vote.election-key)" },
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
        brief: "Download the ballot box here (input of 'vote tally --box')",
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
    brief: "Put an election on a node for voters (booth), close its box, publish its results",
    fullDescription:
      "Idempotent: putting the same election on the node again changes nothing; another definition " +
      "under the same id is refused. The node must have the board role and list the identity " +
      "among its board admins.",
  },
});
