/**
 * `panoramix msg simulate`: the discrete-event simulation of Loopix-style messaging
 * (plugins/message/simulation; docs/message-simulation.md describes the model).
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { UsageError } from "../core/errors.ts";
import {
  LOOPIX_SIMULATION_DEFAULTS,
  type LoopixSimulationParams,
  type LoopixSimulationResult,
  simulateLoopix,
} from "../plugins/message/simulation/mod.ts";
import type { CliContext } from "./context.ts";
import { integerFlag, positiveNumber } from "./flags.ts";

/** The flags are the simulation's parameters, plus `--json`. */
interface MsgSimulateFlags extends LoopixSimulationParams {
  json?: boolean;
}

/**
 * A parser for a finite number ≥ 0.
 *
 * @param what the flag as the user writes it
 * @returns the parser
 */
function nonNegativeNumber(what: string): (text: string) => number {
  return (text) => {
    const value = text.trim() === "" ? Number.NaN : Number(text);
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new UsageError(`Flag '${what}' must be a number ≥ 0, got '${text}'`);
    }
    return value;
  };
}

const d = LOOPIX_SIMULATION_DEFAULTS;

const num = (x: number, digits: number) =>
  x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The human-readable report.
 *
 * @param r the result
 * @returns lines of text
 */
function report(r: LoopixSimulationResult): string {
  const p = r.params;
  const ms = (s: number) => `${num(1000 * s, 0)} ms`;
  const lat = r.latency;
  const a = r.anonymity;
  const lines = [
    `Loopix simulation: ${p.users.toLocaleString("en-US")} users, ${p.providers} providers, ` +
    `${p.layers} layers × ${p.mixesPerLayer} mixes, seed '${p.seed}'`,
    `  rates per user: payload λ_P ${p.payloadRate}/s (real messages ${p.messageRate}/s), ` +
    `loop λ_L ${p.loopRate}/s, drop λ_D ${p.dropRate}/s; mix loops λ_M ${p.mixLoopRate}/s; ` +
    `mean delay per hop 1/μ ${ms(1 / p.mu)}; link latency ${ms(p.linkLatency)}`,
    `  simulated ${num(r.simulatedSeconds, 1)} s (window ${p.warmup}–${p.warmup + p.duration} s) ` +
    `in ${num(r.wallSeconds, 1)} s: ${r.events.toLocaleString("en-US")} events ` +
    `(${num(r.events / r.wallSeconds / 1e6, 2)} M/s)`,
    `latency of ${lat.count.toLocaleString("en-US")} real messages (queue + mixes + links):`,
    `  mean ${ms(lat.mean)} (analytic ${ms(lat.expectedMean)}: slot wait ${ms(lat.queueMean)}, ` +
    `network ${ms(lat.networkMean)})`,
    `  p50 ${ms(lat.p50)}  p90 ${ms(lat.p90)}  p99 ${ms(lat.p99)}  p99.9 ${ms(lat.p999)}  ` +
    `max ${ms(lat.max)}` + (lat.undelivered > 0 ? `  (${lat.undelivered} undelivered)` : ""),
    `  loop round trip mean ${ms(r.loopRoundTrip.mean)}, sd ${ms(r.loopRoundTrip.sd)} ` +
    `(${r.loopRoundTrip.count.toLocaleString("en-US")} loops)`,
    `traffic (packets/s, whole network): real ${num(r.traffic.real, 0)}, empty slots ` +
    `${num(r.traffic.emptySlot, 0)}, loops ${num(r.traffic.loop, 0)}, drops ${
      num(r.traffic.drop, 0)
    }, mix loops ${num(r.traffic.mixLoop, 0)}`,
    `  bandwidth overhead ${num(r.traffic.overhead, 2)} packets per real message ` +
    `(analytic ${num(r.traffic.expectedOverhead, 2)}); ${
      num(100 * r.traffic.coverShare, 1)
    }% of packets are cover`,
    `load (packets/s per node, mean [min–max]):`,
    `  providers in  ${num(r.load.providerIngress.mean, 0)} [${
      num(r.load.providerIngress.min, 0)
    }–${num(r.load.providerIngress.max, 0)}]`,
    ...r.load.layers.map((l, i) =>
      `  layer ${i + 1}      ${num(l.mean, 0)} [${num(l.min, 0)}–${num(l.max, 0)}]`
    ),
    `  providers out ${num(r.load.providerEgress.mean, 0)} [${num(r.load.providerEgress.min, 0)}–${
      num(r.load.providerEgress.max, 0)
    }]`,
    `sender anonymity of ${a.targets} target messages (global passive adversary, entropy):`,
    `  mean ${num(a.entropyMean, 2)} bits (≈ ${
      Math.round(a.effectiveSetSize).toLocaleString("en-US")
    } equally likely), min ${num(a.entropyMin, 2)}, median ${num(a.entropyMedian, 2)}, max ${
      num(a.entropyMax, 2)
    }; mass followed ${num(100 * a.massTracked, 4)}%`,
    "",
  ];
  return lines.join("\n");
}

/**
 * `panoramix msg simulate [--users N] [--layers L] [--mixes-per-layer W] [--payload-rate λ_P]
 * [--loop-rate λ_L] [--drop-rate λ_D] [--mix-loop-rate λ_M] [--message-rate R] [--mu μ]
 * [--duration S] [--seed S] [--json]`.
 */
