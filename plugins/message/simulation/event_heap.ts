/**
 * The event queue of the simulation: a binary min-heap of (time, id) pairs over typed
 * arrays, so millions of packets in flight cost 12 bytes each and no garbage.
 *
 * @module
 */

/**
 * A min-heap keyed by event time; ties leave in an unspecified but deterministic order.
 *
 * @example
 * ```ts
 * import { EventHeap } from "./event_heap.ts";
 * const heap = new EventHeap();
 * heap.push(2, 20);
 * heap.push(1, 10);
 * console.assert(heap.peekTime() === 1 && heap.pop() === 10 && heap.pop() === 20);
 * ```
 */
export class EventHeap {
  #times: Float64Array;
  #ids: Int32Array;
  #size = 0;

  /**
   * Creates an empty heap.
   *
   * @param capacity initial capacity (it grows as needed)
   */
  constructor(capacity = 1024) {
    this.#times = new Float64Array(Math.max(2, capacity));
    this.#ids = new Int32Array(Math.max(2, capacity));
  }

  /** Number of events queued. */
  get size(): number {
    return this.#size;
  }

  /**
   * The time of the earliest event.
   *
   * @returns its time, or Infinity when the heap is empty
   */
  peekTime(): number {
    return this.#size === 0 ? Infinity : this.#times[0]!;
  }

  /**
   * Queues an event.
   *
   * @param time when it happens
   * @param id what happens (an index into the caller's tables)
   */
  push(time: number, id: number): void {
    if (this.#size === this.#times.length) this.#grow();
    const times = this.#times;
    const ids = this.#ids;
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt <= time) break;
      times[i] = pt;
      ids[i] = ids[parent]!;
      i = parent;
    }
    times[i] = time;
    ids[i] = id;
  }

  /**
   * Removes the earliest event.
   *
   * @returns its id (call {@linkcode EventHeap.peekTime} first for its time); -1 when empty
   */
  pop(): number {
    if (this.#size === 0) return -1;
    const times = this.#times;
    const ids = this.#ids;
    const top = ids[0]!;
    const size = --this.#size;
    if (size === 0) return top;
    const time = times[size]!;
    const id = ids[size]!;
    let i = 0;
    const half = size >> 1;
    while (i < half) {
      let child = 2 * i + 1;
      let ct = times[child]!;
      const right = child + 1;
      if (right < size) {
        const rt = times[right]!;
        if (rt < ct) {
          child = right;
          ct = rt;
        }
      }
      if (ct >= time) break;
      times[i] = ct;
      ids[i] = ids[child]!;
      i = child;
    }
    times[i] = time;
    ids[i] = id;
    return top;
  }

  #grow(): void {
    const times = new Float64Array(this.#times.length * 2);
    const ids = new Int32Array(this.#ids.length * 2);
    times.set(this.#times);
    ids.set(this.#ids);
    this.#times = times;
    this.#ids = ids;
  }
}
