// The LMDB engine: a folder (NAME.lmdb/) holding one LMDB environment, one named database per
// collection, binary keys and values, on lmdb-js.
//
// Writes: a write transaction is lmdb-js's transactionSync with an async callback. It begins an
// LMDB write transaction on this thread, which holds LMDB's writer lock (a robust, process-shared
// mutex in lock.mdb: writers in every process are serialised, and a writer killed mid-transaction
// releases it) until the callback's promise settles, then commits, or aborts if it rejected.
// Several handles on one path in this process share one Mutex, since the writer lock is held
// across awaits and a second begin on the same thread would block it for good.
//
// Durability: the environment is opened with overlappingSync off and every transaction commits
// with lmdb-js's default flags (abortable, synchronous commit, flushed): mdb_txn_commit fdatasyncs
// the data pages and writes the meta page through the O_DSYNC descriptor before it returns. So
// a write that returned survives SIGKILL of the process and power loss of the machine. We do
// not use overlappingSync, lmdb-js's default elsewhere: its extra, half-page meta slots are only
// read by processes that open with the same flag, so all openers must agree, and a user setting
// (no_sync) must not change the file layout. no_sync=true adds MDB_NOSYNC per transaction
// instead, which processes may mix freely.
//
// Reads: an explicit read transaction (useReadTransaction), a snapshot kept across awaits, and
// no lock: LMDB readers never wait for writers.
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { open, type RootDatabase, type TransactionFlags } from 'lmdb';
import { vfsError } from '../../errors.js';
import type { Collection, CompactStats, Engine, EngineStats, OpenOptions, ReadTx, WriteTx } from '../contract.js';
import { COLLECTION_NAMES } from '../contract.js';
import { oneLine } from '../messages.js';
import { LockRegistry, Mutex } from '../mutex.js';
import { fromLmdb } from './errors.js';
import { DATA_FILE, LOCK_FILE, checkAccess, checkDataFile, dbName, inspectFolder } from './header.js';
import { readLmdbSettings, type LmdbSettings } from './settings.js';
import { LmdbReadTx, LmdbWriteTx, type LmdbSession, type Store } from './tx.js';
import { walkInChild } from './walk.js';
import { fsyncPath } from '../fsync.js';

const locks = new LockRegistry(() => new Mutex());
const DB_OPTIONS = { keyEncoding: 'binary', encoding: 'binary' } as const;
/** Headroom over today's collections: maxDbs is fixed per open and cheap. */
const MAX_DBS = 128;
// lmdb-js TransactionFlags: ABORTABLE | SYNCHRONOUS_COMMIT, plus NO_SYNC_FLUSH (MDB_NOSYNC).
const TXN_DURABLE = 0x3 as TransactionFlags;
const TXN_NO_SYNC = 0x10003 as TransactionFlags;

type Root = RootDatabase<Buffer, Buffer>;

interface LmdbStats {
  entryCount?: number;
  pageSize?: number;
  mapSize?: number;
  lastPageNumber?: number;
  lastTxnId?: number;
  maxReaders?: number;
  numReaders?: number;
  treeDepth?: number;
}

function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return 0;
  }
}

class LmdbEngine implements Engine, LmdbSession {
  readonly kind = 'lmdb' as const;
  readonly supports = { persistent: true, multiProcess: true, fullText: false, cheapCopy: false };
  writing = false;
  private closed = false;
  private reads = 0;
  private readsDone?: () => void;

  constructor(
    readonly path: string,
    private root: Root,
    private stores: Map<Collection, Store>,
    private lockKey: string,
    private lock: Mutex,
    private settings: LmdbSettings,
    private readOnly: boolean,
  ) {}

  store(coll: Collection): Store | undefined {
    const s = this.stores.get(coll);
    if (!s && !COLLECTION_NAMES.includes(coll)) throw new RangeError(`unknown collection "${coll}"`);
    return s;
  }

