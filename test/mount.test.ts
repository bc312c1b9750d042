// The FUSE mount with the real tools an agent's build runs (git, tar, diff, sqlite3, rm -rf),
// the vault's side of it (versions, audit, CLI writes showing in the mount), read-only and
// past views, a killed mount process, and the bad input a careless agent sends. Skipped, with
// the reason printed, where FUSE is not available.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fuseDriver, fuseUnavailable, isMounted, leaveNoMount, mountVault, type MountedVault } from './helpers/mount.js';
import { cliHome } from './helpers/cli.js';

const why = fuseUnavailable();
if (why) console.log(`# mount tests skipped: ${why}`);

/** Run a program; its output, or an assertion error with what it printed. */
function sh(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Every entry below a folder: path, type, mode, size (files), mtime to the second, link target. */
function listing(dir: string): string {
  return sh('find', ['.', '-mindepth', '1', '-printf', '%p %y %m %s %TY-%Tm-%Td_%TH:%TM:%.2TS %l\\n'], { cwd: dir })
    .split('\n')
    .filter(Boolean)
    // A folder's size is the host file system's business (ext4 says 4096, the vault 0).
    .map((l) => (l.split(' ')[1] === 'd' ? l.replace(/^(\S+ d \d+) \d+/, '$1 -') : l))
    .sort()
    .join('\n');
}

// Runs everywhere: a machine without FUSE gets one clear line and exit 1, not a stack trace.
test('without FUSE (no fusermount on the PATH) mount says so in one line, exit 1', async () => {
  const { home, run } = cliHome('avfs-mount-nofuse-');
  const dir = mkdtempSync(join(tmpdir(), 'avfs-mount-nofuse-mp-'));
  try {
    assert.equal((await run(['vault', 'create', 'v'])).code, 0);
    const r = await run(['--vault', 'v', 'mount', dir], { env: { PATH: '/nonexistent' } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^avfs: mount: FUSE is not available: \S/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    const j = await run(['--vault', 'v', '--json', 'mount', dir], { env: { PATH: '/nonexistent' } });
    assert.equal(JSON.parse(j.out).error, 'ENOTSUP');
    assert.equal(isMounted(dir), false);
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

// The real tools on the driver this machine mounts with, and on fuse-native too when that is
// the kernel driver (root): fuse-native is what users without root get.
realTools(fuseDriver(), why);
if (!why && fuseDriver() === 'kernel') realTools('fuse-native', fuseUnavailable('fuse-native'));

function realTools(driver: 'kernel' | 'fuse-native', skip: string | undefined): void {
  describe(`mount: real tools on a sqlite vault (${driver})`, { skip }, () => {
    let m: MountedVault;
    let work: string;
    before(async () => {
      m = await mountVault({ backend: 'sqlite', driver });
      work = mkdtempSync(join(tmpdir(), 'avfs-mount-work-'));
    });
    after(async () => {
      await m?.unmount();
      rmSync(work, { recursive: true, force: true });
    });

    test('git init, add, commit, log, status', () => {
      const repo = join(m.dir, 'repo');
      mkdirSync(repo);
      const git = (...a: string[]): string => sh('git', ['-c', 'user.name=agent', '-c', 'user.email=agent@example.com', '-c', 'init.defaultBranch=main', ...a], { cwd: repo });
      git('init', '-q');
      mkdirSync(join(repo, 'src'));
      for (let i = 0; i < 20; i++) writeFileSync(join(repo, 'src', `f${i}.txt`), `line ${i}\n`.repeat(i + 1));
      git('add', '-A');
      git('commit', '-q', '-m', 'first');
      writeFileSync(join(repo, 'src', 'f3.txt'), 'changed\n');
      fs.renameSync(join(repo, 'src', 'f4.txt'), join(repo, 'src', 'g4.txt'));
      git('add', '-A');
      git('commit', '-q', '-m', 'second');
      assert.equal(git('log', '--format=%s').trim(), 'second\nfirst');
      assert.equal(git('status', '--porcelain'), '');
      assert.equal(git('fsck', '--strict').trim(), '');
      assert.equal(git('show', 'HEAD~1:src/f3.txt'), 'line 3\n'.repeat(4));
    });

    test('tar x of a real tree, then diff -r and the same listing as the host copy', () => {
      const tarball = join(work, 'tree.tar');
      // A real source tree every machine of this kind has: the kernel's user-space headers.
      sh('tar', ['cf', tarball, '-C', '/usr/include', 'linux']);
      const host = join(work, 'host');
      mkdirSync(host);
      sh('tar', ['xf', tarball, '-C', host]);
      const into = join(m.dir, 'tree');
      mkdirSync(into);
      sh('tar', ['xf', tarball, '-C', into]);
      sh('diff', ['-r', '--no-dereference', host, into]);
      assert.equal(listing(into), listing(host));
    });

    test('many small files created, listed and removed with rm -rf', async () => {
      const dir = join(m.dir, 'node_modules');
      for (let p = 0; p < 20; p++) {
        mkdirSync(join(dir, `pkg${p}`, 'lib'), { recursive: true });
        writeFileSync(join(dir, `pkg${p}`, 'package.json'), JSON.stringify({ name: `pkg${p}` }));
        for (let f = 0; f < 25; f++) writeFileSync(join(dir, `pkg${p}`, 'lib', `m${f}.js`), `module.exports = ${f};\n`);
      }
      assert.equal(sh('find', [dir, '-type', 'f']).trim().split('\n').length, 20 * 26);
      sh('rm', ['-rf', dir]);
      assert.equal(fs.existsSync(dir), false);
      const ls = await m.run(['--vault', 'v', 'ls', '/']);
      assert.doesNotMatch(ls.out, /node_modules/);
    });

    test('sqlite3: random writes in transactions with fsync, integrity check', () => {
      const db = join(m.dir, 'app.db');
      const sql = ['PRAGMA journal_mode=DELETE;', 'CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);'];
      for (let b = 0; b < 20; b++) {
        sql.push('BEGIN;');
        for (let i = 0; i < 50; i++) sql.push(`INSERT INTO t(v) VALUES (hex(randomblob(${50 + ((b * 7 + i) % 400)})));`);
        sql.push(`UPDATE t SET v = 'u' || id WHERE id % 7 = ${b % 7};`, `DELETE FROM t WHERE id % 13 = ${b % 13} AND id > ${b * 40};`, 'COMMIT;');
      }
      sh('sqlite3', [db], { input: sql.join('\n') });
      assert.equal(sh('sqlite3', [db, 'PRAGMA integrity_check;']).trim(), 'ok');
      const count = Number(sh('sqlite3', [db, 'SELECT count(*) FROM t;']).trim());
      // The same statements on the host give the same table.
      const hostDb = join(work, 'app.db');
      sh('sqlite3', [hostDb], { input: sql.join('\n').replace(/randomblob\((\d+)\)/g, 'zeroblob($1)') });
      assert.equal(count, Number(sh('sqlite3', [hostDb, 'SELECT count(*) FROM t;']).trim()));
      const wal = join(m.dir, 'wal.db');
      sh('sqlite3', [wal], { input: 'PRAGMA journal_mode=WAL; CREATE TABLE k(a); INSERT INTO k VALUES (1),(2),(3);' });
      assert.equal(sh('sqlite3', [wal, 'SELECT sum(a) FROM k;']).trim(), '6');
    });

    test('writes through the mount are versions by the actor "mount", in the audit log', async () => {
      const f = join(m.dir, 'notes.md');
      const fd = fs.openSync(f, 'w');
      for (let i = 0; i < 100; i++) fs.writeSync(fd, `line ${i}\n`);
      fs.closeSync(fd);
      fs.appendFileSync(f, 'more\n');
      const log = JSON.parse((await m.run(['--vault', 'v', '--json', 'log', '/notes.md'])).out);
      const versions = (Array.isArray(log) ? log : log.entries ?? log.versions) as { version?: number; actor?: string }[];
      assert.ok(versions.length >= 2 && versions.length <= 3, `100 writes and an append make at most 3 versions, got ${versions.length}`);
      assert.ok(versions.every((v) => v.actor === 'mount'));
      const cat = await m.run(['--vault', 'v', 'cat', '/notes.md']);
      assert.equal(cat.out, readFileSync(f, 'utf8'));
      const audit = await m.run(['--vault', 'v', 'audit', '--actor', 'mount']);
      assert.match(audit.out, /notes\.md/);
    });

    test('writes from the CLI show in the mount at once', async () => {
      await m.run(['--vault', 'v', 'write', '/from-cli.txt', 'first']);
      assert.equal(readFileSync(join(m.dir, 'from-cli.txt'), 'utf8'), 'first');
      await m.run(['--vault', 'v', 'write', '/from-cli.txt', 'second, and longer']);
      assert.equal(readFileSync(join(m.dir, 'from-cli.txt'), 'utf8'), 'second, and longer');
      await m.run(['--vault', 'v', 'rm', '/from-cli.txt']);
      assert.equal(fs.existsSync(join(m.dir, 'from-cli.txt')), false);
    });

    test('open files: pread/pwrite, ftruncate, O_APPEND, unlink while open', () => {
      const f = join(m.dir, 'rw.bin');
      const fd = fs.openSync(f, 'w+');
      fs.writeSync(fd, Buffer.alloc(200_000, 1), 0, 200_000, 0);
      fs.writeSync(fd, Buffer.from('middle'), 0, 6, 65_530);
      const b = Buffer.alloc(10);
      fs.readSync(fd, b, 0, 10, 65_528);
      assert.deepEqual([...b], [1, 1, ...Buffer.from('middle'), 1, 1]);
      fs.ftruncateSync(fd, 70_000);
      assert.equal(fs.fstatSync(fd).size, 70_000);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      assert.equal(fs.statSync(f).size, 70_000);
      const a = fs.openSync(join(m.dir, 'app.log'), 'a');
      fs.writeSync(a, 'one\n');
      fs.writeSync(a, 'two\n');
      fs.closeSync(a);
      assert.equal(readFileSync(join(m.dir, 'app.log'), 'utf8'), 'one\ntwo\n');
      const u = fs.openSync(join(m.dir, 'gone.tmp'), 'w+');
      fs.writeSync(u, 'still here');
      fs.unlinkSync(join(m.dir, 'gone.tmp'));
      fs.writeSync(u, ', and more');
      const back = Buffer.alloc(30);
      const n = fs.readSync(u, back, 0, 30, 0);
      assert.equal(back.subarray(0, n).toString(), 'still here, and more');
      // fstat of an unlinked file is ENOENT here: libfuse 2 looks stat up by name (docs/mount.md).
      fs.closeSync(u);
      assert.equal(fs.existsSync(join(m.dir, 'gone.tmp')), false);
      assert.equal(fs.readdirSync(m.dir).filter((n) => n.startsWith('.fuse_hidden')).length, 0);
    });

    test('a 64 KiB write into a 1 GiB file stores well under 1 MiB', async () => {
      const f = join(m.dir, 'huge.img');
      sh('truncate', ['-s', '1G', f]);
      const before = JSON.parse((await m.run(['--vault', 'v', '--json', 'vault', 'stats'])).out).storedBytes as number;
      sh('dd', ['if=/dev/urandom', `of=${f}`, 'bs=64k', 'count=1', 'seek=5000', 'conv=notrunc', 'status=none']);
      const after = JSON.parse((await m.run(['--vault', 'v', '--json', 'vault', 'stats'])).out).storedBytes as number;
      assert.ok(after - before < 1024 * 1024, `stored ${after - before} bytes`);
      assert.equal(fs.statSync(f).size, 1024 ** 3);
    });

    test('statfs, symlinks, chmod, rename over a file, utimes', () => {
      const s = fs.statfsSync(m.dir);
      assert.ok(s.bsize > 0 && s.blocks > 0);
      writeFileSync(join(m.dir, 'target.txt'), 'T');
      fs.symlinkSync('target.txt', join(m.dir, 'link'));
      assert.equal(fs.readlinkSync(join(m.dir, 'link')), 'target.txt');
      assert.equal(readFileSync(join(m.dir, 'link'), 'utf8'), 'T');
      fs.chmodSync(join(m.dir, 'target.txt'), 0o640);
      assert.equal(fs.statSync(join(m.dir, 'target.txt')).mode & 0o7777, 0o640);
      writeFileSync(join(m.dir, 'new.txt'), 'NEW');
      fs.renameSync(join(m.dir, 'new.txt'), join(m.dir, 'target.txt'));
      assert.equal(readFileSync(join(m.dir, 'link'), 'utf8'), 'NEW');
      fs.utimesSync(join(m.dir, 'target.txt'), new Date('2021-02-03T04:05:06Z'), new Date('2020-01-02T03:04:05Z'));
      assert.equal(fs.statSync(join(m.dir, 'target.txt')).mtime.toISOString(), '2020-01-02T03:04:05.000Z');
    });
  });
}

describe('mount: lmdb, read-only and past views', { skip: why }, () => {
  test('an lmdb vault mounts and keeps what is written', async () => {
    const m = await mountVault({ backend: 'lmdb' });
    try {
      mkdirSync(join(m.dir, 'a/b'), { recursive: true });
      writeFileSync(join(m.dir, 'a/b/c.txt'), 'lmdb');
      assert.equal((await m.run(['--vault', 'v', 'cat', '/a/b/c.txt'])).out, 'lmdb');
    } finally {
      await m.unmount();
    }
  });

  test('--read-only refuses changes with EROFS; --at shows the past', async () => {
    const { home, run } = cliHome('avfs-mount-ro-');
    const dir = mkdtempSync(join(tmpdir(), 'avfs-mount-ro-mp-'));
    try {
      await run(['vault', 'create', 'v']);
      await run(['--vault', 'v', 'write', '/f.txt', 'old']);
      await run(['--vault', 'v', 'snapshot', 'save', 'before']);
      await run(['--vault', 'v', 'write', '/f.txt', 'new']);
      const ro = await run(['--vault', 'v', 'mount', '--read-only', dir]);
      assert.equal(ro.code, 0, ro.stderr);
      assert.equal(readFileSync(join(dir, 'f.txt'), 'utf8'), 'new');
      assert.throws(() => writeFileSync(join(dir, 'f.txt'), 'x'), { code: 'EROFS' });
      assert.throws(() => mkdirSync(join(dir, 'd')), { code: 'EROFS' });
      assert.equal((await run(['unmount', dir])).code, 0);
      const past = await run(['--vault', 'v', 'mount', '--at', 'before', dir]);
      assert.equal(past.code, 0, past.stderr);
      assert.equal(readFileSync(join(dir, 'f.txt'), 'utf8'), 'old');
      assert.throws(() => fs.unlinkSync(join(dir, 'f.txt')), { code: 'EROFS' });
      assert.equal((await run(['unmount', dir])).code, 0);
      assert.equal((await run(['--vault', 'v', 'cat', '/f.txt'])).out, 'new');
    } finally {
      leaveNoMount(dir);
      rmSync(home, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mount: a killed mount process, and bad input', { skip: why }, () => {
  let home: string;
  let run: ReturnType<typeof cliHome>['run'];
  let base: string;
  before(async () => {
    ({ home, run } = cliHome('avfs-mount-bad-'));
    base = mkdtempSync(join(tmpdir(), 'avfs-mount-bad-mp-'));
    await run(['vault', 'create', 'v']);
  });
  after(() => {
    for (const d of fs.readdirSync(base)) leaveNoMount(join(base, d));
    rmSync(home, { recursive: true, force: true });
    rmSync(base, { recursive: true, force: true });
  });

  test('SIGKILL of the mount process: unmount clears the stale mount; so does the next mount', async () => {
    const dir = join(base, 'killed');
    mkdirSync(dir);
    for (const clearWith of ['unmount', 'mount'] as const) {
      const r = await run(['--vault', 'v', '--json', 'mount', dir]);
      assert.equal(r.code, 0, r.stderr);
      const pid = JSON.parse(r.out).pid as number;
      // fsync is the promise (as with a disk: what was not synced may die with the server).
      const fd = fs.openSync(join(dir, `written-before-kill-${clearWith}.txt`), 'w');
      fs.writeSync(fd, 'kept');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      writeFileSync(join(dir, 'not-synced.txt'), 'may be lost');
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(20);
      assert.throws(() => fs.readdirSync(dir), { code: 'ENOTCONN' });
      if (clearWith === 'unmount') {
        const u = await run(['--json', 'unmount', dir]);
        assert.equal(u.code, 0, u.stderr);
        assert.equal(JSON.parse(u.out).stale, true);
        assert.equal(isMounted(dir), false);
      } else {
        const again = await run(['--vault', 'v', 'mount', dir]);
        assert.equal(again.code, 0, again.stderr);
        const names = fs.readdirSync(dir).filter((n) => n !== 'not-synced.txt').sort();
        assert.deepEqual(names, ['written-before-kill-mount.txt', 'written-before-kill-unmount.txt']);
        assert.equal(readFileSync(join(dir, 'written-before-kill-unmount.txt'), 'utf8'), 'kept');
        assert.equal((await run(['unmount', dir])).code, 0);
      }
    }
    const check = await run(['--vault', 'v', 'vault', 'check']);
    assert.equal(check.code, 0, check.out + check.stderr);
  });

  test('bad mount points, a second mount, an unknown vault, unmount of a plain folder', async () => {
    const full = join(base, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), 'x');
    const file = join(base, 'file');
    writeFileSync(file, 'x');
    const ok = join(base, 'ok');
    mkdirSync(ok);
    const cases: [string[], RegExp, number][] = [
      [['--vault', 'v', 'mount', full], /not empty/, 1],
      [['--vault', 'v', 'mount', join(base, 'missing')], /does not exist/, 1],
      [['--vault', 'v', 'mount', file], /not a folder/, 1],
      [['--vault', 'nosuchvault', 'mount', ok], /no vault named "nosuchvault"/, 1],
      [['--vault', 'v', 'mount', ok, '--at', 'no-such-snapshot'], /no-such-snapshot/, 1],
      [['--vault', 'v', 'mount', ok, '--cache', 'soon'], /--cache/, 2],
      [['--vault', 'v', 'mount'], /mount/, 2],
      [['unmount', ok], /not mounted/, 1],
    ];
    for (const [args, re, code] of cases) {
      const r = await run(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      const j = await run(['--json', ...args]);
      assert.equal(j.code, code);
      assert.ok(JSON.parse(j.out).error, j.out);
    }
    assert.equal((await run(['--vault', 'v', 'mount', ok])).code, 0);
    try {
      const twice = await run(['--vault', 'v', 'mount', ok]);
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /already mounted/);
    } finally {
      assert.equal((await run(['unmount', ok])).code, 0);
    }
    assert.deepEqual(fs.readdirSync(full), ['x'], 'a refused mount changes nothing');
    const check = await run(['--vault', 'v', 'vault', 'check']);
    assert.equal(check.code, 0);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


