// Open files with buffered writes (src/api/open-files.ts), on every engine: random writes,
// truncations and commits checked against a plain Buffer model; what a commit stores for a
// small write into a big file; spilling past the memory bound; sharing between handles.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ENGINES, freshVaults, vaultFactory } from './helpers/vaults.js';
import { rng } from './helpers/rng.js';
import { scan } from '../src/storage/contract.js';
import type { Vault } from '../src/index.js';
import { SPILL_BYTES } from '../src/api/open-files.js';

const CHUNK = 64 * 1024;

/** Bytes the vault holds in chunks and manifests. */
async function contentBytes(v: Vault): Promise<number> {
  return v.engine.read(async (tx) => {
    let n = 0;
    for (const coll of ['chunks', 'manifests'] as const) for await (const e of scan(tx, coll)) n += e.value.length;
    return n;
  });
}

for (const kind of ENGINES) {
  describe(`open files (${kind})`, () => {
    const vaults = freshVaults(vaultFactory(kind), 'avfs-open');

    test('random writes, truncations and commits match a Buffer model', async () => {
      const v = await vaults.fresh();
      for (const seed of [1, 2, 3, 4]) {
        const r = rng(seed);
        const path = `/f${seed}`;
        let model = Buffer.alloc(0);
        const files = v.openFiles();
        const f = await files.open(path, { create: true, write: true });
        const versionsBefore = (await v.history(path)).length;
        let commits = 0;
        for (let step = 0; step < 60; step++) {
          const x = r();
          // Offsets near chunk boundaries, where the bookkeeping is.
          const at = Math.floor(r() * 5) * CHUNK + Math.floor((r() - 0.5) * 300) + (r() < 0.2 ? Math.floor(r() * CHUNK) : 0);
          const pos = Math.max(0, at);
          if (x < 0.55) {
            const len = Math.floor(r() * (r() < 0.3 ? 3 * CHUNK : 200)) + 1;
            const data = Buffer.alloc(len, Math.floor(r() * 255) + 1);
            await f.write(pos, data);
            if (model.length < pos + len) model = Buffer.concat([model, Buffer.alloc(pos + len - model.length)]);
            data.copy(model, pos);
          } else if (x < 0.75) {
            await f.truncate(pos);
            model = pos <= model.length ? Buffer.from(model.subarray(0, pos)) : Buffer.concat([model, Buffer.alloc(pos - model.length)]);
          } else if (x < 0.9) {
            const len = Math.floor(r() * 2 * CHUNK) + 1;
            const got = await f.read(pos, len);
            assert.deepEqual(got, model.subarray(Math.min(pos, model.length), Math.min(pos + len, model.length)), `seed ${seed} step ${step}: read ${pos}+${len}`);
          } else {
            await f.commit();
            commits++;
            const stored = await v.readFile(path);
            assert.equal(stored.length, model.length, `seed ${seed} step ${step}: size after commit`);
            assert.ok(stored.equals(model), `seed ${seed} step ${step}: content after commit`);
          }
          assert.equal(f.size, model.length);
        }
        await files.close(f);
        assert.ok((await v.readFile(path)).equals(model), `seed ${seed}: content after close`);
        assert.ok((await v.history(path)).length <= versionsBefore + commits + 1, 'at most one version per commit');
      }
      assert.deepEqual((await v.check()).problems, []);
    });

    test('a commit is one version, named in the audit log; nothing held makes none', async () => {
      const v = await vaults.fresh();
      const files = v.openFiles();
      const f = await files.open('/a.txt', { create: true, write: true, mode: 0o600 });
      for (let i = 0; i < 100; i++) await f.write(i * 10, Buffer.from('0123456789'));
      await files.close(f);
      const st = await v.stat('/a.txt');
      assert.equal(st.size, 1000);
      assert.equal(st.mode, 0o600);
      assert.equal(st.version, 2, 'created empty (version 1), then one version for 100 writes');
      const writes = (await v.audit({})).filter((r) => r.op === 'write' && r.paths[0] === '/a.txt');
      assert.equal(writes.length, 2);
      const g = await files.open('/a.txt', { write: true });
      await files.close(g);
      assert.equal((await v.stat('/a.txt')).version, 2, 'open and close without a write changes nothing');
    });

    test('handles of one file share it; the commit follows a rename', async () => {
      const v = await vaults.fresh();
      const files = v.openFiles();
      const a = await files.open('/x', { create: true, write: true });
      const b = await files.open('/x', { write: true });
      assert.equal(a, b);
      await a.write(0, Buffer.from('hello'));
      assert.equal((await b.read(0, 10)).toString(), 'hello');
      await v.rename('/x', '/y');
      await files.close(a);
      assert.equal((await v.readText('/y')), 'hello');
      await b.write(5, Buffer.from(' world'));
      await files.close(b);
      assert.equal(await v.readText('/y'), 'hello world');
      assert.equal(files.all().length, 0);
    });

    test('a file with nothing held follows writes made elsewhere', async () => {
      const v = await vaults.fresh();
      await v.writeFile('/n', 'one');
      const files = v.openFiles();
      const f = await files.open('/n', {});
      assert.equal((await f.read(0, 100)).toString(), 'one');
      await v.writeFile('/n', 'two, longer');
      assert.equal((await f.read(0, 100)).toString(), 'two, longer');
      await files.close(f);
    });

    test('exclusive create, missing file, folder, truncate on open', async () => {
      const v = await vaults.fresh();
      await v.writeFile('/e', 'content');
      await v.mkdir('/d');
      const files = v.openFiles();
      await assert.rejects(files.open('/e', { create: true, exclusive: true, write: true }), { code: 'EEXIST' });
      await assert.rejects(files.open('/missing', {}), { code: 'ENOENT' });
      await assert.rejects(files.open('/d', {}), { code: 'EISDIR' });
      const f = await files.open('/e', { write: true, truncate: true });
      assert.equal(f.size, 0);
      await files.close(f);
      assert.equal((await v.stat('/e')).size, 0);
    });

    test('a 64 KiB write into a 1 GiB file stores well under 1 MiB', async () => {
      const v = await vaults.fresh();
      const files = v.openFiles();
      const f = await files.open('/big', { create: true, write: true });
      await f.truncate(1024 * 1024 * 1024);
      await files.close(f);
      const before = await contentBytes(v);
      const g = await files.open('/big', { write: true });
      const data = Buffer.alloc(CHUNK, 7);
      const off = 400 * 1024 * 1024 + 12345;
      await g.write(off, data);
      await files.close(g);
      const grew = (await contentBytes(v)) - before;
      assert.ok(grew < 1024 * 1024, `stored ${grew} bytes`);
      assert.ok((await v.readFile('/big', { start: off - 1, end: off + CHUNK + 1 })).equals(Buffer.concat([Buffer.alloc(1), data, Buffer.alloc(1)])));
      assert.equal((await v.stat('/big')).size, 1024 * 1024 * 1024);
    });

    test('writing more than the memory bound spills chunks and commits them all', async () => {
      const v = await vaults.fresh();
      const files = v.openFiles();
      const f = await files.open('/s', { create: true, write: true });
      const total = SPILL_BYTES + 5 * CHUNK + 333;
      const h = createHash('sha256');
      const r = rng(9);
      for (let off = 0; off < total; ) {
        const n = Math.min(total - off, 128 * 1024);
        const piece = Buffer.alloc(n);
        for (let i = 0; i < n; i += 4096) piece[i] = Math.floor(r() * 256);
        h.update(piece);
        await f.write(off, piece);
        off += n;
      }
      await files.close(f);
      const got = createHash('sha256').update(await v.readFile('/s')).digest('hex');
      assert.equal(got, h.digest('hex'));
      assert.deepEqual((await v.check()).problems, []);
    });
  });
}
