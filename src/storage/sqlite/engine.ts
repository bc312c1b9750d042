// The SQLite engine: one file (NAME.avfs), one table per collection, on better-sqlite3.
//
// better-sqlite3 is synchronous and a connection holds one transaction at a time, so every
// transaction, read or write, takes the in-process lock; across processes SQLite's file locks
// serialise writers (BEGIN IMMEDIATE) and WAL lets readers run beside them. SQLITE_BUSY never
// reaches the caller: SQLite's busy_timeout waits inside each try, and BEGIN/COMMIT (and any
// statement inside a transaction) are retried with backoff on top of it, for up to
// busy_timeout_ms in all (see whileBusy).
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { VfsError, vfsError, isVfsError } from '../../errors.js';
import type { Collection, CompactStats, Engine, EngineStats, OpenOptions, ReadTx, WriteTx } from '../contract.js';
import { COLLECTION_NAMES } from '../contract.js';
import { oneLine } from '../messages.js';
import { LockRegistry, Mutex } from '../mutex.js';
import { BUSY_SLICE_MS, fromSqlite, whileBusy } from './errors.js';
import { createSchema, inspect, judge, needsSchema, preflight } from './schema.js';
import { FTS_TABLE, FtsStatements } from './fulltext.js';
import { readSqliteSettings, type SqliteSettings } from './settings.js';
import { CollectionStatements, ControlStatements } from './statements.js';
import { SqliteReadTx, SqliteWriteTx, type Session } from './tx.js';
import { fsyncPath } from '../fsync.js';

const locks = new LockRegistry(() => new Mutex());
const SYNCHRONOUS_NAMES = ['off', 'normal', 'full', 'extra'];
/** After a burst of writes the WAL file is cut back to this at the next checkpoint. */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return 0;
  }
}

class SqliteEngine implements Engine, Session {
  readonly kind = 'sqlite' as const;
  readonly supports = { persistent: true, multiProcess: true, fullText: true, cheapCopy: false };
  private closed = false;
  private ctl: ControlStatements;
  private colls = new Map<Collection, CollectionStatements>();
  private ftsStatements: FtsStatements | undefined;

  constructor(
    readonly db: Database.Database,
    readonly path: string,
    readonly busyTimeoutMs: number,
    private readOnly: boolean,
    private tables: Set<string>,
    private lockKey: string,
    private lock: Mutex,
  ) {
    this.ctl = new ControlStatements(db);
  }

  statements(coll: Collection): CollectionStatements | undefined {
    let st = this.colls.get(coll);
    if (!st) {
      if (!COLLECTION_NAMES.includes(coll)) throw new RangeError(`unknown collection "${coll}"`);
      if (!this.tables.has(coll)) return undefined;
      st = new CollectionStatements(this.db, coll);
      this.colls.set(coll, st);
    }
    return st;
  }

  fts(): FtsStatements | undefined {
    if (!this.ftsStatements && this.tables.has(FTS_TABLE)) this.ftsStatements = new FtsStatements(this.db);
    return this.ftsStatements;
  }

  private live(): void {
    if (this.closed) throw vfsError('EIO', this.path, 'store is closed');
  }

  private busy<T>(fn: () => T): Promise<T> {
    return whileBusy(fn, this.busyTimeoutMs, this.path);
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.live();
    return this.lock.run(async () => {
      this.live();
      try {
        return await fn();
      } catch (e) {
        throw fromSqlite(e, this.path);
      }
    });
  }

  private rollbackQuietly(): void {
    try {
      if (this.db.inTransaction) this.ctl.rollback.run();
    } catch {
      // The transaction is gone either way; the caller gets the error that caused this.
    }
  }

