/**
 * Item reads are streamed page by page (issue 11 §7): the response is the same JSON
 * document, but reading its start materialises one page of rows, not the whole job.
 */
import assert from "node:assert/strict";
import { toJsonView } from "../../core/envelope.ts";
import { plainBackend } from "../../core/plain_backend.ts";
import { backendByName } from "../backends.ts";
import { BulletinBoard } from "./board.ts";
import { generateIdentity } from "./identity.ts";
import { ITEM_PAGE } from "./item_pages.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createPost, jobBody } from "./posts.ts";
import { boardRoutes } from "./routes.ts";
import type { RouteRequest } from "./server.ts";
import { Store } from "./storage.ts";

const admin = generateIdentity();
const COUNT = 5 * ITEM_PAGE + 7;

async function bigJob(store: Store): Promise<BulletinBoard> {
  const board = new BulletinBoard({
    store,
    identity: generateIdentity(),
    admins: [admin.publicKey],
    backendByName,
    logger: silentLogger,
    metrics: new MetricsRegistry(),
  });
  const key = (await plainBackend.generateKeys()).publicKey;
  await board.submit(createPost(admin, {
    job: "big",
    type: "job",
    body: jobBody({
      backend: "plain",
      stages: [{ mixer: generateIdentity().publicKey, key }],
      minInputs: 2,
      submitters: [],
    }),
  }));
  const items = (await plainBackend.sampleInputs(COUNT, { key })).map((x) =>
    plainBackend.input.encode(x)
  );
  await board.submit(createPost(admin, {
    job: "big",
    type: "inputs",
    body: { v: 1, kind: "node.inputs", items },
  }));
  return board;
}

function itemsRoute(board: BulletinBoard) {
  return boardRoutes(board).find((r) => r.path === "/v1/board/jobs/:job/items")!;
}

function request(query: string): RouteRequest {
  const url = new URL(`http://x/v1/board/jobs/big/items${query}`);
  return {
    url,
    params: { job: "big" },
    body: new Uint8Array(),
    signer: undefined,
    request: new Request(url),
  };
}

Deno.test("reading the start of a big items response materialises one page, not the job", async () => {
  const store = new Store(":memory:");
  try {
    const board = await bigJob(store);
    let rows = 0;
    // Count every row the route pulls out of the board, whichever method it uses.
    const counted = new Proxy(board, {
      get(target, prop) {
        if (prop === "items") {
          return (job: string, stage: number) => {
            const all = target.items(job, stage);
            rows += all.length;
            return all;
          };
        }
        if (prop === "itemPage") {
          return (job: string, stage: number, from: number, n: number) => {
            const page = target.itemPage(job, stage, from, n);
            rows += page.length;
            return page;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const response = await itemsRoute(counted).handle(request("?stage=0"));
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    assert.ok(rows <= 2 * ITEM_PAGE, `${rows} rows read for the first chunks of ${COUNT}`);
    await reader.cancel();
  } finally {
    store.close();
  }
});

Deno.test("the streamed items are the job's items; offset and limit select a part", async () => {
  const store = new Store(":memory:");
  try {
    const board = await bigJob(store);
    const route = itemsRoute(board);
    const whole = await (await route.handle(request("?stage=0"))).json();
    assert.equal(whole.job, "big");
    assert.equal(whole.stage, 0);
    assert.equal(whole.items.length, COUNT);
    assert.deepEqual(whole.items, toJsonView(board.items("big", 0)));
    const part = await (await route.handle(request("?stage=0&offset=1500&limit=10"))).json();
    assert.equal(part.items.length, 10);
    assert.deepEqual(part.items, whole.items.slice(1500, 1510));
  } finally {
    store.close();
  }
});
