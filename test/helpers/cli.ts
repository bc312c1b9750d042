// Run the real `avfs` executable as a child process, the way a user or an agent does.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bin/avfs, from dist/test/helpers/cli.js. */
export const AVFS_BIN = fileURLToPath(new URL('../../../bin/avfs', import.meta.url));

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
  /** stdout as UTF-8 text. */
  out: string;
}

export interface RunOptions {
  /** Bytes for stdin; stdin is closed either way (never left open for a test to hang on). */
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export function runAvfs(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.AVFS_DEBUG;
  delete env.AVFS_ACTOR;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AVFS_BIN, ...args], { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout, stderr: Buffer.concat(err).toString('utf8'), out: stdout.toString('utf8') });
    });
    child.stdin.on('error', () => {}); // the command may exit before reading all of its input
    child.stdin.end(opts.input ?? '');
  });
}

/** A fresh AVFS_HOME and a runner bound to it. */
export function cliHome(prefix = 'avfs-cli-'): { home: string; run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult> } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return {
    home,
    run: (args, opts = {}) => runAvfs(args, { ...opts, env: { AVFS_HOME: home, ...opts.env } }),
  };
}

// ---- assertions shared by the CLI test files ------------------------------------------------

export function assertOk(r: RunResult, what = ''): void {
  assert.equal(r.code, 0, `${what} exit ${r.code}: ${r.stderr}`);
}

/** A failure: the exit code, exactly one `avfs: ...` line on stderr, no stack trace. */
export function assertOneLineError(r: RunResult, exit: number, match?: RegExp): void {
  assert.equal(r.code, exit, `exit code (stdout: ${r.out}, stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], /^avfs: /);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  if (match) assert.match(lines[0], match);
}

/** The --json form of a failure: one JSON line on stdout with the code, nothing on stderr. */
export function assertJsonError(r: RunResult, exit: number, code: string): void {
  assert.equal(r.code, exit, `exit code (stdout: ${r.out}, stderr: ${r.stderr})`);
  assert.equal(r.stderr, '');
  const lines = r.out.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line on stdout: ${r.out}`);
  const doc = JSON.parse(lines[0]) as { error: string; message: string };
  assert.equal(doc.error, code);
  assert.equal(typeof doc.message, 'string');
  assert.ok(!doc.message.includes('\n'));
}

type Run = (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/**
 * Successful-call shortcuts over a runner: `json` runs with --json and parses stdout, `text`
 * returns stdout; both fail the test on a non-zero exit. The runner is looked up at each call,
 * so suites may assign theirs in a before() hook.
 */
export function okCalls(getRun: () => Run): {
  json: <T = unknown>(args: readonly string[], opts?: RunOptions) => Promise<T>;
  text: (args: readonly string[], opts?: RunOptions) => Promise<string>;
} {
  return {
    json: async <T = unknown>(args: readonly string[], opts?: RunOptions): Promise<T> => {
      const r = await getRun()(['--json', ...args], opts);
      assertOk(r, args.join(' '));
      return JSON.parse(r.out) as T;
    },
    text: async (args: readonly string[], opts?: RunOptions): Promise<string> => {
      const r = await getRun()(args, opts);
      assertOk(r, args.join(' '));
      return r.out;
    },
  };
}