export const msgSimulateCommand = buildCommand({
  async func(this: CliContext, flags: MsgSimulateFlags) {
    const { json: _json, ...params } = flags;
    if (params.providers > params.users) {
      throw new UsageError(
        `Flag '--providers' (${params.providers}) must not exceed '--users' (${params.users})`,
      );
    }
    if (params.messageRate > 0 && params.messageRate >= params.payloadRate) {
      throw new UsageError(
        `Flag '--message-rate' (${params.messageRate}) must be below '--payload-rate' ` +
          `(${params.payloadRate}): real messages only leave in payload slots`,
      );
    }
    const total = params.users * (params.payloadRate + params.loopRate + params.dropRate) +
      params.layers * params.mixesPerLayer * params.mixLoopRate;
    if (!(total > 0)) {
      throw new UsageError("Every packet rate is zero: nothing to simulate");
    }
    await this.stderr.write(
      `simulating ${params.warmup + params.duration} s of ${params.users} users ` +
        `(${num(total, 0)} packets/s over ${params.layers} layers)\n`,
    );
    const result = await simulateLoopix(params, {
      onProgress: (progress) =>
        this.stderr.write(
          `simulated ${num(progress.simulatedTime, 1)} of ${
            num(params.warmup + params.duration, 0)
          } s (then drain), ${progress.events.toLocaleString("en-US")} events, ` +
            `${progress.inFlight.toLocaleString("en-US")} packets in mixes\n`,
        ),
    });
    await this.stdout.write(
      flags.json ? JSON.stringify({ kind: "msg-simulation", ...result }) + "\n" : report(result),
    );
  },
  parameters: {
    flags: {
      users: {
        kind: "parsed",
        parse: integerFlag("--users", { min: 1, max: 50_000_000 }),
        default: String(d.users),
        brief: "Clients",
      },
      providers: {
        kind: "parsed",
        parse: integerFlag("--providers", { min: 1, max: 100_000 }),
        default: String(d.providers),
        brief: "Providers (client u registers at provider u mod P)",
      },
      layers: {
        kind: "parsed",
        parse: integerFlag("--layers", { min: 1, max: 16 }),
        default: String(d.layers),
        brief: "Mix layers L (routes: provider, one mix per layer, provider)",
      },
      mixesPerLayer: {
        kind: "parsed",
        parse: integerFlag("--mixes-per-layer", { min: 1, max: 100_000 }),
        default: String(d.mixesPerLayer),
        brief: "Mix nodes in each layer",
      },
      payloadRate: {
        kind: "parsed",
        parse: nonNegativeNumber("--payload-rate"),
        default: String(d.payloadRate),
        brief: "λ_P: payload slots per user per second (a real message, else a drop)",
      },
      loopRate: {
        kind: "parsed",
        parse: nonNegativeNumber("--loop-rate"),
        default: String(d.loopRate),
        brief: "λ_L: loop cover packets per user per second",
      },
      dropRate: {
        kind: "parsed",
        parse: nonNegativeNumber("--drop-rate"),
        default: String(d.dropRate),
        brief: "λ_D: drop cover packets per user per second",
      },
      mixLoopRate: {
        kind: "parsed",
        parse: nonNegativeNumber("--mix-loop-rate"),
        default: String(d.mixLoopRate),
        brief: "λ_M: loop packets per mix per second",
      },
      messageRate: {
        kind: "parsed",
        parse: nonNegativeNumber("--message-rate"),
        default: String(d.messageRate),
        brief: "Real messages each user queues per second (below λ_P)",
      },
      mu: {
        kind: "parsed",
        parse: positiveNumber("--mu"),
        default: String(d.mu),
        brief: "μ: per-hop delay rate (mean delay 1/μ seconds per mix)",
      },
      linkLatency: {
        kind: "parsed",
        parse: nonNegativeNumber("--link-latency"),
        default: String(d.linkLatency),
        brief: "Constant one-way seconds per link (L + 2 links per route)",
      },
      warmup: {
        kind: "parsed",
        parse: nonNegativeNumber("--warmup"),
        default: String(d.warmup),
        brief: "Simulated seconds before measuring",
      },
      duration: {
        kind: "parsed",
        parse: positiveNumber("--duration"),
        default: String(d.duration),
        brief: "Simulated seconds measured",
      },
      targets: {
        kind: "parsed",
        parse: integerFlag("--targets", { min: 0, max: 100_000 }),
        default: String(d.targets),
        brief: "Target messages whose anonymity is tracked",
      },
      seed: {
        kind: "parsed",
        parse: String,
        default: d.seed,
        brief: "Seed: the same seed and parameters give the same figures",
      },
      json: { kind: "boolean", optional: true, brief: "Print the figures as one JSON object" },
    },
  },
  docs: {
    brief: "Simulate Loopix messaging: latency, load, cover overhead, sender anonymity",
    fullDescription:
      "A discrete-event simulation of the messaging protocol (no cryptography): clients behind " +
      "providers send Poisson streams of payload slots, loops and drops through a stratified " +
      "network of Poisson mixes (one mix per layer per route, exponential delays of mean 1/μ); " +
      "mixes send loops. Reports end-to-end latency percentiles of real messages, packets/s per " +
      "node and layer, the bandwidth overhead of cover traffic, and the sender anonymity of " +
      "sampled target messages against a global passive adversary as Shannon entropy in bits. " +
      "Deterministic for a given --seed. Progress goes to stderr. docs/message-simulation.md " +
      "describes the model and its assumptions.",
  },
});
