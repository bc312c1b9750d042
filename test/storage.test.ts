// The storage conformance suite on every engine, plus the few engine-specific behaviours
// (settings) that the shared suite cannot express.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isVfsError } from '../src/errors.js';
import { storageSuite, storePath } from '../src/storage/conformance/suite.js';
import { openEngine } from '../src/storage/engines.js';
import type { EngineKind } from '../src/storage/contract.js';
import { ROCKS_SKIP } from './helpers/vaults.js';
import { pgTest } from './helpers/pg-cluster.js';

function factory(kind: EngineKind, persistent: boolean, multiProcess: boolean, settings?: Record<string, unknown>) {
  return {
    kind,
    persistent,
    multiProcess,
    open: (dir: string, create: boolean) => openEngine(kind, { path: storePath(dir, kind), create, settings }),
  };
}

storageSuite('memory', factory('memory', false, false));
storageSuite('sqlite', factory('sqlite', true, true));
// A 1 MiB initial map, so the 2 MiB values and the multi-process writes must grow it.
storageSuite('lmdb', factory('lmdb', true, true, { map_size: '1MiB' }));
// A small checkpoint threshold, so the suite's writes cross several generations.
storageSuite('log', factory('log', true, true, { checkpoint_bytes: '64KiB' }));
// The binding is optional: without it the rocksdb suites are skipped, saying why.
if (ROCKS_SKIP) describe('rocksdb', () => it('storage conformance', { skip: ROCKS_SKIP }, () => {}));
else storageSuite('rocksdb', factory('rocksdb', true, true));
// On the test cluster (test/helpers/pg-cluster.ts): skipped, with the reason, when none can run.
{
  const pg = pgTest();
  if (pg.url) storageSuite('postgres', factory('postgres', true, true));
  else describe('storage conformance: postgres', () => it('runs on a PostgreSQL server', (t) => t.skip(pg.reason)));
}

