// Tags and metadata on files: the behaviour suite, run unchanged on every engine (real vaults,
// no mocks). Rules and layout: docs/tags.md.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkVault, openVault, type FileOps, type Vault } from '../../src/index.js';
import type { Engine } from '../../src/storage/contract.js';
import { scan } from '../../src/storage/contract.js';
import { code } from '../helpers/errors.js';
import { STORE_NAME, freshVaults } from '../helpers/vaults.js';
import type { VaultFactory } from './fs.suite.js';

/** Every tag and metadata row, as text: equal before and after proves a refusal changed nothing. */
async function attrRows(engine: Engine): Promise<string> {
  return engine.read(async (tx) => {
    const out: string[] = [];
    for (const c of ['tag_defs', 'file_tags', 'tag_files', 'file_meta'] as const) {
      for await (const e of scan(tx, c)) out.push(`${c} ${e.key.toString('hex')} ${e.value.toString('hex')}`);
    }
    return out.join('\n');
  });
}

async function findPaths(v: FileOps, path: string, opts: Parameters<FileOps['find']>[1]): Promise<string[]> {
  const out: string[] = [];
  for await (const e of v.find(path, opts)) out.push(e.path);
  return out;
}

export function tagsSuite(f: VaultFactory): void {
  describe(`tags and metadata on ${f.kind}`, () => {
    const { fresh, reopen } = freshVaults(f, 'avfs-tags');

    it('tags and untags a file; names are case-insensitive; repeats are no-ops', async () => {
      const v = await fresh();
      await v.writeFile('/a.txt', 'a');
      const r = await v.tag('/a.txt', ['Draft', 'urgent', 'DRAFT']);
      assert.deepEqual(r, { path: '/a.txt', files: 1, tags: ['draft', 'urgent'] });
      assert.deepEqual(await v.tags('/a.txt'), ['draft', 'urgent']);
      const again = await v.tag('/a.txt', 'draft');
      assert.equal(again.files, 0, 'already tagged: nothing changed');
      assert.deepEqual((await v.untag('/a.txt', 'URGENT')).tags, ['draft']);
      // A defined tag the file does not have: nothing to do, no error.
      assert.deepEqual(await v.untag('/a.txt', 'urgent'), { path: '/a.txt', files: 0, tags: ['draft'] });
      assert.equal(await code(v.untag('/a.txt', 'never-made')), 'ENOENT');
      assert.equal(await code(v.tag('/missing.txt', 'x')), 'ENOENT');
      assert.equal(await code(v.tags('/missing.txt')), 'ENOENT');
      assert.equal(await code(v.tag('/a.txt', [])), 'EINVAL');
      // Unicode tags are fine (NFC, lower case).
      await v.tag('/a.txt', ['Ünïcode', 'e\u0301te']);
      assert.deepEqual(await v.tags('/a.txt'), ['draft', 'ünïcode', '\u00e9te'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    });

    it('a tag used for the first time is defined; list, create (colour), delete, rename, copy', async () => {
      const v = await fresh();
      await v.writeFile('/a', 'a');
      await v.writeFile('/b', 'b');
      await v.writeFile('/c', 'c');
      await v.tag('/a', ['x', 'y']);
      await v.tag('/b', 'x');
      const made = await v.createTag('Blue', { color: '#00F' });
      assert.equal(made.name, 'blue');
      assert.equal(made.color, '#0000ff');
      assert.equal(made.count, 0);
      assert.equal((await v.createTag('plain')).color, undefined);
      assert.equal(await code(v.createTag('BLUE')), 'EEXIST');
      assert.equal(await code(v.createTag('x')), 'EEXIST', 'x was defined by its first use');
      const list = await v.listTags();
      assert.deepEqual(
        list.map((t) => [t.name, t.count, t.color]),
        [
          ['blue', 0, '#0000ff'],
          ['plain', 0, undefined],
          ['x', 2, undefined],
          ['y', 1, undefined],
        ],
      );
      assert.ok(list.every((t) => typeof t.createdMs === 'number'));
      // Tagging with a defined tag keeps its colour.
      await v.tag('/c', 'blue');
      assert.equal((await v.listTags()).find((t) => t.name === 'blue')?.count, 1);

      // rename: on every file; colour and time kept; unknown ENOENT; onto an existing one EEXIST.
      const renamed = await v.renameTag('blue', 'Sky');
      assert.deepEqual([renamed.name, renamed.count, renamed.color], ['sky', 1, '#0000ff']);
      assert.deepEqual(await v.tags('/c'), ['sky']);
      assert.equal(await code(v.renameTag('blue', 'z')), 'ENOENT');
      assert.equal(await code(v.renameTag('x', 'y')), 'EEXIST');
      assert.equal((await v.renameTag('x', 'X')).name, 'x', 'a rename onto itself changes nothing');

      // copy: the destination gains the source's tags and keeps its own.
      assert.deepEqual(await v.copyTags('/a', '/c'), ['sky', 'x', 'y']);
      assert.deepEqual(await v.tags('/a'), ['x', 'y'], 'the source is unchanged');
      assert.equal(await code(v.copyTags('/nope', '/c')), 'ENOENT');
      assert.equal(await code(v.copyTags('/a', '/nope')), 'ENOENT');

      // delete: gone from every file and from the list; unknown ENOENT.
      assert.deepEqual(await v.deleteTag('X'), { name: 'x', files: 3 });
      assert.deepEqual(await v.tags('/a'), ['y']);
      assert.deepEqual(await v.tags('/b'), []);
      assert.ok(!(await v.listTags()).some((t) => t.name === 'x'));
      assert.equal(await code(v.deleteTag('x')), 'ENOENT');
      assert.ok((await v.check()).ok, JSON.stringify((await v.check()).problems));
    });

    it('folders can be tagged; -r tags every file below a folder (not folders, not symlinks)', async () => {
      const v = await fresh();
      await v.writeFile('/p/one.md', '1');
      await v.writeFile('/p/sub/two.md', '2');
      await v.writeFile('/p/sub/deep/three.txt', '3');
      await v.symlink('one.md', '/p/link');
      await v.mkdir('/p/empty');
      assert.deepEqual(await v.tag('/p', 'project'), { path: '/p', files: 1, tags: ['project'] });
      const r = await v.tag('/p', ['review'], { recursive: true });
      assert.equal(r.files, 3);
      assert.deepEqual(r.tags, ['project'], 'the folder itself is not tagged by -r');
      assert.deepEqual(await findPaths(v, '/', { tag: 'review' }), ['/p/one.md', '/p/sub/deep/three.txt', '/p/sub/two.md']);
      assert.deepEqual(await v.tags('/p/sub'), []);
      // A symlink is followed (like chmod): tagging the link tags its target.
      await v.tag('/p/link', 'via-link');
      assert.deepEqual(await v.tags('/p/one.md'), ['review', 'via-link']);
      // -r on a file tags the file.
      assert.equal((await v.tag('/p/one.md', 'solo', { recursive: true })).files, 1);
      const u = await v.untag('/p/sub', 'review', { recursive: true });
      assert.equal(u.files, 2);
      assert.deepEqual(await findPaths(v, '/', { tag: 'review' }), ['/p/one.md']);
    });

    it('find -tag: combined with the other filters; several tags must all match', async () => {
      const v = await fresh();
      await v.writeFile('/src/a.ts', 'x'.repeat(2000));
      await v.writeFile('/src/b.ts', 'y');
      await v.writeFile('/src/c.md', 'z');
      await v.mkdir('/src/lib');
      await v.tag('/src/a.ts', ['hot', 'ts']);
      await v.tag('/src/b.ts', 'ts');
      await v.tag('/src/c.md', 'hot');
      await v.tag('/src/lib', 'hot');
      assert.deepEqual(await findPaths(v, '/', { tag: 'hot' }), ['/src/a.ts', '/src/c.md', '/src/lib']);
      assert.deepEqual(await findPaths(v, '/', { tag: 'HOT', type: 'file' }), ['/src/a.ts', '/src/c.md']);
      assert.deepEqual(await findPaths(v, '/', { tag: 'hot', name: '*.ts' }), ['/src/a.ts']);
      assert.deepEqual(await findPaths(v, '/', { tag: ['hot', 'ts'] }), ['/src/a.ts']);
      assert.deepEqual(await findPaths(v, '/', { tag: 'ts', minSize: 1000 }), ['/src/a.ts']);
      assert.deepEqual(await findPaths(v, '/src/lib', { tag: 'ts' }), []);
      assert.deepEqual(await findPaths(v, '/', { tag: 'unknown-tag' }), []);
      assert.equal(await code(findPaths(v, '/', { tag: 'two words' })), 'EINVAL');
      const found: { path: string; tags?: string[]; meta?: Record<string, string> }[] = [];
      await v.setMeta('/src/a.ts', 'owner', 'ann');
      for await (const e of v.find('/', { tag: 'ts', attrs: true })) found.push({ path: e.path, tags: e.stat.tags, meta: e.stat.meta });
      assert.deepEqual(found, [
        { path: '/src/a.ts', tags: ['hot', 'ts'], meta: { owner: 'ann' } },
        { path: '/src/b.ts', tags: ['ts'], meta: {} },
      ]);
      // Stat carries tags and metadata only when asked.
      assert.equal((await v.stat('/src/a.ts')).tags, undefined);
      const st = await v.stat('/src/a.ts', { attrs: true });
      assert.deepEqual([st.tags, st.meta], [['hot', 'ts'], { owner: 'ann' }]);
      const listed = await v.list('/src', { attrs: true });
      assert.deepEqual(listed.map((s) => s.tags), [['hot', 'ts'], ['ts'], ['hot'], ['hot']]);
      assert.equal((await v.list('/src'))[0].tags, undefined);
    });

    it('tags and metadata are not kept in history: a view of the past has none', async () => {
      const v = await fresh();
      await v.writeFile('/h.txt', 'h');
      await v.tag('/h.txt', 'now');
      await v.saveSnapshot('s1');
      const past = await v.at('s1');
      const st = await past.stat('/h.txt', { attrs: true });
      assert.equal(st.tags, undefined);
      assert.equal(await code(findPaths(past, '/', { tag: 'now' })), 'ENOTSUP');
      assert.equal(await code(past.tags('/h.txt')), 'ENOTSUP');
      assert.equal(await code(past.getMeta('/h.txt')), 'ENOTSUP');
      assert.equal(await code(past.tag('/h.txt', 'x')), 'EROFS');
    });

    it('refuses bad tag names, colours and missing paths, changing nothing', async () => {
      const v = await fresh();
      await v.writeFile('/f', 'f');
      await v.tag('/f', 'keep');
      await v.setMeta('/f', 'k', 'v');
      const before = await attrRows(v.engine);
      const bad: [string, unknown][] = [
        ['EINVAL', ''],
        ['EINVAL', 'two words'],
        ['EINVAL', 'tab\there'],
        ['EINVAL', 'new\nline'],
        ['EINVAL', 'nul\0byte'],
        ['EINVAL', 'zero\u200bwidth'],
        ['EINVAL', 'a,b'],
        ['EINVAL', '-flag'],
        ['EINVAL', '\ud800'],
        ['EINVAL', 42],
        ['ENAMETOOLONG', 'x'.repeat(129)],
      ];
      for (const [want, tag] of bad) {
        assert.equal(await code(v.tag('/f', tag as string)), want, `tag(${JSON.stringify(tag)})`);
        assert.equal(await code(v.tag('/f', ['ok', tag as string])), want, 'one bad tag refuses them all');
        assert.equal(await code(v.createTag(tag as string)), want);
        assert.equal(await code(v.untag('/f', tag as string)), want);
        assert.equal(await code(v.renameTag('keep', tag as string)), want);
      }
      assert.equal((await v.tag('/f', 'x'.repeat(128))).tags.length, 2, '128 bytes is the limit');
      await v.deleteTag('x'.repeat(128));
      for (const color of ['red', '#12', '#1234567', 'ggg', '#ff00zz', '', 3]) {
        assert.equal(await code(v.createTag('c', { color: color as string })), 'EINVAL', `colour ${String(color)}`);
      }
      assert.equal(await code(v.deleteTag('nope')), 'ENOENT');
      assert.equal(await code(v.renameTag('nope', 'other')), 'ENOENT');
      await v.createTag('other');
      assert.equal(await code(v.renameTag('keep', 'other')), 'EEXIST');
      await v.deleteTag('other');
      assert.equal(await code(v.tag('/nope/deeper', 'x')), 'ENOENT');
      assert.equal(await code(v.tag('/nope', 'x', { recursive: true })), 'ENOENT');
      assert.equal(await attrRows(v.engine), before);
      assert.ok(!(await v.listTags()).some((t) => t.name === 'ok'), 'no tag was defined by a refused call');
    });

    it('metadata: set, get, unset, export, import, copy', async () => {
      const v = await fresh();
      await v.writeFile('/d/a.md', 'a');
      await v.writeFile('/d/sub/b.md', 'b');
      await v.writeFile('/d/c.md', 'c');
      assert.deepEqual(await v.getMeta('/d/a.md'), {});
      assert.deepEqual(await v.setMeta('/d/a.md', 'author', 'ann'), { author: 'ann' });
      await v.setMeta('/d/a.md', 'note', 'line 1\nline 2\n');
      await v.setMeta('/d/a.md', 'empty', '');
      await v.setMeta('/d/a.md', '__proto__', 'just a key');
      assert.equal(await v.getMeta('/d/a.md', 'note'), 'line 1\nline 2\n');
      assert.equal(await v.getMeta('/d/a.md', 'empty'), '');
      assert.equal(await v.getMeta('/d/a.md', '__proto__'), 'just a key');
      assert.equal(await code(v.getMeta('/d/a.md', 'Author')), 'ENOENT', 'keys are case-sensitive');
      assert.equal(await code(v.getMeta('/d/none.md')), 'ENOENT');
      const all = await v.getMeta('/d/a.md');
      assert.deepEqual(Object.keys(all), ['__proto__', 'author', 'empty', 'note']);
      assert.equal(Object.getPrototypeOf(all), Object.prototype);
      assert.deepEqual(await v.setMeta('/d/sub/b.md', { k1: 'v1', k2: 'v2' }), { k1: 'v1', k2: 'v2' });
      await v.setMeta('/d', 'kind', 'folder');

      assert.deepEqual(await v.unsetMeta('/d/a.md', ['empty', 'not-set']), ['empty']);
      assert.deepEqual(await v.unsetMeta('/d/a.md', '__proto__'), ['__proto__']);
      assert.deepEqual(await v.getMeta('/d/a.md'), { author: 'ann', note: 'line 1\nline 2\n' });

      const exp = await v.exportMeta('/d');
      assert.deepEqual(exp, {
        '/d': { kind: 'folder' },
        '/d/a.md': { author: 'ann', note: 'line 1\nline 2\n' },
        '/d/sub/b.md': { k1: 'v1', k2: 'v2' },
      });
      assert.deepEqual(await v.exportMeta('/d/c.md'), { '/d/c.md': {} }, 'a file is always in its own export');

      // import: keys given are set, the others kept; round trip through JSON.
      await v.setMeta('/d/c.md', 'stays', 'yes');
      const r = await v.importMeta(JSON.parse(JSON.stringify({ '/d/c.md': { author: 'bob' }, '/d/a.md': { author: 'carl', extra: 'x' } })));
      assert.deepEqual(r, { paths: 2, keys: 3 });
      assert.deepEqual(await v.getMeta('/d/c.md'), { author: 'bob', stays: 'yes' });
      assert.deepEqual(await v.getMeta('/d/a.md'), { author: 'carl', extra: 'x', note: 'line 1\nline 2\n' });
      await v.writeFile('/e/a.md', 'a');
      await v.writeFile('/e/sub/b.md', 'b');
      const moved = Object.fromEntries(Object.entries(exp).map(([p, m]) => [p.replace(/^\/d/, '/e'), m]));
      await v.importMeta(moved);
      assert.deepEqual(await v.exportMeta('/e'), moved);
      assert.deepEqual(await v.importMeta({}), { paths: 0, keys: 0 });

      // copy: the destination gains the source's keys (same keys overwritten), keeps its own.
      await v.setMeta('/d/c.md', 'author', 'dora');
      assert.deepEqual(await v.copyMeta('/d/sub/b.md', '/d/c.md'), { author: 'dora', k1: 'v1', k2: 'v2', stays: 'yes' });
      assert.deepEqual(await v.getMeta('/d/sub/b.md'), { k1: 'v1', k2: 'v2' });
      assert.equal(await code(v.copyMeta('/d/none', '/d/c.md')), 'ENOENT');
      // Relative paths are taken from the working folder.
      v.cwd = '/d';
      assert.equal(await v.getMeta('a.md', 'author'), 'carl');
      v.cwd = '/';
    });

    it('refuses bad metadata keys, values and imports, changing nothing', async () => {
      const v = await fresh();
      await v.writeFile('/m/a', 'a');
      await v.writeFile('/m/b', 'b');
      await v.setMeta('/m/a', 'k', 'v');
      const before = await attrRows(v.engine);
      const badKeys: [string, unknown][] = [
        ['EINVAL', ''],
        ['EINVAL', 'a b'],
        ['EINVAL', 'a=b'],
        ['EINVAL', 'new\nline'],
        ['EINVAL', 'nul\0'],
        ['EINVAL', null],
        ['ENAMETOOLONG', 'k'.repeat(256)],
      ];
      for (const [want, key] of badKeys) {
        assert.equal(await code(v.setMeta('/m/a', key as string, 'x')), want, `key ${JSON.stringify(key)}`);
        assert.equal(await code(v.getMeta('/m/a', key as string)), want);
        assert.equal(await code(v.unsetMeta('/m/a', key as string)), want);
      }
      assert.equal(await code(v.setMeta('/m/a', 'big', 'x'.repeat(64 * 1024 + 1))), 'EFBIG');
      assert.equal(await code(v.setMeta('/m/a', 'huge', 'x'.repeat(10 * 1024 * 1024))), 'EFBIG');
      assert.equal(await code(v.setMeta('/m/a', 'wide', 'é'.repeat(40_000))), 'EFBIG', 'the limit is in UTF-8 bytes');
      assert.equal(await code(v.setMeta('/m/a', 'n', 42 as unknown as string)), 'EINVAL');
      assert.equal(await code(v.setMeta('/m/a', 'n', undefined)), 'EINVAL');
      assert.equal(await code(v.setMeta('/m/a', {})), 'EINVAL');
      assert.equal(await code(v.setMeta('/m/a', { ok: 'fine', 'bad key': 'x' })), 'EINVAL', 'one bad key refuses them all');
      assert.equal(await code(v.setMeta('/m/none', 'k', 'v')), 'ENOENT');
      assert.equal(await code(v.unsetMeta('/m/a', [])), 'EINVAL');
      const badImports: [string, unknown][] = [
        ['EINVAL', null],
        ['EINVAL', []],
        ['EINVAL', 'text'],
        ['EINVAL', { '/m/a': 'v' }],
        ['EINVAL', { '/m/a': ['v'] }],
        ['EINVAL', { '/m/a': { k: 1 } }],
        ['EINVAL', { '/m/a': { k: null } }],
        ['EINVAL', { '/m/a': { 'bad key': 'v' } }],
        ['EFBIG', { '/m/a': { k: 'x'.repeat(70_000) } }],
        ['EINVAL', { 'm/a': { k: 'v' } }],
        ['EINVAL', { '/m/../../etc/passwd': { k: 'v' } }],
        ['EINVAL', { '/m/./a': { k: 'v' } }],
        ['EINVAL', { '/m//a': { k: 'v' } }],
        ['EINVAL', { '/m/a/': { k: 'v' } }],
        ['EINVAL', { '': { k: 'v' } }],
        ['EINVAL', { '/m/\0': { k: 'v' } }],
        // A missing path refuses the whole import, also the entries before it.
        ['ENOENT', { '/m/b': { new: 'v' }, '/m/missing': { k: 'v' } }],
        ['ENOTDIR', { '/m/a/under-a-file': { k: 'v' } }],
      ];
      for (const [want, doc] of badImports) {
        assert.equal(await code(v.importMeta(doc as Record<string, Record<string, string>>)), want, JSON.stringify(doc));
      }
      assert.equal(await attrRows(v.engine), before);
      assert.ok(await v.setMeta('/m/a', 'max', 'x'.repeat(64 * 1024)), '64 KiB is the limit');
    });

    it('tags and metadata follow a file and a folder through rename', async () => {
      const v = await fresh();
      await v.writeFile('/a/f.txt', 'f');
      await v.writeFile('/a/deep/g.txt', 'g');
      await v.tag('/a/f.txt', 'one');
      await v.tag('/a/deep/g.txt', 'two');
      await v.tag('/a', 'folder');
      await v.setMeta('/a/deep/g.txt', 'k', 'v');
      await v.rename('/a/f.txt', '/a/renamed.txt');
      assert.deepEqual(await v.tags('/a/renamed.txt'), ['one']);
      await v.mkdir('/moved');
      await v.rename('/a', '/moved/here');
      assert.deepEqual(await v.tags('/moved/here'), ['folder']);
      assert.deepEqual(await v.tags('/moved/here/renamed.txt'), ['one']);
      assert.deepEqual(await v.tags('/moved/here/deep/g.txt'), ['two']);
      assert.deepEqual(await v.getMeta('/moved/here/deep/g.txt'), { k: 'v' });
      assert.deepEqual(await findPaths(v, '/', { tag: 'two' }), ['/moved/here/deep/g.txt']);
      // A rename over an existing file replaces it: the replaced file's tags go with it.
      await v.writeFile('/x', 'x');
      await v.tag('/x', 'replaced');
      await v.setMeta('/x', 'gone', 'yes');
      await v.rename('/moved/here/renamed.txt', '/x');
      assert.deepEqual(await v.tags('/x'), ['one']);
      assert.deepEqual(await v.getMeta('/x'), {});
      assert.equal((await v.listTags()).find((t) => t.name === 'replaced')?.count, 0);
      // Writing a file keeps its tags (same inode).
      await v.writeFile('/x', 'new content');
      await v.appendFile('/x', '!');
      assert.deepEqual(await v.tags('/x'), ['one']);
      assert.ok((await v.check()).ok, JSON.stringify((await v.check()).problems));
    });

    it('copy (and recursive copy) copies tags and metadata; the copies are independent', async () => {
      const v = await fresh();
      await v.writeFile('/src/a.md', 'a');
      await v.writeFile('/src/sub/b.md', 'b');
      await v.tag('/src', 'folder');
      await v.tag('/src/a.md', ['t1', 't2']);
      await v.tag('/src/sub/b.md', 't1');
      await v.setMeta('/src/sub/b.md', 'k', 'v');
      await v.copy('/src/a.md', '/one.md');
      assert.deepEqual(await v.tags('/one.md'), ['t1', 't2']);
      await v.copy('/src', '/dup', { recursive: true });
      assert.deepEqual(await v.tags('/dup'), ['folder']);
      assert.deepEqual(await v.tags('/dup/a.md'), ['t1', 't2']);
      assert.deepEqual(await v.tags('/dup/sub/b.md'), ['t1']);
      assert.deepEqual(await v.getMeta('/dup/sub/b.md'), { k: 'v' });
      assert.equal((await v.listTags()).find((t) => t.name === 't1')?.count, 5);
      await v.untag('/dup/a.md', 't2');
      await v.setMeta('/dup/sub/b.md', 'k', 'changed');
      assert.deepEqual(await v.tags('/src/a.md'), ['t1', 't2'], 'the original is untouched');
      assert.equal(await v.getMeta('/src/sub/b.md', 'k'), 'v');
      // Copying over an existing file: the target ends with the source's tags and metadata.
      await v.writeFile('/target.md', 't');
      await v.tag('/target.md', 'old');
      await v.setMeta('/target.md', 'old', 'x');
      await v.copy('/src/sub/b.md', '/target.md');
      assert.deepEqual(await v.tags('/target.md'), ['t1']);
      assert.deepEqual(await v.getMeta('/target.md'), { k: 'v' });
      // A copy through a symlink copies what the link points at.
      await v.symlink('/src/a.md', '/ln');
      await v.copy('/ln', '/via-link.md');
      assert.deepEqual(await v.tags('/via-link.md'), ['t1', 't2']);
      // In a batch too.
      await v.batch(async (b) => {
        await b.writeFile('/batch/new.md', 'n');
        await b.tag('/batch/new.md', 'batched');
        await b.copy('/batch/new.md', '/batch/copy.md');
      });
      assert.deepEqual(await v.tags('/batch/copy.md'), ['batched']);
      assert.ok((await v.check()).ok, JSON.stringify((await v.check()).problems));
    });

    it('removing a file removes its tags and metadata (tag definitions stay)', async () => {
      const v = await fresh();
      await v.writeFile('/r/a', 'a');
      await v.writeFile('/r/sub/b', 'b');
      await v.tag('/r/a', ['gone', 'both']);
      await v.tag('/r/sub/b', 'both');
      await v.setMeta('/r/a', 'k', 'v');
      await v.setMeta('/r/sub', 'k', 'v');
      await v.saveSnapshot('before-rm');
      await v.unlink('/r/a');
      let list = await v.listTags();
      assert.deepEqual(list.map((t) => [t.name, t.count]), [['both', 1], ['gone', 0]]);
      await v.rm('/r', { recursive: true });
      list = await v.listTags();
      assert.deepEqual(list.map((t) => [t.name, t.count]), [['both', 0], ['gone', 0]]);
      assert.equal(await attrRows(v.engine).then((r) => r.split('\n').filter((l) => !l.startsWith('tag_defs')).join('')), '');
      // A file brought back from history comes back without them (they are not versioned).
      await v.restoreSnapshot('before-rm');
      assert.equal(await v.readText('/r/a'), 'a');
      assert.deepEqual(await v.tags('/r/a'), []);
      assert.deepEqual(await v.getMeta('/r/a'), {});
      // A new file at the same path starts with none.
      await v.rm('/r', { recursive: true });
      await v.writeFile('/r/a', 'again');
      assert.deepEqual(await v.tags('/r/a'), []);
      assert.ok((await v.check()).ok, JSON.stringify((await v.check()).problems));
    });

    it('every change is in the operation log; refusals too', async () => {
      const v = await fresh();
      await v.writeFile('/l', 'l');
      await v.tag('/l', 'a');
      await v.untag('/l', 'a');
      await v.createTag('b', { color: '#abc' });
      await v.renameTag('b', 'c');
      await v.deleteTag('c');
      await v.writeFile('/m', 'm');
      await v.copyTags('/l', '/m');
      await v.setMeta('/l', 'k', 'v');
      await v.unsetMeta('/l', 'k');
      await v.copyMeta('/l', '/m');
      await v.importMeta({ '/l': { x: 'y' } });
      await code(v.deleteTag('never'));
      await code(v.tag('/missing', 'x'));
      await code(v.importMeta({ '/missing': { k: 'v' } }));
      const log = (await v.audit({ limit: 14 })).reverse();
      assert.deepEqual(
        log.map((r) => [r.op, r.paths, r.outcome ?? 'ok']),
        [
          ['tag', ['/l'], 'ok'],
          ['untag', ['/l'], 'ok'],
          ['tag.create', [], 'ok'],
          ['tag.rename', [], 'ok'],
          ['tag.delete', [], 'ok'],
          ['write', ['/m'], 'ok'],
          ['tag.copy', ['/l', '/m'], 'ok'],
          ['meta.set', ['/l'], 'ok'],
          ['meta.unset', ['/l'], 'ok'],
          ['meta.copy', ['/l', '/m'], 'ok'],
          ['meta.import', ['/l'], 'ok'],
          ['tag.delete', [], 'ENOENT'],
          ['tag', ['/missing'], 'ENOENT'],
          ['meta.import', ['/missing'], 'ENOENT'],
        ],
      );
      assert.deepEqual(log[0].info, { tags: ['a'], files: 1, created: ['a'] });
      assert.equal(log[3].info?.target, 'tag b -> c');
      assert.equal(log[11].info?.tag, 'never', 'a refusal names the tag');
      assert.deepEqual((await v.audit({ ops: ['tag'] })).length, 2);
    });

    it('a fork from an earlier point keeps the tags of the files it has', async () => {
      const v = await fresh();
      await v.writeFile('/keep', 'k');
      await v.tag('/keep', 'shared');
      await v.saveSnapshot('mid');
      await v.writeFile('/later', 'l');
      await v.tag('/later', ['shared', 'late']);
      await v.setMeta('/later', 'k', 'v');
      // A fork to a path is a local store: a memory or postgres vault forks into sqlite there.
      const backend = f.kind === 'memory' || f.kind === 'postgres' ? 'sqlite' : f.kind;
      const dir = mkdtempSync(join(tmpdir(), `avfs-tags-fork-${f.kind}-`));
      const dst = join(dir, `fork-${STORE_NAME[backend]}`);
      await forkVault(v, dst, { at: 'mid', home: join(dir, 'fork-home'), backend: backend as 'sqlite' | 'lmdb' });
      const fk = await openVault(dst, { home: join(dir, 'fork-home') });
      try {
        assert.equal(await fk.exists('/later'), false);
        assert.deepEqual(await fk.tags('/keep'), ['shared']);
        assert.deepEqual(
          (await fk.listTags()).map((t) => [t.name, t.count]),
          [['late', 0], ['shared', 1]],
        );
        const check = await fk.check();
        assert.ok(check.ok, JSON.stringify(check.problems));
      } finally {
        await fk.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    if (f.persistent) {
      it('persists across close and reopen', async () => {
        const v1 = await fresh();
        await v1.writeFile('/p/a', 'a');
        await v1.tag('/p/a', ['x', 'y']);
        await v1.createTag('z', { color: '#123456' });
        await v1.setMeta('/p/a', 'k', 'v\nw');
        const v = await reopen();
        assert.deepEqual(await v.tags('/p/a'), ['x', 'y']);
        assert.deepEqual(await v.getMeta('/p/a'), { k: 'v\nw' });
        assert.deepEqual(
          (await v.listTags()).map((t) => [t.name, t.count, t.color]),
          [
            ['x', 1, undefined],
            ['y', 1, undefined],
            ['z', 0, '#123456'],
          ],
        );
        assert.deepEqual(await findPaths(v, '/', { tag: 'y' }), ['/p/a']);
      });
    }
  });
}
