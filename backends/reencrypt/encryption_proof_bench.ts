// Ballot-style encryption with proof of knowledge, per element (issue 17 point 3): a chunk
// of 1,000 single-element items as the simulated voters' task encrypts them. Divide the
// times by 1,000 for µs per ballot.
// Run: deno bench --allow-all backends/reencrypt/encryption_proof_bench.ts
import { seededRandom } from "../../core/random.ts";
import { encryptAndProveMany } from "./encryption_proof.ts";
import {
  BASE_POINT,
  encodeEncryptionElements,
  fixedBase,
  GROUP_ORDER,
  modL,
  randomScalars,
} from "./group.ts";

const N = 1000;
const random = seededRandom("encryption_proof_bench");
const publicKey = BASE_POINT.multiply(randomScalars(1, random)[0]!);
const messages = [1n, 2n, 3n, 4n, 5n].map((k) => BASE_POINT.multiply(k));
const r = randomScalars(N, random), a = randomScalars(N, random);
const context = new Uint8Array(60).fill(7);
const items = r.map((rk, i) => ({
  messages: [messages[i % 5]!],
  randomness: [rk],
  nonces: [a[i]!],
  context,
}));

Deno.bench(
  `encryptAndProveMany, ${N} one-element items`,
  { group: "chunk", baseline: true },
  () => {
    encryptAndProveMany(publicKey, items);
  },
);

const HALF = (GROUP_ORDER + 1n) / 2n;
const g = fixedBase(BASE_POINT), y = fixedBase(publicKey);
const s = r.map((k) => modL(k * HALF)), t = a.map((k) => modL(k * HALF));
const halves = messages.map((m) => m.multiply(HALF));
const messageOf = Array.from({ length: N }, (_, i) => i % 5);
Deno.bench(`their group elements only (encodeEncryptionElements), ${N}`, { group: "chunk" }, () => {
  encodeEncryptionElements(g, y, { s, t, u: s, messages: halves, messageOf, doubleR: true });
});

Deno.bench(`the fixed-base products alone (multiplyMany), 3 × ${N}`, { group: "chunk" }, () => {
  g.multiplyMany(s);
  g.multiplyMany(t);
  y.multiplyMany(s);
});
