// The fuzz job (issue 12, item 4): properties over everything that reads input an agent or a
// damaged disk controls: the CLI's argument parser and entry point, path normalisation and
// resolution, the full-text query parser, grep's BRE and JavaScript regex parsers, and the
// vault opener. Each input runs under a time limit in a worker thread or a child process (a
// synchronous hang cannot be interrupted in-process), and must end in a result or a clear
// error: a VfsError with a code, on one line; never a stack trace, a crash or a hang; and a
// refused command changes nothing in the vault. `npm run fuzz` runs the same properties longer
// (docs/fuzz.md).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Sandbox, isClearError, hostileString, params, LIMIT_MS } from './helpers/fuzz.js';
import type { Answer } from './helpers/fuzz-worker.js';
import { ENGINES, STORE_NAME, vaultFactory } from './helpers/vaults.js';
import { runAvfs } from './helpers/cli.js';
import type { ArgsSpec } from '../src/cli/args.js';

const sandbox = new Sandbox();
after(() => sandbox.close());

/** Engines whose vault is a file or folder on the host (the opener and the CLI fuzz need one). */
const ON_DISK = ENGINES.filter((k) => vaultFactory(k).persistent && STORE_NAME[k]);

const show = (a: Answer): string => (a.ok ? `returned ${JSON.stringify(a.value)}` : `threw ${a.thrown.name} ${a.thrown.code ?? ''}: ${a.thrown.stack ?? a.thrown.message}`);

// ---- the argument parser -----------------------------------------------------------------

const SPEC: ArgsSpec = {
  flags: [
    { key: 'long', long: 'long', short: 'l', help: '' },
    { key: 'recursive', long: 'recursive', short: 'R', help: '' },
    { key: 'depth', long: 'depth', short: 'L', value: 'N', int: true, help: '' },
    { key: 'name', single: 'name', value: 'GLOB', help: '' },
    { key: 'color', long: 'color', value: 'WHEN', choices: ['auto', 'never', 'always'], help: '' },
    { key: 'op', long: 'op', value: 'OP', multi: true, help: '' },
    { key: 'n', short: 'n', value: 'N', int: true, multi: true, help: '' },
  ],
  min: 1,
  max: 3,
};

/** Tokens a careless or hostile agent passes: flags right and wrong, `--` games, odd numbers. */
const argToken = fc.oneof(
  fc.constantFrom('-l', '-R', '-lR', '-L', '-L2', '-L-1', '--depth', '--depth=', '--depth=NaN', '--depth=1e3', '--depth=99999999999999999999', '-name', '--name', '--color', '--color=auto', '--color=', '--op', '--op=x', '-n', '-n0', '-nn', '--', '-', '---', '--=', '-=', '--long=1', '-x', '--help', '-h', '-V', '--version', '-0', '-1', '--1', 'NaN', 'Infinity', '-Infinity', '1e400', '0x10', ' 1'),
  hostileString(30),
  fc.string({ minLength: 5000, maxLength: 20000, unit: fc.constantFrom('a', '-', '/', '\0') }),
);

describe('fuzz: the argument parser (cli/args.ts)', () => {
  it('any argv gives a parse within the spec or one EUSAGE line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(argToken, { maxLength: 12 }), async (argv) => {
        const a = await sandbox.call('parseArgs', argv, SPEC);
        if (!a.ok) {
          assert.ok(isClearError(a, ['EUSAGE']), show(a));
          return;
        }
        const { args, flags } = a.value as { args: string[]; flags: [string, unknown][] };
        const helped = flags.some(([k]) => k === 'help' || k === 'version');
        if (!helped) assert.ok(args.length >= SPEC.min && args.length <= SPEC.max, `positional count ${args.length}`);
        for (const [k, v] of flags) {
          if (k === 'depth') assert.ok(Number.isSafeInteger(v) && (v as number) >= 0, `depth ${String(v)}`);
          if (k === 'n') assert.ok(Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0), `n ${String(v)}`);
          if (k === 'color') assert.ok(['auto', 'never', 'always'].includes(v as string));
        }
        // Everything after the first `--` is positional, untouched.
        const dash = argv.indexOf('--');
        if (dash >= 0 && !argv.slice(0, dash).some((t) => /^-(L|-depth|name|-name|-color|-op|n)$/.test(t))) {
          const tail = argv.slice(dash + 1);
          assert.deepEqual(args.slice(args.length - tail.length), tail);
        }
      }),
      params(300),
    );
  });
});

