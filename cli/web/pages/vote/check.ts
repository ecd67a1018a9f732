/// <reference lib="dom" />
/**
 * "Is my ballot in the box": the voter pastes the receipt the booth gave them; the node
 * says whether the ballot with that receipt is in the box and whether it counts (not
 * replaced by a later ballot of the same voter). Browser module.
 *
 * @module
 */

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

const form = byId<HTMLFormElement>("form");
const input = byId<HTMLInputElement>("receipt");
const answer = byId("answer");
const errorBox = byId("error");

async function check(details: ElectionDetails): Promise<void> {
  errorBox.textContent = "";
  answer.replaceChildren();
  const receipt = input.value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(receipt)) {
    errorBox.textContent =
      "A receipt is 64 characters, digits 0–9 and letters a–f. Check that you copied all of it.";
    input.focus();
    return;
  }
  try {
    const r = await fetchJson<{ status: string; position?: number; state: string }>(
      `/v1/vote/elections/${encodeURIComponent(details.id)}/receipts/${receipt}`,
    );
    if (r.status === "counted") {
      answer.append(
        element("p", `Your ballot is in the ballot box (ballot number ${r.position}).`, "ok-box"),
        element(
          "p",
          r.state !== "open"
            ? "Voting is closed. Your ballot is among those counted."
            : (details.election as { revote?: string }).revote === "last"
            ? "Voting is still open. Your ballot will be counted unless you vote again."
            : "Voting is still open. Your ballot will be counted.",
        ),
      );
    } else if (r.status === "superseded") {
      answer.append(
        element(
          "p",
          `This ballot is in the box (number ${r.position}) but was replaced by a later ballot ` +
            "cast with the same credential: only the last one counts.",
          "bad-box",
        ),
      );
    } else {
      answer.append(
        element("p", "No ballot with this receipt is in the ballot box.", "bad-box"),
        element(
          "p",
          "Check that the receipt is the one for this election. If it is, tell the election " +
            "organisers: keep your receipt file, it is your evidence.",
        ),
      );
    }
  } catch (error) {
    errorBox.textContent = error instanceof NodeAnswerError
      ? `The check could not be made: ${error.message}`
      : `The check could not be made: ${(error as Error).message}`;
  }
}

async function start(): Promise<void> {
  try {
    const found = await findElection();
    if ("choices" in found) {
      showElectionChoices(byId("choices"), found.choices);
      return;
    }
    const details = found.details;
    byId("title").textContent = `Check my ballot: ${details.title}`;
    form.hidden = false;
    const pages = electionPages(details.id);
    byId("links").append(link(pages.booth, "Voting booth"), " · ", link(pages.results, "Results"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void check(details);
    });
    const given = new URLSearchParams(location.search).get("receipt");
    if (given !== null) {
      input.value = given;
      await check(details);
    } else {
      input.focus();
    }
  } catch (error) {
    errorBox.textContent = `This election cannot be opened: ${(error as Error).message}`;
  }
}

start();
