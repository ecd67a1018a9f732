/**
 * A tiny WebAssembly assembler for the hot loops of the backends (Sphinx hash and stream
 * functions, GF(2^255−19) arithmetic in ./field25519.ts): the bytecode is built from readable
 * TypeScript at load time, so the repository holds no binary blob. Encodings follow the
 * WebAssembly core specification §5 (binary format).
 *
 * @module
 */

/** Opcodes used by the assembled functions (WebAssembly core specification §5.4). */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  call: 0x10,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  i32Load8S: 0x2c,
  i32Load8U: 0x2d,
  i32Store: 0x36,
  i32Store8: 0x3a,
  i64Store: 0x37,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GeS: 0x4e,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrS: 0x75,
  i32ShrU: 0x76,
  i32Rotl: 0x77,
  i32Rotr: 0x78,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Xor: 0x85,
  i64Rotr: 0x8a,
  i64Eqz: 0x50,
  i64Eq: 0x51,
  i64Mul: 0x7e,
  i64And: 0x83,
  i64Or: 0x84,
  i64Shl: 0x86,
  i64ShrS: 0x87,
  i64ShrU: 0x88,
  i32WrapI64: 0xa7,
  i64ExtendI32S: 0xac,
  i64ExtendI32U: 0xad,
} as const;

/** Value type i32. */
export const I32 = 0x7f;
/** Value type i64. */
export const I64 = 0x7e;

/**
 * Unsigned LEB128 (WebAssembly core specification §5.2.2).
 *
 * @param n a non-negative integer below 2^32
 * @returns the encoding
 */
export function unsignedLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/**
 * Signed LEB128 (WebAssembly core specification §5.2.2), for `i32.const` and `i64.const`.
 *
 * @param n the integer, within the signed range of the constant's type
 * @returns the encoding
 */
export function signedLeb(n: bigint | number): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/**
 * A function body under construction: chainable instructions over numbered locals.
 *
 * @example
 * ```ts
 * import { WasmCode } from "./wasm_module.ts";
 * const body = new WasmCode().get(0).get(1).i32(1).op(0x6a); // (local 0, local 1 + 1)
 * console.assert(body.code.length === 7);
 * ```
 */
export class WasmCode {
  /** The instructions so far. */
  readonly code: number[] = [];
  /**
   * Appends raw opcodes and immediates.
   *
   * @param ops the bytes
   * @returns this
   */
  op(...ops: number[]): this {
    this.code.push(...ops);
    return this;
  }
  /**
   * `local.get i`.
   *
   * @param i the local
   * @returns this
   */
  get(i: number): this {
    return this.op(OP.localGet, ...unsignedLeb(i));
  }
  /**
   * `local.set i`.
   *
   * @param i the local
   * @returns this
   */
  set(i: number): this {
    return this.op(OP.localSet, ...unsignedLeb(i));
  }
  /**
   * `local.tee i`.
   *
   * @param i the local
   * @returns this
   */
  tee(i: number): this {
    return this.op(OP.localTee, ...unsignedLeb(i));
  }
  /**
   * `i32.const n`.
   *
   * @param n the constant
   * @returns this
   */
  i32(n: number): this {
    return this.op(OP.i32Const, ...signedLeb(n));
  }
  /**
   * `i64.const n`.
   *
   * @param n the constant
   * @returns this
   */
  i64(n: number | bigint): this {
    return this.op(OP.i64Const, ...signedLeb(n));
  }
  /**
   * `call index`.
   *
   * @param index the function index
   * @returns this
   */
  call(index: number): this {
    return this.op(OP.call, ...unsignedLeb(index));
  }
}

