/// <reference lib="dom" />
/**
 * The whole election of docs/vote.md "An election on several machines", with voters in a
 * browser: a board node and three mixer nodes (`panoramix node run` processes), an
 * administrator and three trustees, each a separate `panoramix` process with its own folder
 * and keys. After the key ceremony the administrator opens the board node's online ballot
 * box (`vote booth`, key resolved from the board); voters cast through the booth's HTTP
 * endpoint and through the booth page in headless Chromium; the administrator closes the
 * box and hands it to the mixers; two trustees decrypt; the tally is published; the booth's
 * receipt is found by `vote receipt` and by the check page; the results page verifies the
 * published transcript in the browser. Screenshots of every page go to dist/screenshots/.
 */

import { ok, panoramix } from "./process_test_support.ts";
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { closeWorkerPool } from "../core/worker_pool.ts";
import { NodeProcess } from "./node/cluster.ts";
import {
  ignoreBrowserTests,
  pageErrors,
  screenshot,
  withBrowser,
} from "./web/browser_test_support.ts";
import { WEB_ASSETS } from "./web/manifest.ts";

async function text(page: Page): Promise<string> {
  return await page.evaluate(() => document.body.innerText);
}

async function waitForText(page: Page, pattern: RegExp, timeout = 180_000): Promise<string> {
  await page.waitForFunction(
    (source: string, flags: string) => new RegExp(source, flags).test(document.body.innerText),
    { timeout },
    pattern.source,
    pattern.flags,
  );
  return await text(page);
}

async function clickButton(page: Page, label: string): Promise<void> {
  for (const b of await page.$$("button, a.button")) {
    const t = await b.evaluate((el) => (el as HTMLElement).innerText.trim());
    if (t === label) {
      await b.click();
      return;
    }
  }
  throw new Error(`No button '${label}' on the page`);
}

