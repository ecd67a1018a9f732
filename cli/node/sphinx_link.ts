/**
 * Persistent connections for Sphinx packets: TCP with length-prefixed frames.
 * A sender writes `u32be(length) || packet` frames back to back (pipelining); the
 * receiver answers each frame, in order, with one status byte, sent only once the
 * packet is committed to its store (or rejected).
 *
 * @module
 */

import { PanoramixError } from "../../core/errors.ts";

/** Status byte the receiver answers each packet with. */
export const SPHINX_STATUS = {
  /** Accepted and committed. */
  accepted: 0,
  /** Malformed (wrong size, version, non-canonical element). */
  invalid: 1,
  /** Replay tag seen before. */
  replay: 2,
  /** No key for the packet's key id (expired or unknown epoch). */
  unknownKey: 3,
  /** Queue full or client over its rate: retry later. */
  busy: 4,
  /** Header MAC or payload integrity check failed. */
  badMac: 5,
  /** Internal error at the receiver. */
  internal: 6,
} as const;

/** Largest frame a receiver accepts (65,536-byte payload plus header). */
export const MAX_FRAME: number = 65536 + 1024;

/**
 * Splits a byte stream into length-prefixed frames.
 *
 * @param readable the connection's readable side
 * @param maxFrame largest frame accepted
 * @returns the frames in order
 * @throws {PanoramixError} with code invalid_input when a frame is larger than maxFrame
 * @example
 * ```ts
 * import { readFrames } from "./sphinx_link.ts";
 * const stream = ReadableStream.from([new Uint8Array([0, 0, 0, 1, 7])]);
 * for await (const f of readFrames(stream, 10)) console.assert(f[0] === 7);
 * ```
 */
export async function* readFrames(
  readable: ReadableStream<Uint8Array>,
  maxFrame: number,
): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(0);
  for await (const chunk of readable) {
    const joined = new Uint8Array(buffer.length + chunk.length);
    joined.set(buffer);
    joined.set(chunk, buffer.length);
    buffer = joined;
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const length = new DataView(buffer.buffer, buffer.byteOffset + offset, 4).getUint32(0);
      if (length > maxFrame) {
        throw new PanoramixError(
          "invalid_input",
          `Frame of ${length} bytes exceeds the limit of ${maxFrame} bytes`,
        );
      }
      if (buffer.length - offset - 4 < length) break;
      yield buffer.slice(offset + 4, offset + 4 + length);
      offset += 4 + length;
    }
    buffer = buffer.slice(offset);
  }
}

/**
 * Frames one packet.
 *
 * @param packet the packet bytes
 * @returns `u32be(length) || packet`
 * @example
 * ```ts
 * import { frame } from "./sphinx_link.ts";
 * console.assert(frame(new Uint8Array(3)).length === 7);
 * ```
 */
export function frame(packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + packet.length);
  new DataView(out.buffer).setUint32(0, packet.length);
  out.set(packet, 4);
  return out;
}

/**
 * A persistent, pipelined sending connection to one node.
 *
 * @example
 * ```ts ignore
 * const link = await SphinxLink.connect("127.0.0.1:8471");
 * const status = await link.send(packet); // 0 = accepted and committed
 * link.close();
 * ```
 */
export class SphinxLink {
  #conn: Deno.Conn;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending: { resolve: (s: number) => void; reject: (e: unknown) => void }[] = [];
  #closed = false;
  #error: unknown;
  #outbox: Uint8Array[] = [];
  /** Resolves when the connection has ended. */
  readonly done: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#writer = conn.writable.getWriter();
    this.done = this.#readAcks();
  }

  /**
   * Opens a connection.
   *
   * @param address host:port
   * @returns the link
   */
  static async connect(address: string): Promise<SphinxLink> {
    const i = address.lastIndexOf(":");
    const conn = await Deno.connect({
      hostname: address.slice(0, i),
      port: Number(address.slice(i + 1)),
    });
    conn.setNoDelay(true);
    return new SphinxLink(conn);
  }

  /** True once the connection failed or was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Packets sent and not yet answered. */
  get inFlight(): number {
    return this.#pending.length;
  }

  async #readAcks(): Promise<void> {
    try {
      for await (const chunk of this.#conn.readable) {
        for (const status of chunk) this.#pending.shift()?.resolve(status);
      }
      this.#fail(new PanoramixError("unavailable", "Sphinx connection closed by the peer"));
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#closed = true;
    this.#error = error;
    for (const p of this.#pending.splice(0)) p.reject(error);
  }

  /**
   * Sends one packet and resolves with the receiver's status byte.
   *
   * @param packet the packet
   * @returns the status ({@linkcode SPHINX_STATUS})
   */
  send(packet: Uint8Array): Promise<number> {
    if (this.#closed) {
      return Promise.reject(
        this.#error ?? new PanoramixError("unavailable", "Sphinx connection is closed"),
      );
    }
    const p = new Promise<number>((resolve, reject) => this.#pending.push({ resolve, reject }));
    // Packets sent in the same turn (one release of the dispatcher) leave in one write.
    this.#outbox.push(packet);
    if (this.#outbox.length === 1) queueMicrotask(() => this.#flush());
    return p;
  }

  #flush(): void {
    const packets = this.#outbox;
    this.#outbox = [];
    if (this.#closed || packets.length === 0) return;
    let size = 0;
    for (const p of packets) size += 4 + p.length;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    let at = 0;
    for (const p of packets) {
      view.setUint32(at, p.length);
      out.set(p, at + 4);
      at += 4 + p.length;
    }
    this.#writer.write(out).catch((error) => this.#fail(error));
  }

  /** Closes the connection; unanswered sends are rejected. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#fail(new PanoramixError("unavailable", "Sphinx connection closed"));
  }
}