/** Shape of the single function {@linkcode instantiateWasm} assembles. */
export interface WasmFunction {
  /** Parameter types ({@linkcode I32} or {@linkcode I64}). */
  params: readonly number[];
  /** Extra locals after the parameters, as [count, type] runs. */
  locals: readonly (readonly [number, number])[];
  /** The body's instructions, without the final `end`. */
  code: readonly number[];
  /** Pages (64 KiB) of exported linear memory. */
  pages: number;
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function exportName(text: string): number[] {
  return [text.length, ...new TextEncoder().encode(text)];
}

const compiled = new Map<string, boolean>();

/**
 * Modules compiled in this realm, or handed to it by the thread that started it, by name:
 * a worker instantiates what the main thread compiled instead of assembling and compiling
 * the module again, and shares its compiled (and optimized) code (issue 17).
 */
const modules = new Map<string, WebAssembly.Module>();

/** Modules a worker pool hands to each worker it starts: name → how to assemble it. */
const shared = new Map<string, () => WasmModuleBuilder>();

/**
 * Emits a `block loop` that runs `body` while i32 local `i` is below i32 local `n`, with `i`
 * counting up from 0 (the loop of WebAssembly functions over a list of `n` items).
 *
 * @param c the function's code
 * @param i index of the counter local (set to 0 first)
 * @param n index of the local holding the count
 * @param body emits the loop's body
 * @example
 * ```ts
 * import { countUp, WasmCode } from "./wasm_module.ts";
 * const c = new WasmCode();
 * countUp(c, 1, 0, () => {});
 * console.assert(c.code.length > 0);
 * ```
 */
export function countUp(c: WasmCode, i: number, n: number, body: () => void): void {
  c.i32(0).set(i);
  c.op(OP.block, 0x40, OP.loop, 0x40);
  c.get(i).get(n).op(OP.i32GeU, OP.brIf, 1);
  body();
  c.get(i).i32(1).op(OP.i32Add).set(i).op(OP.br, 0, OP.end, OP.end);
}

/**
 * Marks a module as one to hand to every worker a pool starts ({@linkcode wasmModulesToShare}):
 * the workers then instantiate it with {@linkcode instantiateCompiledWasm} without
 * assembling or compiling it (V8 shares one compiled module between threads).
 *
 * @param name the module's name in {@linkcode wasmModuleStatus}
 * @param assemble builds the module (called at most once, when a pool first starts workers
 *   and this realm has not compiled it yet)
 * @example
 * ```ts
 * import { shareWasmModule, WasmModuleBuilder } from "./wasm_module.ts";
 * shareWasmModule("example-shared", () => new WasmModuleBuilder(1));
 * ```
 */
export function shareWasmModule(name: string, assemble: () => WasmModuleBuilder): void {
  shared.set(name, assemble);
}

/**
 * The shared modules ({@linkcode shareWasmModule}) compiled, for a pool to post to a new
 * worker: each compiled here once if it was not yet (synchronously; where that is refused,
 * as on a browser page's main thread, or WebAssembly is unavailable, it is left out and the
 * workers compile their own).
 *
 * @returns name and compiled module of each shared module that compiles here
 * @example
 * ```ts
 * import { wasmModulesToShare } from "./wasm_module.ts";
 * console.assert(Array.isArray(wasmModulesToShare()));
 * ```
 */
export function wasmModulesToShare(): Array<[string, WebAssembly.Module]> {
  const out: Array<[string, WebAssembly.Module]> = [];
  for (const [name, assemble] of shared) {
    let module = modules.get(name);
    if (module === undefined) {
      try {
        module = new WebAssembly.Module(assemble().bytes());
      } catch {
        shared.delete(name); // not here: the workers compile their own
        continue;
      }
      modules.set(name, module);
    }
    out.push([name, module]);
  }
  return out;
}

/**
 * Takes the compiled modules a pool posted to this worker ({@linkcode wasmModulesToShare}).
 *
 * @param entries name and compiled module of each (anything else is ignored)
 * @example
 * ```ts
 * import { adoptWasmModules } from "./wasm_module.ts";
 * adoptWasmModules([]);
 * ```
 */
export function adoptWasmModules(entries: readonly unknown[]): void {
  for (const entry of entries) {
    if (!Array.isArray(entry)) continue;
    const [name, module] = entry as unknown[];
    if (typeof name === "string" && module instanceof WebAssembly.Module) {
      if (!modules.has(name)) modules.set(name, module);
    }
  }
}

/**
 * Instantiates a module this realm compiled or was handed ({@linkcode adoptWasmModules})
 * under `name`, without assembling it.
 *
 * @param name the module's name
 * @returns the instance, or undefined when no such module is here or it does not instantiate
 * @example
 * ```ts
 * import { instantiateCompiledWasm } from "./wasm_module.ts";
 * console.assert(instantiateCompiledWasm("no such module") === undefined);
 * ```
 */
export function instantiateCompiledWasm(name: string): WasmInstance | undefined {
  const module = modules.get(name);
  if (module === undefined) return undefined;
  try {
    const instance = wrapInstance(new WebAssembly.Instance(module));
    compiled.set(name, true);
    return instance;
  } catch {
    modules.delete(name);
    return undefined;
  }
}

/**
 * Which assembled modules this realm has tried to instantiate, and whether each runs in
 * WebAssembly (true) or fell back to JavaScript (false): for tests and diagnostics.
 *
 * @returns module name → compiled
 */
export function wasmModuleStatus(): Record<string, boolean> {
  return Object.fromEntries(compiled);
}

interface Declared {
  name: string;
  params: readonly number[];
  results: readonly number[];
  exported: boolean;
  body?: number[];
}

/** An instantiated module: its linear memory and its exported functions. */
export interface WasmInstance {
  /** The exported linear memory (a new view is needed after {@linkcode WasmInstance.wasmMemory} grows). */
  memory: Uint8Array;
  /** The memory object itself, to grow it. */
  wasmMemory: WebAssembly.Memory;
  /** Exported functions by name (i64 results come back as bigint; avoid them). */
  exports: Record<string, (...args: number[]) => number>;
}

/**
 * Builds a module of several functions that may call each other (`call` takes the index
 * {@linkcode WasmModuleBuilder.declare} returned), with one exported memory.
 *
 * @example
 * ```ts
 * import { I32, OP, WasmModuleBuilder } from "./wasm_module.ts";
 * const m = new WasmModuleBuilder(1);
 * const add = m.declare("add", [I32, I32], [I32]);
 * m.define(add, [], [OP.localGet, 0, OP.localGet, 1, OP.i32Add]);
 * const sum = m.instantiate("example")?.exports.add?.(2, 3);
 * console.assert(sum === undefined || sum === 5);
 * ```
 */
export class WasmModuleBuilder {
  readonly #pages: number;
  readonly #functions: Declared[] = [];

