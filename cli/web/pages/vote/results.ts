/// <reference lib="dom" />
/**
 * The results page: the tally of a published election transcript, and a "verify this
 * election" button that runs the universal verifier (`verifyElection`) in this browser,
 * its heavy work on the library's worker pool (`/web/vote-verify-worker.js`), with a
 * progress bar, an estimate of the time left, and every check listed as it passes
 * (Helios's verifier is the model); the failing check of a tampered transcript is shown
 * with the reason. Any transcript file can be checked the same way. Browser module.
 *
 * The page decodes the transcript on its main thread, where Chrome refuses synchronous
 * WebAssembly compilation: the engine is compiled asynchronously first
 * (`prepareCurveEngine`), and plain JavaScript (noble) is used where that is refused.
 *
 * @module
 */

import { setWorkerEntry, workerCount } from "../../../../core/mod.ts";
import { prepareCurveEngine } from "../../../../backends/reencrypt/mod.ts";
import {
  type ElectionTranscript,
  electionTranscriptFromEnvelope,
  readElectionTranscriptStream,
  verifyElection,
} from "../../../../plugins/vote/mod.ts";
import {
  byId,
  electionPages,
  element,
  findElection,
  link,
  NodeAnswerError,
  showElectionChoices,
} from "./common.ts";

const status = byId("status");
const errorBox = byId("error");
const runButton = byId<HTMLButtonElement>("run");
const progress = byId<HTMLProgressElement>("progress");
const eta = byId("eta");
const checksList = byId("checks");
const verdict = byId("verdict");

let current: ElectionTranscript | undefined;
let running = false;

/** A transcript from a file or a response: the JSON view whole, msgpack a chunk at a time. */
async function decodeTranscript(source: Blob, what: string): Promise<ElectionTranscript> {
  const first = new Uint8Array(await source.slice(0, 1).arrayBuffer());
  if (first[0] === 0x7b) {
    return electionTranscriptFromEnvelope(JSON.parse(await source.text()), what);
  }
  return await readElectionTranscriptStream(source.stream(), what);
}

function showTally(transcript: ElectionTranscript, source: string): void {
  const { definition, tally } = transcript;
  const box = byId("tally");
  box.replaceChildren();
  byId("title").textContent = `Results: ${definition.title}`;
  document.title = `Results: ${definition.title}`;
  status.textContent = `${source}. ${tally.ballots} ballot${
    tally.ballots === 1 ? "" : "s"
  } counted: ${tally.valid} valid, ${tally.invalid} invalid.`;
  status.className = "";
  definition.questions.forEach((q, i) => {
    const t = tally.questions[i]!;
    box.append(element("h2", `${i + 1}. ${q.text}`));
    const table = element("table", "", "tally");
    const head = element("tr");
    head.append(element("th", "Choice"), element("th", ""));
    if (t.ranks) head.append(element("th", "First choice"), element("th", "Ranked at all"));
    else head.append(element("th", "Votes"));
    table.append(head);
    const max = Math.max(1, ...t.counts, t.blank);
    const row = (label: string, count: number, first?: number) => {
      const tr = element("tr");
      const barCell = element("td");
      barCell.style.width = "40%";
      const bar = element("span", "", "bar");
      bar.style.width = `${(100 * (first ?? count)) / max}%`;
      barCell.append(bar);
      tr.append(element("th", label), barCell);
      if (first !== undefined) tr.append(element("td", String(first), "count"));
      tr.append(element("td", String(count), "count"));
      table.append(tr);
    };
    q.choices.forEach((c, j) => row(c, t.counts[j]!, t.ranks ? t.ranks[j]![0]! : undefined));
    row("Blank", t.blank, t.ranks ? t.blank : undefined);
    box.append(table);
  });
  byId("verify").hidden = false;
  resetChecks(transcript);
}

// --- The verification steps (docs/vote.md, "The universal verifier") ---

interface Check {
  /** What the voter reads. */
  text: string;
  /** Matches an error message of this step. */
  error: (message: string) => boolean;
  /** Relative cost, for the progress bar. */
  weight: number;
  li: HTMLLIElement;
  state: "pending" | "running" | "passed" | "failed" | "skipped";
  progress: number;
}

let checks: Check[] = [];

