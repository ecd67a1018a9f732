/**
 * Every file the node serves to browsers, registered statically so the compiled
 * binary and the single-file bundle hold them all. A `bundle` entry is a browser
 * module (TypeScript under `pages/`) turned into one JavaScript file with
 * `Deno.bundle`; any other entry is served as it is.
 *
 * A page adds its lines here: its HTML at a readable path (`/booth`), its scripts
 * and workers under `/web/`.
 *
 * @module
 */

/** One served file. */
export interface WebAssetSource {
  /** URL path it is served at, e.g. "/" or "/web/home.js". */
  readonly path: string;
  /** Source file in this repository. */
  readonly source: URL;
  /** Content type of the served bytes. */
  readonly type: string;
  /** Whether the source is a browser module to bundle into one JavaScript file. */
  readonly bundle?: boolean;
}

const HTML = "text/html; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const JS = "text/javascript; charset=utf-8";

function page(path: string, file: string, type: string, bundle = false): WebAssetSource {
  return { path, source: new URL(file, import.meta.url), type, ...(bundle ? { bundle } : {}) };
}

/** The files served by every node, in a stable order. */
export const WEB_ASSETS: readonly WebAssetSource[] = [
  page("/web/common.css", "./pages/common.css", CSS),
  page("/", "./pages/home/index.html", HTML),
  page("/web/home.js", "./pages/home/main.ts", JS, true),
  page("/web/survey.css", "./pages/survey.css", CSS),
  page("/survey", "./pages/survey_dashboard/index.html", HTML),
  page("/web/survey-dashboard.js", "./pages/survey_dashboard/main.ts", JS, true),
  page("/survey/respond", "./pages/survey_respond/index.html", HTML),
  page("/web/survey-respond.js", "./pages/survey_respond/main.ts", JS, true),
  page("/web/survey-respond-worker.js", "./pages/survey_respond/worker.ts", JS, true),
  page("/web/vote.css", "./pages/vote/vote.css", CSS),
  page("/vote", "./pages/vote/booth.html", HTML),
  page("/web/vote-booth.js", "./pages/vote/booth.ts", JS, true),
  page("/web/vote-booth-worker.js", "./pages/vote/booth_worker.ts", JS, true),
  page("/vote/check", "./pages/vote/check.html", HTML),
  page("/web/vote-check.js", "./pages/vote/check.ts", JS, true),
  page("/vote/results", "./pages/vote/results.html", HTML),
  page("/web/vote-results.js", "./pages/vote/results.ts", JS, true),
  page("/web/vote-verify-worker.js", "./pages/vote/verify_worker.ts", JS, true),
];
