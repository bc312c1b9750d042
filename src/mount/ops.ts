// The FUSE operations: each kernel request becomes one call on the vault's file operations,
// and its answer (or its error code, as a negative errno) goes back to the kernel. Open files
// go through the open-file table (src/api/open-files.ts), so a program's many write(2) calls
// become one version when it closes the file or calls fsync.
//
// fuse-native calls each operation with a callback; operations may run concurrently (libfuse
// serves requests from several threads), and the vault serialises the transactions they open.
import { constants as os } from 'node:os';
import { constants as fsc } from 'node:fs';
import { statfs as hostStatfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isVfsError, vfsError } from '../errors.js';
import type { FileOps } from '../api/fileops.js';
import type { OpenFile, OpenFiles } from '../api/open-files.js';
import type { Stat } from '../api/types.js';
import { normalizePath } from '../core/paths.js';
import { OMIT_MS } from './fuse.js';

type Cb = (code: number, ...rest: unknown[]) => void;

const S_IFMT = { file: 0o100000, directory: 0o040000, symlink: 0o120000 } as const;
const O_ACCMODE = 3;

export interface MountState {
  /** The vault's file operations (a view of the past with --at). */
  files: FileOps;
  open: OpenFiles;
  readOnly: boolean;
  /** Make every committed write durable (fsync through the mount). */
  sync(): Promise<void>;
  /** Where the vault lives on the host, for statfs (empty for a memory vault). */
  hostPath: string;
  /** The binding has our fixes (src/mount/fuse.ts bindingPatched): utimens gets the real mtime. */
  patched: boolean;
  log(line: string): void;
}

interface Handle {
  file: OpenFile;
  write: boolean;
  append: boolean;
}

/** A negative errno for the kernel; anything that is not a VfsError is logged and becomes EIO. */
export function errnoOf(e: unknown, log?: (line: string) => void): number {
  if (isVfsError(e)) {
    const n = (os.errno as Record<string, number>)[e.code];
    if (n !== undefined) return -n;
    if (e.code === 'EDQUOT' || e.code === 'ENOSPC') return -os.errno.ENOSPC;
    log?.(`${e.code}: ${e.message}`);
    return -os.errno.EIO;
  }
  log?.(`unexpected error: ${(e as Error)?.stack ?? String(e)}`);
  return -os.errno.EIO;
}

