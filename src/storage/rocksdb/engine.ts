// The rocksdb engine (--backend rocksdb): every collection in one RocksDB database under its own
// key prefix (keys.ts), in a store folder NAME.rocksdb/ that holds the signature (signature.ts),
// the database folder db-N/, the waiting/ folder of the handover between processes
// (handover.ts) and the change marker `notify`. docs/engines.md ("## rocksdb") has the layout,
// the locking and the limits.
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { vfsError } from '../../errors.js';
import type { Collection, CompactStats, Engine, EngineStats, OpenOptions, ReadTx, WriteTx } from '../contract.js';
import { COLLECTION_NAMES } from '../contract.js';
import { OPEN_OPTIONS, loadRocks, writeBatch, type RocksDb, type RocksDbClass } from './binding.js';
import { fromRocks } from './errors.js';
import { copyDatabase } from './copy.js';
import { Holder, removeStaleCopies } from './handover.js';
import { readFormat } from './format.js';
import { collectionOf, FORMAT_KEY, FORMAT_VALUE, inCollection, isTextKey, toTextValue } from './keys.js';
import { readRocksSettings, type RocksSettings } from './settings.js';
import { FORMAT, NOTIFY_FILE, WAITING_DIR, isDbFolder, isRocksStore, nextDb, readSignature, writeSignature } from './signature.js';
import { LiveSource, RocksReadTx, RocksWriteTx, type Pending } from './tx.js';

const holders = new Map<string, Holder>();

/** Unsynced batches of content chunks ahead of a big commit's last batch: about this many bytes each. */
const AHEAD_BYTES = 4 << 20;

/**
 * A commit's new content chunks in groups of about AHEAD_BYTES, when they come to more than
 * one group; else none.
 */
function aheadChunks(tx: RocksWriteTx): Pending[][] {
  const groups: Pending[][] = [[]];
  let bytes = 0;
  let total = 0;
  for (const p of tx.pending.values()) {
    if (p.value === undefined || !inCollection(p.key, 'chunks')) continue;
    if (bytes >= AHEAD_BYTES) {
      groups.push([]);
      bytes = 0;
    }
    groups[groups.length - 1]!.push(p);
    bytes += p.value.length;
    total += p.value.length;
  }
  return total > AHEAD_BYTES ? groups : [];
}

const ENC = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
/** Written with sync by sync(): it makes every earlier unsynced commit durable with it. */
const SYNC_KEY = Buffer.from('\0sync', 'latin1');

