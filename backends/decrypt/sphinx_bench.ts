/**
 * `deno bench --allow-all backends/decrypt/sphinx_bench.ts`: Sphinx creation and unwrap
 * (every X25519 engine, one at a time and in a batch) and the cost of each building block, at
 * the default payload size.
 *
 * @module
 */

import { x25519 } from "@noble/curves/ed25519.js";
import { chacha20 } from "@noble/ciphers/chacha.js";
import { blake2b } from "@noble/hashes/blake2.js";
import { randomBytes } from "../../core/random.ts";
import { keyedBlake2b256 } from "./blake2b.ts";
import { chacha20XorInPlace } from "./chacha20.ts";
import { deriveSphinxHopKeys, headerMac, routingStream } from "./hop_keys.ts";
import { lionessDecrypt } from "./lioness.ts";
import { createSphinxPacket } from "./packet.ts";
import { SPHINX_BETA_SIZE, SPHINX_DEFAULT_PAYLOAD_SIZE, SPHINX_SLOT_SIZE } from "./params.ts";
import { unwrapSphinxPacket, unwrapSphinxPackets } from "./unwrap.ts";
import type { SphinxHop } from "./header.ts";
import {
  nobleSphinxX25519,
  wasmSphinxX25519,
  webCryptoSphinxX25519,
  withWasmFixedBase,
} from "./x25519.ts";
import { x25519Wasm, x25519WasmBase, x25519WasmBasePair } from "./x25519_wasm.ts";

const keys = Array.from({ length: 3 }, (_, i) => {
  const secretKey = randomBytes(32);
  return { keyId: i, secretKey, publicKey: x25519.getPublicKey(secretKey) };
});
const route: SphinxHop[] = keys.map((k) => ({
  nodeId: randomBytes(32),
  publicKey: k.publicKey,
  keyId: k.keyId,
}));
const message = randomBytes(256);
const webPackets: Uint8Array[] = [];
const noblePackets: Uint8Array[] = [];
for (let i = 0; i < 256; i++) {
  webPackets.push((await createSphinxPacket(message, { route })).packet);
}
for (let i = 0; i < 16; i++) {
  noblePackets.push((await createSphinxPacket(message, { route })).packet);
}
let next = 0;
const hybrid = withWasmFixedBase(webCryptoSphinxX25519);

Deno.bench("create, 3 hops, default (WebAssembly tables)", {
  group: "create",
  baseline: true,
}, async () => {
  await createSphinxPacket(message, { route, x25519: hybrid });
});
Deno.bench("create, 3 hops, WebAssembly only", { group: "create" }, async () => {
  await createSphinxPacket(message, { route, x25519: wasmSphinxX25519 });
});
Deno.bench("create, 3 hops, WebCrypto X25519", { group: "create" }, async () => {
  await createSphinxPacket(message, { route, x25519: webCryptoSphinxX25519 });
});
Deno.bench("create, 3 hops, noble X25519", { group: "create" }, async () => {
  await createSphinxPacket(message, { route, x25519: nobleSphinxX25519 });
});
Deno.bench("unwrap, WebCrypto X25519", { group: "unwrap", baseline: true }, async () => {
  await unwrapSphinxPacket(webPackets[next++ % webPackets.length]!, {
    keys: keys[0]!,
    x25519: webCryptoSphinxX25519,
  });
});
Deno.bench("unwrap, WebAssembly X25519", { group: "unwrap" }, async () => {
  await unwrapSphinxPacket(webPackets[next++ % webPackets.length]!, {
    keys: keys[0]!,
    x25519: wasmSphinxX25519,
  });
});
Deno.bench("unwrap, WebAssembly X25519, batch of 64 (per packet: divide by 64)", {
  group: "unwrap",
}, async () => {
  await unwrapSphinxPackets(webPackets.slice(0, 64), { keys: keys[0]!, x25519: wasmSphinxX25519 });
});
Deno.bench("unwrap, noble X25519", { group: "unwrap" }, async () => {
  await unwrapSphinxPacket(noblePackets[next++ % noblePackets.length]!, {
    keys: keys[0]!,
    x25519: nobleSphinxX25519,
  });
});
Deno.bench("unwrap, WebCrypto X25519, 64 in flight (per packet: divide by 64)", {
  group: "unwrap",
}, async () => {
  await Promise.all(
    webPackets.slice(0, 64).map((p) =>
      unwrapSphinxPacket(p, { keys: keys[0]!, x25519: webCryptoSphinxX25519 })
    ),
  );
});

const u = keys[1]!.publicKey;
const scalar = randomBytes(32);
Deno.bench("X25519, WebCrypto (cached keys)", { group: "parts" }, async () => {
  await webCryptoSphinxX25519.scalarMult(scalar, u);
});
Deno.bench("X25519, WebAssembly ladder", { group: "parts" }, () => {
  x25519Wasm(scalar, u);
});
Deno.bench("X25519(k, 9), WebAssembly fixed-base table", { group: "parts" }, () => {
  x25519WasmBase(scalar);
});
for (let i = 0; i < 8; i++) x25519WasmBasePair(scalar, u); // u gets its table
Deno.bench("X25519(k, 9) and X25519(k, Y), WebAssembly tables, one inversion", {
  group: "parts",
}, () => {
  x25519WasmBasePair(scalar, u);
});
Deno.bench("X25519, noble", { group: "parts" }, async () => {
  await nobleSphinxX25519.scalarMult(scalar, u);
});
const secret = randomBytes(32), alpha = randomBytes(32);
Deno.bench("HKDF hop keys (5 labels)", { group: "parts" }, () => {
  deriveSphinxHopKeys(secret, alpha);
});
const macKey = randomBytes(32), prefix = new Uint8Array([1, 0]), beta = randomBytes(480);
Deno.bench("HMAC-SHA256 over α ‖ β", { group: "parts" }, () => {
  headerMac(macKey, prefix, alpha, beta);
});
Deno.bench("ChaCha20 routing stream", { group: "parts" }, () => {
  routingStream(macKey, SPHINX_BETA_SIZE + SPHINX_SLOT_SIZE);
});
const lionessKey = randomBytes(128), payload = randomBytes(SPHINX_DEFAULT_PAYLOAD_SIZE);
Deno.bench("LIONESS decrypt, default payload", { group: "parts" }, () => {
  lionessDecrypt(lionessKey, payload);
});
const right = payload.subarray(32), hashKey = lionessKey.subarray(32, 64);
Deno.bench(
  "keyed BLAKE2b-256 over LIONESS R, WebAssembly",
  { group: "blake2b", baseline: true },
  () => {
    keyedBlake2b256(hashKey, right);
  },
);
Deno.bench("keyed BLAKE2b-256 over LIONESS R, @noble/hashes", { group: "blake2b" }, () => {
  blake2b(right, { key: hashKey, dkLen: 32 });
});
Deno.bench("ChaCha20 over LIONESS R, WebAssembly", { group: "chacha20", baseline: true }, () => {
  chacha20XorInPlace(hashKey, right);
});
const zeroNonce = new Uint8Array(12);
Deno.bench("ChaCha20 over LIONESS R, @noble/ciphers", { group: "chacha20" }, () => {
  right.set(chacha20(hashKey, zeroNonce, right));
});
