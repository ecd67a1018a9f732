/// <reference lib="dom" />
/**
 * The vote pages in a real Chromium, read like a voter: the booth against a node on
 * loopback (credential, one question per screen, review, cast, receipt), the box's
 * rejections shown in plain words, the receipt check, the booth under a policy that
 * refuses WebAssembly, and the results page verifying a 1,000-ballot election and
 * naming the failing step of a tampered transcript.
 */
import assert from "node:assert/strict";
import type { Browser, ElementHandle, Page } from "puppeteer-core";
import { encodeMsgpack } from "../../core/envelope.ts";
import {
  createElectionDefinition,
  type ElectionDefinition,
  electionDefinitionToEnvelope,
  electionFingerprint,
  electionTranscriptToEnvelope,
  encodeCeremonyPost,
  formatElectionReceipt,
  runLocalElection,
  runLocalKeyCeremony,
  simulateElectionBallots,
} from "../../plugins/vote/mod.ts";
import { generateIdentity } from "../node/identity.ts";
import { NodeClient } from "../node/client.ts";
import { keyText } from "../node/cluster.ts";
import { TestNetwork } from "../node/test_support.ts";
import { silentLogger } from "../node/log.ts";
import { boothElectionEnvelope } from "../vote/online_box.ts";
import { startVoteServer } from "../vote/serve_command.ts";
import { ignoreBrowserTests, pageErrors, screenshot, withBrowser } from "./browser_test_support.ts";
import { contentSecurityPolicy } from "./routes.ts";
import { webAsset } from "./assets.ts";
import { WEB_ASSETS } from "./manifest.ts";

/** Bundles the vote pages before a browser waits for them (slow on a loaded machine). */
async function warmPages(): Promise<void> {
  for (const a of WEB_ASSETS.filter((a) => a.path.includes("vote"))) await webAsset(a.path);
}

/** A new page with patient timeouts (the machine running the tests may be loaded). */
async function newPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(120_000);
  return page;
}

const BROWSER = {
  ignore: ignoreBrowserTests(),
  sanitizeOps: false,
  sanitizeResources: false,
};

function boardDefinition(id: string): ElectionDefinition {
  return createElectionDefinition({
    id,
    title: "Board election 2026",
    trustees: 1,
    mixers: 1,
    revote: "reject",
    questions: [
      { text: "Who should chair the board?", choices: ["Ann", "Bob", "Cleo"] },
      {
        text: "Which projects should be funded? (approval)",
        choices: ["Library", "Garden", "Workshop"],
        type: "multiple",
        min: 0,
        max: 2,
      },
      {
        text: "Rank the meeting days by preference",
        choices: ["Monday", "Wednesday", "Friday"],
        type: "ranked",
        min: 1,
        max: 3,
      },
    ],
  });
}

function electionFiles(definition: ElectionDefinition) {
  const fingerprint = electionFingerprint(definition);
  const { key } = runLocalKeyCeremony({ definition, fingerprint });
  return {
    election: electionDefinitionToEnvelope(definition),
    key: encodeCeremonyPost({ definition, fingerprint }, { key }),
  };
}

async function text(page: Page): Promise<string> {
  return await page.evaluate(() => document.body.innerText);
}

async function waitForText(page: Page, pattern: RegExp, timeout = 120_000): Promise<string> {
  try {
    await page.waitForFunction(
      (source: string, flags: string) => new RegExp(source, flags).test(document.body.innerText),
      { timeout },
      pattern.source,
      pattern.flags,
    );
  } catch (error) {
    // Say what the page shows instead, so a failure names its cause.
    throw new Error(`${pattern} did not appear; the page shows:\n${await text(page)}`, {
      cause: error,
    });
  }
  return await text(page);
}

async function clickButton(page: Page, label: string): Promise<void> {
  const buttons = await page.$$("button, a.button");
  for (const b of buttons) {
    const t = await b.evaluate((el) => (el as HTMLElement).innerText.trim());
    if (t === label) {
      await b.click();
      return;
    }
  }
  throw new Error(`No button '${label}' on the page`);
}

