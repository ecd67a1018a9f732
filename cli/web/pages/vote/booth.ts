/// <reference lib="dom" />
/**
 * The voting booth (Belenios's booth is the model): the voter enters their credential,
 * answers one question per screen, reviews every answer, and casts. The ballot is
 * encrypted and proven in a Web Worker (`/web/vote-booth-worker.js`) and sent to the
 * node's ballot box, which checks it by the rules of `vote submit`; the page then shows
 * the receipt and offers it as a file. Browser module.
 *
 * @module
 */

import {
  checkVoterCredential,
  type ElectionDefinition,
  electionDefinitionFromEnvelope,
  type ElectionQuestion,
} from "../../../../plugins/vote/mod.ts";
import {
  byId,
  type ElectionDetails,
  electionPages,
  element,
  fetchJson,
  findElection,
  link,
  NodeAnswerError,
  showElectionChoices,
} from "./common.ts";

interface State {
  details: ElectionDetails;
  definition: ElectionDefinition;
  credential: string;
  answers: number[][];
}

const screen = byId("screen");
const errorBox = byId("error");
const steps = byId("steps");

function showError(text: string): void {
  errorBox.textContent = text;
}

function clearError(): void {
  errorBox.textContent = "";
}

function setScreen(heading: string, stepText: string, ...children: Node[]): void {
  byId("title").textContent = heading;
  steps.textContent = stepText;
  clearError();
  screen.replaceChildren(...children);
  const focus = screen.querySelector<HTMLElement>("input, select, button");
  focus?.focus();
}

function button(text: string, onClick: () => void, secondary = false): HTMLButtonElement {
  const b = element("button", text, secondary ? "secondary" : undefined);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function actions(...buttons: HTMLElement[]): HTMLElement {
  const div = element("div", "", "actions");
  div.append(...buttons);
  return div;
}

function stepLabel(state: State, index: number): string {
  const total = state.definition.questions.length + 2;
  return `Step ${index} of ${total}`;
}

/** What the voter must do for a question, in plain words. */
function instruction(q: ElectionQuestion): string {
  const n = (k: number) => `${k} choice${k === 1 ? "" : "s"}`;
  if (q.type === "single") {
    return q.min === 0 ? "Choose one, or leave it blank." : "Choose one.";
  }
  if (q.type === "multiple") {
    if (q.min === q.max) return `Choose exactly ${n(q.min)}.`;
    if (q.min === 0) return `Choose up to ${n(q.max)}, or none.`;
    return `Choose between ${q.min} and ${n(q.max)}.`;
  }
  const most = q.max === q.choices.length ? "as many choices as you like" : `up to ${n(q.max)}`;
  const least = q.min === 0 ? " (or none)" : q.min > 1 ? ` (at least ${q.min})` : "";
  return `Rank ${most}${least} in order of preference: “1st” is your favourite.`;
}

function ordinal(k: number): string {
  const s = ["th", "st", "nd", "rd"];
  const v = k % 100;
  return k + (s[(v - 20) % 10] ?? s[v] ?? s[0]!);
}

function describeAnswer(q: ElectionQuestion, answer: number[]): string {
  if (answer.length === 0) return "Blank (no choice)";
  if (q.type === "ranked") {
    return answer.map((c, i) => `${ordinal(i + 1)}: ${q.choices[c]}`).join(", ");
  }
  return answer.map((c) => q.choices[c]).join(", ");
}

function showCredential(state: State): void {
  const form = element("form");
  form.noValidate = true;
  form.append(element("p", `You are voting in “${state.definition.title}”.`));
  form.append(
    element(
      "p",
      `There ${
        state.definition.questions.length === 1
          ? "is 1 question"
          : `are ${state.definition.questions.length} questions`
      }. ` +
        "You will see all your answers before your ballot is sent, and your ballot is " +
        "encrypted on this device: nobody can read your choices from it.",
    ),
  );
  const label = element("label", "Your voter credential");
  label.htmlFor = "credential";
  const input = element("input");
  input.id = "credential";
  input.type = "text";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.value = state.credential;
  const hint = element(
    "p",
    "The code you received from the election organisers to vote with.",
    "muted small",
  );
  hint.id = "credential-hint";
  input.setAttribute("aria-describedby", "credential-hint");
  const next = element("button", "Start");
  next.type = "submit";
  form.append(label, input, hint, actions(next));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const credential = input.value.trim();
    if (credential === "") {
      showError("Enter your voter credential to start.");
      input.focus();
      return;
    }
    try {
      checkVoterCredential(credential);
    } catch {
      showError("This credential cannot be right: it is too long or holds unusual characters.");
      input.focus();
      return;
    }
    state.credential = credential;
    showQuestion(state, 0);
  });
  const closed = state.details.state !== "open";
  setScreen(state.definition.title || "Voting booth", stepLabel(state, 1), form);
  if (closed) {
    next.disabled = true;
    showError("Voting is closed for this election: the ballot box accepts no more ballots.");
  }
}

