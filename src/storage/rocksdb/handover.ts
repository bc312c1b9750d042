// One RocksDB database can be open in one process at a time (RocksDB holds an fcntl lock on its
// LOCK file). Several processes share a store by handing it over: a process opens the database
// when it has a transaction to run and keeps it open while it is busy or nobody else wants it;
// a process that wants it puts a file in `waiting/` and tries to open it, oldest waiter first;
// the holder notices the waiter (fs.watch on waiting/, plus a check after each transaction and
// a slow poll) and closes the database once it is idle or has held it for hold_ms.
//
// The fcntl lock is the lock: the kernel drops it when its process dies, so a process killed
// with SIGKILL never leaves a stale lock behind. Waiting files of dead processes (their pid is
// in the name) are removed by the next waiter that looks. Inside one process every engine on a
// path shares one Holder, so the database is opened once per process.
import fs from 'node:fs';
import { join } from 'node:path';
import { vfsError } from '../../errors.js';
import { Mutex } from '../mutex.js';
import { alive } from '../pid.js';
import { OPEN_OPTIONS, type RocksDb, type RocksDbClass } from './binding.js';
import { copyDatabase } from './copy.js';
import { fromRocks, isLocked } from './errors.js';
import { readFormat } from './format.js';
import { TEXT_FORMAT } from './keys.js';
import { readSignature, WAITING_DIR } from './signature.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let waiterSeq = 0;

/**
 * Room kept for opening on a full disk: the file `reserve` of RESERVE_BYTES written zeros. An
 * open that fails with ENOSPC empties it and tries again; every open that succeeds fills it up
 * again as far as the disk allows (taking back what the open freed, so a full disk stays full
 * for writes, which fail with ENOSPC, while reads go on).
 */
const RESERVE_FILE = 'reserve';
const RESERVE_BYTES = 1024 * 1024;
const ZEROS = Buffer.alloc(64 * 1024);

function isNoSpace(e: unknown): boolean {
  let err = e as { code?: unknown; cause?: unknown; message?: string } | undefined;
  if (err?.code === 'LEVEL_DATABASE_NOT_OPEN' && err.cause) err = err.cause as typeof err;
  return /No space left on device/i.test(err?.message ?? '');
}

/** Empty the reserve; false if there was nothing in it. */
function releaseReserve(root: string): boolean {
  try {
    const file = join(root, RESERVE_FILE);
    if (fs.statSync(file).size === 0) return false;
    fs.truncateSync(file, 0);
    return true;
  } catch {
    return false;
  }
}

