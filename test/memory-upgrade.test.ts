// A vault made before agent memory existed (no memory tables / databases in the store) opens,
// keeps its files, and gains working memory collections on every persistent engine. And a fork
// carries agent memory along (as it is now: memory has no point-in-time history), with kv and
// state versions that keep growing even though the fork's operation numbers restart lower.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { open as openLmdb } from 'lmdb';
import type Database from 'better-sqlite3';
import { createVault, forkVault, openVault } from '../src/index.js';
import { STORE_NAME } from './helpers/vaults.js';

const MEMORY_COLLECTIONS = ['memories', 'memory_tags', 'memory_terms', 'memory_postings', 'kv', 'kv_expiry', 'sessions', 'session_intents', 'streams', 'stream_heads', 'agent_state'];

/** Remove the memory collections from a store, as a vault of the previous format has none. */
async function makeOld(kind: 'sqlite' | 'lmdb', path: string): Promise<void> {
  if (kind === 'sqlite') {
    const Driver = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
    const db = new Driver(path);
    for (const c of MEMORY_COLLECTIONS) db.exec(`DROP TABLE "${c}"`);
    const left = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).pluck().all() as string[];
    db.close();
    assert.ok(!left.some((t) => MEMORY_COLLECTIONS.includes(t)));
    return;
  }
  const root = openLmdb<Buffer, Buffer>({ path, noSubdir: false, maxDbs: 32, overlappingSync: false, keyEncoding: 'binary', encoding: 'binary' });
  // dropSync(): mdb_drop(del=1), the named database itself goes.
  for (const c of MEMORY_COLLECTIONS) root.openDB<Buffer, Buffer>(c, { keyEncoding: 'binary', encoding: 'binary' }).dropSync();
  const names = [...root.getKeys()].map((k) => Buffer.from(k as Buffer).toString('latin1').replace(/\0$/, ''));
  await root.close();
  assert.ok(!names.some((n) => MEMORY_COLLECTIONS.includes(n)), `left: ${names.join(', ')}`);
}

for (const kind of ['sqlite', 'lmdb'] as const) {
  describe(`a ${kind} vault made before agent memory`, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-memup-${kind}-`));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('opens, keeps its files, and gets working memory', async () => {
      const path = join(dir, STORE_NAME[kind]);
      const home = join(dir, 'home');
      const v0 = await createVault(path, { backend: kind, home });
      await v0.writeFile('/keep.txt', 'old content');
      await v0.close();
      await makeOld(kind, path);

      const v = await openVault(path, { home });
      try {
        assert.equal(await v.readText('/keep.txt'), 'old content');
        assert.equal((await v.memoryAdd('first memory in an old vault')).id, 1);
        assert.deepEqual((await v.memorySearch('old vault')).map((h) => h.id), [1]);
        await v.kvSet('k', 'v');
        await v.sessionStart();
        await v.streamAppend('s', 'x');
        await v.stateSet({ ok: true });
        assert.deepEqual((await v.stateGet())?.value, { ok: true });
        assert.deepEqual((await v.check()).problems, []);
      } finally {
        await v.close();
      }
    });

    it('a fork from an earlier point carries memory, and versions keep growing', async () => {
      const home = join(dir, 'home');
      const src = await createVault(join(dir, `src-${STORE_NAME[kind]}`), { backend: kind, home });
      try {
        await src.writeFile('/a', 'a');
        await src.saveSnapshot('early');
        for (let i = 0; i < 5; i++) await src.kvSet('k', `v${i}`);
        await src.stateSet({ n: 1 });
        await src.memoryAdd('carried along');
        const kOld = (await src.kvGet('k')).version;
        const sOld = (await src.stateGet())!.version;
        const r = await forkVault(src, join(dir, `fork-${STORE_NAME[kind]}`), { at: 'early', home });
        const f = await openVault(r.path, { home });
        try {
          assert.equal((await f.kvGet('k')).value.toString(), 'v4');
          assert.deepEqual((await f.memorySearch('carried')).map((h) => h.id), [1]);
          const k = await f.kvSet('k', 'in the fork', { ifVersion: kOld });
          assert.ok(k.version > kOld, `kv version ${k.version} > ${kOld}`);
          const st = await f.stateSet({ n: 2 });
          assert.ok(st.version > sOld);
          assert.deepEqual((await f.stateGet())?.value, { n: 2 }, 'the newest set is the current state');
        } finally {
          await f.close();
        }
      } finally {
        await src.close();
      }
    });
  });
}