/** The choices of a question as form controls, pre-filled with the current answer. */
function questionControls(q: ElectionQuestion, index: number, given: number[] | undefined) {
  const answer = given ?? [];
  const fieldset = element("fieldset");
  const legend = element("legend", q.text);
  fieldset.append(legend);
  const hint = element("p", instruction(q), "muted");
  hint.id = `hint-${index}`;
  fieldset.setAttribute("aria-describedby", hint.id);
  fieldset.append(hint);
  const inputs: HTMLInputElement[] = [];
  const selects: HTMLSelectElement[] = [];
  q.choices.forEach((choice, c) => {
    const row = element("label", "", "choice");
    if (q.type === "ranked") {
      const select = element("select");
      select.id = `q${index}-c${c}`;
      select.setAttribute("aria-label", `Rank of ${choice}`);
      select.append(new Option("not ranked", ""));
      for (let r = 1; r <= q.max; r++) select.append(new Option(ordinal(r), String(r)));
      const rank = answer.indexOf(c);
      select.value = rank >= 0 ? String(rank + 1) : "";
      selects.push(select);
      row.append(select, document.createTextNode(choice));
    } else {
      const input = element("input");
      input.type = q.type === "single" ? "radio" : "checkbox";
      input.name = `q${index}`;
      input.value = String(c);
      input.id = `q${index}-c${c}`;
      input.checked = answer.includes(c);
      inputs.push(input);
      row.append(input, document.createTextNode(choice));
    }
    fieldset.append(row);
  });
  let blank: HTMLInputElement | undefined;
  if (q.type === "single" && q.min === 0) {
    const row = element("label", "", "choice");
    blank = element("input");
    blank.type = "radio";
    blank.name = `q${index}`;
    blank.value = "blank";
    blank.id = `q${index}-blank`;
    blank.checked = given !== undefined && given.length === 0;
    row.append(blank, document.createTextNode("Blank vote (no choice)"));
    fieldset.append(row);
  }
  const read = (): number[] | string => {
    if (q.type === "ranked") {
      const ranked: Array<[number, number]> = [];
      selects.forEach((s, c) => {
        if (s.value !== "") ranked.push([Number(s.value), c]);
      });
      ranked.sort((a, b) => a[0] - b[0]);
      for (let i = 0; i < ranked.length; i++) {
        if (ranked[i]![0] !== i + 1) {
          const seen = ranked.filter((r) => r[0] === ranked[i]![0]).length > 1;
          return seen
            ? `Two choices share the rank ${ordinal(ranked[i]![0])}: give each rank once.`
            : `Ranks must follow each other from 1st: rank ${ordinal(i + 1)} is missing.`;
        }
      }
      const order = ranked.map((r) => r[1]);
      if (order.length < q.min) return `Rank at least ${q.min} choices.`;
      return order;
    }
    const chosen = inputs.filter((i) => i.checked).map((i) => Number(i.value));
    if (q.type === "single") {
      if (chosen.length === 0 && q.min > 0) return "Choose one of the choices.";
      if (chosen.length === 0 && !blank?.checked) {
        return "Choose one of the choices, or “Blank vote”.";
      }
      return chosen;
    }
    if (chosen.length < q.min) return `Choose at least ${q.min}.`;
    if (chosen.length > q.max) return `Choose at most ${q.max}.`;
    return chosen;
  };
  return { fieldset, read };
}