  /** @param pages pages (64 KiB) of exported linear memory */
  constructor(pages: number) {
    this.#pages = pages;
  }

  /**
   * Declares a function; define its body later with {@linkcode define}.
   *
   * @param name export name (and name in errors)
   * @param params parameter types
   * @param results result types (at most one)
   * @param exported whether JavaScript may call it (default true)
   * @returns the function index, for `call`
   */
  declare(
    name: string,
    params: readonly number[],
    results: readonly number[] = [],
    exported = true,
  ): number {
    this.#functions.push({ name, params, results, exported });
    return this.#functions.length - 1;
  }

  /**
   * Gives a declared function its body.
   *
   * @param index what {@linkcode declare} returned
   * @param locals extra locals after the parameters, as [count, type] runs
   * @param code the instructions, without the final `end`
   */
  define(
    index: number,
    locals: readonly (readonly [number, number])[],
    code: readonly number[],
  ): void {
    const fn = this.#functions[index];
    if (fn === undefined) throw new RangeError(`No function ${index} was declared`);
    fn.body = [
      locals.length,
      ...locals.flatMap(([count, type]) => [...unsignedLeb(count), type]),
      ...code,
      OP.end,
    ];
  }

  /**
   * Assembles and instantiates the module synchronously.
   *
   * @param name the module's name in {@linkcode wasmModuleStatus}
   * @returns the instance, or undefined when the platform has no WebAssembly or refuses
   *   to compile (a content security policy, for instance)
   */
  instantiate(name: string): WasmInstance | undefined {
    const bytes = this.#bytes();
    try {
      const module = new WebAssembly.Module(bytes);
      const instance = wrapInstance(new WebAssembly.Instance(module));
      compiled.set(name, true);
      if (shared.has(name)) modules.set(name, module); // for the workers a pool starts
      return instance;
    } catch {
      compiled.set(name, false);
      return undefined;
    }
  }

