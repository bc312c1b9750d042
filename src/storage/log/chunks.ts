// Chunk files (chunks-NNNNNN): the values of large collections, appended one after another and
// never rewritten, so a reference (file, offset, length, checksum) held by any snapshot in any
// process stays valid. A value is written and flushed before the log record that refers to it,
// so a committed reference never points at bytes that are not on disk.
import fs from 'node:fs';
import { join } from 'node:path';
import { aad, type Cipher } from './cipher.js';
import { CHUNK_RE, chunkName, sum8, type Ref } from './format.js';

export class ChunkFiles {
  private readers = new Map<number, number>();
  private writer: { id: number; fd: number } | undefined;
  /** Highest chunk file id seen. */
  current = 1;

  constructor(
    private dir: string,
    private cipher: Cipher,
    private fileBytes: number,
  ) {
    for (const id of this.ids()) if (id > this.current) this.current = id;
  }

  ids(): number[] {
    const out: number[] = [];
    for (const f of fs.readdirSync(this.dir)) {
      const m = CHUNK_RE.exec(f);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  size(id: number): number {
    try {
      return fs.statSync(join(this.dir, chunkName(id))).size;
    } catch {
      return 0;
    }
  }

  private reader(id: number): number {
    let fd = this.readers.get(id);
    if (fd === undefined) {
      fd = fs.openSync(join(this.dir, chunkName(id)), 'r');
      this.readers.set(id, fd);
    }
    return fd;
  }

  /** The stored bytes of a reference, unchecked (check() and copyTo verify them). */
  stored(ref: Ref): Buffer {
    const b = Buffer.allocUnsafe(ref.length);
    const fd = this.reader(ref.file);
    let got = 0;
    while (got < ref.length) {
      const n = fs.readSync(fd, b, got, ref.length - got, ref.offset + got);
      if (n === 0) throw Object.assign(new Error(`chunk file ${chunkName(ref.file)} ends before offset ${ref.offset + ref.length}`), { code: 'ECORRUPT' });
      got += n;
    }
    return b;
  }

  read(ref: Ref): Buffer {
    const b = this.stored(ref);
    if (!this.cipher.encrypted) return b;
    const plain = this.cipher.open(b, aad('chunk', ref.file, ref.offset));
    if (plain === undefined) throw Object.assign(new Error(`a value in ${chunkName(ref.file)} does not authenticate`), { code: 'ECORRUPT' });
    return plain;
  }

  /** Is the value behind `ref` intact? */
  verify(ref: Ref): string | undefined {
    let b: Buffer;
    try {
      b = this.stored(ref);
    } catch (e) {
      return (e as Error).message;
    }
    if (!sum8(b).equals(ref.sum)) return `${chunkName(ref.file)}: checksum mismatch at offset ${ref.offset}`;
    if (this.cipher.encrypted && this.cipher.open(b, aad('chunk', ref.file, ref.offset)) === undefined) {
      return `${chunkName(ref.file)}: value at offset ${ref.offset} does not authenticate`;
    }
    return undefined;
  }

  /** Append values at the end of the current chunk file (caller holds the writer lock). */
  append(values: Buffer[], sync: boolean): Ref[] {
    if (values.length === 0) return [];
    let w = this.writerFd();
    let end = fs.fstatSync(w.fd).size;
    // Another process may have moved on to a newer file; files only ever fill up, so follow.
    while (end >= this.fileBytes) {
      this.current = w.id + 1;
      w = this.writerFd();
      end = fs.fstatSync(w.fd).size;
    }
    const refs: Ref[] = [];
    const parts: Buffer[] = [];
    let at = end;
    for (const v of values) {
      const stored = this.cipher.encrypted ? this.cipher.seal(v, aad('chunk', w.id, at)) : v;
      refs.push({ file: w.id, offset: at, length: stored.length, sum: sum8(stored) });
      parts.push(stored);
      at += stored.length;
    }
    const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, at - end);
    let done = 0;
    try {
      while (done < buf.length) done += fs.writeSync(w.fd, buf, done, buf.length - done, end + done);
      if (sync) fs.fdatasyncSync(w.fd);
    } catch (e) {
      // Nothing refers to these bytes yet; cut them off so a full disk does not keep them.
      try {
        fs.ftruncateSync(w.fd, end);
      } catch {
        /* the next writer appends after them; they are only wasted space */
      }
      throw e;
    }
    return refs;
  }

  private writerFd(): { id: number; fd: number } {
    if (this.writer?.id !== this.current) {
      if (this.writer) {
        // sync() flushes only the file being written: flush the one left behind now.
        fs.fdatasyncSync(this.writer.fd);
        fs.closeSync(this.writer.fd);
      }
      this.writer = undefined;
      const fd = fs.openSync(join(this.dir, chunkName(this.current)), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
      this.writer = { id: this.current, fd };
    }
    return this.writer;
  }

  sync(): void {
    if (this.writer) fs.fdatasyncSync(this.writer.fd);
  }

  /** An id above every chunk file there is or was (ids are never used twice: readers cache by id). */
  nextId(): number {
    return Math.max(this.current, ...this.ids()) + 1;
  }

  /** Start chunk file `id` (above every existing one): the next append goes there. */
  startFile(id: number): void {
    this.current = id;
    this.writerFd();
  }

  /** Remove chunk files nothing refers to any more (the caller made sure of that). */
  remove(ids: number[]): void {
    for (const id of ids) {
      const fd = this.readers.get(id);
      if (fd !== undefined) fs.closeSync(fd);
      this.readers.delete(id);
      if (this.writer?.id === id) {
        fs.closeSync(this.writer.fd);
        this.writer = undefined;
      }
      fs.rmSync(join(this.dir, chunkName(id)), { force: true });
    }
  }

  close(): void {
    for (const fd of this.readers.values()) fs.closeSync(fd);
    this.readers.clear();
    if (this.writer) fs.closeSync(this.writer.fd);
    this.writer = undefined;
  }
}
