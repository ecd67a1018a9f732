/**
 * Streamed item reads (issue 11 §7): `GET /v1/board/jobs/:job/items` answers with the
 * same JSON document as before, `{job, stage, items: [...]}`, but writes it page by
 * page (keyset pagination on the item index, committed rows only) as the client reads,
 * so a read of a million-item job holds one page in memory, not the whole job.
 * `offset` and `limit` select part of a stage.
 *
 * @module
 */

import { decodeMsgpack, toJsonView } from "../../core/envelope.ts";
import type { DatabaseSync } from "node:sqlite";

/** Items per page read from the database while streaming. */
export const ITEM_PAGE = 1000;

/**
 * Reads one page of a stage's items (committed rows, ascending index).
 *
 * @param db the read connection
 * @param job job id
 * @param stage stage number
 * @param fromIdx first index
 * @param limit most rows
 * @returns raw msgpack items with their index
 */
export function itemPage(
  db: DatabaseSync,
  job: string,
  stage: number,
  fromIdx: number,
  limit: number,
): { idx: number; item: Uint8Array }[] {
  // Stage 0 below the job's input count only (one statement, one snapshot): rows above it
  // are a big post being staged, not yet accepted (issue 11 §10).
  return db.prepare(
    "SELECT idx, item FROM board_items WHERE job = ? AND stage = ? AND idx >= ? AND " +
      "(? > 0 OR idx < (SELECT inputs FROM board_jobs WHERE job = ?)) ORDER BY idx LIMIT ?",
  ).all(job, stage, fromIdx, stage, job, limit) as { idx: number; item: Uint8Array }[];
}

/**
 * The streamed JSON response of a stage's items.
 *
 * @param args page reader, job, stage, first index and most items (undefined = all)
 * @returns a 200 response whose body is produced page by page
 * @example
 * ```ts ignore
 * return itemsResponse({ page: (from, n) => itemPage(store.reader, job, 0, from, n), job, stage: 0, offset: 0 });
 * ```
 */
export function itemsResponse(args: {
  page: (fromIdx: number, limit: number) => { idx: number; item: Uint8Array }[];
  job: string;
  stage: number;
  offset: number;
  limit?: number;
}): Response {
  const encoder = new TextEncoder();
  let next = args.offset;
  let left = args.limit ?? Number.MAX_SAFE_INTEGER;
  let first = true;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(
        `{"job":${JSON.stringify(args.job)},"stage":${args.stage},"items":[`,
      ));
    },
    // One page per pull: the stream's backpressure bounds what is held in memory.
    pull(controller) {
      if (done) return;
      const rows = left > 0 ? args.page(next, Math.min(ITEM_PAGE, left)) : [];
      if (rows.length === 0) {
        done = true;
        controller.enqueue(encoder.encode("]}"));
        controller.close();
        return;
      }
      const parts: string[] = [];
      for (const row of rows) {
        parts.push(
          (first ? "" : ",") +
            JSON.stringify(toJsonView(decodeMsgpack(row.item, `item ${row.idx}`))),
        );
        first = false;
      }
      next = rows.at(-1)!.idx + 1;
      left -= rows.length;
      controller.enqueue(encoder.encode(parts.join("")));
    },
  }, { highWaterMark: 1 });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}