function diskBytes(dir: string): number {
  let n = 0;
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const d of names) {
    const p = join(dir, d.name);
    if (d.isDirectory()) n += diskBytes(p);
    else {
      try {
        n += fs.statSync(p).size;
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return n;
}

class RocksEngine implements Engine {
  readonly kind = 'rocksdb' as const;
  readonly supports = { persistent: true, multiProcess: true, fullText: false, cheapCopy: false };
  private closed = false;

  constructor(
    readonly path: string,
    private Rocks: RocksDbClass,
    private holder: Holder,
    private key: string,
    private settings: RocksSettings,
    private readOnly: boolean,
  ) {}

  private live(): void {
    if (this.closed) throw vfsError('EIO', this.path, 'store is closed');
  }

  private async enter(): Promise<RocksDb> {
    try {
      return await this.holder.enter();
    } catch (e) {
      throw fromRocks(e, this.path);
    }
  }

  async read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    this.live();
    const db = await this.enter();
    const tx = new RocksReadTx(new LiveSource(db), db, this.holder.text);
    this.holder.reads.add(tx);
    this.holder.unpinned.add(tx);
    try {
      return await fn(tx);
    } catch (e) {
      throw fromRocks(e, this.path);
    } finally {
      tx.finished = true;
      tx.src.close();
      this.holder.endRead(tx);
    }
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    this.live();
    if (this.readOnly) throw vfsError('EROFS', this.path);
    return this.holder.writes.run(async () => {
      const db = await this.enter();
      const tx = new RocksWriteTx(new LiveSource(db), undefined, this.holder.text);
      try {
        let result: T;
        try {
          result = await fn(tx);
        } finally {
          tx.finished = true;
        }
        if (tx.pending.size > 0) this.commit(db, tx);
        return result;
      } catch (e) {
        throw fromRocks(e, this.path);
      } finally {
        this.holder.leave();
      }
    });
  }

  private commit(db: RocksDb, tx: RocksWriteTx): void {
    // Reads running now keep the state they began with.
    for (const r of this.holder.unpinned) r.pin();
    this.holder.unpinned.clear();
    // Content chunks of a big commit go ahead in unsynced batches of about AHEAD_BYTES (they are
    // content-addressed and named by nothing until the last batch: a crash between leaves
    // unreferenced chunks, which gc sweeps). One batch holding a 100 MiB file would grow its
    // buffer by doubling, on fresh memory each time, and first touches of memory are what
    // such a write spent most of its time on (issue 11's B.write).
    const ahead = aheadChunks(tx);
    for (const group of ahead) writeBatch(db, false, (b) => group.forEach((p) => b._put(p.key, p.value!)));
    const sent = new Set(ahead.flat());
    writeBatch(db, !this.settings.noSync, (b) => {
      for (const p of tx.pending.values()) {
        if (sent.has(p)) continue;
        if (p.value === undefined) b._del(p.key);
        else b._put(p.key, tx.text && isTextKey(p.key) ? toTextValue(p.value) : p.value);
      }
    });
  }

  async sync(): Promise<void> {
    this.live();
    if (this.readOnly) return;
    await this.holder.writes.run(async () => {
      const db = await this.enter();
      try {
        writeBatch(db, true, (b) => b._put(SYNC_KEY, Buffer.alloc(0)));
      } catch (e) {
        throw fromRocks(e, this.path);
      } finally {
        this.holder.leave();
      }
    });
  }

  /**
   * The binding has no CompactRange, so compaction is a rewrite: every live entry into a fresh
   * database db-(N+1), durable, then the signature points at it and db-N is removed. Deleted
   * entries, tombstones and old versions stay behind. Holds the store against every process.
   */
  async compact(): Promise<CompactStats> {
    this.live();
    const bytesBefore = diskBytes(this.path);
    if (this.readOnly) return { bytesBefore, bytesAfter: bytesBefore };
    try {
      await this.holder.writes.run(() =>
        this.holder.exclusive(async (db) => {
          const cur = this.holder.dbName;
          const next = nextDb(cur);
          // Left over by a compaction that died before its swap (or a folder another process still had open).
          for (const f of fs.readdirSync(this.path)) if (isDbFolder(f) && f !== cur) fs.rmSync(join(this.path, f), { recursive: true, force: true });
          // A format 1 store comes out of compaction as format 2.
          await (await copyDatabase(this.Rocks, db, join(this.path, next), !this.holder.text)).close();
          writeSignature(this.path, { format: FORMAT, db: next });
          await this.holder.closeDb();
          try {
            fs.rmSync(join(this.path, cur), { recursive: true, force: true });
          } catch {
            /* another process opened it for a moment (and will see the new signature): the next compaction removes it */
          }
        }),
      );
    } catch (e) {
      throw fromRocks(e, this.path);
    }
    return { bytesBefore, bytesAfter: diskBytes(this.path) };
  }

  async stats(): Promise<EngineStats> {
    this.live();
    const entries: Partial<Record<Collection, number>> = {};
    let sst = 0;
    let dbName = '';
    await this.read(async (tx) => {
      for (const c of COLLECTION_NAMES) {
        const n = await tx.count(c);
        if (n > 0) entries[c] = n;
      }
      sst = Number(this.holder.db?.getProperty('rocksdb.total-sst-files-size')) || 0;
      dbName = this.holder.dbName;
    });
    return {
      engine: 'rocksdb',
      bytesOnDisk: diskBytes(this.path),
      entries,
      details: {
        database: dbName,
        sst_bytes: sst,
        handovers: this.holder.handovers,
        no_sync: this.settings.noSync,
        read_only: this.readOnly,
      },
    };
  }

  /** The signature, the format record, and a read of every entry (RocksDB verifies block checksums). */
  async check(): Promise<string[]> {
    this.live();
    const problems: string[] = [];
    try {
      readSignature(this.path);
    } catch (e) {
      problems.push((e as Error).message);
    }
    let db: RocksDb;
    try {
      db = await this.enter();
    } catch (e) {
      problems.push((e as Error).message);
      return problems;
    }
    try {
      try {
        readFormat(db, this.path);
      } catch (e) {
        problems.push((e as Error).message);
      }
      const it = db._iterator({ ...ENC });
      try {
        for (;;) {
          const { rows, finished } = it._nextvSync(1000, ENC);
          for (let i = 0; i < rows.length; i += 2) {
            const k = rows[i]!;
            if (k[0] !== 0 && collectionOf(k) === undefined && problems.length < 100) problems.push(`a key outside every collection: ${k.subarray(0, 40).toString('hex')}`);
          }
          if (finished || rows.length === 0) break;
        }
      } finally {
        it._closeSync();
      }
    } catch (e) {
      problems.push((fromRocks(e, this.path) as Error).message);
    } finally {
      this.holder.leave();
    }
    return problems;
  }

  /** A compacted copy of one committed state (one iterator), durable before the signature is written. */
  async copyTo(path: string): Promise<void> {
    this.live();
    if (fs.existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
    if (!fs.existsSync(dirname(path))) throw vfsError('ENOENT', dirname(path));
    const db = await this.enter();
    try {
      fs.mkdirSync(path);
      fs.mkdirSync(join(path, WAITING_DIR));
      await (await copyDatabase(this.Rocks, db, join(path, 'db-1'), !this.holder.text)).close();
      writeSignature(path, { format: FORMAT, db: 'db-1' });
    } catch (e) {
      fs.rmSync(path, { recursive: true, force: true });
      throw fromRocks(e, this.path);
    } finally {
      this.holder.leave();
    }
  }

  /** The database stays open in this process until done(); a helper thread reads it by its handle. */
  async lend(): Promise<{ handle: bigint; done(): void }> {
    this.live();
    const db = await this.enter();
    let done = false;
    return {
      handle: (db as unknown as { handle: bigint }).handle,
      done: () => {
        if (!done) (done = true), this.holder.leave();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (--this.holder.users > 0) return;
    holders.delete(this.key);
    try {
      await this.holder.shutdown();
    } catch (e) {
      throw fromRocks(e, this.path);
    }
  }
}

/** Files a store folder may hold before it is one (the notify marker). */
const TOLERATED = new Set([NOTIFY_FILE, WAITING_DIR]);

async function createStore(Rocks: RocksDbClass, path: string): Promise<void> {
  fs.mkdirSync(join(path, WAITING_DIR), { recursive: true });
  const db = new Rocks(join(path, 'db-1'));
  await db.open({ ...OPEN_OPTIONS, createIfMissing: true });
  try {
    writeBatch(db, true, (b) => b._put(FORMAT_KEY, FORMAT_VALUE));
  } finally {
    await db.close();
  }
  writeSignature(path, { format: FORMAT, db: 'db-1' });
}

export async function openRocks(opts: OpenOptions): Promise<Engine> {
  const settings = readRocksSettings(opts);
  const Rocks = await loadRocks();
  const path = opts.path;
  const readOnly = opts.readOnly === true;
  const creating = opts.create && !readOnly;
  try {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (st === undefined) {
      if (!creating) throw vfsError('ENOVAULT', path);
      if (!fs.existsSync(dirname(path))) throw vfsError('ENOENT', dirname(path));
      fs.mkdirSync(path);
    } else if (!st.isDirectory()) {
      throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (a file, where a rocksdb store folder was expected)');
    }
    if (!isRocksStore(path)) {
      const others = fs.readdirSync(path).filter((f) => !TOLERATED.has(f) && !f.includes('.tmp-') && !isDbFolder(f));
      if (others.length > 0 || !creating) throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (the folder holds no avfs-rocksdb)');
      for (const f of fs.readdirSync(path)) if (isDbFolder(f)) fs.rmSync(join(path, f), { recursive: true, force: true }); // a creation that died
      await createStore(Rocks, path);
    }
    readSignature(path);
    if (!readOnly) removeStaleCopies(path);
    if (!fs.existsSync(join(path, WAITING_DIR))) {
      if (readOnly) throw vfsError('ECORRUPT', path, `vault is damaged (the store folder has no ${WAITING_DIR}/)`);
      fs.mkdirSync(join(path, WAITING_DIR));
    }
    try {
      fs.accessSync(path, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
    } catch (e) {
      // RocksDB writes into its folder on every open, even to read, so a store must be writable.
      const code = (e as NodeJS.ErrnoException).code === 'EROFS' ? 'EROFS' : 'EACCES';
      throw vfsError(code, path, `${code === 'EROFS' ? 'the file system is read-only' : 'cannot write in the store folder'} (rocksdb opens its database read-write, even to read)`, e);
    }
    const key = fs.realpathSync(path);
    let holder = holders.get(key);
    if (!holder) holders.set(key, (holder = new Holder(key, Rocks, settings.lockTimeoutMs, settings.holdMs)));
    holder.users++;
    const engine = new RocksEngine(path, Rocks, holder, key, settings, readOnly);
    try {
      // Opening the database reads its format record (handover.ts tryOpen, format.ts).
      await engine.read(async () => {});
    } catch (e) {
      await engine.close().catch(() => {});
      throw e;
    }
    return engine;
  } catch (e) {
    throw fromRocks(e, path);
  }
}