function resetChecks(transcript: ElectionTranscript): void {
  const n = Math.max(1, transcript.ballots.length);
  const defs: Array<Omit<Check, "li" | "state" | "progress">> = [
    {
      text: "The election definition matches its fingerprint",
      error: (m) => m.startsWith("Election:"),
      weight: 0.001 * n,
    },
    {
      text: `The trustees' key ceremony gives the election key`,
      error: (m) => m.startsWith("Key ceremony"),
      weight: 0.01 * n,
    },
    {
      text: `All ${transcript.ballots.length} ballots are well formed, proven, and follow the ` +
        "ballot box rules (no replay, copy or double vote)",
      error: (m) => m.startsWith("Ballot "),
      weight: 1 * n,
    },
    {
      text: "The mix input is exactly the counted ballots",
      error: (m) => m.startsWith("Cleansing"),
      weight: 0.02 * n,
    },
    ...transcript.definition.mixers.map((name, m) => ({
      text: `Mixer ${m + 1} (${name}) shuffled the ballots without changing any (shuffle proof)`,
      error: (msg: string) =>
        msg.startsWith(`Mixer ${m + 1} `) || (m === 0 && msg.startsWith("Mixing")),
      weight: 2 * n,
    })),
    ...transcript.decryption.map((d, k) => ({
      text: `Trustee ${d.trustee} (${
        transcript.definition.trustees[d.trustee - 1] ?? "unknown"
      }) decrypted correctly (decryption proofs)`,
      error: (msg: string) =>
        msg.startsWith(`Trustee ${d.trustee}:`) || (k === 0 && msg.startsWith("Decryption")),
      weight: 0.4 * n,
    })),
    {
      text: "The published plaintexts match the trustees' decryptions",
      error: (m) => m.startsWith("Plaintext"),
      weight: 0.5 * n,
    },
    {
      text: "The published votes match the plaintexts",
      error: (m) => m.startsWith("Decoded"),
      weight: 0.1 * n,
    },
    {
      text: "The tally adds up the decrypted votes",
      error: (m) => m.startsWith("Tally"),
      weight: 0.01 * n,
    },
  ];
  checksList.replaceChildren();
  checks = defs.map((d) => {
    const li = element("li", d.text, "pending");
    checksList.append(li);
    return { ...d, li, state: "pending", progress: 0 };
  });
  verdict.replaceChildren();
  progress.value = 0;
  eta.textContent = "";
  byId("progress-box").hidden = true;
}

function mark(index: number, state: Check["state"]): void {
  const c = checks[index];
  if (c === undefined) return;
  c.state = state;
  c.li.className = state;
  if (state === "passed") c.progress = 1;
}

/** Marks every step before `index` passed and `index` running. */
function reach(index: number, fraction = 0): void {
  for (let i = 0; i < index; i++) if (checks[i]!.state !== "passed") mark(i, "passed");
  const c = checks[index];
  if (c && c.state !== "running") mark(index, "running");
  if (c) c.progress = Math.max(c.progress, fraction);
}

function formatSeconds(s: number): string {
  if (s < 1) return "less than a second";
  if (s < 90) return `about ${Math.round(s)} seconds`;
  return `about ${Math.round(s / 60)} minutes`;
}

