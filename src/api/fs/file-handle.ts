// A FileHandle over the vault's open-file table (src/api/open-files.ts): reads and writes at a
// position of its own, as a file descriptor has; writes are held by the table and become one
// version of the file when the handle is closed or synced. The argument checks and the errors
// are node:fs/promises' own: EBADF "file closed" after close(), EBADF for a write through a
// read-only handle, EISDIR for reading a folder's handle, ERR_OUT_OF_RANGE for bad offsets.
import { constants } from 'node:fs';
import { isVfsError } from '../../errors.js';
import type { FileOps } from '../fileops.js';
import type { OpenFile, OpenFiles } from '../open-files.js';
import type { Stat } from '../types.js';
import {
  bytesOf,
  checkBoolean,
  checkBuffer,
  checkBufferArray,
  checkInt32,
  checkInteger,
  checkObject,
  checkSignal,
  dataArg,
  encoded,
  modeArg,
  optionsArg,
  timeArg,
} from './args.js';
import { abortError, asFsError, closedError, fsError, invalidArgType, invalidArgValue, outOfRange } from './errors.js';
import type { StatFields, VaultBigIntStats, VaultStats } from './stats.js';

/** What a handle needs of the facade that opened it. */
export interface HandleContext {
  readonly ops: FileOps;
  readonly files: OpenFiles;
  stats(st: StatFields, bigint: boolean): VaultStats | VaultBigIntStats;
  /** uid and gid changes are refused unless they keep the process's own (a vault has no owners). */
  checkOwner(uid: unknown, gid: unknown, syscall: string): void;
}

/** What the handle was opened on: a file in the table, or a folder (which only stat() and close() serve). */
export type HandleTarget = { file: OpenFile } | { dirIno: number };

export interface HandleModes {
  readable: boolean;
  writable: boolean;
  append: boolean;
}

export interface ReadResult<T> {
  bytesRead: number;
  buffer: T;
}

export interface WriteResult<T> {
  bytesWritten: number;
  buffer: T;
}

type ReadOptions<T> = { buffer?: T; offset?: number | null; length?: number | null; position?: number | bigint | null };

async function guard<T>(syscall: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw asFsError(e, syscall);
  }
}

/** The file was removed while open: what it held has nowhere to go, as with an unlinked host file. */
function removed(e: unknown): boolean {
  return isVfsError(e, 'ENOENT');
}

