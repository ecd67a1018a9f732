/**
 * The survey collector through a real decryption cascade: reports sealed on the
 * device, relayed as packets, mixed by three mixer nodes, counted per round,
 * published only at the target; nothing acknowledged lost on kill -9.
 */
import assert from "node:assert/strict";
import {
  fetchSurveyInfo,
  sealSurveyReport,
  submitSurveyPackets,
  submitSurveyPacketsUntilAcknowledged,
  type SurveyDefinition,
  SurveyDevice,
  surveyRespond,
  SurveySubmitError,
} from "../../plugins/survey/mod.ts";
import { seededRandom } from "../../core/random.ts";
import { decodeMsgpack } from "../../core/envelope.ts";
import { NodeProcess } from "./cluster.ts";
import { freePort } from "./cluster.ts";
import { startSurveyNetwork } from "./survey_test_support.ts";

const city: SurveyDefinition = {
  id: "city-2026",
  target: { epsilon: 3, delta: 1e-6 },
  questions: [
    { id: "color", type: "categorical", options: ["red", "green", "blue"], epsilon0: 2 },
    { id: "speed", type: "numeric", min: 0, max: 120, epsilon0: 2 },
  ],
};
const tiny: SurveyDefinition = { ...city, id: "tiny" };

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface RoundsJson {
  pending: { waiting: number; mixing: number };
  rounds: {
    round: number;
    reports: number[];
    batches: number;
    published: boolean;
    privacy: { epsilon: number | null; meetsTarget: boolean };
    estimate?: {
      questions: {
        id: string;
        frequencies?: { estimate: number; low: number; high: number }[];
        mean?: { estimate: number };
      }[];
    };
  }[];
}

async function rounds(url: string, survey: string): Promise<RoundsJson> {
  const r = await fetch(`${url}/v1/surveys/${survey}/rounds`);
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return await r.json() as RoundsJson;
}

Deno.test("survey collector: sealed reports go through a 3-mixer decrypt cascade, are counted per round, and published only at the target", async () => {
  const t = await startSurveyNetwork([{ definition: city }, {
    definition: tiny,
    batchReports: 10,
  }]);
  try {
    const node = await t.net.start({ name: "collector", roles: ["survey"] });
    const info = await fetchSurveyInfo({ collector: node.url, survey: city.id });
    assert.equal(info.cascade.mixers.length, 3);
    const random = seededRandom("collector-test");
    // 130 respondents, 70% red; speeds around 50.
    for (let i = 0; i < 130; i++) {
      const reports = surveyRespond(city, {
        answers: { color: i % 10 < 7 ? "red" : "blue", speed: 40 + (i % 21) },
        random,
      });
      const packets = await Promise.all(reports.map((r) => sealSurveyReport(r, info.cascade)));
      const ack = await submitSurveyPackets(packets, { collector: node.url, survey: city.id });
      assert.equal(ack.accepted, 2);
      assert.equal(ack.round, info.round.index);
    }
    const published = await until("a published round", async () => {
      const r = await rounds(node.url, city.id);
      return r.rounds[0]?.published ? r : undefined;
    });
    const round = published.rounds[0]!;
    assert.ok(round.reports[0]! >= 123, `reports ${round.reports}`);
    assert.ok(round.privacy.meetsTarget && round.privacy.epsilon! <= 3);
    const red = round.estimate!.questions[0]!.frequencies![0]!;
    assert.ok(red.low < 0.7 && 0.7 < red.high, `red ${JSON.stringify(red)}`);
    // All rounds pooled: here one round, so the same counts and a published estimate.
    const pooled = await fetch(`${node.url}/v1/surveys/${city.id}/estimate`).then((r) => r.json());
    assert.deepEqual(pooled.reports, round.reports);
    assert.equal(pooled.published, true);
    const current = await fetch(`${node.url}/v1/surveys/${city.id}/rounds/current`).then((r) =>
      r.json()
    );
    assert.equal(current.round, info.round.index);
    const badRound = await fetch(`${node.url}/v1/surveys/${city.id}/rounds/x`);
    assert.equal(badRound.status, 400);
    await badRound.body?.cancel();
    // The collector never saw a report in the clear: it stores only packets.
    const stored = await fetch(`${node.url}/v1/surveys/${city.id}`).then((r) => r.json());
    assert.equal(stored.transport.backend, "decrypt");

    // A round below the target is counted but its estimates are withheld.
    const tinyInfo = await fetchSurveyInfo({ collector: node.url, survey: tiny.id });
    const reports = Array.from(
      { length: 5 },
      () => surveyRespond(tiny, { answers: { color: "red", speed: 10 }, random }),
    ).flat();
    await submitSurveyPackets(
      await Promise.all(reports.map((r) => sealSurveyReport(r, tinyInfo.cascade))),
      { collector: node.url, survey: tiny.id },
    );
    const withheld = await until("the tiny round counted", async () => {
      const r = await rounds(node.url, tiny.id);
      return r.rounds[0]?.batches ? r.rounds[0] : undefined;
    });
    assert.deepEqual(withheld.reports, [5, 5]);
    assert.equal(withheld.published, false);
    assert.equal(withheld.estimate, undefined);

    // Bad submissions get one clear 4xx.
    const bad = await fetch(`${node.url}/v1/surveys/${city.id}/reports`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        v: 1,
        kind: "survey.submission",
        items: [{ v: 1, kind: "decrypt.packet", packet: "AAAA" }],
      }),
    });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).message, /submission\.items\[0\]\.packet/);
    const unknown = await fetch(`${node.url}/v1/surveys/nope`);
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  } finally {
    await t.net.close();
  }
});