// ---- the CLI entry point against real vaults ----------------------------------------------

const COMMAND_WORDS = [
  ['ls'], ['ls', '-la'], ['tree'], ['cat'], ['write'], ['touch'], ['mkdir', '-p'], ['rmdir'], ['rm'], ['rm', '-r'], ['cp'], ['mv'], ['ln', '-s'],
  ['stat'], ['find'], ['grep'], ['grep', '-E'], ['grep', '-r'], ['tag'], ['untag'], ['meta'], ['cd'], ['pwd'], ['diff'], ['log'], ['checkout'], ['revert'],
  ['snapshot', 'save'], ['snapshot', 'restore'], ['snapshot', 'delete'], ['snapshot', 'diff'], ['snapshot', 'list'], ['audit'],
  ['vault', 'info'], ['vault', 'check'], ['vault', 'stats'], ['vault', 'config'], ['prune'], ['gc'], ['maintain'],
  ['search'], ['memory', 'add'], ['memory', 'search'], ['memory', 'get'], ['memory', 'forget'], ['kv', 'set'], ['kv', 'get'], ['kv', 'del'], ['kv', 'list'],
  ['session', 'start'], ['session', 'end'], ['stream', 'append'], ['stream', 'trim'], ['state', 'set'], ['state', 'get'],
  ['nosuchcommand'], ['vault', 'nosuch'], [],
];

/** Operands and flags: real paths, traversal, huge and odd numbers, unknown flags, bad text. */
const cliToken = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('/a.txt', '/d', '/d/b.txt', '/link', '/loop', 'a.txt', '../../..', '/../../etc/passwd', '/d/../../x', '.', '..', '/', '//', '/a.txt/', '/a.txt/x', '/nope', 'tag1', 'k', 'v', 's1') },
  { weight: 3, arbitrary: fc.constantFrom('--json', '-q', '--vault', '--actor', '--at', '--keep', '--older-than', '-n', '--max-count', '--version', '--ttl', '--if-version', '--limit', '--force', '-f', '--no-such-flag', '-Z', '--', '-', '--json=1', '--color=bogus') },
  { weight: 2, arbitrary: fc.constantFrom('-1', '0', 'NaN', '1e309', '99999999999999999999', '-0', '0x1f', '1.5', 'Infinity', '', ' ') },
  { weight: 2, arbitrary: hostileString(20) },
  { weight: 1, arbitrary: fc.string({ minLength: 4097, maxLength: 9000, unit: fc.constantFrom('a', '/', '.', 'é') }) },
);

/** A small vault with files, a folder, a symlink loop, a tag, a snapshot and a key. */
async function seedVault(dir: string, kind: string): Promise<string> {
  const v = await vaultFactory(kind as 'sqlite').create(dir);
  await v.writeFile('/a.txt', 'alpha beta\n');
  await v.mkdir('/d');
  await v.writeFile('/d/b.txt', 'gamma\n');
  await v.writeFile('/a.txt', 'alpha beta two\n');
  await v.symlink('/d', '/link');
  await v.symlink('/loop', '/loop');
  await v.tag('/a.txt', 'tag1');
  await v.saveSnapshot('s1');
  await v.close();
  return join(dir, STORE_NAME[kind]);
}

/** The kinds of error class that mean a bug reached the user (not a refused input). */
const INTERNAL = /^(TypeError|RangeError|ReferenceError|SyntaxError|EvalError|URIError|AssertionError|AggregateError)\b/m;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The vault's content changed. */
  changed: boolean;
  /** Some operation of the command succeeded (and was logged). */
  partly: boolean;
}

/** Commands whose exit 1 means "no match" or "they differ", as grep's and diff's do: no message. */
const SILENT_ONE = new Set(['grep', 'search', 'diff']);

