// vault.fs: the vault as node:fs/promises. Code written for Node's fs (readFile, writeFile,
// open() and its FileHandle, readdir, stat, mkdir, rm, rename, cp...) runs on a vault unchanged
// and sees what it would see on a Linux host: the same results, the same error codes, errno,
// syscall names and messages, the same argument errors. A call is one vault operation where
// it can be (one version for a writeFile, one rm -r); a FileHandle's writes are held in the
// vault's open-file table and become one version when it is closed or synced. What differs
// and why: docs/fs-promises.md.
//
// Paths are vault paths: absolute, or relative to vault.cwd. Every method is bound, so
// `const { readFile } = vault.fs` works as with the module.
import { constants } from 'node:fs';
import { posix } from 'node:path';
import { isVfsError, vfsError } from '../../errors.js';
import { DEFAULT_FILE_MODE } from '../../core/fs.js';
import { dirname, isWithin, joinNames, splitPath } from '../../core/paths.js';
import type { FileType } from '../../core/records.js';
import type { FileOps } from '../fileops.js';
import type { OpenFile, OpenFiles } from '../open-files.js';
import type { Stat } from '../types.js';
import {
  checkBoolean,
  checkInt32,
  checkInteger,
  checkObject,
  checkSignal,
  dataArg,
  encoded,
  flagsArg,
  modeArg,
  optionsArg,
  pathArg,
  smallModeArg,
  timeArg,
  type PathLike,
} from './args.js';
import { abortError, asFsError, codedError, fsError, NodeSystemError, outOfRange } from './errors.js';
import { modesOf, VaultFileHandle, type HandleContext } from './file-handle.js';
import { VaultDir } from './dir.js';
import { expectDir, lstatOrNothing, parentDir, resolveTarget, type Target } from './paths.js';
import { mkdirRecursive } from './mkdir.js';
import { makeStats, VaultDirent, type StatFields, type VaultBigIntStats, type VaultStats } from './stats.js';
import type { CpOptions } from './cp.js';

/**
 * Modes given to open(), writeFile() and mkdir() are cut by this umask, as a host process's
 * usually are: files made with Node's default 0o666 get 0o644, folders 0o755. Fixed rather than
 * the process's, so that what a vault holds does not depend on who wrote it.
 */
export const UMASK = 0o022;

/**
 * Handle numbers start high: a vault handle's fd passed by mistake to a node:fs call that takes
 * descriptors fails with EBADF instead of touching whatever host file has that small number.
 */
const FD_BASE = 0x40000000;

const MAX_ID = 2 ** 32 - 1;
const myUid = process.getuid?.() ?? 0;
const myGid = process.getgid?.() ?? 0;

const { O_RDONLY, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_WRONLY, O_SYNC, O_DIRECTORY, O_NOFOLLOW, COPYFILE_EXCL } = constants;

type Encoding = BufferEncoding | 'buffer' | null | undefined;
type StatOpts = { bigint?: boolean };
type ReaddirOpts = { encoding?: Encoding; withFileTypes?: boolean; recursive?: boolean } | BufferEncoding | 'buffer' | null;

/** A name in the encoding asked for: a string (UTF-8 by default) or, with 'buffer', a Buffer. */
function named(name: string, encoding: unknown): string | Buffer {
  if (encoding === 'buffer') return Buffer.from(name);
  return encoding && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(name).toString(encoding as BufferEncoding) : name;
}

function missing(e: unknown): undefined {
  if (isVfsError(e, 'ENOENT')) return undefined;
  throw e;
}

export class VaultFs {
  readonly constants = constants;
  readonly #ops: FileOps;
  readonly #files: OpenFiles;
  readonly #dev: number;
  readonly #ctx: HandleContext;
  #nextFd = FD_BASE;

