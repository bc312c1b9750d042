// Open files with buffered writes, for the front ends that speak in file descriptors: the FUSE
// mount and the fs/promises facade. POSIX programs write a file in many small pieces (a 4 KiB
// or 128 KiB write(2) at a time) and close it; making each piece a version would cost a
// transaction, a manifest and a history row per piece. Instead an open file keeps the chunks
// it changed in memory and commits them as one new version when it is flushed (close), synced
// (fsync) or released: the same moment at which a host filesystem promises anything to other
// programs. Reads through any handle of the same file see the buffered bytes at once.
//
// Every open of one inode shares one OpenFile (so two descriptors of a file see each other's
// writes, as on a host filesystem); it is dropped when its last handle closes. Only the chunks
// a write touches are held: a 64 KiB write into a 1 GiB file holds one chunk, and its commit
// stores that chunk plus the manifest. Past SPILL_BYTES of changed chunks, whole chunks are
// stored ahead of the commit (under a pending marker that keeps gc away, as writeStream does),
// so memory stays bounded however much is written before a close.
//
// A file changed by someone else (the CLI, another process) while a handle here has unwritten
// changes: the commit makes the file this handle's view (last close wins, as with NFS). A file
// with no unwritten changes follows the vault: each read checks that its content is current.
import { vfsError } from '../errors.js';
import { chunkList, contentFromChunks, putChunks, type ContentRef } from '../content/chunks.js';
import { putPendingMarker, removePendingMarker } from '../content/pending.js';
import * as core from '../core/fs.js';
import { lookup } from '../core/resolve.js';
import type { Inode } from '../core/records.js';
import type { Runner } from './fileops.js';

/** Bytes of changed chunks held in memory per file before whole chunks are stored early. */
export const SPILL_BYTES = 16 * 1024 * 1024;

export interface OpenFlags {
  /** Create the file if it is missing (O_CREAT). */
  create?: boolean;
  /** With create: fail with EEXIST if it exists (O_EXCL). */
  exclusive?: boolean;
  /** Cut the file to zero bytes (O_TRUNC; only with write access). */
  truncate?: boolean;
  /** The handle may write. */
  write?: boolean;
  /** Permission bits for a created file. */
  mode?: number;
}

/** `buf` cut or zero-padded to exactly `len` bytes. */
function fitted(buf: Buffer, len: number): Buffer {
  if (buf.length >= len) return buf.subarray(0, len);
  const out = Buffer.alloc(len);
  buf.copy(out);
  return out;
}