function checkRefusal(argv: string[], words: string[], r: CliRun): void {
  const what = `argv ${JSON.stringify(argv)} -> exit ${r.code}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 4000)}`;
  assert.ok([0, 1, 2].includes(r.code), `exit code: ${what}`);
  // AVFS_DEBUG is on, so the error behind each message follows it: it must not be a bug's.
  assert.doesNotMatch(r.stderr, INTERNAL, `an internal error reached the user: ${what}`);
  assert.doesNotMatch(r.stderr + r.stdout, /Cannot read propert|is not a function|is not iterable|undefined \(reading/, `an internal error reached the user: ${what}`);
  if (r.code === 0) return;
  if (!r.partly) assert.equal(r.changed, false, `a refused command changed the vault: ${what}`);
  // Whether --json is on is the parser's call (`--actor --json` makes "--json" the actor), so
  // the error may be in either place: JSON lines on stdout, or "avfs: " lines on stderr.
  const jsonErrors = r.stdout.split('\n').filter((l) => l.includes('"error":'));
  const textErrors = r.stderr.split('\n').filter((l) => l.startsWith('avfs: ') && !l.startsWith('avfs: warning'));
  if (!(r.code === 1 && SILENT_ONE.has(words[0]))) {
    assert.ok(jsonErrors.length + textErrors.length >= 1 || /^usage|^avfs - /im.test(r.stderr), `no error line: ${what}`);
  }
  for (const m of jsonErrors) {
    // One error object, or a result with the errors inside (grep reports per file).
    const doc = JSON.parse(m) as { error?: string; errors?: { error: string }[] };
    assert.ok(typeof doc.error === 'string' || (doc.errors ?? []).length > 0, what);
  }
  for (const m of textErrors) assert.ok(!m.includes('\r'), `one clean line: ${what}`);
}

for (const kind of ON_DISK) {
  describe(`fuzz: avfs command lines on a ${kind} vault (cli/main.ts)`, () => {
    let dir = '';
    let store = '';
    let env: Record<string, string> = {};
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `avfs-fuzz-cli-${kind}-`));
      store = await seedVault(dir, kind);
      env = { AVFS_HOME: join(dir, 'home'), AVFS_DEBUG: '1', AVFS_ACTOR: 'fuzz' };
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('random argv: an exit code, a clear error, no internal error, the vault unchanged when refused', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...COMMAND_WORDS),
          fc.array(cliToken, { maxLength: 6 }),
          fc.boolean(),
          hostileString(20),
          async (words, rest, json, input) => {
            const argv = [...(json ? ['--json'] : []), '--vault', store, ...words, ...rest];
            const before = await sandbox.call('dump', store);
            const a = await sandbox.call('cli', argv, env, input);
            const after = await sandbox.call('dump', store);
            assert.ok(a.ok && before.ok && after.ok, show(a.ok ? (before.ok ? after : before) : a));
            const [b, c] = [before.value, after.value] as { state: string; done: number }[];
            // A command that did part of its work (rm a b, with b missing) exits 1 too: its
            // logged operations account for what changed.
            checkRefusal(argv, words, { ...(a.value as Omit<CliRun, 'changed' | 'partly'>), changed: b.state !== c.state, partly: c.done > b.done });
          },
        ),
        params(80),
      );
      // Whatever the commands did, the vault is still sound.
      const r = await runAvfs(['--json', '--vault', store, 'vault', 'check'], { env: { AVFS_HOME: env.AVFS_HOME } });
      assert.equal(r.code, 0, r.out + r.stderr);
    });

    it('the real bin/avfs: hostile argv ends in an exit code and clear lines, no stack trace', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...COMMAND_WORDS), fc.array(cliToken.filter((t) => !t.includes('\0')), { maxLength: 5 }), async (words, rest) => {
          const argv = ['--vault', store, ...words, ...rest];
          const r = await runAvfs(argv, { env: { AVFS_HOME: env.AVFS_HOME } });
          assert.ok([0, 1, 2].includes(r.code), `exit ${r.code}: ${r.stderr}`);
          assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace: ${JSON.stringify(argv)}: ${r.stderr}`);
          // The error is an "avfs: " line on stderr, or a JSON error on stdout when --json took.
          const line = r.stderr.split('\n').some((l) => l.startsWith('avfs: ') || /^usage/i.test(l)) || r.out.split('\n').some((l) => l.startsWith('{"error":'));
          if (r.code !== 0 && !(r.code === 1 && SILENT_ONE.has(words[0]))) assert.ok(line, `an error line: ${JSON.stringify(argv)}: ${r.stderr}`);
        }),
        params(4),
      );
    });
  });
}

// ---- what the fuzzer found, as plain tests ------------------------------------------------

describe('fuzz: regressions', () => {
  it('a path or argument holding a newline or control characters gives a one-line message', async () => {
    // Counterexample: realpath("\n") was '\n: no such file or directory' over two lines.
    const r = (await sandbox.call('resolve', [], [], '\n')) as { ok: true; value: Record<string, { message: string; code: string }> };
    assert.equal(r.value.realpathError.code, 'ENOENT');
    assert.equal(r.value.realpathError.message, '/\\n: no such file or directory');
    // Counterexample: parseArgs([long, '', '', '\n']) said "too many arguments: ... \n".
    const a = await sandbox.call('parseArgs', ['a', 'b', 'c', '\n\r\u2028'], SPEC);
    assert.ok(isClearError(a, ['EUSAGE']), show(a));
    assert.match((a as { thrown: { message: string } }).thrown.message, /too many arguments: \\n\\r\\u2028/);
  });
});

// ---- paths ----------------------------------------------------------------------------------

const pathPiece = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('a', 'b', 'd', '.', '..', '', 'é', ' ', '...', 'x y') },
  { weight: 1, arbitrary: hostileString(10) },
  { weight: 1, arbitrary: fc.string({ minLength: 250, maxLength: 300, unit: fc.constantFrom('n', 'é') }) },
);
const pathText = fc.tuple(fc.boolean(), fc.array(pathPiece, { maxLength: 12 })).map(([abs, parts]) => (abs ? '/' : '') + parts.join('/'));

describe('fuzz: path normalisation (core/paths.ts)', () => {
  it('normalised paths are absolute, canonical, idempotent and never above /; bad ones are EINVAL/ENAMETOOLONG', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(pathText, hostileString(60)), fc.constantFrom('/', '/d', '/a/b/c'), async (input, cwd) => {
        const a = await sandbox.call('normalizePath', input, cwd);
        if (!a.ok) {
          assert.ok(isClearError(a, ['EINVAL', 'ENAMETOOLONG']), show(a));
          return;
        }
        const p = a.value as string;
        assert.ok(p.startsWith('/'), p);
        assert.ok(p === '/' || !p.endsWith('/'), p);
        for (const name of p.split('/').slice(1)) if (p !== '/') assert.ok(name !== '' && name !== '.' && name !== '..', `canonical: ${p}`);
        const again = await sandbox.call('normalizePath', p, '/a/b');
        assert.deepEqual(again, { ok: true, value: p }, 'idempotent and independent of the working folder');
        assert.ok(Buffer.byteLength(p) <= 4096);
      }),
      params(400),
    );
  });

  it('resolution through random symlinks: canonical results, same inode, errors from the POSIX set', async () => {
    const target = fc.oneof(pathText.filter((t) => t.length > 0), fc.constantFrom('/', '..', '.', 'l1', '/l2', 'l1/l2', '../../..'));
    const at = fc.constantFrom('/l1', '/l2', '/d/l3', '/d/e/l4', '/l5');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(target, at), { maxLength: 6 }), pathText, async (links, path) => {
        const a = await sandbox.call('resolve', links, ['/d/e', '/a'], path);
        assert.ok(a.ok, show(a));
        const r = a.value as Record<string, unknown>;
        for (const op of ['realpath', 'lstat', 'stat']) {
          const e = r[op + 'Error'] as Answer & { vfs?: boolean; code?: string; message?: string } | undefined;
          if (e) {
            const t = e as unknown as { vfs: boolean; code?: string; message: string; stack?: string };
            assert.ok(t.vfs && ['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EINVAL'].includes(t.code ?? ''), `${op}: ${t.code} ${t.stack}`);
            assert.ok(!t.message.includes('\n'));
          }
        }
        if (typeof r.realpath === 'string') {
          assert.equal(r.realpathAgain, r.realpath, 'realpath is idempotent');
          assert.equal(r.realIno, r.stat, 'realpath names what stat finds');
        }
      }),
      params(150),
    );
  });
});

// ---- the full-text query parser -------------------------------------------------------------

const queryToken = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('alpha', 'beta', 'da*', '"a b"', '"a b"*', '"x', '"', '""', 'AND', 'OR', 'NOT', '(', ')', '*', 'e-mail', 'foo.bar', 'and', 'é', '**', 'a*b') },
  { weight: 1, arbitrary: hostileString(8) },
);

describe('fuzz: the search query parser (text/query.ts)', () => {
  it('any query parses to a canonical form that parses to itself, or is EINVAL on one line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.array(queryToken, { maxLength: 14 }).map((t) => t.join(' ')), fc.array(queryToken, { maxLength: 14 }).map((t) => t.join('')), fc.string({ minLength: 4000, maxLength: 4200, unit: fc.constantFrom('(', 'a', ' ', '"') })),
        async (q) => {
          const a = await sandbox.call('parseQuery', q);
          if (!a.ok) {
            assert.ok(isClearError(a, ['EINVAL']), show(a));
            return;
          }
          const again = await sandbox.call('parseQuery', a.value as string);
          assert.deepEqual(again, a, `the canonical form of ${JSON.stringify(q)} reads back the same`);
        },
      ),
      params(400),
    );
  });
});

// ---- grep's regex parsers -------------------------------------------------------------------

const regexToken = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'ab', '.', '*', '+', '?', '|', '(', ')', '[', ']', '{', '}', '{2}', '{1,}', '{,2}', '^', '$', '\\', '-', '[^a]', '[a-c]', '[]a]', '[[:alpha:]]', '[[:bogus:]]', '[[=a=]]', '[z-a]') },
  { weight: 4, arbitrary: fc.constantFrom('\\(', '\\)', '\\{', '\\}', '\\|', '\\+', '\\?', '\\1', '\\2', '\\9', '\\0', '\\b', '\\B', '\\<', '\\>', '\\w', '\\W', '\\s', '\\d', '\\c', '\\cA', '\\x4', '\\x41', '\\u00e9', '\\u12', '\\k<n>', '(?<n>a)', '(?:', '(?=', '(?!', '(?<=', '(?<!', '(?<', '\\`', "\\'", '\\-', '\\/') },
  { weight: 1, arbitrary: hostileString(6) },
);
const regexText = fc.oneof(
  { weight: 20, arbitrary: fc.array(regexToken, { maxLength: 12 }).map((t) => t.join('')) },
  { weight: 1, arbitrary: fc.string({ minLength: 9990, maxLength: 10010, unit: fc.constantFrom('(', 'a', '*', ')', '\\(', '\\)') }) },
);