export function fuseOps(st: MountState): Record<string, unknown> {
  const handles = new Map<number, Handle>();
  let nextFd = 1;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;

  /** Run an operation and answer the kernel: 0 (or the value given) on success, -errno on failure. */
  const answer = (cb: Cb, fn: () => Promise<unknown[] | void>): void => {
    fn().then(
      (rest) => cb(0, ...(rest ?? [])),
      (e) => cb(errnoOf(e, st.log)),
    );
  };
  const writable = (): void => {
    if (st.readOnly) throw vfsError('EROFS');
  };
  const p = (path: string): string => normalizePath(path, '/');
  const handle = (fd: number): Handle => {
    const h = handles.get(fd);
    if (!h) throw vfsError('EINVAL', undefined, `no open file ${fd}`);
    return h;
  };

  const toFuseStat = (s: Stat): Record<string, unknown> => {
    const f = st.open.get(s.ino);
    // An open file's unwritten bytes count: ls and fstat see them, as on a host filesystem.
    const size = f ? f.size : s.size;
    const mtime = f && f.dirtyState ? f.mtimeMs : s.mtimeMs;
    return {
      mode: S_IFMT[s.type] | s.mode,
      uid,
      gid,
      size,
      nlink: s.type === 'directory' ? 2 : 1,
      ino: s.ino,
      blksize: 4096,
      blocks: Math.ceil(size / 512),
      atime: mtime,
      mtime,
      ctime: Math.max(s.ctimeMs, mtime),
    };
  };

  /** Commit a file that is open here before a change by path that must come after its writes. */
  const settle = async (path: string): Promise<void> => {
    const s = await st.files.lstat(path).catch(() => undefined);
    const f = s && st.open.get(s.ino);
    if (f) await commit(f);
  };

  /** Commit what a handle holds; a file removed while open has nowhere to go, and that is no error. */
  const commit = async (f: OpenFile): Promise<void> => {
    try {
      await f.commit();
    } catch (e) {
      if (!isVfsError(e, 'ENOENT')) throw e;
      await f.discard();
    }
  };

  return {
    init(cb: Cb) {
      cb(0);
    },
    statfs(_path: string, cb: Cb) {
      answer(cb, async () => {
        // The space of the disk that holds the vault: what a write can still use.
        const h = st.hostPath ? await hostStatfs(dirname(st.hostPath)).catch(() => undefined) : undefined;
        const bsize = 4096;
        const scale = (n: number, from: number): number => Math.min(0xffffffff, Math.floor((n * from) / bsize));
        return [
          {
            bsize,
            frsize: bsize,
            blocks: h ? scale(h.blocks, h.bsize) : 1 << 20,
            bfree: h ? scale(h.bfree, h.bsize) : 1 << 20,
            bavail: h ? scale(h.bavail, h.bsize) : 1 << 20,
            files: 0xffffffff,
            ffree: 0xfffffff0,
            favail: 0xfffffff0,
            fsid: 0,
            flag: st.readOnly ? 1 : 0,
            namemax: 255,
          },
        ];
      });
    },
    getattr(path: string, cb: Cb) {
      answer(cb, async () => [toFuseStat(await st.files.lstat(p(path)))]);
    },
    fgetattr(path: string, fd: number, cb: Cb) {
      answer(cb, async () => {
        const h = handles.get(fd);
        if (path !== '' || !h) return [toFuseStat(await st.files.lstat(p(path)))];
        // Unlinked while open: what the open file knows is all that is left.
        const f = h.file;
        return [{ mode: S_IFMT.file | f.mode, uid, gid, size: f.size, nlink: 0, ino: f.ino, blksize: 4096, blocks: Math.ceil(f.size / 512), atime: f.mtimeMs, mtime: f.mtimeMs, ctime: f.mtimeMs }];
      });
    },
    access(path: string, mode: number, cb: Cb) {
      // access(2): every entry belongs to the mounting user, so its owner bits answer (root
      // may read and write anything, and run what has any x bit, as on a local disk).
      answer(cb, async () => {
        const s = await st.files.lstat(p(path));
        const x = (mode & fsc.X_OK) !== 0;
        if (uid === 0) {
          if (x && s.type === 'file' && (s.mode & 0o111) === 0) throw vfsError('EACCES', path);
          return;
        }
        const want = (mode & fsc.R_OK ? 0o400 : 0) | (mode & fsc.W_OK ? 0o200 : 0) | (x ? 0o100 : 0);
        if ((s.mode & want) !== want) throw vfsError('EACCES', path);
      });
    },
    readdir(path: string, cb: Cb) {
      answer(cb, async () => {
        const list = await st.files.list(p(path));
        const here = await st.files.stat(p(path));
        return [['.', '..', ...list.map((e) => e.name)], [toFuseStat(here), toFuseStat(here), ...list.map(toFuseStat)]];
      });
    },
    open(path: string, flags: number, cb: Cb) {
      answer(cb, async () => {
        const acc = flags & O_ACCMODE;
        const write = acc === fsc.O_WRONLY || acc === fsc.O_RDWR;
        if (write || flags & fsc.O_TRUNC) writable();
        const file = await st.open.open(p(path), { write, truncate: !!(flags & fsc.O_TRUNC) });
        const fd = nextFd++;
        handles.set(fd, { file, write, append: !!(flags & fsc.O_APPEND) });
        return [fd];
      });
    },
    create(path: string, mode: number, cb: Cb) {
      answer(cb, async () => {
        writable();
        const file = await st.open.open(p(path), { create: true, write: true, mode: mode & 0o7777 });
        const fd = nextFd++;
        handles.set(fd, { file, write: true, append: false });
        return [fd];
      });
    },
    read(_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) {
      const h = handles.get(fd);
      if (!h) return cb(-os.errno.EBADF);
      h.file.read(pos, len).then(
        (data) => cb(data.copy(buf, 0, 0, Math.min(len, data.length))),
        (e) => cb(errnoOf(e, st.log)),
      );
    },
    write(_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) {
      const h = handles.get(fd);
      if (!h) return cb(-os.errno.EBADF);
      if (!h.write) return cb(-os.errno.EBADF);
      // fuse-native reuses its buffer once we answer; the open file copies what it keeps.
      const data = Buffer.from(buf.subarray(0, len));
      const at = h.append ? h.file.size : pos;
      h.file.write(at, data).then(
        (n) => cb(n),
        (e) => cb(errnoOf(e, st.log)),
      );
    },
    flush(_path: string, fd: number, cb: Cb) {
      // Every close(2) of a descriptor: the moment other programs may expect to see the writes.
      answer(cb, async () => {
        const h = handles.get(fd);
        if (h?.write) await commit(h.file);
      });
    },
    fsync(_path: string, _datasync: number, fd: number, cb: Cb) {
      answer(cb, async () => {
        const h = handles.get(fd);
        if (h?.write) await commit(h.file);
        await st.sync();
      });
    },
    fsyncdir(_path: string, _datasync: number, _fd: number, cb: Cb) {
      answer(cb, () => st.sync());
    },
    release(_path: string, fd: number, cb: Cb) {
      answer(cb, async () => {
        const h = handles.get(fd);
        if (!h) return;
        handles.delete(fd);
        // A file removed while open has nowhere to go (close already dropped what it held).
        await st.open.close(h.file).catch((e) => {
          if (!isVfsError(e, 'ENOENT')) throw e;
        });
      });
    },
    truncate(path: string, size: number, cb: Cb) {
      answer(cb, async () => {
        writable();
        const s = await st.files.stat(p(path));
        const f = st.open.get(s.ino);
        if (f) {
          // Open here: cut the open file, so its handles and the vault agree, and commit now
          // (truncate(2) by name takes effect at once).
          await f.truncate(size);
          await commit(f);
        } else {
          await st.files.truncate(p(path), size);
        }
      });
    },
    ftruncate(_path: string, fd: number, size: number, cb: Cb) {
      answer(cb, async () => {
        writable();
        await handle(fd).file.truncate(size);
      });
    },
    utimens(path: string, _atime: number, mtime: number, cb: Cb) {
      answer(cb, async () => {
        writable();
        await settle(p(path));
        // Unpatched, the time given is the atime: the mtime is then left as it is. OMIT_MS: the
        // caller set only the atime, which a vault does not keep.
        if (!st.patched || mtime >= OMIT_MS) return;
        await st.files.utimes(p(path), mtime, { follow: false });
      });
    },
    chmod(path: string, mode: number, cb: Cb) {
      answer(cb, async () => {
        writable();
        await st.files.chmod(p(path), mode & 0o7777);
      });
    },
    chown(path: string, _uid: number, _gid: number, cb: Cb) {
      // A vault keeps no owners (every file belongs to whoever mounts it), so a change of owner
      // is accepted and changes nothing, as on FAT: tar and cp -a would fail outright otherwise.
      answer(cb, async () => {
        writable();
        await st.files.lstat(p(path));
      });
    },
    mknod(path: string, mode: number, _dev: number, cb: Cb) {
      answer(cb, async () => {
        writable();
        // Regular files only: a vault holds no devices, FIFOs or sockets.
        if ((mode & 0o170000) !== S_IFMT.file) throw vfsError('EPERM', path, 'only regular files, folders and symlinks are stored');
        await st.files.writeFile(p(path), Buffer.alloc(0), { exclusive: true, parents: false, mode: mode & 0o7777 });
      });
    },
    unlink(path: string, cb: Cb) {
      answer(cb, async () => {
        writable();
        // An open file stays readable through its descriptors (content is immutable); its
        // unwritten bytes are dropped when it closes, as nothing names it any more.
        await st.files.unlink(p(path));
      });
    },
    rename(src: string, dest: string, cb: Cb) {
      answer(cb, async () => {
        writable();
        await st.files.rename(p(src), p(dest));
      });
    },
    link(_src: string, dest: string, cb: Cb) {
      // No hard links: an entry is its inode's one name (history, tags and search follow it).
      answer(cb, async () => {
        writable();
        throw vfsError('EPERM', dest, 'hard links are not supported');
      });
    },
    symlink(target: string, path: string, cb: Cb) {
      answer(cb, async () => {
        writable();
        await st.files.symlink(target, p(path));
      });
    },
    readlink(path: string, cb: Cb) {
      answer(cb, async () => [await st.files.readlink(p(path))]);
    },
    mkdir(path: string, mode: number, cb: Cb) {
      answer(cb, async () => {
        writable();
        await st.files.mkdir(p(path), { mode: mode & 0o7777 });
      });
    },
    rmdir(path: string, cb: Cb) {
      answer(cb, async () => {
        writable();
        await st.files.rmdir(p(path));
      });
    },
  };
}
