// The log engine: our own store in a folder (NAME.log/). Every committed write transaction is
// one checksummed record appended to a write-ahead log; the whole index lives in memory as
// copy-on-write B+trees, rebuilt on open from the newest checkpoint plus the log after it; the
// values of large collections live in append-only chunk files. docs/engines.md ("## log") has
// the file formats, recovery and locking.
//
// Many processes: a writer takes the folder's lock file (lock.ts), catches up on the records
// other processes appended since it last looked, runs the transaction on cloned trees, appends
// one record, flushes, and lets go. A reader catches up before each read transaction, without
// the lock: it applies only records whose checksum is valid, and stops at the first that is
// not (another process may be writing it). Only a writer, under the lock, cuts a torn tail off.
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { vfsError } from '../../errors.js';
import type { Collection, CompactStats, Engine, EngineStats, OpenOptions, ReadTx, WriteTx } from '../contract.js';
import { COLLECTIONS } from '../contract.js';
import { LockRegistry, Mutex } from '../mutex.js';
import { ChunkFiles } from './chunks.js';
import { CheckpointError, fsyncDir, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { aad, type Cipher } from './cipher.js';
import { corrupt, fromFs } from './errors.js';
import {
  GEN_RE,
  LOCK_FILE,
  NOTIFY_FILE,
  OP_PUT,
  OP_SEAL,
  OpWriter,
  RECORD_HEADER,
  SIGNATURE_FILE,
  chunkName,
  ckptName,
  decodeOps,
  encodeRecord,
  isRef,
  logName,
  parseRecord,
  sum8,
  validRecordAfter,
  type Value,
} from './format.js';
import { Staged, type Trees } from './index.js';
import { readLogSettings, type LogSettings } from './settings.js';
import { cipherFor, isLogStore, newSignature, readSignature, signatureText, type Signature } from './signature.js';
import { LogReadTx, LogWriteTx, type ValueSource } from './tx.js';
import { FileLock } from './lock.js';
import { OPENERS_DIR, Openers } from './openers.js';

const locks = new LockRegistry(() => new Mutex());
/** Collections whose long values go to chunk files (contract.ts); the others never hold one. */
const largeColl = (coll: string) => (COLLECTIONS as Record<string, { large: boolean }>)[coll]?.large === true;
const PROBE = Buffer.alloc(1);
/** Dead bytes in chunk files below which compact leaves them as they are. */
const RECLAIM_MIN_BYTES = 1024 * 1024;

/** Generations present in the folder, by kind. */
function listGens(dir: string): { ckpts: number[]; logs: number[] } {
  const ckpts: number[] = [];
  const logs: number[] = [];
  for (const f of fs.readdirSync(dir)) {
    const m = GEN_RE.exec(f);
    if (m) (m[1] === 'ckpt' ? ckpts : logs).push(Number(m[2]));
  }
  ckpts.sort((a, b) => b - a);
  logs.sort((a, b) => b - a);
  return { ckpts, logs };
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException)?.code === 'ENOENT';

function openLogFd(dir: string, gen: number, create: boolean): number | undefined {
  try {
    return fs.openSync(join(dir, logName(gen)), create ? fs.constants.O_RDWR | fs.constants.O_CREAT : fs.constants.O_RDWR, 0o600);
  } catch (e) {
    if (isMissing(e)) return undefined;
    if ((e as NodeJS.ErrnoException).code === 'EACCES' || (e as NodeJS.ErrnoException).code === 'EROFS') {
      try {
        return fs.openSync(join(dir, logName(gen)), 'r');
      } catch (e2) {
        if (isMissing(e2)) return undefined;
        throw e2;
      }
    }
    throw e;
  }
}

function readRange(fd: number, from: number, to: number): Buffer {
  const b = Buffer.allocUnsafe(to - from);
  let got = 0;
  while (got < b.length) {
    const n = fs.readSync(fd, b, got, b.length - got, from + got);
    if (n === 0) return b.subarray(0, got);
    got += n;
  }
  return b;
}

class LogEngine implements Engine, ValueSource {
  readonly kind = 'log' as const;
  readonly supports = { persistent: true, multiProcess: true, fullText: false, cheapCopy: false };
  private trees: Trees = new Map();
  private gen = 0;
  private seq = 0;
  /** The current generation's log, or undefined while it is not there yet (a checkpoint in progress elsewhere). */
  private logFd: number | undefined;
  /** Bytes of the current log applied to `trees`. */
  private applied = 0;
  private closed = false;
  private reads = 0;
  private readsDone?: () => void;
  private chunks: ChunkFiles;
  private lock: FileLock;
  private checkpoints = 0;
  private openers: Openers;
  /**
   * Bytes of chunk-file values (large()) held in memory because they came inline in log records
   * (commit's inlineTxMax), counted as they arrive, never as they are overwritten: an upper bound.
   * A checkpoint this process writes gives them a chunk-file place (keepInlineValues); after one
   * written elsewhere, refresh reloads once this passes checkpoint_bytes.
   */
  private held = 0;
  /**
   * Where a value held inline sits in its log: at `offset` of log-`gen` (unencrypted stores
   * only: a sealed payload has no value bytes in clear to point at). A checkpoint of that log
   * makes it a chunk file and refers to them there instead of copying them (startGeneration).
   */
  private where = new WeakMap<Buffer, { gen: number; offset: number }>();

  constructor(
    readonly path: string,
    private cipher: Cipher,
    private sig: Signature,
    private settings: LogSettings,
    private readOnly: boolean,
    private lockKey: string,
    private mutex: Mutex,
  ) {
    this.chunks = new ChunkFiles(path, cipher, settings.chunkFileBytes);
    this.lock = new FileLock(path, LOCK_FILE, settings.lockTimeoutMs);
    this.openers = new Openers(path);
  }

  load(v: Value): Buffer {
    if (!isRef(v)) return Buffer.from(v);
    try {
      return this.chunks.read(v);
    } catch (e) {
      if ((e as { code?: string }).code === 'ECORRUPT') throw corrupt(this.path, (e as Error).message);
      throw fromFs(e, this.path);
    }
  }

  private live(): void {
    if (this.closed) throw vfsError('EIO', this.path, 'store is closed');
  }

  /** Would this value of `coll` go to a chunk file? (Else it lives in the index, in memory.) */
  private large(coll: string, v: Value): boolean {
    return (isRef(v) || v.length >= this.settings.inlineMax) && largeColl(coll);
  }

  // ---- loading and catching up ---------------------------------------------------------------

  /** Rebuild the index from the newest checkpoint and its log. */
  reload(): Map<number, number> {
    for (let attempt = 0; ; attempt++) {
      const { ckpts } = listGens(this.path);
      if (ckpts.length === 0) throw corrupt(this.path, 'no checkpoint in the store folder');
      const gen = ckpts[0];
      let ck;
      try {
        ck = readCheckpoint(this.path, gen, this.cipher);
      } catch (e) {
        // A newer checkpoint replaced it and it was removed meanwhile: look again.
        if (isMissing(e) && attempt < 20) continue;
        if (e instanceof CheckpointError) throw corrupt(this.path, e.message);
        throw e;
      }
      const staged = new Staged(new Map());
      for (const op of ck.ops) staged.apply(op);
      if (this.logFd !== undefined) fs.closeSync(this.logFd);
      this.logFd = openLogFd(this.path, gen, false);
      this.trees = staged.trees;
      this.gen = gen;
      this.seq = ck.seq;
      this.applied = 0;
      // A checkpoint holds no large value inline (keepInlineValues gave each a chunk-file place first).
      this.held = 0;
      return staged.refEnds;
    }
  }

  /**
   * Apply what other processes appended since we last looked. `locked`: we hold the writer lock,
   * so nobody else is appending: an incomplete or damaged tail is torn and is cut off.
   */
  refresh(locked: boolean, refEnds?: Map<number, number>): void {
    for (;;) {
      if (this.logFd === undefined) {
        this.logFd = openLogFd(this.path, this.gen, false);
        if (this.logFd === undefined) {
          const newest = listGens(this.path).ckpts[0] ?? 0;
          if (newest > this.gen) {
            this.reload();
            continue;
          }
          if (!locked) return;
          // A checkpointer died between sealing the old log and starting this one: finish its work.
          this.startGeneration(this.gen);
          return;
        }
      }
      // One byte read past what we applied: nothing there (the usual case) costs one pread.
      // (A writer looks at the size too: a log cut below what was committed must not be appended to.)
      if (!locked && fs.readSync(this.logFd, PROBE, 0, 1, this.applied) === 0) return;
      const size = fs.fstatSync(this.logFd).size;
      if (size === this.applied) return;
      if (size < this.applied) throw corrupt(this.path, `${logName(this.gen)} shrank below what was committed`);
      const buf = readRange(this.logFd, this.applied, size);
      const staged = new Staged(this.trees);
      let o = 0;
      let seq = this.seq;
      let sealedTo: number | undefined;
      while (o < buf.length) {
        const r = parseRecord(buf, o);
        if (r.kind !== 'record') {
          if (validRecordAfter(buf, o)) throw corrupt(this.path, `${logName(this.gen)}: damaged record at byte ${this.applied + o} (${r.kind === 'bad' ? r.why : 'cut short'}) before valid ones`);
          break;
        }
        if (r.seq !== seq + 1) throw corrupt(this.path, `${logName(this.gen)}: record ${r.seq} where ${seq + 1} was due`);
        const plain = this.cipher.encrypted ? this.cipher.open(r.payload, aad('rec', r.seq)) : r.payload;
        if (plain === undefined) throw corrupt(this.path, `${logName(this.gen)}: record ${r.seq} does not authenticate`);
        let ops;
        try {
          ops = decodeOps(plain);
        } catch (e) {
          throw corrupt(this.path, `${logName(this.gen)}: record ${r.seq}: ${(e as Error).message}`);
        }
        for (const op of ops) {
          if (op.op === OP_SEAL) sealedTo = op.gen;
          else {
            staged.apply(op);
            if (op.op === OP_PUT && this.large(op.coll, op.value)) {
              this.held += op.value.length;
              if (!this.cipher.encrypted) this.where.set(op.value, { gen: this.gen, offset: this.applied + o + RECORD_HEADER + op.at! });
            }
          }
        }
        seq = r.seq;
        o = r.end;
        if (sealedTo !== undefined) break;
      }
      if (refEnds) for (const [f, end] of staged.refEnds) if (end > (refEnds.get(f) ?? 0)) refEnds.set(f, end);
      this.trees = staged.trees;
      this.seq = seq;
      this.applied += o;
      if (sealedTo !== undefined) {
        // The log ends here; the same state continues in the next generation.
        fs.closeSync(this.logFd);
        this.logFd = undefined;
        this.gen = sealedTo;
        this.applied = 0;
        // The checkpointer gave the inline values a chunk-file place (keepInlineValues), and its
        // checkpoint refers to them there. What we hold of them in memory would otherwise only
        // grow, generation after generation, in a process that follows others' writes for long
        // (a mount).
        if (this.held > this.settings.checkpointBytes && fs.existsSync(join(this.path, ckptName(sealedTo)))) {
          const ends = this.reload();
          if (refEnds) for (const [f, end] of ends) if (end > (refEnds.get(f) ?? 0)) refEnds.set(f, end);
        }
        continue;
      }
      if (o < buf.length && locked) {
        fs.ftruncateSync(this.logFd, this.applied);
        fs.fdatasyncSync(this.logFd);
      }
      return;
    }
  }

  /**
   * Write generation `gen`'s checkpoint from the index (unless it is there) and its empty log,
   * then remove older generations. Caller holds the lock and has sealed the previous log.
   */
  private startGeneration(gen: number): void {
    if (!fs.existsSync(join(this.path, ckptName(gen)))) {
      this.trees = this.keepInlineValues(gen - 1);
      this.held = 0;
      writeCheckpoint(this.path, gen, this.seq, this.trees, this.cipher);
    }
    if (this.logFd !== undefined) fs.closeSync(this.logFd);
    this.logFd = openLogFd(this.path, gen, true);
    fsyncDir(this.path);
    this.gen = gen;
    this.applied = 0;
    this.checkpoints++;
    const { ckpts, logs } = listGens(this.path);
    for (const g of ckpts) if (g < gen) fs.rmSync(join(this.path, ckptName(g)), { force: true });
    for (const g of logs) if (g < gen) fs.rmSync(join(this.path, logName(g)), { force: true });
  }

  /**
   * The trees with every large value held inline (it came in a log record) referred to in a chunk
   * file, durably, before the checkpoint that refers to them exists and the log holding them is
   * removed. Those in the sealed log `sealed` stay where they are: that log is linked as a new
   * chunk file (a second name for the same bytes, no copy) and referred to at their offsets. The
   * others (a sealed payload, or a log of an earlier generation this process followed) are
   * copied to the current chunk file. Caller holds the lock.
   */
  private keepInlineValues(sealed: number): Trees {
    const inline = (coll: string, v: Value) => !isRef(v) && this.large(coll, v);
    const staged = new Staged(this.trees);
    let linked: number | undefined;
    for (const [coll, t] of this.trees) {
      if (!largeColl(coll)) continue;
      for (const [k, v] of t.entries() as IterableIterator<[Buffer, Value]>) {
        if (!inline(coll, v)) continue;
        const at = this.where.get(v as Buffer);
        if (at?.gen !== sealed) continue;
        if (linked === undefined) {
          linked = this.chunks.nextId();
          try {
            fs.linkSync(join(this.path, logName(sealed)), join(this.path, chunkName(linked)));
          } catch {
            // No second name (a file system without hard links): the values are copied below.
            linked = -1;
          }
        }
        if (linked < 0) break;
        staged.writable(coll).set(k, { file: linked, offset: at.offset, length: v.length, sum: sum8(v as Buffer) });
      }
    }
    // The link is a directory entry: durable before the checkpoint that refers to it.
    if (linked !== undefined && linked >= 0) fsyncDir(this.path);
    const trees = this.moveValues(staged.trees, this.chunks, inline);
    this.chunks.sync();
    return trees;
  }

  /** Seal the current log and start the next generation from a checkpoint. Caller holds the lock. */
  private checkpoint(): void {
    const w = new OpWriter();
    w.seal(this.gen + 1);
    this.appendRecord(w.take(), true);
    this.startGeneration(this.gen + 1);
  }

  /** Append one record after everything applied, returning where it starts; on failure the log is as it was. */
  private appendRecord(plain: Buffer, sync: boolean): { gen: number; offset: number } {
    if (this.logFd === undefined) this.startGeneration(this.gen);
    const fd = this.logFd!;
    const seq = this.seq + 1;
    const payload = this.cipher.encrypted ? this.cipher.seal(plain, aad('rec', seq)) : plain;
    const rec = encodeRecord(seq, payload);
    try {
      let done = 0;
      while (done < rec.length) done += fs.writeSync(fd, rec, done, rec.length - done, this.applied + done);
      if (sync) fs.fdatasyncSync(fd);
    } catch (e) {
      try {
        fs.ftruncateSync(fd, this.applied);
      } catch {
        /* the next writer cuts the torn tail off */
      }
      throw e;
    }
    const at = { gen: this.gen, offset: this.applied };
    this.seq = seq;
    this.applied += rec.length;
    return at;
  }

  // ---- transactions --------------------------------------------------------------------------

  async read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    this.live();
    try {
      this.refresh(false);
    } catch (e) {
      throw fromFs(e, this.path);
    }
    this.reads++;
    const tx = new LogReadTx(this, this.trees);
    try {
      return await fn(tx);
    } finally {
      tx.finished = true;
      if (--this.reads === 0) this.readsDone?.();
    }
  }

  /** Run fn holding the in-process mutex and the folder's lock, caught up with every process. */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.live();
      await this.lock.acquire();
      try {
        try {
          this.refresh(true);
        } catch (e) {
          throw fromFs(e, this.path);
        }
        return await fn();
      } finally {
        this.lock.release();
      }
    });
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    this.live();
    if (this.readOnly) throw vfsError('EROFS', this.path);
    return this.locked(async () => {
      const tx = new LogWriteTx(this, this.trees);
      let result: T;
      try {
        result = await fn(tx);
      } finally {
        tx.finished = true;
      }
      if (tx.pending.size === 0) return result;
      try {
        this.commit(tx);
      } catch (e) {
        throw fromFs(e, this.path);
      }
      return result;
    });
  }

  private commit(tx: LogWriteTx): void {
    const sync = !this.settings.noSync;
    const pending = [...tx.pending.values()];
    const large = pending.filter((p) => p.value !== undefined && this.large(p.coll, p.value));
    const largeBytes = large.reduce((n, p) => n + p.value!.length, 0);
    // A few large values (a small overwrite: one content chunk, its manifests) ride in the record
    // itself, so the commit writes and flushes one file; the committed tree keeps them in memory
    // until the next checkpoint gives them a chunk-file place (keepInlineValues). More than that go
    // to a chunk file first, flushed, so the record never refers to bytes that are not on disk.
    const inline = largeBytes <= this.settings.inlineTxMax;
    const refs = inline ? [] : this.chunks.append(large.map((p) => p.value!), sync);
    const w = new OpWriter();
    let ri = 0;
    const placed: [Buffer, number][] = [];
    // Values the committed tree keeps in memory are copied into it: tx.put held the caller's
    // buffers, which are the caller's again once the commit returns (WriteTx.put).
    const kept = (p: (typeof pending)[number]): Buffer => {
      const v = Buffer.from(p.value!);
      tx.staged.writable(p.coll).set(p.key, v);
      return v;
    };
    for (const p of pending) {
      if (p.value === undefined) w.del(p.coll, p.key);
      else if (!this.large(p.coll, p.value)) w.put(p.coll, p.key, kept(p));
      else if (inline) {
        const v = kept(p);
        placed.push([v, w.put(p.coll, p.key, v)]);
      } else {
        const ref = refs[ri++];
        w.ref(p.coll, p.key, ref);
        // The committed tree points into the chunk file, not at the bytes the caller gave.
        tx.staged.writable(p.coll).set(p.key, ref);
      }
    }
    const rec = this.appendRecord(w.take(), sync);
    if (inline) {
      this.held += largeBytes;
      // (The tree holds these very buffers: kept() put them there.)
      if (!this.cipher.encrypted) for (const [v, at] of placed) this.where.set(v, { gen: rec.gen, offset: rec.offset + RECORD_HEADER + at });
    }
    this.trees = tx.staged.trees;
    if (this.applied >= this.settings.checkpointBytes) this.checkpoint();
  }

  async sync(): Promise<void> {
    this.live();
    if (this.readOnly) return;
    try {
      if (this.logFd !== undefined) fs.fdatasyncSync(this.logFd);
      this.chunks.sync();
    } catch (e) {
      throw fromFs(e, this.path);
    }
  }

  /**
   * A checkpoint now, so the log starts empty, and the chunk files' dead bytes (values no key
   * refers to any more) given back: the live values are copied into a fresh chunk file and the
   * older files removed, unless another opener may still refer into them (openers.ts).
   */
  async compact(): Promise<CompactStats> {
    this.live();
    const bytesBefore = this.diskBytes();
    if (this.readOnly) return { bytesBefore, bytesAfter: bytesBefore };
    let note: string | undefined;
    await this.locked(async () => {
      try {
        note = await this.reclaimChunks();
      } catch (e) {
        throw fromFs(e, this.path);
      }
    });
    return { bytesBefore, bytesAfter: this.diskBytes(), ...(note !== undefined ? { note } : {}) };
  }

  /** The body of compact(), under the lock. Returns a note when chunk files were kept. */
  private async reclaimChunks(): Promise<string | undefined> {
    const old = this.chunks.ids();
    let fileBytes = 0;
    for (const id of old) fileBytes += this.chunks.size(id);
    let liveBytes = 0;
    for (const t of this.trees.values()) for (const v of t.values() as IterableIterator<Value>) if (isRef(v)) liveBytes += v.length;
    const busy = (why: string) => `log: checkpoint written; chunk files kept (${why}): run compact again when it has closed`;
    // Nothing much to give back: rewriting gigabytes to free a few would cost more than it saves.
    if (fileBytes - liveBytes < Math.max(RECLAIM_MIN_BYTES, fileBytes / 10)) {
      this.checkpoint();
      return undefined;
    }
    const others = this.openers.others();
    if (others > 0) {
      this.checkpoint();
      return busy(openedElsewhere(others));
    }
    // Every live value into chunk file N+1 (and those held inline, which checkpoint() would copy
    // out anyway); the trees are rebuilt to point there.
    this.chunks.startFile(Math.max(0, ...old) + 1);
    const trees = this.moveValues(this.trees, this.chunks, (coll, v) => this.large(coll, v));
    this.chunks.sync();
    // The new index is checkpointed before anyone is asked about: see openers.ts.
    this.trees = trees;
    this.checkpoint();
    // Reads in this process that began before the swap still hold the old references.
    for (let waited = 0; this.reads > 0; waited += 5) {
      if (waited >= 2000) return busy('a read in this process is still running');
      await new Promise((r) => setTimeout(r, 5));
    }
    const now = this.openers.others();
    if (now > 0) return busy(openedElsewhere(now));
    this.chunks.remove(old);
    fsyncDir(this.path);
    return undefined;
  }

  /**
   * `trees` with every value of a large collection that `which` picks copied (appended, unsynced) into `out` and
   * referred to there, in batches of at most 256 values or 16 MiB: compaction and copyTo (every
   * large value), a checkpoint (the large values held inline).
   */
  private moveValues(trees: Trees, out: ChunkFiles, which: (coll: string, v: Value) => boolean): Trees {
    const staged = new Staged(trees);
    for (const [coll, t] of trees) {
      if (!largeColl(coll)) continue;
      let batch: [Buffer, Value][] = [];
      let batchBytes = 0;
      const flush = () => {
        const refs = out.append(batch.map(([, v]) => (isRef(v) ? this.load(v) : v)), false);
        // Only the clone changes: `t`, which this loop walks, is some snapshot's and stays as it is.
        const nt = staged.writable(coll);
        batch.forEach(([k], i) => nt.set(k, refs[i]));
        batch = [];
        batchBytes = 0;
      };
      for (const [k, v] of t.entries() as IterableIterator<[Buffer, Value]>) {
        if (!which(coll, v)) continue;
        batch.push([k, v]);
        batchBytes += v.length;
        if (batch.length >= 256 || batchBytes >= 16 * 1024 * 1024) flush();
      }
      if (batch.length) flush();
    }
    return staged.trees;
  }

  private diskBytes(): number {
    let n = 0;
    for (const f of fs.readdirSync(this.path)) {
      try {
        n += fs.statSync(join(this.path, f)).size;
      } catch {
        /* removed meanwhile */
      }
    }
    return n;
  }

  async stats(): Promise<EngineStats> {
    this.live();
    try {
      this.refresh(false);
    } catch (e) {
      throw fromFs(e, this.path);
    }
    const entries: Partial<Record<Collection, number>> = {};
    for (const [c, t] of this.trees) entries[c as Collection] = t.size;
    let logBytes = 0;
    if (this.logFd !== undefined) logBytes = fs.fstatSync(this.logFd).size;
    const ids = this.chunks.ids();
    return {
      engine: 'log',
      bytesOnDisk: this.diskBytes(),
      entries,
      details: {
        generation: this.gen,
        sequence: this.seq,
        log_bytes: logBytes,
        chunk_files: ids.length,
        chunk_bytes: ids.reduce((s, id) => s + this.chunks.size(id), 0),
        checkpoints_written: this.checkpoints,
        checkpoint_bytes: this.settings.checkpointBytes,
        inline_max: this.settings.inlineMax,
        inline_tx_max: this.settings.inlineTxMax,
        held_inline_bytes: this.held,
        encrypted: this.cipher.encrypted,
        no_sync: this.settings.noSync,
        read_only: this.readOnly,
      },
    };
  }

  /** Every checksum: the checkpoint's blocks, every log record, every value in chunk files. */
  async check(): Promise<string[]> {
    this.live();
    const problems: string[] = [];
    try {
      readSignature(this.path);
    } catch (e) {
      problems.push((e as Error).message);
    }
    try {
      this.refresh(false);
    } catch (e) {
      problems.push((e as Error).message);
      return problems;
    }
    const trees = this.trees;
    const gen = this.gen;
    try {
      readCheckpoint(this.path, gen, this.cipher);
    } catch (e) {
      // After a crash mid-checkpoint the generation may have no checkpoint yet (its state is the sealed log before it).
      if (!isMissing(e)) problems.push(e instanceof CheckpointError ? e.message : String((e as Error).message));
    }
    if (this.logFd !== undefined) {
      const buf = readRange(this.logFd, 0, this.applied);
      let o = 0;
      while (o < buf.length) {
        const r = parseRecord(buf, o);
        if (r.kind !== 'record') {
          problems.push(`${logName(gen)}: damaged record at byte ${o}`);
          break;
        }
        if (this.cipher.encrypted && this.cipher.open(r.payload, aad('rec', r.seq)) === undefined) problems.push(`${logName(gen)}: record ${r.seq} does not authenticate`);
        o = r.end;
      }
      // A complete record after what was applied that does not verify is damage, not a torn write.
      const size = fs.fstatSync(this.logFd).size;
      if (size > this.applied) {
        const tail = readRange(this.logFd, this.applied, size);
        const r = parseRecord(tail, 0);
        if (r.kind === 'bad' && tail.length >= 24 && tail.readUInt32LE(4) + 24 <= tail.length) {
          problems.push(`${logName(gen)}: the last record is damaged (${r.why}); it is dropped`);
        }
      }
    }
    for (const [coll, t] of trees) {
      for (const [, v] of t.entries() as IterableIterator<[Buffer, Value]>) {
        if (!isRef(v)) continue;
        const p = this.chunks.verify(v);
        if (p) {
          problems.push(`${coll}: ${p}`);
          if (problems.length > 100) return problems;
        }
      }
    }
    return problems;
  }

  /** A compacted copy: one checkpoint holding the snapshot, live values in one fresh chunk file. */
  async copyTo(path: string): Promise<void> {
    this.live();
    if (fs.existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
    if (!fs.existsSync(dirname(path))) throw vfsError('ENOENT', dirname(path));
    try {
      this.refresh(false);
    } catch (e) {
      throw fromFs(e, this.path);
    }
    const trees = this.trees;
    const seq = this.seq;
    this.reads++;
    try {
      fs.mkdirSync(path);
      const out = new ChunkFiles(path, this.cipher, this.settings.chunkFileBytes);
      let copied: Trees;
      try {
        copied = this.moveValues(trees, out, (coll, v) => this.large(coll, v));
        out.sync();
      } finally {
        out.close();
      }
      createFiles(path, this.sig, this.cipher, seq, copied);
    } catch (e) {
      fs.rmSync(path, { recursive: true, force: true });
      throw fromFs(e, this.path);
    } finally {
      if (--this.reads === 0) this.readsDone?.();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.mutex.run(async () => {
      if (this.closed) return;
      this.closed = true;
      if (this.reads > 0) await new Promise<void>((r) => (this.readsDone = r));
      try {
        if (this.logFd !== undefined) fs.closeSync(this.logFd);
        this.logFd = undefined;
        this.chunks.close();
        this.openers.unregister();
      } finally {
        locks.release(this.lockKey);
      }
    });
  }

  register(): void {
    this.openers.register();
  }

  /** Chunk references past the end of their file mean a damaged (truncated) store. */
  verifyRefEnds(ends: Map<number, number>): void {
    for (const [id, end] of ends) {
      const size = this.chunks.size(id);
      if (size < end) throw corrupt(this.path, `${chunkName(id)} is ${size} bytes, but values reach byte ${end}`);
    }
  }
}

const openedElsewhere = (n: number) => `${n} other opener${n === 1 ? ' has' : 's have'} the vault open`;

/** Write a complete store's files into `dir`: checkpoint 1 of `trees`, an empty log, the signature last. */
function createFiles(dir: string, sig: Signature, cipher: Cipher, seq: number, trees: Trees): void {
  writeCheckpoint(dir, 1, seq, trees, cipher);
  fs.closeSync(fs.openSync(join(dir, logName(1)), 'a', 0o600));
  const tmp = join(dir, `${SIGNATURE_FILE}.tmp-${process.pid}`);
  fs.writeFileSync(tmp, signatureText(sig), { mode: 0o600 });
  const fd = fs.openSync(tmp, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, join(dir, SIGNATURE_FILE));
  fsyncDir(dir);
}

/** Files a store folder may hold besides the store's own (the notify marker, a lock). */
const TOLERATED = new Set([NOTIFY_FILE, LOCK_FILE, OPENERS_DIR]);

export async function openLog(opts: OpenOptions & { passphrase?: string }): Promise<Engine> {
  const settings = readLogSettings(opts);
  const path = opts.path;
  const readOnly = opts.readOnly === true;
  const creating = opts.create && !readOnly;
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(path);
  } catch (e) {
    if (!isMissing(e)) throw fromFs(e, path);
  }
  try {
    if (st === undefined) {
      if (!creating) throw vfsError('ENOVAULT', path);
      if (!fs.existsSync(dirname(path))) throw vfsError('ENOENT', dirname(path));
      fs.mkdirSync(path, { recursive: true });
    } else if (!st.isDirectory()) {
      throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (a file, where a log store folder was expected)');
    }
    let sig: Signature;
    let cipher: Cipher;
    if (!isLogStore(path)) {
      if (fs.existsSync(join(path, SIGNATURE_FILE))) readSignature(path); // says what is wrong with it
      const others = fs.readdirSync(path).filter((f) => !TOLERATED.has(f) && !f.includes('.tmp-'));
      if (others.length > 0 || !creating) throw vfsError('ENOTVAULT', path, `not an agentvfs vault (the folder holds no ${SIGNATURE_FILE})`);
      ({ sig, cipher } = newSignature(opts.passphrase));
      createFiles(path, sig, cipher, 0, new Map());
    } else {
      sig = readSignature(path);
      cipher = cipherFor(path, sig, opts.passphrase);
    }
    try {
      fs.accessSync(path, fs.constants.R_OK | fs.constants.X_OK | (readOnly ? 0 : fs.constants.W_OK));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code === 'EROFS' ? 'EROFS' : 'EACCES';
      const why = code === 'EROFS' ? 'the file system is read-only' : `cannot ${readOnly ? 'read' : 'write in'} the store folder`;
      throw vfsError(code, path, `${why} (${(e as NodeJS.ErrnoException).code})`, e);
    }
    const lockKey = fs.realpathSync(path);
    const engine = new LogEngine(path, cipher, sig, settings, readOnly, lockKey, locks.acquire(lockKey));
    try {
      // Marked as an opener before the index is read (openers.ts); read-only too, where it can.
      engine.register();
      const ends = engine.reload();
      engine.refresh(false, ends);
      engine.verifyRefEnds(ends);
    } catch (e) {
      await engine.close().catch(() => {});
      throw e;
    }
    return engine;
  } catch (e) {
    throw fromFs(e, path);
  }
}

