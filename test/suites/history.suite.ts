// The history suite: versions, points in time, snapshots, audit. Runs unchanged on every engine.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Vault, Version } from '../../src/index.js';
import type { VaultFactory } from './fs.suite.js';
import { code } from '../helpers/errors.js';

const versionsOf = async (v: Vault, p: string): Promise<number[]> =>
  (await v.history(p)).filter((e): e is Version => !('removed' in e)).map((e) => e.version);

async function tree(v: Pick<Vault, 'walk' | 'readFile'>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of v.walk('/')) {
    out[e.path] = e.stat.type === 'file' ? (await v.readFile(e.path)).toString() : e.stat.type === 'symlink' ? `-> ${e.stat.target}` : 'dir';
  }
  return out;
}

export function historySuite(f: VaultFactory): void {
  describe(`history on ${f.kind}`, () => {
    let dir: string;
    let n = 0;
    const open: Vault[] = [];
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-hist-${f.kind}-`));
    });
    after(async () => {
      for (const v of open) await v.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const fresh = async (): Promise<Vault> => {
      const d = join(dir, String(n++));
      mkdirSync(d);
      const v = await f.create(d);
      open.push(v);
      return v;
    };

    it('keeps every content version, readable by number', async () => {
      const v = await fresh();
      await v.writeFile('/f', 'one');
      await v.writeFile('/f', 'two');
      await v.appendFile('/f', '+');
      await v.touch('/f');
      await v.chmod('/f', 0o600);
      assert.deepEqual(await versionsOf(v, '/f'), [3, 2, 1], 'metadata changes are not content versions');
      assert.equal((await v.readVersion('/f', 1)).data.toString(), 'one');
      assert.equal((await v.readVersion('/f', 3)).data.toString(), 'two+');
      const [latest] = await v.history('/f');
      assert.ok(!('removed' in latest));
      assert.equal((latest as Version).op, 'append');
      assert.equal(await code(v.readVersion('/f', 9)), 'ENOENT');
      assert.equal(await code(v.readVersion('/f', 0)), 'EINVAL');
      assert.equal(await code(v.history('/never')), 'ENOENT');
    });

    it('finds any version of a file with many, and the newest few without reading them all', async () => {
      const v = await fresh();
      for (let i = 1; i <= 60; i++) {
        await v.writeFile('/many', `content ${i}`);
        if (i % 7 === 0) await v.chmod('/many', 0o600 + (i % 2)); // rows that are not new versions
      }
      for (const n of [1, 2, 29, 59, 60]) assert.equal((await v.readVersion('/many', n)).data.toString(), `content ${n}`);
      assert.deepEqual(
        (await v.history('/many', { limit: 3 })).map((e) => (e as Version).version),
        [60, 59, 58],
      );
      assert.equal(await code(v.readVersion('/many', 61)), 'ENOENT');
    });

    it('shows a delete in the log, and checkout brings the file back', async () => {
      const v = await fresh();
      await v.writeFile('/d/gone.txt', 'first');
      await v.writeFile('/d/gone.txt', 'second');
      await v.rm('/d/gone.txt');
      const hist = await v.history('/d/gone.txt');
      assert.ok('removed' in hist[0], 'newest entry is the removal');
      assert.equal(hist[0].op, 'unlink');
      const st = await v.checkout('/d/gone.txt', 1);
      assert.equal(await v.readText('/d/gone.txt'), 'first');
      assert.equal(st.version, 3, 'numbering continues along the path');
      await v.writeFile('/d/gone.txt', 'third');
      const back = await v.revert('/d/gone.txt');
      assert.equal(await v.readText('/d/gone.txt'), 'first');
      assert.equal(back.version, 5);
      assert.deepEqual(await versionsOf(v, '/d/gone.txt'), [5, 4, 3, 2, 1]);
    });

    it('in one batch, a file in a folder the batch made starts at version 1, and one made again where another was removed or moved away continues the numbering', async () => {
      const v = await fresh();
      await v.batch(async (b) => {
        await b.writeFile('/new/a', 'one');
        await b.writeFile('/new/a', 'two');
        await b.rm('/new/a');
        await b.writeFile('/new/a', 'three');
        await b.writeFile('/new/b', 'b');
        await b.writeFile('/new/deep/c', 'c');
        await b.writeFile('/moved/x', 'x1');
        await b.rename('/moved/x', '/elsewhere');
        await b.writeFile('/moved/x', 'x2');
      });
      assert.deepEqual(await versionsOf(v, '/new/a'), [3, 2, 1]);
      assert.deepEqual(await versionsOf(v, '/new/b'), [1]);
      assert.deepEqual(await versionsOf(v, '/new/deep/c'), [1]);
      assert.deepEqual(await versionsOf(v, '/moved/x'), [2, 1], 'numbering continues along the path');
      assert.equal(await v.readText('/moved/x'), 'x2');
      assert.equal(await v.readText('/elsewhere'), 'x1');
      // Later batches see the folders' history through the store.
      await v.batch(async (b) => {
        await b.rm('/new/b');
        await b.writeFile('/new/b', 'b again');
      });
      assert.deepEqual(await versionsOf(v, '/new/b'), [2, 1]);
    });

    it('follows a file through a rename', async () => {
      const v = await fresh();
      await v.writeFile('/old', 'a');
      await v.writeFile('/old', 'b');
      await v.rename('/old', '/new');
      await v.writeFile('/new', 'c');
      assert.deepEqual(await versionsOf(v, '/new'), [3, 2, 1]);
      assert.equal((await v.readVersion('/new', 1)).data.toString(), 'a');
    });

    it('shows the whole tree at any point: snapshot, operation number, time', async () => {
      const v = await fresh();
      await v.writeFile('/keep', 'k1');
      await v.writeFile('/dir/x', 'x1');
      const snap = await v.saveSnapshot('before');
      const t = Date.now();
      await new Promise((r) => setTimeout(r, 5));
      await v.writeFile('/keep', 'k2');
      await v.rm('/dir', { recursive: true });
      await v.writeFile('/added', 'new');
      await v.symlink('/keep', '/link');
      const then = await v.at('before');
      assert.deepEqual(await tree(then), { '/': 'dir', '/dir': 'dir', '/dir/x': 'x1', '/keep': 'k1' });
      assert.deepEqual(await tree(await v.at(snap.seq)), await tree(then));
      assert.deepEqual(await tree(await v.at(new Date(t).toISOString())), await tree(then));
      assert.deepEqual(await tree(await v.at(1)), { '/': 'dir' }, 'operation 1 made the empty vault');
      assert.equal((await then.stat('/keep')).size, 2);
      assert.equal(await code(then.writeFile('/x', 'no')), 'EROFS');
      assert.equal(await code(v.at('no-such-snapshot')), 'EINVAL');
      assert.equal(await code(v.at('snap:no-such')), 'ENOENT');
      assert.equal(await code(v.at(99999)), 'EINVAL');
      assert.equal(await code(v.at('1999-01-01')), 'EINVAL');
      assert.equal(await code(v.at('tomorrow at noon')), 'EINVAL');
      assert.equal(await code(v.at('')), 'EINVAL');
    });

    it('saves snapshots in O(1), lists, diffs and deletes them', async () => {
      const v = await fresh();
      await v.writeFile('/a', '1');
      await v.writeFile('/b', '1');
      const s1 = await v.saveSnapshot('s1');
      const auto = await v.saveSnapshot();
      assert.match(auto.name, /^snap-\d{8}-\d{6}/);
      await v.writeFile('/a', '2');
      await v.rm('/b');
      await v.writeFile('/c', '1');
      const d = await v.diffPoints('s1');
      assert.deepEqual({ added: d.added, removed: d.removed, changed: d.changed }, { added: ['/c'], removed: ['/b'], changed: ['/a'] });
      assert.deepEqual((await v.listSnapshots()).map((s) => s.name), ['s1', auto.name]);
      assert.equal(s1.seq < auto.seq, true);
      assert.equal(await code(v.saveSnapshot('s1')), 'EEXIST');
      assert.equal(await code(v.saveSnapshot('bad name')), 'EINVAL');
      assert.equal(await code(v.saveSnapshot('42')), 'EINVAL');
      await v.deleteSnapshot('s1');
      assert.equal(await code(v.deleteSnapshot('s1')), 'ENOENT');
      assert.deepEqual((await v.listSnapshots()).map((s) => s.name), [auto.name]);
    });

    it('restores a snapshot atomically, after saving the current state', async () => {
      const v = await fresh();
      await v.writeFile('/src/a.ts', 'A1');
      await v.writeFile('/src/b.ts', 'B1');
      await v.symlink('src/a.ts', '/main');
      await v.mkdir('/empty');
      await v.saveSnapshot('good');
      const good = await tree(v);
      await v.writeFile('/src/a.ts', 'A2');
      await v.rm('/src/b.ts');
      await v.rename('/empty', '/moved');
      await v.writeFile('/junk/x', 'x');
      await v.rm('/main');
      await v.symlink('elsewhere', '/main');
      const bad = await tree(v);
      const r = await v.restoreSnapshot('good');
      assert.deepEqual(await tree(v), good);
      assert.ok(r.added > 0 && r.removed > 0 && r.changed > 0);
      assert.deepEqual(await tree(await v.at(r.saved.name)), bad, 'the state before the restore was saved');
      assert.equal(await v.readText('/src/a.ts'), 'A1');
      assert.deepEqual(await versionsOf(v, '/src/a.ts'), [3, 2, 1], 'restored content is a new version');
      assert.deepEqual(await versionsOf(v, '/src/b.ts'), [2, 1], 'a file brought back continues its history');
      assert.deepEqual((await v.check()).problems, []);
      assert.equal(await code(v.restoreSnapshot('nope')), 'EINVAL');
      assert.deepEqual(await tree(v), good, 'a failed restore changes nothing');
      // Restoring again to the saved state undoes the restore.
      await v.restoreSnapshot(r.saved.name);
      assert.deepEqual(await tree(v), bad);
    });

    it('records every mutation, and every refused one, in the audit log', async () => {
      const v = await fresh();
      await v.writeFile('/x/y', 'data');
      await v.rename('/x/y', '/x/z');
      await v.rmdir('/x').catch(() => {});
      await v.readFile('/x/nothing').catch(() => {});
      const log = await v.audit({ limit: 10 });
      assert.deepEqual(
        log.slice(0, 3).map((r) => `${r.op} ${r.paths.join(' ')} ${r.outcome ?? 'ok'}`),
        ['rmdir /x ENOTEMPTY', 'rename /x/y /x/z ok', 'write /x/y ok'],
        'refusals are logged; reads are not',
      );
      assert.ok(log.every((r) => r.actor === v.actor));
      assert.deepEqual((await v.audit({ ops: ['rename'] })).map((r) => r.op), ['rename']);
      assert.deepEqual((await v.audit({ path: '/x/z' })).map((r) => r.op), ['rename']);
      assert.equal((await v.audit({ limit: 1 })).length, 1);
      assert.equal((await v.audit({ sinceMs: Date.now() + 60_000 })).length, 0);
      assert.equal(await code(v.audit({ limit: 0 })), 'EINVAL');
      assert.equal(await code(v.checkout('/x/z', 99)), 'ENOENT');
      assert.equal(await code(v.saveSnapshot('s')), 'no error');
      assert.equal(await code(v.saveSnapshot('s')), 'EEXIST');
      assert.deepEqual(
        (await v.audit({ limit: 3 })).map((r) => `${r.op} ${r.outcome ?? 'ok'}`),
        ['snapshot.save EEXIST', 'snapshot.save ok', 'checkout ENOENT'],
        'refused history operations are logged too',
      );
      const ops = (await v.changesBelow('/x')).map((r) => r.op);
      assert.deepEqual(ops, ['rename', 'write']);
    });
  });
}
