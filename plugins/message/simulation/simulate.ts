/**
 * A discrete-event simulation of Loopix-style anonymous messaging (Piotrowska, Hayes, Elahi,
 * Meiser, Danezis, "The Loopix Anonymity System", USENIX Security 2017): clients behind
 * providers, a stratified network of Poisson mixes (one node per layer per route), payload
 * slots at rate λ_P, loop and drop cover at λ_L and λ_D, mix loops at λ_M, exponential
 * per-hop delays of mean 1/μ. Packets are events; there is no cryptography.
 *
 * Sender anonymity is measured as in Piotrowska's mix-network simulator ("Studying the
 * anonymity trilemma with a discrete-event mix network simulator", WPES 2021): a global
 * passive adversary follows the probability mass of each sampled target message through
 * every mix as through a pool (on each departure the leaving packet carries the pool's mass
 * divided by the packets inside, since with exponential delays each is equally likely to
 * leave next), and the Shannon entropy of the mass over the packets leaving the network is
 * the target's anonymity in bits. docs/message-simulation.md states the model in full.
 *
 * @module
 */

import { InvalidInputError } from "../../../core/errors.ts";
import { EventHeap } from "./event_heap.ts";
import { SimulationRandom } from "./prng.ts";

/** Parameters of one simulation run (rates per second, times in seconds). */
export interface LoopixSimulationParams {
  /** Clients. */
  users: number;
  /** Providers; client `u` is registered at provider `u mod providers`. */
  providers: number;
  /** Mix layers L; a route is provider → layer 1 → … → layer L → provider. */
  layers: number;
  /** Mix nodes per layer. */
  mixesPerLayer: number;
  /** λ_P: payload slots per client per second (a real message or, if none waits, a drop). */
  payloadRate: number;
  /** λ_L: loop cover packets per client per second. */
  loopRate: number;
  /** λ_D: drop cover packets per client per second. */
  dropRate: number;
  /** λ_M: loop packets per mix node per second. */
  mixLoopRate: number;
  /** Real messages each client queues per second (Poisson); must stay below λ_P. */
  messageRate: number;
  /** μ: per-hop delay rate; each mix holds a packet Exp(μ), mean 1/μ seconds. */
  mu: number;
  /** Constant one-way latency of every link, added to each of the L + 2 links of a route. */
  linkLatency: number;
  /** Seconds simulated before measuring (fills the queues and pools). */
  warmup: number;
  /** Seconds measured after the warm-up. */
  duration: number;
  /** Target messages whose anonymity is tracked (sampled among real messages in the window). */
  targets: number;
  /** Seed of the simulation's pseudo-random stream. */
  seed: string;
}

/** Default parameters (docs/message-simulation.md explains the choice). */
export const LOOPIX_SIMULATION_DEFAULTS: Readonly<LoopixSimulationParams> = {
  users: 10_000,
  providers: 10,
  layers: 3,
  mixesPerLayer: 10,
  payloadRate: 0.5,
  loopRate: 0.1,
  dropRate: 0.1,
  mixLoopRate: 1,
  messageRate: 0.05,
  mu: 10,
  linkLatency: 0,
  warmup: 10,
  duration: 60,
  targets: 200,
  seed: "panoramix",
};

/** Summary of a sample of numbers. */
export interface Distribution {
  /** Number of values. */
  count: number;
  /** Arithmetic mean. */
  mean: number;
  /** Smallest value. */
  min: number;
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** 99.9th percentile. */
  p999: number;
  /** Largest value. */
  max: number;
}

/** Packets per second per node of one group of nodes. */
export interface NodeLoad {
  /** Mean over the nodes of the group. */
  mean: number;
  /** Least loaded node. */
  min: number;
  /** Most loaded node. */
  max: number;
}

