/// <reference lib="dom" />
/**
 * The survey dashboard and respondent pages in headless Chromium, against a real
 * collector whose reports travel through a 3-mixer decryption cascade.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../../core/random.ts";
import {
  fetchSurveyInfo,
  sealSurveyReport,
  submitSurveyPackets,
  type SurveyDefinition,
  surveyRespond,
} from "../../plugins/survey/mod.ts";
import { startSurveyNetwork } from "../node/survey_test_support.ts";
import { ignoreBrowserTests, pageErrors, screenshot, withBrowser } from "./browser_test_support.ts";

const city: SurveyDefinition = {
  id: "city-2026",
  target: { epsilon: 3, delta: 1e-6 },
  questions: [
    {
      id: "transport",
      type: "categorical",
      options: ["walk", "bike", "bus", "car"],
      epsilon0: 2,
    },
    { id: "speed", type: "numeric", min: 0, max: 120, epsilon0: 2 },
  ],
};

async function respondents(url: string, count: number, seed: string): Promise<void> {
  const info = await fetchSurveyInfo({ collector: url, survey: city.id });
  const random = seededRandom(seed);
  const packets: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const reports = surveyRespond(city, {
      answers: { transport: ["walk", "bike", "bus", "bus", "car"][i % 5]!, speed: 30 + (i % 41) },
      random,
    });
    for (const r of reports) packets.push(await sealSurveyReport(r, info.cascade));
  }
  await submitSurveyPackets(packets, { collector: url, survey: city.id });
}

Deno.test({
  name:
    "survey dashboard: bars with whiskers and a time series, reports and ε against the target, updating live",
  ignore: ignoreBrowserTests(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const t = await startSurveyNetwork([{ definition: city, roundSeconds: 2 }]);
    try {
      const node = await t.net.start({ name: "collector", roles: ["survey"] });
      // Two rounds of 2 s each with one batch each, for the time series.
      await respondents(node.url, 130, "round-a");
      await new Promise((r) => setTimeout(r, 2200));
      await respondents(node.url, 130, "round-b");
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        await page.setViewport({ width: 1200, height: 900 });
        const errors = pageErrors(page);
        await page.goto(`${node.url}/survey`);
        await page.waitForFunction(
          () => document.querySelectorAll("section.question canvas").length >= 4,
          { timeout: 60_000 },
        );
        await page.waitForFunction(
          () =>
            document.querySelectorAll("section.question .series canvas").length >= 2 &&
            /meets the privacy target/.test(
              document.getElementById("published")!.textContent ?? "",
            ),
          { timeout: 60_000 },
        );
        const text = await page.evaluate(() => document.body.innerText);
        assert.match(text, /Survey “city-2026”: live results/);
        assert.match(text, /Reports counted/);
        assert.match(text, /against the target ε ≤ 3/);
        assert.match(text, /transport/);
        assert.match(text, /mean \d+\.\d\d \(95% interval/);
        const before = Number(await page.$eval("#reports", (e) => e.textContent));
        assert.ok(before >= 123, `reports ${before}`);
        await screenshot(page, "survey-dashboard");
        // More reports arrive in the same round: the page follows without a reload.
        const round = await fetch(`${node.url}/v1/surveys/${city.id}/rounds/current`).then((r) =>
          r.json()
        );
        await respondents(node.url, 130, "round-c");
        await page.waitForFunction(
          (n: number, r: number) =>
            Number(document.getElementById("reports")!.textContent) > n ||
            Number(document.getElementById("round")!.dataset.round) !== r,
          { timeout: 60_000 },
          before,
          round.round,
        );
        assert.deepEqual(errors, []);
      });
    } finally {
      await t.net.close();
    }
  },
});

Deno.test({
  name:
    "survey respondent page: answers randomized in the browser, ε0 in plain words, sent once a round",
  ignore: ignoreBrowserTests(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const t = await startSurveyNetwork([{ definition: city }]);
    try {
      const node = await t.net.start({ name: "collector", roles: ["survey"] });
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        await page.setViewport({ width: 900, height: 900 });
        const errors = pageErrors(page);
        await page.goto(`${node.url}/`);
        await page.waitForSelector("#pages a[href='/survey/respond']");
        await page.goto(`${node.url}/survey/respond`);
        await page.waitForSelector("form:not([hidden])");
        const text = await page.evaluate(() => document.body.innerText);
        assert.match(text, /Your true answers never leave this browser/);
        // ε0 = 2 over 4 options: kept with probability e²/(e² + 3) = 71%, ratio e² ≈ 7.4.
        assert.match(text, /71% of the time your answer is sent as it is/);
        assert.match(text, /at most 7\.4 times more likely/);
        await page.click("input[name=transport][value=bike]");
        await page.type("input[name=speed]", "42");
        await page.click("#send");
        await page.waitForFunction(
          () => /Thank you/.test(document.getElementById("result")!.textContent ?? ""),
          {
            timeout: 60_000,
          },
        );
        assert.match(
          await page.$eval("#result", (e) => e.textContent ?? ""),
          /2 randomized reports were sent/,
        );
        const info = await fetch(`${node.url}/v1/surveys/${city.id}`).then((r) => r.json());
        assert.equal(
          info.pending.waiting,
          2,
          "the two sealed reports wait on the collector's disk",
        );
        await screenshot(page, "survey-respond");
        await page.click("#send");
        await page.waitForFunction(() =>
          /already answered/.test(document.getElementById("result")!.textContent ?? "")
        );
        assert.deepEqual(errors, []);
      });
    } finally {
      await t.net.close();
    }
  },
});