describe('fuzz: grep patterns (search/parse-bre.ts, parse-js.ts, pattern.ts)', () => {
  it('any pattern in any dialect compiles or is EINVAL on one line, within the time limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(regexText, { minLength: 1, maxLength: 3 }), fc.constantFrom('basic', 'extended', 'fixed'), fc.boolean(), async (patterns, dialect, ic) => {
        const a = await sandbox.call('compile', patterns, dialect, ic);
        if (!a.ok) assert.ok(isClearError(a, ['EINVAL']), show(a));
      }),
      params(400),
    );
  });

  it('matching any pattern against long repetitive text ends within the time limit: lines, or the clear "took over" error', async () => {
    // Texts that make nested quantifiers backtrack: long runs of one character, then a spoiler.
    const text = fc.tuple(fc.constantFrom('a', 'ab', 'x', ' '), fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('', '!', 'b', '\n')).map(([u, n, end]) => u.repeat(n) + end);
    const nested = fc.constantFrom('(a+)+$', '(a|aa)+$', '(a*)*b', '(.*a){12}', '(x+x+)+y', '\\(a*\\)*b', '(?:a|a)*!', '(a|b|ab)*c', '^(\\w+\\s?)*$');
    await fc.assert(
      fc.asyncProperty(fc.oneof(nested, fc.array(regexToken, { minLength: 1, maxLength: 8 }).map((t) => t.join(''))), fc.constantFrom('basic', 'extended'), text, async (p, dialect, t) => {
        const a = await sandbox.call('match', [p], dialect, t);
        if (!a.ok) assert.ok(isClearError(a, ['EINVAL']), show(a));
      }),
      params(60),
    );
  });

  // Lines without \r, \u2028, \u2029 and NUL: there JavaScript's '.', '^' and '$' mean GNU's.
  const lineText = fc.string({ maxLength: 24, unit: fc.constantFrom('a', 'b', 'c', 'A', 'B', ' ', '\n', '-', '_', 'é', 'É', 'x', '.', '(', '{', '1', '\t') });

  it('extended: wherever JavaScript accepts the pattern, grep selects the lines its RegExp matches', async () => {
    const jsPattern = fc.array(regexToken.filter((t) => !/[\r\n\u2028\u2029\0]/.test(t)), { minLength: 1, maxLength: 8 }).map((t) => t.join(''));
    await fc.assert(
      // GNU's additions mean something else to JavaScript: [[:alpha:]] and \< \> are left out.
      fc.asyncProperty(jsPattern.filter((p) => validRegExp(p) && !/\[:|\\[<>]/.test(p)), fc.boolean(), lineText, async (p, ic, text) => {
        const a = await sandbox.call('grepVsRegExp', p, 'extended', ic, p, text);
        assert.ok(a.ok, show(a));
        const r = a.value as { got: number[]; want: number[]; source: string };
        assert.deepEqual(r.got, r.want, `/${p}/${ic ? 'i' : ''} on ${JSON.stringify(text)} (run as /${r.source}/)`);
      }),
      params(400),
    );
  });

  it('basic: a BRE and the same expression written for JavaScript select the same lines', async () => {
    const pair = fc.letrec<{ re: [string, string] }>((tie) => ({
      re: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        { weight: 5, arbitrary: fc.constantFrom<[string, string]>(['a', 'a'], ['b', 'b'], ['.', '.'], ['x', 'x'], ['[a-c]', '[a-c]'], ['[^a]', '[^a]'], ['(', '\\('], ['+', '\\+'], ['{', '\\{'], ['|', '\\|'], ['\\.', '\\.'], ['[[:digit:]]', '\\d'], ['\\w', '\\w']) },
        fc.tuple(tie('re'), tie('re')).map(([x, y]): [string, string] => [x[0] + y[0], x[1] + y[1]]),
        fc.tuple(tie('re'), tie('re')).map(([x, y]): [string, string] => [`\\(${x[0]}\\|${y[0]}\\)`, `(${x[1]}|${y[1]})`]),
        fc.tuple(tie('re'), fc.constantFrom<[string, string]>(['*', '*'], ['\\+', '+'], ['\\?', '?'], ['\\{2\\}', '{2}'], ['\\{1,2\\}', '{1,2}'], ['\\{0,\\}', '{0,}'])).map(([x, q]): [string, string] => [`\\(${x[0]}\\)${q[0]}`, `(${x[1]})${q[1]}`]),
      ),
    })).re;
    const anchored = fc.tuple(fc.boolean(), pair, fc.boolean()).map(([s, [b, j], e]): [string, string] => [(s ? '^' : '') + b + (e ? '$' : ''), (s ? '^' : '') + j + (e ? '$' : '')]);
    await fc.assert(
      fc.asyncProperty(anchored, fc.boolean(), lineText, async ([bre, js], ic, text) => {
        const a = await sandbox.call('grepVsRegExp', bre, 'basic', ic, js, text);
        assert.ok(a.ok, show(a));
        const r = a.value as { got: number[]; want: number[]; source: string };
        assert.deepEqual(r.got, r.want, `BRE ${bre} (as /${js}/${ic ? 'i' : ''}) on ${JSON.stringify(text)} (run as /${r.source}/)`);
      }),
      params(300),
    );
  });
});

