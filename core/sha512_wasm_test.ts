import assert from "node:assert/strict";
import { sha512 } from "@noble/hashes/sha2.js";
import { createSha512, expandSha512 } from "./sha512_wasm.ts";
import { wasmModuleStatus } from "./wasm_module.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

Deno.test("sha512: FIPS 180-2 examples, in WebAssembly", () => {
  const abc = createSha512().update(new TextEncoder().encode("abc")).digest();
  assert.equal(
    hex(abc),
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
  );
  assert.equal(
    hex(createSha512().digest()),
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" +
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
  );
  assert.equal(wasmModuleStatus()["sha512"], true);
});

Deno.test("sha512: the same bytes as @noble/hashes for every length around block edges, in pieces", () => {
  for (
    const n of [0, 1, 111, 112, 113, 127, 128, 129, 239, 240, 255, 256, 257, 1000, 70000, 200000]
  ) {
    const data = bytes(n, n + 1);
    const want = hex(sha512(data));
    assert.equal(hex(createSha512().update(data).digest()), want, `one piece of ${n}`);
    // Uneven pieces: 1, 7, 60, 127, 128, 129… bytes at a time.
    const h = createSha512();
    let at = 0;
    for (let k = 0; at < n; k++) {
      const step = [1, 7, 60, 127, 128, 129, 3000][k % 7]!;
      h.update(data.subarray(at, at + step));
      at += step;
    }
    assert.equal(hex(h.digest()), want, `pieces of ${n}`);
  }
});

Deno.test("sha512: a clone continues independently of its original", () => {
  const a = createSha512().update(bytes(300, 9));
  const b = a.clone();
  a.update(bytes(50, 1));
  b.update(bytes(50, 2));
  assert.equal(hex(a.digest()), hex(sha512(new Uint8Array([...bytes(300, 9), ...bytes(50, 1)]))));
  assert.equal(hex(b.digest()), hex(sha512(new Uint8Array([...bytes(300, 9), ...bytes(50, 2)]))));
});

Deno.test("sha512: challenge expansion is SHA-512(seed ‖ u32be(i)) concatenated", () => {
  const seed = bytes(64, 5);
  for (const length of [1, 64, 65, 100, 64 * 300 + 17]) {
    const want = new Uint8Array(length);
    for (let i = 0, at = 0; at < length; i++, at += 64) {
      const counter = new Uint8Array(4);
      new DataView(counter.buffer).setUint32(0, i);
      want.set(sha512.create().update(seed).update(counter).digest().subarray(0, length - at), at);
    }
    assert.equal(hex(expandSha512(seed, length)), hex(want), `length ${length}`);
  }
});

Deno.test("sha512: updateRange absorbs the range as update does its view", () => {
  const data = bytes(5000, 3);
  for (const [from, to] of [[0, 0], [3, 10], [1, 130], [100, 400], [7, 4999], [0, 5000]]) {
    const a = createSha512(), b = createSha512();
    a.update(data.subarray(0, 5)), b.update(data.subarray(0, 5)); // a partial block first
    if (a.updateRange === undefined) return; // without WebAssembly: noble's hash, no ranges
    a.updateRange(data, from!, to!);
    b.update(data.subarray(from!, to!));
    assert.equal(hex(a.digest()), hex(b.digest()), `${from}..${to}`);
  }
});
