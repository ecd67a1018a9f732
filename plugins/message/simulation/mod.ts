/**
 * Discrete-event simulation of Loopix-style anonymous messaging: latency, per-node load,
 * cover-traffic overhead and the sender anonymity (entropy in bits) of target messages
 * against a global passive adversary. docs/message-simulation.md describes the model.
 *
 * @example
 * ```ts
 * import { LOOPIX_SIMULATION_DEFAULTS, simulateLoopix } from "./mod.ts";
 * const r = await simulateLoopix({ ...LOOPIX_SIMULATION_DEFAULTS, users: 300, duration: 5 });
 * console.assert(r.traffic.overhead > 1);
 * ```
 *
 * @module
 */

export * from "./simulate.ts";
export { EventHeap } from "./event_heap.ts";
export { SimulationRandom } from "./prng.ts";