  /** `dev` is the number every Stats of this vault reports as its device. */
  constructor(ops: FileOps, dev: number) {
    this.#ops = ops;
    this.#files = ops.openFiles();
    this.#dev = dev;
    this.#ctx = {
      ops,
      files: this.#files,
      stats: (st, bigint) => this.#stats(st, bigint),
      checkOwner: (uid, gid, syscall) => this.#checkOwner(uid, gid, syscall),
    };
    // Methods work detached, as the module's functions do.
    for (const k of Object.getOwnPropertyNames(VaultFs.prototype)) {
      const v = (this as unknown as Record<string, unknown>)[k];
      if (k !== 'constructor' && typeof v === 'function') Object.defineProperty(this, k, { value: v.bind(this), writable: true, configurable: true });
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  async #run<T>(syscall: string, path: string | undefined, dest: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw asFsError(e, syscall, path, dest);
    }
  }

  #target(given: string): Promise<Target> {
    return resolveTarget(this.#ops, given);
  }

  /** A Stats, with the size and mtime a FileHandle holds unwritten. */
  #stats(st: StatFields, bigint: boolean): VaultStats | VaultBigIntStats {
    const f = this.#files.get(st.ino);
    return makeStats(f?.dirtyState ? { ...st, size: f.size, mtimeMs: f.mtimeMs } : st, this.#dev, bigint);
  }

  /** The open file at a path, if a handle has it open (no lookup while nothing is open). */
  async #openFileAt(abs: string): Promise<OpenFile | undefined> {
    if (this.#files.all().length === 0) return undefined;
    const st = await this.#ops.stat(abs).catch(() => undefined);
    return st && this.#files.get(st.ino);
  }

  /**
   * Before a path call changes a file's content: what a handle holds unwritten is already "in the
   * file" for everyone, as on a host, so it is committed first and the call then acts on it.
   */
  async #settle(abs: string): Promise<void> {
    const f = await this.#openFileAt(abs);
    if (f?.dirtyState) await f.commit();
  }

  #checkOwner(uid: unknown, gid: unknown, syscall: string): void {
    const u = checkInteger(uid, 'uid', -1, MAX_ID);
    const g = checkInteger(gid, 'gid', -1, MAX_ID);
    if ((u !== -1 && u !== myUid) || (g !== -1 && g !== myGid)) throw vfsError('EPERM', undefined, `${syscall}: a vault has no owners to change`);
  }

  #lstatOrNothing(abs: string): Promise<Stat | undefined> {
    return lstatOrNothing(this.#ops, abs);
  }

  #parentDir(abs: string): Promise<void> {
    return parentDir(this.#ops, abs);
  }

  /**
   * O_CREAT on a name that must be a folder: '.' or '..' exists (EEXIST with O_EXCL, else
   * EISDIR), and 'name/' is EISDIR once its parent resolves, whatever is there (Linux's rules).
   */
  async #createFolderName(t: Target, exclusive: boolean): Promise<never> {
    if (t.lastDot) throw vfsError(exclusive ? 'EEXIST' : 'EISDIR', t.abs);
    await this.#parentDir(t.abs);
    throw vfsError('EISDIR', t.abs);
  }

  /**
   * Not in node:fs: commit what every open FileHandle holds, each as one version (vault.close()
   * does this; a host file has those bytes already). The handles stay open.
   */
  async commitOpenFiles(): Promise<void> {
    for (const f of this.#files.all()) {
      await f.commit().catch(async (e: unknown) => {
        if (!isVfsError(e, 'ENOENT')) throw e;
        await f.discard();
      });
    }
  }

  // ---- files --------------------------------------------------------------------------------

  /** Open a file (or, read-only, a folder) and get a FileHandle: flags 'r', 'r+', 'w', 'wx', 'w+', 'a', 'a+', 'ax'... or O_* bits. */
  async open(path: PathLike, flags?: string | number, mode?: string | number): Promise<VaultFileHandle> {
    const given = pathArg(path);
    const f = flagsArg(flags);
    const m = modeArg(mode, 'mode', 0o666);
    return this.#run('open', given, undefined, async () => this.#open(await this.#target(given), f, m));
  }

  async #open(t: Target, flags: number, mode: number): Promise<VaultFileHandle> {
    const modes = modesOf(flags);
    if (t.dirOnly && modes.create) await this.#createFolderName(t, modes.exclusive);
    await expectDir(this.#ops, t);
    if (modes.exclusive || flags & O_NOFOLLOW) {
      const there = await this.#lstatOrNothing(t.abs);
      // O_EXCL fails on any name that exists, a dangling symlink included; O_NOFOLLOW on any symlink.
      if (there && modes.exclusive) throw vfsError('EEXIST', t.abs);
      if (there?.type === 'symlink') throw vfsError('ELOOP', t.abs);
    }
    if (flags & O_DIRECTORY) {
      const st = await this.#ops.stat(t.abs);
      if (st.type !== 'directory') throw vfsError('ENOTDIR', t.abs);
    }
    let file: OpenFile;
    try {
      file = await this.#files.open(t.abs, { create: modes.create, exclusive: modes.exclusive, truncate: modes.truncate, write: modes.writable, mode: mode & 0o7777 & ~UMASK });
    } catch (e) {
      // A folder opens read-only, as on Linux: stat() and close() work, reads are EISDIR.
      if (isVfsError(e, 'EISDIR') && !modes.writable && !modes.create && !modes.truncate) {
        const st = await this.#ops.stat(t.abs);
        return new VaultFileHandle(this.#ctx, this.#nextFd++, { dirIno: st.ino }, modes);
      }
      throw e;
    }
    return new VaultFileHandle(this.#ctx, this.#nextFd++, { file }, modes);
  }

  readFile(path: PathLike | VaultFileHandle, options?: { encoding?: null; flag?: string | number; signal?: AbortSignal } | null): Promise<Buffer>;
  readFile(path: PathLike | VaultFileHandle, options: BufferEncoding | { encoding: BufferEncoding; flag?: string | number; signal?: AbortSignal }): Promise<string>;
  readFile(path: PathLike | VaultFileHandle, options?: unknown): Promise<Buffer | string>;
  async readFile(path: PathLike | VaultFileHandle, options?: unknown): Promise<Buffer | string> {
    const o = optionsArg(options, { flag: 'r' as string | number });
    if (path instanceof VaultFileHandle) {
      // Node reads a handle here without its closed check: a closed one's fd (-1) is refused.
      if (path.fd === -1) throw outOfRange('fd', '>= 0 && <= 2147483647', -1);
      return path.readFile(o as never);
    }
    if (o.signal?.aborted) throw abortError(o.signal);
    const given = pathArg(path);
    const flags = flagsArg(o.flag || 'r');
    if ((flags & ~O_SYNC) !== O_RDONLY) return this.#throughHandle(given, flags, 0o666, (h) => h.readFile(o as never));
    return this.#run('open', given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      const f = await this.#openFileAt(t.abs);
      let data: Buffer;
      try {
        data = f ? await f.read(0, Number.MAX_SAFE_INTEGER) : await this.#ops.readFile(t.abs);
      } catch (e) {
        // Node opens a folder fine and fails in read(2), which names no path.
        if (isVfsError(e, 'EISDIR')) throw fsError('EISDIR', 'read');
        throw e;
      }
      return encoded(data, o.encoding);
    });
  }

  /** Open, do, close (the close's commit happens even when `fn` fails), as Node's readFile and writeFile do. */
  async #throughHandle<T>(given: string, flags: number, mode: number, fn: (h: VaultFileHandle) => Promise<T>): Promise<T> {
    const h = await this.#run('open', given, undefined, async () => this.#open(await this.#target(given), flags, mode));
    try {
      return await fn(h);
    } finally {
      await h.close();
    }
  }

  /** Replace a file's content (flag 'w'), create it only (wx), add to it (a): one version per call. */
  async writeFile(path: PathLike | VaultFileHandle, data: unknown, options?: unknown): Promise<void> {
    const o = optionsArg(options, { encoding: 'utf8' as BufferEncoding, mode: 0o666 as number | string, flag: 'w' as string | number, flush: false });
    checkBoolean((o as { flush?: unknown }).flush ?? false, 'options.flush');
    const buf = await dataArg(data, o.encoding);
    checkSignal(o.signal, 'options.signal');
    if (path instanceof VaultFileHandle) {
      if (path.fd === -1) {
        if (buf.length === 0) return;
        throw fsError('EBADF', 'write');
      }
      return path.writeFile(buf, o);
    }
    if (o.signal?.aborted) throw abortError(o.signal);
    const given = pathArg(path);
    const flags = flagsArg(o.flag || 'w');
    const mode = modeArg(o.mode, 'mode', 0o666) & 0o7777 & ~UMASK;
    const plain = flags & ~(O_SYNC | O_EXCL);
    if (plain !== (O_TRUNC | O_CREAT | O_WRONLY) && plain !== (O_APPEND | O_CREAT | O_WRONLY)) {
      return this.#throughHandle(given, flags, mode, (h) => h.writeFile(buf));
    }
    // The usual case in one vault write (one version), not an open, a write and a commit.
    return this.#run('open', given, undefined, async () => {
      const t = await this.#target(given);
      const exclusive = (flags & O_EXCL) !== 0;
      if (t.dirOnly) await this.#createFolderName(t, exclusive);
      if (exclusive && (await this.#lstatOrNothing(t.abs))) throw vfsError('EEXIST', t.abs);
      // The mode is for a file made now; an existing file keeps its own.
      const setMode = mode !== DEFAULT_FILE_MODE && !(await this.#ops.stat(t.abs).catch(() => undefined));
      await this.#settle(t.abs);
      await this.#ops.writeFile(t.abs, buf, { parents: false, exclusive, append: (flags & O_APPEND) !== 0, ...(setMode ? { mode } : {}) });
    });
  }

  async appendFile(path: PathLike | VaultFileHandle, data: unknown, options?: unknown): Promise<void> {
    const o = { ...optionsArg(options, { encoding: 'utf8' as BufferEncoding, mode: 0o666 as number | string, flag: 'a' as string | number }) };
    o.flag = o.flag || 'a';
    return this.writeFile(path, data, o);
  }

  /** Cut or extend a file (extended with zeros); a negative length is 0, as in Node. */
  async truncate(path: PathLike, len: number = 0): Promise<void> {
    const given = pathArg(path);
    const t = await this.#run('open', given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      if ((await this.#ops.stat(t.abs)).type === 'directory') throw vfsError('EISDIR', t.abs);
      return t;
    });
    const n = Math.max(0, checkInteger(len, 'len'));
    return this.#run('ftruncate', undefined, undefined, async () => {
      await this.#settle(t.abs);
      await this.#ops.truncate(t.abs, n);
    });
  }

  /** Copy a file's content and mode (the content is shared, not stored twice); COPYFILE_EXCL: EEXIST if dest exists. */
  async copyFile(src: PathLike, dest: PathLike, mode?: number): Promise<void> {
    const s = pathArg(src, 'src');
    const d = pathArg(dest, 'dest');
    const m = smallModeArg(mode);
    return this.#run('copyfile', s, d, async () => {
      // libuv's order: open the source (its errors first), open the destination for writing
      // (its errors next), and only then find that the source is a folder (EISDIR in the read).
      const a = await this.#target(s);
      await expectDir(this.#ops, a);
      const from = await this.#ops.stat(a.abs);
      const b = await this.#target(d);
      if (b.dirOnly) await this.#createFolderName(b, (m & COPYFILE_EXCL) !== 0);
      const there = await this.#lstatOrNothing(b.abs);
      if (there && m & COPYFILE_EXCL) throw vfsError('EEXIST', b.abs);
      const to = there ? await this.#ops.stat(b.abs).catch(missing) : undefined;
      if (to?.type === 'directory') throw vfsError('EISDIR', b.abs);
      if (!there) await this.#parentDir(b.abs);
      if (from.type === 'directory') {
        // By now libuv has the destination open: made (through a dangling symlink too) or cut to
        // nothing, with the folder's mode. The read fails, and libuv unlinks the destination's
        // name on its way out. The same here, odd as it is, so that nothing differs afterwards.
        await this.#ops.writeFile(b.abs, Buffer.alloc(0), { parents: false });
        await this.#ops.chmod(b.abs, from.mode);
        await this.#ops.unlink(b.abs);
        throw vfsError('EISDIR', a.abs);
      }
      if (to?.ino === from.ino) return; // the same file: nothing to do, as libuv decides
      await this.#settle(a.abs);
      await this.#settle(b.abs);
      await this.#ops.copy(a.abs, b.abs);
    });
  }

  /** Copy a file, or with `recursive` a folder, as Node's cp() does (src/api/fs/cp.ts). */
  async cp(src: PathLike, dest: PathLike, options?: CpOptions): Promise<void> {
    const { cp } = await import('./cp.js');
    return cp(this, (p) => this.#ops.abs(p), src, dest, options);
  }

  // ---- names --------------------------------------------------------------------------------

  async unlink(path: PathLike): Promise<void> {
    const given = pathArg(path);
    return this.#run('unlink', given, undefined, async () => {
      const t = await this.#target(given);
      if (t.lastDot) throw vfsError('EISDIR', t.abs);
      // 'name/' names a folder: one is EISDIR, anything else (a symlink too) ENOTDIR.
      if (t.dirOnly) throw vfsError((await this.#ops.lstat(t.abs)).type === 'directory' ? 'EISDIR' : 'ENOTDIR', t.abs);
      await this.#ops.unlink(t.abs);
    });
  }

  async rename(oldPath: PathLike, newPath: PathLike): Promise<void> {
    const a = pathArg(oldPath, 'oldPath');
    const b = pathArg(newPath, 'newPath');
    return this.#run('rename', a, b, async () => {
      const from = await this.#target(a);
      // Linux resolves the source's folder before the destination's.
      const to = await this.#target(b).catch(async (e: unknown) => {
        if (!from.lastDot) await this.#parentDir(from.abs);
        throw e;
      });
      if (from.dirOnly || to.dirOnly) {
        // Linux resolves both parent folders before it looks at the names themselves.
        if (!from.lastDot) await this.#parentDir(from.abs);
        if (!to.lastDot) await this.#parentDir(to.abs);
        if (from.lastDot || to.lastDot) throw vfsError('EBUSY', from.abs);
        // A trailing slash on either side says both must be folders (not symlinks to one).
        if ((await this.#ops.lstat(from.abs)).type !== 'directory') throw vfsError('ENOTDIR', from.abs);
        if (to.dirOnly && ((await this.#lstatOrNothing(to.abs))?.type ?? 'directory') !== 'directory') throw vfsError('ENOTDIR', to.abs);
      }
      try {
        await this.#ops.rename(from.abs, to.abs);
      } catch (e) {
        // The same order when the source is missing: a bad destination folder is the error.
        if (isVfsError(e, 'ENOENT')) {
          await this.#parentDir(from.abs);
          await this.#parentDir(to.abs);
        }
        // A destination above the source is checked before the types are (ENOTEMPTY, not EISDIR).
        if (isVfsError(e, 'EISDIR') || isVfsError(e, 'ENOTDIR')) {
          const src = (await this.#ops.lstat(from.abs)).path;
          const dst = (await this.#ops.lstat(to.abs)).path;
          if (src !== dst && isWithin(src, dst)) throw vfsError('ENOTEMPTY', to.abs);
        }
        throw e;
      }
    });
  }

  /** Hard links: the vault has none (one name per inode), so EPERM, as on a filesystem without them. */
  async link(existingPath: PathLike, newPath: PathLike): Promise<void> {
    const a = pathArg(existingPath, 'existingPath');
    const b = pathArg(newPath, 'newPath');
    return this.#run('link', a, b, async () => {
      const from = await this.#target(a);
      await expectDir(this.#ops, from);
      await this.#ops.lstat(from.abs);
      const to = await this.#target(b);
      if (to.lastDot || (await this.#lstatOrNothing(to.abs))) throw vfsError('EEXIST', to.abs);
      if (to.dirOnly) throw vfsError('ENOENT', to.abs);
      const parent = await this.#ops.stat(dirname(to.abs));
      if (parent.type !== 'directory') throw vfsError('ENOTDIR', to.abs);
      throw vfsError('EPERM', to.abs, 'hard links are not supported');
    });
  }

  async symlink(target: PathLike, path: PathLike, type?: string | null): Promise<void> {
    const tg = pathArg(target, 'target');
    const given = pathArg(path);
    if (typeof type === 'string' && type !== 'dir' && type !== 'file' && type !== 'junction') {
      throw codedError('Error', 'ERR_FS_INVALID_SYMLINK_TYPE', `Symlink type must be one of "dir", "file", or "junction". Received "${type}"`);
    }
    return this.#run('symlink', tg, given, async () => {
      if (tg === '') throw vfsError('ENOENT', tg);
      const t = await this.#target(given);
      if (t.lastDot) throw vfsError('EEXIST', t.abs);
      // A symlink cannot be made under a name ending in '/': EEXIST if the name is taken, else ENOENT.
      if (t.dirOnly) throw vfsError((await this.#lstatOrNothing(t.abs)) ? 'EEXIST' : 'ENOENT', t.abs);
      await this.#ops.symlink(tg, t.abs);
    });
  }

  readlink(path: PathLike, options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<string>;
  readlink(path: PathLike, options: { encoding: 'buffer' } | 'buffer'): Promise<Buffer>;
  async readlink(path: PathLike, options?: unknown): Promise<string | Buffer> {
    const o = optionsArg(options, {});
    // (Node names this argument oldPath in its errors.)
    const given = pathArg(path, 'oldPath');
    return this.#run('readlink', given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      const p = t.dirOnly ? (await this.#ops.stat(t.abs)).path : t.abs;
      return named(await this.#ops.readlink(p), o.encoding);
    });
  }

  realpath(path: PathLike, options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<string>;
  realpath(path: PathLike, options: { encoding: 'buffer' } | 'buffer'): Promise<Buffer>;
  async realpath(path: PathLike, options?: unknown): Promise<string | Buffer> {
    const o = optionsArg(options, {});
    const given = pathArg(path);
    return this.#run('realpath', given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      return named((await this.#ops.stat(t.abs)).path, o.encoding);
    });
  }

  // ---- folders ------------------------------------------------------------------------------

  /** With `recursive`, returns the first folder it made (as the caller's path spells it), or undefined. */
  async mkdir(path: PathLike, options?: { recursive?: boolean; mode?: number | string } | number | string | null): Promise<string | undefined> {
    const o = typeof options === 'number' || typeof options === 'string' ? { mode: options } : (options ?? {});
    const { recursive = false, mode = 0o777 } = o as { recursive?: boolean; mode?: number | string };
    const given = pathArg(path);
    checkBoolean(recursive, 'options.recursive');
    const m = modeArg(mode, 'mode', 0o777) & 0o7777 & ~UMASK;
    return this.#run('mkdir', given, undefined, async () => {
      if (recursive) return mkdirRecursive({ ops: this.#ops, stat: (p) => this.stat(p) }, given, m);
      const t = await this.#target(given);
      if (t.lastDot) throw vfsError('EEXIST', t.abs);
      await this.#ops.mkdir(t.abs, { mode: m });
      return undefined;
    });
  }

  /** A new folder with a random 6-character suffix, mode 0o700. */
  async mkdtemp(prefix: PathLike, options?: unknown): Promise<string | Buffer> {
    const o = optionsArg(options, {});
    const given = pathArg(prefix, 'prefix');
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    for (let attempt = 0; ; attempt++) {
      let name = given;
      for (const b of globalThis.crypto.getRandomValues(new Uint8Array(6))) name += chars[b % chars.length];
      try {
        await this.#run('mkdtemp', name, undefined, async () => this.#ops.mkdir((await this.#target(name)).abs, { mode: 0o700 }));
        return named(name, o.encoding);
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST' || attempt >= 100) throw e;
      }
    }
  }

  async rmdir(path: PathLike, options?: { recursive?: boolean; maxRetries?: number; retryDelay?: number }): Promise<void> {
    const given = pathArg(path);
    const o = rmOptions(options, false);
    if (o.recursive) {
      // Deprecated in Node (use rm), still honoured: a folder goes with all below it.
      const st = await this.stat(given);
      if (st.isDirectory()) return this.#run('rm', given, undefined, async () => void (await this.#ops.rm((await this.#target(given)).abs, { recursive: true })));
    }
    return this.#run('rmdir', given, undefined, async () => {
      const t = await this.#target(given);
      if (t.lastDot) throw vfsError(t.lastDot === '.' ? 'EINVAL' : 'ENOTEMPTY', t.abs);
      // rmdir does not follow a symlink, even one spelled 'link/'.
      if (t.dirOnly && (await this.#ops.lstat(t.abs)).type === 'symlink') throw vfsError('ENOTDIR', t.abs);
      await this.#ops.rmdir(t.abs);
    });
  }

  /** rm -r / rm -f: a folder needs `recursive` (else Node's ERR_FS_EISDIR); `force` ignores a missing path. */
  async rm(path: PathLike, options?: { recursive?: boolean; force?: boolean; maxRetries?: number; retryDelay?: number }): Promise<void> {
    const given = pathArg(path);
    const o = rmOptions(options, false);
    checkBoolean(o.force, 'options.force');
    const found = await this.#run('lstat', given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      const st = t.dirOnly ? await this.#ops.stat(t.abs) : await this.#ops.lstat(t.abs);
      return { t, st };
    }).catch((e: { code?: string }) => {
      if (o.force && e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!found) return;
    const { t, st } = found;
    if (st.type !== 'directory') {
      // (rimraf counts a name already gone as removed.)
      await this.#run('unlink', given, undefined, () => this.#ops.unlink(t.abs)).catch((e: { code?: string }) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
      return;
    }
    if (!o.recursive) throw new NodeSystemError('ERR_FS_EISDIR', { code: 'EISDIR', message: 'is a directory', path: given, syscall: 'rm' });
    // What Node's rimraf does with the path as spelled: rmdir('x/.') is EINVAL; rmdir('link/')
    // is ENOTDIR, which rimraf takes as done (nothing removed); 'x/..' loses its entries but stays.
    if (t.lastDot === '.') throw fsError('EINVAL', 'rmdir', given);
    if (t.dirOnly && !t.lastDot && (await this.#ops.lstat(t.abs)).type === 'symlink') return;
    await this.#run('rm', given, undefined, async () => {
      if (t.lastDot !== '..') return void (await this.#ops.rm(t.abs, { recursive: true, force: !!o.force }));
      for (const e of await this.#ops.readdir(t.abs)) await this.#ops.rm(joinNames([...splitPath(t.abs), e.name]), { recursive: true, force: true });
    });
  }

  readdir(path: PathLike, options?: { encoding?: BufferEncoding | null; withFileTypes?: false; recursive?: boolean } | BufferEncoding | null): Promise<string[]>;
  readdir(path: PathLike, options: { encoding: 'buffer'; withFileTypes?: false; recursive?: boolean } | 'buffer'): Promise<Buffer[]>;
  readdir(path: PathLike, options: { encoding?: BufferEncoding | null; withFileTypes: true; recursive?: boolean }): Promise<VaultDirent[]>;
  readdir(path: PathLike, options: { encoding: 'buffer'; withFileTypes: true; recursive?: boolean }): Promise<VaultDirent<Buffer>[]>;
  readdir(path: PathLike, options?: ReaddirOpts): Promise<(string | Buffer | VaultDirent<string | Buffer>)[]>;
  async readdir(path: PathLike, options?: ReaddirOpts): Promise<(string | Buffer | VaultDirent<string | Buffer>)[]> {
    const o = optionsArg(options, {}) as { encoding?: Encoding; withFileTypes?: boolean; recursive?: boolean };
    const given = pathArg(path);
    if (o.recursive) return o.withFileTypes ? this.#direntsBelow(given, o.encoding) : this.#namesBelow(given, o.encoding);
    const list = await this.#list(given);
    return list.map((e) => (o.withFileTypes ? new VaultDirent(named(e.name, o.encoding), e.type, given) : named(e.name, o.encoding)));
  }

  async #list(given: string): Promise<{ name: string; type: FileType }[]> {
    return this.#run('scandir', given, undefined, async () => this.#ops.readdir((await this.#target(given)).abs));
  }

  /** Node's order: the folder's entries, then each subfolder's, last found first. */
  async #direntsBelow(given: string, encoding: Encoding): Promise<VaultDirent<string | Buffer>[]> {
    const out: VaultDirent<string | Buffer>[] = [];
    const queue: [string, { name: string; type: FileType }[]][] = [[given, await this.#list(given)]];
    while (queue.length > 0) {
      const [dir, list] = queue.pop()!;
      for (const e of list) {
        out.push(new VaultDirent(named(e.name, encoding), e.type, dir));
        if (e.type === 'directory') {
          const sub = posix.join(dir, e.name);
          queue.push([sub, await this.#list(sub)]);
        }
      }
    }
    return out;
  }

  /** Relative names below a folder; like Node, this form goes into symlinked folders too. */
  async #namesBelow(given: string, encoding: Encoding): Promise<(string | Buffer)[]> {
    const out: (string | Buffer)[] = [];
    const queue: [string, { name: string; type: FileType }[]][] = [[given, await this.#list(given)]];
    while (queue.length > 0) {
      const [dir, list] = queue.pop()!;
      for (const e of list) {
        const sub = posix.join(dir, e.name);
        out.push(named(posix.relative(given, sub), encoding));
        const isDir = e.type === 'directory' || (e.type === 'symlink' && (await this.#ops.stat(this.#ops.abs(sub)).catch(() => undefined))?.type === 'directory');
        if (isDir) queue.push([sub, await this.#list(sub)]);
      }
    }
    return out;
  }

  /** A Dir over the folder's entries as they are now (one read). */
  async opendir(path: PathLike, options?: { encoding?: BufferEncoding | 'buffer' | null; bufferSize?: number; recursive?: boolean }): Promise<VaultDir> {
    const o = optionsArg(options, { encoding: 'utf8' as BufferEncoding }) as { encoding?: Encoding; bufferSize?: number; recursive?: boolean };
    const given = pathArg(path);
    if (o.bufferSize !== undefined) checkInteger(o.bufferSize, 'options.bufferSize', 1, MAX_ID);
    checkBoolean(o.recursive, 'options.recursive');
    const entries = await this.#run('opendir', given, undefined, async () => {
      if (o.recursive) return this.#direntsBelow(given, o.encoding);
      const list = await this.#ops.readdir((await this.#target(given)).abs);
      return list.map((e) => new VaultDirent(named(e.name, o.encoding), e.type, given));
    });
    return new VaultDir(given, entries);
  }

  // ---- attributes ---------------------------------------------------------------------------

  stat(path: PathLike, options?: { bigint?: false }): Promise<VaultStats>;
  stat(path: PathLike, options: { bigint: true }): Promise<VaultBigIntStats>;
  stat(path: PathLike, options?: StatOpts): Promise<VaultStats | VaultBigIntStats>;
  async stat(path: PathLike, options?: StatOpts): Promise<VaultStats | VaultBigIntStats> {
    const given = pathArg(path);
    return this.#run('stat', given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      return this.#stats(await this.#ops.stat(t.abs), !!options?.bigint);
    });
  }

  lstat(path: PathLike, options?: { bigint?: false }): Promise<VaultStats>;
  lstat(path: PathLike, options: { bigint: true }): Promise<VaultBigIntStats>;
  lstat(path: PathLike, options?: StatOpts): Promise<VaultStats | VaultBigIntStats>;
  async lstat(path: PathLike, options?: StatOpts): Promise<VaultStats | VaultBigIntStats> {
    const given = pathArg(path);
    return this.#run('lstat', given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      // A trailing slash makes even lstat follow a symlink (the name must be a folder).
      return this.#stats(t.dirOnly ? await this.#ops.stat(t.abs) : await this.#ops.lstat(t.abs), !!options?.bigint);
    });
  }

  /** F_OK: it exists. R_OK, W_OK, X_OK: the owner's permission bits allow it (the vault has no other users). */
  async access(path: PathLike, mode?: number): Promise<void> {
    const given = pathArg(path);
    const m = smallModeArg(mode);
    return this.#run('access', given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      const st = await this.#ops.stat(t.abs);
      if (m & ~((st.mode >> 6) & 7)) throw vfsError('EACCES', t.abs);
    });
  }

  async chmod(path: PathLike, mode: number | string): Promise<void> {
    const given = pathArg(path);
    const m = modeArg(mode, 'mode');
    return this.#run('chmod', given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      await this.#ops.chmod(t.abs, m & 0o7777);
    });
  }

  /** Not on Linux (no lchmod(2)), so not here either: Node's ERR_METHOD_NOT_IMPLEMENTED. */
  async lchmod(_path: PathLike, _mode: number | string): Promise<void> {
    throw codedError('Error', 'ERR_METHOD_NOT_IMPLEMENTED', 'The lchmod() method is not implemented');
  }

  /** Only to the process's own uid and gid (or -1): a vault has no owners, anything else is EPERM. */
  async chown(path: PathLike, uid: number, gid: number): Promise<void> {
    return this.#chown(path, uid, gid, 'chown', true);
  }

  async lchown(path: PathLike, uid: number, gid: number): Promise<void> {
    return this.#chown(path, uid, gid, 'lchown', false);
  }

  async #chown(path: PathLike, uid: number, gid: number, syscall: string, follow: boolean): Promise<void> {
    const given = pathArg(path);
    checkInteger(uid, 'uid', -1, MAX_ID);
    checkInteger(gid, 'gid', -1, MAX_ID);
    return this.#run(syscall, given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      await (follow || t.dirOnly ? this.#ops.stat(t.abs) : this.#ops.lstat(t.abs));
      this.#checkOwner(uid, gid, syscall);
    });
  }

  /** Times in seconds (or Dates); the vault keeps the mtime (atime is not kept: it reads as the mtime). */
  async utimes(path: PathLike, atime: number | string | Date, mtime: number | string | Date): Promise<void> {
    return this.#utimes(path, atime, mtime, 'utime', true);
  }

  async lutimes(path: PathLike, atime: number | string | Date, mtime: number | string | Date): Promise<void> {
    return this.#utimes(path, atime, mtime, 'lutime', false);
  }

  async #utimes(path: PathLike, atime: unknown, mtime: unknown, syscall: string, follow: boolean): Promise<void> {
    const given = pathArg(path);
    timeArg(atime);
    const ms = timeArg(mtime);
    return this.#run(syscall, given, undefined, async () => {
      const t = await this.#target(given);
      await expectDir(this.#ops, t);
      // 'link/' names the folder the link points to, even for lutimes.
      await this.#ops.utimes(t.abs, ms, { follow: follow || t.dirOnly });
      // A handle's held writes carry their own mtime into the commit; this one must win.
      const f = follow ? await this.#openFileAt(t.abs) : undefined;
      if (f?.dirtyState) f.mtimeMs = ms;
    });
  }
}

/** Options of rm and rmdir, checked as Node checks them. */
function rmOptions(options: unknown, force: boolean): { recursive?: boolean; force?: boolean } {
  if (options === undefined) return { recursive: false, force };
  checkObject(options, 'options');
  const o = { retryDelay: 100, maxRetries: 0, recursive: false, force, ...(options as object) } as { retryDelay: unknown; maxRetries: unknown; recursive: unknown; force: unknown };
  checkBoolean(o.recursive, 'options.recursive');
  checkInt32(o.retryDelay, 'options.retryDelay', 0);
  checkInteger(o.maxRetries, 'options.maxRetries', 0, MAX_ID);
  return o as { recursive?: boolean; force?: boolean };
}