/** Goes through the booth with the keyboard and mouse as a voter would; returns the receipt. */
async function voteInBooth(
  page: Page,
  url: string,
  credential: string,
  shots?: string,
): Promise<string> {
  await page.goto(url);
  await page.waitForSelector("#credential");
  if (shots) await screenshot(page, `${shots}-1-credential`);
  await page.type("#credential", credential);
  await page.keyboard.press("Enter");
  // Question 1: single choice, by its label.
  await waitForText(page, /Question 1 of 3/);
  await clickButton(page, "Next question");
  assert.match(await text(page), /Choose one of the choices/); // nothing chosen yet
  await page.click("#q0-c1");
  if (shots) await screenshot(page, `${shots}-2-question`);
  await clickButton(page, "Next question");
  // Question 2: approval, at most 2.
  await waitForText(page, /Question 2 of 3/);
  await page.click("#q1-c0");
  await page.click("#q1-c1");
  await page.click("#q1-c2");
  await clickButton(page, "Next question");
  assert.match(await text(page), /Choose at most 2/);
  await page.click("#q1-c2");
  await clickButton(page, "Next question");
  // Question 3: ranking with selects.
  await waitForText(page, /Question 3 of 3/);
  await page.select("#q2-c2", "1");
  await page.select("#q2-c0", "2");
  if (shots) await screenshot(page, `${shots}-3-ranked`);
  await clickButton(page, "Review my ballot");
  const review = await waitForText(page, /Review your ballot/);
  assert.match(review, /Bob/);
  assert.match(review, /Library, Garden/);
  assert.match(review, /1st: Friday, 2nd: Monday/);
  if (shots) await screenshot(page, `${shots}-4-review`);
  await clickButton(page, "Cast my ballot");
  await waitForText(page, /Your ballot was cast|Your ballot was not cast/);
  const receipt = await page.evaluate(() => document.getElementById("receipt")?.textContent ?? "");
  return receipt;
}

