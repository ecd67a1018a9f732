/**
 * Load run of the survey collector through real node processes on loopback: a
 * board, three `decrypt` cascade mixers and a collector, each a `panoramix node`
 * process. Devices (this process) submit sealed reports at a sustained rate with a
 * burst of 10× for a bounded window; the run checks that every acknowledged report
 * is counted, and measures ingest rate, the delay from a report's acknowledgement to
 * the estimate that includes it, CPU per report and store size per million reports.
 *
 * @module
 */

import {
  encodeSphinxCascade,
  encodeSphinxMixerSecret,
  generateSphinxCascade,
  type SphinxCascade,
} from "../../backends/decrypt/mod.ts";
import { toBase64Url } from "../../core/bytes.ts";
import { seededRandom } from "../../core/random.ts";
import {
  sealSurveyReport,
  submitSurveyPacketsUntilAcknowledged,
  type SurveyDefinition,
  surveyRespond,
  SurveySubmitError,
} from "../../plugins/survey/mod.ts";
import { DatabaseSync } from "node:sqlite";
import { writeEnvelopeFile } from "../files.ts";
import { freePort, NodeProcess, writeNodeDir } from "./cluster.ts";
import { generateIdentity } from "./identity.ts";

/** The survey of the load run: a road segment (10 options) and a speed. */
export const SURVEY_LOAD_DEFINITION: SurveyDefinition = {
  id: "traffic-load",
  target: { epsilon: 2, delta: 1e-6 },
  questions: [
    {
      id: "segment",
      type: "categorical",
      options: Array.from({ length: 10 }, (_, i) => `s${i}`),
      epsilon0: 2,
    },
    { id: "speed", type: "numeric", min: 0, max: 130, epsilon0: 2 },
  ],
};

/** Options of {@linkcode runSurveyLoad}. */
export interface SurveyLoadOptions {
  /** Sustained reports per second (default 58: 5,000,000 a day). */
  rate?: number;
  /** Length of the run in seconds (default 120). */
  seconds?: number;
  /** Burst factor (default 10). */
  burstFactor?: number;
  /** Burst start, seconds into the run (default 30). */
  burstAt?: number;
  /** Burst length in seconds (default 20). */
  burstSeconds?: number;
  /** Reports per batch (default 1000). */
  batchReports?: number;
  /** Progress lines. */
  onProgress?: (text: string) => void;
  /** Log level of the nodes (default "warn"); their last log lines go to onProgress. */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** Time each stage of every batch from the nodes' logs (runs the nodes at log level info). */
  timeline?: boolean;
  /** Append every line the nodes log to this file. */
  logFile?: string;
  /** Profile every node with `deno run --cpu-prof` into this directory. */
  profileDir?: string;
  /** How long a device retries a submission before giving up (default 120 s). */
  retryForSeconds?: number;
  /**
   * `nice` value of the board and mixer processes (default 10): on loopback they share
   * the collector's cores; in a deployment they are other machines. 0 = same priority.
   */
  niceCascade?: number;
}

/** Seconds spent in one stage of a batch, over the batches: median and maximum. */
export interface StageSeconds {
  /** Median over the batches. */
  p50: number;
  /** Largest. */
  max: number;
  /** Batches measured. */
  batches: number;
}

