/**
 * Survey reports through a real backend: the decryption (Sphinx cascade) mix-net,
 * used only through its public mod.ts and the generic Mixer API.
 */
import assert from "node:assert/strict";
import {
  createSphinxPacket,
  decodeSphinxCascade,
  decryptBackend,
  type SphinxCascadeItem,
  sphinxCascadeRoute,
} from "../../backends/decrypt/mod.ts";
import {
  type Ciphertext,
  decodePublicKey,
  decodeSecretKey,
  decrypt,
  embedBytes,
  encrypt,
  extractBytes,
  MAX_EMBED_BYTES,
  reencryptBackend,
} from "../../backends/reencrypt/mod.ts";
import { concatBytes } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { SurveyAggregator } from "./aggregate.ts";
import type { SurveyDefinition } from "./definition.ts";
import { surveyRespond } from "./randomize.ts";
import { encodeSurveyReport } from "./report.ts";
import { mixSurveyReports, type SurveyMixTransport } from "./submit.ts";

const definition: SurveyDefinition = {
  id: "sphinx",
  target: { epsilon: 5, delta: 1e-6 },
  questions: [
    { id: "q", type: "categorical", options: ["a", "b", "c"], epsilon0: 2 },
    {
      id: "city",
      type: "categorical",
      options: Array.from({ length: 300 }, (_, i) => `${i}`),
      epsilon0: 1,
    },
  ],
};

Deno.test("survey reports travel through the Sphinx decryption cascade", async () => {
  const { publicKey, secretKey } = await decryptBackend.generateKeys({ settings: { mixers: 2 } });
  const cascade = decodeSphinxCascade(publicKey);
  // Wrap: onion-encrypt the report bytes to the cascade; unwrap: the last mixer's plaintext.
  const transport: SurveyMixTransport<{ type: "packet"; packet: Uint8Array }, SphinxCascadeItem> = {
    wrap: async (bytes) => {
      const { packet } = await createSphinxPacket(bytes, {
        route: sphinxCascadeRoute(cascade),
        payloadSize: cascade.payloadSize,
      });
      return { type: "packet", packet };
    },
    unwrap: (item) => {
      if (item.type !== "plaintext") throw new InvalidInputError("Mix output is not a plaintext");
      return item.message;
    },
  };
  const random = seededRandom("sphinx-survey");
  const reports = Array.from(
    { length: 20 },
    (_, i) => surveyRespond(definition, { answers: { q: i % 3, city: i * 7 }, random }),
  ).flat();
  const { payloads } = await mixSurveyReports(reports, {
    backend: decryptBackend,
    key: secretKey,
    transport,
    minBatchSize: 40,
  });
  const sorted = (xs: Uint8Array[]) => xs.map((x) => x.join()).sort();
  assert.deepEqual(sorted(payloads), sorted(reports.map(encodeSurveyReport)));
  const agg = new SurveyAggregator(definition);
  assert.equal(agg.ingestBatch(payloads).accepted, 40);
  assert.deepEqual(agg.counts, [20, 20]);
});

Deno.test("survey reports travel through the re-encryption mix-net with a verified shuffle", async () => {
  const { publicKey, secretKey } = await reencryptBackend.generateKeys();
  const pk = decodePublicKey(publicKey);
  const sk = decodeSecretKey(secretKey).secret;
  // Report bytes in WIDTH group elements of up to 30 bytes each (empty elements pad).
  const WIDTH = 4;
  const transport: SurveyMixTransport<Ciphertext, Ciphertext> = {
    wrap: (bytes) => {
      assert.ok(bytes.length <= WIDTH * MAX_EMBED_BYTES, `report of ${bytes.length} bytes`);
      const chunks = Array.from(
        { length: WIDTH },
        (_, i) => embedBytes(bytes.subarray(i * MAX_EMBED_BYTES, (i + 1) * MAX_EMBED_BYTES)),
      );
      return encrypt(pk, chunks);
    },
    // Single-key decryption stands in for the threshold decryption of a real election-style setup.
    unwrap: (ct) => concatBytes(...decrypt(sk, ct).map(extractBytes)),
  };
  const random = seededRandom("reencrypt-survey");
  const reports = Array.from(
    { length: 6 },
    (_, i) => surveyRespond(definition, { answers: { q: i % 3, city: i * 11 }, random }),
  ).flat();
  const { payloads } = await mixSurveyReports(reports, {
    backend: reencryptBackend,
    key: publicKey,
    verifyKey: publicKey,
    transport,
    minBatchSize: 12,
  });
  const sorted = (xs: Uint8Array[]) => xs.map((x) => x.join()).sort();
  assert.deepEqual(sorted(payloads), sorted(reports.map(encodeSurveyReport)));
  const agg = new SurveyAggregator(definition);
  assert.equal(agg.ingestBatch(payloads).accepted, 12);
});
