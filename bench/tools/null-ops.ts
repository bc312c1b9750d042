// Mount operations that do nothing (for the FUSE floor, fuse-floor.ts): the same names and
// callbacks as src/mount/ops.ts, answered from a Map of attributes; file data is dropped and
// reads return zeros. Enough for tar, find, cat and rm -rf.
import { constants as os } from 'node:os';

type Cb = (code: number, ...rest: unknown[]) => void;
interface Entry {
  mode: number;
  size: number;
  ino: number;
  mtime: number;
  target?: string;
}

const DIR = 0o040000;
const FILE = 0o100000;
const LINK = 0o120000;

export function nullOps(): Record<string, unknown> {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let nextIno = 2;
  const now = Date.now();
  const table = new Map<string, Entry>([['/', { mode: DIR | 0o755, size: 0, ino: 1, mtime: now }]]);
  const handles = new Map<number, string>();
  let nextFh = 1;
  const stat = (e: Entry) => ({ mode: e.mode, uid, gid, size: e.size, nlink: 1, ino: e.ino, blksize: 4096, blocks: Math.ceil(e.size / 512), atime: e.mtime, mtime: e.mtime, ctime: e.mtime });
  const ENOENT = -os.errno.ENOENT;
  const add = (path: string, mode: number, target?: string): number => {
    if (table.has(path)) return -os.errno.EEXIST;
    table.set(path, { mode, size: target?.length ?? 0, ino: nextIno++, mtime: Date.now(), target });
    return 0;
  };
  const children = (dir: string): string[] => {
    const pre = dir === '/' ? '/' : `${dir}/`;
    return [...table.keys()].filter((k) => k !== '/' && k.startsWith(pre) && !k.slice(pre.length).includes('/'));
  };
  const withEntry = (path: string, cb: Cb, fn: (e: Entry) => void) => {
    const e = table.get(path);
    if (!e) return cb(ENOENT);
    fn(e);
    cb(0);
  };
  return {
    init: (cb: Cb) => cb(0),
    statfs: (_p: string, cb: Cb) => cb(0, { bsize: 4096, frsize: 4096, blocks: 1 << 20, bfree: 1 << 20, bavail: 1 << 20, files: 1 << 20, ffree: 1 << 20, namemax: 255 }),
    getattr: (path: string, cb: Cb) => {
      const e = table.get(path);
      return e ? cb(0, stat(e)) : cb(ENOENT);
    },
    fgetattr: (path: string, fh: number, cb: Cb) => {
      const e = table.get(handles.get(fh) ?? path);
      return e ? cb(0, stat(e)) : cb(ENOENT);
    },
    access: (path: string, _mode: number, cb: Cb) => cb(table.has(path) ? 0 : ENOENT),
    readdir: (path: string, cb: Cb) => {
      const names = children(path);
      const here = stat(table.get(path)!);
      cb(0, ['.', '..', ...names.map((k) => k.slice(k.lastIndexOf('/') + 1))], [here, here, ...names.map((k) => stat(table.get(k)!))]);
    },
    open: (path: string, _flags: number, cb: Cb) => {
      if (!table.has(path)) return cb(ENOENT);
      handles.set(nextFh, path);
      cb(0, nextFh++);
    },
    create: (path: string, mode: number, cb: Cb) => {
      const code = add(path, FILE | (mode & 0o7777));
      if (code) return cb(code);
      handles.set(nextFh, path);
      cb(0, nextFh++);
    },
    read: (_p: string, _fh: number, buf: Buffer, len: number, _pos: number, cb: (n: number) => void) => {
      buf.fill(0, 0, len);
      cb(len);
    },
    write: (_p: string, fh: number, _buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      const e = table.get(handles.get(fh) ?? '');
      if (e) e.size = Math.max(e.size, pos + len);
      cb(len);
    },
    flush: (_p: string, _fh: number, cb: Cb) => cb(0),
    fsync: (_p: string, _d: number, _fh: number, cb: Cb) => cb(0),
    fsyncdir: (_p: string, _d: number, _fh: number, cb: Cb) => cb(0),
    release: (_p: string, fh: number, cb: Cb) => {
      handles.delete(fh);
      cb(0);
    },
    truncate: (path: string, size: number, cb: Cb) => withEntry(path, cb, (e) => (e.size = size)),
    ftruncate: (_p: string, fh: number, size: number, cb: Cb) => withEntry(handles.get(fh) ?? '', cb, (e) => (e.size = size)),
    utimens: (path: string, _a: number, mtime: number, cb: Cb) => withEntry(path, cb, (e) => (e.mtime = mtime)),
    chmod: (path: string, mode: number, cb: Cb) => withEntry(path, cb, (e) => (e.mode = (e.mode & 0o170000) | (mode & 0o7777))),
    chown: (path: string, _u: number, _g: number, cb: Cb) => withEntry(path, cb, () => {}),
    mknod: (path: string, mode: number, _dev: number, cb: Cb) => cb(add(path, FILE | (mode & 0o7777))),
    mkdir: (path: string, mode: number, cb: Cb) => cb(add(path, DIR | (mode & 0o7777))),
    symlink: (target: string, path: string, cb: Cb) => cb(add(path, LINK | 0o777, target)),
    readlink: (path: string, cb: Cb) => {
      const e = table.get(path);
      return e?.target !== undefined ? cb(0, e.target) : cb(ENOENT);
    },
    unlink: (path: string, cb: Cb) => cb(table.delete(path) ? 0 : ENOENT),
    rmdir: (path: string, cb: Cb) => cb(table.delete(path) ? 0 : ENOENT),
    rename: (src: string, dest: string, cb: Cb) => {
      const e = table.get(src);
      if (!e) return cb(ENOENT);
      table.delete(src);
      table.set(dest, e);
      cb(0);
    },
    link: (_s: string, _d: string, cb: Cb) => cb(-os.errno.EPERM),
  };
}