  async read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      // Deferred: no lock until the first read, which fixes the snapshot for the whole tx.
      await this.busy(() => this.ctl.begin.run());
      const tx = new SqliteReadTx(this);
      try {
        return await fn(tx);
      } finally {
        tx.finished = true;
        this.rollbackQuietly();
      }
    });
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    if (this.readOnly) throw vfsError('EROFS', this.path);
    return this.exclusive(async () => {
      // IMMEDIATE takes the write lock now: a deferred tx that read first and then wrote could
      // fail with SQLITE_BUSY_SNAPSHOT, which no retry of the statement can fix.
      await this.busy(() => this.ctl.beginImmediate.run());
      const tx = new SqliteWriteTx(this);
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        tx.finished = true;
        this.rollbackQuietly();
        throw e;
      }
      tx.finished = true;
      try {
        // A COMMIT that meets SQLITE_BUSY leaves the transaction open, so it can be retried.
        await this.busy(() => this.ctl.commit.run());
      } catch (e) {
        this.rollbackQuietly();
        throw e;
      }
      return result;
    });
  }

  private diskBytes(): { file: number; wal: number } {
    return { file: fileSize(this.path), wal: fileSize(this.path + '-wal') };
  }

  async sync(): Promise<void> {
    await this.exclusive(async () => {
      fsyncPath(this.path + '-wal');
      fsyncPath(this.path);
    });
  }

  async compact(): Promise<CompactStats> {
    if (this.readOnly) throw vfsError('EROFS', this.path);
    return this.exclusive(async () => {
      const before = this.diskBytes();
      await this.busy(() => this.db.pragma('wal_checkpoint(TRUNCATE)'));
      await this.busy(() => this.db.exec('VACUUM'));
      // VACUUM wrote the new copy into the WAL; move it into the file and empty the WAL.
      await this.busy(() => this.db.pragma('wal_checkpoint(TRUNCATE)'));
      const after = this.diskBytes();
      return { bytesBefore: before.file + before.wal, bytesAfter: after.file + after.wal };
    });
  }

  async stats(): Promise<EngineStats> {
    return this.exclusive(async () => {
      const entries: Partial<Record<Collection, number>> = {};
      await this.busy(() => this.ctl.begin.run());
      try {
        for (const c of COLLECTION_NAMES) {
          if (this.tables.has(c)) entries[c] = this.db.prepare(`SELECT count(*) FROM "${c}"`).pluck().get() as number;
        }
      } finally {
        this.rollbackQuietly();
      }
      const p = (name: string) => this.db.pragma(name, { simple: true }) as number | string;
      const disk = this.diskBytes();
      return {
        engine: 'sqlite',
        bytesOnDisk: disk.file + disk.wal,
        entries,
        details: {
          sqlite_version: this.db.prepare('SELECT sqlite_version()').pluck().get() as string,
          file_bytes: disk.file,
          wal_bytes: disk.wal,
          page_size: p('page_size'),
          page_count: p('page_count'),
          freelist_count: p('freelist_count'),
          journal_mode: p('journal_mode'),
          synchronous: SYNCHRONOUS_NAMES[p('synchronous') as number] ?? String(p('synchronous')),
          cache_size: p('cache_size'),
          mmap_size: p('mmap_size'),
          busy_timeout_ms: this.busyTimeoutMs,
          read_only: this.readOnly,
        },
      };
    });
  }

  async check(): Promise<string[]> {
    return this.exclusive(async () => {
      try {
        const rows = (await this.busy(() => this.db.pragma('integrity_check'))) as { integrity_check: string }[];
        const found = rows.map((r) => r.integrity_check);
        return found.length === 1 && found[0] === 'ok' ? [] : found;
      } catch (e) {
        // A store too damaged to check is a finding, not a failure of check() itself.
        const err = fromSqlite(e, this.path);
        if (isVfsError(err, 'ECORRUPT') || isVfsError(err, 'ENOTVAULT')) return [oneLine(err.message)];
        throw err;
      }
    });
  }

  /**
   * VACUUM INTO: SQLite writes a fresh, compacted database from one read transaction of its
   * own (it refuses to run inside ours, "cannot VACUUM from within a transaction"), so the copy
   * is one committed state, WAL content included, and other processes keep writing meanwhile.
   * The in-process lock keeps this connection's other users out while it runs. The copy keeps
   * the application_id; it comes out in rollback-journal mode, and opening it switches it to
   * the configured journal mode as for any store.
   */
  async copyTo(path: string): Promise<void> {
    await this.exclusive(async () => {
      if (fs.existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
      if (!fs.existsSync(dirname(path))) throw vfsError('ENOENT', dirname(path));
      const removeCopy = () => {
        for (const extra of ['', '-journal', '-wal', '-shm']) fs.rmSync(path + extra, { force: true });
      };
      try {
        // A try that met BUSY may have left a partial file, and VACUUM INTO wants none.
        await this.busy(() => {
          removeCopy();
          this.db.prepare('VACUUM INTO ?').run(path);
        });
        fsyncPath(path);
        fsyncPath(dirname(path));
      } catch (e) {
        removeCopy();
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.lock.run(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        // PASSIVE: move what it can into the file without waiting on other processes' readers.
        if (!this.readOnly) this.db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // Closing must not fail because another process is busy; the WAL stays valid.
      }
      this.db.close();
      locks.release(this.lockKey);
    });
  }
}

/**
 * better-sqlite3 is CommonJS. Loaded with require() it costs about 5 ms; through an ESM import
 * Node first scans its source for exports, which tripled that, and `avfs cat` start-up time
 * is a measured target. The native addon is named directly (nativeBinding) when it is where
 * npm builds it, which spares the `bindings` package its search.
 */
let driver: { Database: typeof Database; addon?: string } | undefined;
function loadDriver(): { Database: typeof Database; addon?: string } {
  if (!driver) {
    const require = createRequire(import.meta.url);
    const addon = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
    driver = { Database: require('better-sqlite3') as typeof Database, ...(fs.existsSync(addon) ? { addon } : {}) };
  }
  return driver;
}

async function configure(db: Database.Database, s: SqliteSettings, path: string, readOnly: boolean): Promise<void> {
  db.pragma(`cache_size = ${s.cacheSize}`);
  db.pragma(`mmap_size = ${s.mmapSize}`);
  if (readOnly) return;
  const current = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
  if (current !== s.journalMode) {
    try {
      // Switching needs the file to ourselves; if others have it open in another mode, theirs stands.
      await whileBusy(() => db.pragma(`journal_mode = ${s.journalMode}`), Math.min(s.busyTimeoutMs, 5000), path);
    } catch (e) {
      if (!isVfsError(e, 'EBUSY')) throw e;
    }
  }
  db.pragma(`synchronous = ${s.synchronous}`);
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
}

export async function openSqlite(opts: OpenOptions): Promise<Engine> {
  const settings = readSqliteSettings(opts);
  const path = opts.path;
  const readOnly = opts.readOnly === true;
  const creating = opts.create && !readOnly;
  const state = preflight(path);
  if (state === 'missing' && !creating) throw vfsError('ENOVAULT', path);
  if (state === 'missing' && !fs.existsSync(dirname(path))) throw vfsError('ENOENT', dirname(path));
  if (state === 'empty' && !creating) throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (empty file)');

  const Driver = loadDriver();
  let db: Database.Database;
  try {
    db = new Driver.Database(path, {
      ...(Driver.addon ? { nativeBinding: Driver.addon } : {}),
      readonly: readOnly,
      fileMustExist: !creating,
      timeout: Math.min(settings.busyTimeoutMs, BUSY_SLICE_MS),
    });
  } catch (e) {
    const err = fromSqlite(e, path);
    throw err instanceof VfsError ? err : vfsError('EIO', path, `cannot open the store (${oneLine(String((e as Error).message ?? e))})`, e);
  }
  try {
    const shape = await whileBusy(() => inspect(db), settings.busyTimeoutMs, path);
    if (judge(shape, path) === 'blank' && !creating) {
      throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (an empty SQLite database)');
    }
    await configure(db, settings, path, readOnly);
    let tables = shape.tables;
    if (!readOnly && needsSchema(shape)) {
      // Re-run whole on BUSY: better-sqlite3 rolls the transaction back, and createSchema
      // looks again at what exists, since another process may have created it meanwhile.
      await whileBusy(() => db.transaction(() => createSchema(db, path)).immediate(), settings.busyTimeoutMs, path);
      tables = inspect(db).tables;
    }
    const lockKey = fs.realpathSync(path);
    return new SqliteEngine(db, path, settings.busyTimeoutMs, readOnly, tables, lockKey, locks.acquire(lockKey));
  } catch (e) {
    db.close();
    throw fromSqlite(e, path);
  }
}