/** What a simulation run measured. */
export interface LoopixSimulationResult {
  /** The parameters of the run. */
  params: LoopixSimulationParams;
  /** Events processed (client and mix emissions plus mix departures). */
  events: number;
  /** Simulated seconds, drain included. */
  simulatedSeconds: number;
  /** Wall-clock seconds the run took. */
  wallSeconds: number;
  /** End-to-end latency of real messages queued in the window: queue wait + mixing + links. */
  latency: Distribution & {
    /** Mean wait in the client's queue for a payload slot. */
    queueMean: number;
    /** Mean time from leaving the client to reaching the recipient's provider. */
    networkMean: number;
    /** Analytic mean: 1/(λ_P − rate) (M/M/1 slot queue) + L/μ + (L + 2) × link latency. */
    expectedMean: number;
    /** Real messages of the window not yet delivered when the run stopped. */
    undelivered: number;
  };
  /** Round-trip time of client loops sent in the window (Erlang(L, μ) plus the links). */
  loopRoundTrip: { count: number; mean: number; sd: number };
  /** Packets per second in the window, by kind, over the whole network. */
  traffic: {
    /** Real messages sent in payload slots. */
    real: number;
    /** Payload slots that found the queue empty and sent a drop. */
    emptySlot: number;
    /** Client loops λ_L. */
    loop: number;
    /** Client drops λ_D. */
    drop: number;
    /** Mix loops λ_M. */
    mixLoop: number;
    /** All packets sent per real message sent (the bandwidth overhead factor). */
    overhead: number;
    /** The same factor from the rates: (N(λ_P + λ_L + λ_D) + M λ_M) / (N × rate). */
    expectedOverhead: number;
    /** Share of packets that are cover (not a real message). */
    coverShare: number;
  };
  /** Packets per second received per node. */
  load: {
    /** Providers: packets from their clients (ingress). */
    providerIngress: NodeLoad;
    /** Providers: packets delivered from the last layer (egress), mix loops passing included. */
    providerEgress: NodeLoad;
    /** Each mix layer, first to last. */
    layers: NodeLoad[];
  };
  /** Sender anonymity of the tracked target messages against a global passive adversary. */
  anonymity: {
    /** Targets tracked to the end. */
    targets: number;
    /** Shannon entropy in bits over the packets the target may have left as: mean. */
    entropyMean: number;
    /** Lowest entropy of a target. */
    entropyMin: number;
    /** Median entropy. */
    entropyMedian: number;
    /** Highest entropy of a target. */
    entropyMax: number;
    /** 2^mean entropy: the effective number of equally likely candidates. */
    effectiveSetSize: number;
    /** Probability mass followed to an exit (1 − mass dropped below 1e-12 or still in flight). */
    massTracked: number;
  };
}

/** Progress of a run, reported about once a second. */
export interface SimulationProgress {
  /** Current simulated time. */
  simulatedTime: number;
  /** Simulated time at which measuring ends (the drain follows). */
  windowEnd: number;
  /** Events so far. */
  events: number;
  /** Packets inside mixes. */
  inFlight: number;
}

/** Options of {@linkcode simulateLoopix}. */
export interface SimulateLoopixOptions {
  /** Called about once a second of wall-clock time; awaited. */
  onProgress?: (progress: SimulationProgress) => void | Promise<void>;
}

// Packet kinds.
const REAL = 0;
const EMPTY_SLOT = 1;
const LOOP = 2;
const DROP = 3;
const MIX_LOOP = 4;
const KINDS = 5;

/** Mass below this is dropped from the adversary's tracking (counted as untracked). */
const MASS_EPSILON = 1e-12;
const LOG2E = Math.LOG2E;

/**
 * Checks the parameters and names the first one that is wrong.
 *
 * @param params the parameters
 * @throws {InvalidInputError} naming the parameter
 * @example
 * ```ts
 * import { LOOPIX_SIMULATION_DEFAULTS, validateSimulationParams } from "./simulate.ts";
 * validateSimulationParams(LOOPIX_SIMULATION_DEFAULTS);
 * ```
 */
