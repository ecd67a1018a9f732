// Rewrites vectors.json from the seed (dev tool; run from the repository root):
//   deno run -A backends/reencrypt/testdata/regenerate.ts
import { buildVectors, VECTOR_SEED } from "./build_vectors.ts";

const vectors = await buildVectors(VECTOR_SEED);
await Deno.writeTextFile(
  new URL("./vectors.json", import.meta.url),
  JSON.stringify(vectors, null, 2) + "\n",
);
