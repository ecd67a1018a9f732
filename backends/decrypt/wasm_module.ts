/**
 * A tiny WebAssembly assembler for the hash compression functions of this backend
 * (./blake2b.ts, ./hmac_sha256.ts, ./chacha20.ts): the bytecode is built from readable TypeScript at load time,
 * so the repository holds no binary blob. Encodings follow the WebAssembly core
 * specification §5 (binary format).
 *
 * @module
 */

/** Opcodes used by the compression functions (WebAssembly core specification §5.4). */
export const OP = {
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  i32Load8U: 0x2d,
  i32Store: 0x36,
  i64Store: 0x37,
  i32Const: 0x41,
  i64Const: 0x42,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  i32Rotl: 0x77,
  i32Rotr: 0x78,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Xor: 0x85,
  i64Rotr: 0x8a,
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

/** Shape of the single function a module exports. */
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
 * Which assembled modules this realm has tried to instantiate, and whether each runs in
 * WebAssembly (true) or fell back to JavaScript (false): for tests and diagnostics.
 *
 * @returns module name → compiled
 */
export function wasmModuleStatus(): Record<string, boolean> {
  return Object.fromEntries(compiled);
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
  const body = [
    fn.locals.length,
    ...fn.locals.flatMap(([count, type]) => [...unsignedLeb(count), type]),
    ...fn.code,
    OP.end,
  ];
  const bytes = new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    ...section(1, [1, 0x60, fn.params.length, ...fn.params, 0]), // type 0: params → ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0, ...unsignedLeb(fn.pages)]), // one memory of fn.pages pages
    ...section(7, [2, ...exportName("memory"), 2, 0, ...exportName("run"), 0, 0]),
    ...section(10, [1, ...unsignedLeb(body.length), ...body]),
  ]);
  try {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const { memory, run } = exports as { memory: WebAssembly.Memory; run: F };
    compiled.set(name, true);
    return { memory: new Uint8Array(memory.buffer), run };
  } catch {
    compiled.set(name, false);
    return undefined;
  }
}
