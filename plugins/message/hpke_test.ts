import assert from "node:assert/strict";
import { fromHex as hex, toHex } from "../../core/bytes.ts";
const fromHex = (t: string) => hex(t, "vector");
import { VerificationError } from "../../core/errors.ts";
import {
  hpkeDeriveKeyPair,
  hpkeOpen,
  hpkeRecipientContext,
  hpkeSeal,
  hpkeSenderContext,
  hpkeX25519Engine,
} from "./hpke.ts";

interface Vector {
  mode: number;
  info: string;
  ikmE: string;
  ikmR: string;
  ikmS?: string;
  pkEm: string;
  pkRm: string;
  skRm: string;
  pkSm?: string;
  skSm?: string;
  enc: string;
  encryptions: { seq: number; pt: string; aad: string; ct: string }[];
  exports: { exporter_context: string; L: number; exported_value: string }[];
}

const { vectors } = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/rfc9180_a2.json", import.meta.url)),
) as { vectors: Vector[] };

Deno.test("RFC 9180 A.2 vectors (X25519, HKDF-SHA256, ChaCha20-Poly1305) pass through the wrapper", async () => {
  // Deno's WebCrypto has X25519: the vectors below run through the native KEM.
  assert.equal(await hpkeX25519Engine(), "webcrypto");
  assert.deepEqual(vectors.map((v) => v.mode), [0, 2]);
  for (const v of vectors) {
    const recipient = await hpkeDeriveKeyPair(fromHex(v.ikmR));
    assert.equal(toHex(recipient.publicKey), v.pkRm);
    assert.equal(toHex(recipient.secretKey), v.skRm);
    const sender = v.ikmS === undefined ? undefined : await hpkeDeriveKeyPair(fromHex(v.ikmS));
    if (sender) assert.equal(toHex(sender.publicKey), v.pkSm);
    const info = fromHex(v.info);
    const s = await hpkeSenderContext(recipient.publicKey, {
      info,
      ephemeralIkm: fromHex(v.ikmE),
      ...(sender ? { sender } : {}),
    });
    assert.equal(toHex(s.enc), v.enc);
    const r = await hpkeRecipientContext(recipient, {
      enc: s.enc,
      info,
      ...(sender ? { senderPublicKey: sender.publicKey } : {}),
    });
    // Sequence numbers in the vectors skip (0, 1, 2, 4, 255, 256): seal/open dummies between.
    let seq = 0;
    for (const e of v.encryptions) {
      for (; seq < e.seq; seq++) {
        await r.open(await s.seal(new Uint8Array(1)));
      }
      const ct = await s.seal(fromHex(e.pt), fromHex(e.aad));
      assert.equal(toHex(ct), e.ct, `mode ${v.mode} seq ${e.seq}`);
      assert.equal(toHex(await r.open(ct, fromHex(e.aad))), e.pt);
      seq++;
    }
    for (const x of v.exports) {
      assert.equal(toHex(await s.export(fromHex(x.exporter_context), x.L)), x.exported_value);
      assert.equal(toHex(await r.export(fromHex(x.exporter_context), x.L)), x.exported_value);
    }
  }
});

Deno.test("HPKE single-shot: round trip, tampering, wrong key and wrong sender are refused", async () => {
  const bob = await hpkeDeriveKeyPair(crypto.getRandomValues(new Uint8Array(32)));
  const alice = await hpkeDeriveKeyPair(crypto.getRandomValues(new Uint8Array(32)));
  const eve = await hpkeDeriveKeyPair(crypto.getRandomValues(new Uint8Array(32)));
  const msg = new TextEncoder().encode("meet at noon");
  const sealed = await hpkeSeal(bob.publicKey, msg, { sender: alice });
  assert.deepEqual(await hpkeOpen(bob, sealed, { senderPublicKey: alice.publicKey }), msg);
  await assert.rejects(
    () => hpkeOpen(bob, sealed, { senderPublicKey: eve.publicKey }),
    VerificationError,
  );
  await assert.rejects(() => hpkeOpen(bob, sealed), VerificationError); // auth sealed, base open
  await assert.rejects(() => hpkeOpen(eve, sealed), VerificationError);
  const tampered = sealed.slice();
  tampered[tampered.length - 1]! ^= 1;
  await assert.rejects(() => hpkeOpen(bob, tampered), VerificationError);
  await assert.rejects(() => hpkeOpen(bob, new Uint8Array(10)), VerificationError);
  const anon = await hpkeSeal(bob.publicKey, msg);
  assert.deepEqual(await hpkeOpen(bob, anon), msg);
  assert.equal(anon.length, msg.length + 48);
});