  /**
   * Assembles and instantiates the module asynchronously: what a browser's main thread
   * needs, where Chrome refuses synchronous compilation of modules over 4 KB.
   *
   * @param name the module's name in {@linkcode wasmModuleStatus}
   * @returns the instance, or undefined when the platform has no WebAssembly or refuses
   *   to compile (a content security policy without 'wasm-unsafe-eval', for instance)
   */
  async instantiateAsync(name: string): Promise<WasmInstance | undefined> {
    try {
      const module = await WebAssembly.compile(this.#bytes());
      const instance = wrapInstance(await WebAssembly.instantiate(module));
      compiled.set(name, true);
      if (shared.has(name)) modules.set(name, module); // for the workers a pool starts
      return instance;
    } catch {
      compiled.set(name, false);
      return undefined;
    }
  }

  /**
   * The module's bytes (WebAssembly binary format).
   *
   * @returns the bytes
   */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#bytes();
  }

  #bytes(): Uint8Array<ArrayBuffer> {
    const fns = this.#functions;
    const types = fns.map((
      f,
    ) => [0x60, f.params.length, ...f.params, f.results.length, ...f.results]);
    const exported = fns.flatMap((f, i) =>
      f.exported ? [[...exportName(f.name), 0, ...unsignedLeb(i)]] : []
    );
    const bodies = fns.map((f) => {
      if (f.body === undefined) throw new RangeError(`Function '${f.name}' has no body`);
      return [...unsignedLeb(f.body.length), ...f.body];
    });
    const bytes = new Uint8Array([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
      ...section(1, [...unsignedLeb(fns.length), ...types.flat()]), // one type per function
      ...section(3, [...unsignedLeb(fns.length), ...fns.flatMap((_, i) => unsignedLeb(i))]),
      ...section(5, [1, 0, ...unsignedLeb(this.#pages)]), // one memory
      ...section(7, [
        ...unsignedLeb(exported.length + 1),
        ...exportName("memory"),
        2,
        0,
        ...exported.flat(),
      ]),
      ...section(10, [...unsignedLeb(fns.length), ...bodies.flat()]),
    ]);
    return bytes;
  }
}

function wrapInstance(instance: WebAssembly.Instance): WasmInstance {
  const { memory, ...functions } = instance.exports as Record<string, unknown>;
  const wasmMemory = memory as WebAssembly.Memory;
  return {
    memory: new Uint8Array(wasmMemory.buffer),
    wasmMemory,
    exports: functions as WasmInstance["exports"],
  };
}

/**
 * Assembles a module exporting `memory` and one function `run` with no result, and
 * instantiates it synchronously.
 *
 * @param name the module's name in {@linkcode wasmModuleStatus}
 * @param fn the function
 * @returns the instance's memory and function, or undefined when the platform has no
 *   WebAssembly or refuses to compile (a content security policy, for instance)
 */
export function instantiateWasm<F extends (...args: number[]) => void>(
  name: string,
  fn: WasmFunction,
): { memory: Uint8Array; run: F } | undefined {
  const m = new WasmModuleBuilder(fn.pages);
  m.define(m.declare("run", fn.params), fn.locals, fn.code);
  const instance = m.instantiate(name);
  return instance && { memory: instance.memory, run: instance.exports.run as unknown as F };
}
