import assert from "node:assert/strict";
import { InvalidInputError } from "../../../core/errors.ts";
import {
  LOOPIX_SIMULATION_DEFAULTS,
  type LoopixSimulationParams,
  type LoopixSimulationResult,
  simulateLoopix,
  TargetMassTracker,
} from "./simulate.ts";

const small: LoopixSimulationParams = {
  ...LOOPIX_SIMULATION_DEFAULTS,
  users: 2000,
  providers: 4,
  layers: 3,
  mixesPerLayer: 4,
  payloadRate: 1,
  loopRate: 0.2,
  dropRate: 0.1,
  mixLoopRate: 2,
  messageRate: 0.5,
  mu: 5,
  warmup: 20,
  duration: 200,
  targets: 50,
  seed: "test",
};

let base: LoopixSimulationResult | undefined;
async function baseRun(): Promise<LoopixSimulationResult> {
  base ??= await simulateLoopix(small);
  return base;
}

function close(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `${what}: ${actual} is not within ${100 * relative}% of ${expected}`,
  );
}

Deno.test("simulateLoopix: mean latency = M/M/1 slot wait 1/(λ_P − rate) + L/μ", async () => {
  const r = await baseRun();
  // 200,000 messages; the slot queue is M/M/1 with arrival 0.5/s and service λ_P = 1/s
  // (mean sojourn 2 s), then three exponential hops of mean 0.2 s.
  assert.ok(r.latency.count > 150_000, `${r.latency.count} messages`);
  assert.equal(r.latency.undelivered, 0);
  close(r.latency.expectedMean, 2 + 3 / 5, 1e-12, "analytic mean");
  close(r.latency.queueMean, 2, 0.04, "slot wait");
  close(r.latency.networkMean, 3 / 5, 0.015, "network time");
  close(r.latency.mean, r.latency.expectedMean, 0.04, "end-to-end mean");
  // The M/M/1 sojourn time is exponential: its median is ln 2 / (λ_P − rate) ≈ 1.39 s.
  assert.ok(r.latency.p50 < r.latency.mean && r.latency.p99 > 4 * r.latency.p50);
  close(r.loopRoundTrip.mean, 3 / 5, 0.04, "loop round trip");
  // Three Exp(μ) hops: Erlang(3, 5) with standard deviation √3 / 5.
  close(r.loopRoundTrip.sd, Math.sqrt(3) / 5, 0.05, "loop round trip sd");
});

Deno.test("simulateLoopix: cover traffic and per-node load match the rates", async () => {
  const r = await baseRun();
  const { users: N, layers: L, mixesPerLayer: W } = small;
  close(r.traffic.real, N * small.messageRate, 0.02, "real messages/s");
  close(r.traffic.real + r.traffic.emptySlot, N * small.payloadRate, 0.02, "payload slots/s");
  close(r.traffic.loop, N * small.loopRate, 0.03, "loops/s");
  close(r.traffic.drop, N * small.dropRate, 0.04, "drops/s");
  close(r.traffic.mixLoop, L * W * small.mixLoopRate, 0.05, "mix loops/s");
  // (λ_P + λ_L + λ_D)/rate + M λ_M / (N rate) = 2.6 + 0.024.
  close(r.traffic.expectedOverhead, 2.6 + (12 * 2) / 1000, 1e-12, "analytic overhead");
  close(r.traffic.overhead, r.traffic.expectedOverhead, 0.02, "measured overhead");
  // Each mix of a layer gets N(λ_P + λ_L + λ_D)/W client packets and λ_M (L − 1) mix loops.
  const perMix = (N * (small.payloadRate + small.loopRate + small.dropRate)) / W +
    small.mixLoopRate * (L - 1);
  assert.equal(r.load.layers.length, L);
  for (const layer of r.load.layers) close(layer.mean, perMix, 0.02, "packets/s per mix");
  close(r.load.providerIngress.mean, (N / small.providers) * 1.3, 0.02, "provider ingress");
});

