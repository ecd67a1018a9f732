import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { seededRandom } from "../../core/random.ts";
import { resolveElectionKey } from "./ceremony.ts";
import {
  createElectionDefinition,
  electionDefinitionFromEnvelope,
  electionDefinitionToEnvelope,
  electionFingerprint,
} from "./definition.ts";
import { runLocalElection } from "./election.ts";
import {
  decodeDecryptionPost,
  electionTranscriptFromEnvelope,
  electionTranscriptToEnvelope,
  encodeDecryptionPost,
} from "./election_transcript.ts";
import { simulateElectionBallots } from "./simulate.ts";
import { signCeremonyPost } from "./signing.ts";
import { verifyElection } from "./verify.ts";

const identities = [1, 2, 3].map((i) => ed25519.utils.randomSecretKey(new Uint8Array(32).fill(i)));
const definition = createElectionDefinition({
  id: "signed",
  trustees: 3,
  threshold: 2,
  mixers: 1,
  questions: [{ text: "Q", choices: ["a", "b"] }],
  trusteeKeys: identities.map((s) => ed25519.getPublicKey(s)),
});
const election = { definition, fingerprint: electionFingerprint(definition) };
const other = ed25519.utils.randomSecretKey(new Uint8Array(32).fill(9));

async function signedTranscript() {
  const random = seededRandom("signed-ceremony");
  const { transcript } = await runLocalElection(definition, {
    random,
    workers: 1,
    trusteeIdentities: identities,
    ballots: (e) => simulateElectionBallots(e, { count: 4, random }).ballots,
  });
  return transcript;
}

Deno.test("definition v2 names trustee keys; the fingerprint binds them; v1 is unchanged", () => {
  const env = electionDefinitionToEnvelope(definition);
  assert.equal(env.v, 2);
  const back = electionDefinitionFromEnvelope(decodeMsgpack(encodeMsgpack(env), "e"));
  assert.deepEqual(back.trusteeKeys, definition.trusteeKeys);
  const { trusteeKeys: _, ...unsigned } = definition;
  assert.equal(electionDefinitionToEnvelope(unsigned).v, 1);
  assert.notDeepEqual(electionFingerprint(unsigned), electionFingerprint(definition));
  const swapped = { ...definition, trusteeKeys: [...definition.trusteeKeys!].reverse() };
  assert.notDeepEqual(electionFingerprint(swapped), electionFingerprint(definition));
  assert.throws(
    () => createElectionDefinition({ ...definition, trustees: 2, threshold: 2 }),
    /2 trustees but 3 trustee keys/,
  );
});

Deno.test("signed ceremony: the transcript round-trips (v4) and verifies", async () => {
  const transcript = await signedTranscript();
  assert.ok(transcript.ceremony.dealings.every((d) => d.signature?.length === 64));
  assert.ok(transcript.decryption.every((d) => d.signature?.length === 64));
  const env = electionTranscriptToEnvelope(transcript);
  assert.equal(env.v, 4);
  const back = electionTranscriptFromEnvelope(decodeMsgpack(encodeMsgpack(env), "t"));
  const report = await verifyElection(back, { workers: 1 });
  assert.equal(report.counted, 4);
  // A decryption post round-trips through its board envelope.
  const post = decodeDecryptionPost(election, encodeDecryptionPost(election, back.decryption[0]!));
  assert.deepEqual(post.signature, back.decryption[0]!.signature);
});

Deno.test("a ceremony post signed by another key, or unsigned, is refused", async () => {
  const transcript = await signedTranscript();
  const dealing = transcript.ceremony.dealings[1]!;
  // The same election seen without its key list: signs with any key (a forger's view).
  const { trusteeKeys: _keys, ...keyless } = definition;
  const anyKey = { ...election, definition: keyless };
  const forged = {
    ...transcript,
    ceremony: {
      ...transcript.ceremony,
      dealings: transcript.ceremony.dealings.map((d) =>
        d === dealing ? { ...d, signature: signCeremonyPost(anyKey, { dealing: d }, other) } : d
      ),
    },
  };
  // signCeremonyPost itself refuses a key that is not the trustee's.
  assert.throws(() => signCeremonyPost(election, { dealing }, other), /not trustee 2's key/);
  const unsigned = {
    ...transcript,
    ceremony: {
      ...transcript.ceremony,
      dealings: transcript.ceremony.dealings.map(({ signature: _, ...d }) => d),
    },
  };
  assert.throws(
    () => resolveElectionKey(election, forged.ceremony),
    /Dealing of trustee 2: signature does not verify with trustee 2's key/,
  );
  await assert.rejects(
    verifyElection(forged, { workers: 1 }),
    /^VerificationError: Key ceremony: .*Dealing of trustee 2: signature does not verify/,
  );
  await assert.rejects(
    verifyElection(unsigned, { workers: 1 }),
    /Key ceremony: .*Dealing of trustee 1 is not signed/,
  );
  // Complaints are signed too: changing the complaint list breaks the signature.
  const complaints = {
    ...transcript,
    ceremony: {
      ...transcript.ceremony,
      complaints: transcript.ceremony.complaints.map((c, i) =>
        i === 2 ? { ...c, against: [1] } : c
      ),
    },
  };
  await assert.rejects(
    verifyElection(complaints, { workers: 1 }),
    /Complaints of trustee 3: signature does not verify/,
  );
});

Deno.test("decryption shares signed by another key, or unsigned, are refused", async () => {
  const transcript = await signedTranscript();
  const [first, ...rest] = transcript.decryption;
  const forged = {
    ...transcript,
    decryption: [{ ...first!, signature: ed25519.sign(new Uint8Array(64), other) }, ...rest],
  };
  await assert.rejects(
    verifyElection(forged, { workers: 1 }),
    /Decryption shares of trustee 1: signature does not verify with trustee 1's key/,
  );
  const { signature: _, ...bare } = first!;
  await assert.rejects(
    verifyElection({ ...transcript, decryption: [bare, ...rest] }, { workers: 1 }),
    /Decryption shares of trustee 1 is not signed/,
  );
});
