import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import { VerificationError } from "../../core/errors.ts";
import { randomBytes, seededRandom } from "../../core/random.ts";
import { assertRejectsWith } from "./test_helpers.ts";
import {
  clampedScalar,
  CURVE25519_ORDER,
  encodeClampedScalar,
  isCanonicalU,
  mulScalars,
  nobleSphinxX25519,
  sphinxX25519,
  wasmSphinxX25519,
  webCryptoSphinxX25519,
  withWasmFixedBase,
} from "./x25519.ts";

const random = seededRandom("x25519-test");

Deno.test("WebCrypto and noble engines give identical bytes", async () => {
  for (let i = 0; i < 20; i++) {
    const k = randomBytes(32, random);
    const u = x25519.getPublicKey(randomBytes(32, random));
    assert.deepEqual(
      await webCryptoSphinxX25519.scalarMult(k, u),
      await nobleSphinxX25519.scalarMult(k, u),
    );
    assert.deepEqual(
      await webCryptoSphinxX25519.scalarMultLongLived(k, u),
      await nobleSphinxX25519.scalarMultLongLived(k, u),
    );
    assert.deepEqual(
      await webCryptoSphinxX25519.scalarMultBase(k),
      await nobleSphinxX25519.scalarMultBase(k),
    );
  }
});

const hybrid = withWasmFixedBase(webCryptoSphinxX25519);
const engines = [nobleSphinxX25519, webCryptoSphinxX25519, wasmSphinxX25519, hybrid];

Deno.test("the default engine in Deno is WebAssembly", async () => {
  assert.equal((await sphinxX25519()).name, "wasm");
});

Deno.test("WebAssembly, combined and noble engines give identical bytes, pairs included", async () => {
  // A repeated node key: after a few uses the WebAssembly engines switch to its table.
  const y = x25519.getPublicKey(randomBytes(32, random));
  for (let i = 0; i < 12; i++) {
    const k = randomBytes(32, random);
    const u = i % 2 === 0 ? y : x25519.getPublicKey(randomBytes(32, random));
    const want = [
      await nobleSphinxX25519.scalarMultBase(k),
      await nobleSphinxX25519.scalarMult(k, u),
    ];
    for (const engine of [wasmSphinxX25519, hybrid]) {
      assert.deepEqual(await engine.scalarMultPair!(k, u), want, engine.name);
      assert.deepEqual(await engine.scalarMult(k, u), want[1], engine.name);
      assert.deepEqual(await engine.scalarMultLongLived(k, u), want[1], engine.name);
      assert.deepEqual(await engine.scalarMultBase(k), want[0], engine.name);
    }
  }
});

Deno.test("clamped re-encoding of a scalar product matches repeated X25519 (blinding)", async () => {
  for (const engine of engines) {
    for (let i = 0; i < 10; i++) {
      const x = randomBytes(32, random), b1 = randomBytes(32, random), b2 = randomBytes(32, random);
      const y = x25519.getPublicKey(randomBytes(32, random));
      // Node side: X25519 applied step by step with clamped scalars.
      const stepwise = await engine.scalarMult(
        b2,
        await engine.scalarMult(b1, await engine.scalarMult(x, y)),
      );
      // Client side: one multiplication by the product mod ℓ.
      const e = mulScalars(mulScalars(clampedScalar(x), clampedScalar(b1)), clampedScalar(b2));
      assert.deepEqual(await engine.scalarMult(encodeClampedScalar(e), y), stepwise);
    }
  }
});

Deno.test("encodeClampedScalar yields fixed points of clamping congruent to ±e", () => {
  for (let i = 0; i < 50; i++) {
    const e = clampedScalar(randomBytes(32, random)) % CURVE25519_ORDER;
    const c = encodeClampedScalar(e);
    const n = clampedScalar(c);
    let raw = 0n;
    for (let j = 31; j >= 0; j--) raw = (raw << 8n) | BigInt(c[j]!);
    assert.equal(n, raw);
    const r = n % CURVE25519_ORDER;
    assert.ok(r === e || r === CURVE25519_ORDER - e);
  }
});

Deno.test("every engine rejects low-order points with VerificationError", async () => {
  const k = randomBytes(32, random);
  for (const engine of engines) {
    await assertRejectsWith(engine.scalarMult(k, new Uint8Array(32)), VerificationError);
    const one = new Uint8Array(32);
    one[0] = 1;
    await assertRejectsWith(engine.scalarMult(k, one), VerificationError);
    if (engine.scalarMultPair !== undefined) {
      // Often enough for the point to get a table in the WebAssembly engines.
      for (let i = 0; i < 6; i++) {
        await assertRejectsWith(engine.scalarMultPair(k, one), VerificationError);
      }
    }
  }
});

Deno.test("isCanonicalU accepts field elements below p only", () => {
  const p = new Uint8Array(32).fill(0xff);
  p[0] = 0xed;
  p[31] = 0x7f;
  assert.equal(isCanonicalU(p), false);
  const pMinus1 = p.slice();
  pMinus1[0] = 0xec;
  assert.equal(isCanonicalU(pMinus1), true);
  const high = new Uint8Array(32);
  high[31] = 0x80;
  assert.equal(isCanonicalU(high), false);
  assert.equal(isCanonicalU(new Uint8Array(31)), false);
});
