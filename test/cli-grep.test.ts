// `avfs grep` end to end: the real executable, a sqlite vault holding a tree that also sits on
// the host, so GNU grep (/usr/bin/grep) can say what the output should be, line for line.
// Then flags, exit codes (0 selected, 1 none, 2 trouble) and bad input (one line, no stack).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliHome, type RunOptions, type RunResult, assertOk, assertOneLineError, assertJsonError } from './helpers/cli.js';

const GNU = '/usr/bin/grep';
const hasGnu = existsSync(GNU) && /GNU grep/.test(spawnSync(GNU, ['--version'], { encoding: 'utf8' }).stdout ?? '');
const noGnu = hasGnu ? false : 'GNU grep is not installed';

const FILES: Record<string, string> = {
  'src/main.c': '#include <stdio.h>\nint main(void) {\n  printf("hello world\\n");\n  return 0;\n}\n',
  'src/util.c': 'static int foo(int a) { return a + 1; }\nstatic int foobar(int b) { return b; }\n/* TODO: bar */\n',
  'src/inc/util.h': '#ifndef UTIL_H\n#define UTIL_H\nint foo(int);\n#endif\n',
  'docs/readme.md': '# Title\n\nSome text about foo.\nFoo Bar baz\n\nabab a.b axb\nend of file\n',
  'docs/notes.txt': 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\n',
  'docs/crlf.txt': 'foo\r\nbar foo\r\nfoo end\r\n',
  'docs/nonl.txt': 'no newline at the end foo',
  'empty.txt': '',
  'unicode.txt': 'café au lait\nnaïve FOO\nÉTÉ\n',
};