export class VaultFileHandle {
  #fd: number;
  readonly #ctx: HandleContext;
  readonly #file: OpenFile | undefined;
  readonly #dirIno: number | undefined;
  readonly #modes: HandleModes;
  #pos = 0;
  #mode = 0o644;
  #closing: Promise<void> | undefined;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(ctx: HandleContext, fd: number, target: HandleTarget, modes: HandleModes) {
    this.#ctx = ctx;
    this.#fd = fd;
    this.#file = 'file' in target ? target.file : undefined;
    this.#dirIno = 'dirIno' in target ? target.dirIno : undefined;
    this.#modes = modes;
  }

  /** A number for the handle, unique in the process among open vault handles (not a host descriptor). */
  get fd(): number {
    return this.#fd;
  }

  #check(syscall: string): void {
    if (this.#fd === -1) throw closedError(syscall);
  }

  /**
   * Calls that use or move the handle's position run one at a time, in call order, as a file
   * descriptor's reads and writes do: two writes not awaited in between land one after the other.
   */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  /** Read into `buffer` from `position` (or the handle's position when it is null or negative). */
  async read<T extends ArrayBufferView = Buffer>(buffer?: T | ReadOptions<T> | null, offset?: number | null | ReadOptions<T>, length?: number | null, position?: number | bigint | null): Promise<ReadResult<T>> {
    this.#check('read');
    let buf: unknown = buffer;
    let off: unknown = offset;
    let len: unknown = length;
    let pos: unknown = position;
    if (!ArrayBuffer.isView(buf)) {
      // read({ buffer, offset, length, position }) and read()
      if (buffer !== undefined && buffer !== null) checkObject(buffer, 'options');
      const p = (buffer ?? {}) as ReadOptions<T>;
      buf = p.buffer === undefined ? Buffer.alloc(16384) : p.buffer;
      off = p.offset === undefined ? 0 : p.offset;
      len = p.length === undefined ? (buf as ArrayBufferView).byteLength - (off as number) : p.length;
      pos = p.position === undefined ? null : p.position;
      checkBuffer(buf);
    }
    const view = buf as T;
    if (off !== null && typeof off === 'object') {
      // read(buffer, { offset, length, position })
      const o = off as ReadOptions<T>;
      off = o.offset === undefined ? 0 : o.offset;
      len = o.length === undefined ? view.byteLength - (off as number) : o.length;
      pos = o.position === undefined ? null : o.position;
    }
    if (off === null || off === undefined) off = 0;
    else checkInteger(off, 'offset', 0);
    len ??= view.byteLength - (off as number);
    if (len === 0) return { bytesRead: 0, buffer: view };
    if (view.byteLength === 0) throw invalidArgValue('buffer', view, 'is empty and cannot be written');
    const o = off as number;
    if (typeof len !== 'number') throw invalidArgType('length', 'number', len);
    const n = len;
    if (n < 0) throw outOfRange('length', '>= 0', n);
    if (o + n > view.byteLength) throw outOfRange('length', `<= ${view.byteLength - o}`, n);
    // (Node's own binding aborts the process on a fractional length; an error is kinder.)
    if (!Number.isInteger(n)) throw outOfRange('length', 'an integer', n);
    const bytesRead = await this.#readInto(bytesOf(view), o, n, pos);
    return { bytesRead, buffer: view };
  }

  /** Node reads at `position` only when it is a safe integer >= 0; anything else means "here". */
  async #readInto(into: Buffer, offset: number, length: number, position: unknown): Promise<number> {
    if (!this.#modes.readable) throw fsError('EBADF', 'read');
    const file = this.#file;
    if (!file) throw fsError('EISDIR', 'read');
    const positional = typeof position === 'number' && Number.isSafeInteger(position) && position >= 0;
    return this.#serial(async () => {
      const at = positional ? (position as number) : this.#pos;
      const data = await guard('read', () => file.read(at, length));
      data.copy(into, offset);
      if (!positional) this.#pos = at + data.length;
      return data.length;
    });
  }

  async readv<T extends ArrayBufferView>(buffers: T[], position?: number | null): Promise<{ bytesRead: number; buffers: T[] }> {
    this.#check('readv');
    checkBufferArray(buffers);
    // readv(2) with no buffers at all is EINVAL on Linux (an empty buffer is fine).
    if (buffers.length === 0) throw fsError('EINVAL', 'read');
    const positional = typeof position === 'number' && Number.isSafeInteger(position) && position >= 0;
    let total = 0;
    for (const b of buffers) {
      const n = await this.#readInto(bytesOf(b), 0, b.byteLength, positional ? (position as number) + total : null);
      total += n;
      if (n < b.byteLength) break;
    }
    return { bytesRead: total, buffers };
  }

  /**
   * write(buffer, offset?, length?, position?), write(buffer, { offset, length, position }) or
   * write(string, position?, encoding?). A null position writes at the handle's position; a
   * handle opened for appending always writes at the end (as Linux does even with a position).
   */
  async write<T extends ArrayBufferView | string>(buffer: T, offsetOrOptions?: number | null | { offset?: number; length?: number; position?: number | null }, length?: number | BufferEncoding | null, position?: number | null): Promise<WriteResult<T>> {
    this.#check('write');
    if ((buffer as { byteLength?: number } | null | undefined)?.byteLength === 0) return { bytesWritten: 0, buffer };
    if (ArrayBuffer.isView(buffer)) {
      let off: unknown = offsetOrOptions;
      let len: unknown = length;
      let pos: unknown = position;
      if (typeof off === 'object') {
        const o = (offsetOrOptions ?? {}) as { offset?: number; length?: number; position?: number | null };
        off = o.offset === undefined ? 0 : o.offset;
        len = o.length === undefined ? buffer.byteLength - (off as number) : o.length;
        pos = o.position === undefined ? null : o.position;
      }
      if (off === null || off === undefined) off = 0;
      else checkInteger(off, 'offset', 0);
      const o = off as number;
      if (typeof len !== 'number') len = buffer.byteLength - o;
      if (typeof pos !== 'number') pos = null;
      const n = len as number;
      if (o > buffer.byteLength) throw outOfRange('offset', `<= ${buffer.byteLength}`, o);
      if (n > buffer.byteLength - o) throw outOfRange('length', `<= ${buffer.byteLength - o}`, n);
      if (n < 0) throw outOfRange('length', '>= 0', n);
      checkInt32(n, 'length', 0);
      const bytesWritten = await this.#writeAt(bytesOf(buffer).subarray(o, o + n), pos);
      return { bytesWritten, buffer };
    }
    if (typeof buffer !== 'string') throw invalidArgType('buffer', ['string', 'Buffer', 'TypedArray', 'DataView'], buffer);
    const enc = typeof length === 'string' && Buffer.isEncoding(length) ? length : 'utf8';
    if (enc.toLowerCase() === 'hex' && buffer.length % 2 !== 0) throw invalidArgValue('encoding', length, `is invalid for data of length ${buffer.length}`);
    const bytesWritten = await this.#writeAt(Buffer.from(buffer, enc), offsetOrOptions);
    return { bytesWritten, buffer };
  }

  async #writeAt(data: Buffer, position: unknown): Promise<number> {
    if (!this.#modes.writable) throw fsError('EBADF', 'write');
    const file = this.#file!;
    const positional = typeof position === 'number' && Number.isSafeInteger(position) && position >= 0;
    return this.#serial(() => guard('write', async () => {
      // Another process may have appended since this handle last looked (a no-op when it holds changes).
      if (this.#modes.append) await file.refresh();
      const at = this.#modes.append ? file.size : positional ? (position as number) : this.#pos;
      const n = await file.write(at, data);
      if (!positional) this.#pos = at + n;
      return n;
    }));
  }

  async writev<T extends ArrayBufferView>(buffers: T[], position?: number | null): Promise<{ bytesWritten: number; buffers: T[] }> {
    this.#check('writev');
    checkBufferArray(buffers);
    if (buffers.length === 0) return { bytesWritten: 0, buffers };
    const bytesWritten = await this.#writeAt(Buffer.concat(buffers.map(bytesOf)), typeof position === 'number' ? position : null);
    return { bytesWritten, buffers };
  }

  /** The rest of the file from the handle's position (Node reads from there, not from 0). */
  readFile(options?: { encoding?: null; flag?: string | number; signal?: AbortSignal } | null): Promise<Buffer>;
  readFile(options: BufferEncoding | { encoding: BufferEncoding; flag?: string | number; signal?: AbortSignal }): Promise<string>;
  async readFile(options?: unknown): Promise<Buffer | string> {
    this.#check('readFile');
    const o = optionsArg(options, { flag: 'r' });
    if (o.signal?.aborted) throw abortError(o.signal);
    if (!this.#modes.readable) throw fsError('EBADF', 'read');
    const file = this.#file;
    if (!file) throw fsError('EISDIR', 'read');
    const data = await this.#serial(async () => {
      const at = this.#pos;
      const bytes = await guard('read', () => file.read(at, Number.MAX_SAFE_INTEGER - at));
      this.#pos = at + bytes.length;
      return bytes;
    });
    return encoded(data, o.encoding);
  }

  /** Write at the handle's position (Node neither truncates nor starts at 0 here). */
  async writeFile(data: unknown, options?: unknown): Promise<void> {
    this.#check('writeFile');
    return this.#writeWhole(data, options);
  }

  /** The same as writeFile() on a handle: where it writes follows from how it was opened. */
  async appendFile(data: unknown, options?: unknown): Promise<void> {
    this.#check('writeFile');
    return this.#writeWhole(data, options);
  }

  async #writeWhole(data: unknown, options: unknown): Promise<void> {
    const o = optionsArg(options, { encoding: 'utf8' as BufferEncoding, mode: 0o666, flag: 'w', flush: false });
    checkBoolean((o as { flush?: unknown }).flush ?? false, 'options.flush');
    const buf = await dataArg(data, o.encoding);
    checkSignal(o.signal, 'options.signal');
    if (o.signal?.aborted) throw abortError(o.signal);
    if (buf.length === 0) return;
    await this.#writeAt(buf, null);
  }

  async truncate(len: number = 0): Promise<void> {
    this.#check('ftruncate');
    const n = Math.max(0, checkInteger(len, 'len'));
    // Linux's ftruncate on a descriptor not open for writing is EINVAL, not EBADF.
    const file = this.#file;
    if (!this.#modes.writable || !file) throw fsError('EINVAL', 'ftruncate');
    await guard('ftruncate', () => file.truncate(n));
  }

  async stat(options?: { bigint?: boolean }): Promise<VaultStats | VaultBigIntStats> {
    this.#check('fstat');
    const bigint = !!options?.bigint;
    const file = this.#file;
    const st = await this.#ctx.ops.statIno(file ? file.ino : this.#dirIno!).catch((e: unknown) => {
      // A host file unlinked while open still has a stat (nlink 0); so has this one.
      if (file && removed(e)) return undefined;
      throw asFsError(e, 'fstat');
    });
    if (!st) {
      const t = file!.mtimeMs;
      return this.#ctx.stats({ type: 'file', ino: file!.ino, mode: this.#mode, size: file!.size, nlink: 0, mtimeMs: t, ctimeMs: t, birthtimeMs: t }, bigint);
    }
    this.#mode = st.mode;
    return this.#ctx.stats(st, bigint);
  }

  /** Where the handle's file now is (it may have been renamed since it was opened). */
  async #current(syscall: string): Promise<Stat> {
    return guard(syscall, () => this.#ctx.ops.statIno(this.#file ? this.#file.ino : this.#dirIno!));
  }

  /** Make what this handle's file holds unwritten one version now (fsync). */
  async sync(): Promise<void> {
    this.#check('fsync');
    await this.#commit('fsync');
  }

  async datasync(): Promise<void> {
    this.#check('fdatasync');
    await this.#commit('fdatasync');
  }

  async #commit(syscall: string): Promise<void> {
    const file = this.#file;
    if (!file) return;
    await file.commit().catch(async (e: unknown) => {
      if (!removed(e)) throw asFsError(e, syscall);
      await file.discard();
    });
  }

  async chmod(mode: number | string): Promise<void> {
    this.#check('fchmod');
    const m = modeArg(mode, 'mode');
    const st = await this.#current('fchmod');
    await guard('fchmod', () => this.#ctx.ops.chmod(st.path, m & 0o7777));
  }

  async chown(uid: number, gid: number): Promise<void> {
    this.#check('fchown');
    checkInteger(uid, 'uid', -1, 2 ** 32 - 1);
    checkInteger(gid, 'gid', -1, 2 ** 32 - 1);
    await this.#current('fchown');
    await guard('fchown', async () => this.#ctx.checkOwner(uid, gid, 'fchown'));
  }

  async utimes(atime: number | string | Date, mtime: number | string | Date): Promise<void> {
    this.#check('futimes');
    timeArg(atime, 'atime');
    const ms = timeArg(mtime, 'mtime');
    const st = await this.#current('futime');
    await guard('futime', () => this.#ctx.ops.utimes(st.path, ms));
    // Held writes carry their own mtime into the commit; the one set here must win.
    if (this.#file?.dirtyState) this.#file.mtimeMs = ms;
  }

  /** Commit what the file holds unwritten (one version) and let the handle go; again: nothing. */
  close = (): Promise<void> => {
    if (this.#fd === -1) return Promise.resolve();
    this.#fd = -1;
    const file = this.#file;
    this.#closing = file
      ? this.#ctx.files.close(file).catch(async (e: unknown) => {
          if (!removed(e)) throw asFsError(e, 'close');
          await file.discard();
        })
      : Promise.resolve();
    return this.#closing;
  };

  async [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The access and creation bits of open flags. */
export function modesOf(flags: number): HandleModes & { create: boolean; exclusive: boolean; truncate: boolean } {
  const acc = flags & (constants.O_WRONLY | constants.O_RDWR);
  const create = (flags & constants.O_CREAT) !== 0;
  return {
    readable: acc === constants.O_RDONLY || acc === constants.O_RDWR,
    writable: acc === constants.O_WRONLY || acc === constants.O_RDWR,
    append: (flags & constants.O_APPEND) !== 0,
    create,
    exclusive: create && (flags & constants.O_EXCL) !== 0,
    truncate: (flags & constants.O_TRUNC) !== 0,
  };
}
