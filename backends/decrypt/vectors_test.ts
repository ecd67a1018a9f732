import assert from "node:assert/strict";
import { fromHex, toHex } from "../../core/bytes.ts";
import { PanoramixError } from "../../core/errors.ts";
import { MemoryReplayCache } from "./replay_cache.ts";
import { decodeSphinxSurbSecret, openSphinxReply } from "./surb.ts";
import vectors from "./testdata/sphinx_vectors.json" with { type: "json" };
import { type SphinxNodeKey, unwrapSphinxPacket } from "./unwrap.ts";
import { generateSphinxVectors } from "./vectors.ts";
import {
  nobleSphinxX25519,
  wasmSphinxX25519,
  webCryptoSphinxX25519,
  withWasmFixedBase,
} from "./x25519.ts";
import { wasmX25519Available } from "./x25519_wasm.ts";

const hex = (text: string) => fromHex(text, "vector");
const nodes: SphinxNodeKey[] = vectors.nodes.map((n) => ({
  keyId: n.keyId,
  secretKey: hex(n.secretKey),
  publicKey: hex(n.publicKey),
}));
const payloadSize = vectors.payloadSize;

Deno.test("committed vectors regenerate byte for byte from their seed (every engine)", async () => {
  const committed = JSON.parse(JSON.stringify(vectors));
  assert.deepEqual(await generateSphinxVectors(nobleSphinxX25519), committed);
  assert.deepEqual(await generateSphinxVectors(webCryptoSphinxX25519), committed);
  // Twice each: the second run multiplies by the node keys' tables, built after a few uses
  // (skipped in the child process of wasm_fallback_test.ts, where WebAssembly is refused).
  const wasm = wasmX25519Available()
    ? [wasmSphinxX25519, withWasmFixedBase(webCryptoSphinxX25519)]
    : [];
  for (const engine of wasm) {
    assert.deepEqual(await generateSphinxVectors(engine), committed, engine.name);
    assert.deepEqual(await generateSphinxVectors(engine), committed, engine.name);
  }
});

Deno.test("committed forward vectors unwrap hop by hop to the recorded outputs", async () => {
  for (const v of vectors.forward) {
    let packet = hex(v.packet);
    for (const hop of v.unwrap) {
      const out = await unwrapSphinxPacket(packet, { keys: nodes[hop.node]!, payloadSize });
      assert.equal(toHex(out.replayTag), hop.replayTag);
      assert.equal(out.kind, hop.result.kind);
      assert.equal(out.delayMs, hop.result.delayMs);
      if (out.kind === "forward") {
        assert.equal(toHex(out.packet), hop.packet);
        assert.equal(toHex(out.nextHop), hop.result.nextHop);
        packet = out.packet;
      } else if (out.kind === "deliver") {
        assert.equal(toHex(out.message), v.message);
        assert.equal(hop.message, v.message);
      }
    }
  }
});

Deno.test("committed SURB vector opens to the reply message", async () => {
  let packet = hex(vectors.surb.replyPacket);
  let payload: Uint8Array | undefined;
  for (const hop of vectors.surb.unwrap) {
    const out = await unwrapSphinxPacket(packet, { keys: nodes[hop.node]!, payloadSize });
    if (out.kind === "forward") packet = out.packet;
    if (out.kind === "reply") payload = out.payload;
  }
  assert.ok(payload !== undefined);
  const secret = decodeSphinxSurbSecret(hex(vectors.surb.secret));
  assert.equal(toHex(openSphinxReply(secret, payload)), vectors.surb.replyMessage);
});

Deno.test("committed failure vectors raise the recorded error class", async () => {
  assert.ok(vectors.failures.length >= 8);
  for (const f of vectors.failures) {
    const cache = new MemoryReplayCache();
    const run = () =>
      unwrapSphinxPacket(hex(f.packet), {
        keys: nodes[f.node]!,
        payloadSize,
        replayCache: cache,
      });
    if ("processTwice" in f) await run();
    let name = "none";
    try {
      await run();
    } catch (error) {
      assert.ok(error instanceof PanoramixError);
      name = error.name;
    }
    assert.equal(name, f.error, f.name);
    assert.notEqual(name, "none", f.name);
  }
});
