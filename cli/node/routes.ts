/**
 * HTTP routes of the board and directory roles.
 *
 * Board: `POST /v1/board/posts` (signed request; body a signed post) → receipt;
 * `GET /v1/board/posts?after=N&limit=M`, `GET /v1/board/head`, `GET /v1/board/jobs`,
 * `GET /v1/board/jobs/:job`, `GET /v1/board/jobs/:job/items?stage=K`,
 * `GET /v1/board/posts/:seq/body` (one post's body as a msgpack stream).
 * Directory: `POST /v1/directory/descriptors` (signed request; body a descriptor),
 * `GET /v1/directory/topology`, `GET /v1/directory/layers?layers=L` (messaging layers).
 *
 * @module
 */

import { fromBase64Url, toBase64Url } from "../../core/bytes.ts";
import { toJsonView } from "../../core/envelope.ts";
import { assignLayers } from "../../plugins/message/mod.ts";
import { readInteger } from "../../core/fields.ts";
import { type BulletinBoard, receiptToEnvelope } from "./board.ts";
import { readDescriptor, topologyToEnvelope } from "./descriptor.ts";
import type { Directory } from "./directory.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import { jobBody, readPost } from "./posts.ts";
import { decodeBody, type Route } from "./server.ts";
import { itemsResponse } from "./item_pages.ts";
import { ServedBodies } from "./board_stream.ts";

function queryInt(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  return readInteger(/^\d+$/.test(raw) ? Number(raw) : raw, `query parameter '${name}'`, { max });
}

/**
 * The board's routes.
 *
 * @param board the board
 * @returns the routes
 * @example
 * ```ts ignore
 * const routes = boardRoutes(board);
 * ```
 */
export function boardRoutes(board: BulletinBoard): Route[] {
  const servedBodies = new ServedBodies();
  return [
    {
      method: "POST",
      path: "/v1/board/posts",
      auth: true,
      async handle(req) {
        const post = readPost(decodeBody(req), "post");
        if (!req.signer || !req.signer.every((b, i) => b === post.author[i])) {
          throw new HttpError(403, "forbidden", "The request must be signed by the post's author");
        }
        const receipt = await board.submit(post);
        return jsonResponse(toJsonView(receiptToEnvelope(receipt)), { status: 201 });
      },
    },
    {
      method: "GET",
      path: "/v1/board/posts",
      handle(req) {
        const after = queryInt(req.url, "after", 0, Number.MAX_SAFE_INTEGER);
        const limit = queryInt(req.url, "limit", 100, 1000);
        // ?bodyLimit=B: bodies over B bytes are left out (read them from …/posts/:seq/body).
        const bodyLimit = req.url.searchParams.has("bodyLimit")
          ? queryInt(req.url, "bodyLimit", 0, Number.MAX_SAFE_INTEGER)
          : undefined;
        return jsonResponse({ posts: toJsonView(board.posts(after, limit, bodyLimit)) });
      },
    },
    {
      method: "GET",
      path: "/v1/board/posts/:seq/body",
      handle(req) {
        return servedBodies.respond(() =>
          board.postBody(readInteger(
            /^\d+$/.test(req.params.seq!) ? Number(req.params.seq) : req.params.seq,
            "post number",
            { min: 1 },
          ))
        );
      },
    },
    {
      method: "GET",
      path: "/v1/board/head",
      handle: () => jsonResponse(toJsonView(receiptToEnvelope(board.signedHead()))),
    },
    {
      method: "GET",
      path: "/v1/board/jobs",
      handle: (req) =>
        // ?mixer=KEY: only the jobs waiting on that mixer (indexed; what mixers poll).
        req.url.searchParams.has("mixer")
          ? jsonResponse({
            jobs: board.waitingFor(
              fromBase64Url(req.url.searchParams.get("mixer")!, "mixer"),
              queryInt(req.url, "limit", 100, 1000),
            ),
          })
          : jsonResponse({ jobs: board.jobs() }),
    },
    {
      method: "GET",
      path: "/v1/board/jobs/:job",
      handle(req) {
        const job = req.params.job!;
        return jsonResponse({
          ...board.job(job),
          spec: toJsonView(jobBody(board.spec(job))),
        });
      },
    },
    {
      method: "GET",
      path: "/v1/board/jobs/:job/items",
      handle(req) {
        const job = req.params.job!;
        const summary = board.job(job);
        const stage = queryInt(req.url, "stage", 0, summary.stages);
        if (summary.archived) {
          throw new HttpError(410, "archived", `Job '${job}' is archived: its items were pruned`);
        }
        if (stage > summary.stage) {
          throw new HttpError(409, "not_ready", `Stage ${stage} of job '${job}' is not mixed yet`);
        }
        // Streamed page by page: bounded memory however large the job (issue 11 §7).
        return itemsResponse({
          page: (from, n) => board.itemPage(job, stage, from, n),
          job,
          stage,
          offset: queryInt(req.url, "offset", 0, Number.MAX_SAFE_INTEGER),
          ...(req.url.searchParams.has("limit")
            ? { limit: queryInt(req.url, "limit", 0, Number.MAX_SAFE_INTEGER) }
            : {}),
        });
      },
    },
  ];
}

/**
 * The directory's routes.
 *
 * @param directory the directory
 * @returns the routes
 * @example
 * ```ts ignore
 * const routes = directoryRoutes(directory);
 * ```
 */
export function directoryRoutes(directory: Directory): Route[] {
  return [
    {
      method: "POST",
      path: "/v1/directory/descriptors",
      auth: true,
      maxBodyBytes: 64 * 1024, // a descriptor is a few KiB (issue 11 §3)
      async handle(req) {
        const descriptor = readDescriptor(decodeBody(req), "descriptor");
        await directory.register(descriptor, req.signer!);
        return jsonResponse({ ok: true }, { status: 201 });
      },
    },
    {
      method: "GET",
      path: "/v1/directory/topology",
      handle: () => jsonResponse(toJsonView(topologyToEnvelope(directory.topology()))),
    },
    {
      // The stratified messaging topology (docs/message.md §4): layers are a public function
      // of the signed node set, so clients can recompute this from the topology.
      method: "GET",
      path: "/v1/directory/layers",
      handle(req) {
        const count = queryInt(req.url, "layers", 3, 3);
        if (count < 1) throw new HttpError(400, "invalid_input", "Query 'layers' must be 1 to 3");
        const t = directory.topology();
        const sphinx = t.nodes.filter((d) => d.roles.includes("sphinx") && d.sphinxAddress !== "");
        const mixes = sphinx.filter((d) => !d.roles.includes("provider"));
        const layerOf = assignLayers(mixes.map((d) => d.identity), count);
        return jsonResponse({
          time: t.time,
          providers: sphinx.filter((d) => d.roles.includes("provider")).map((d) =>
            toBase64Url(d.identity)
          ),
          layers: Array.from(
            { length: count },
            (_, l) => mixes.filter((_, i) => layerOf[i] === l).map((d) => toBase64Url(d.identity)),
          ),
        });
      },
    },
  ];
}