Deno.test({
  name:
    "an election with voters in a browser: board node, 3 mixer nodes, 3 trustee processes, booth, results verified",
  ignore: ignoreBrowserTests(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "vote-booth-election-" });
    const nodes: NodeProcess[] = [];
    const dir = (name: string) => `${root}/${name}`;
    try {
      for (const d of ["admin", "t1", "t2", "t3", "voter", "anyone", "nodes"]) {
        await Deno.mkdir(dir(d));
      }
      // --- Keys: the administrator and each trustee on their own machine.
      const trustees = [1, 2, 3];
      const [adminKey, ...keys] = await Promise.all([
        ok(dir("admin"), "vote", "trustee", "keygen", "--out", "admin.key.json"),
        ...trustees.map((i) =>
          ok(dir(`t${i}`), "vote", "trustee", "keygen", "--out", `trustee-${i}.id.json`)
        ),
      ]).then((runs) => runs.map((r) => r.stdout.trim()));

      // --- Nodes: the board (the administrator's key is its board admin), three mixers.
      await ok(
        dir("nodes"),
        ...["node", "init", "--dir", "board", "--name", "board", "--roles", "board,directory"],
        ...["--http-listen", "127.0.0.1:0", "--admin", adminKey!],
      );
      const board = await NodeProcess.spawn(`${dir("nodes")}/board/node.json`);
      nodes.push(board);
      const url = board.info.url;
      const mixerIds: string[] = [];
      for (const i of [1, 2, 3]) {
        const init = await ok(
          dir("nodes"),
          ...["node", "init", "--dir", `mix${i}`, "--name", `mix${i}`, "--roles", "cascade"],
          ...["--http-listen", "127.0.0.1:0", "--board-url", url, "--json"],
        );
        mixerIds.push(JSON.parse(init.stdout).identity);
      }
      nodes.push(
        ...await Promise.all(
          [1, 2, 3].map((i) => NodeProcess.spawn(`${dir("nodes")}/mix${i}/node.json`)),
        ),
      );
      // The board node bundles its pages at first request: ask for them now, in the background.
      const warming = Promise.all(
        WEB_ASSETS.filter((a) => a.path.includes("vote")).map((a) =>
          fetch(`${url}${a.path}`).then((r) => r.body?.cancel())
        ),
      );

      // --- The election: defined with the trustees' keys, posted to the board.
      await ok(
        dir("admin"),
        ...["vote", "init", "--id", "demo", "--title", "Demo club election"],
        ...["--question", "Who should chair the club?=Ann,Bob,Cid"],
        ...keys.flatMap((k) => ["--trustee-key", k]),
        ...["--threshold", "2", "--mixers", "3", "--out", "election.json"],
      );
      await ok(
        dir("admin"),
        ...["vote", "publish", "--election", "election.json", "--board-url", url],
        ...["--admin-identity", "admin.key.json"],
      );
      for (const d of ["t1", "t2", "t3", "voter", "anyone"]) {
        await Deno.copyFile(`${dir("admin")}/election.json`, `${dir(d)}/election.json`);
      }
      // Opening the box before the ceremony is refused with the reason.
      const early = await panoramix(
        dir("admin"),
        ...["vote", "booth", "--board-url", url, "--admin-identity", "admin.key.json"],
        ...["--election", "election.json"],
      );
      assert.notEqual(early.code, 0);
      assert.match(
        early.stderr,
        /^panoramix: error: The key ceremony on the board is not finished \(0 of 3/,
      );

      // --- Key ceremony, each trustee its own process; shares go privately (copied here).
      const step = (i: number, ...args: string[]) =>
        ok(
          dir(`t${i}`),
          ...["vote", "trustee", ...args, "--election", "election.json", "--trustee", `${i}`],
          ...["--board-url", url, "--identity", `trustee-${i}.id.json`],
        );
      await Promise.all(trustees.map((i) => step(i, "deal", "--outbox", "out")));
      for (const i of trustees) {
        for (const j of trustees) {
          await Deno.mkdir(`${dir(`t${j}`)}/in`, { recursive: true });
          await Deno.copyFile(
            `${dir(`t${i}`)}/out/share-${i}-to-${j}.json`,
            `${dir(`t${j}`)}/in/share-${i}-to-${j}.json`,
          );
        }
      }
      await Promise.all(trustees.map((i) => step(i, "check", "--inbox", "in")));
      await Promise.all(trustees.map((i) => step(i, "answer", "--outbox", "out")));
      await Promise.all(
        trustees.map((i) => step(i, "finalize", "--inbox", "in", "--secret", `trustee-${i}.key`)),
      );

      // --- The administrator opens the board node's online ballot box (key from the board).
      const booth = [
        ...["vote", "booth", "--board-url", url, "--admin-identity", "admin.key.json"],
        ...["--election", "election.json"],
      ];
      const opened = await ok(dir("admin"), ...booth);
      assert.match(opened.stdout, /election demo: ballot box open, 0 ballots/);
      assert.match(opened.stdout, new RegExp(`booth: +${url}/vote\\?election=demo`));
      // Again: no change.
      assert.match((await ok(dir("admin"), ...booth)).stdout, /ballot box open, 0 ballots/);

      // --- Voters with a script: the same endpoint the booth page uses.
      await ok(
        dir("voter"),
        ...["vote", "key", "--election", "election.json", "--board-url", url],
        ...["--out", "election-key.json"],
      );
      const scripted = ["Ann", "Bob", "Ann"];
      const receipts: string[] = [];
      for (const [v, answer] of scripted.entries()) {
        const enc = await ok(
          dir("voter"),
          ...["vote", "encrypt", "--election", "election.json", "--key", "election-key.json"],
          ...[
            "--credential",
            `voter-${v + 1}`,
            "--answer",
            answer,
            "--out",
            `ballot-${v + 1}.json`,
          ],
        );
        const response = await fetch(`${url}/v1/vote/elections/demo/ballots`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: await Deno.readTextFile(`${dir("voter")}/ballot-${v + 1}.json`),
        });
        const body = await response.json();
        assert.equal(response.status, 201, JSON.stringify(body));
        assert.equal(body.position, v + 1);
        assert.ok(enc.stdout.includes(body.receipt), `${enc.stdout} vs ${body.receipt}`);
        receipts.push(body.receipt);
      }

      // --- A voter in the browser: booth, receipt, check page.
      await warming;
      let browserReceipt = "";
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        page.setDefaultTimeout(180_000);
        await page.setViewport({ width: 900, height: 700 });
        const errors = pageErrors(page);
        await page.goto(`${url}/vote?election=demo`);
        await page.waitForSelector("#credential");
        await waitForText(page, /Demo club election/);
        await screenshot(page, "election-1-booth");
        await page.type("#credential", "voter-4");
        await page.keyboard.press("Enter");
        await waitForText(page, /Question 1 of 1/);
        await page.click("#q0-c2");
        await screenshot(page, "election-2-question");
        await clickButton(page, "Review my ballot");
        assert.match(await waitForText(page, /Review your ballot/), /Cid/);
        await screenshot(page, "election-3-review");
        await clickButton(page, "Cast my ballot");
        const cast = await waitForText(page, /Your ballot was cast|Your ballot was not cast/);
        assert.match(cast, /accepted your encrypted ballot \(number 4\)/);
        browserReceipt = await page.evaluate(() =>
          document.getElementById("receipt")?.textContent ?? ""
        );
        assert.match(browserReceipt, /^[0-9a-f]{64}$/);
        await screenshot(page, "election-4-receipt");
        await page.goto(`${url}/vote/check?election=demo&receipt=${browserReceipt}`);
        const open = await waitForText(page, /in the ballot box \(ballot number 4\)/);
        assert.match(open, /Voting is still open/);
        await screenshot(page, "election-5-check-open");
        assert.deepEqual(errors, []);
      });

      // --- Voting ends: the box is closed and downloaded, then handed to the mixers.
      const closed = await ok(dir("admin"), ...booth, "--close", "--box-out", "box.msgpack");
      assert.match(closed.stdout, /ballot box closed, 4 ballots, box written to box.msgpack/);
      const late = await fetch(`${url}/v1/vote/elections/demo/ballots`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: await Deno.readTextFile(`${dir("voter")}/ballot-1.json`),
      });
      assert.ok(late.status >= 400, `a ballot after closing: HTTP ${late.status}`);
      await late.body?.cancel();
      const handed = await ok(
        dir("admin"),
        ...["vote", "close", "--election", "election.json", "--box", "box.msgpack"],
        ...["--board-url", url, "--admin-identity", "admin.key.json"],
        ...mixerIds.flatMap((m) => ["--mixer-node", m]),
      );
      assert.match(handed.stdout, /4 counted ballots in job 'vote-demo'/);
      const mixed = await ok(
        dir("admin"),
        ...["vote", "mix", "--election", "election.json", "--board-url", url, "--timeout", "300"],
      );
      assert.match(mixed.stdout, /mixed by 3 mixer nodes \(4 ballots\)/);

      // --- Trustees 1 and 2 decrypt on their own machines, checking the job against the box
      // the administrator published and the mixer nodes the administrator named.
      const decrypted = await Promise.all([1, 2].map((i) =>
        ok(
          dir(`t${i}`),
          ...["vote", "trustee", "decrypt", "--election", "election.json", "--trustee", `${i}`],
          ...["--secret", `trustee-${i}.key`, "--identity", `trustee-${i}.id.json`],
          ...["--board-url", url, "--box", `${dir("admin")}/box.msgpack`],
          ...mixerIds.flatMap((m) => ["--mixer-node", m]),
        )
      ));
      for (const d of decrypted) {
        assert.match(
          d.stdout,
          /4 decryption shares posted .*3 shuffle proofs checked, mixer nodes as given, mix input = the box's 4 counted ballots/,
        );
        assert.doesNotMatch(d.stderr, /warning/);
      }

      // --- Tally, publication, and anyone's checks.
      const tally = await ok(
        dir("admin"),
        ...["vote", "tally", "--election", "election.json", "--board-url", url],
        ...["--box", "box.msgpack", "--out", "transcript.msgpack"],
      );
      assert.match(tally.stdout, /4 ballots, 4 valid/);
      assert.match(tally.stdout, /2 {2}Ann/);
      assert.match(tally.stdout, /1 {2}Bob/);
      assert.match(tally.stdout, /1 {2}Cid/);
      const published = await ok(dir("admin"), ...booth, "--transcript", "transcript.msgpack");
      assert.match(published.stdout, /4 ballots, results published/);
      // Anyone downloads the published transcript, verifies it, and finds a receipt in it.
      const transcript = await fetch(`${url}/v1/vote/elections/demo/transcript`);
      assert.equal(transcript.status, 200);
      await Deno.writeFile(`${dir("anyone")}/transcript.msgpack`, await transcript.bytes());
      assert.match(
        (await ok(dir("anyone"), "vote", "verify", "transcript.msgpack")).stdout,
        /decryption by trustees 1, 2/,
      );
      const found = await ok(
        dir("anyone"),
        ...["vote", "receipt", "--transcript", "transcript.msgpack", browserReceipt],
      );
      assert.match(found.stdout, /receipt found: ballot 4 of 'voter-4', counted/);
      assert.match(
        (await ok(
          dir("anyone"),
          "vote",
          "receipt",
          "--transcript",
          "transcript.msgpack",
          receipts[0]!,
        ))
          .stdout,
        /receipt found: ballot 1 of 'voter-1', counted/,
      );

      // --- In the browser: the receipt is counted; the results page verifies the election.
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        page.setDefaultTimeout(180_000);
        await page.setViewport({ width: 900, height: 800 });
        const errors = pageErrors(page);
        await page.goto(`${url}/vote/check?election=demo&receipt=${browserReceipt}`);
        const counted = await waitForText(page, /in the ballot box \(ballot number 4\)/);
        assert.match(counted, /Voting is closed\. Your ballot is among those counted\./);
        await screenshot(page, "election-6-check-closed");
        await page.goto(`${url}/vote/results?election=demo`);
        const shown = await waitForText(page, /4 ballots counted/);
        assert.match(shown, /Ann\s+2/);
        assert.match(shown, /Cid\s+1/);
        await clickButton(page, "Verify this election");
        const verdict = await waitForText(page, /This election verifies|does NOT verify/, 300_000);
        assert.match(verdict, /This election verifies: all 4 ballots, 3 mixers and 2 trustees/);
        await screenshot(page, "election-7-results-verified");
        // The board node's home page links to the election's pages.
        await page.goto(`${url}/`);
        await waitForText(page, /Voting booth/);
        await screenshot(page, "election-8-node-home");
        assert.deepEqual(errors, []);
      });
    } finally {
      for (const n of nodes) await n.stop().catch(() => {});
      closeWorkerPool();
      await Deno.remove(root, { recursive: true });
    }
  },
});