function refillReserve(root: string): void {
  let fd: number | undefined;
  try {
    const file = join(root, RESERVE_FILE);
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      /* not made yet */
    }
    if (size >= RESERVE_BYTES) return;
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600);
    try {
      while (size < RESERVE_BYTES) size += fs.writeSync(fd, ZEROS, 0, Math.min(ZEROS.length, RESERVE_BYTES - size), size);
    } catch {
      fs.ftruncateSync(fd, size); // as far as the disk allowed
    }
  } catch {
    /* a read-only medium, a full disk: no reserve for now */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** A long read is moved to a private copy only of a store up to this size (else others wait). */
const DETACH_MAX_BYTES = 256 * 1024 * 1024;

/** A read running this long while another process waits is moved to a private copy. */
const LONG_READ_MS = 250;

export interface ReadTxLike {
  readonly startedMs: number;
  pin(): void;
  /** Read from this database (a private copy) from now on. */
  moveTo(db: RocksDb): void;
  copy?: PrivateCopy;
}

/** A private copy of the database that reads were moved to; removed after the last of them. */
export class PrivateCopy {
  constructor(
    private db: RocksDb,
    private dir: string,
    public users: number,
  ) {}
  async release(none = false): Promise<void> {
    if (!none && --this.users > 0) return;
    await this.db.close().catch(() => {});
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Remove private copies left by processes that died (snap-PID-N). */
export function removeStaleCopies(root: string): void {
  for (const f of fs.readdirSync(root)) {
    const m = /^snap-(\d+)-\d+$/.exec(f);
    if (m && !alive(Number(m[1]))) fs.rmSync(join(root, f), { recursive: true, force: true });
  }
}

export class Holder {
  db: RocksDb | undefined;
  /** The database folder `db` was opened from. */
  dbName = '';
  /** `db` keeps directory entry values as text (format 2, keys.ts). */
  text = true;
  /** Transactions running on `db`. */
  active = 0;
  users = 0;
  /** Write transactions, compaction: one at a time in this process. */
  readonly writes = new Mutex();
  /** Read transactions running on `db`. */
  readonly reads = new Set<ReadTxLike>();
  /** Those whose view must be pinned before the next commit (tx.ts). */
  readonly unpinned = new Set<ReadTxLike>();
  private snapshots = 0;
  private transition: Promise<void> | undefined;
  private heldSince = 0;
  private watcher: fs.FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private othersDirty = true;
  private othersSeen = false;
  private othersCheckedMs = 0;
  private idle: (() => void)[] = [];
  /** Handovers (stats). */
  handovers = 0;

  constructor(
    readonly root: string,
    private Rocks: RocksDbClass,
    public timeoutMs: number,
    public holdMs: number,
  ) {}

  private get waitingDir(): string {
    return join(this.root, WAITING_DIR);
  }

  /** Start a transaction: the database, open in this process, until leave(). */
  async enter(): Promise<RocksDb> {
    for (;;) {
      if (this.transition) {
        await this.transition.catch(() => {});
        continue;
      }
      if (this.db) {
        // Held long enough while others wait: let them have it first, then queue up again.
        if (this.active === 0 && Date.now() - this.heldSince >= this.holdMs && this.othersWaiting()) {
          this.run(() => this.closeDb());
          continue;
        }
        this.active++;
        return this.db;
      }
      // A failure (a damaged store, a timeout) is this caller's: waiters behind it try again.
      const t = this.acquire();
      this.run(() => t);
      await t;
    }
  }

  /** A read transaction ends (on `db`, or on a private copy it was moved to). */
  endRead(tx: ReadTxLike): void {
    if (tx.copy) {
      tx.copy.release();
      return;
    }
    this.reads.delete(tx);
    this.unpinned.delete(tx);
    this.leave();
  }

  leave(): void {
    this.active--;
    if (this.active > 0) return;
    for (const r of this.idle.splice(0)) r();
    this.releaseIfWanted();
  }

  /** Run fn with the database open and no transaction running in this process (compaction). */
  async exclusive<T>(fn: (db: RocksDb) => Promise<T>): Promise<T> {
    const db = await this.enter();
    this.active--; // ours is not a transaction others must wait for
    let result!: T;
    const work = (async () => {
      while (this.active > 0) await new Promise<void>((r) => this.idle.push(r));
      result = await fn(db);
    })();
    this.run(() => work);
    await work;
    return result;
  }

  private run(fn: () => Promise<void>): void {
    const t = fn().finally(() => {
      if (this.transition === t) this.transition = undefined;
    });
    this.transition = t;
    t.catch(() => {});
  }

  /** Whether another process has a waiting file (cached until fs.watch or 50 ms says look again). */
  private othersWaiting(): boolean {
    const now = Date.now();
    if (!this.othersDirty && now - this.othersCheckedMs < 50) return this.othersSeen;
    this.othersDirty = false;
    this.othersCheckedMs = now;
    try {
      this.othersSeen = fs.readdirSync(this.waitingDir).length > 0;
    } catch {
      this.othersSeen = false;
    }
    return this.othersSeen;
  }

  private releaseIfWanted(): void {
    if (!this.db || this.transition) return;
    if (this.active > 0) {
      if (this.detachable() && this.othersWaiting()) this.run(() => this.detach());
      return;
    }
    if (!this.othersWaiting()) return;
    // Keep it for hold_ms from the open, idle or not: a process that runs transactions with a
    // little work between them (hashing, its caller's awaits) does many per handover. Then let
    // go at the first idle moment (here, or at the end of the transaction running then).
    const left = this.holdMs - (Date.now() - this.heldSince);
    if (left > 0) {
      this.idleTimer ??= setTimeout(() => {
        this.idleTimer = undefined;
        this.releaseIfWanted();
      }, left + 1);
      return;
    }
    this.run(() => this.closeDb());
  }

  /**
   * Only reads run here, none has seen a commit of ours (so each sees the database as it is
   * now), the store has been ours for hold_ms, and it is small enough to copy.
   */
  private detachable(): boolean {
    if (this.active !== this.reads.size || this.unpinned.size !== this.reads.size) return false;
    const now = Date.now();
    if (now - this.heldSince < this.holdMs) return false;
    // Only long reads: a short one ends soon, and then the database is handed over as it is.
    for (const r of this.reads) if (now - r.startedMs < LONG_READ_MS) return false;
    const bytes = Number(this.db?.getProperty('rocksdb.estimate-live-data-size')) + Number(this.db?.getProperty('rocksdb.cur-size-all-mem-tables'));
    return !(bytes > DETACH_MAX_BYTES);
  }

  /**
   * A long read must not keep other processes out, and its snapshot must outlive our hold on
   * the database: copy the database (as the reads see it) into a private folder, move the
   * reads onto the copy, and let the database go. The copy is removed when its last read ends.
   */
  private async detach(): Promise<void> {
    const db = this.db;
    if (!db || !this.detachable()) return;
    const dir = join(this.root, `snap-${process.pid}-${this.snapshots++}`);
    const copyDb = await copyDatabase(this.Rocks, db, dir, false);
    // While the copy was made, reads could end (and writes waited for this transition).
    const copy = new PrivateCopy(copyDb, dir, this.reads.size);
    for (const tx of this.reads) {
      tx.copy = copy;
      tx.moveTo(copyDb);
    }
    this.active -= this.reads.size;
    this.reads.clear();
    this.unpinned.clear();
    if (copy.users === 0) void copy.release(true);
    if (this.active === 0) await this.closeDb();
  }

  /** Wait for our turn in waiting/ and open the database the signature names. */
  private async acquire(): Promise<void> {
    const start = Date.now();
    const dir = this.waitingDir;
    const me = `${String(Date.now()).padStart(15, '0')}-${process.pid}-${waiterSeq++}`;
    let mine = false;
    let delay = 0.5;
    try {
      for (;;) {
        // The first try goes without a waiting file: when nobody holds the store, no one need know.
        if (mine && this.first(me)) {
          if (await this.tryOpen()) return;
        } else if (!mine) {
          if (fs.readdirSync(dir).length === 0 && (await this.tryOpen())) return;
          fs.writeFileSync(join(dir, me), '');
          mine = true;
          continue;
        }
        const waited = Date.now() - start;
        if (waited >= this.timeoutMs) throw vfsError('EBUSY', this.root, `store is in use by another process (waited ${waited} ms; see lock_timeout_ms)`);
        await sleep(delay * (0.5 + Math.random()));
        delay = Math.min(delay * 2, 10);
      }
    } catch (e) {
      throw fromRocks(e, this.root);
    } finally {
      if (mine) fs.rmSync(join(dir, me), { force: true });
    }
  }

  /** Whether `me` is the oldest live waiter (dead ones are removed on the way). */
  private first(me: string): boolean {
    for (const name of fs.readdirSync(this.waitingDir).sort()) {
      if (name === me) return true;
      const pid = Number(name.split('-')[1]);
      if (alive(pid)) return false;
      fs.rmSync(join(this.waitingDir, name), { force: true });
    }
    return true;
  }

  /** Open the current database; false if another process holds it. */
  private async tryOpen(): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const name = readSignature(this.root).db;
      const db = new this.Rocks(join(this.root, name));
      try {
        await db.open(OPEN_OPTIONS);
      } catch (e) {
        if (isLocked(e)) return false;
        // Every open writes (a MANIFEST, an OPTIONS file, the replayed log as a table): on a full
        // disk, give back the reserve and try once more, so the store can still be read.
        if (isNoSpace(e) && releaseReserve(this.root)) continue;
        // Compaction may have moved the store on meanwhile (and removed this folder).
        if (readSignature(this.root).db !== name && attempt < 10) continue;
        throw e;
      }
      if (readSignature(this.root).db !== name) {
        await db.close();
        continue;
      }
      let format: number;
      try {
        format = readFormat(db, this.root);
      } catch (e) {
        await db.close().catch(() => {});
        throw e;
      }
      refillReserve(this.root);
      this.db = db;
      this.dbName = name;
      this.text = format >= TEXT_FORMAT;
      this.heldSince = Date.now();
      this.handovers++;
      this.watch();
      return true;
    }
  }

  private watch(): void {
    this.othersDirty = true;
    try {
      this.watcher = fs.watch(this.waitingDir, () => {
        this.othersDirty = true;
        this.releaseIfWanted();
      });
      this.watcher.on('error', () => {});
      this.watcher.unref();
    } catch {
      /* no inotify: the poll below still notices waiters */
    }
    this.poll = setInterval(() => {
      this.othersDirty = true;
      this.releaseIfWanted();
    }, 50);
    this.poll.unref();
  }

  /** Close the database (no transaction is running): the next enter() queues for it again. */
  async closeDb(): Promise<void> {
    const db = this.db;
    if (!db) return;
    this.db = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poll) clearInterval(this.poll), (this.poll = undefined);
    if (this.idleTimer) clearTimeout(this.idleTimer), (this.idleTimer = undefined);
    // The binding lets the database go even when RocksDB's Close reports an error (one left by a
    // failed write, such as a full disk): there is nothing more to do about it here.
    await db.close().catch(() => {});
  }

  /** The last engine on this path is closing: wait for its transactions, then close. */
  async shutdown(): Promise<void> {
    while (this.transition) await this.transition.catch(() => {});
    while (this.active > 0) await new Promise<void>((r) => this.idle.push(r));
    await this.closeDb();
  }
}
