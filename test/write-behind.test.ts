// The mount's write-behind runner (src/api/write-behind.ts), on every engine: requests share a
// transaction and see each other; a request that fails after leaving something behind rolls the
// batch back and the others are replayed, exactly; flush commits; full-text indexing deferred
// by the batches is caught up before a search answers, and vault check holds meanwhile.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, freshVaults, vaultFactory } from './helpers/vaults.js';
import { BatchRunner } from '../src/api/write-behind.js';
import { FileOps } from '../src/api/fileops.js';
import { vfsError } from '../src/errors.js';
import type { Vault } from '../src/index.js';

function batched(v: Vault): { runner: BatchRunner; ops: FileOps; logs: string[] } {
  const logs: string[] = [];
  const runner = new BatchRunner(v.engine, { chunkSize: v.record.chunkSize, actor: 'batch' }, (l) => logs.push(l));
  return { runner, ops: new FileOps(runner), logs };
}

for (const kind of ENGINES) {
  describe(`write-behind batches (${kind})`, () => {
    const vaults = freshVaults(vaultFactory(kind), 'avfs-wb');

    test('requests in one batch see each other; flush commits them for everyone', async () => {
      const v = await vaults.fresh();
      const { runner, ops } = batched(v);
      await Promise.all(Array.from({ length: 50 }, (_, i) => ops.writeFile(`/d/f${i}.txt`, `file ${i}`)));
      await ops.mkdir('/e');
      await ops.rename('/d/f0.txt', '/e/moved.txt');
      assert.equal(await ops.readText('/e/moved.txt'), 'file 0');
      assert.equal((await ops.readdir('/d')).length, 49);
      await runner.flush();
      assert.equal(await v.readText('/e/moved.txt'), 'file 0');
      assert.equal((await v.readdir('/d')).length, 49);
      const audit = await v.audit({ actor: 'batch' });
      assert.equal(audit.length, 52);
      assert.deepEqual((await v.check()).problems, []);
    });

    test('a refused request changes nothing and is in the audit log; the batch goes on', async () => {
      const v = await vaults.fresh();
      const { runner, ops } = batched(v);
      await ops.writeFile('/a.txt', 'a');
      await assert.rejects(ops.mkdir('/a.txt'), { code: 'EEXIST' });
      await assert.rejects(ops.rmdir('/missing'), { code: 'ENOENT' });
      await ops.writeFile('/b.txt', 'b');
      await runner.flush();
      assert.deepEqual((await v.readdir('/')).map((e) => e.name), ['a.txt', 'b.txt']);
      const refused = (await v.audit({})).filter((r) => r.outcome);
      assert.deepEqual(refused.map((r) => [r.op, r.outcome]).sort(), [['mkdir', 'EEXIST'], ['rmdir', 'ENOENT']]);
    });

    test('a request that fails half way is rolled back; the requests before it are replayed', async () => {
      const v = await vaults.fresh();
      const { runner, ops } = batched(v);
      await ops.writeFile('/keep1.txt', 'one');
      await ops.mkdir('/dir');
      // A change that begins an operation and writes a row, then fails.
      const runnerWrite = runner.write.bind(runner);
      await assert.rejects(
        runnerWrite(async (s) => {
          await s.begin('half', ['/half']);
          await s.tx.put('meta', Buffer.from('half-written'), Buffer.from('x'));
          throw vfsError('EIO', '/half', 'failed half way');
        }),
        { code: 'EIO' },
      );
      await ops.writeFile('/keep2.txt', 'two');
      await runner.flush();
      assert.equal(await v.readText('/keep1.txt'), 'one');
      assert.equal(await v.readText('/keep2.txt'), 'two');
      assert.equal((await v.stat('/dir')).type, 'directory');
      assert.equal(await v.engine.read((tx) => tx.get('meta', Buffer.from('half-written'))), undefined);
      assert.equal((await v.audit({})).filter((r) => r.op === 'half').length, 0);
      const files = (await v.audit({ actor: 'batch' })).map((r) => r.op);
      assert.deepEqual(files.sort(), ['mkdir', 'write', 'write']);
      assert.deepEqual((await v.check()).problems, []);
    });

    test('open files committed through a batch, replayed after a rollback, keep their bytes', async () => {
      const v = await vaults.fresh();
      const { runner, ops } = batched(v);
      const files = ops.openFiles();
      const f = await files.open('/big.bin', { create: true, write: true });
      const data = Buffer.alloc(300_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 255;
      await f.write(0, data);
      await files.close(f);
      await assert.rejects(
        runner.write(async (s) => {
          await s.begin('half', ['/x']);
          throw vfsError('EIO');
        }),
      );
      await runner.flush();
      assert.ok((await v.readFile('/big.bin')).equals(data));
    });

    test('one batch remembers names and paths, and forgets them when the tree changes under it', async () => {
      // All of this runs in one transaction (nothing flushes in between), where the scope keeps
      // the entries it looked up (missing ones too) and the paths of open files' inodes.
      const v = await vaults.fresh();
      const { runner, ops } = batched(v);
      const open = ops.openFiles();
      await assert.rejects(ops.stat('/d/f.txt'), { code: 'ENOENT' }); // a missing name, remembered
      await ops.mkdir('/d');
      const f = await open.open('/d/f.txt', { create: true, write: true });
      assert.equal((await ops.stat('/d/f.txt')).size, 0); // ...and found once made
      await f.write(0, Buffer.from('first'));
      await f.commit(); // its path found (and kept) by inode
      await ops.rename('/d', '/e'); // the folder moves: the kept path is stale
      await f.write(0, Buffer.from('again'));
      await f.commit();
      assert.equal(await ops.readText('/e/f.txt'), 'again');
      await assert.rejects(ops.stat('/d/f.txt'), { code: 'ENOENT' });
      await ops.mkdir('/d'); // the old name comes back as a new folder
      await ops.writeFile('/d/f.txt', 'new file');
      await ops.rename('/e/f.txt', '/d/g.txt'); // the open file moves into it
      await f.write(5, Buffer.from('!'));
      await f.commit();
      await open.close(f);
      await ops.rm('/e', { recursive: true });
      await assert.rejects(ops.readdir('/e'), { code: 'ENOENT' });
      await ops.mkdir('/e');
      assert.deepEqual(await ops.readdir('/e'), []);
      await runner.flush();
      assert.equal(await v.readText('/d/g.txt'), 'again!');
      assert.equal(await v.readText('/d/f.txt'), 'new file');
      assert.deepEqual((await v.readdir('/d')).map((e) => e.name), ['f.txt', 'g.txt']);
      assert.deepEqual((await v.check()).problems, []);
      // The file kept its history through both moves: each commit a version, as written.
      const versions = (await v.history('/d/g.txt')).flatMap((h) => ('version' in h ? [h.version] : []));
      const texts = await Promise.all(versions.map(async (n) => (await v.readVersion('/d/g.txt', n)).data.toString()));
      assert.deepEqual(texts, ['again!', 'again', 'first', '']);
    });

    test('full-text indexing left to the next search: found, and vault check holds before it', async () => {
      const v = await vaults.fresh();
      await v.writeFile('/before.txt', 'an early zebra');
      assert.equal((await v.search('zebra')).hits.length, 1); // the indexes exist now
      const { runner, ops } = batched(v);
      await ops.writeFile('/late.txt', 'a late zebra');
      await ops.writeFile('/before.txt', 'no stripes now');
      await runner.flush();
      assert.deepEqual((await v.check()).problems, []);
      const hits = (await v.search('zebra')).hits.map((h) => h.path);
      assert.deepEqual(hits, ['/late.txt']);
      await ops.rm('/late.txt');
      await runner.flush();
      assert.deepEqual((await v.search('zebra')).hits, []);
      const st = await v.searchStatus();
      assert.equal(st.queued, 0);
      assert.deepEqual((await v.check()).problems, []);
    });
  });
}
