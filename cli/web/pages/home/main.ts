/// <reference lib="dom" />
/**
 * The node's home page: its name, whether it is healthy, its roles in plain words
 * and links to the pages of those roles. Browser module (bundled by the node).
 *
 * @module
 */

/** Plain-language description of each role. */
const ROLE_TEXT: Record<string, string> = {
  board: "Bulletin board: keeps the public, signed record of elections and mix jobs.",
  directory: "Directory: lists the nodes of the network and their keys.",
  cascade: "Mixer: shuffles batches of encrypted items and proves it did so honestly.",
  sphinx: "Message mixer: forwards anonymous message packets after a random delay.",
  survey:
    "Survey collector: counts privately randomized, shuffled reports and publishes estimates.",
  vote: "Election: the voting booth, ballot box and results of one election.",
};

/** The election pages (served by board nodes and by `vote serve`). */
const VOTE_PAGES = [
  { path: "/vote", label: "Voting booth: cast your ballot" },
  { path: "/vote/check", label: "Check my ballot: is it in the ballot box?" },
  { path: "/vote/results", label: "Election results, and verify an election" },
];

/** Pages a role offers (path and label). Pages add their line here. */
const ROLE_PAGES: Record<string, readonly { path: string; label: string }[]> = {
  survey: [
    { path: "/survey", label: "Survey results (live dashboard)" },
    { path: "/survey/respond", label: "Answer a survey" },
  ],
  board: VOTE_PAGES,
  vote: VOTE_PAGES,
};

function element(tag: string, text: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}

async function show(): Promise<void> {
  const status = document.getElementById("status")!;
  try {
    const [info, health] = await Promise.all([
      fetch("/v1/info").then((r) => r.json()),
      fetch("/v1/health").then((r) => r.json()),
    ]);
    const name = String(info.name ?? "unnamed");
    const roles: string[] = Array.isArray(info.roles) ? info.roles.map(String) : [];
    document.title = `Panoramix node ${name}`;
    document.getElementById("title")!.textContent = `Panoramix node “${name}”`;
    status.textContent = health.ok
      ? "This node is running normally."
      : "This node reports a problem.";
    status.className = health.ok ? "ok" : "bad";
    const roleList = document.getElementById("roles")!;
    for (const role of roles) roleList.append(element("li", ROLE_TEXT[role] ?? role));
    const pageList = document.getElementById("pages")!;
    const pages = roles.flatMap((role) => ROLE_PAGES[role] ?? []);
    for (const p of pages) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = p.path;
      a.textContent = p.label;
      li.append(a);
      pageList.append(li);
    }
    if (pages.length === 0) pageList.append(element("li", "This node serves no pages for people."));
  } catch (error) {
    status.textContent = `This node cannot be reached: ${(error as Error).message}`;
    status.className = "bad";
  }
}

show();
