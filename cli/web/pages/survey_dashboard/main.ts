/// <reference lib="dom" />
/**
 * The survey dashboard: for each question, the latest published round's estimates
 * as bars with 95% confidence-interval whiskers, and a time series across rounds;
 * the number of reports and the central ε reached against the target. Polls the
 * collector every two seconds, so it updates while reports arrive. Charts are drawn
 * with uPlot (bundled into this page; no CDN). Browser module.
 *
 * @module
 */

import uPlot from "uplot";

interface Frequency {
  option: string;
  estimate: number;
  low: number;
  high: number;
}
interface QuestionEstimate {
  id: string;
  type: string;
  n: number;
  frequencies?: Frequency[];
  mean?: { estimate: number; low: number; high: number };
}
interface RoundView {
  round: number;
  start: number;
  end: number;
  reports: number[];
  batches: number;
  updated: number;
  published: boolean;
  privacy: {
    epsilon: number | null;
    delta: number;
    target: { epsilon: number; delta: number };
    meetsTarget: boolean;
  };
  estimate?: { questions: QuestionEstimate[] };
}
interface RoundsJson {
  survey: string;
  current: { index: number; start: number; end: number };
  pending: { waiting: number; mixing: number };
  rounds: RoundView[];
}
interface SurveyInfo {
  id: string;
  definition: {
    questions: { id: string; type: string; options?: string[]; min?: number; max?: number }[];
    target: { epsilon: number; delta: number };
  };
  roundSeconds: number;
}

const POLL_MS = 2000;
/** Most options drawn as lines in a time series (the largest ones). */
const MAX_LINES = 6;
const COLORS = ["#0a5dc2", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989"];

function $(id: string): HTMLElement {
  return document.getElementById(id)!;
}

function el(tag: string, text = "", className = ""): HTMLElement {
  const e = document.createElement(tag);
  if (text) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** Draws 95% interval whiskers over the bars (uPlot draw hook). */
function whiskers(low: number[], high: number[]): (u: uPlot) => void {
  return (u) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = "#1b1f24";
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    const cap = 5 * devicePixelRatio;
    for (let i = 0; i < low.length; i++) {
      const x = u.valToPos(i, "x", true);
      const y0 = u.valToPos(low[i]!, "y", true);
      const y1 = u.valToPos(high[i]!, "y", true);
      ctx.beginPath();
      ctx.moveTo(x, y0);
      ctx.lineTo(x, y1);
      ctx.moveTo(x - cap, y0);
      ctx.lineTo(x + cap, y0);
      ctx.moveTo(x - cap, y1);
      ctx.lineTo(x + cap, y1);
      ctx.stroke();
    }
    ctx.restore();
  };
}

function width(container: HTMLElement): number {
  return Math.max(320, Math.min(560, container.clientWidth || 480));
}

/** Bars with whiskers for one round's estimates of one question. */
function barChart(container: HTMLElement, q: QuestionEstimate, numeric: boolean): void {
  const labels = numeric ? ["mean"] : q.frequencies!.map((f) => f.option);
  const est = numeric ? [q.mean!.estimate] : q.frequencies!.map((f) => f.estimate);
  const low = numeric ? [q.mean!.low] : q.frequencies!.map((f) => f.low);
  const high = numeric ? [q.mean!.high] : q.frequencies!.map((f) => f.high);
  const xs = labels.map((_, i) => i);
  const yMin = numeric ? Math.min(0, ...low) : Math.min(0, ...low);
  const yMax = numeric ? Math.max(...high) * 1.1 : Math.max(0.05, ...high) * 1.1;
  const opts: uPlot.Options = {
    width: width(container),
    height: 240,
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: [yMin, yMax] } },
    axes: [
      {
        splits: () => xs,
        values: (_u, splits) => splits.map((i) => labels[i] ?? ""),
        rotate: labels.length > 8 ? -60 : 0,
        size: labels.length > 8 ? 70 : 30,
        gap: 4,
      },
      { values: (_u, splits) => splits.map((v) => numeric ? v.toFixed(1) : percent(v)), size: 56 },
    ],
    series: [
      {},
      {
        label: q.id,
        fill: "rgba(10, 93, 194, 0.35)",
        stroke: "#0a5dc2",
        width: 1,
        paths: uPlot.paths.bars!({ size: [0.7, 60] }),
        points: { show: false },
      },
    ],
    hooks: { draw: [whiskers(low, high)] },
  };
  new uPlot(opts, [xs, est], container);
}

/** Estimates across published rounds (one line per option, or the mean with its interval). */
function seriesChart(
  container: HTMLElement,
  rounds: RoundView[],
  index: number,
  numeric: boolean,
): void {
  const published = rounds.filter((r) => r.published && r.estimate);
  const xs = published.map((r) => r.start / 1000);
  const series: uPlot.Series[] = [{}];
  const data: (number | null)[][] = [xs];
  if (numeric) {
    const qs = published.map((r) => r.estimate!.questions[index]!.mean!);
    series.push(
      { label: "mean", stroke: COLORS[0]!, width: 2 },
      { label: "95% low", stroke: COLORS[0]!, dash: [4, 4], width: 1 },
      { label: "95% high", stroke: COLORS[0]!, dash: [4, 4], width: 1 },
    );
    data.push(qs.map((m) => m.estimate), qs.map((m) => m.low), qs.map((m) => m.high));
  } else {
    const last = published[published.length - 1]!.estimate!.questions[index]!.frequencies!;
    const top = last.map((f, i) => ({ f, i })).sort((a, b) => b.f.estimate - a.f.estimate)
      .slice(0, MAX_LINES);
    top.forEach(({ f, i }, j) => {
      series.push({ label: f.option, stroke: COLORS[j % COLORS.length]!, width: 2 });
      data.push(published.map((r) => r.estimate!.questions[index]!.frequencies![i]!.estimate));
    });
  }
  const opts: uPlot.Options = {
    width: width(container),
    height: 240,
    cursor: { show: false },
    scales: { x: { time: true } },
    axes: [
      {},
      {
        values: (_u, splits) => splits.map((v) => numeric ? v.toFixed(1) : percent(v)),
        size: 56,
      },
    ],
    series,
  };
  new uPlot(opts, data as uPlot.AlignedData, container);
}

