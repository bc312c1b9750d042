// The fuzz job's worker thread: it runs one generated input through the code under test and
// answers with what happened. The test thread gives every input a time limit and terminates
// this worker when it is passed, which is the only way to stop a synchronous hang (a regex
// backtracking catastrophically, a loop in a parser).
import { parentPort } from 'node:worker_threads';
import { parseArgs, type ArgsSpec } from '../../src/cli/args.js';
import { main } from '../../src/cli/main.js';
import { memoryWriter } from '../../src/cli/output.js';
import { normalizePath } from '../../src/core/paths.js';
import { parseQuery, formatQuery } from '../../src/text/query.js';
import { compilePatterns } from '../../src/search/pattern.js';
import { Matcher, scanText } from '../../src/search/matcher.js';
import { dumpStore } from './store-dump.js';
import { openVault, type Vault } from '../../src/index.js';
import { Readable } from 'node:stream';

/** A thrown value described plainly: the test decides whether it was a clear error. */
export interface Thrown {
  name: string;
  code?: string;
  message: string;
  vfs: boolean;
  stack?: string;
}

export type Answer = { ok: true; value: unknown } | { ok: false; thrown: Thrown };

function describe(e: unknown): Thrown {
  const err = e as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown } | null;
  return {
    name: typeof err?.name === 'string' ? err.name : typeof e,
    ...(typeof err?.code === 'string' ? { code: err.code } : {}),
    message: String(err?.message ?? e),
    vfs: err?.name === 'VfsError',
    ...(typeof err?.stack === 'string' ? { stack: err.stack } : {}),
  };
}

/** The lines (1-based) of `text` where `re` matches, one line at a time: the oracle for grep. */
function lineByLine(re: RegExp, text: string): number[] {
  if (text === '') return [];
  const ls = text.split('\n');
  if (text.endsWith('\n')) ls.pop();
  const out: number[] = [];
  ls.forEach((l, i) => {
    re.lastIndex = 0;
    if (re.test(l)) out.push(i + 1);
  });
  return out;
}

/** The lines where a compiled grep pattern matches, searching the whole text at once as grep does. */
function grepLines(source: string, flags: string, anchored: boolean, perLine: boolean, text: string): number[] {
  const out: number[] = [];
  scanText(new RegExp(source, flags + 'gm'), anchored || perLine ? new RegExp(source, flags) : null, perLine, text, Infinity, out);
  const lines: number[] = [];
  for (let i = 0; i < out.length; i += 2) lines.push(text.slice(0, out[i]).split('\n').length);
  return lines;
}

let pathVault: Vault | undefined;

const OPS: Record<string, (...args: never[]) => unknown> = {
  parseArgs: (argv: string[], spec: ArgsSpec) => {
    const r = parseArgs(argv, spec, 'fuzz');
    return { args: r.args, flags: [...r.flags.values.entries()] };
  },
  normalizePath: (input: string, cwd: string) => normalizePath(input, cwd),
  parseQuery: (q: string) => formatQuery(parseQuery(q)),
  compile: (patterns: string[], dialect: 'basic' | 'extended' | 'fixed', ignoreCase: boolean) => {
    const c = compilePatterns({ patterns, dialect, ignoreCase });
    return c.source;
  },
  /** grep's matcher over a text: the lines found, or its clear error (a runaway pattern is stopped). */
  match: async (patterns: string[], dialect: 'basic' | 'extended', text: string) => {
    const m = new Matcher(compilePatterns({ patterns, dialect }), { timeoutMs: 500 });
    try {
      return (await m.scan([text], Infinity, () => '/fuzz'))[0].length / 2;
    } finally {
      await m.close();
    }
  },
  /** grep's lines for `pattern` against JavaScript's own RegExp `ref`, line by line. */
  grepVsRegExp: (pattern: string, dialect: 'basic' | 'extended', ignoreCase: boolean, ref: string, text: string) => {
    const c = compilePatterns({ patterns: [pattern], dialect, ignoreCase });
    const got = grepLines(c.source, c.flags, c.anchored, c.perLine, text);
    const want = lineByLine(new RegExp(ref, ignoreCase ? 'i' : ''), text);
    return { got, want, source: c.source };
  },
  /** A memory vault with symlinks made by `setup`, then `realpath`/`lstat` of `path`. */
  resolve: async (links: [string, string][], dirs: string[], path: string) => {
    await pathVault?.close();
    const v = (pathVault = await openVault(':memory:'));
    for (const d of dirs) await v.mkdir(d, { recursive: true }).catch(() => {});
    for (const [target, at] of links) await v.symlink(target, at).catch(() => {});
    const out: Record<string, unknown> = {};
    for (const op of ['realpath', 'lstat', 'stat'] as const) {
      try {
        if (op === 'realpath') {
          const real = await v.realpath(path);
          out.realpath = real;
          out.realpathAgain = await v.realpath(real);
          out.realIno = (await v.stat(real)).ino;
        } else {
          out[op] = (await v[op](path)).ino;
        }
      } catch (e) {
        out[op + 'Error'] = describe(e);
      }
    }
    return out;
  },
  /** One `avfs` command line, in this thread. */
  cli: async (argv: string[], env: Record<string, string>, input: string) => {
    const out = memoryWriter();
    const err = memoryWriter();
    const code = await main(argv, { stdout: out, stderr: err, stdin: Readable.from([Buffer.from(input)]), stdinIsTTY: false, env });
    return { code, stdout: out.text(), stderr: err.text() };
  },
  dump: (store: string) => dumpStore(store),
};

parentPort!.postMessage({ ready: true });

parentPort!.on('message', async (m: { id: number; op: string; args: unknown[] }) => {
  let answer: Answer;
  try {
    const fn = OPS[m.op] as (...a: unknown[]) => unknown;
    answer = { ok: true, value: await fn(...m.args) };
  } catch (e) {
    answer = { ok: false, thrown: describe(e) };
  }
  parentPort!.postMessage({ id: m.id, answer });
});