/** What {@linkcode runSurveyLoad} measured. */
export interface SurveyLoadResult {
  /** Reports sent, acknowledged, counted. */
  sent: number;
  /** Acknowledged by the collector (on its disk). */
  acknowledged: number;
  /** Counted into estimates. */
  counted: number;
  /** Waiting for a next batch at the end (acknowledged, on disk, below one batch). */
  waiting: number;
  /** Offered sustained and burst rates (reports/s). */
  offered: { sustained: number; burst: number };
  /** Submissions that failed (no answer, 503 busy) and were retried by their device. */
  retries: number;
  /** Why submissions were retried: message → count. */
  retryCauses: Record<string, number>;
  /** Reports whose device gave up (no acknowledgement within the retry window): lost. */
  lost: number;
  /** Acknowledged reports per second over the run, and during the burst. */
  ingestPerSecond: { run: number; burst: number };
  /** From a report's acknowledgement to its batch's counting, seconds. */
  ackToEstimate: { p50: number; p95: number; max: number };
  /** From a batch being full (its last report acknowledged) to its counting, seconds. */
  batchToEstimate: { p50: number; p95: number; max: number };
  /**
   * The burst: reports sent by its end; seconds from its end until all of those were
   * counted (null: not within the run); the largest batch-full → estimate delay from the
   * burst's start until then, and that delay's quantiles outside that window.
   */
  burst: {
    sentByEnd: number;
    catchUpSeconds: number | null;
    maxDelayDuring: number;
    delayOutside: { p50: number; p95: number; max: number };
  };
  /** Time to answer `GET /v1/surveys/:survey/rounds` (the published estimates), seconds. */
  estimatesRequest: { p50: number; p95: number; max: number };
  /** CPU seconds of all node processes per report, in ms, and per process. */
  cpuMsPerReport: { total: number; collector: number; board: number; mixers: number };
  /** Store bytes in use per million reports (after the run, WAL checkpointed). */
  storeBytesPerMillion: { collector: number; board: number; mixers: number };
  /** Wall seconds. */
  seconds: number;
  /** Machine load (1-minute average) before and after. */
  load: { before: number; after: number };
  /** With `timeline`: each stage of a batch, from the collector forming it to its counting. */
  stages?: Record<string, StageSeconds>;
}

/**
 * Times each stage of every batch from the nodes' info logs: the collector posting the
 * batch to the board, each mixer picking it up, fetching and mixing it, the board
 * verifying and storing the mix, and the collector counting the last stage.
 *
 * @param lines JSON log lines of all nodes
 * @returns per stage, the median and largest seconds over the batches
 */
export function batchStages(lines: readonly string[]): Record<string, StageSeconds> {
  const byJob = new Map<string, Map<string, { t: number; e: Record<string, unknown> }>>();
  for (const line of lines) {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    const job = (e.batch ?? e.job) as string | undefined;
    if (typeof job !== "string" || typeof e.event !== "string") continue;
    const key = e.stage === undefined ? String(e.event) : `${e.event}:${e.stage}`;
    let events = byJob.get(job);
    if (events === undefined) byJob.set(job, events = new Map());
    if (!events.has(key)) events.set(key, { t: Date.parse(String(e.time)) / 1000, e });
  }
  const spans = new Map<string, number[]>();
  const add = (name: string, seconds: number | undefined) => {
    if (seconds === undefined || !Number.isFinite(seconds)) return;
    if (!spans.has(name)) spans.set(name, []);
    spans.get(name)!.push(seconds);
  };
  for (const events of byJob.values()) {
    const at = (key: string) => events.get(key)?.t;
    const counted = at("survey_batch_counted");
    const formed = at("survey_batch_formed");
    if (counted === undefined || formed === undefined) continue;
    add("collector: post the batch to the board", (at("survey_batch_sent") ?? NaN) - formed);
    let previous = at("survey_batch_sent");
    let stage = 0;
    for (; events.has(`cascade_mixed:${stage}`); stage++) {
      const mixed = events.get(`cascade_mixed:${stage}`)!;
      const took = Number(mixed.e.seconds);
      const fetch = Number(mixed.e.fetchSeconds);
      add(`mixer ${stage}: pick up`, mixed.t - took - (previous ?? NaN));
      add(`mixer ${stage}: fetch items`, fetch);
      add(`mixer ${stage}: mix`, took - fetch);
      const posted = at(`cascade_posted:${stage}`);
      add(`mixer ${stage}: post, board verifies and stores`, (posted ?? NaN) - mixed.t);
      previous = posted;
    }
    add("collector: pick up, fetch and count", counted - (previous ?? NaN));
    add("whole batch: formed → counted", counted - formed);
  }
  const out: Record<string, StageSeconds> = {};
  for (const [name, xs] of spans) {
    const q = quantiles(xs);
    out[name] = { p50: q.p50, max: q.max, batches: xs.length };
  }
  return out;
}

function quantiles(xs: number[]): { p50: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0;
  return { p50: at(0.5), p95: at(0.95), max: s.length ? s[s.length - 1]! : 0 };
}

