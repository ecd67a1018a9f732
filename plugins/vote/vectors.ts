/**
 * Known-answer vectors of the vote plugin (regenerate with
 * `deno run -A plugins/vote/vectors.ts > plugins/vote/testdata/vote_vectors.json`; the test
 * `vectors_test.ts` checks the committed file still matches). Seed: "panoramix/vote/vectors/v1".
 * The vectors cover the fingerprint, the answer encoding, and a seeded ballot with its receipt.
 *
 * @module
 */

import { toHex } from "../../core/bytes.ts";
import { toJsonView } from "../../core/envelope.ts";
import { seededRandom } from "../../core/random.ts";
import { signCeremonyPost } from "./signing.ts";
import { encodeElectionAnswers } from "./answers.ts";
import { ballotReceipt, electionBallotToEnvelope, encryptElectionBallot } from "./ballot.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { createTrusteeDealing, encodeCeremonyPost, runLocalKeyCeremony } from "./ceremony.ts";
import {
  createElectionDefinition,
  type ElectionDefinition,
  electionDefinitionToEnvelope,
  electionFingerprint,
} from "./definition.ts";

/** Seed of the vectors. */
export const VOTE_VECTOR_SEED = "panoramix/vote/vectors/v1";

/**
 * Builds the vectors.
 *
 * @returns a JSON-serialisable object
 * @example
 * ```ts ignore
 * console.log(JSON.stringify(buildVoteVectors(), null, 2));
 * ```
 */
export function buildVoteVectors(): Record<string, unknown> {
  const definition = createElectionDefinition({
    id: "vectors",
    title: "Known-answer vectors",
    trustees: 3,
    threshold: 2,
    mixers: 2,
    questions: [
      { text: "Single", choices: ["a", "b", "c"] },
      { text: "Multiple", choices: ["p", "q", "r", "s"], type: "multiple", min: 1, max: 2 },
      { text: "Ranked", choices: ["x", "y", "z", "w", "v"], type: "ranked", min: 0, max: 3 },
    ],
  });
  const fingerprint = electionFingerprint(definition);
  const random = seededRandom(VOTE_VECTOR_SEED);
  const ceremony = runLocalKeyCeremony({ definition, fingerprint }, { random });
  const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
  const answerSets = [[[0], [0], []], [[2], [1, 3], [4, 0, 2]], [[], [2], [1]]];
  const ballot = encryptElectionBallot(election, {
    credential: "voter-1",
    answers: answerSets[1]!,
    random,
  });
  return {
    seed: VOTE_VECTOR_SEED,
    definition: toJsonView(electionDefinitionToEnvelope(definition)),
    fingerprint: toHex(fingerprint),
    encodings: answerSets.map((answers) => ({
      answers,
      elements: encodeElectionAnswers(definition, answers).map(toHex),
    })),
    electionKey: toJsonView(encodeCeremonyPost(election, { key: ceremony.key })),
    ballot: toJsonView(electionBallotToEnvelope(ballot)),
    receipt: toHex(ballotReceipt(ballot)),
    signed: signedVectors(definition),
  };
}

/** A definition v 2 (trustee keys from fixed Ed25519 seeds 01…01, 02…02, 03…03) and a signed dealing. */
function signedVectors(base: ElectionDefinition): Record<string, unknown> {
  const seeds = [1, 2, 3].map((i) => new Uint8Array(32).fill(i));
  const definition = createElectionDefinition({
    ...base,
    id: "vectors-signed",
    trusteeKeys: seeds.map((s) => ed25519.getPublicKey(s)),
  });
  const election = { definition, fingerprint: electionFingerprint(definition) };
  const { dealing } = createTrusteeDealing(election, {
    trustee: 2,
    random: seededRandom(`${VOTE_VECTOR_SEED}/signed`),
  });
  dealing.signature = signCeremonyPost(election, { dealing }, seeds[1]!);
  return {
    trusteeSeeds: seeds.map(toHex),
    definition: toJsonView(electionDefinitionToEnvelope(definition)),
    fingerprint: toHex(election.fingerprint),
    dealing: toJsonView(encodeCeremonyPost(election, { dealing })),
  };
}

if (import.meta.main) console.log(JSON.stringify(buildVoteVectors(), null, 2));