function validRegExp(p: string): boolean {
  try {
    new RegExp(p);
    return true;
  } catch {
    return false;
  }
}

// ---- the vault opener over damaged stores ---------------------------------------------------

/** A folder store's biggest file: where its data is (lmdb's data.mdb, the log engine's log). */
function largestFile(folder: string): string {
  let best = '';
  let size = -1;
  for (const name of readdirSync(folder)) {
    const st = statSync(join(folder, name));
    if (st.isFile() && st.size > size) [best, size] = [join(folder, name), st.size];
  }
  return best;
}

/** What can happen to a store on disk: random bytes, a truncation, bit flips. */
type Damage = { kind: 'bytes'; at: number; bytes: number[] } | { kind: 'truncate'; at: number } | { kind: 'flips'; bits: number[] };
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('bytes' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('flips' as const), bits: fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 8 }) }),
);

function applyDamage(file: string, d: Damage): void {
  const size = statSync(file).size;
  if (d.kind === 'truncate') {
    truncateSync(file, Math.floor(d.at * size));
    return;
  }
  const buf = readFileSync(file);
  if (d.kind === 'bytes') {
    const at = Math.min(Math.floor(d.at * size), Math.max(0, size - d.bytes.length));
    Buffer.from(d.bytes).copy(buf, at);
  } else {
    for (const b of d.bits) {
      const bit = b % (size * 8);
      buf[bit >> 3] ^= 1 << (bit & 7);
    }
  }
  writeFileSync(file, buf);
}

