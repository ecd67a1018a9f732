/** The survey example refuses to publish below the target (exit 7) and rejects bad arguments (exit 2). */
import assert from "node:assert/strict";

async function example(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      new URL("./survey.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: dec(out.stdout), stderr: dec(out.stderr) };
}

Deno.test("survey example: --respondents 2000 refuses to publish with exit 7, no NaN, no stack trace", async () => {
  for (const args of [["--respondents", "2000"], ["2000"]]) {
    const r = await example(...args);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stdout, /2000 simulated respondents/);
    assert.doesNotMatch(r.stdout + r.stderr, /NaN|\n {4}at /);
    assert.doesNotMatch(r.stdout, /95% CI/, "no estimates printed below the target");
    assert.match(
      r.stderr,
      /survey example: error: refusing to publish: central ε = [\d.]+ exceeds the target 1/,
    );
  }
});

Deno.test("survey example: a bad respondent count is one line and exit 2", async () => {
  const r = await example("--respondents", "lots");
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    "survey example: error: Value '--respondents' must be an integer from 1 to 100000000, got 'lots'",
  );
});
