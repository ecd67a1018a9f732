import assert from "node:assert/strict";
import { toHex } from "../../core/bytes.ts";
import { decodeElectionAnswers, encodeElectionAnswers } from "./answers.ts";
import { ballotReceipt, electionBallotFromEnvelope, verifyElectionBallot } from "./ballot.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { labelledDigest } from "../../core/transcript.ts";
import { decodeElectionKey, decodeTrusteeDealing } from "./ceremony.ts";
import { electionDefinitionFromEnvelope, electionFingerprint } from "./definition.ts";
import { buildVoteVectors } from "./vectors.ts";

const committed = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/vote_vectors.json", import.meta.url)),
);

Deno.test("vectors: committed vectors check out independently of the generator", () => {
  const definition = electionDefinitionFromEnvelope(committed.definition);
  const fingerprint = electionFingerprint(definition);
  assert.equal(toHex(fingerprint), committed.fingerprint);
  for (const e of committed.encodings) {
    assert.deepEqual(encodeElectionAnswers(definition, e.answers).map(toHex), e.elements);
    const parts = e.elements.map((h: string) =>
      Uint8Array.from(h.match(/../g)!.map((b: string) => parseInt(b, 16)))
    );
    assert.deepEqual(decodeElectionAnswers(definition, parts), e.answers);
  }
  const key = decodeElectionKey({ definition, fingerprint }, committed.electionKey);
  const ballot = electionBallotFromEnvelope(committed.ballot);
  verifyElectionBallot({ definition, fingerprint, publicKey: key.publicKey }, ballot);
  assert.equal(toHex(ballotReceipt(ballot)), committed.receipt);
});

Deno.test("vectors: the signed dealing verifies with ed25519 over the documented message", () => {
  const signed = committed.signed;
  const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
  const definition = electionDefinitionFromEnvelope(signed.definition);
  assert.equal(definition.trusteeKeys!.length, 3);
  signed.trusteeSeeds.forEach((seed: string, i: number) =>
    assert.deepEqual(ed25519.getPublicKey(hex(seed)), definition.trusteeKeys![i])
  );
  const fingerprint = electionFingerprint(definition);
  assert.equal(toHex(fingerprint), signed.fingerprint);
  const dealing = decodeTrusteeDealing({ definition, fingerprint }, signed.dealing);
  // docs/vote.md "Signed ceremony posts", rebuilt here without signing.ts.
  const u64 = new Uint8Array(8);
  u64[7] = dealing.trustee;
  const message = labelledDigest("panoramix/vote/ceremony-post/v1", [
    fingerprint,
    new TextEncoder().encode("dealing"),
    u64,
    ...dealing.commitments.map((c) => c.toBytes()),
  ]);
  assert.ok(ed25519.verify(dealing.signature!, message, definition.trusteeKeys![1]!));
  assert.ok(!ed25519.verify(dealing.signature!, message, definition.trusteeKeys![0]!));
});

Deno.test("vectors: the generator reproduces the committed file from its seed", () => {
  assert.deepEqual(JSON.parse(JSON.stringify(buildVoteVectors())), committed);
});
