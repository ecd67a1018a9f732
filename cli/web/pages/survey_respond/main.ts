/// <reference lib="dom" />
/**
 * The respondent page: a form built from the survey's definition, the local ε0 of
 * each question explained in plain words, and a Web Worker that randomizes the
 * answers in the browser, seals them to the mix cascade and sends them. The
 * browser keeps its ledger (memoized reports, budget spent) in localStorage, so it
 * answers at most once a round and never spends more than its budget. Browser module.
 *
 * @module
 */

interface Question {
  id: string;
  type: "categorical" | "multiple" | "numeric";
  options?: string[];
  maxSelections?: number;
  min?: number;
  max?: number;
  epsilon0: number;
}
interface SurveyInfo {
  id: string;
  definition: { id: string; questions: Question[] };
  plan: { question: string; mechanism: string; epsilon0: number }[];
}

function $(id: string): HTMLElement {
  return document.getElementById(id)!;
}

function el(tag: string, text = "", className = ""): HTMLElement {
  const e = document.createElement(tag);
  if (text) e.textContent = text;
  if (className) e.className = className;
  return e;
}

/** What ε0 means for one question, in words a respondent understands. */
function explain(q: Question, mechanism: string): string {
  const ratio = Math.exp(q.epsilon0);
  const times = ratio < 10 ? ratio.toFixed(1) : Math.round(ratio).toString();
  const bound = `Whatever report is sent, it is at most ${times} times more likely ` +
    `with your real answer than with any other answer (privacy level ε0 = ${q.epsilon0}).`;
  if (q.type === "numeric") {
    return `Your number is turned into a single random yes-or-no that only leans towards your value. ${bound}`;
  }
  if (mechanism === "krr") {
    const k = q.options!.length + (q.type === "multiple" ? q.maxSelections! : 0);
    const keep = ratio / (ratio + k - 1);
    const what = q.type === "multiple" ? "one of your choices (picked at random)" : "your answer";
    return `${Math.round(100 * keep)}% of the time ${what} is sent as it is; otherwise another ` +
      `answer is sent, picked at random. ${bound}`;
  }
  return `Your answer is scrambled with random noise before it is sent. ${bound}`;
}

function questionField(q: Question, mechanism: string): HTMLElement {
  const set = el("fieldset");
  set.append(el("legend", q.id));
  if (q.type === "numeric") {
    const label = el("label", `A number from ${q.min} to ${q.max}: `);
    const input = document.createElement("input");
    input.type = "number";
    input.name = q.id;
    input.min = String(q.min);
    input.max = String(q.max);
    input.step = "any";
    input.required = true;
    label.append(input);
    set.append(label);
  } else {
    if (q.type === "multiple") set.append(el("p", `Choose up to ${q.maxSelections}.`, "muted"));
    q.options!.forEach((option, i) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = q.type === "multiple" ? "checkbox" : "radio";
      input.name = q.id;
      input.value = option;
      if (q.type === "categorical" && i === 0) input.required = true;
      label.append(input, ` ${option}`);
      set.append(label);
    });
  }
  set.append(el("p", explain(q, mechanism), "privacy-note"));
  return set;
}

function readAnswers(form: HTMLFormElement, questions: Question[]): Record<string, unknown> {
  const data = new FormData(form);
  const answers: Record<string, unknown> = {};
  for (const q of questions) {
    if (q.type === "numeric") answers[q.id] = Number(data.get(q.id));
    else if (q.type === "multiple") {
      const chosen = data.getAll(q.id).map(String);
      if (chosen.length > q.maxSelections!) {
        throw new Error(`Choose at most ${q.maxSelections} for “${q.id}”.`);
      }
      answers[q.id] = chosen;
    } else answers[q.id] = String(data.get(q.id));
  }
  return answers;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function start(): Promise<void> {
  try {
    const wanted = new URLSearchParams(location.search).get("survey");
    let id = wanted;
    if (id === null) {
      const r = await fetch("/v1/surveys");
      if (!r.ok) throw new Error(`this node runs no survey collector (${r.status})`);
      const { surveys } = await r.json() as { surveys: SurveyInfo[] };
      if (surveys.length === 0) throw new Error("this collector runs no survey");
      id = surveys[0]!.id;
    }
    const r = await fetch(`/v1/surveys/${encodeURIComponent(id)}`);
    if (!r.ok) throw new Error(`survey “${id}” is not run here (${r.status})`);
    const info = await r.json() as SurveyInfo;
    const questions = info.definition.questions;
    document.title = `Survey ${info.id}`;
    $("title").textContent = `Survey “${info.id}”`;
    const box = $("questions");
    questions.forEach((q, i) => box.append(questionField(q, info.plan[i]!.mechanism)));
    $("intro").hidden = false;
    $("form").hidden = false;
    $("status").textContent = "Answer every question, then send.";
    const worker = new Worker("/web/survey-respond-worker.js", { type: "module" });
    const form = $("form") as HTMLFormElement;
    const storageKey = `panoramix-survey-ledger:${info.id}`;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const result = $("result");
      let answers: Record<string, unknown>;
      try {
        answers = readAnswers(form, questions);
      } catch (error) {
        result.textContent = (error as Error).message;
        result.className = "bad";
        return;
      }
      ($("send") as HTMLButtonElement).disabled = true;
      result.textContent = "Randomizing and sending…";
      result.className = "muted";
      const saved = localStorage.getItem(storageKey);
      worker.onmessage = (e: MessageEvent) => {
        const m = e.data as {
          ok: boolean;
          sent?: number;
          withheld?: string[];
          state?: Uint8Array;
          already?: boolean;
          error?: string;
        };
        ($("send") as HTMLButtonElement).disabled = false;
        if (m.state) localStorage.setItem(storageKey, toBase64(m.state));
        if (!m.ok) {
          result.textContent = `Your answers were not sent: ${m.error}`;
          result.className = "bad";
        } else if (m.already) {
          result.textContent =
            "This browser has already answered in this round; nothing more was sent.";
          result.className = "muted";
        } else {
          result.textContent = `Thank you. ${m.sent} randomized reports were sent` +
            (m.withheld?.length
              ? `; ${m.withheld.length} answers were kept back because this browser's privacy budget is spent.`
              : ". Your true answers never left this browser.");
          result.className = "ok";
        }
      };
      worker.postMessage({
        survey: info.id,
        answers,
        state: saved === null ? undefined : fromBase64(saved),
      });
    });
  } catch (error) {
    $("status").textContent = `Cannot load the survey: ${(error as Error).message}`;
    $("status").className = "bad";
  }
}

start();