Deno.test("simulateLoopix: the same seed gives the same figures, another seed others", async () => {
  const params = { ...small, users: 300, duration: 20 };
  const strip = (r: LoopixSimulationResult) => ({ ...r, wallSeconds: 0 });
  const a = strip(await simulateLoopix(params));
  const b = strip(await simulateLoopix(params));
  const c = strip(await simulateLoopix({ ...params, seed: "other" }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.latency, c.latency);
  assert.notEqual(a.anonymity.entropyMean, c.anonymity.entropyMean);
});

Deno.test("TargetMassTracker: k packets in one pool leave with log2(k) bits", () => {
  for (const k of [1, 2, 5, 8, 1000]) {
    const tracker = new TargetMassTracker(1, 1);
    tracker.add(0, 0, 1);
    for (let inside = k; inside >= 1; inside--) tracker.depart(0, inside, -1);
    assert.ok(Math.abs(tracker.entropy[0]! - Math.log2(k)) < 1e-9, `k = ${k}`);
    assert.ok(Math.abs(tracker.exited[0]! - 1) < 1e-12);
    assert.equal(tracker.inside(), 0);
  }
});

Deno.test("TargetMassTracker: mass splits through a chain of pools (1.5 bits)", () => {
  // Mix 0 holds the target and one other packet; the first to leave goes to mix 1, which
  // holds one packet already; the second leaves the network. Mix 1 then empties.
  const tracker = new TargetMassTracker(2, 1);
  tracker.add(0, 0, 1);
  tracker.depart(0, 2, 1); // 1/2 into mix 1 (now 2 packets there)
  tracker.depart(0, 1, -1); // 1/2 exits
  tracker.depart(1, 2, -1); // 1/4 exits
  tracker.depart(1, 1, -1); // 1/4 exits
  assert.ok(Math.abs(tracker.entropy[0]! - 1.5) < 1e-12);
  assert.ok(Math.abs(tracker.exited[0]! - 1) < 1e-12);
});

Deno.test("simulateLoopix: entropy grows with the mean delay and with traffic", async () => {
  const params = { ...small, users: 500, duration: 30, targets: 40 };
  const fast = await simulateLoopix({ ...params, mu: 50 });
  const slow = await simulateLoopix({ ...params, mu: 5 });
  const busy = await simulateLoopix({ ...params, mu: 50, users: 2000 });
  for (const r of [fast, slow, busy]) {
    assert.equal(r.anonymity.targets, 40);
    assert.ok(r.anonymity.massTracked > 0.9999, `${r.anonymity.massTracked}`);
    assert.ok(r.anonymity.entropyMin > 0 && r.anonymity.entropyMax >= r.anonymity.entropyMin);
  }
  // Ten times the delay keeps ten times the packets in each pool: about log2(10) more bits.
  assert.ok(slow.anonymity.entropyMean > fast.anonymity.entropyMean + 2.5);
  assert.ok(busy.anonymity.entropyMean > fast.anonymity.entropyMean + 1.5);
});

Deno.test("simulateLoopix: parameters out of range are refused by name", async () => {
  const cases: [Partial<LoopixSimulationParams>, RegExp][] = [
    [{ messageRate: 1, payloadRate: 1 }, /'messageRate'.*below the payload rate/],
    [{ users: 0 }, /'users' must be an integer/],
    [{ mu: 0 }, /'mu' must be a positive/],
    [{ layers: 2.5 }, /'layers'/],
    [{ providers: 20, users: 10 }, /'providers'/],
    [{ loopRate: -1 }, /'loopRate'/],
    [{ duration: Number.NaN }, /'duration'/],
  ];
  for (const [change, message] of cases) {
    await assert.rejects(simulateLoopix({ ...small, ...change }), (error: Error) => {
      assert.ok(error instanceof InvalidInputError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("simulateLoopix: one Poisson mix gives log2(e λ/μ) bits (Danezis 2004)", async () => {
  // A single mix fed at λ = 500 packets/s with mean delay 1/μ = 0.2 s: the entropy of a
  // continuous-time exponential mix is log2(e λ / μ) ≈ 8.09 bits ("The traffic analysis of
  // continuous-time mixes", PET 2004); the loops and drops are off so λ is exact.
  const r = await simulateLoopix({
    ...small,
    users: 500,
    providers: 1,
    layers: 1,
    mixesPerLayer: 1,
    payloadRate: 1,
    messageRate: 0.5,
    loopRate: 0,
    dropRate: 0,
    mixLoopRate: 0,
    mu: 5,
    warmup: 10,
    duration: 100,
    targets: 100,
  });
  const expected = Math.log2((Math.E * 500) / 5);
  assert.ok(
    Math.abs(r.anonymity.entropyMean - expected) < 0.1,
    `${r.anonymity.entropyMean} bits, expected ${expected}`,
  );
});
