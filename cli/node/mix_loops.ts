/**
 * Mix loops (Loopix §4.3, rate λ_M): a Sphinx node sends packets through the other layers
 * back to itself, at Poisson times. They are cover traffic, and their loss rate tells the
 * node that some node on its loop routes drops packets (exported as metrics).
 *
 * @module
 */

import { concatBytes, constantTimeEqual, fromBase64Url, toHex } from "../../core/bytes.ts";
import { randomBytes, systemRandom } from "../../core/random.ts";
import { UniformIntegers } from "../../core/permutation.ts";
import {
  createSphinxPacket,
  sphinxExponentialDelayMs,
  type SphinxHop,
  sphinxRouteDelaysMs,
} from "../../backends/decrypt/mod.ts";
import type { MessageTopology, RouteNode } from "../../plugins/message/mod.ts";
import { readTopology, verifyTopology } from "./descriptor.ts";
import { messageTopology } from "./message_topology.ts";
import type { NodeServiceContext } from "./node.ts";
import type { SphinxDelivery } from "./sphinx_mix.ts";

/** First bytes of a mix loop's message. */
const LOOP_MAGIC = new TextEncoder().encode("panoramix/mix-loop/v1");
/** A loop not back within this time counts as lost. */
export const MIX_LOOP_TIMEOUT_MS = 30_000;

/** What the loops need of the Sphinx role. */
export interface LoopingMix {
  /** The node's id. */
  readonly nodeId: Uint8Array;
  /** Queues a packet of the node's own. */
  enqueueForward(target: Uint8Array, packet: Uint8Array): void;
  /** Commits and releases it. */
  commitOwn(): Promise<void>;
}

/**
 * The λ_M stream of one node.
 *
 * @example
 * ```ts ignore
 * const loops = new MixLoops(mix, ctx);
 * loops.start();
 * ```
 */
export class MixLoops {
  #mix: LoopingMix;
  #ctx: NodeServiceContext;
  #sent = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #topology: MessageTopology | undefined;
  #topologyAt = 0;
  #returned = 0;
  #lost = 0;

  /**
   * Creates the stream (not started).
   *
   * @param mix the Sphinx role
   * @param ctx node context
   */
  constructor(mix: LoopingMix, ctx: NodeServiceContext) {
    this.#mix = mix;
    this.#ctx = ctx;
    ctx.metrics.gauge(
      "panoramix_sphinx_loop_loss_ratio",
      "Share of this node's loops (λ_M) that did not come back in time",
      () => {
        const settled = this.#returned + this.#lost;
        return settled === 0 ? 0 : this.#lost / settled;
      },
    );
  }

  /** Starts sending when λ_M > 0. */
  start(): void {
    const rate = this.#ctx.config.sphinx.loopsPerSecond;
    if (rate <= 0 || this.#running) return;
    this.#running = true;
    const next = () => {
      if (!this.#running) return;
      this.#timer = setTimeout(() => {
        this.#send().catch((error) => this.#ctx.logger.log("debug", "mix_loop_failed", { error }))
          .finally(next);
      }, sphinxExponentialDelayMs(1000 / rate));
    };
    next();
  }

  /** Stops sending. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  async #topo(): Promise<MessageTopology | undefined> {
    if (this.#topology !== undefined && Date.now() - this.#topologyAt < 30_000) {
      return this.#topology;
    }
    const client = this.#ctx.directoryClient();
    if (!client) return undefined;
    const topology = readTopology(await client.getJson("/v1/directory/topology"), "topology");
    const key = this.#ctx.config.directoryKey;
    verifyTopology(topology, key ? fromBase64Url(key, "directoryKey") : undefined);
    this.#topology = messageTopology(topology, { layers: this.#ctx.config.provider.layers });
    this.#topologyAt = Date.now();
    return this.#topology;
  }

  /**
   * The loop route of this node: the layers after its own, a provider, the layers before
   * its own, then itself (a provider goes through every layer).
   *
   * @param t the topology
   * @returns the route nodes, or undefined when this node is not in the topology
   */
  #route(t: MessageTopology): RouteNode[] | undefined {
    const self = toHex(this.#mix.nodeId);
    const ints = new UniformIntegers(systemRandom);
    const pick = (nodes: RouteNode[]) => nodes[ints.below(nodes.length)]!;
    const me = [...t.providers, ...t.layers.flat()].find((n) => toHex(n.id) === self);
    if (me === undefined) return undefined;
    if (t.providers.some((n) => toHex(n.id) === self)) return [...t.layers.map(pick), me];
    const layer = t.layers.findIndex((l) => l.some((n) => toHex(n.id) === self));
    return [
      ...t.layers.slice(layer + 1).map(pick),
      pick(t.providers),
      ...t.layers.slice(0, layer).map(pick),
      me,
    ];
  }

  async #send(): Promise<void> {
    const t = await this.#topo();
    if (t === undefined) return;
    const nodes = this.#route(t);
    if (nodes === undefined) return;
    const delays = sphinxRouteDelaysMs(nodes.length, {
      meanMs: this.#ctx.config.sphinx.loopMeanDelayMs,
    });
    const route: SphinxHop[] = nodes.map((n, i) => ({
      nodeId: n.id,
      publicKey: n.publicKey,
      keyId: n.keyId,
      delayMs: delays[i]!,
    }));
    const id = randomBytes(16);
    const { packet } = await createSphinxPacket(concatBytes(LOOP_MAGIC, id), {
      route,
      recipient: this.#mix.nodeId,
      payloadSize: this.#ctx.config.sphinx.payloadSize,
    });
    this.#ctx.store.write(() => this.#mix.enqueueForward(route[0]!.nodeId, packet));
    await this.#mix.commitOwn();
    this.#sent.set(toHex(id), Date.now());
    this.#ctx.metrics.counter("panoramix_sphinx_loops_sent_total", "Loops (λ_M) sent").inc();
    this.#expire();
  }

  #expire(): void {
    const cutoff = Date.now() - MIX_LOOP_TIMEOUT_MS;
    for (const [id, t] of this.#sent) {
      if (t >= cutoff) break;
      this.#sent.delete(id);
      this.#lost++;
      this.#ctx.metrics.counter("panoramix_sphinx_loops_lost_total", "Loops (λ_M) lost").inc();
    }
  }

  /**
   * Takes a delivery addressed to this node: one of its loops back.
   *
   * @param d the delivery
   * @returns true when it was a loop of this node (consumed)
   */
  receive(d: SphinxDelivery): boolean {
    if (d.kind !== "deliver" || !constantTimeEqual(d.recipient, this.#mix.nodeId)) return false;
    const m = d.message;
    if (
      m.length === LOOP_MAGIC.length + 16 &&
      constantTimeEqual(m.subarray(0, LOOP_MAGIC.length), LOOP_MAGIC)
    ) {
      if (this.#sent.delete(toHex(m.subarray(LOOP_MAGIC.length)))) {
        this.#returned++;
        this.#ctx.metrics.counter("panoramix_sphinx_loops_returned_total", "Loops (λ_M) back")
          .inc();
      }
    }
    return true;
  }
}