let info: SurveyInfo | undefined;
let lastStamp = "";

function render(data: RoundsJson): void {
  const def = info!.definition;
  const latest = data.rounds[data.rounds.length - 1];
  const shown = [...data.rounds].reverse().find((r) => r.published);
  $("summary").hidden = false;
  const target = def.target.epsilon;
  const roundEl = $("round");
  roundEl.textContent = when(latest ? latest.start : data.current.start);
  roundEl.dataset.round = `${latest ? latest.round : data.current.index}`;
  $("reports").textContent = latest ? `${Math.max(...latest.reports)}` : "0";
  $("pending").textContent = `${data.pending.waiting + data.pending.mixing}`;
  const eps = latest?.privacy.epsilon ?? null;
  $("epsilon").textContent = eps === null ? "–" : eps.toFixed(3);
  const meter = $("epsilon-meter") as HTMLMeterElement;
  meter.max = Math.max(target * 2, eps ?? 0);
  meter.high = target;
  meter.optimum = 0;
  meter.value = eps ?? 0;
  $("epsilon-text").textContent = eps === null
    ? `no reports counted yet; target ε ≤ ${target}`
    : `ε = ${eps.toFixed(3)} against the target ε ≤ ${target} (δ = ${def.target.delta})`;
  const pub = $("published");
  if (!latest) {
    pub.textContent = "No batch has been mixed and counted yet.";
    pub.className = "muted";
  } else if (latest.published) {
    pub.textContent = `The round that started ${
      when(latest.start)
    } meets the privacy target: its estimates are published.`;
    pub.className = "ok";
  } else {
    pub.textContent = `The round that started ${
      when(latest.start)
    } does not meet the privacy target: its estimates are withheld.`;
    pub.className = "bad";
  }
  $("updated").textContent = `The current round runs until ${when(data.current.end)}. ` +
    (latest?.updated ? `Last batch counted ${when(latest.updated)}.` : "");

  // Charts are redrawn only when the counts changed.
  const stamp = data.rounds.map((r) => `${r.round}:${r.batches}:${r.updated}`).join(",");
  if (stamp === lastStamp) return;
  lastStamp = stamp;
  const box = $("questions");
  box.replaceChildren();
  def.questions.forEach((question, i) => {
    const section = el("section", "", "question");
    section.dataset.question = question.id;
    section.append(el("h3", question.id));
    const numeric = question.type === "numeric";
    if (!shown) {
      section.append(el("p", "No published estimates yet.", "muted"));
      box.append(section);
      return;
    }
    const q = shown.estimate!.questions[i]!;
    section.append(
      el(
        "p",
        `${q.n} reports in the round of ${when(shown.start)}` +
          (numeric
            ? `: mean ${q.mean!.estimate.toFixed(2)} (95% interval ${q.mean!.low.toFixed(2)} to ${
              q.mean!.high.toFixed(2)
            })`
            : ""),
        "muted",
      ),
    );
    const charts = el("div", "", "charts");
    const bars = el("div", "", "chart bars");
    const line = el("div", "", "chart series");
    bars.append(
      el("p", `Round of ${when(shown.start)}: estimate and 95% interval`, "chart-title"),
    );
    line.append(el("p", "Across rounds", "chart-title"));
    charts.append(bars, line);
    section.append(charts);
    box.append(section);
    barChart(bars, q, numeric);
    seriesChart(line, data.rounds, i, numeric);
  });
}

async function poll(id: string): Promise<void> {
  try {
    const r = await fetch(`/v1/surveys/${encodeURIComponent(id)}/rounds`);
    if (!r.ok) throw new Error(`the collector answered ${r.status}`);
    render(await r.json() as RoundsJson);
    $("status").textContent = "Live: this page updates every two seconds.";
    $("status").className = "ok";
  } catch (error) {
    $("status").textContent = `Cannot read the results: ${(error as Error).message}`;
    $("status").className = "bad";
  }
  setTimeout(() => poll(id), POLL_MS);
}

async function start(): Promise<void> {
  try {
    const r = await fetch("/v1/surveys");
    if (!r.ok) throw new Error(`this node does not run a survey collector (${r.status})`);
    const { surveys } = await r.json() as { surveys: SurveyInfo[] };
    if (surveys.length === 0) throw new Error("this collector runs no survey");
    const wanted = new URLSearchParams(location.search).get("survey");
    info = surveys.find((s) => s.id === wanted) ?? surveys[0]!;
    document.title = `Survey ${info.id}: results`;
    $("title").textContent = `Survey “${info.id}”: live results`;
    const nav = $("surveys");
    for (const s of surveys) {
      const a = el("a", s.id, s.id === info.id ? "current" : "") as HTMLAnchorElement;
      a.href = `/survey?survey=${encodeURIComponent(s.id)}`;
      nav.append(a);
    }
    const respond = el("a", "Answer this survey") as HTMLAnchorElement;
    respond.href = `/survey/respond?survey=${encodeURIComponent(info.id)}`;
    nav.append(respond);
    await poll(info.id);
  } catch (error) {
    $("status").textContent = `Cannot load the survey: ${(error as Error).message}`;
    $("status").className = "bad";
  }
}

start();
