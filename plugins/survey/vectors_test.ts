/**
 * Known-answer vectors: seeded randomizer outputs (encoded reports) and OLH hash
 * keys. Regenerate with `SURVEY_UPDATE_VECTORS=1 deno test --allow-all plugins/survey/vectors_test.ts`.
 */
import assert from "node:assert/strict";
import { toHex } from "../../core/bytes.ts";
import { seededRandom } from "../../core/random.ts";
import type { SurveyDefinition } from "./definition.ts";
import { olhHash, olhHashKey } from "./olh_hash.ts";
import { surveyRespond, SurveySampler } from "./randomize.ts";
import { encodeSurveyReport } from "./report.ts";

const SEED = "panoramix/survey/vectors/v1";
const FILE = new URL("./testdata/randomizer_vectors.json", import.meta.url);

const definition: SurveyDefinition = {
  id: "vectors",
  target: { epsilon: 1, delta: 1e-6 },
  questions: [
    { id: "krr", type: "categorical", options: ["a", "b", "c", "d"], epsilon0: 1 },
    {
      id: "oue",
      type: "categorical",
      options: Array.from({ length: 20 }, (_, i) => `${i}`),
      epsilon0: 1,
      oracle: "oue",
    },
    {
      id: "olh",
      type: "categorical",
      options: Array.from({ length: 500 }, (_, i) => `${i}`),
      epsilon0: 2,
    },
    {
      id: "multi",
      type: "multiple",
      options: ["a", "b", "c", "d", "e"],
      maxSelections: 2,
      epsilon0: 3,
    },
    { id: "num", type: "numeric", min: -5, max: 5, epsilon0: 0.5 },
  ],
};

function generate() {
  const sampler = new SurveySampler(seededRandom(SEED));
  const reports: string[] = [];
  for (let i = 0; i < 6; i++) {
    const answers = {
      krr: i % 4,
      oue: (i * 7) % 20,
      olh: i * 83,
      multi: ["b", "e"].slice(0, i % 3),
      num: i - 2.5,
    };
    for (const r of surveyRespond(definition, { answers, random: sampler })) {
      reports.push(toHex(encodeSurveyReport(r)));
    }
  }
  const hashes = [0, 1, 2, 255].map((byte) => {
    const seed = new Uint8Array(16).fill(byte);
    const key = olhHashKey(seed);
    return {
      seed: toHex(seed),
      a: key.a,
      b: key.b,
      g8: Array.from({ length: 10 }, (_, v) => olhHash(key, { v, g: 8 })),
    };
  });
  return { seed: SEED, definition, answersRule: "see vectors_test.ts generate()", reports, hashes };
}

Deno.test("committed randomizer and OLH hash vectors still match", async () => {
  const fresh = generate();
  if (Deno.env.get("SURVEY_UPDATE_VECTORS") === "1") {
    await Deno.writeTextFile(FILE, JSON.stringify(fresh, null, 1) + "\n");
  }
  const committed = JSON.parse(await Deno.readTextFile(FILE));
  assert.deepEqual(fresh, committed);
});