async function runVerification(): Promise<void> {
  const transcript = current;
  if (transcript === undefined || running) return;
  running = true;
  runButton.disabled = true;
  resetChecks(transcript);
  byId("progress-box").hidden = false;
  const mixers = transcript.definition.mixers.length;
  const firstMixer = 4;
  const firstTrustee = firstMixer + mixers;
  const plaintextStep = firstTrustee + transcript.decryption.length;
  const total = checks.reduce((s, c) => s + c.weight, 0);
  const started = performance.now();
  let stepStarted = started;
  let runningIndex = 0;
  let secondsPerWeight: number | undefined;
  const update = () => {
    const now = performance.now();
    // Within a step that reports no progress (a shuffle proof), move by the time it should take.
    const c = checks[runningIndex];
    if (c && c.state === "running" && secondsPerWeight !== undefined && c.progress < 0.95) {
      const expected = c.weight * secondsPerWeight;
      c.progress = Math.max(c.progress, Math.min(0.95, (now - stepStarted) / 1000 / expected));
    }
    const done = checks.reduce((s, k) => s + k.weight * k.progress, 0) / total;
    progress.value = Math.round(1000 * done);
    const elapsed = (now - started) / 1000;
    if (done > 0.03 && done < 1) {
      eta.textContent = `${Math.round(100 * done)}% checked, ${
        formatSeconds((elapsed * (1 - done)) / done)
      } left`;
    } else if (done < 1) {
      eta.textContent = `Checking… (${workerCount()} workers)`;
    }
  };
  const enter = (index: number, fraction = 0) => {
    if (index !== runningIndex) {
      const now = performance.now();
      // The ballot proofs calibrate the estimate of the steps that report no progress.
      if (runningIndex === 2 && secondsPerWeight === undefined) {
        secondsPerWeight = (now - stepStarted) / 1000 / checks[2]!.weight;
      }
      stepStarted = now;
      runningIndex = index;
    }
    reach(index, fraction);
    update();
  };
  const timer = setInterval(update, 250);
  enter(0);
  try {
    const report = await verifyElection(transcript, {
      onProgress: ({ phase, done, total }) => {
        const f = total > 0 ? done / total : 1;
        if (phase === "key ceremony") enter(2);
        else if (phase === "verify ballot proofs") enter(2, 0.9 * f);
        else if (phase === "cast") enter(f >= 1 ? firstMixer : 2, f >= 1 ? 0 : 0.9 + 0.1 * f);
        else if (phase === "mixes") enter(firstMixer + done);
        else if (phase.startsWith("trustee ")) {
          const k = transcript.decryption.findIndex((d) =>
            phase.startsWith(`trustee ${d.trustee}:`)
          );
          if (k >= 0) enter(f >= 1 ? firstTrustee + k + 1 : firstTrustee + k, f >= 1 ? 0 : f);
        } else if (phase === "check plaintexts") {
          enter(f >= 1 ? plaintextStep + 1 : plaintextStep, f);
        }
      },
    });
    for (let i = 0; i < checks.length; i++) mark(i, "passed");
    progress.value = 1000;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    eta.textContent = `Done in ${seconds} s.`;
    verdict.replaceChildren(
      element(
        "p",
        `This election verifies: all ${report.ballots} ballots, ${report.mixers} mixer${
          report.mixers === 1 ? "" : "s"
        } and ${report.trustees.length} trustee${
          report.trustees.length === 1 ? "" : "s"
        } checked; the tally above is the count of the ballots cast.`,
        "ok-box",
      ),
    );
  } catch (error) {
    const message = (error as Error).message;
    let failed = checks.findIndex((c) => c.error(message));
    if (failed < 0) failed = checks.findIndex((c) => c.state === "running");
    if (failed < 0) failed = 0;
    reach(failed);
    mark(failed, "failed");
    for (let i = failed + 1; i < checks.length; i++) mark(i, "skipped");
    checks[failed]!.li.append(element("span", message, "why"));
    eta.textContent = "Stopped at the first failed check.";
    verdict.replaceChildren(
      element(
        "p",
        `This election does NOT verify: “${
          checks[failed]!.text
        }” failed. The tally above cannot be trusted.`,
        "bad-box",
      ),
    );
  } finally {
    clearInterval(timer);
    running = false;
    runButton.disabled = false;
  }
}

async function loadFile(file: File): Promise<void> {
  errorBox.textContent = "";
  try {
    current = await decodeTranscript(file, file.name);
    showTally(current, `Transcript file “${file.name}”`);
    runButton.focus();
  } catch (error) {
    errorBox.textContent = `This file is not a readable election transcript: ${
      (error as Error).message
    }`;
  }
}

async function start(): Promise<void> {
  setWorkerEntry(new URL("/web/vote-verify-worker.js", location.href));
  runButton.addEventListener("click", () => void runVerification());
  byId<HTMLInputElement>("file").addEventListener("change", (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) void loadFile(file);
  });
  const wasm = await prepareCurveEngine();
  byId("engine").textContent = wasm
    ? "Arithmetic: WebAssembly."
    : "Arithmetic: plain JavaScript (this page may not use WebAssembly here; checks are slower).";
  try {
    const found = await findElection();
    if ("choices" in found) {
      showElectionChoices(byId("choices"), found.choices);
      status.textContent = "";
      return;
    }
    const details = found.details;
    const pages = electionPages(details.id);
    byId("links").append(
      link(pages.booth, "Voting booth"),
      " · ",
      link(pages.check, "Check my ballot"),
    );
    byId("title").textContent = `Results: ${details.title}`;
    if (!details.results) {
      const n = `${details.ballots} ballot${details.ballots === 1 ? "" : "s"}`;
      status.textContent = details.state === "open"
        ? `Voting is open: ${n} cast so far. Results appear here once the election is tallied.`
        : `Voting is closed with ${n}. Results appear here once the election is tallied.`;
      return;
    }
    status.textContent = "Downloading the election transcript…";
    const response = await fetch(`/v1/vote/elections/${encodeURIComponent(details.id)}/transcript`);
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    current = await decodeTranscript(await response.blob(), "transcript");
    showTally(current, "Published results");
  } catch (error) {
    status.textContent = "";
    errorBox.textContent = error instanceof NodeAnswerError
      ? `The results cannot be shown: ${error.message}`
      : `The results cannot be shown: ${(error as Error).message}`;
  }
}

start();