export class OpenFile {
  /** Handles open on this file. */
  refs = 0;
  private base: ContentRef;
  /** The base content's chunk hashes, loaded on first use (a 1 GiB file has 16,384). */
  private list: Buffer[] | undefined;
  /** Below this offset, bytes not in `dirty`/`stored` come from the base; above it they are zeros (a shrink, then a grow). */
  private baseLimit: number;
  /** Changed chunks (a buffer may be shorter than a chunk: the rest is zeros); the file's size says how much of the last one counts. */
  private dirty = new Map<number, Buffer>();
  /** Changed chunks already stored (spilled), by hash: each holds a full chunk. */
  private stored = new Map<number, Buffer>();
  private marker: Buffer | undefined;
  private changed = false;
  size: number;
  mtimeMs: number;
  /** Permission bits as of the open (what is left to tell of a file unlinked while open). */
  readonly mode: number;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly runner: Runner,
    readonly ino: number,
    node: Inode,
  ) {
    this.base = core.contentOf(node);
    this.baseLimit = this.base.size;
    this.size = node.size;
    this.mtimeMs = node.mtimeMs;
    this.mode = node.mode;
  }

  private get chunkSize(): number {
    return this.runner.settings.chunkSize;
  }

  /** Unwritten changes are held. */
  get dirtyState(): boolean {
    return this.changed;
  }

  /** One operation at a time per file: a write and a commit must not interleave their awaits. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  /** Follow the vault when this file holds nothing unwritten (another process may have written it). */
  private adopt(node: Inode): void {
    if (this.changed || node.type !== 'file') return;
    const ref = core.contentOf(node);
    this.mtimeMs = node.mtimeMs;
    if (ref.hash === this.base.hash && ref.size === this.base.size) return;
    this.base = ref;
    this.baseLimit = ref.size;
    this.size = ref.size;
    this.list = undefined;
  }

  /** Follow the vault now (in turn with reads and writes: never half way through a write). */
  refresh(): Promise<void> {
    return this.serial(() => this.refreshNow());
  }

  private async refreshNow(): Promise<void> {
    if (this.changed) return;
    const node = await this.runner.read((s) => s.inode(this.ino));
    if (node) this.adopt(node);
  }

  read(pos: number, length: number): Promise<Buffer> {
    return this.serial(async () => {
      return this.runner.read(async (s) => {
        if (!this.changed) {
          const node = await s.inode(this.ino);
          if (node) this.adopt(node);
        }
        const end = Math.min(this.size, pos + length);
        if (end <= pos) return Buffer.alloc(0);
        const cs = this.chunkSize;
        const out = Buffer.alloc(end - pos);
        for (let i = Math.floor(pos / cs); i * cs < end; i++) {
          const chunk = await this.chunkView(s.tx, i);
          const base = i * cs;
          const from = Math.max(pos, base);
          const to = Math.min(end, base + cs);
          // Past a held buffer's end the chunk is zeros, and `out` already is.
          if (chunk && from - base < chunk.length) chunk.copy(out, from - pos, from - base, Math.min(to - base, chunk.length));
        }
        return out;
      });
    });
  }

  /** Chunk i's bytes as the file now has them (zeros past what it holds), or undefined for all zeros. */
  private async chunkView(tx: Parameters<Parameters<Runner['read']>[0]>[0]['tx'], i: number): Promise<Buffer | undefined> {
    const d = this.dirty.get(i);
    if (d) return d;
    const h = this.stored.get(i);
    if (h) return this.getChunk(tx, h);
    const cs = this.chunkSize;
    if (i * cs >= Math.min(this.baseLimit, this.base.size)) return undefined;
    this.list ??= await chunkList(tx, this.base, cs);
    return this.getChunk(tx, this.list[i]);
  }

  private async getChunk(tx: Parameters<Parameters<Runner['read']>[0]>[0]['tx'], h: Buffer): Promise<Buffer> {
    const c = await tx.get('chunks', h);
    if (c === undefined) throw vfsError('ECORRUPT', undefined, `content chunk ${h.toString('hex').slice(0, 12)} is missing`);
    return c;
  }

  /**
   * Chunk i as a writable buffer held in `dirty`, at least `need` bytes long. Buffers start
   * small and grow (a 300-byte file holds 300 bytes, not a 64 KiB chunk); past a buffer's
   * end, up to the chunk's size, the chunk reads as zeros.
   */
  private async materialise(i: number, need: number): Promise<Buffer> {
    const cs = this.chunkSize;
    const held = this.dirty.get(i);
    if (held) {
      if (held.length >= need) return held;
      const grown = Buffer.alloc(Math.min(cs, Math.max(need, held.length * 2)));
      held.copy(grown);
      this.dirty.set(i, grown);
      return grown;
    }
    // A chunk past the old content (a new file's, say) is zeros: nothing to read.
    const past = !this.stored.has(i) && i * cs >= Math.min(this.baseLimit, this.base.size);
    const view = past ? undefined : await this.runner.read((s) => this.chunkView(s.tx, i));
    // Only the part below the current size counts: past it the file reads as zeros.
    const valid = view ? Math.max(0, Math.min(view.length, this.size - i * cs)) : 0;
    const buf = Buffer.alloc(Math.min(cs, Math.max(need, valid)));
    if (view) view.copy(buf, 0, 0, valid);
    this.stored.delete(i);
    this.dirty.set(i, buf);
    return buf;
  }

  write(pos: number, data: Buffer): Promise<number> {
    return this.serial(async () => {
      if (data.length === 0) return 0;
      if (!this.changed) await this.refreshNow();
      const cs = this.chunkSize;
      const end = pos + data.length;
      for (let i = Math.floor(pos / cs); i * cs < end; i++) {
        const base = i * cs;
        const from = Math.max(pos, base);
        const to = Math.min(end, base + cs);
        let buf: Buffer;
        if (!this.dirty.has(i) && from === base && to === base + cs) {
          // A chunk written whole needs no read of what it held.
          buf = Buffer.allocUnsafe(cs);
          this.stored.delete(i);
          this.dirty.set(i, buf);
        } else {
          buf = await this.materialise(i, to - base);
        }
        data.copy(buf, from - base, from - pos, to - pos);
      }
      this.size = Math.max(this.size, end);
      this.touch();
      if (this.dirty.size * cs > SPILL_BYTES) await this.spill();
      return data.length;
    });
  }

  truncate(size: number): Promise<void> {
    return this.serial(async () => {
      if (!this.changed) await this.refreshNow();
      if (size === this.size) {
        this.touch();
        return;
      }
      const cs = this.chunkSize;
      if (size < this.size) {
        // The chunk the new end falls in keeps only its head; every chunk after it goes.
        if (size % cs !== 0) {
          const buf = await this.materialise(Math.floor(size / cs), 0);
          if (buf.length > size % cs) buf.fill(0, size % cs);
        }
        const keep = Math.ceil(size / cs);
        for (const i of [...this.dirty.keys()]) if (i >= keep) this.dirty.delete(i);
        for (const i of [...this.stored.keys()]) if (i >= keep) this.stored.delete(i);
        this.baseLimit = Math.min(this.baseLimit, size);
      }
      this.size = size;
      this.touch();
    });
  }

  private touch(): void {
    this.changed = true;
    this.mtimeMs = Date.now();
  }

  /** Store whole changed chunks ahead of the commit, keeping their hashes. */
  private async spill(): Promise<void> {
    const cs = this.chunkSize;
    const lastFull = Math.floor(this.size / cs); // chunks below this index are full
    const ready = [...this.dirty.keys()].filter((i) => i < lastFull).sort((a, b) => a - b);
    if (ready.length === 0) return;
    this.marker ??= await this.runner.write((s) => putPendingMarker(s.tx));
    // What the transaction stores is fixed now: a runner may run it again (write-behind.ts).
    const bufs = ready.map((i) => fitted(this.dirty.get(i)!, cs));
    const hashes = await this.runner.write((s) => putChunks(s.tx, bufs));
    ready.forEach((i, k) => {
      this.stored.set(i, hashes[k]);
      this.dirty.delete(i);
    });
  }

  /** Make the held changes one new version of the file (nothing happens when there are none). */
  commit(): Promise<void> {
    return this.serial(async () => {
      if (!this.changed) return;
      const cs = this.chunkSize;
      // Everything the transaction uses is taken now, not read from `this` when it runs: a
      // runner may run it again after this file has moved on (write-behind.ts).
      const { size, mtimeMs, marker, base, ino } = this;
      const dirty = new Map(this.dirty);
      const stored = new Map(this.stored);
      const limit = Math.min(this.baseLimit, base.size);
      let baseList = this.list;
      const node = await this.runner.write(async (s) => {
        const count = Math.ceil(size / cs);
        const hashes: Buffer[] = [];
        const zeros = new Map<number, Buffer>();
        if (count > 0 && limit > 0) baseList ??= await chunkList(s.tx, base, cs);
        // Past `limit` the file holds zeros, except where written since. A chunk the old content
        // covers keeps its hash unless its length changed (the old last chunk of a grown file);
        // a stored chunk is always full (a cut inside it would have brought it back to `dirty`).
        for (let i = 0; i < count; i++) {
          const len = Math.min(cs, size - i * cs);
          const d = dirty.get(i);
          const st = stored.get(i);
          if (d) {
            hashes.push((await putChunks(s.tx, [fitted(d, len)]))[0]);
          } else if (st) {
            hashes.push(st);
          } else if (i * cs >= limit) {
            let z = zeros.get(len);
            if (!z) zeros.set(len, (z = (await putChunks(s.tx, [Buffer.alloc(len)]))[0]));
            hashes.push(z);
          } else if (Math.min(cs, base.size - i * cs) === len) {
            hashes.push(baseList![i]);
          } else {
            const buf = Buffer.alloc(len);
            (await this.getChunk(s.tx, baseList![i])).copy(buf, 0, 0, len);
            hashes.push((await putChunks(s.tx, [buf]))[0]);
          }
        }
        const ref = await contentFromChunks(s.tx, hashes, size);
        const next = await core.setContentOf(s, ino, ref, mtimeMs);
        if (marker) await removePendingMarker(s.tx, marker);
        return next;
      });
      this.base = core.contentOf(node);
      this.baseLimit = this.base.size;
      this.list = undefined;
      this.dirty.clear();
      this.stored.clear();
      this.marker = undefined;
      this.changed = false;
    });
  }

  /** Forget held changes (the file is gone; nothing can be committed). */
  async discard(): Promise<void> {
    const marker = this.marker;
    this.dirty.clear();
    this.stored.clear();
    this.size = this.base.size;
    this.baseLimit = this.base.size;
    this.changed = false;
    this.marker = undefined;
    if (marker) await this.runner.write((s) => removePendingMarker(s.tx, marker)).catch(() => {});
  }
}

