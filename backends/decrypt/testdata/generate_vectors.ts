/**
 * Prints the Sphinx test vectors as JSON on standard output:
 * `deno run backends/decrypt/testdata/generate_vectors.ts > backends/decrypt/testdata/sphinx_vectors.json`
 *
 * @module
 */

import { generateSphinxVectors } from "../vectors.ts";
import { nobleSphinxX25519 } from "../x25519.ts";

console.log(JSON.stringify(await generateSphinxVectors(nobleSphinxX25519), null, 1));