export function validateSimulationParams(params: LoopixSimulationParams): void {
  const integer = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidInputError(
        `Simulation parameter '${name}' must be an integer from ${min} to ${max}, got ${value}`,
      );
    }
  };
  const rate = (name: string, value: number, positive: boolean) => {
    if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
      throw new InvalidInputError(
        `Simulation parameter '${name}' must be a ${
          positive ? "positive" : "non-negative"
        } finite number, got ${value}`,
      );
    }
  };
  integer("users", params.users, 1, 50_000_000);
  integer("providers", params.providers, 1, 100_000);
  integer("layers", params.layers, 1, 16);
  integer("mixesPerLayer", params.mixesPerLayer, 1, 100_000);
  integer("targets", params.targets, 0, 100_000);
  rate("payloadRate", params.payloadRate, false);
  rate("loopRate", params.loopRate, false);
  rate("dropRate", params.dropRate, false);
  rate("mixLoopRate", params.mixLoopRate, false);
  rate("messageRate", params.messageRate, false);
  rate("mu", params.mu, true);
  rate("linkLatency", params.linkLatency, false);
  rate("warmup", params.warmup, false);
  rate("duration", params.duration, true);
  if (params.providers > params.users) {
    throw new InvalidInputError(
      `Simulation parameter 'providers' (${params.providers}) must not exceed 'users' (${params.users})`,
    );
  }
  if (params.messageRate > 0 && !(params.messageRate < params.payloadRate)) {
    throw new InvalidInputError(
      `Simulation parameter 'messageRate' (${params.messageRate}/s) must be below the payload ` +
        `rate λ_P (${params.payloadRate}/s), or the clients' queues grow without bound`,
    );
  }
  const total = params.users * (params.payloadRate + params.loopRate + params.dropRate) +
    params.layers * params.mixesPerLayer * params.mixLoopRate;
  if (!(total > 0)) {
    throw new InvalidInputError("Simulation parameters give no traffic: every rate is zero");
  }
}

/**
 * Sorted-sample summary.
 *
 * @param values the sample (sorted in place)
 * @returns count, mean and percentiles (zeros for an empty sample)
 */