/** The files open through one front end, one OpenFile per inode. */
export class OpenFiles {
  private files = new Map<number, OpenFile>();

  constructor(private readonly runner: Runner) {}

  /** The open file for an inode, if a handle has it open. */
  get(ino: number): OpenFile | undefined {
    return this.files.get(ino);
  }

  /** Every file open now. */
  all(): OpenFile[] {
    return [...this.files.values()];
  }

  /**
   * Open `path` (normalised, absolute): create it if asked, cut it with `truncate`. Returns the
   * shared OpenFile with one more handle on it; pair with close().
   */
  async open(path: string, flags: OpenFlags = {}): Promise<OpenFile> {
    const find = async (s: Parameters<Parameters<Runner['read']>[0]>[0]): Promise<Inode | undefined> => {
      // O_CREAT|O_EXCL: any entry at the name is EEXIST, a symlink too (dangling or not).
      if (flags.create && flags.exclusive && (await lookup(s, path, false)).found) throw vfsError('EEXIST', path);
      const r = await lookup(s, path, true);
      return r.found ? r.node : undefined;
    };
    let node: Inode | undefined;
    if (flags.create) {
      // One transaction: look, and create the file empty if it is not there, so that other
      // handles and processes see the name at once.
      const o: core.WriteOptions = { parents: false, exclusive: !!flags.exclusive };
      if (flags.mode !== undefined) o.mode = flags.mode & 0o7777;
      node = await this.runner.write(
        async (s) => {
          const there = await find(s);
          return there ?? core.writeFile(s, path, Buffer.alloc(0), o);
        },
        { op: 'write', paths: [path] },
      );
    } else {
      node = await this.runner.read(find);
      if (!node) throw vfsError('ENOENT', path);
    }
    if (node.type === 'directory') throw vfsError('EISDIR', path);
    let f = this.files.get(node.ino);
    if (!f) {
      f = new OpenFile(this.runner, node.ino, node);
      this.files.set(node.ino, f);
    } else {
      await f.refresh();
    }
    f.refs++;
    if (flags.truncate && flags.write && f.size > 0) await f.truncate(0);
    return f;
  }

  /** One handle fewer: commit what it changed; the last handle drops the file. */
  async close(f: OpenFile): Promise<void> {
    try {
      await f.commit();
    } catch (e) {
      // What could not be committed is gone with this handle; its pending marker must not stay.
      if (f.refs <= 1) await f.discard();
      throw e;
    } finally {
      if (--f.refs <= 0 && this.files.get(f.ino) === f) this.files.delete(f.ino);
    }
  }

  /** Commit every open file's changes (unmount, or a sync of everything). */
  async commitAll(): Promise<void> {
    for (const f of this.all()) await f.commit();
  }
}