  private live(): void {
    if (this.closed) throw vfsError('EIO', this.path, 'store is closed');
  }

  async read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    this.live();
    let txn;
    try {
      txn = this.root.useReadTransaction();
    } catch (e) {
      throw fromLmdb(e, this.path);
    }
    this.reads++;
    const tx = new LmdbReadTx(this, txn);
    try {
      return await fn(tx);
    } finally {
      tx.finished = true;
      txn.done();
      if (--this.reads === 0) this.readsDone?.();
    }
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    this.live();
    if (this.readOnly) throw vfsError('EROFS', this.path);
    return this.lock.run(async () => {
      this.live();
      const tx = new LmdbWriteTx(this);
      let failed: { error: unknown } | undefined;
      const body = async () => {
        try {
          return await fn(tx);
        } catch (error) {
          failed = { error };
          throw error;
        } finally {
          tx.finished = true;
        }
      };
      this.writing = true;
      try {
        // A rejected body makes lmdb-js abort the transaction instead of committing it.
        return await this.root.transactionSync(body, this.settings.noSync ? TXN_NO_SYNC : TXN_DURABLE);
      } catch (e) {
        // The caller's own error passes through as it was; LMDB's (begin, commit) is translated.
        if (failed && e === failed.error) throw e;
        throw fromLmdb(e, this.path);
      } finally {
        tx.finished = true;
        this.writing = false;
      }
    });
  }

  async sync(): Promise<void> {
    this.live();
    if (this.readOnly) return;
    // mdb_env_sync(force): flushes commits made with no_sync. Not in lmdb-js's typings.
    const root = this.root as unknown as { sync(cb: (err?: Error) => void): void };
    await new Promise<void>((resolve, reject) => root.sync((err) => (err ? reject(fromLmdb(err, this.path)) : resolve())));
  }

  /**
   * Not done, on purpose. lmdb-js can write a compacted copy (backup(path, true)), but putting it
   * in place of data.mdb is only safe when no other process has the environment mapped: they
   * would go on writing to the old, unlinked file. Telling that needs the fcntl lock LMDB holds on
   * lock.mdb, which Node cannot test. LMDB reuses freed pages, so the file stops growing at its
   * high-water mark; to shrink it, copy the vault with every process closed.
   */
  async compact(): Promise<CompactStats> {
    this.live();
    const bytes = this.diskBytes();
    return { bytesBefore: bytes, bytesAfter: bytes };
  }

  private diskBytes(): number {
    return fileSize(join(this.path, DATA_FILE)) + fileSize(join(this.path, LOCK_FILE));
  }

  async stats(): Promise<EngineStats> {
    this.live();
    try {
      const entries: Partial<Record<Collection, number>> = {};
      for (const [c, s] of this.stores) entries[c] = (s.getStats() as LmdbStats).entryCount ?? 0;
      const env = this.root.getStats() as LmdbStats;
      return {
        engine: 'lmdb',
        bytesOnDisk: this.diskBytes(),
        entries,
        details: {
          data_bytes: fileSize(join(this.path, DATA_FILE)),
          page_size: env.pageSize ?? 0,
          map_size: env.mapSize ?? 0,
          last_page: env.lastPageNumber ?? 0,
          last_txn: env.lastTxnId ?? 0,
          max_readers: env.maxReaders ?? 0,
          readers: env.numReaders ?? 0,
          no_sync: this.settings.noSync,
          read_only: this.readOnly,
        },
      };
    } catch (e) {
      throw fromLmdb(e, this.path);
    }
  }

  async check(): Promise<string[]> {
    this.live();
    try {
      checkDataFile(this.path, COLLECTION_NAMES);
    } catch (e) {
      return [oneLine((e as Error).message)];
    }
    return walkInChild(this.path);
  }

  /**
   * lmdb-js's backup(path, compact=true): mdb_env_copy2 with MDB_CP_COMPACT, on a worker
   * thread, reading from one LMDB read transaction of its own (a compacting copy never takes
   * the writer lock), so writers in every process go on meanwhile. Free pages are left out
   * and pages renumbered: the copy is as small as the data. LMDB writes it to `path`/data.mdb;
   * the folder is made here, and removed again if the copy fails.
   */
  async copyTo(path: string): Promise<void> {
    this.live();
    if (fs.existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
    if (!fs.existsSync(dirname(path))) throw vfsError('ENOENT', dirname(path));
    fs.mkdirSync(path);
    // Counted as a read: close() waits for it, so the environment is not closed under the copy.
    this.reads++;
    try {
      await this.root.backup(path, true);
      fsyncPath(join(path, DATA_FILE));
      fsyncPath(path);
    } catch (e) {
      fs.rmSync(path, { recursive: true, force: true });
      throw fromLmdb(e, this.path);
    } finally {
      if (--this.reads === 0) this.readsDone?.();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.lock.run(async () => {
      if (this.closed) return;
      this.closed = true;
      // A read in flight still holds a snapshot and cursors; closing under it would free them.
      if (this.reads > 0) await new Promise<void>((r) => (this.readsDone = r));
      try {
        await this.root.close();
      } finally {
        locks.release(this.lockKey);
      }
    });
  }
}

/** Names of the named databases in the environment (they are the keys of its main database). */
function namedDatabases(root: Root): string[] {
  return [...root.getKeys()].map((k) => dbName(k as Buffer));
}

export async function openLmdb(opts: OpenOptions): Promise<Engine> {
  const settings = readLmdbSettings(opts);
  const path = opts.path;
  const readOnly = opts.readOnly === true;
  const creating = opts.create && !readOnly;
  const state = inspectFolder(path);
  if (state === 'missing') {
    if (!creating) throw vfsError('ENOVAULT', path);
    if (!fs.existsSync(dirname(path))) throw vfsError('ENOENT', dirname(path));
    fs.mkdirSync(path, { recursive: true }); // recursive: no EEXIST if another process beat us to it
  } else if (state === 'new' && !creating) {
    throw vfsError('ENOTVAULT', path, `not an agentvfs vault (the folder holds no ${DATA_FILE})`);
  }
  checkAccess(path, readOnly);
  if (state === 'existing') checkDataFile(path, COLLECTION_NAMES);

  let root: Root;
  try {
    root = open<Buffer, Buffer>({
      path,
      noSubdir: false, // the name ends in .lmdb, which lmdb-js would otherwise take for a file
      maxDbs: MAX_DBS,
      maxReaders: settings.maxReaders,
      mapSize: settings.mapSize,
      overlappingSync: false,
      readOnly,
      ...DB_OPTIONS,
    });
  } catch (e) {
    throw fromLmdb(e, path);
  }
  try {
    const names = namedDatabases(root);
    const ours = COLLECTION_NAMES.filter((c) => names.includes(c));
    if (names.length > 0 && ours.length === 0) {
      throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (an LMDB environment of another application)');
    }
    if (names.length === 0 && !creating) throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (an empty LMDB environment)');
    const stores = new Map<Collection, Store>();
    const openAll = () => {
      for (const c of COLLECTION_NAMES) {
        if (readOnly && !names.includes(c)) continue;
        stores.set(c, root.openDB<Buffer, Buffer>(c, DB_OPTIONS));
      }
    };
    // lmdb-js opens each database in a write transaction of its own; one for all is one wait
    // for the writer lock instead of eight, when another process is in the middle of a write.
    if (readOnly) openAll();
    else root.transactionSync(openAll, TXN_DURABLE);
    const lockKey = fs.realpathSync(path);
    return new LmdbEngine(path, root, stores, lockKey, locks.acquire(lockKey), settings, readOnly);
  } catch (e) {
    await root.close().catch(() => {});
    throw fromLmdb(e, path);
  }
}