for (const kind of ON_DISK) {
  describe(`fuzz: opening a damaged ${kind} vault (vault/store.ts)`, () => {
    let dir = '';
    let pristine = '';
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `avfs-fuzz-open-${kind}-`));
      mkdirSync(join(dir, 'seed'));
      pristine = await seedVault(join(dir, 'seed'), kind);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('random bytes, truncations and bit flips: vault check answers (ok or a clear error), never crashes or hangs', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(damage, async (d) => {
          const copy = join(dir, `c${n++}`, STORE_NAME[kind]);
          mkdirSync(join(copy, '..'), { recursive: true });
          if (statSync(pristine).isDirectory()) cpSync(pristine, copy, { recursive: true });
          else copyFileSync(pristine, copy);
          applyDamage(statSync(copy).isDirectory() ? largestFile(copy) : copy, d);
          const r = await runWithin(['--json', '--vault', copy, 'vault', 'check'], join(dir, 'home'));
          const what = `${JSON.stringify(d)}: exit ${r.code} signal ${r.signal}\nstdout: ${r.out}\nstderr: ${r.stderr}`;
          assert.ok(r.code === 0 || r.code === 1, `exit code: ${what}`);
          assert.equal(r.stderr.trim() === '' || /^avfs: vault check found/.test(r.stderr), true, `stderr: ${what}`);
          const lines = r.out.split('\n').filter((l) => l.length > 0);
          assert.equal(lines.length, 1, `one JSON answer: ${what}`);
          const doc = JSON.parse(lines[0]) as { ok?: boolean; error?: string };
          if (r.code === 1 && doc.error !== undefined) assert.ok(['ECORRUPT', 'ENOTVAULT', 'EVERSION', 'EIO'].includes(doc.error), `error code: ${what}`);
          if (r.code === 0) assert.equal(doc.ok, true, what);
          rmSync(join(copy, '..'), { recursive: true, force: true });
        }),
        params(kind === 'sqlite' ? 10 : 5),
      );
    });
  });
}

/** bin/avfs with a time limit for the whole process: past it, it is killed and the test fails. */
async function runWithin(argv: string[], home: string): Promise<{ code: number | null; signal: string | null; out: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const { AVFS_BIN } = await import('./helpers/cli.js');
  // Node's own start-up and the CLI's module loading are not the opener's time.
  const limit = LIMIT_MS + 3000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AVFS_BIN, ...argv], { env: { ...process.env, AVFS_HOME: home, AVFS_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`avfs ${argv.join(' ')} did not finish within ${limit} ms (a hang)`));
    }, limit);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, stderr: err });
    });
  });
}