Deno.test({
  name:
    "booth: a voter casts through the node's booth, gets a receipt, and the check page finds it",
  ...BROWSER,
  async fn() {
    const net = await TestNetwork.create();
    const admin = generateIdentity();
    try {
      const node = await net.start({ name: "board", roles: ["board"], admins: [keyText(admin)] });
      const definition = boardDefinition("board-2026");
      const files = electionFiles(definition);
      const client = new NodeClient(node.url, { identity: admin });
      await client.postEnvelope(
        "/v1/vote/elections",
        boothElectionEnvelope({ ...files, voters: ["voter-1", "voter-2"] }),
      );
      // Only an admin may put an election on the node.
      await assert.rejects(
        new NodeClient(node.url, { identity: generateIdentity() }).postEnvelope(
          "/v1/vote/elections",
          boothElectionEnvelope(files),
        ),
        /board admin/,
      );
      await warmPages();
      const downloads = `${net.root}/downloads`;
      await Deno.mkdir(downloads);
      await withBrowser(async (browser) => {
        const context = await browser.createBrowserContext({
          downloadBehavior: { policy: "allow", downloadPath: downloads },
        });
        const page = await context.newPage();
        page.setDefaultTimeout(120_000);
        await page.setViewport({ width: 900, height: 700 });
        const errors = pageErrors(page);
        const booth = `${node.url}/vote?election=board-2026`;
        const receipt = await voteInBooth(page, booth, "voter-1", "booth");
        assert.match(receipt, /^[0-9a-f]{64}$/);
        const done = await text(page);
        assert.match(done, /accepted your encrypted ballot \(number 1\)/);
        assert.match(done, /Download my receipt/);
        await screenshot(page, "booth-5-receipt");
        // The receipt file the voter keeps.
        await clickButton(page, "Download my receipt");
        const file = `${downloads}/receipt-board-2026.txt`;
        for (let i = 0; i < 100 && !(await Deno.stat(file).catch(() => null)); i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        const kept = await Deno.readTextFile(file);
        assert.match(kept, new RegExp(`Receipt: ${receipt}`));
        assert.match(kept, /Voter credential: voter-1/);
        assert.match(
          kept,
          /Check it at: http:\/\/127\.0\.0\.1:\d+\/vote\/check\?election=board-2026&receipt=/,
        );
        // The box on the node holds it, durably (the box file lists one ballot).
        const box = await fetch(`${node.url}/v1/vote/elections/board-2026/box`);
        assert.equal(box.headers.get("content-type"), "application/msgpack");
        assert.ok((await box.bytes()).length > 200);

        // Voting twice under policy "reject": the box's reason is shown to the voter.
        await voteInBooth(page, booth, "voter-1");
        const again = await text(page);
        assert.match(again, /Your ballot was not cast/);
        assert.match(again, /already voted/);
        await screenshot(page, "booth-6-rejected");
        // Not on the roll.
        await voteInBooth(page, booth, "mallory");
        assert.match(await text(page), /not on the voter roll/);

        // The receipt check page finds the ballot; a wrong receipt is not found.
        await page.goto(`${node.url}/vote/check?election=board-2026`);
        await page.waitForSelector("#receipt");
        await page.type("#receipt", receipt);
        await page.keyboard.press("Enter");
        const found = await waitForText(page, /in the ballot box \(ballot number 1\)/);
        assert.match(found, /Voting is still open/);
        await screenshot(page, "check-found");
        await page.evaluate(() => {
          (document.getElementById("receipt") as HTMLInputElement).value = "";
        });
        await page.type("#receipt", "ab".repeat(32));
        await page.keyboard.press("Enter");
        await waitForText(page, /No ballot with this receipt/);
        await page.evaluate(() => {
          (document.getElementById("receipt") as HTMLInputElement).value = "";
        });
        await page.type("#receipt", "not a receipt");
        await page.keyboard.press("Enter");
        await waitForText(page, /A receipt is 64 characters/);

        // The home page links to the pages of the board role.
        await page.goto(`${node.url}/`);
        await waitForText(page, /Voting booth/);
        // Chromium logs the two refused ballots (409, 400); nothing else may fail.
        const refused = errors.filter((e) => /status of (409|400).*\/ballots/.test(e));
        assert.equal(refused.length, 2);
        assert.deepEqual(errors.filter((e) => !refused.includes(e)), []);
      });
      // The ballot survives a restart of the node (committed before the receipt).
      await node.stop();
      const again = await net.start({ name: "board", roles: ["board"], admins: [keyText(admin)] });
      const info = await (await fetch(`${again.url}/v1/vote/elections/board-2026`)).json();
      assert.equal(info.ballots, 1);
    } finally {
      await net.close();
    }
  },
});

Deno.test({
  name: "booth: under a policy without 'wasm-unsafe-eval' the booth still casts (plain JavaScript)",
  ...BROWSER,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "panoramix-vote-serve-" });
    const definition = boardDefinition("nowasm");
    const files = electionFiles(definition);
    await Deno.writeFile(`${dir}/election.msgpack`, encodeMsgpack(files.election));
    await Deno.writeFile(`${dir}/key.msgpack`, encodeMsgpack(files.key));
    const small = await runLocalElection(boardDefinition("small"), {
      workers: 1,
      ballots: (e) => simulateElectionBallots(e, { count: 4 }).ballots,
    });
    await Deno.writeFile(
      `${dir}/small.msgpack`,
      encodeMsgpack(electionTranscriptToEnvelope(small.transcript)),
    );
    const server = await startVoteServer({
      election: `${dir}/election.msgpack`,
      key: `${dir}/key.msgpack`,
      store: `${dir}/box.sqlite`,
      listen: "127.0.0.1:0",
      refuseWasm: true,
      logger: silentLogger,
    });
    try {
      const policy = (await fetch(`${server.url}/vote`)).headers.get("content-security-policy");
      assert.equal(policy, contentSecurityPolicy(false));
      await warmPages();
      await withBrowser(async (browser) => {
        const page = await newPage(browser);
        const errors = pageErrors(page);
        const receipt = await voteInBooth(page, `${server.url}/vote`, "anyone");
        assert.match(receipt, /^[0-9a-f]{64}$/);
        // The results page compiles nothing either, and says so.
        await page.goto(`${server.url}/vote/results`);
        await waitForText(page, /plain JavaScript/);
        await waitForText(page, /Voting is open: 1 ballot cast so far/);
        await screenshot(page, "results-open-nowasm");
        // The verifier runs in plain JavaScript too (workers under the same policy).
        const input = await page.$("input#file") as ElementHandle<HTMLInputElement> | null;
        await input!.uploadFile(`${dir}/small.msgpack`);
        await waitForText(page, /Transcript file “small.msgpack”/);
        await clickButton(page, "Verify this election");
        const verdict = await waitForText(page, /This election verifies|does NOT verify/);
        assert.match(verdict, /This election verifies: all 4 ballots/);
        // The home page of 'vote serve' names the election and links to its pages.
        await page.goto(`${server.url}/`);
        const home = await waitForText(page, /Check my ballot/);
        assert.match(home, /Panoramix node “election nowasm”/);
        assert.match(home, /voting booth, ballot box and results of one election/);
        // Chromium reports each refused compilation as a console error; nothing else may fail.
        assert.deepEqual(errors.filter((e) => !/WebAssembly|wasm/i.test(e)), []);
      });
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "results: the page verifies a 1,000-ballot election in workers and names a tampered step",
  ...BROWSER,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "panoramix-vote-results-" });
    const definition = createElectionDefinition({
      id: "city-2026",
      title: "City council 2026",
      trustees: 3,
      threshold: 2,
      mixers: 2,
      questions: [
        { text: "Mayor", choices: ["Ann", "Bob"] },
        { text: "Rank the projects", choices: ["Park", "Tram", "Pool"], type: "ranked", max: 3 },
      ],
    });
    // The fixture: one whole election made with the library, once.
    const { transcript, receipts } = await runLocalElection(definition, {
      ballots: (e) => simulateElectionBallots(e, { count: 1000 }).ballots,
    });
    const env = electionTranscriptToEnvelope(transcript);
    await Deno.writeFile(`${dir}/transcript.msgpack`, encodeMsgpack(env));
    await Deno.writeFile(
      `${dir}/election.msgpack`,
      encodeMsgpack(electionDefinitionToEnvelope(definition)),
    );
    await Deno.writeFile(
      `${dir}/key.msgpack`,
      encodeMsgpack(
        encodeCeremonyPost({ definition, fingerprint: transcript.fingerprint }, {
          key: transcript.key,
        }),
      ),
    );
    // Tampered: the second mixer's first two outputs swapped (its shuffle proof no longer holds).
    const mixes = env.mixes as Array<{ outputs: Uint8Array[] }>;
    const outputs = mixes[1]!.outputs;
    [outputs[0], outputs[1]] = [outputs[1]!, outputs[0]!];
    await Deno.writeFile(`${dir}/tampered.msgpack`, encodeMsgpack(env));
    const server = await startVoteServer({
      election: `${dir}/election.msgpack`,
      key: `${dir}/key.msgpack`,
      store: `${dir}/box.sqlite`,
      listen: "127.0.0.1:0",
      transcript: `${dir}/transcript.msgpack`,
      logger: silentLogger,
    });
    try {
      // The served box took the transcript's ballots: a voter's receipt is found, closed.
      const found = await fetch(
        `${server.url}/v1/vote/elections/city-2026/receipts/${formatElectionReceipt(receipts[7]!)}`,
      );
      assert.deepEqual(await found.json(), { status: "counted", position: 8, state: "closed" });
      await warmPages();
      await withBrowser(async (browser) => {
        const page = await newPage(browser);
        await page.setViewport({ width: 900, height: 800 });
        const errors = pageErrors(page);
        await page.goto(`${server.url}/vote/results?election=city-2026`);
        const shown = await waitForText(page, /1000 ballots counted/);
        assert.match(shown, /Arithmetic: WebAssembly/);
        const mayor = transcript.tally.questions[0]!;
        assert.match(shown, new RegExp(`Ann\\s+${mayor.counts[0]}`));
        assert.match(shown, new RegExp(`Bob\\s+${mayor.counts[1]}`));
        // Keep every estimate the page shows while it verifies.
        await page.evaluate(() => {
          const eta = document.getElementById("eta")!;
          const seen: string[] = [];
          (globalThis as unknown as { seenEta: string[] }).seenEta = seen;
          new MutationObserver(() => seen.push(eta.textContent ?? "")).observe(eta, {
            childList: true,
            characterData: true,
            subtree: true,
          });
        });
        await clickButton(page, "Verify this election");
        await page.waitForFunction(
          () => (document.getElementById("progress") as HTMLProgressElement).value > 0,
        );
        await screenshot(page, "results-verifying");
        const verified = await waitForText(page, /This election verifies|does NOT verify/, 300_000);
        assert.match(verified, /This election verifies: all 1000 ballots, 2 mixers and 2 trustees/);
        const passed = await page.$$eval("#checks li.passed", (els) => els.length);
        assert.equal(passed, 4 + 2 + 2 + 3);
        const etas = await page.evaluate(() =>
          (globalThis as unknown as { seenEta: string[] }).seenEta
        );
        assert.ok(
          etas.some((t) =>
            /^\d+% checked, (about \d+ (seconds|minutes)|less than a second) left$/.test(t)
          ),
          `no time estimate among ${JSON.stringify(etas)}`,
        );
        assert.match(etas[etas.length - 1]!, /^Done in \d+\.\d s\.$/);
        await screenshot(page, "results-verified");

        // A tampered transcript, given as a file: the failing step is named.
        const input = await page.$("input#file") as
          | import("puppeteer-core").ElementHandle<HTMLInputElement>
          | null;
        await input!.uploadFile(`${dir}/tampered.msgpack`);
        await waitForText(page, /Transcript file “tampered.msgpack”/);
        await clickButton(page, "Verify this election");
        const failed = await waitForText(page, /This election verifies|does NOT verify/, 300_000);
        assert.match(failed, /does NOT verify: “Mixer 2 \(mixer-2\) shuffled/);
        const bad = await page.$eval("#checks li.failed", (el) => (el as HTMLElement).innerText);
        assert.match(bad, /Mixer 2 \(mixer-2\): shuffle proof invalid/);
        const passedBefore = await page.$$eval("#checks li.passed", (els) => els.length);
        assert.equal(passedBefore, 5); // fingerprint, ceremony, ballots, cleansing, mixer 1
        await screenshot(page, "results-tampered");
        assert.deepEqual(errors, []);
      });
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
