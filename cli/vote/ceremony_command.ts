/**
 * `panoramix vote trustee …` and `vote key`: the key ceremony, each step a file other trustees verify.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { toJsonView } from "../../core/envelope.ts";
import {
  answerTrusteeComplaints,
  checkTrusteeShares,
  createTrusteeDealing,
  deriveTrusteeKey,
  encodeCeremonyPost,
  resolveElectionKey,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { positiveInteger } from "../flags.ts";
import { writeEnvelopeFile } from "../files.ts";
import { ConfigError, PanoramixError } from "../../core/errors.ts";
import { type ChannelFlags, channelFlags, openChannel } from "./channel.ts";
import { ensureDir, readElection, readShares } from "./support.ts";

interface TrusteeFlags extends ChannelFlags {
  election: string;
  trustee: number;
  force?: boolean;
}

const trusteeFlags = {
  election: { kind: "parsed", parse: String, brief: "Election definition file" },
  trustee: {
    kind: "parsed",
    parse: positiveInteger("--trustee", 32),
    brief: "This trustee's index (1-based, order of the definition)",
  },
  ...channelFlags,
  force: {
    kind: "boolean",
    optional: true,
    brief: "Replace existing files; check or answer without waiting for every trustee",
  },
} as const;

/** `panoramix vote trustee deal`: round 1 of the key ceremony. */
export const voteTrusteeDealCommand = buildCommand({
  async func(this: CliContext, flags: TrusteeFlags & { outbox: string }) {
    const election = await readElection(this, flags.election);
    const channel = await openChannel(this, election, flags, { post: true });
    const overwrite = flags.force ?? false;
    const mine = (await channel.read()).dealings.find((d) => d.trustee === flags.trustee);
    if (mine !== undefined && !overwrite) {
      // Resuming: a trustee deals once; its shares are already in the outbox.
      const dealt = await readShares(this, election, flags.outbox, { dealer: flags.trustee })
        .catch(() => []);
      if (dealt.length !== election.definition.trustees.length) {
        throw new ConfigError(
          `Trustee ${flags.trustee}'s dealing is already posted but ${flags.outbox} holds ${dealt.length} of its ${election.definition.trustees.length} shares; a trustee deals once`,
        );
      }
      await this.stderr.write(
        `trustee ${flags.trustee}: dealing already posted; shares in ${flags.outbox}\n`,
      );
      return;
    }
    const { dealing, shares } = createTrusteeDealing(election, { trustee: flags.trustee });
    const signature = channel.sign({ dealing });
    if (signature) dealing.signature = signature;
    await ensureDir(flags.outbox);
    // Shares first: a dealing on the board without its shares could not be resumed.
    for (const share of shares) {
      await writeEnvelopeFile(
        `${flags.outbox}/share-${share.dealer}-to-${share.recipient}.json`,
        encodeCeremonyPost(election, { share }),
        { overwrite: true, secret: true },
      );
    }
    const where = await channel.publish(
      encodeCeremonyPost(election, { dealing }),
      `dealing-${flags.trustee}.json`,
      overwrite,
    );
    await this.stderr.write(
      `trustee ${flags.trustee}: dealing posted to ${where}; send each ${flags.outbox}/share-${flags.trustee}-to-J.json privately to trustee J\n`,
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
    const channel = await openChannel(this, election, flags, { post: true });
    const posts = await channel.read();
    const n = election.definition.trustees.length;
    if (posts.dealings.length < n && !(flags.force ?? false)) {
      // A trustee posts its complaints once: checking before every dealing is in would
      // leave a late dealer unchecked. A dealer that never deals is disqualified anyway.
      const missing = election.definition.trustees.map((_, i) => i + 1)
        .filter((i) => !posts.dealings.some((d) => d.trustee === i));
      throw new PanoramixError(
        "unavailable",
        `No dealing yet from trustee(s) ${missing.join(", ")}: run this again once they have ` +
          "dealt (or pass --force to go on without them; they will be disqualified)",
      );
    }
    const shares = await readShares(this, election, flags.inbox, { recipient: flags.trustee });
    const complaints = checkTrusteeShares(election, {
      trustee: flags.trustee,
      dealings: posts.dealings,
      shares,
    });
    const signature = channel.sign({ complaints });
    if (signature) complaints.signature = signature;
    await channel.publish(
      encodeCeremonyPost(election, { complaints }),
      `complaints-${flags.trustee}.json`,
      flags.force ?? false,
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
    const channel = await openChannel(this, election, flags, { post: true });
    const posts = await channel.read();
    const missing = posts.dealings.map((d) => d.trustee)
      .filter((i) => !posts.complaints.some((c) => c.trustee === i));
    if (missing.length > 0 && !(flags.force ?? false)) {
      // Answers are posted once: a complaint posted later would stay unanswered.
      throw new PanoramixError(
        "unavailable",
        `No complaints post yet from trustee(s) ${missing.join(", ")}: run this again once ` +
          "every trustee has checked its shares (or pass --force to answer what is posted)",
      );
    }
    const shares = await readShares(this, election, flags.outbox, { dealer: flags.trustee });
    const answers = answerTrusteeComplaints(election, { shares, complaints: posts.complaints });
    const signature = channel.sign({ answers });
    if (signature) answers.signature = signature;
    await channel.publish(
      encodeCeremonyPost(election, { answers }),
      `answers-${flags.trustee}.json`,
      flags.force ?? false,
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
    const channel = await openChannel(this, election, flags, { post: false });
    const posts = await channel.read();
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
    let keyNote = "anyone gets the election key with 'vote key'";
    if (flags.board !== undefined) {
      await writeEnvelopeFile(
        `${flags.board}/election-key.json`,
        encodeCeremonyPost(election, { key }),
        { overwrite: true },
      );
      keyNote = `election key in ${flags.board}/election-key.json`;
    }
    await this.stdout.write(
      `trustee ${flags.trustee}: key share written to ${flags.secret} (mode 0600); ${keyNote}\n`,
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
    flags: Omit<ChannelFlags, "identity"> & { election: string; out?: string; force?: boolean },
  ) {
    const election = await readElection(this, flags.election);
    const channel = await openChannel(this, election, flags, { post: false });
    const key = resolveElectionKey(election, await channel.read());
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
      board: channelFlags.board,
      boardUrl: channelFlags.boardUrl,
      job: channelFlags.job,
      out: { kind: "parsed", parse: String, optional: true, brief: "Write the key here" },
      force: trusteeFlags.force,
    },
  },
  docs: { brief: "Resolve the public ceremony posts into the election key (anyone can)" },
});