Deno.test("survey collector: a device reporting every round sends memoized reports through the collector", async () => {
  const t = await startSurveyNetwork([{ definition: tiny, batchReports: 4 }]);
  try {
    const node = await t.net.start({ name: "collector", roles: ["survey"] });
    const devices = Array.from({ length: 2 }, () => new SurveyDevice(tiny, { budget: 4 }));
    for (const d of devices) {
      const r = await d.report({ color: "green", speed: 30 }, { collector: node.url });
      assert.equal(r.sent, 2);
      assert.equal(d.spent, 4);
    }
    // Same round again: nothing is sent twice.
    const again = await devices[0]!.report({ color: "green", speed: 30 }, { collector: node.url });
    assert.equal(again.sent, 0);
    const r = await until("counted", async () => {
      const x = await rounds(node.url, tiny.id);
      return x.rounds[0]?.batches ? x.rounds[0] : undefined;
    });
    assert.deepEqual(r.reports, [2, 2]);
    // `survey respond --collector`: many respondents from a CSV file in one process.
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/def.json`, JSON.stringify(tiny));
    await Deno.writeTextFile(`${dir}/people.csv`, "color,speed\nred,10\nblue,20\ngreen,30\n");
    const cli = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        "survey",
        "respond",
        "--definition",
        `${dir}/def.json`,
        "--input",
        `${dir}/people.csv`,
        "--collector",
        node.url,
        "--json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    await Deno.remove(dir, { recursive: true });
    assert.equal(cli.code, 0, new TextDecoder().decode(cli.stderr));
    const summary = JSON.parse(new TextDecoder().decode(cli.stdout));
    assert.equal(summary.accepted, 6);
    assert.equal(summary.respondents, 3);
    const after = await until("the CLI's reports counted", async () => {
      const x = await rounds(node.url, tiny.id);
      return x.rounds[0]!.reports[0]! >= 4 ? x : undefined;
    });
    assert.equal(after.rounds[0]!.reports[0]! + after.pending.waiting / 2, 5);
  } finally {
    await t.net.close();
  }
});

Deno.test("survey collector: kill -9 while reports stream in loses no acknowledged report", async () => {
  const port = freePort();
  const t = await startSurveyNetwork([{ definition: city, batchReports: 40 }], { httpPort: port });
  let node: NodeProcess | undefined;
  try {
    node = await NodeProcess.spawn(t.collectorConfig);
    const url = node.info.url;
    const info = await fetchSurveyInfo({ collector: url, survey: city.id });
    const random = seededRandom("kill-test");
    // Packets are sealed up front so the stream is fast.
    const pool: Uint8Array[][] = [];
    for (let i = 0; i < 400; i++) {
      const reports = surveyRespond(city, { answers: { color: "green", speed: 60 }, random });
      pool.push(await Promise.all(reports.map((r) => sealSurveyReport(r, info.cascade))));
    }
    let acked = 0;
    let sent = 0;
    let next = 0;
    const worker = async () => {
      while (next < pool.length) {
        const packets = pool[next++]!;
        sent++;
        try {
          await submitSurveyPackets(packets, { collector: url, survey: city.id });
          acked++;
        } catch {
          return; // the node died under us: not acknowledged
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await until("100 acknowledged", () => Promise.resolve(acked >= 100 || undefined));
    await node.stop("SIGKILL");
    await Promise.all(workers);
    const ackedAtKill = acked;
    const sentAtKill = sent;
    node = await NodeProcess.spawn(t.collectorConfig);
    // Every acknowledged respondent ends up counted (batches of 40 reports = 20 respondents;
    // a remainder below a batch waits, acknowledged and on disk, for the next reports).
    const final = await until("all acknowledged reports counted or waiting", async () => {
      const r = await rounds(url, city.id);
      const counted = r.rounds.reduce((a, x) => a + x.reports[0]!, 0);
      return r.pending.mixing === 0 && counted + r.pending.waiting / 2 >= ackedAtKill
        ? { r, counted }
        : undefined;
    });
    const total = final.counted + final.r.pending.waiting / 2;
    assert.ok(total >= ackedAtKill, `${total} counted or waiting < ${ackedAtKill} acknowledged`);
    assert.ok(total <= sentAtKill, `${total} counted > ${sentAtKill} sent`);
    const counts = final.r.rounds[0]!.reports;
    assert.equal(counts[0], counts[1], "both questions of every respondent counted");
    const status = await node.stop("SIGTERM");
    assert.equal(status.code, 0);
    node = undefined;
  } finally {
    await node?.stop("SIGKILL");
    await t.net.close();
  }
});

Deno.test("survey collector: a packet sent twice (a device retry) is counted once, and the counted batch is archived on the board", async () => {
  const t = await startSurveyNetwork([{ definition: tiny, batchReports: 10 }]);
  try {
    const node = await t.net.start({ name: "collector", roles: ["survey"] });
    const info = await fetchSurveyInfo({ collector: node.url, survey: tiny.id });
    const random = seededRandom("collector-retry");
    const sent: Uint8Array[][] = [];
    for (let i = 0; i < 4; i++) {
      const reports = surveyRespond(tiny, { answers: { color: "green", speed: 30 }, random });
      const packets = await Promise.all(reports.map((r) => sealSurveyReport(r, info.cascade)));
      await submitSurveyPackets(packets, { collector: node.url, survey: tiny.id });
      sent.push(packets);
    }
    // The answer to the last submission was "lost": the device sends the same packets again.
    await submitSurveyPackets(sent[3]!, { collector: node.url, survey: tiny.id });
    const counted = await until("the batch counted", async () => {
      const r = await rounds(node.url, tiny.id);
      return r.rounds[0]?.batches ? r.rounds[0] : undefined;
    });
    assert.deepEqual(counted.reports, [4, 4]);
    // Once counted, the batch's job is archived: the board keeps no packet of it.
    const job = await until("the job archived", async () => {
      const { jobs } = await fetch(`${t.board.url}/v1/board/jobs`).then((r) => r.json()) as {
        jobs: { job: string; state: string; archived?: boolean }[];
      };
      return jobs.find((j) => j.archived);
    });
    assert.equal(job.state, "done");
    const items = await fetch(`${t.board.url}/v1/board/jobs/${job.job}/items?stage=0`);
    assert.equal(items.status, 410);
    await items.body?.cancel();
  } finally {
    await t.net.close();
  }
});

Deno.test("survey collector: a burst faster than it can batch is answered (503 busy when its accept queue is full, devices retry) and every acknowledged report is counted", async () => {
  const t = await startSurveyNetwork([{ definition: tiny, batchReports: 10, maxBatchReports: 20 }]);
  try {
    // A small accept queue: at most 10 reports being stored at once, so a burst of 30
    // devices overflows it and some are told 503 busy (Retry-After) instead of waiting.
    const config = JSON.parse(await Deno.readTextFile(t.collectorConfig));
    config.survey.maxAcceptQueue = 10;
    await Deno.writeTextFile(t.collectorConfig, JSON.stringify(config));
    const node = await t.net.start({ name: "collector", roles: ["survey"] });
    const info = await fetchSurveyInfo({ collector: node.url, survey: tiny.id });
    const random = seededRandom("collector-burst");
    const devices: Uint8Array[][] = [];
    for (let i = 0; i < 30; i++) {
      const reports = surveyRespond(tiny, { answers: { color: "blue", speed: 70 }, random });
      devices.push(await Promise.all(reports.map((r) => sealSurveyReport(r, info.cascade))));
    }
    const statuses: number[] = [];
    // All 30 devices (60 reports, 6 batches' worth) submit at once; each keeps its reports
    // until they are acknowledged.
    const acks = await Promise.all(
      devices.map((packets) =>
        submitSurveyPacketsUntilAcknowledged(packets, {
          collector: node.url,
          survey: tiny.id,
          retryForMs: 60_000,
          onRetry: (_attempt, error) => {
            if (error instanceof SurveySubmitError) statuses.push(error.status);
          },
        })
      ),
    );
    assert.equal(acks.reduce((a, x) => a + x.accepted, 0), 60);
    assert.ok(statuses.length > 0 && statuses.every((s) => s === 503), `retries: ${statuses}`);
    const metrics = await fetch(`${node.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /panoramix_survey_reports_busy_total\{survey="tiny"\} [1-9]/);
    // Every acknowledged report is counted, except fewer than one batch that waits for more.
    const final = await until("every acknowledged report counted or waiting", async () => {
      const r = await rounds(node.url, tiny.id);
      const counted = r.rounds.reduce((a, x) => a + x.reports[0]! + x.reports[1]!, 0);
      return r.pending.mixing === 0 && counted + r.pending.waiting === 60
        ? { counted, waiting: r.pending.waiting }
        : undefined;
    });
    assert.ok(final.waiting < 10, `${final.waiting} reports still waiting`);
    assert.ok(final.counted >= 50, `${final.counted} counted`);
    // No batch below batchReports (the accountant's minimum), also when formed in a hurry.
    const { jobs } = await fetch(`${t.board.url}/v1/board/jobs`).then((r) => r.json()) as {
      jobs: { inputs: number }[];
    };
    assert.ok(
      jobs.length >= 3 && jobs.every((j) => j.inputs >= 10 && j.inputs <= 20),
      JSON.stringify(jobs.map((j) => j.inputs)),
    );
  } finally {
    await t.net.close();
  }
});