async function cpuSeconds(pid: number): Promise<number> {
  // ps "times": cumulative user + system CPU seconds of the process.
  const out = await new Deno.Command("ps", { args: ["-o", "times=", "-p", String(pid)] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

/** Bytes in use in a stopped node's database (pages minus free pages). */
function storeBytes(dir: string): number {
  const db = new DatabaseSync(`${dir}/node.sqlite`, { readOnly: true });
  try {
    const one = (sql: string) => Object.values(db.prepare(sql).get() as object)[0] as number;
    return (one("PRAGMA page_count") - one("PRAGMA freelist_count")) * one("PRAGMA page_size");
  } finally {
    db.close();
  }
}

function loadAverage(): number {
  return Deno.loadavg()[0]!;
}

/** The node directories of a local survey service. */
export interface SurveyNodeDirs {
  /** The cascade's public key (reports are sealed to it). */
  cascade: SphinxCascade;
  /** Nodes in start order: board, mixer0..2, collector (last). */
  nodes: { name: string; configPath: string; dir: string }[];
}

/**
 * Writes the node directories of a local survey service on loopback: a board, three
 * `decrypt` cascade mixers (each with its own mixer secret) and a collector that is
 * the board's admin, configured with one survey.
 *
 * @param root directory to write into
 * @param options the survey, batch size, round length, log level
 * @returns the cascade and the nodes' config paths, in start order
 * @example
 * ```ts ignore
 * const { nodes } = await writeSurveyNodes("/tmp/svc", { definition });
 * ```
 */
export async function writeSurveyNodes(
  root: string,
  options: {
    definition: SurveyDefinition;
    batchReports?: number;
    roundSeconds?: number;
    logLevel?: "debug" | "info" | "warn" | "error";
    collectorPort?: number;
    /** The devices all connect from loopback (a load run): no per-address connection bound. */
    devicesOnLoopback?: boolean;
  },
): Promise<SurveyNodeDirs> {
  const keys = generateSphinxCascade({ mixers: 3, payloadSize: 256 });
  const collectorId = generateIdentity();
  const boardPort = freePort();
  const boardUrl = `http://127.0.0.1:${boardPort}`;
  const logLevel = options.logLevel ?? "warn";
  const nodes: { name: string; configPath: string; dir: string }[] = [];
  const board = await writeNodeDir(`${root}/board`, {
    name: "board",
    roles: ["board"],
    httpPort: boardPort,
    admins: [toBase64Url(collectorId.publicKey)],
    logLevel,
  });
  nodes.push({ name: "board", configPath: board.configPath, dir: `${root}/board` });
  const mixers: string[] = [];
  for (let i = 0; i < 3; i++) {
    const m = await writeNodeDir(`${root}/mixer${i}`, {
      name: `mixer${i}`,
      roles: ["cascade"],
      boardUrl,
      pollIntervalMs: 100,
      logLevel,
      mixKeys: { decrypt: encodeSphinxMixerSecret(keys.secrets[i]!) },
    });
    mixers.push(toBase64Url(m.identity.publicKey));
    nodes.push({ name: `mixer${i}`, configPath: m.configPath, dir: `${root}/mixer${i}` });
  }
  const dir = `${root}/collector`;
  const collector = await writeNodeDir(dir, {
    name: "collector",
    roles: ["survey"],
    boardUrl,
    identity: collectorId,
    logLevel,
    // Every simulated device connects from 127.0.0.1: the per-address bound (64, against
    // one client holding many connections) would refuse a burst that many devices send.
    ...(options.devicesOnLoopback ? { limits: { maxConnectionsPerAddress: 100_000 } } : {}),
    ...(options.collectorPort === undefined ? {} : { httpPort: options.collectorPort }),
  });
  await writeEnvelopeFile(`${dir}/cascade.pub.json`, encodeSphinxCascade(keys.cascade));
  await Deno.writeTextFile(`${dir}/survey.json`, JSON.stringify(options.definition, null, 2));
  const config = JSON.parse(await Deno.readTextFile(collector.configPath));
  config.survey = {
    pollIntervalMs: 100,
    surveys: [{
      definition: "survey.json",
      cascade: "cascade.pub.json",
      mixers,
      roundSeconds: options.roundSeconds ?? 86400,
      batchReports: options.batchReports ?? 0,
    }],
  };
  await Deno.writeTextFile(collector.configPath, JSON.stringify(config, null, 2));
  nodes.push({ name: "collector", configPath: collector.configPath, dir });
  return { cascade: keys.cascade, nodes };
}

/**
 * Runs the load: starts the five node processes, streams reports, waits for every
 * acknowledged report to be counted, stops the nodes and removes their files.
 *
 * @param options rates, length, burst, batch size
 * @returns the measured figures
 * @example
 * ```ts ignore
 * const r = await runSurveyLoad({ seconds: 60 });
 * ```
 */
export async function runSurveyLoad(options: SurveyLoadOptions = {}): Promise<SurveyLoadResult> {
  const rate = options.rate ?? 58;
  const seconds = options.seconds ?? 120;
  const burstFactor = options.burstFactor ?? 10;
  const burstAt = options.burstAt ?? 30;
  const burstSeconds = options.burstSeconds ?? 20;
  const log = options.onProgress ?? (() => {});
  const def = SURVEY_LOAD_DEFINITION;
  const perDevice = def.questions.length;
  const root = await Deno.makeTempDir({ prefix: "panoramix-survey-load-" });
  const nodes: { name: string; proc: NodeProcess; dir: string }[] = [];
  const loadBefore = loadAverage();
  try {
    const written = await writeSurveyNodes(root, {
      definition: def,
      batchReports: options.batchReports ?? 1000,
      logLevel: options.logLevel ?? (options.timeline ? "info" : "warn"),
      devicesOnLoopback: true,
    });
    const keys = written;
    const lines: string[] = [];
    const nice = options.niceCascade ?? 10;
    if (options.profileDir !== undefined) await Deno.mkdir(options.profileDir, { recursive: true });
    for (const n of written.nodes) {
      const proc = await NodeProcess.spawn(n.configPath, {
        ...(n.name === "collector" || nice === 0 ? {} : { nice }),
        onLine: (line: string) => {
          if (options.timeline) lines.push(line);
          if (options.logFile !== undefined) {
            Deno.writeTextFileSync(options.logFile, `${n.name}: ${line}\n`, { append: true });
          }
        },
        ...(options.profileDir === undefined ? {} : {
          denoFlags: [
            "--cpu-prof",
            `--cpu-prof-dir=${options.profileDir}`,
            `--cpu-prof-name=${n.name}.cpuprofile`,
          ],
        }),
      });
      nodes.push({ name: n.name, proc, dir: n.dir });
    }
    const coll = nodes[nodes.length - 1]!.proc;
    const url = coll.info.url;

    // Devices seal their reports up front (device CPU is not the collector's); every
    // packet is fresh, since the cascade drops replayed packets.
    const devices = Math.ceil(
      (rate * (seconds - burstSeconds) + rate * burstFactor * burstSeconds) / perDevice,
    );
    log(`sealing ${devices * perDevice} reports of ${devices} device rounds…`);
    const random = seededRandom("survey-load");
    const pool: Uint8Array[][] = [];
    for (let i = 0; i < devices; i++) {
      const reports = surveyRespond(def, {
        answers: { segment: i % 10, speed: 20 + (i % 90) },
        random,
      });
      const packets: Uint8Array[] = [];
      for (const r of reports) packets.push(await sealSurveyReport(r, keys.cascade));
      pool.push(packets);
    }
    const cpuBefore = await Promise.all(nodes.map((n) => cpuSeconds(n.proc.info.pid)));
    log(
      `streaming: ${rate}/s sustained, ${
        rate * burstFactor
      }/s from ${burstAt} s for ${burstSeconds} s`,
    );
    const ackTimes: number[] = [];
    let sent = 0;
    let acknowledged = 0;
    let next = 0;
    const start = performance.now();
    const inflight = new Set<Promise<void>>();
    let burstAcked = 0;
    let retried = 0;
    let lost = 0;
    const retryForMs = (options.retryForSeconds ?? 120) * 1000;
    const causes = new Map<string, number>();
    // Open-loop schedule: device round i is due at the time its reports reach the offered rate.
    const dueAt = (i: number): number => {
      const reportsBefore = i * perDevice;
      const beforeBurst = rate * burstAt;
      if (reportsBefore < beforeBurst) return reportsBefore / rate;
      const burstReports = rate * burstFactor * burstSeconds;
      if (reportsBefore < beforeBurst + burstReports) {
        return burstAt + (reportsBefore - beforeBurst) / (rate * burstFactor);
      }
      return burstAt + burstSeconds + (reportsBefore - beforeBurst - burstReports) / rate;
    };
    // Follow the counted total during the run; each increase closes the delay of the
    // reports it covers (acknowledged in order of time).
    const ackToEstimate: number[] = [];
    const batchToEstimate: number[] = [];
    // Each estimate update: when, and how long after its batch was full.
    const delaysAt: { at: number; delay: number }[] = [];
    // Reports sent by the end of the burst, and when all of them were counted.
    let sentAtBurstEnd: number | undefined;
    let caughtUpAt: number | undefined;
    const roundsSeconds: number[] = [];
    let counted = 0;
    let waiting = 0;
    let streamDone = false;
    const batch = options.batchReports ?? 1000;
    const follow = async (): Promise<void> => {
      let deadline = Infinity;
      for (;;) {
        const asked = performance.now();
        let r: { pending: { waiting: number; mixing: number }; rounds: { reports: number[] }[] };
        try {
          r = await fetch(`${url}/v1/surveys/${def.id}/rounds`).then((x) => x.json());
        } catch (error) {
          log(`estimates not read: ${(error as Error).message}`);
          if (streamDone && performance.now() > deadline) return;
          await new Promise((res) => setTimeout(res, 500));
          continue;
        }
        const total = r.rounds.reduce((a, x) => a + x.reports.reduce((s, n) => s + n, 0), 0);
        roundsSeconds.push((performance.now() - asked) / 1000);
        const now = (performance.now() - start) / 1000;
        if (total > counted) {
          const acks = [...ackTimes].sort((x, y) => x - y);
          for (let k = counted; k < total; k++) ackToEstimate.push(now - (acks[k] ?? now));
          batchToEstimate.push(now - (acks[total - 1] ?? now));
          delaysAt.push({ at: now, delay: now - (acks[total - 1] ?? now) });
          if (sentAtBurstEnd !== undefined && caughtUpAt === undefined && total >= sentAtBurstEnd) {
            caughtUpAt = now;
          }
          counted = total;
        }
        waiting = r.pending.waiting;
        if (streamDone) {
          if (deadline === Infinity) deadline = performance.now() + 120_000;
          if (r.pending.mixing === 0 && waiting < batch && counted + waiting >= acknowledged) {
            return;
          }
          if (performance.now() > deadline) {
            log("gave up waiting for the last batches");
            return;
          }
        }
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const following = follow();
    while (next < pool.length) {
      const t = (performance.now() - start) / 1000;
      if (t >= seconds) break;
      while (next < pool.length && dueAt(next) <= t) {
        const packets = pool[next++]!;
        sent += packets.length;
        // A device keeps its reports until the collector acknowledges them: it retries
        // (Retry-After, or backoff with jitter) for a bounded window, then gives up loudly.
        const submit = () =>
          submitSurveyPacketsUntilAcknowledged(packets, {
            collector: url,
            survey: def.id,
            retryForMs,
            onRetry: (_attempt, error) => {
              retried++;
              let deepest = error as Error;
              while (deepest.cause instanceof Error) deepest = deepest.cause;
              const why = (error instanceof SurveySubmitError ? error.message : deepest.message)
                .replace(/from [\d.:]+ for \S+/, "").slice(0, 120);
              causes.set(why, (causes.get(why) ?? 0) + 1);
            },
          });
        const p = submit().then(() => {
          const now = (performance.now() - start) / 1000;
          for (let k = 0; k < packets.length; k++) ackTimes.push(now);
          acknowledged += packets.length;
          if (now >= burstAt && now < burstAt + burstSeconds) burstAcked += packets.length;
        }, (error) => {
          lost += packets.length;
          if (lost <= 2 * packets.length) log(`submission given up: ${(error as Error).message}`);
        });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      if (sentAtBurstEnd === undefined && t >= burstAt + burstSeconds) sentAtBurstEnd = sent;
      if (Math.floor(t / 10) !== Math.floor((t - 0.005) / 10)) {
        log(`${t.toFixed(0)} s: ${acknowledged} acknowledged, ${counted} counted`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(inflight);
    const streamSeconds = (performance.now() - start) / 1000;
    if (retried > 0) log(`${retried} submissions failed once and were retried`);
    for (const [why, n] of causes) log(`  ${n} × ${why}`);
    log(`streamed ${sent} reports in ${streamSeconds.toFixed(1)} s; waiting for the last batches`);
    streamDone = true;
    await following;

    // Jobs the board has not finished (diagnostics when reports are missing).
    const boardJobs = await fetch(`${nodes[0]!.proc.info.url}/v1/board/jobs`).then((x) => x.json())
      .catch(() => ({ jobs: [] })) as {
        jobs: { job: string; state: string; stage: number; inputs: number }[];
      };
    // Connections the collector closed (evicted, timed out): why a device got no answer.
    const metrics = await fetch(`${url}/metrics`).then((x) => x.text()).catch(() => "");
    for (const line of metrics.split("\n")) {
      if (/connections_closed_total\{|survey_reports_busy_total\{/.test(line)) {
        log(`collector ${line}`);
      }
    }
    const unfinished = boardJobs.jobs.filter((j) => j.state !== "done");
    if (unfinished.length > 0) log(`unfinished jobs: ${JSON.stringify(unfinished)}`);
    const cpuAfter = await Promise.all(nodes.map((n) => cpuSeconds(n.proc.info.pid)));
    const cpu = nodes.map((n, i) => ({ name: n.name, s: cpuAfter[i]! - cpuBefore[i]! }));
    // Stopped gracefully, each node has checkpointed its WAL into node.sqlite.
    for (const n of [...nodes].reverse()) await n.proc.stop("SIGTERM");
    const sizes = nodes.map((n) => storeBytes(`${n.dir}/data`));
    const per = (x: number) => (counted ? (1000 * x) / counted : 0);
    const perMillion = (x: number) => (counted ? (x * 1e6) / counted : 0);
    const sum = (f: (name: string) => boolean, xs: number[]) =>
      nodes.reduce((a, n, i) => a + (f(n.name) ? xs[i]! : 0), 0);
    return {
      sent,
      acknowledged,
      counted,
      waiting,
      offered: { sustained: rate, burst: rate * burstFactor },
      ingestPerSecond: { run: acknowledged / streamSeconds, burst: burstAcked / burstSeconds },
      retries: retried,
      retryCauses: Object.fromEntries(causes),
      lost,
      ackToEstimate: quantiles(ackToEstimate),
      batchToEstimate: quantiles(batchToEstimate),
      burst: (() => {
        const end = burstAt + burstSeconds;
        const during = delaysAt.filter((d) => d.at >= burstAt && d.at < (caughtUpAt ?? Infinity));
        const outside = delaysAt.filter((d) => d.at < burstAt || d.at >= (caughtUpAt ?? Infinity));
        return {
          sentByEnd: sentAtBurstEnd ?? sent,
          catchUpSeconds: caughtUpAt === undefined ? null : caughtUpAt - end,
          maxDelayDuring: Math.max(0, ...during.map((d) => d.delay)),
          delayOutside: quantiles(outside.map((d) => d.delay)),
        };
      })(),
      estimatesRequest: quantiles(roundsSeconds),
      cpuMsPerReport: {
        total: per(cpu.reduce((a, c) => a + c.s, 0)),
        collector: per(cpu.find((c) => c.name === "collector")!.s),
        board: per(cpu.find((c) => c.name === "board")!.s),
        mixers: per(cpu.filter((c) => c.name.startsWith("mixer")).reduce((a, c) => a + c.s, 0)),
      },
      storeBytesPerMillion: {
        collector: perMillion(sum((n) => n === "collector", sizes)),
        board: perMillion(sum((n) => n === "board", sizes)),
        mixers: perMillion(sum((n) => n.startsWith("mixer"), sizes)),
      },
      seconds: (performance.now() - start) / 1000,
      load: { before: loadBefore, after: loadAverage() },
      ...(options.timeline ? { stages: batchStages(lines) } : {}),
    };
  } finally {
    if (options.logLevel === "info" || options.logLevel === "debug") {
      for (const n of nodes) for (const line of n.proc.log.slice(-40)) log(`${n.name}: ${line}`);
    }
    for (const n of nodes.reverse()) await n.proc.stop("SIGTERM").catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
