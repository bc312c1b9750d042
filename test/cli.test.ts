// End-to-end tests of the `avfs` command: the real executable in a child process, a fresh
// AVFS_HOME, a sqlite vault. Output formats, exit codes, and the bad-input promise: every bad
// input gets one line on stderr (no stack), the right exit code, and leaves the vault as it was.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AVFS_BIN, cliHome, type RunOptions, type RunResult, assertOk, assertOneLineError, assertJsonError, okCalls } from './helpers/cli.js';
import { openVault } from '../src/index.js';

const hasScript = spawnSync('script', ['-V'], { stdio: 'ignore' }).status === 0;
const noPty = hasScript ? false : 'script(1) is not installed (no pseudo-terminal)';
const pkgVersion = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;

/** Run a pseudo-terminal session (`script`), with AVFS_HOME exported; returns what the terminal saw. */
function inPty(home: string, args: string[]): { code: number; text: string } {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, AVFS_BIN, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { env: { ...process.env, AVFS_HOME: home, AVFS_DEBUG: '' }, input: '', encoding: 'utf8' });
  return { code: r.status ?? -1, text: r.stdout };
}

describe('avfs command line', () => {
  let home: string;
  let run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;
  let work: string; // host files for import/export and broken vault files
  const { json, text } = okCalls(() => run);
  /** The whole vault, to prove a failed command changed nothing. */
  const snapshot = async (): Promise<string> => text(['--json', 'ls', '-R', '-a', '/']);

  before(async () => {
    const h = cliHome();
    home = h.home;
    run = h.run;
    work = mkdtempSync(join(tmpdir(), 'avfs-cli-work-'));
    assertOk(await run(['vault', 'create', 't', '--backend', 'sqlite']));
    assertOk(await run(['vault', 'use', 't']));
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  describe('help and version', () => {
    it('--version and -V print the package version', async () => {
      assert.equal(await text(['--version']), `avfs ${pkgVersion}\n`);
      assert.equal(await text(['-V']), `avfs ${pkgVersion}\n`);
      assert.deepEqual(await json(['--version']), { version: pkgVersion });
    });

    it('--help lists every command; no command at all is a usage error with the help on stderr', async () => {
      const help = await text(['--help']);
      for (const c of ['ls', 'tree', 'cat', 'write', 'touch', 'mkdir', 'rmdir', 'rm', 'cp', 'mv', 'ln', 'stat', 'find', 'import', 'export', 'cd', 'pwd', 'vault']) {
        assert.match(help, new RegExp(`^  ${c} `, 'm'), `help mentions ${c}`);
      }
      const bare = await run([]);
      assert.equal(bare.code, 2);
      assert.equal(bare.out, '');
      assert.match(bare.stderr, /usage: avfs/);
    });

    it('`avfs help CMD` and `avfs CMD --help` show the same usage and flags', async () => {
      const a = await text(['help', 'cp']);
      const b = await text(['cp', '--help']);
      assert.equal(a, b);
      assert.match(a, /^usage: avfs cp \[-r\] \[-n\] SRC\.\.\. DST/);
      assert.match(a, /-n, --no-clobber/);
      assert.match(await text(['find', '-h']), /-name GLOB/);
      const v = await text(['vault', '--help']);
      for (const s of ['create', 'list', 'use', 'info', 'delete', 'import', 'check']) assert.match(v, new RegExp(`avfs vault ${s}`));
      assert.match(await text(['help', 'vault', 'create']), /--backend KIND/);
      assert.match(await text(['vault', 'create', '--help']), /--backend KIND/);
    });

    it('an unknown command or flag is a usage error (exit 2)', async () => {
      assertOneLineError(await run(['frobnicate']), 2, /unknown command/);
      assertOneLineError(await run(['ls', '--frob']), 2, /unknown flag --frob/);
      assertOneLineError(await run(['ls', '-lZ']), 2, /unknown flag -Z/);
      assertOneLineError(await run(['--frob', 'ls']), 2, /unknown flag/);
      assertJsonError(await run(['--json', 'ls', '--frob']), 2, 'EUSAGE');
      assertOneLineError(await run(['vault', 'frob']), 2, /unknown subcommand/);
      assertOneLineError(await run(['vault']), 2, /missing subcommand/);
    });

    it('missing and extra arguments and bad flag values are usage errors', async () => {
      assertOneLineError(await run(['cp', '/a']), 2, /missing argument/);
      assertOneLineError(await run(['pwd', 'x']), 2, /too many arguments/);
      assertOneLineError(await run(['tree', '-L', 'x']), 2, /-L/);
      assertOneLineError(await run(['tree', '-L']), 2, /needs a value/);
      assertOneLineError(await run(['find', '-type', 'q']), 2, /-type/);
      assertOneLineError(await run(['find', '-size', '1X']), 2, /-size/);
      assertOneLineError(await run(['find', '-mtime', 'yesterday']), 2, /-mtime/);
    });
  });

  describe('start-up', () => {
    it('`cat` on a sqlite vault loads only its own command module and never lmdb', async () => {
      assertOk(await run(['write', '/startup.txt', 'small']));
      // A resolve hook that reports every module the process loads.
      const hook = join(work, 'trace-hook.mjs');
      const body = `export async function resolve(s, c, n) { const r = await n(s, c); process.stderr.write('MODULE ' + r.url + '\\n'); return r; }`;
      // ESM imports through a resolve hook; CommonJS requires (better-sqlite3) through Module._load.
      const cjs = `const load = Module._load; Module._load = function (r, ...a) { process.stderr.write('MODULE cjs:' + r + '\\n'); return load.call(this, r, ...a); };`;
      writeFileSync(hook, `import Module, { register } from 'node:module';\n${cjs}\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(body)}));\n`);
      const r = spawnSync(process.execPath, ['--import', hook, AVFS_BIN, 'cat', '/startup.txt'], { env: { ...process.env, AVFS_HOME: home }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'small');
      const mods = r.stderr.split('\n').filter((l) => l.startsWith('MODULE '));
      // bin/avfs runs the esbuild bundle: one chunk per command, engines and native packages
      // loaded on demand.
      assert.ok(mods.some((m) => m.includes('cjs:better-sqlite3')), 'the trace works');
      assert.deepEqual(mods.filter((m) => /lmdb/i.test(m)), []);
      const chunks = mods.filter((m) => m.includes('/dist/cli/chunks/')).map((m) => m.slice(m.lastIndexOf('/') + 1).replace(/-[A-Z0-9]+\.js$/, ''));
      const commandChunks = ['ls', 'tree', 'cat', 'write', 'files', 'copy', 'stat', 'find', 'transfer', 'cd', 'vault', 'help'];
      assert.deepEqual([...new Set(chunks.filter((c) => commandChunks.includes(c)))], ['cat']);
    });
  });

  describe('vault commands', () => {
    it('create, list, use, info, check', async () => {
      const made = await run(['vault', 'create', 'other', '--backend', 'sqlite']);
      assertOk(made);
      assert.match(made.out, /^created vault other \(sqlite\) at .*other\.avfs\n$/);
      const created = await json<{ name: string; path: string; backend: string }>(['vault', 'create', 'third']);
      assert.equal(created.name, 'third');
      assert.equal(created.backend, 'sqlite');
      assert.ok(existsSync(created.path));
      assert.equal((await run(['-q', 'vault', 'create', 'fourth'])).out, '', '--quiet: no confirmation');

      const list = await text(['vault', 'list']);
      assert.match(list, /^\* t +sqlite +\S+t\.avfs$/m);
      assert.match(list, /^ {2}other +sqlite/m);
      const listed = await json<{ name: string; current: boolean; backend: string; exists: boolean }[]>(['vault', 'list']);
      assert.deepEqual(
        listed.map((v) => [v.name, v.current]),
        [
          ['fourth', false],
          ['other', false],
          ['t', true],
          ['third', false],
        ],
      );

      assert.equal(await text(['vault', 'use', 'other']), 'now using vault other\n');
      assert.match(await text(['vault', 'list']), /^\* other/m);
      assert.deepEqual(await json(['vault', 'use', 't']), { current: 't' });

      const info = await json<{ name: string; backend: string; files: number; format: number; supports: object }>(['vault', 'info', 'other']);
      assert.equal(info.name, 'other');
      assert.equal(info.backend, 'sqlite');
      assert.equal(info.files, 0);
      assert.match(await text(['vault', 'info']), /^backend: +sqlite$/m);

      assert.match(await text(['vault', 'check']), /^ok: /);
      const check = await json<{ ok: boolean; problems: string[] }>(['vault', 'check', 'other']);
      assert.equal(check.ok, true);
      assert.deepEqual(check.problems, []);
    });

    it('import registers a store; delete needs --force', async () => {
      const path = join(work, 'shared.avfs');
      assertOk(await run(['-q', 'vault', 'create', 'orig', '--path', path]));
      assert.ok(existsSync(path));
      assert.match(await text(['vault', 'import', 'alias', path]), /^registered vault alias \(sqlite\) at /);
      assertOk(await run(['--vault', 'alias', 'write', '/hello', 'hi']));
      assert.equal(await text(['--vault', 'orig', 'cat', '/hello']), 'hi');

      const refused = await run(['vault', 'delete', 'alias']);
      assertOneLineError(refused, 2, /--force/);
      assert.ok(existsSync(path));
      assert.deepEqual(await json(['vault', 'delete', 'alias', '--force']), { deleted: 'alias', path });
      assert.ok(!existsSync(path));
      const list = await json<{ name: string; exists: boolean }[]>(['vault', 'list']);
      assert.ok(!list.some((v) => v.name === 'alias'));
      assert.equal(list.find((v) => v.name === 'orig')?.exists, false);
      assert.match(await text(['vault', 'list']), /orig .*\(missing\)/);
      assertOk(await run(['vault', 'delete', 'orig', '-f']));
    });

    it('bad vault names, backends and references get the library\'s one-line errors', async () => {
      assertOneLineError(await run(['vault', 'create', 'a/b']), 1, /may not contain '\/'/);
      assertJsonError(await run(['--json', 'vault', 'create', 'a/b']), 1, 'EINVAL');
      assertOneLineError(await run(['vault', 'use', 'a/b']), 1, /may not contain/);
      assertOneLineError(await run(['vault', 'create', 'zz', '--backend', 'floppy']), 1, /unknown backend "floppy"/);
      assertJsonError(await run(['--json', 'vault', 'create', 'zz', '--backend', 'floppy']), 1, 'EBACKEND');
      assert.ok(!(await json<{ name: string }[]>(['vault', 'list'])).some((v) => v.name === 'zz'));
      assertOneLineError(await run(['--vault', 'nosuch', 'ls']), 1, /no vault named "nosuch"/);
      assertJsonError(await run(['--vault', 'nosuch', '--json', 'ls']), 1, 'ENOVAULT');
      assertOneLineError(await run(['vault', 'create', 't']), 1, /already exists/);
    });
  });

  describe('files', () => {
    it('write and cat, creating parent folders', async () => {
      assert.equal(await text(['write', '/docs/notes/a.txt', 'hello\n']), '');
      assert.equal(await text(['cat', '/docs/notes/a.txt']), 'hello\n');
      assert.equal(await text(['write', '-a', '/docs/notes/a.txt', 'more\n']), '');
      assert.equal(await text(['cat', '/docs/notes/a.txt']), 'hello\nmore\n');
      assert.equal(await text(['write', '/docs/empty.txt', '']), '');
      assert.equal((await run(['cat', '/docs/empty.txt'])).stdout.length, 0);
    });

    it('write reads stdin when it is not a terminal, or with --stdin', async () => {
      assertOk(await run(['write', '/in/piped.txt'], { input: 'from a pipe' }));
      assert.equal(await text(['cat', '/in/piped.txt']), 'from a pipe');
      assertOk(await run(['write', '--stdin', '/in/flag.txt'], { input: 'with --stdin' }));
      assert.equal(await text(['cat', '/in/flag.txt']), 'with --stdin');
      assertOneLineError(await run(['write', '--stdin', '/in/x', 'both'], { input: 'x' }), 2, /not both/);
    });

    it('write without CONTENT on a terminal is a usage error', { skip: noPty }, () => {
      const r = inPty(home, ['write', '/tty.txt']);
      assert.equal(r.code, 2, r.text);
      assert.match(r.text, /avfs: write: no CONTENT given and stdin is a terminal/);
    });

    it('binary round trip: 1 MiB of random bytes through --stdin and cat', async () => {
      const data = randomBytes(1024 * 1024);
      assertOk(await run(['write', '--stdin', '/bin/random.bin'], { input: data }));
      const back = await run(['cat', '/bin/random.bin']);
      assertOk(back);
      assert.equal(back.stdout.length, data.length);
      assert.ok(back.stdout.equals(data), 'same bytes');
      // Bigger than one streaming step, odd size.
      const big = randomBytes(3 * 1024 * 1024 + 5);
      assertOk(await run(['write', '/bin/big.bin'], { input: big }));
      assert.ok((await run(['cat', '/bin/big.bin'])).stdout.equals(big));
    });

    it('cat -n numbers lines across files, like GNU cat', async () => {
      assertOk(await run(['write', '/n/one', 'a\nb\n\nc']));
      assertOk(await run(['write', '/n/two', 'd\n']));
      assert.equal(await text(['cat', '-n', '/n/one', '/n/two']), '     1\ta\n     2\tb\n     3\t\n     4\tcd\n');
    });

    it('cat keeps going after a missing file and exits 1', async () => {
      const r = await run(['cat', '/n/one', '/n/missing', '/n/two']);
      assert.equal(r.out, 'a\nb\n\ncd\n');
      assertOneLineError(r, 1, /\/n\/missing: no such file or directory/);
    });

    it('cat --json: utf8 content, or base64 for other bytes; an array for several files', async () => {
      assert.deepEqual(await json(['cat', '/n/two']), { path: '/n/two', content: 'd\n', size: 2 });
      const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
      assertOk(await run(['write', '--stdin', '/n/raw'], { input: bytes }));
      assert.deepEqual(await json(['cat', '/n/raw']), { path: '/n/raw', contentBase64: bytes.toString('base64'), size: 4 });
      const both = await json<{ path: string }[]>(['cat', '/n/one', '/n/two']);
      assert.deepEqual(
        both.map((d) => d.path),
        ['/n/one', '/n/two'],
      );
    });

    it('write --json prints the stat', async () => {
      const st = await json<Record<string, unknown>>(['write', '/j/s.txt', 'abc']);
      assert.equal(st.path, '/j/s.txt');
      assert.equal(st.type, 'file');
      assert.equal(st.size, 3);
      assert.equal(st.version, 1);
      assert.equal(st.mode, 0o644);
      assert.match(String(st.hash), /^[0-9a-f]{64}$/);
      assert.match(String(st.mtime), /^\d{4}-\d\d-\d\dT/);
    });

    it('touch, mkdir, rmdir, rm', async () => {
      assert.equal(await text(['mkdir', '/m']), '');
      assert.equal(await text(['mkdir', '-p', '/m/a/b/c', '/m/x']), '');
      assertOneLineError(await run(['mkdir', '/m']), 1, /\/m: file already exists/);
      assertOk(await run(['mkdir', '-p', '/m']));
      assert.equal(await text(['touch', '/m/f1', '/m/f2']), '');
      const st = await json<{ size: number; type: string }>(['stat', '/m/f1']);
      assert.equal(st.size, 0);
      assert.equal(st.type, 'file');
      assert.deepEqual(await json(['touch', '/m/f3']), { ok: true, paths: ['/m/f3'] });
      assert.equal(await text(['rmdir', '/m/x']), '');
      assert.equal(await text(['rm', '/m/f1']), '');
      assertOneLineError(await run(['rm', '/m/a']), 1, /is a directory/);
      assert.equal(await text(['rm', '-r', '/m/a']), '');
      assert.equal(await text(['rm', '-f', '/m/nothing']), '');
      assert.deepEqual(await json(['rm', '-rf', '/m/f2', '/m/nothing']), { ok: true, removed: ['/m/f2'] });
      // One bad operand: the others are still done, exit 1, one error line.
      const r = await run(['rm', '/m/missing', '/m/f3']);
      assertOneLineError(r, 1, /\/m\/missing: no such file or directory/);
      assert.equal(await text(['ls', '/m']), '');
      assertOk(await run(['rmdir', '/m']));
      assertOneLineError(await run(['ls', '/m']), 1, /no such file/);
    });

    it('cp and mv: exact target, or into an existing folder; -n keeps targets', async () => {
      assertOk(await run(['write', '/c/a.txt', 'A']));
      assertOk(await run(['write', '/c/b.txt', 'B']));
      assertOk(await run(['mkdir', '/c/into']));
      assert.equal(await text(['cp', '/c/a.txt', '/c/a2.txt']), '');
      assert.equal(await text(['cat', '/c/a2.txt']), 'A');
      assert.equal(await text(['cp', '/c/a.txt', '/c/into']), '');
      assert.equal(await text(['cat', '/c/into/a.txt']), 'A');
      assert.equal(await text(['cp', '/c/a.txt', '/c/b.txt', '/c/into/']), '');
      assert.equal(await text(['cat', '/c/into/b.txt']), 'B');
      assertOneLineError(await run(['cp', '/c/a.txt', '/c/b.txt', '/c/a2.txt']), 1, /not a folder/);
      assertOneLineError(await run(['cp', '/c/into', '/c/copy']), 1, /use -r/);
      assertOk(await run(['cp', '-r', '/c/into', '/c/copy']));
      assert.equal(await text(['ls', '/c/copy']), 'a.txt\nb.txt\n');
      assertOk(await run(['cp', '-r', '/c/into', '/c/copy']));
      assert.equal(await text(['ls', '/c/copy']), 'a.txt\nb.txt\ninto\n', 'an existing folder target receives the copy inside');
      const kept = await json<{ items: { done: boolean }[] }>(['cp', '-n', '/c/b.txt', '/c/a2.txt']);
      assert.equal(kept.items[0].done, false);
      assert.equal(await text(['cat', '/c/a2.txt']), 'A');

      assert.equal(await text(['mv', '/c/a2.txt', '/c/renamed.txt']), '');
      assert.equal(await text(['cat', '/c/renamed.txt']), 'A');
      assert.equal(await text(['mv', '/c/renamed.txt', '/c/copy']), '');
      assert.equal(await text(['cat', '/c/copy/renamed.txt']), 'A');
      assert.deepEqual(await json(['mv', '/c/copy/renamed.txt', '/c/into/a.txt', '/c']), {
        ok: true,
        items: [
          { from: '/c/copy/renamed.txt', to: '/c/renamed.txt', done: true },
          { from: '/c/into/a.txt', to: '/c/a.txt', done: true },
        ],
      });
      assertOk(await run(['mv', '-n', '/c/b.txt', '/c/a.txt']));
      assert.equal(await text(['cat', '/c/a.txt']), 'A');
      assert.equal(await text(['cat', '/c/b.txt']), 'B');
    });

    it('ln -s makes symlinks; plain ln is refused', async () => {
      assert.equal(await text(['ln', '-s', 'a.txt', '/c/link']), '');
      assert.equal(await text(['cat', '/c/link']), 'A');
      assert.match(await text(['ls', '-l', '/c/link']), /^lrwxrwxrwx +1 +5 \d{4}-\d\d-\d\d \d\d:\d\d \/c\/link -> a\.txt\n$/);
      assertOk(await run(['mkdir', '/c/links']));
      assertOk(await run(['ln', '-s', '/c/b.txt', '/c/links']));
      assert.equal(await text(['cat', '/c/links/b.txt']), 'B', 'a link made inside an existing folder');
      assertOneLineError(await run(['ln', '/c/a.txt', '/c/hard']), 2, /hard links are not supported/);
      assertOneLineError(await run(['ln', '-s', 'x', '/c/link']), 1, /file already exists/);
    });

    it('stat: GNU-like lines, or the Stat as JSON', async () => {
      const out = await text(['stat', '/c/a.txt']);
      assert.match(out, /^ {2}File: \/c\/a\.txt$/m);
      assert.match(out, /^ {2}Size: 1 +Type: regular file$/m);
      assert.match(out, /^ {2}Mode: 0644\/-rw-r--r-- +Links: 1$/m);
      assert.match(out, /^ Inode: \d+ +Version: 1$/m);
      assert.match(out, /^ {2}Hash: [0-9a-f]{64}$/m);
      assert.match(out, /^Modify: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}$/m);
      assert.match(out, /^Change: /m);
      assert.match(out, /^ Birth: /m);
      assert.match(await text(['stat', '/c/link']), /File: \/c\/link -> a\.txt\n.*Type: symbolic link/);
      assert.match(await text(['stat', '-L', '/c/link']), /Type: regular file/);
      assert.match(await text(['stat', '/c']), /Mode: 0755\/drwxr-xr-x/);
      const st = await json<{ path: string; type: string; target: string }>(['stat', '/c/link']);
      assert.equal(st.type, 'symlink');
      assert.equal(st.target, 'a.txt');
      const two = await json<unknown[]>(['stat', '/c/a.txt', '/c/b.txt']);
      assert.equal(two.length, 2);
    });

    it('find: -name, -type, -size, -mtime, paths written from the operand', async () => {
      assertOk(await run(['write', '/f/src/main.ts', 'x'.repeat(2000)]));
      assertOk(await run(['write', '/f/src/util.ts', 'y']));
      assertOk(await run(['write', '/f/README.md', 'z']));
      assertOk(await run(['mkdir', '-p', '/f/src/empty']));
      assert.equal(await text(['find', '/f', '-name', '*.ts']), '/f/src/main.ts\n/f/src/util.ts\n');
      assert.equal(await text(['find', '/f', '-type', 'd']), '/f\n/f/src\n/f/src/empty\n');
      assert.equal(await text(['find', '/f', '-type', 'f', '-size', '+1k']), '/f/src/main.ts\n');
      assert.equal(await text(['find', '/f', '-type', 'f', '-size', '-2c']), '/f/README.md\n/f/src/util.ts\n');
      assert.equal(await text(['find', '/f', '-size', '2000c']), '/f/src/main.ts\n');
      assert.equal(await text(['find', '/f', '-name', '*.md', '-mtime', '-1']), '/f/README.md\n');
      assert.equal(await text(['find', '/f', '-mtime', '+1']), '');
      assert.equal(await text(['find', '/f', '-maxdepth', '1']), '/f\n/f/README.md\n/f/src\n');
      assertOk(await run(['cd', '/f']));
      assert.equal(await text(['find', '-name', '*.ts']), './src/main.ts\n./src/util.ts\n');
      assert.equal(await text(['find', 'src', '-name', 'u*']), 'src/util.ts\n');
      assertOk(await run(['cd']));
      const found = await json<{ path: string; type: string }[]>(['find', '/f', '-type', 'f']);
      assert.deepEqual(
        found.map((e) => e.path),
        ['/f/README.md', '/f/src/main.ts', '/f/src/util.ts'],
      );
      assert.equal(await text(['find', '/f', '-tag', 'x']), '', 'no file has the tag (tags: test/cli-tags.test.ts)');
    });
  });

  describe('listing', () => {
    before(async () => {
      assertOk(await run(['write', '/l/small', 'a']));
      assertOk(await run(['write', '/l/big', 'a'.repeat(100)]));
      assertOk(await run(['write', '/l/.hidden', 'h']));
      assertOk(await run(['write', '/l/sub/inner', 'i']));
      assertOk(await run(['ln', '-s', 'small', '/l/ln']));
    });

    it('ls: one name per line, dotfiles only with -a (plus . and ..)', async () => {
      assert.equal(await text(['ls', '/l']), 'big\nln\nsmall\nsub\n');
      assert.equal(await text(['ls', '-a', '/l']), '.\n..\n.hidden\nbig\nln\nsmall\nsub\n');
      assert.equal(await text(['ls', '/l/small']), '/l/small\n', 'a file operand lists itself');
    });

    it('ls -l: mode, links, size, time, name, link target', async () => {
      const lines = (await text(['ls', '-l', '/l'])).split('\n').filter(Boolean);
      assert.equal(lines.length, 4);
      assert.match(lines[0], /^-rw-r--r-- {2}1 {6}100 \d{4}-\d\d-\d\d \d\d:\d\d big$/);
      assert.match(lines[1], /^lrwxrwxrwx {2}1 {8}5 .* ln -> small$/);
      assert.match(lines[3], /^drwxr-xr-x {2}2 +\d+ .* sub$/);
    });

    it('ls -t and -S sort newest and largest first; -r reverses', async () => {
      assertOk(await run(['touch', '/l/small']));
      assert.equal((await text(['ls', '-t', '/l'])).split('\n')[0], 'small');
      assert.equal((await text(['ls', '-S', '/l'])).split('\n')[0], 'big');
      assert.equal((await text(['ls', '-Sr', '/l'])).split('\n').filter(Boolean).pop(), 'big');
    });

    it('ls -R: a "path:" header per folder, like GNU ls', async () => {
      assert.equal(await text(['ls', '-R', '/l']), '/l:\nbig\nln\nsmall\nsub\n\n/l/sub:\ninner\n');
      assertOk(await run(['cd', '/l']));
      assert.equal(await text(['ls', '-R']), '.:\nbig\nln\nsmall\nsub\n\n./sub:\ninner\n');
      assertOk(await run(['cd', '/']));
      assert.equal(await text(['ls', '/l/sub', '/l/small']), '/l/small\n\n/l/sub:\ninner\n');
    });

    it('ls --json: an array of entry objects', async () => {
      const entries = await json<{ path: string; name: string; type: string; size: number }[]>(['ls', '/l']);
      assert.deepEqual(
        entries.map((e) => [e.name, e.type]),
        [
          ['big', 'file'],
          ['ln', 'symlink'],
          ['small', 'file'],
          ['sub', 'directory'],
        ],
      );
      assert.equal(entries[0].size, 100);
      const all = await json<{ path: string }[]>(['ls', '-R', '-a', '/l']);
      assert.deepEqual(
        all.map((e) => e.path),
        ['/l/.hidden', '/l/big', '/l/ln', '/l/small', '/l/sub', '/l/sub/inner'],
      );
    });

    it('tree: box drawing, -L, -d, --size, and the count line', async () => {
      assert.equal(await text(['tree', '/l']), '/l\n├── big\n├── ln -> small\n├── small\n└── sub\n    └── inner\n\n1 directory, 4 files\n');
      assert.equal(await text(['tree', '/l', '-L', '1']), '/l\n├── big\n├── ln -> small\n├── small\n└── sub\n\n1 directory, 3 files\n');
      assert.equal(await text(['tree', '-d', '/l']), '/l\n└── sub\n\n1 directory\n');
      assert.match(await text(['tree', '--size', '/l']), /^├── \[ {8}100\] {2}big$/m);
      assertOk(await run(['mkdir', '-p', '/l/sub/deeper']));
      assertOk(await run(['write', '/l/sub/deeper/x', 'x']));
      assert.equal(
        await text(['tree', '/l/sub']),
        '/l/sub\n├── deeper\n│   └── x\n└── inner\n\n1 directory, 2 files\n',
      );
      assert.equal((await text(['tree', '/l'])).split('\n').pop(), '');
      assertOneLineError(await run(['tree', '/l/small']), 1, /not a directory/);
    });

    it('tree --json: nested children with counts', async () => {
      type Node = { name: string; type: string; children?: Node[] };
      const t = await json<Node & { directories: number; files: number }>(['tree', '/l/sub']);
      assert.equal(t.type, 'directory');
      assert.equal(t.directories, 1);
      assert.equal(t.files, 2);
      assert.deepEqual(
        t.children!.map((c) => c.name),
        ['deeper', 'inner'],
      );
      assert.equal(t.children![0].children![0].name, 'x');
    });
  });

  describe('cd and pwd', () => {
    it('keep a working folder per vault across calls', async () => {
      assert.equal(await text(['pwd']), '/\n');
      assertOk(await run(['mkdir', '-p', '/w/sub']));
      assertOk(await run(['write', '/w/sub/f', 'in sub']));
      assert.equal(await text(['cd', '/w']), '');
      assert.equal(await text(['pwd']), '/w\n');
      assertOk(await run(['cd', 'sub']));
      assert.equal(await text(['pwd']), '/w/sub\n');
      assert.equal(await text(['cat', 'f']), 'in sub');
      assertOk(await run(['write', 'g', 'relative']));
      assert.equal(await text(['cat', '/w/sub/g']), 'relative');
      assertOk(await run(['cd', '..']));
      assert.deepEqual(await json(['pwd']), { cwd: '/w' });
      assert.equal(await text(['--vault', 'other', 'pwd']), '/\n', 'another vault has its own');
      assertOneLineError(await run(['cd', 'sub/f']), 1, /not a directory/);
      assertOneLineError(await run(['cd', 'nope']), 1, /no such file/);
      assert.equal(await text(['pwd']), '/w\n');
      assertOk(await run(['cd']));
      assert.equal(await text(['pwd']), '/\n');
    });

    it('`..` above / stays at /', async () => {
      assertOk(await run(['write', '/x', 'root x']));
      assert.equal(await text(['cat', '/../../x']), 'root x');
      assertOk(await run(['cd', '/w']));
      assert.equal(await text(['cat', '../../../x']), 'root x');
      assertOk(await run(['cd', '../../..']));
      assert.equal(await text(['pwd']), '/\n');
    });
  });

  describe('import and export', () => {
    let src: string;
    const MTIME = new Date('2021-03-04T05:06:07Z');
    before(() => {
      src = join(work, 'src');
      mkdirSync(join(src, 'deep', 'er'), { recursive: true });
      mkdirSync(join(src, 'empty'));
      writeFileSync(join(src, 'a.txt'), 'alpha\n');
      writeFileSync(join(src, 'deep', 'er', 'blob.bin'), randomBytes(300_000));
      writeFileSync(join(src, 'run.sh'), '#!/bin/sh\necho hi\n');
      chmodSync(join(src, 'run.sh'), 0o755);
      chmodSync(join(src, 'a.txt'), 0o600);
      symlinkSync('a.txt', join(src, 'inside-link'));
      for (const f of ['a.txt', 'run.sh', 'deep/er/blob.bin']) utimesSync(join(src, f), MTIME, MTIME);
    });

    it('round trip: bytes, modes and mtimes are kept', async () => {
      const r = await run(['import', '-r', src, '/imported']);
      assertOk(r);
      assert.equal(r.out, 'imported 3 files, 4 folders, 1 symlink (293.0 KiB)\n');
      assert.equal(r.stderr, '', 'no progress when stderr is not a terminal');
      assert.equal(await text(['cat', '/imported/a.txt']), 'alpha\n');
      assert.match(await text(['stat', '/imported/run.sh']), /Mode: 0755/);

      const out = join(work, 'out');
      const e = await run(['export', '-r', '/imported', out]);
      assertOk(e);
      assert.equal(e.out, 'exported 3 files, 4 folders, 1 symlink (293.0 KiB)\n');
      for (const f of ['a.txt', 'run.sh', 'deep/er/blob.bin']) {
        assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(src, f))), `${f} bytes`);
        assert.equal(statSync(join(out, f)).mode & 0o7777, statSync(join(src, f)).mode & 0o7777, `${f} mode`);
        assert.equal(statSync(join(out, f)).mtimeMs, MTIME.getTime(), `${f} mtime`);
      }
      assert.ok(statSync(join(out, 'empty')).isDirectory());
      assert.equal(readlinkSync(join(out, 'inside-link')), 'a.txt');
    });

    it('--json and --quiet', async () => {
      const r = await json<{ files: number; dirs: number; symlinks: number; bytes: number; skipped: string[] }>(['import', '-r', src, '/imp-json']);
      assert.deepEqual({ ...r, skipped: r.skipped.length }, { files: 3, dirs: 4, symlinks: 1, bytes: 300_000 + 6 + 18, skipped: 0 });
      const q = await run(['-q', 'import', '-r', src, '/imp-quiet']);
      assertOk(q);
      assert.equal(q.out + q.stderr, '');
    });

    it('a progress bar on a terminal only (never with a pipe, --json or --quiet)', { skip: noPty }, async () => {
      const piped = await run(['import', '-r', src, '/imp-piped']);
      assertOk(piped);
      assert.doesNotMatch(piped.stderr, /importing/);
      const tty = inPty(home, ['import', '-r', src, '/imp-tty']);
      assert.equal(tty.code, 0, tty.text);
      assert.match(tty.text, /importing +\d+\/4 files/);
      assert.match(tty.text, /\x1b\[K/, 'the line is cleared');
      assert.match(tty.text, /imported 3 files/);
      const quiet = inPty(home, ['-q', 'export', '-r', '/imp-tty', join(work, 'quiet-out')]);
      assert.equal(quiet.code, 0, quiet.text);
      assert.doesNotMatch(quiet.text, /exporting/);
      const asJson = inPty(home, ['--json', 'import', '-r', src, '/imp-tty-json']);
      assert.equal(asJson.code, 0, asJson.text);
      assert.doesNotMatch(asJson.text, /importing/);
      assert.equal((JSON.parse(asJson.text) as { files: number }).files, 3);
      const ex = inPty(home, ['export', '-r', '/imp-tty', join(work, 'tty-out')]);
      assert.match(ex.text, /exporting +\d+\/4 files/);
    });

    it('a host symlink pointing outside is kept as a symlink, never followed', async () => {
      const secret = join(work, 'secret.txt');
      writeFileSync(secret, 'TOP-SECRET-MARKER');
      const dir = join(work, 'evil');
      mkdirSync(dir);
      writeFileSync(join(dir, 'ok.txt'), 'fine');
      symlinkSync(secret, join(dir, 'abs-link'));
      symlinkSync('../secret.txt', join(dir, 'rel-link'));
      assertOk(await run(['import', '-r', dir, '/evil']));
      const abs = await json<{ type: string; target: string }>(['stat', '/evil/abs-link']);
      assert.deepEqual([abs.type, abs.target], ['symlink', secret]);
      const rel = await json<{ type: string; target: string }>(['stat', '/evil/rel-link']);
      assert.deepEqual([rel.type, rel.target], ['symlink', '../secret.txt']);
      // No file anywhere in the vault holds the outside file's bytes.
      const files = (await text(['find', '/', '-type', 'f'])).split('\n').filter(Boolean);
      const all = await run(['cat', ...files]);
      assertOk(all);
      assert.ok(!all.stdout.includes('TOP-SECRET-MARKER'));
      assertOneLineError(await run(['cat', '/evil/rel-link']), 1, /no such file/);
    });

    it('export writes vault symlinks verbatim; --safe-links skips those leading outside, with a count', async () => {
      assertOk(await run(['write', '/esc/ok.txt', 'fine']));
      assertOk(await run(['ln', '-s', '../../etc/passwd', '/esc/bad']));
      assertOk(await run(['ln', '-s', '/etc/hostname', '/esc/abs']));
      assertOk(await run(['ln', '-s', 'ok.txt', '/esc/good']));
      const target = join(work, 'esc-out');
      const r = await run(['export', '-r', '/esc', target]);
      assertOk(r);
      assert.equal(r.out, 'exported 1 file, 1 folder, 3 symlinks (4 B)\n');
      assert.equal(readlinkSync(join(target, 'bad')), '../../etc/passwd');
      assert.equal(readlinkSync(join(target, 'abs')), '/etc/hostname');
      const safe = join(work, 'esc-safe');
      const s = await run(['export', '-r', '--safe-links', '/esc', safe]);
      assertOk(s);
      assert.equal(s.stderr, `avfs: warning: skipped 2 symlinks pointing outside ${safe}\n`);
      assert.equal(s.out, 'exported 1 file, 1 folder, 1 symlink (4 B)\n');
      assert.ok(!existsSync(join(safe, 'bad')) && !existsSync(join(safe, 'abs')));
      const j = await json<{ symlinks: number; skippedLinks: number }>(['export', '-r', '--safe-links', '/esc', join(work, 'esc-json')]);
      assert.deepEqual([j.symlinks, j.skippedLinks], [1, 2]);
    });

    it('export refuses a host symlink in the way, writing nothing through it: one line, --json error', async () => {
      assertOk(await run(['write', '/way/a/b', 'vault']));
      const elsewhere = join(work, 'elsewhere');
      mkdirSync(elsewhere);
      const target = join(work, 'way-out');
      mkdirSync(target);
      symlinkSync(elsewhere, join(target, 'a'));
      const before = await snapshot();
      assertOneLineError(await run(['export', '-r', '/way', target]), 1, /export refused: a symlink is in the way/);
      assertJsonError(await run(['--json', 'export', '-r', '/way', target]), 1, 'EPERM');
      assert.equal(readdirSync(elsewhere).length, 0);
      assert.equal(await snapshot(), before);
      assertOneLineError(await run(['export', '-r', '--safe-links=yes', '/way', target]), 2);
    });

    it('special files are skipped with a warning', async (t) => {
      const dir = join(work, 'fifo');
      mkdirSync(dir);
      writeFileSync(join(dir, 'f'), 'x');
      if (spawnSync('mkfifo', [join(dir, 'pipe')]).status !== 0) return t.skip('no mkfifo');
      const r = await run(['import', '-r', dir, '/fifo']);
      assertOk(r);
      assert.match(r.stderr, /^avfs: warning: skipped .*pipe: not a file, folder or symlink\n$/);
      assert.equal(await text(['ls', '/fifo']), 'f\n');
    });
  });

  describe('bad input: one line, right exit code, vault unchanged', () => {
    let before0: string;
    before(async () => {
      assertOk(await run(['cd', '/']));
      assertOk(await run(['mkdir', '-p', '/bad/dir/child']));
      assertOk(await run(['write', '/bad/file', 'content']));
      before0 = await snapshot();
    });

    const cases: [string, string[], number, string, RegExp?][] = [
      ['an empty name', ['write', '', 'x'], 1, 'EINVAL', /empty path/],
      ['an empty name inside a path', ['mkdir', '/bad//'], 1, 'EEXIST'],
      ['a name over 255 bytes', ['write', '/bad/' + 'n'.repeat(256), 'x'], 1, 'ENAMETOOLONG', /longer than 255 bytes/],
      ['a path over 4096 bytes', ['write', '/bad/' + 'abcdefgh/'.repeat(460) + 'f', 'x'], 1, 'ENAMETOOLONG', /longer than 4096 bytes/],
      ['a file written over a directory', ['write', '/bad/dir', 'x'], 1, 'EISDIR', /\/bad\/dir: is a directory/],
      ['rmdir of a non-empty directory', ['rmdir', '/bad/dir'], 1, 'ENOTEMPTY', /directory not empty/],
      ['mv of a directory into itself', ['mv', '/bad/dir', '/bad/dir/child/x'], 1, 'EINVAL', /into itself/],
      ['mv of a directory onto itself as a folder target', ['mv', '/bad/dir', '/bad/dir/child'], 1, 'EINVAL', /into itself/],
      ['cp -r of a directory into itself', ['cp', '-r', '/bad/dir', '/bad/dir/child'], 1, 'EINVAL', /into itself/],
      ['a path through a file', ['write', '/bad/file/x', 'y'], 1, 'ENOTDIR'],
      ['cat of a folder', ['cat', '/bad/dir'], 1, 'EISDIR'],
      ['rm of the root', ['rm', '-r', '/'], 1, 'EBUSY'],
      ['an unknown flag', ['rm', '--really', '/bad/file'], 2, 'EUSAGE', /unknown flag --really/],
      ['a missing argument', ['mv', '/bad/file'], 2, 'EUSAGE', /missing argument/],
      ['a host path that does not exist', ['import', '-r', '/nonexistent/host/dir', '/bad/imp'], 1, 'ENOENT'],
      ['an unknown backend', ['vault', 'create', 'q', '--backend', 'tape'], 1, 'EBACKEND'],
      ['a vault name with /', ['vault', 'create', 'q/r'], 1, 'EINVAL'],
    ];
    for (const [name, args, exit, code, match] of cases) {
      it(name, async () => {
        assertOneLineError(await run(args), exit, match);
        assertJsonError(await run(['--json', ...args]), exit, code);
        assert.equal(await snapshot(), before0, 'vault unchanged');
      });
    }

    it('NUL in a path is refused by the library with a one-line error', async () => {
      // argv cannot carry a NUL byte, so this is checked where the CLI's paths go: the library.
      const v = await openVault(':memory:');
      try {
        await assert.rejects(v.writeFile('/a\0b', 'x'), (e: { code: string; message: string }) => {
          assert.equal(e.code, 'EINVAL');
          assert.ok(!e.message.includes('\n') && !e.message.includes('\0'), e.message);
          return true;
        });
        assert.deepEqual(await v.readdir('/'), []);
      } finally {
        await v.close();
      }
    });

    it('a control character in a path stays on one line', async () => {
      const r = await run(['cat', '/bad/line\nbreak']);
      assertOneLineError(r, 1, /\\n/);
    });

    it('a corrupt vault file', async () => {
      const bad = join(work, 'garbage.avfs');
      writeFileSync(bad, randomBytes(64 * 1024));
      const bytes = readFileSync(bad);
      assertOneLineError(await run(['--vault', bad, 'ls']), 1, /not an agentvfs vault/);
      assertJsonError(await run(['--vault', bad, '--json', 'cat', '/x']), 1, 'ENOTVAULT');
      // A SQLite header followed by junk.
      const fake = join(work, 'fake.avfs');
      writeFileSync(fake, Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(64 * 1024)]));
      const r = await run(['--vault', fake, 'ls']);
      assertOneLineError(r, 1);
      assert.ok(readFileSync(bad).equals(bytes), 'the file is left as it was');
      const empty = join(work, 'empty.avfs');
      writeFileSync(empty, '');
      assertOneLineError(await run(['--vault', empty, 'ls']), 1, /empty file/);
    });

    it('a truncated vault file', async () => {
      const list = await json<{ name: string; path: string }[]>(['vault', 'list']);
      const orig = list.find((v) => v.name === 't')!.path;
      for (const keep of [100, 4096, Math.floor(statSync(orig).size / 2)]) {
        const cut = join(work, `cut-${keep}.avfs`);
        copyFileSync(orig, cut);
        truncateSync(cut, keep);
        const r = await run(['--vault', cut, 'ls', '-R', '/']);
        assertOneLineError(r, 1);
        assert.equal(r.out, '');
        assertJsonError(await run(['--json', '--vault', cut, 'cat', '/x']), 1, 'ECORRUPT');
      }
      assert.equal(await snapshot(), before0, 'the original is untouched');
    });

    it('AVFS_DEBUG shows the stack; without it there is none', async () => {
      const plain = await run(['cat', '/bad/nothing']);
      assertOneLineError(plain, 1);
      const debug = await run(['cat', '/bad/nothing'], { env: { AVFS_DEBUG: '1' } });
      assert.equal(debug.code, 1);
      assert.match(debug.stderr, /^avfs: \/bad\/nothing: no such file or directory\n/);
      assert.match(debug.stderr, /^\s+at /m);
    });

    it('the vault still passes its check', async () => {
      assert.match(await text(['vault', 'check']), /^ok: /);
    });
  });
});