describe('engine settings', () => {
  const withDir = async (fn: (dir: string) => Promise<void>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avfs-settings-'));
    try {
      await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const refused = (code: string) => (e: unknown) => isVfsError(e) && e.code === code;

  for (const kind of ['sqlite', 'lmdb', 'log', ...(ROCKS_SKIP ? [] : (['rocksdb'] as const))] as const) {
    it(`${kind}: refuses unknown and malformed settings`, () =>
      withDir(async (dir) => {
        const open = (settings: Record<string, unknown>) => openEngine(kind, { path: storePath(dir, kind), create: true, settings });
        await assert.rejects(open({ no_such_setting: 1 }), refused('EINVAL'));
        await assert.rejects(open(kind === 'sqlite' ? { synchronous: 'sometimes' } : { no_sync: 'maybe' }), refused('EINVAL'));
        await assert.rejects(open(kind === 'sqlite' ? { mmap_size: 'lots' } : kind === 'lmdb' ? { map_size: 'lots' } : kind === 'rocksdb' ? { lock_timeout_ms: 'lots' } : { checkpoint_bytes: 'lots' }), refused('EINVAL'));
      }));

    it(`${kind}: opens read-only, reads, and refuses writes with EROFS`, () =>
      withDir(async (dir) => {
        const p = storePath(dir, kind);
        const rw = await openEngine(kind, { path: p, create: true });
        await rw.write((tx) => tx.put('meta', Buffer.from('k'), Buffer.from('v')));
        await rw.close();
        const ro = await openEngine(kind, { path: p, create: false, readOnly: true });
        try {
          assert.equal((await ro.read((tx) => tx.get('meta', Buffer.from('k'))))?.toString(), 'v');
          await assert.rejects(ro.write((tx) => tx.put('meta', Buffer.from('k'), Buffer.from('w'))), refused('EROFS'));
        } finally {
          await ro.close();
        }
      }));
  }

  it('sqlite: defaults to WAL with synchronous=full, and honours settings', () =>
    withDir(async (dir) => {
      const e = await openEngine('sqlite', { path: storePath(dir, 'sqlite'), create: true });
      const d = (await e.stats()).details;
      assert.equal(d.journal_mode, 'wal');
      assert.equal(d.synchronous, 'full');
      await e.close();
      const e2 = await openEngine('sqlite', {
        path: storePath(dir, 'sqlite'),
        create: false,
        settings: { synchronous: 'normal', cache_size: -4096, mmap_size: '16MiB', busy_timeout_ms: 1000 },
      });
      const d2 = (await e2.stats()).details;
      assert.equal(d2.synchronous, 'normal');
      assert.equal(d2.cache_size, -4096);
      assert.equal(d2.mmap_size, 16 * 1024 * 1024);
      assert.equal(d2.busy_timeout_ms, 1000);
      await e2.close();
    }));

  it('sqlite: refuses a SQLite database of another application', () =>
    withDir(async (dir) => {
      const Database = (await import('better-sqlite3')).default;
      const p = storePath(dir, 'sqlite');
      const db = new Database(p);
      db.exec('CREATE TABLE people (name TEXT)');
      db.close();
      await assert.rejects(openEngine('sqlite', { path: p, create: true }), refused('ENOTVAULT'));
    }));

  // Another process holds SQLite's write lock (BEGIN IMMEDIATE) for `holdMs`, through
  // better-sqlite3 directly, so the engine under test meets a lock it cannot see coming.
  const holdLock = async (dbPath: string, holdMs: number) => {
    const sqliteUrl = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
    const script = path.join(path.dirname(dbPath), 'hold.mjs');
    fs.writeFileSync(
      script,
      `const Database = (await import(${JSON.stringify(sqliteUrl)})).default;
const db = new Database(process.argv[2]);
db.exec('BEGIN IMMEDIATE');
db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)').run(Buffer.from('held'), Buffer.from('x'));
console.log('locked');
setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[3]));
`,
    );
    const child = spawn(process.execPath, [script, dbPath, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    await new Promise<void>((resolve, reject) => {
      let locked = false;
      child.stdout.on('data', (d) => String(d).includes('locked') && ((locked = true), resolve()));
      child.on('close', () => locked || reject(new Error('lock holder exited before locking')));
    });
    return { exited };
  };

  it('sqlite: waits for another process holding the write lock, without freezing the event loop', () =>
    withDir(async (dir) => {
      const p = storePath(dir, 'sqlite');
      await (await openEngine('sqlite', { path: p, create: true })).close();
      const e = await openEngine('sqlite', { path: p, create: false, settings: { busy_timeout_ms: 10_000 } });
      try {
        const { exited } = await holdLock(p, 1500);
        const t0 = Date.now();
        let ticks = 0;
        const timer = setInterval(() => ticks++, 50);
        await e.write((tx) => tx.put('meta', Buffer.from('mine'), Buffer.from('y')));
        clearInterval(timer);
        assert.ok(Date.now() - t0 >= 1000, 'the write waited for the lock');
        assert.ok(ticks >= 3, `timers ran while waiting (${ticks} ticks)`);
        assert.equal(await exited, 0);
        assert.equal((await e.read((tx) => tx.get('meta', Buffer.from('held'))))?.toString(), 'x');
      } finally {
        await e.close();
      }
    }));

  it('sqlite: gives up on a lock held for too long with EBUSY, not a SqliteError', () =>
    withDir(async (dir) => {
      const p = storePath(dir, 'sqlite');
      await (await openEngine('sqlite', { path: p, create: true })).close();
      const e = await openEngine('sqlite', { path: p, create: false, settings: { busy_timeout_ms: 300 } });
      try {
        const { exited } = await holdLock(p, 2500);
        await assert.rejects(
          e.write((tx) => tx.put('meta', Buffer.from('mine'), Buffer.from('y'))),
          (err) => refused('EBUSY')(err) && !(err as Error).message.includes('\n'),
        );
        assert.equal(await exited, 0);
        await e.write((tx) => tx.put('meta', Buffer.from('mine'), Buffer.from('y')));
      } finally {
        await e.close();
      }
    }));
});