function showQuestion(state: State, index: number): void {
  const q = state.definition.questions[index]!;
  const total = state.definition.questions.length;
  const form = element("form");
  form.noValidate = true;
  form.append(element("p", `Question ${index + 1} of ${total}`, "muted"));
  const { fieldset, read } = questionControls(q, index, state.answers[index]);
  form.append(fieldset);
  const next = element("button", index + 1 === total ? "Review my ballot" : "Next question");
  next.type = "submit";
  const back = button(
    "Back",
    () => index === 0 ? showCredential(state) : showQuestion(state, index - 1),
    true,
  );
  form.append(actions(back, next));
  form.addEventListener("change", clearError); // a new choice answers the last complaint
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const answer = read();
    if (typeof answer === "string") {
      showError(answer);
      return;
    }
    state.answers[index] = answer;
    if (index + 1 === total) showReview(state);
    else showQuestion(state, index + 1);
  });
  setScreen(state.definition.title || "Voting booth", stepLabel(state, index + 2), form);
}

function showReview(state: State): void {
  const list = element("dl", "", "review");
  state.definition.questions.forEach((q, i) => {
    list.append(element("dt", `${i + 1}. ${q.text}`));
    const dd = element("dd", describeAnswer(q, state.answers[i]!));
    const change = element("a", "Change");
    change.href = "#";
    change.className = "small";
    change.setAttribute("aria-label", `Change your answer to question ${i + 1}`);
    change.addEventListener("click", (e) => {
      e.preventDefault();
      showQuestion(state, i);
    });
    dd.append(" ", change);
    list.append(dd);
  });
  const cast = button("Cast my ballot", () => castBallot(state));
  const back = button(
    "Back",
    () => showQuestion(state, state.definition.questions.length - 1),
    true,
  );
  setScreen(
    "Review your ballot",
    stepLabel(state, state.definition.questions.length + 2),
    element("p", `Voter credential: ${state.credential}`, "muted"),
    list,
    element(
      "p",
      "When you cast, your ballot is encrypted on this device and sent to the ballot box. " +
        (state.definition.revote === "last"
          ? "You may vote again later: only your last ballot counts."
          : "You can vote only once in this election."),
    ),
    actions(back, cast),
  );
  cast.focus();
}

let worker: Worker | undefined;

function encryptInWorker(state: State): Promise<{ ballot: unknown; receipt: string }> {
  worker ??= new Worker("/web/vote-booth-worker.js", { type: "module" });
  const w = worker;
  return new Promise((resolve, reject) => {
    w.onmessage = (event) => {
      const m = event.data as { ok: boolean; ballot: unknown; receipt: string; message: string };
      if (m.ok) resolve({ ballot: m.ballot, receipt: m.receipt });
      else reject(new Error(m.message));
    };
    w.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`The encryption could not run in this browser (${event.message})`));
    };
    w.postMessage({
      election: state.details.election,
      key: state.details.key,
      credential: state.credential,
      answers: state.answers,
    });
  });
}

/** The voter's words for a rejection by the box (the node's own reason follows). */
function rejection(error: NodeAnswerError): string {
  switch (error.code) {
    case "replay":
      return "Your ballot was not accepted: this credential has already voted, or this ballot was already cast.";
    case "invalid_input":
      return "Your ballot was not accepted.";
    case "verification_failed":
      return "Your ballot was not accepted: its proof did not check out. Try again; if it happens again, tell the election organisers.";
    case "rate_limited":
      return "Too many ballots were sent from your connection just now. Wait a few seconds and try again.";
    default:
      return "Your ballot could not be cast.";
  }
}

