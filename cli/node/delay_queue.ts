/**
 * The Sphinx node's delay queue in memory: a binary min-heap of packets ordered by release
 * time (then by row id), so the dispatcher takes the due packets without reading the store.
 * The `sphinx_queue` table stays the crash journal: a packet enters this heap only once its
 * row is committed, leaves it when it is released, and the heap is refilled from the table
 * when the node starts.
 *
 * @module
 */

/** A queued packet (a row of `sphinx_queue`). */
export interface QueuedPacket {
  /** Row id in `sphinx_queue`. */
  id: number;
  /** When to release it (ms since the epoch). */
  releaseAt: number;
  /** "forward", "deliver" or "reply". */
  kind: string;
  /** Next hop (forward) or recipient (deliver, reply). */
  target: Uint8Array;
  /** The packet to forward, or the delivered message. */
  packet: Uint8Array;
  /** SURB id of a reply. */
  surbId: Uint8Array | null;
}

function before(a: QueuedPacket, b: QueuedPacket): boolean {
  return a.releaseAt < b.releaseAt || (a.releaseAt === b.releaseAt && a.id < b.id);
}

/**
 * Packets by release time.
 *
 * @example
 * ```ts
 * import { DelayQueue } from "./delay_queue.ts";
 * const q = new DelayQueue();
 * const p = (id: number, releaseAt: number) =>
 *   ({ id, releaseAt, kind: "forward", target: new Uint8Array(32), packet: new Uint8Array(1), surbId: null });
 * q.push(p(1, 30));
 * q.push(p(2, 10));
 * console.assert(q.nextAt() === 10 && q.takeDue(20, 10).map((x) => x.id).join() === "2");
 * ```
 */
export class DelayQueue {
  #heap: QueuedPacket[] = [];

  /** Packets held. */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Adds a packet.
   *
   * @param item the packet
   */
  push(item: QueuedPacket): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  /**
   * Release time of the earliest packet.
   *
   * @returns ms since the epoch, or undefined when empty
   */
  nextAt(): number | undefined {
    return this.#heap[0]?.releaseAt;
  }

  /**
   * Removes and returns the packets due at `now`, earliest first.
   *
   * @param now the clock (ms)
   * @param limit most packets to take
   * @returns the due packets
   */
  takeDue(now: number, limit: number): QueuedPacket[] {
    const out: QueuedPacket[] = [];
    while (out.length < limit && this.#heap.length > 0 && this.#heap[0]!.releaseAt <= now) {
      out.push(this.#pop());
    }
    return out;
  }

  #pop(): QueuedPacket {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}