Deno.test("survey collector: an input the board refuses is logged and counted as refused, the rest of its batch is counted, and a batch refused for good is abandoned without holding up the next", async () => {
  const t = await startSurveyNetwork([{ definition: tiny, batchReports: 10 }]);
  // A proxy in front of the board: the first batch's first inputs post is refused naming
  // item 1 (as the board refuses a copy of an input), the second batch's with a reason
  // naming no item.
  const jobs: string[] = [];
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.method === "POST" ? new Uint8Array(await req.arrayBuffer()) : undefined;
    if (url.pathname === "/v1/board/posts" && body !== undefined) {
      const post = decodeMsgpack(body, "post") as { type?: string; job?: string };
      if (post.type === "inputs" && !jobs.includes(post.job!) && jobs.length < 2) {
        jobs.push(post.job!);
        const message = jobs.length === 1
          ? "Value 'inputs.items[1]' is a copy of an input already in job"
          : "Inputs refused for a reason that names no item";
        return new Response(JSON.stringify({ error: "invalid_input", message }), {
          status: jobs.length === 1 ? 409 : 400,
          headers: { "content-type": "application/json" },
        });
      }
    }
    return await fetch(`${t.board.url}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      ...(body === undefined ? {} : { body }),
    }).catch(() => new Response("board gone", { status: 502 }));
  });
  try {
    const config = JSON.parse(await Deno.readTextFile(t.collectorConfig));
    config.boardUrl = `http://127.0.0.1:${proxy.addr.port}`;
    await Deno.writeTextFile(t.collectorConfig, JSON.stringify(config));
    const node = await t.net.start({ name: "collector", roles: ["survey"] });
    const info = await fetchSurveyInfo({ collector: node.url, survey: tiny.id });
    const random = seededRandom("collector-refused");
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const reports = surveyRespond(tiny, { answers: { color: "red", speed: 50 }, random });
        const packets = await Promise.all(reports.map((r) => sealSurveyReport(r, info.cascade)));
        await submitSurveyPackets(packets, { collector: node.url, survey: tiny.id });
      }
    };
    // First batch: 10 reports, one refused by the board, 9 counted.
    await send(5);
    const first = await until("the first batch counted", async () => {
      const r = await rounds(node.url, tiny.id);
      return r.rounds[0]?.batches === 1 ? r.rounds[0] : undefined;
    });
    assert.equal(first.reports[0]! + first.reports[1]!, 9);
    // Second batch: refused for good, abandoned; the third batch is counted after it.
    await send(5);
    await until("the second batch abandoned", async () => {
      const r = await rounds(node.url, tiny.id);
      return r.pending.mixing === 0 && r.pending.waiting === 0 ? r : undefined;
    });
    await send(5);
    const third = await until("the third batch counted", async () => {
      const r = await rounds(node.url, tiny.id);
      return r.rounds[0]?.batches === 2 ? r.rounds[0] : undefined;
    });
    assert.equal(third.reports[0]! + third.reports[1]!, 19);
    const metrics = await fetch(`${node.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /panoramix_survey_reports_refused_total\{survey="tiny"\} 11\b/);
  } finally {
    await proxy.shutdown();
    await t.net.close();
  }
});
