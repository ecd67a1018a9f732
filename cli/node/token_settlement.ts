/**
 * Settlement of redeemed tokens: after each issuer epoch (plus the grace period) a
 * service posts one signed `settlement` post per issuer key to the bulletin board —
 * a `token.settlement` envelope "N tokens of issuer I redeemed at origin O in epoch E"
 * with the redeemed tokens — and the issuer audits the posts against its issuance
 * counts ({@linkcode auditFromBoard}, `panoramix token audit`).
 *
 * @module
 */

import { fromBase64Url, toBase64Url } from "../../core/bytes.ts";
import { decodeMsgpack } from "../../core/envelope.ts";
import {
  auditSettlements,
  readSettlement,
  readTokenType,
  type Settlement,
  type SettlementAudit,
  settlementToEnvelope,
  tokenKeyIdOf,
  type TokenPublicKey,
} from "../../plugins/token/mod.ts";
import { type BulletinBoard, SETTLEMENT_JOB } from "./board.ts";
import { NodeClient } from "./client.ts";
import type { Identity } from "./identity.ts";
import type { NodeService, NodeServiceContext } from "./node.ts";
import { createPost, type Post, readPost, verifyPost } from "./posts.ts";
import type { TokenGate } from "./token_gate.ts";

/** Where settlement posts go: the local board, or a board over HTTP. */
export type SettlementSink = (post: Post) => Promise<{ seq: number }>;

/**
 * Posts every pending settlement of a gate.
 *
 * @param gate the token gate
 * @param options the node identity, the board sink, and the time
 * @returns the posted settlements with their board sequence numbers
 * @example
 * ```ts ignore
 * await postSettlements(gate, { identity, sink: (p) => client.submitPost(p) });
 * ```
 */
export async function postSettlements(
  gate: TokenGate,
  options: { identity: Identity; sink: SettlementSink; now?: number },
): Promise<{ settlement: Settlement; seq: number }[]> {
  const out = [];
  for (const pending of gate.pendingSettlements(options.now)) {
    const { validUntil: _, ...settlement } = pending;
    const post = createPost(options.identity, {
      job: SETTLEMENT_JOB,
      type: "settlement",
      body: settlementToEnvelope(settlement),
    });
    const { seq } = await options.sink(post);
    await gate.markSettled(settlement, seq);
    out.push({ settlement, seq });
  }
  return out;
}

/**
 * The background service that settles finished epochs (every 30 s it posts what is due).
 *
 * @param ctx the node context
 * @param gate the token gate
 * @param board the local board, if this node is one
 * @returns the service, or undefined when the node knows no board
 * @example
 * ```ts ignore
 * const s = settlementService(ctx, gate, board);
 * ```
 */
export function settlementService(
  ctx: NodeServiceContext,
  gate: TokenGate,
  board: BulletinBoard | undefined,
): NodeService | undefined {
  if (!board && !ctx.config.boardUrl) return undefined;
  const sink: SettlementSink = board
    ? (post) => board.submit(post)
    : (post) => new NodeClient(ctx.config.boardUrl, { identity: ctx.identity }).submitPost(post);
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<unknown> | undefined;
  const tick = () => {
    running ??= postSettlements(gate, { identity: ctx.identity, sink })
      .then((posted) => {
        for (const p of posted) {
          ctx.logger.log("info", "token_settlement_posted", {
            epoch: p.settlement.epoch,
            count: p.settlement.tokens.length,
            keyId: toBase64Url(p.settlement.tokenKeyId),
            seq: p.seq,
          });
        }
      })
      .catch((error) => ctx.logger.log("warn", "token_settlement_failed", { error }))
      .finally(() => (running = undefined));
  };
  return {
    start() {
      timer = setInterval(tick, 30_000);
      Deno.unrefTimer(timer);
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Reads the settlement posts of a board (signatures checked), latest per author and key.
 *
 * @param client a client of the board
 * @returns settlements with their authors
 * @example
 * ```ts ignore
 * const posted = await readSettlementsFromBoard(new NodeClient(boardUrl));
 * ```
 */
export async function readSettlementsFromBoard(
  client: NodeClient,
): Promise<{ author: string; seq: number; settlement: Settlement }[]> {
  const latest = new Map<string, { author: string; seq: number; settlement: Settlement }>();
  let after = 0;
  for (;;) {
    const page = await client.getJson(`/v1/board/posts?after=${after}&limit=1000`) as {
      posts: Record<string, unknown>[];
    };
    if (page.posts.length === 0) break;
    for (const value of page.posts) {
      after = Math.max(after, Number(value.seq));
      if (value.type !== "settlement") continue;
      const post = readPost(value, "post");
      verifyPost(post);
      const settlement = readSettlement(decodeMsgpack(post.body, "settlement"), "settlement");
      const author = toBase64Url(post.author);
      latest.set(`${author}/${toBase64Url(settlement.tokenKeyId)}`, {
        author,
        seq: after,
        settlement,
      });
    }
  }
  return [...latest.values()];
}

/**
 * Audits a board's settlements for one issuer epoch against the issuer's count.
 *
 * @param options board and issuer clients, and the epoch (default the last finished one)
 * @returns the audit
 * @example
 * ```ts ignore
 * const audit = await auditFromBoard({ board: new NodeClient(b), issuer: new NodeClient(i), epoch: 5 });
 * ```
 */
export async function auditFromBoard(
  options: { board: NodeClient; issuer: NodeClient; epoch?: number },
): Promise<SettlementAudit & { tokenKeyId: string }> {
  const path = options.epoch === undefined
    ? "/v1/token/issued"
    : `/v1/token/issued?epoch=${options.epoch}`;
  const info = await options.issuer.getJson(path) as {
    epoch: number;
    issuerName: string;
    type: number;
    issued: number;
    publicKey: string;
  };
  const publicKey = fromBase64Url(info.publicKey, "publicKey");
  const key: TokenPublicKey = {
    type: readTokenType(info.type, "type"),
    epoch: info.epoch,
    publicKey,
    tokenKeyId: await tokenKeyIdOf(publicKey),
  };
  const posted = (await readSettlementsFromBoard(options.board)).filter((p) =>
    toBase64Url(p.settlement.tokenKeyId) === toBase64Url(key.tokenKeyId)
  );
  const audit = await auditSettlements(posted.map((p) => p.settlement), {
    key,
    issuerName: info.issuerName,
    issued: info.issued,
  });
  return { ...audit, tokenKeyId: toBase64Url(key.tokenKeyId) };
}
