import assert from "node:assert/strict";
import {
  adoptWasmModules,
  I32,
  instantiateCompiledWasm,
  OP,
  shareWasmModule,
  signedLeb,
  unsignedLeb,
  WasmModuleBuilder,
  wasmModuleStatus,
  wasmModulesToShare,
} from "./wasm_module.ts";

Deno.test("LEB128 encodings match the WebAssembly specification's examples", () => {
  assert.deepEqual(unsignedLeb(0), [0]);
  assert.deepEqual(unsignedLeb(127), [0x7f]);
  assert.deepEqual(unsignedLeb(128), [0x80, 0x01]);
  assert.deepEqual(unsignedLeb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(signedLeb(63), [0x3f]);
  assert.deepEqual(signedLeb(64), [0xc0, 0x00]); // bit 6 would read as a sign
  assert.deepEqual(signedLeb(-1), [0x7f]);
  assert.deepEqual(signedLeb(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(signedLeb(-(2n ** 63n)), [
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x7f,
  ]);
});

Deno.test("a built module's functions call each other by index", () => {
  const m = new WasmModuleBuilder(1);
  const double = m.declare("double", [I32], [I32], false);
  const quadruple = m.declare("quadruple", [I32], [I32]);
  m.define(double, [], [OP.localGet, 0, OP.localGet, 0, OP.i32Add]);
  m.define(quadruple, [], [OP.localGet, 0, OP.call, double, OP.call, double]);
  const instance = m.instantiate("test-calls");
  assert.ok(instance);
  assert.equal(instance.exports.quadruple?.(21), 84);
  assert.equal(instance.exports.double, undefined); // not exported
  assert.equal(wasmModuleStatus()["test-calls"], true);
});

Deno.test("a declared function without a body is a clear error", () => {
  const m = new WasmModuleBuilder(1);
  m.declare("missing", []);
  assert.throws(() => m.instantiate("test-missing"), /Function 'missing' has no body/);
});

Deno.test("instantiateAsync compiles the same module asynchronously and records it", async () => {
  const m = new WasmModuleBuilder(1);
  const add = m.declare("add", [I32, I32], [I32]);
  m.define(add, [], [OP.localGet, 0, OP.localGet, 1, OP.i32Add]);
  const instance = await m.instantiateAsync("async-test");
  assert.equal(instance?.exports.add?.(40, 2), 42);
  assert.equal(wasmModuleStatus()["async-test"], true);
  const broken = new WasmModuleBuilder(1);
  const bad = broken.declare("bad", [], [I32]);
  broken.define(bad, [], []); // no result on the stack: invalid module
  assert.equal(await broken.instantiateAsync("async-broken"), undefined);
  assert.equal(wasmModuleStatus()["async-broken"], false);
});

Deno.test("shared modules: compiled once for the workers, instantiated without assembling, others left out", () => {
  let assembled = 0;
  shareWasmModule("test-share-once", () => {
    assembled++;
    const m = new WasmModuleBuilder(1);
    m.define(m.declare("sub", [I32, I32], [I32]), [], [OP.localGet, 0, OP.localGet, 1, OP.i32Sub]);
    return m;
  });
  // A module that does not compile here (a body WebAssembly refuses) is left to the workers.
  shareWasmModule("test-share-broken", () => {
    const m = new WasmModuleBuilder(1);
    m.define(m.declare("bad", [], [I32]), [], [OP.i32Add]);
    return m;
  });
  const first = new Map(wasmModulesToShare()), second = new Map(wasmModulesToShare());
  assert.equal(assembled, 1);
  assert.ok(first.get("test-share-once") instanceof WebAssembly.Module);
  assert.equal(second.get("test-share-once"), first.get("test-share-once")); // the same module
  assert.equal(first.has("test-share-broken"), false);
  assert.equal(instantiateCompiledWasm("test-share-once")?.exports.sub?.(7, 2), 5);
  assert.equal(instantiateCompiledWasm("test-share-broken"), undefined);
  // What a worker is handed: modules by name; anything else is ignored.
  adoptWasmModules([["test-adopted", first.get("test-share-once")], ["x", 1], "y", [2, 3]]);
  assert.equal(instantiateCompiledWasm("test-adopted")?.exports.sub?.(9, 4), 5);
  assert.equal(instantiateCompiledWasm("x"), undefined);
});