describe('avfs grep', () => {
  let home: string;
  let run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;
  let host: string;

  /** GNU grep run in the host copy of the tree. */
  const gnu = (args: string[]): { code: number; out: string } => {
    const r = spawnSync(GNU, args, { cwd: host, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    return { code: r.status ?? -1, out: r.stdout };
  };
  const sorted = (s: string): string[] => s.split('\n').filter((l) => l.length > 0).sort();

  before(async () => {
    const h = cliHome('avfs-cli-grep-');
    home = h.home;
    run = h.run;
    host = mkdtempSync(join(tmpdir(), 'avfs-grep-host-'));
    for (const [p, body] of Object.entries(FILES)) {
      mkdirSync(join(host, p, '..'), { recursive: true });
      writeFileSync(join(host, p), body);
    }
    assertOk(await run(['vault', 'create', 'g', '--backend', 'sqlite']));
    assertOk(await run(['vault', 'use', 'g']));
    assertOk(await run(['import', '-r', host, '/']));
    assertOk(await run(['write', '/bin/blob.bin'], { input: Buffer.from([0x66, 0x6f, 0x6f, 0x0a, 0, 1, 2]) }));
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(host, { recursive: true, force: true });
  });

  it('prints what GNU grep prints, line for line (order aside: GNU follows the directory order)', { skip: noGnu }, async () => {
    const cases: string[][] = [
      ['-rn', 'foo', '.'],
      ['-rni', 'foo', '.'],
      ['-r', 'foo$', '.'],
      ['-rc', 'foo', '.'],
      ['-rl', 'int', '.'],
      ['-rL', 'int', '.'],
      ['-rnw', 'foo', '.'],
      ['-rnx', 'foo', '.'],
      ['-rnv', 'o', 'docs'],
      ['-rn', 'foo\\|bar', '.'],
      ['-rn', '\\(ab\\)\\{2\\}', '.'],
      ['-rnE', '(ab){2}|TODO', '.'],
      ['-rnF', 'a.b', '.'],
      ['-rn', 'a.b', '.'],
      ['-rn', '^#[a-z]*', '.'],
      // POSIX classes are ASCII here (GNU's, in a UTF-8 locale, take any letter): ASCII files only.
      ['-rn', '[[:upper:]]\\{2,\\}', 'src', 'docs'],
      ['-rn', '', 'docs/notes.txt', 'empty.txt'],
      ['-rni', 'été', '.'],
      ['-rh', 'foo', 'src'],
      ['-rH', 'three', 'docs/notes.txt'],
      ['-n', 'foo', 'src/util.c', 'docs/readme.md'],
      ['-m1', '-rn', 'foo', 'src'],
      ['-rnC1', 'foo', 'src', 'docs'],
    ];
    for (const args of cases) {
      // Our binary file is only in the vault; GNU would report it, we skip it.
      const want = gnu(args);
      const got = await run(['grep', ...args]);
      assert.deepEqual(sorted(got.out), sorted(want.out), `grep ${args.join(' ')}`);
      assert.equal(got.code, want.code, `exit code of grep ${args.join(' ')}`);
    }
  });

  it('context output matches GNU exactly, separators included', { skip: noGnu }, async () => {
    for (const args of [
      ['-n', '-C2', 'e', 'docs/notes.txt'],
      ['-A1', 'four\\|nine', 'docs/notes.txt'],
      ['-B3', '-n', 'twelve', 'docs/notes.txt'],
      ['-nv', '-A1', 'e', 'docs/notes.txt'],
      ['-c', '-v', 'e', 'docs/notes.txt'],
      ['-n', '-m2', '-A1', 'e', 'docs/notes.txt'],
      ['-H', '-n', '-C1', 'foo', 'docs/readme.md', 'src/util.c'],
    ]) {
      const want = gnu(args);
      const got = await run(['grep', ...args]);
      assert.equal(got.out, want.out, `grep ${args.join(' ')}`);
      assert.equal(got.code, want.code);
    }
  });

  it('exit status: 0 a line selected, 1 none, 2 trouble; other paths are still searched', async () => {
    let r = await run(['grep', 'hello', '/src/main.c']);
    assert.equal(r.code, 0);
    assert.equal(r.out, '  printf("hello world\\n");\n');
    r = await run(['grep', 'nothing-like-this', '/src/main.c']);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.equal(r.stderr, '', 'no match is not an error');
    r = await run(['grep', 'foo', '/nope.txt', '/src/util.c']);
    assert.equal(r.code, 2);
    assert.match(r.out, /^\/src\/util\.c:static int foo/m);
    assert.equal(r.stderr, 'avfs: grep: /nope.txt: no such file or directory\n');
    r = await run(['grep', '-s', 'foo', '/nope.txt']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, '');
    r = await run(['grep', 'foo', '/src']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^avfs: grep: \/src: is a directory\n$/);
    r = await run(['grep', '-q', 'foo', '/nope.txt', '/src/util.c']);
    assert.equal(r.code, 0, '-q and a selected line: 0 even with trouble');
    assert.equal(r.out, '');
    r = await run(['grep', '-q', 'zzz', '/src/util.c']);
    assert.equal(r.code, 1);
    // No PATH: the working folder, recursively, paths shown from it.
    assertOk(await run(['cd', '/src']));
    r = await run(['grep', 'foobar']);
    assert.equal(r.out, 'util.c:static int foobar(int b) { return b; }\n');
    r = await run(['grep', '-l', 'foo', '**/*.h', 'util.c']);
    assert.equal(r.out, 'inc/util.h\nutil.c\n');
    assertOk(await run(['cd', '/']));
    // A binary file named on the command line is said to be skipped (on stderr; the status is GNU's).
    r = await run(['grep', 'foo', '/bin/blob.bin']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'avfs: grep: /bin/blob.bin: binary file, not searched\n');
    r = await run(['grep', '-r', 'foo', '/bin']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, '', 'binary files found in a folder are skipped quietly');
  });

  it('bad input: one line, exit 2, no stack', async () => {
    assertOneLineError(await run(['grep', '-E', '(unclosed', '/']), 2, /^avfs: grep: invalid regular expression: /);
    assertOneLineError(await run(['grep', 'a\\(b', '/']), 2, /^avfs: grep: invalid regular expression: unmatched \( or \\\(/);
    assertOneLineError(await run(['grep', '-A', '-1', 'x', '/']), 2, /-A: expected a non-negative integer/);
    assertOneLineError(await run(['grep', '-C', 'two', 'x', '/']), 2, /-C: expected a non-negative integer/);
    assertOneLineError(await run(['grep', '--bogus', 'x']), 2, /unknown flag --bogus/);
    assertOneLineError(await run(['grep']), 2, /missing PATTERN/);
    assertOneLineError(await run(['grep', '-c', '-l', 'x']), 2, /exclude each other/);
    assertJsonError(await run(['--json', 'grep', '-E', '(', '/']), 2, 'EINVAL');
  });

  it('a catastrophic pattern on a 50,000-character line ends (a result, or one line of error) fast', async () => {
    assertOk(await run(['write', '/redos.txt', '--', 'a'.repeat(50_000)]));
    assertOk(await run(['write', '/redos2.txt', '--', 'a'.repeat(50_000) + 'b']));
    for (const [pattern, file] of [
      ['(a+)+$', '/redos.txt'],
      ['(a+)+$', '/redos2.txt'],
      ['^(a|aa)+$', '/redos2.txt'],
      ['(?=(a+)+$)b', '/redos2.txt'],
    ]) {
      const t0 = Date.now();
      const r = await run(['grep', '-cE', pattern, file], { env: { AVFS_GREP_TIMEOUT_MS: '500' } });
      const took = Date.now() - t0;
      assert.ok(took < 10_000, `generous guard: ${took} ms`);
      if (r.code === 2) assertOneLineError(r, 2, /^avfs: grep: the pattern took over 500 ms on \/redos2?\.txt .*simplify/);
      else assert.match(r.out, /^[01]\n$/, `${pattern}: ${r.stderr}`);
    }
  });

  it('--json: matches with context, counts, file lists, errors', async () => {
    let r = await run(['--json', 'grep', '-n', '-C1', 'three', '/docs/notes.txt', '/nope']);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.out) as { matches: unknown[]; errors: { path: string; error: string }[]; matched: boolean };
    assert.deepEqual(doc.matches, [{ path: '/docs/notes.txt', line: 3, text: 'three', before: [{ line: 2, text: 'two' }], after: [{ line: 4, text: 'four' }] }]);
    assert.deepEqual(
      doc.errors.map((e) => [e.path, e.error]),
      [['/nope', 'ENOENT']],
    );
    assert.equal(doc.matched, true);
    r = await run(['--json', 'grep', '-rc', 'foo', '/src']);
    assert.deepEqual((JSON.parse(r.out) as { counts: unknown }).counts, [
      { path: '/src/inc/util.h', count: 1 },
      { path: '/src/main.c', count: 0 },
      { path: '/src/util.c', count: 2 },
    ]);
    r = await run(['--json', 'grep', '-rl', 'foo', '/docs']);
    assert.deepEqual((JSON.parse(r.out) as { files: unknown }).files, ['/docs/crlf.txt', '/docs/nonl.txt', '/docs/readme.md']);
    r = await run(['--json', 'grep', '-r', 'zzz', '/docs']);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.out), { matches: [], matched: false, errors: [], skipped: [] });
  });

  it('--at searches the vault as it was; the index follows every change', async () => {
    assertOk(await run(['snapshot', 'save', 'before']));
    assertOk(await run(['write', '/docs/new.txt', '--', 'a unique_marker_word here']));
    let r = await run(['grep', '-r', 'unique_marker_word', '/']);
    assert.equal(r.out, '/docs/new.txt:a unique_marker_word here\n');
    r = await run(['grep', '-r', '--at', 'before', 'unique_marker_word', '/']);
    assert.equal(r.code, 1);
    assertOk(await run(['mv', '/docs/new.txt', '/src/moved.txt']));
    r = await run(['grep', '-rl', 'unique_marker_word', '/']);
    assert.equal(r.out, '/src/moved.txt\n');
    r = await run(['grep', '-rl', '--no-index', 'unique_marker_word', '/']);
    assert.equal(r.out, '/src/moved.txt\n');
    assertOk(await run(['rm', '/src/moved.txt']));
    r = await run(['grep', '-rl', 'unique_marker_word', '/']);
    assert.equal(r.code, 1);
  });
});