function summarize(values: Float64Array): Distribution {
  const n = values.length;
  if (n === 0) return { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  values.sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const q = (p: number) => values[Math.min(n - 1, Math.floor(p * n))]!;
  return {
    count: n,
    mean: sum / n,
    min: values[0]!,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    p999: q(0.999),
    max: values[n - 1]!,
  };
}

function nodeLoad(counts: Float64Array, from: number, to: number, seconds: number): NodeLoad {
  let sum = 0, min = Infinity, max = 0;
  for (let i = from; i < to; i++) {
    const v = counts[i]! / seconds;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { mean: sum / (to - from), min, max };
}

/** A growable list of numbers in a Float64Array. */
class Samples {
  #data = new Float64Array(1024);
  #length = 0;
  push(value: number): void {
    if (this.#length === this.#data.length) {
      const data = new Float64Array(this.#data.length * 2);
      data.set(this.#data);
      this.#data = data;
    }
    this.#data[this.#length++] = value;
  }
  get length(): number {
    return this.#length;
  }
  values(): Float64Array {
    return this.#data.slice(0, this.#length);
  }
}

/** Packets in flight, as columns of typed arrays with a free list. */
class PacketTable {
  kind = new Uint8Array(0);
  layer = new Uint8Array(0);
  hopsLeft = new Uint8Array(0);
  inWindow = new Uint8Array(0);
  node = new Int32Array(0);
  dest = new Int32Array(0);
  created = new Float64Array(0);
  sent = new Float64Array(0);
  #free = new Int32Array(0);
  #freeCount = 0;

  constructor(capacity: number) {
    this.#resize(capacity);
    for (let i = capacity - 1; i >= 0; i--) this.#free[this.#freeCount++] = i;
  }

  allocate(): number {
    if (this.#freeCount === 0) {
      const old = this.kind.length;
      this.#resize(old * 2);
      for (let i = old * 2 - 1; i >= old; i--) this.#free[this.#freeCount++] = i;
    }
    return this.#free[--this.#freeCount]!;
  }

  release(id: number): void {
    this.#free[this.#freeCount++] = id;
  }

  #resize(capacity: number): void {
    const grow = <T extends Uint8Array | Int32Array | Float64Array>(
      a: T,
      make: (n: number) => T,
    ) => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.kind = grow(this.kind, (n) => new Uint8Array(n));
    this.layer = grow(this.layer, (n) => new Uint8Array(n));
    this.hopsLeft = grow(this.hopsLeft, (n) => new Uint8Array(n));
    this.inWindow = grow(this.inWindow, (n) => new Uint8Array(n));
    this.node = grow(this.node, (n) => new Int32Array(n));
    this.dest = grow(this.dest, (n) => new Int32Array(n));
    this.created = grow(this.created, (n) => new Float64Array(n));
    this.sent = grow(this.sent, (n) => new Float64Array(n));
    const free = new Int32Array(capacity);
    free.set(this.#free.subarray(0, this.#freeCount));
    this.#free = free;
  }
}

/** Per-client FIFO queues of real messages waiting for a payload slot (linked lists). */
class MessageQueues {
  #head: Int32Array;
  #tail: Int32Array;
  #next = new Int32Array(1024);
  #time = new Float64Array(1024);
  #free = new Int32Array(1024);
  #freeCount = 0;
  #used = 0;

  constructor(users: number) {
    this.#head = new Int32Array(users).fill(-1);
    this.#tail = new Int32Array(users).fill(-1);
  }

  enqueue(user: number, time: number): void {
    let id: number;
    if (this.#freeCount > 0) id = this.#free[--this.#freeCount]!;
    else {
      if (this.#used === this.#next.length) this.#grow();
      id = this.#used++;
    }
    this.#time[id] = time;
    this.#next[id] = -1;
    const tail = this.#tail[user]!;
    if (tail < 0) this.#head[user] = id;
    else this.#next[tail] = id;
    this.#tail[user] = id;
  }

  /** Removes the oldest message of `user`; returns its queueing time, or -1 when empty. */
  dequeue(user: number): number {
    const id = this.#head[user]!;
    if (id < 0) return -1;
    const next = this.#next[id]!;
    this.#head[user] = next;
    if (next < 0) this.#tail[user] = -1;
    if (this.#freeCount === this.#free.length) {
      const free = new Int32Array(this.#free.length * 2);
      free.set(this.#free);
      this.#free = free;
    }
    this.#free[this.#freeCount++] = id;
    return this.#time[id]!;
  }

  #grow(): void {
    const next = new Int32Array(this.#next.length * 2);
    next.set(this.#next);
    this.#next = next;
    const time = new Float64Array(this.#time.length * 2);
    time.set(this.#time);
    this.#time = time;
  }
}

/**
 * The adversary's view: for each mix, the probability mass of each target inside its pool,
 * kept sparse (a list of the targets present per mix).
 */
export class TargetMassTracker {
  readonly #targets: number;
  readonly #mass: Float64Array;
  readonly #active: Int32Array;
  readonly #activeCount: Int32Array;
  readonly #present: Uint8Array;
  /** Entropy accumulated per target: Σ −s log2 s over the shares that left the network. */
  readonly entropy: Float64Array;
  /** Mass per target that left the network. */
  readonly exited: Float64Array;
  /** Mass dropped because it fell below the tracking threshold. */
  untracked = 0;

  /**
   * Creates a tracker.
   *
   * @param mixes number of mix nodes
   * @param targets number of target messages
   */
  constructor(mixes: number, targets: number) {
    this.#targets = targets;
    const size = mixes * Math.max(1, targets);
    this.#mass = new Float64Array(size);
    this.#active = new Int32Array(size);
    this.#activeCount = new Int32Array(mixes);
    this.#present = new Uint8Array(size);
    this.entropy = new Float64Array(targets);
    this.exited = new Float64Array(targets);
  }

  /**
   * A packet known to be target `target` enters mix `mix` (mass 1).
   *
   * @param mix the mix index
   * @param target the target index
   * @param mass the mass the packet carries
   */
  add(mix: number, target: number, mass: number): void {
    const slot = mix * this.#targets + target;
    if (this.#present[slot] === 0) {
      this.#present[slot] = 1;
      this.#active[mix * this.#targets + this.#activeCount[mix]!++] = target;
    }
    this.#mass[slot]! += mass;
  }

  /**
   * A packet leaves `mix`, which held `count` packets: it carries 1/count of each target's
   * mass in the pool, into mix `next` or, when `next` is -1, out of the network.
   *
   * @param mix the mix it leaves
   * @param count packets in the mix before it left (≥ 1)
   * @param next the mix it enters, or -1 when it leaves the network
   */
  depart(mix: number, count: number, next: number): void {
    let n = this.#activeCount[mix]!;
    if (n === 0) return;
    const k0 = mix * this.#targets;
    const inv = 1 / count;
    let i = 0;
    while (i < n) {
      const target = this.#active[k0 + i]!;
      const slot = k0 + target;
      const mass = this.#mass[slot]!;
      const share = mass * inv;
      const rest = mass - share;
      if (rest < MASS_EPSILON) {
        this.untracked += rest;
        this.#mass[slot] = 0;
        this.#present[slot] = 0;
        this.#active[k0 + i] = this.#active[k0 + --n]!;
      } else {
        this.#mass[slot] = rest;
        i++;
      }
      if (share < MASS_EPSILON) this.untracked += share;
      else if (next >= 0) this.add(next, target, share);
      else this.exit(target, share);
    }
    this.#activeCount[mix] = n;
  }

  /**
   * Mass of a target leaves the network on one packet.
   *
   * @param target the target index
   * @param share the mass that packet carries
   */
  exit(target: number, share: number): void {
    this.entropy[target]! -= share * Math.log(share) * LOG2E;
    this.exited[target]! += share;
  }

  /** Total mass still inside mixes. */
  inside(): number {
    let sum = 0;
    for (let mix = 0; mix < this.#activeCount.length; mix++) {
      const k0 = mix * this.#targets;
      for (let i = 0; i < this.#activeCount[mix]!; i++) {
        sum += this.#mass[k0 + this.#active[k0 + i]!]!;
      }
    }
    return sum;
  }
}

/**
 * Runs the simulation.
 *
 * @param params the parameters (see {@linkcode LOOPIX_SIMULATION_DEFAULTS})
 * @param options a progress callback
 * @returns latency, load, traffic and anonymity figures
 * @throws {InvalidInputError} when a parameter is out of range
 * @example
 * ```ts
 * import { LOOPIX_SIMULATION_DEFAULTS, simulateLoopix } from "./simulate.ts";
 * const result = await simulateLoopix({ ...LOOPIX_SIMULATION_DEFAULTS, users: 500, duration: 5 });
 * console.assert(result.latency.count > 0 && result.anonymity.entropyMean > 0);
 * ```
 */
export async function simulateLoopix(
  params: LoopixSimulationParams,
  options: SimulateLoopixOptions = {},
): Promise<LoopixSimulationResult> {
  validateSimulationParams(params);
  const started = performance.now();
  const {
    users: N,
    providers: P,
    layers: L,
    mixesPerLayer: W,
    mu,
    warmup,
    duration,
  } = params;
  const M = L * W;
  const rng = new SimulationRandom(params.seed);
  const windowStart = warmup;
  const windowEnd = warmup + duration;
  // Long enough for the targets' mass to leave (Erlang(L, μ) tail below ~1e-5) and for the
  // window's messages to leave their queues (M/M/1 sojourn tail).
  const slotGap = params.messageRate > 0 ? 1 / (params.payloadRate - params.messageRate) : 0;
  const drainEnd = windowEnd + (L + 15) / mu + 15 * slotGap;

  // External Poisson streams, merged (a superposition of Poisson processes is Poisson).
  const rateMessage = N * params.messageRate;
  const rateSlot = N * params.payloadRate;
  const rateLoop = N * params.loopRate;
  const rateDrop = N * params.dropRate;
  const rateMixLoop = M * params.mixLoopRate;
  const rateTotal = rateMessage + rateSlot + rateLoop + rateDrop + rateMixLoop;
  const cut1 = rateMessage / rateTotal;
  const cut2 = (rateMessage + rateSlot) / rateTotal;
  const cut3 = (rateMessage + rateSlot + rateLoop) / rateTotal;
  const cut4 = (rateMessage + rateSlot + rateLoop + rateDrop) / rateTotal;

  // Target sampling: spread `targets` over the real messages expected in the window.
  const expectedReal = rateMessage * duration;
  const targetChance = expectedReal > 0 ? Math.min(1, (1.5 * params.targets) / expectedReal) : 0;
  let targetsAssigned = 0;
  const tracker = new TargetMassTracker(M, params.targets);

  const heap = new EventHeap(1 << 16);
  const packets = new PacketTable(1 << 16);
  const queues = new MessageQueues(N);
  const inMix = new Int32Array(M);
  const mixArrivals = new Float64Array(M);
  const providerIngress = new Float64Array(P);
  const providerEgress = new Float64Array(P);
  const sentByKind = new Float64Array(KINDS);
  const latencies = new Samples();
  let queueWaitSum = 0;
  let networkSum = 0;
  let windowMessagesPending = 0;
  let loopCount = 0;
  let loopSum = 0;
  let loopSumSq = 0;
  const linkTotal = (L + 2) * params.linkLatency;

  /** A packet enters mix `mix` (global index) at time `t`. */
  const enterMix = (p: number, mix: number, t: number, counted: boolean) => {
    inMix[mix]!++;
    if (counted) mixArrivals[mix]!++;
    packets.node[p] = mix;
    heap.push(t + rng.exponential(mu), p);
  };

  const sendClientPacket = (
    kind: number,
    user: number,
    destProvider: number,
    created: number,
    t: number,
    counted: boolean,
  ) => {
    const p = packets.allocate();
    packets.kind[p] = kind;
    packets.layer[p] = 0;
    packets.hopsLeft[p] = L;
    packets.dest[p] = destProvider;
    packets.created[p] = created;
    packets.sent[p] = t;
    packets.inWindow[p] = counted ? 1 : 0;
    if (counted) {
      providerIngress[user % P]!++;
      sentByKind[kind]!++;
    }
    const mix = rng.below(W);
    enterMix(p, mix, t, counted);
    return mix;
  };

  let events = 0;
  let t = 0;
  let nextExternal = rng.exponential(rateTotal);
  let lastReport = performance.now();
  const onProgress = options.onProgress;

  for (;;) {
    const heapTime = heap.peekTime();
    if (nextExternal <= heapTime) {
      t = nextExternal;
      if (t >= drainEnd) break;
      nextExternal = t + rng.exponential(rateTotal);
      const counted = t >= windowStart && t < windowEnd;
      const u = rng.uniform();
      if (u < cut1) {
        queues.enqueue(rng.below(N), t);
        if (counted) windowMessagesPending++;
      } else if (u < cut2) {
        const user = rng.below(N);
        const created = queues.dequeue(user);
        if (created >= 0) {
          const recipient = rng.below(N);
          const mix = sendClientPacket(REAL, user, recipient % P, created, t, counted);
          if (
            counted && targetsAssigned < params.targets && rng.uniform() < targetChance
          ) {
            tracker.add(mix, targetsAssigned++, 1);
          }
        } else {
          sendClientPacket(EMPTY_SLOT, user, rng.below(P), t, t, counted);
        }
      } else if (u < cut3) {
        const user = rng.below(N);
        sendClientPacket(LOOP, user, user % P, t, t, counted);
      } else if (u < cut4) {
        sendClientPacket(DROP, rng.below(N), rng.below(P), t, t, counted);
      } else {
        // A mix loop leaves its mix for the next layers, wrapping through a provider, and
        // comes back after visiting every other layer once.
        const origin = rng.below(M);
        const layer = Math.floor(origin / W);
        if (counted) sentByKind[MIX_LOOP]!++;
        if (layer === L - 1 && counted) providerEgress[rng.below(P)]!++;
        if (L > 1) {
          const p = packets.allocate();
          const next = (layer + 1) % L;
          packets.kind[p] = MIX_LOOP;
          packets.layer[p] = next;
          packets.hopsLeft[p] = L - 1;
          packets.dest[p] = origin;
          packets.created[p] = t;
          packets.sent[p] = t;
          packets.inWindow[p] = counted ? 1 : 0;
          enterMix(p, next * W + rng.below(W), t, counted);
        }
      }
    } else {
      t = heapTime;
      if (t >= drainEnd) break;
      const p = heap.pop();
      const mix = packets.node[p]!;
      const count = inMix[mix]!--;
      const layer = packets.layer[p]!;
      const hopsLeft = packets.hopsLeft[p]! - 1;
      const kind = packets.kind[p]!;
      const counted = t >= windowStart && t < windowEnd;
      if (hopsLeft > 0) {
        const nextLayer = layer + 1 === L ? 0 : layer + 1;
        if (nextLayer === 0 && counted) providerEgress[rng.below(P)]!++;
        const next = nextLayer * W + rng.below(W);
        tracker.depart(mix, count, next);
        packets.layer[p] = nextLayer;
        packets.hopsLeft[p] = hopsLeft;
        enterMix(p, next, t, counted);
      } else {
        // The route ends: at the destination provider, or back at the mix that sent a loop.
        tracker.depart(mix, count, -1);
        if (kind !== MIX_LOOP) {
          if (counted) providerEgress[packets.dest[p]!]!++;
          if (kind === REAL) {
            const created = packets.created[p]!;
            if (created >= windowStart && created < windowEnd) {
              const sent = packets.sent[p]!;
              latencies.push(t - created + linkTotal);
              queueWaitSum += sent - created;
              networkSum += t - sent + linkTotal;
              windowMessagesPending--;
            }
          } else if (kind === LOOP && packets.inWindow[p] === 1) {
            loopCount++;
            const rtt = t - packets.sent[p]! + linkTotal;
            loopSum += rtt;
            loopSumSq += rtt * rtt;
          }
        } else if (layer === L - 1 && counted) {
          providerEgress[rng.below(P)]!++;
        }
        packets.release(p);
      }
    }
    events++;
    if ((events & 0xffff) === 0) {
      if (t >= windowEnd && windowMessagesPending === 0 && tracker.inside() === 0) break;
      const now = performance.now();
      if (onProgress && now - lastReport >= 1000) {
        lastReport = now;
        await onProgress({ simulatedTime: t, windowEnd, events, inFlight: heap.size });
      }
    }
  }

  const latencySummary = summarize(latencies.values());
  const delivered = latencies.length;
  const entropies: number[] = [];
  let massSum = 0;
  for (let k = 0; k < targetsAssigned; k++) {
    entropies.push(tracker.entropy[k]!);
    massSum += tracker.exited[k]!;
  }
  entropies.sort((a, b) => a - b);
  const entropyMean = entropies.length > 0
    ? entropies.reduce((a, b) => a + b, 0) / entropies.length
    : 0;
  const perSecond = (x: number) => x / duration;
  const sentTotal = sentByKind.reduce((a, b) => a + b, 0);
  const expectedOverhead = params.messageRate > 0
    ? (N * (params.payloadRate + params.loopRate + params.dropRate) + M * params.mixLoopRate) /
      (N * params.messageRate)
    : Infinity;
  return {
    params: { ...params },
    events,
    simulatedSeconds: t,
    wallSeconds: (performance.now() - started) / 1000,
    latency: {
      ...latencySummary,
      queueMean: delivered > 0 ? queueWaitSum / delivered : 0,
      networkMean: delivered > 0 ? networkSum / delivered : 0,
      expectedMean: slotGap + L / mu + linkTotal,
      undelivered: windowMessagesPending,
    },
    loopRoundTrip: {
      count: loopCount,
      mean: loopCount > 0 ? loopSum / loopCount : 0,
      sd: loopCount > 1
        ? Math.sqrt(Math.max(0, (loopSumSq - (loopSum * loopSum) / loopCount) / (loopCount - 1)))
        : 0,
    },
    traffic: {
      real: perSecond(sentByKind[REAL]!),
      emptySlot: perSecond(sentByKind[EMPTY_SLOT]!),
      loop: perSecond(sentByKind[LOOP]!),
      drop: perSecond(sentByKind[DROP]!),
      mixLoop: perSecond(sentByKind[MIX_LOOP]!),
      overhead: sentByKind[REAL]! > 0 ? sentTotal / sentByKind[REAL]! : Infinity,
      expectedOverhead,
      coverShare: sentTotal > 0 ? 1 - sentByKind[REAL]! / sentTotal : 0,
    },
    load: {
      providerIngress: nodeLoad(providerIngress, 0, P, duration),
      providerEgress: nodeLoad(providerEgress, 0, P, duration),
      layers: Array.from(
        { length: L },
        (_, l) => nodeLoad(mixArrivals, l * W, (l + 1) * W, duration),
      ),
    },
    anonymity: {
      targets: targetsAssigned,
      entropyMean,
      entropyMin: entropies[0] ?? 0,
      entropyMedian: entropies[Math.floor(entropies.length / 2)] ?? 0,
      entropyMax: entropies[entropies.length - 1] ?? 0,
      effectiveSetSize: 2 ** entropyMean,
      massTracked: targetsAssigned > 0 ? massSum / targetsAssigned : 0,
    },
  };
}
