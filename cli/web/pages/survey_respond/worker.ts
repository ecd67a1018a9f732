/// <reference lib="webworker" />
/**
 * Respondent worker: randomizes the answers with the survey library (system
 * CSPRNG), seals each report to the survey's mix cascade (Sphinx, WebAssembly
 * compiled here, off the main thread) and posts them to the collector that served
 * the page. A {@linkcode SurveyDevice} ledger, kept by the page, memoizes reports
 * and caps the privacy budget across rounds. Browser worker module.
 *
 * @module
 */

import { fetchSurveyInfo, SurveyDevice } from "../../../../plugins/survey/mod.ts";

/** Lifetime budget of a browser: four full answer sets at the survey's ε0. */
const BUDGET_ANSWER_SETS = 4;

self.onmessage = async (e: MessageEvent) => {
  const { survey, answers, state } = e.data as {
    survey: string;
    answers: Record<string, string | number | string[]>;
    state?: Uint8Array;
  };
  try {
    const collector = self.location.origin;
    const info = await fetchSurveyInfo({ collector, survey });
    const budget = BUDGET_ANSWER_SETS *
      info.definition.questions.reduce((a, q) => a + q.epsilon0, 0);
    const device = new SurveyDevice(info.definition, {
      budget,
      ...(state === undefined ? {} : { state: SurveyDevice.decodeState(state) }),
    });
    const r = await device.report(answers, { collector });
    const already = r.reports.length === 0 && r.withheld.length === 0;
    self.postMessage({
      ok: true,
      sent: r.sent,
      withheld: r.withheld,
      already,
      state: device.state(),
    });
  } catch (error) {
    self.postMessage({ ok: false, error: (error as Error).message });
  }
};
