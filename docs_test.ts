/**
 * Every command shown in README.md and docs/*.md runs as written.
 *
 * Convention: each fenced block tagged ```sh is run line by line, in order, with one bash per
 * file (`set -e`, `pipefail`; a line ending in `\` continues on the next), in a fresh
 * temporary folder per file, with `panoramix` on PATH (a shim to this checkout's CLI) and
 * `deno` available. Blocks tagged ```sh no-test are skipped and counted. Indented blocks
 * (usage synopses) are not code blocks and are not run. A failure names the file, the line
 * of the command and the command.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";

const root = new URL(".", import.meta.url).pathname;

/** One command of a documentation file. */
export interface DocCommand {
  /** 1-based line where the command starts. */
  line: number;
  /** 1-based line of the block's opening fence. */
  block: number;
  /** The command, continuation lines joined. */
  text: string;
}

/** The shell blocks of one Markdown file. */
export interface DocBlocks {
  /** Commands of the ```sh blocks, in order. */
  commands: DocCommand[];
  /** Number of ```sh blocks run. */
  run: number;
  /** Lines where the skipped ```sh no-test blocks start. */
  skipped: number[];
  /** Lines of untagged shell-looking blocks (they must say sh or sh no-test). */
  untagged: number[];
}

/**
 * Extracts the shell blocks of a Markdown text.
 *
 * @param markdown the file's text
 * @returns the commands to run and the counts
 */