async function castBallot(state: State): Promise<void> {
  const status = element("p", "Encrypting your ballot on this device…");
  setScreen("Casting your ballot", stepLabel(state, state.definition.questions.length + 2), status);
  let encrypted: { ballot: unknown; receipt: string };
  try {
    encrypted = await encryptInWorker(state);
  } catch (error) {
    showFailure(state, `Your ballot could not be encrypted: ${(error as Error).message}`);
    return;
  }
  status.textContent = "Sending your encrypted ballot to the ballot box…";
  try {
    const answer = await fetchJson<{ receipt: string; position: number; supersedes?: number }>(
      `/v1/vote/elections/${encodeURIComponent(state.details.id)}/ballots`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(encrypted.ballot),
      },
    );
    showReceipt(state, answer);
  } catch (error) {
    if (error instanceof NodeAnswerError) {
      showFailure(state, `${rejection(error)} The ballot box said: “${error.message}”`);
    } else {
      showFailure(state, `Your ballot could not be cast: ${(error as Error).message}`);
    }
  }
}

function showFailure(state: State, message: string): void {
  const again = button("Back to my answers", () => showReview(state), true);
  setScreen(
    "Your ballot was not cast",
    stepLabel(state, state.definition.questions.length + 2),
    element("p", "Nothing was recorded for you. You can go back and try again."),
    actions(again),
  );
  showError(message);
}

function showReceipt(
  state: State,
  answer: { receipt: string; position: number; supersedes?: number },
): void {
  const pages = electionPages(state.details.id);
  const text = [
    `Election: ${state.definition.title} (${state.details.id})`,
    `Election fingerprint: ${state.details.fingerprint}`,
    `Voter credential: ${state.credential}`,
    `Receipt: ${answer.receipt}`,
    `Check it at: ${location.origin}${pages.check}&receipt=${answer.receipt}`,
    "",
  ].join("\n");
  const download = link(
    URL.createObjectURL(new Blob([text], { type: "text/plain" })),
    "Download my receipt",
  );
  download.download = `receipt-${state.details.id}.txt`;
  download.className = "button";
  const receipt = element("p", answer.receipt, "receipt");
  receipt.id = "receipt";
  receipt.setAttribute("aria-label", "Your receipt");
  const check = link(
    `${pages.check}&receipt=${answer.receipt}`,
    "Check that my ballot is in the box",
  );
  const replaced = answer.supersedes === undefined
    ? []
    : [element("p", `This ballot replaces your earlier ballot (number ${answer.supersedes}).`)];
  setScreen(
    "Your ballot was cast",
    "Done",
    element(
      "p",
      `The ballot box accepted your encrypted ballot (number ${answer.position}). Keep this receipt: ` +
        "it lets you check that your ballot is in the box and was counted, without showing how you voted.",
      "ok",
    ),
    ...replaced,
    receipt,
    actions(download),
    element("p", "", undefined),
  );
  screen.lastElementChild!.append(check);
  download.focus();
}

async function start(): Promise<void> {
  try {
    const found = await findElection();
    if ("choices" in found) {
      showElectionChoices(screen, found.choices);
      return;
    }
    const details = found.details;
    const definition = electionDefinitionFromEnvelope(details.election);
    document.title = `Vote: ${definition.title}`;
    const state: State = {
      details,
      definition,
      credential: "",
      answers: [],
    };
    showCredential(state);
  } catch (error) {
    screen.replaceChildren();
    showError(
      error instanceof NodeAnswerError
        ? `This election cannot be opened: ${error.message}`
        : `This election cannot be opened: ${(error as Error).message}`,
    );
  }
}

start();
