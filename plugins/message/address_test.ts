import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import {
  ADDRESS_PREFIX,
  addressOf,
  decodeAddress,
  deriveIdentity,
  encodeAddress,
  generateMessageIdentity,
  sameAddress,
} from "./address.ts";

const provider = crypto.getRandomValues(new Uint8Array(32));

Deno.test("an address round-trips, is deterministic from the seed and case-insensitive", async () => {
  const seed = new Uint8Array(32).fill(9);
  const a = await deriveIdentity(seed, provider);
  const b = await deriveIdentity(seed, provider);
  const text = encodeAddress(addressOf(a));
  assert.equal(text, encodeAddress(addressOf(b)));
  assert.ok(text.startsWith(ADDRESS_PREFIX));
  assert.equal(text.length, 4 + 162);
  assert.match(text, /^pmx1[a-z2-7]+$/);
  assert.ok(sameAddress(decodeAddress(text), addressOf(a)));
  assert.ok(sameAddress(decodeAddress(text.toUpperCase().replace("PMX1", "pmx1")), addressOf(a)));
  // Mailbox and encryption keys are distinct keys derived with distinct labels.
  assert.notDeepEqual(a.mailboxKey.publicKey, a.encryptionKey.publicKey);
});

Deno.test("every single-character typo in an address is caught", async () => {
  const text = encodeAddress(addressOf(await generateMessageIdentity(provider)));
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let caught = 0;
  for (let i = ADDRESS_PREFIX.length; i < text.length; i++) {
    const wrong = alphabet[(alphabet.indexOf(text[i]!) + 1 + (i % 31)) % 32]!;
    const typo = text.slice(0, i) + wrong + text.slice(i + 1);
    assert.throws(() => decodeAddress(typo), InvalidInputError);
    caught++;
  }
  assert.equal(caught, 162);
  // Swapped neighbours.
  const swapped = text.slice(0, 10) + text[11] + text[10] + text.slice(12);
  if (swapped !== text) assert.throws(() => decodeAddress(swapped), /checksum|curve point/);
});

Deno.test("malformed addresses get a specific one-line error", () => {
  const cases: [string, RegExp][] = [
    ["hello", /must start with 'pmx1'/],
    ["pmx1abc!", /characters outside/],
    ["pmx1aaaaaaaa", /has 8 characters after 'pmx1', expected 162/],
    ["pmx1abc", /has 3 characters after 'pmx1', expected 162/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => decodeAddress(text), (e: Error) => {
      assert.ok(e instanceof InvalidInputError);
      assert.match(e.message, re);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});