export function extractShellBlocks(markdown: string): DocBlocks {
  const lines = markdown.split("\n");
  const out: DocBlocks = { commands: [], run: 0, skipped: [], untagged: [] };
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i]!);
    if (open === null) continue;
    const indent = open[1]!.length;
    const fence = open[2]!;
    const info = open[3]!.trim().split(/\s+/).filter((w) => w !== "");
    const start = i + 1;
    const body: Array<{ line: number; text: string }> = [];
    for (i++; i < lines.length && lines[i]!.trim() !== fence; i++) {
      body.push({
        line: i + 1,
        text: lines[i]!.slice(Math.min(indent, /^ */.exec(lines[i]!)![0].length)),
      });
    }
    const lang = info[0] ?? "";
    if (lang === "sh" && info.includes("no-test")) {
      out.skipped.push(start);
      continue;
    }
    if (lang !== "sh") {
      const shellish = ["", "bash", "shell", "console", "text"].includes(lang) &&
        body.some((l) => /^\s*(\$ )?(panoramix|deno|npm) /.test(l.text));
      if (shellish) out.untagged.push(start);
      continue;
    }
    out.run++;
    let pending: DocCommand | undefined;
    let heredoc: string | undefined; // terminator of a here-document being copied verbatim
    for (const { line, text } of body) {
      if (pending !== undefined && heredoc !== undefined) {
        pending.text += `\n${text}`;
        if (text.trim() === heredoc) {
          out.commands.push(pending);
          pending = undefined;
          heredoc = undefined;
        }
        continue;
      }
      if (pending === undefined) {
        if (/^\s*(#.*)?$/.test(text)) continue;
        pending = { line, block: start, text: "" };
      }
      const opens = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(text);
      if (opens !== null) {
        pending.text = (pending.text + text).trim();
        heredoc = opens[2]!;
        continue;
      }
      if (text.endsWith("\\")) {
        pending.text += text.slice(0, -1) + " ";
        continue;
      }
      pending.text += text;
      out.commands.push({ ...pending, text: pending.text.trim() });
      pending = undefined;
    }
    if (pending !== undefined) out.commands.push({ ...pending, text: pending.text.trim() });
  }
  return out;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The bash script that runs a file's commands and names the failing one.
 *
 * @param file the documentation file, as reported
 * @param commands its commands
 * @returns the script
 */
export function docsScript(file: string, commands: readonly DocCommand[]): string {
  const parts = [
    "set -eE -o pipefail",
    `trap 'status=$?; echo "docs test: ${file}:$__line (sh block at line $__block): exit $status: ` +
    `$__cmd" >&2; exit $status' ERR`,
  ];
  for (const { line, block, text } of commands) {
    parts.push(`__line=${line}; __block=${block}; __cmd=${shellQuote(text)}`);
    parts.push(text);
  }
  return parts.join("\n") + "\n";
}

/** A folder holding a `panoramix` that runs this checkout's CLI on this Deno. */
async function panoramixShim(dir: string): Promise<string> {
  const bin = join(dir, "bin");
  await Deno.mkdir(bin, { recursive: true });
  const permissions = "--allow-read --allow-write --allow-env --allow-net --allow-sys";
  await Deno.writeTextFile(
    join(bin, "panoramix"),
    `#!/bin/sh\nexec ${shellQuote(Deno.execPath())} run --quiet --no-prompt ${permissions} ` +
      `--config ${shellQuote(join(root, "deno.json"))} ${
        shellQuote(join(root, "cli/main.ts"))
      } "$@"\n`,
  );
  await Deno.chmod(join(bin, "panoramix"), 0o755);
  return bin;
}

async function docFiles(): Promise<string[]> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(join(root, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  return files.sort();
}

Deno.test("a failing docs command is named with its file, line, block and text", async () => {
  const script = docsScript("docs/x.md", [
    { line: 3, block: 2, text: "true" },
    { line: 4, block: 2, text: "false --flag" },
    { line: 5, block: 2, text: "echo never" },
  ]);
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.equal(
    new TextDecoder().decode(out.stdout),
    "",
    "the command after the failure did not run",
  );
  assert.equal(
    new TextDecoder().decode(out.stderr),
    "docs test: docs/x.md:4 (sh block at line 2): exit 1: false --flag\n",
  );
});

Deno.test("a here-document is copied verbatim into its command, up to its terminator", () => {
  const text = ["```sh", "cat > a.json <<'EOF'", "{", '  "x": 1', "}", "EOF", "panoramix b", "```"]
    .join("\n");
  assert.deepEqual(extractShellBlocks(text).commands, [
    { line: 2, block: 1, text: "cat > a.json <<'EOF'\n{\n  \"x\": 1\n}\nEOF" },
    { line: 7, block: 1, text: "panoramix b" },
  ]);
});

Deno.test("shell blocks are extracted with line numbers, continuations and no-test skips", () => {
  const text = [
    "# Title", //                 1
    "```sh", //                   2
    "# a comment", //             3
    "panoramix a \\", //          4
    "  --flag x", //              5
    "", //                        6
    "panoramix b", //             7
    "```", //                     8
    "```sh no-test", //           9
    "deno task ok", //            10
    "```", //                     11
    "    panoramix synopsis", //  12
    "```", //                     13
    "panoramix untagged", //      14
    "```", //                     15
    "- item:", //                 16
    "  ```sh", //                 17
    "  panoramix c", //           18
    "  ```", //                   19
  ].join("\n");
  const blocks = extractShellBlocks(text);
  assert.deepEqual(blocks.commands, [
    { line: 4, block: 2, text: "panoramix a    --flag x" },
    { line: 7, block: 2, text: "panoramix b" },
    { line: 18, block: 17, text: "panoramix c" },
  ]);
  assert.equal(blocks.run, 2);
  assert.deepEqual(blocks.skipped, [9]);
  assert.deepEqual(blocks.untagged, [13]);
});

for (const file of await docFiles()) {
  Deno.test(`every sh command of ${file} runs as written`, async () => {
    const blocks = extractShellBlocks(await Deno.readTextFile(join(root, file)));
    assert.deepEqual(
      blocks.untagged,
      [],
      `${file}: blocks at lines ${blocks.untagged.join(", ")} show commands; tag them ` +
        "```sh (run by this test) or ```sh no-test",
    );
    console.log(
      `${file}: ${blocks.run} sh blocks run (${blocks.commands.length} commands), ` +
        `${blocks.skipped.length} sh no-test blocks skipped`,
    );
    if (blocks.commands.length === 0) return;
    const temp = await Deno.makeTempDir({ prefix: "panoramix-docs-" });
    try {
      const bin = await panoramixShim(join(temp, ".shim"));
      const work = join(temp, "work");
      await Deno.mkdir(work);
      const path = [bin, dirname(Deno.execPath()), Deno.env.get("PATH") ?? "/usr/bin:/bin"];
      const child = new Deno.Command("bash", {
        args: ["-c", docsScript(file, blocks.commands)],
        cwd: work,
        env: { PATH: path.join(":"), NO_COLOR: "1", RUST_BACKTRACE: "0" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
      const out = await child.output();
      const stderr = new TextDecoder().decode(out.stderr);
      const failure = stderr.split("\n").find((l) => l.startsWith("docs test: ")) ??
        `docs test: ${file}: bash exited ${out.code}`;
      assert.equal(out.code, 0, `${failure}\n--- stderr (last lines):\n${stderr.slice(-2000)}`);
    } finally {
      await Deno.remove(temp, { recursive: true });
    }
  });
}

/**
 * The first fenced block of a language after a heading of the README.
 *
 * @param markdown the README
 * @param heading the heading line
 * @param lang the info string
 * @returns the block's text
 */
function blockAfter(markdown: string, heading: string, lang: string): string {
  const from = markdown.indexOf(`\n${heading}\n`);
  assert.ok(from >= 0, `README.md has no '${heading}'`);
  const match = new RegExp("\n```" + lang + "\n([\\s\\S]*?)\n```\n").exec(markdown.slice(from));
  assert.ok(match !== null, `README.md has no ${lang} block after '${heading}'`);
  return match[1]!;
}

Deno.test("the README's library example runs as shown and ends on its own", async () => {
  const readme = await Deno.readTextFile(join(root, "README.md"));
  const config = JSON.parse(blockAfter(readme, "## Library", "json"));
  const snippet = blockAfter(readme, "## Library", "ts");
  const temp = await Deno.makeTempDir({ prefix: "panoramix-library-" });
  try {
    // The user's project sits beside their clone: point the link at this checkout.
    config.links = [root];
    await Deno.writeTextFile(join(temp, "deno.json"), JSON.stringify(config));
    await Deno.writeTextFile(join(temp, "main.ts"), snippet);
    const command = /`(deno run [^`]*main\.ts)`/.exec(readme.slice(readme.indexOf("## Library")));
    assert.ok(command !== null, "the README says how to run the example");
    const child = new Deno.Command(Deno.execPath(), {
      args: [...command[1]!.split(" ").slice(1)],
      cwd: temp,
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill(), 60_000);
    const out = await child.output();
    clearTimeout(timer);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `the example failed or did not end within 60 s:\n${stderr}`);
    assert.match(new TextDecoder().decode(out.stdout), /Terelius–Wikström proof/);
    assert.doesNotMatch(stderr, /Requires read access|Worker failed/);
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
});
