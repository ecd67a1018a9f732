/// <reference lib="dom" />
/**
 * What the vote pages share: finding the election the page is about (`?election=ID`, or
 * the only one the node holds), reading the node's JSON answers and their plain-language
 * errors, and small DOM helpers. Browser module.
 *
 * @module
 */

/** Summary of an election held by the node. */
export interface ElectionSummary {
  /** Election id. */
  id: string;
  /** Title. */
  title: string;
  /** `open` or `closed`. */
  state: string;
  /** Ballots in the box. */
  ballots: number;
  /** Whether the results (transcript) are published. */
  results: boolean;
}

/** What the node says about one election. */
export interface ElectionDetails extends ElectionSummary {
  /** Whether a voter roll restricts the credentials. */
  roll: boolean;
  /** The election fingerprint, hex. */
  fingerprint: string;
  /** The `vote.election` envelope (JSON view). */
  election: unknown;
  /** The `vote.election-key` envelope (JSON view). */
  key: unknown;
}

/** An error the node answered with, in its own words. */
export class NodeAnswerError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Stable error code, e.g. "replay". */
  readonly code: string;

  /**
   * @param status HTTP status
   * @param code error code
   * @param message the node's message
   */
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Fetches JSON from the node; an error status becomes a {@linkcode NodeAnswerError}.
 *
 * @param path the path
 * @param init request options
 * @returns the parsed body
 */
export async function fetchJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new NodeAnswerError(
      0,
      "unreachable",
      "The voting server cannot be reached. Check your connection and try again.",
    );
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) {
    const b = (body ?? {}) as { error?: string; message?: string };
    throw new NodeAnswerError(
      response.status,
      b.error ?? "internal",
      b.message ?? `The server answered ${response.status}`,
    );
  }
  return body as T;
}

/**
 * The election this page is about: `?election=ID`, or the node's only election.
 *
 * @returns its details, or a list to choose from when the node holds several
 */
export async function findElection(): Promise<
  { details: ElectionDetails } | { choices: ElectionSummary[] }
> {
  const wanted = new URLSearchParams(location.search).get("election");
  if (wanted !== null) {
    return {
      details: await fetchJson<ElectionDetails>(`/v1/vote/elections/${encodeURIComponent(wanted)}`),
    };
  }
  const { elections } = await fetchJson<{ elections: ElectionSummary[] }>("/v1/vote/elections");
  if (elections.length === 1) {
    return {
      details: await fetchJson<ElectionDetails>(
        `/v1/vote/elections/${encodeURIComponent(elections[0]!.id)}`,
      ),
    };
  }
  return { choices: elections };
}

/**
 * Shows a list of elections as links to this page for each.
 *
 * @param into where to put the list
 * @param choices the elections
 */
export function showElectionChoices(into: HTMLElement, choices: ElectionSummary[]): void {
  into.replaceChildren();
  if (choices.length === 0) {
    into.append(element("p", "This server holds no election yet."));
    return;
  }
  into.append(element("p", "Choose the election:"));
  const list = document.createElement("ul");
  for (const c of choices) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `${location.pathname}?election=${encodeURIComponent(c.id)}`;
    a.textContent = c.title || c.id;
    li.append(a);
    list.append(li);
  }
  into.append(list);
}

/**
 * Creates an element with text.
 *
 * @param tag tag name
 * @param text its text
 * @param className optional class
 * @returns the element
 */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text = "",
  className?: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

/**
 * A link with text.
 *
 * @param href target
 * @param text label
 * @returns the anchor
 */
export function link(href: string, text: string): HTMLAnchorElement {
  const a = element("a", text);
  a.href = href;
  return a;
}

/**
 * The element with this id (the pages' HTML always has it).
 *
 * @param id element id
 * @returns the element
 */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`The page has no element '${id}'`);
  return el as T;
}

/**
 * Links to the election's pages.
 *
 * @param id election id
 * @returns paths of the booth, receipt check and results pages
 */
export function electionPages(id: string): { booth: string; check: string; results: string } {
  const q = `?election=${encodeURIComponent(id)}`;
  return { booth: `/vote${q}`, check: `/vote/check${q}`, results: `/vote/results${q}` };
}
