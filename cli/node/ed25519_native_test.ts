import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { VerificationError } from "../../core/errors.ts";
import { generateIdentity, signParts, verifyParts } from "./identity.ts";
import { signPartsNative, verifyPartsNative } from "./ed25519_native.ts";

Deno.test("native Ed25519 signs the same bytes as noble and both verify each other", () => {
  for (let i = 0; i < 20; i++) {
    const id = generateIdentity();
    const m = { label: `label ${i}`, parts: [crypto.getRandomValues(new Uint8Array(i * 7))] };
    const signature = signPartsNative(id, m);
    assert.deepEqual(signature, signParts(id, m));
    verifyParts(id.publicKey, { ...m, signature });
    verifyPartsNative(id.publicKey, { ...m, signature: signParts(id, m) });
  }
});

Deno.test("native Ed25519 refuses what verifyParts refuses", () => {
  const id = generateIdentity();
  const m = { label: "l", parts: [new Uint8Array([1, 2, 3])] };
  const signature = signParts(id, m);
  const refused = (key: Uint8Array, sig: Uint8Array, label = m.label) => {
    assert.throws(() => verifyParts(key, { ...m, label, signature: sig }), VerificationError);
    assert.throws(
      () => verifyPartsNative(key, { ...m, label, signature: sig }),
      VerificationError,
    );
  };
  const flipped = signature.slice();
  flipped[10]! ^= 1;
  refused(id.publicKey, flipped); // tampered signature
  refused(id.publicKey, signature, "other"); // other label (message)
  refused(generateIdentity().publicKey, signature); // other key
  refused(id.publicKey, signature.subarray(0, 63)); // short signature
  refused(id.publicKey.subarray(0, 31), signature); // short key
  // S + ℓ (non-canonical S) is refused.
  const l = 2n ** 252n + 27742317777372353535851937790883648493n;
  let sBig = 0n;
  for (let i = 31; i >= 0; i--) sBig = (sBig << 8n) | BigInt(signature[32 + i]!);
  const s2 = sBig + l;
  const malleable = signature.slice();
  for (let i = 0; i < 32; i++) malleable[32 + i] = Number((s2 >> BigInt(8 * i)) & 0xffn);
  if (s2 < 2n ** 256n) refused(id.publicKey, malleable);
  // A small-order public key (the identity point) with R = S·B forges any message for noble's
  // lenient rules; the native path refuses small-order keys outright.
  const identityPoint = ed25519.Point.ZERO.toBytes();
  assert.throws(
    () => verifyPartsNative(identityPoint, { ...m, signature }),
    VerificationError,
  );
});
