// Export's symlink rules, on every engine: links are written verbatim (dangling, absolute,
// looping ones too), never followed; nothing is written through a host symlink or outside the
// target; --safe-links skips the links that lead outside and counts them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync, readFileSync, readlinkSync, lstatSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { code } from '../helpers/errors.js';
import { freshVaults } from '../helpers/vaults.js';
import { linkLeavesTree } from '../../src/api/transfer.js';
import type { VaultFactory } from './fs.suite.js';

export function exportSuite(f: VaultFactory): void {
  describe(`export on ${f.kind}`, () => {
    const { fresh } = freshVaults(f, 'avfs-export');
    let dir = '';
    let n = 0;
    const out = (): string => join(dir, `out${n++}`);
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-export-host-${f.kind}-`));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('writes every kind of symlink verbatim and never follows one', async () => {
      const v = await fresh();
      await v.writeFile('/t/a.txt', 'alpha');
      await v.symlink('a.txt', '/t/rel');
      await v.symlink('/etc/passwd', '/t/abs');
      await v.symlink('../../../../etc/shadow', '/t/up');
      await v.symlink('no/such/file', '/t/dangling');
      await v.symlink('loop2', '/t/loop1');
      await v.symlink('loop1', '/t/loop2');
      await v.symlink('.', '/t/self');
      await v.writeFile('/t/new\nline', 'nl');
      await v.symlink('new\nline', '/t/link\nto-newline');
      await v.mkdir('/t/sub');
      await v.symlink('../a.txt', '/t/sub/parent');
      const o = out();
      const r = await v.exportTo('/t', o, { recursive: true });
      assert.deepEqual([r.files, r.symlinks, r.dirs, r.skippedLinks], [2, 9, 2, undefined]);
      const links: Record<string, string> = {
        rel: 'a.txt',
        abs: '/etc/passwd',
        up: '../../../../etc/shadow',
        dangling: 'no/such/file',
        loop1: 'loop2',
        loop2: 'loop1',
        self: '.',
        'link\nto-newline': 'new\nline',
        'sub/parent': '../a.txt',
      };
      for (const [name, target] of Object.entries(links)) {
        assert.ok(lstatSync(join(o, name)).isSymbolicLink(), name);
        assert.equal(readlinkSync(join(o, name)), target, name);
      }
      assert.equal(readFileSync(join(o, 'new\nline'), 'utf8'), 'nl');
      assert.equal(readFileSync(join(o, 'sub', 'parent'), 'utf8'), 'alpha');
      assert.deepEqual(readdirSync(o).sort(), ['a.txt', 'abs', 'dangling', 'link\nto-newline', 'loop1', 'loop2', 'new\nline', 'rel', 'self', 'sub', 'up']);
    });

    it('a symlink keeps its own mtime (lutimes), and a link is never the way into a write', async () => {
      const v = await fresh();
      await v.writeFile('/m/f', 'x');
      await v.symlink('f', '/m/l');
      await v.utimes('/m/l', 1_500_000_000_000, { follow: false });
      await v.utimes('/m/f', 1_600_000_000_000);
      const o = out();
      await v.exportTo('/m', o, { recursive: true });
      assert.equal(lstatSync(join(o, 'l')).mtimeMs, 1_500_000_000_000);
      assert.equal(lstatSync(join(o, 'f')).mtimeMs, 1_600_000_000_000);
    });

    it('--safe-links skips absolute links and links leading outside, and counts them', async () => {
      const v = await fresh();
      await v.writeFile('/s/d/f', 'x');
      await v.symlink('/etc/passwd', '/s/abs');
      await v.symlink('../outside', '/s/up');
      await v.symlink('../f', '/s/d/ok-up');
      await v.symlink('d/f', '/s/ok');
      await v.symlink('.', '/s/here');
      await v.symlink('here/..', '/s/via-link'); // lexically '.', but 'here/..' is the folder above
      await v.symlink('dangling-inside', '/s/dangling');
      const o = out();
      const r = await v.exportTo('/s', o, { recursive: true, safeLinks: true });
      assert.equal(r.skippedLinks, 3);
      assert.equal(r.symlinks, 4);
      assert.deepEqual(readdirSync(o).sort(), ['d', 'dangling', 'here', 'ok']);
      assert.equal(readlinkSync(join(o, 'd', 'ok-up')), '../f');
      // Without the flag every link is written.
      const all = await v.exportTo('/s', out(), { recursive: true });
      assert.deepEqual([all.symlinks, all.skippedLinks], [7, undefined]);
    });

    it('linkLeavesTree: the --safe-links rule', () => {
      const cases: [string, string, boolean][] = [
        ['a', 'l', false],
        ['./a/./b', 'l', false],
        ['..', 'l', true],
        ['../x', 'd/l', false],
        ['../../x', 'd/l', true],
        ['/abs', 'l', true],
        ['', 'l', true],
        ['a/../b', 'l', true],
        ['../d/x', 'd/l', false],
        ['x//y/', 'l', false],
      ];
      for (const [target, rel, leaves] of cases) assert.equal(linkLeavesTree(target, rel), leaves, `${target} from ${rel}`);
    });

    it('never writes through a host symlink in the way, and writes nothing then', async () => {
      const v = await fresh();
      await v.writeFile('/h/a/b', 'vault bytes');
      await v.writeFile('/h/c', 'c');
      const elsewhere = join(dir, `elsewhere${n}`);
      mkdirSync(elsewhere);
      // OUT/a is a host symlink to a folder elsewhere: the vault's a/b would go through it.
      const o1 = out();
      mkdirSync(o1);
      symlinkSync(elsewhere, join(o1, 'a'));
      assert.equal(await code(v.exportTo('/h', o1, { recursive: true })), 'EPERM');
      assert.deepEqual(readdirSync(elsewhere), []);
      assert.deepEqual(readdirSync(o1), ['a'], 'nothing written');
      // OUT/c is a host symlink to a file elsewhere: never truncated or written.
      const victim = join(dir, `victim${n}`);
      writeFileSync(victim, 'keep me');
      const o2 = out();
      mkdirSync(o2);
      symlinkSync(victim, join(o2, 'c'));
      assert.equal(await code(v.exportTo('/h', o2, { recursive: true })), 'EPERM');
      assert.equal(readFileSync(victim, 'utf8'), 'keep me');
      // The target itself a symlink: refused too.
      const o3 = out();
      symlinkSync(elsewhere, o3);
      assert.equal(await code(v.exportTo('/h', o3, { recursive: true })), 'EPERM');
      assert.deepEqual(readdirSync(elsewhere), []);
      // A folder where a file goes, a file where a folder goes.
      const o4 = out();
      mkdirSync(join(o4, 'c'), { recursive: true });
      assert.equal(await code(v.exportTo('/h', o4, { recursive: true })), 'EEXIST');
      const o5 = out();
      mkdirSync(o5);
      writeFileSync(join(o5, 'a'), 'a file');
      assert.equal(await code(v.exportTo('/h', o5, { recursive: true })), 'ENOTDIR');
      assert.equal(readFileSync(join(o5, 'a'), 'utf8'), 'a file');
    });

    it('into a folder that holds files: files replaced (a hard link is never written through), links replaced by links', async () => {
      const v = await fresh();
      await v.writeFile('/r/f', 'new');
      await v.symlink('f', '/r/l');
      const o = out();
      mkdirSync(o);
      const outsideFile = join(dir, `hard${n}`);
      writeFileSync(outsideFile, 'outside, hard-linked');
      const { linkSync } = await import('node:fs');
      linkSync(outsideFile, join(o, 'f'));
      symlinkSync('/somewhere/else', join(o, 'l'));
      writeFileSync(join(o, 'extra'), 'kept');
      const r = await v.exportTo('/r', o, { recursive: true });
      assert.deepEqual([r.files, r.symlinks], [1, 1]);
      assert.equal(readFileSync(join(o, 'f'), 'utf8'), 'new');
      assert.equal(readFileSync(outsideFile, 'utf8'), 'outside, hard-linked');
      assert.equal(readlinkSync(join(o, 'l')), 'f');
      assert.equal(readFileSync(join(o, 'extra'), 'utf8'), 'kept');
      // Exporting again over the first export works (links replaced by links).
      await v.exportTo('/r', o, { recursive: true });
      assert.equal(readlinkSync(join(o, 'l')), 'f');
    });

    it('a read-only vault folder is exported read-only, and exported again over itself', async () => {
      const v = await fresh();
      await v.writeFile('/ro/sub/f', 'x');
      await v.chmod('/ro/sub', 0o555);
      const o = out();
      await v.exportTo('/ro', o, { recursive: true });
      assert.equal(lstatSync(join(o, 'sub')).mode & 0o777, 0o555);
      await v.exportTo('/ro', o, { recursive: true });
      assert.equal(readFileSync(join(o, 'sub', 'f'), 'utf8'), 'x');
      assert.equal(lstatSync(join(o, 'sub')).mode & 0o777, 0o555);
      const { chmodSync } = await import('node:fs');
      chmodSync(join(o, 'sub'), 0o755); // so the suite's clean-up can remove it
    });

    it('a single symlink named by path is followed to what it names; a single file lands in a folder', async () => {
      const v = await fresh();
      await v.writeFile('/one/f', 'one');
      await v.symlink('f', '/one/l');
      const o = out();
      mkdirSync(o);
      const r = await v.exportTo('/one/l', o);
      assert.equal(r.files, 1);
      assert.equal(readFileSync(join(o, 'f'), 'utf8'), 'one');
      const p = join(out(), 'named.txt');
      await v.exportTo('/one/f', p);
      assert.equal(readFileSync(p, 'utf8'), 'one');
      assert.equal(await code(v.exportTo('/one', out())), 'EISDIR');
      assert.equal(await code(v.exportTo('/missing', out(), { recursive: true })), 'ENOENT');
      assert.equal(existsSync(join(dir, `out${n - 1}`)), false);
    });
  });
}
