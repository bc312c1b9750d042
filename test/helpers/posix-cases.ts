// The POSIX cases for the differential mount suite (test/mount-posix.test.ts, docs/mount-posix.md).
// Each case does a few syscalls through node:fs in a fresh empty folder and returns what it saw:
// values read back, and error codes ('ENOENT') for calls that failed. The runner runs every case
// on a host folder (the oracle) and on the mount and compares the two, so an observation holds
// only what a correct filesystem must reproduce: never inode numbers, exact times, uid/gid,
// st_dev, st_blksize, folder sizes or st_blocks as a number.
//
// The runner (posix-run.ts) makes the case's folder the process's working folder, so cases use
// relative paths: path lengths then do not depend on where the folder is (the long-name and
// long-path cases count bytes), and the code reads like a shell session. `dir` is the absolute
// path of the same folder, for the few calls that need one (child processes, realpath).
//
// Categories follow pjdfstest's layout (one per syscall); the cases are our own.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  copyFileSync,
  cpSync,
  fchmodSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  futimesSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  opendirSync,
  readFileSync,
  readSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  statfsSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { relative } from 'node:path';

export interface PosixCase {
  /** `category/what-it-checks`, unique; EXPECTED_DIFFERENCES and `posix-run --only` use it. */
  name: string;
  /** The syscall family, after pjdfstest's folders (open, rename, symlink, ...). */
  category: string;
  /** Runs only as root on the host (mknod, chown to another user): skipped otherwise. */
  root?: boolean;
  fn: (dir: string) => unknown;
}

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW } = constants;

// ---- observation helpers ----------------------------------------------------------------------

/** The error code of a failed call ('ENOENT'), or 'ok'. */
function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return errCode(e);
  }
}

function errCode(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? String(err.message ?? e);
}

/** What a call returned, or `{ error: CODE }`. */
function got<T>(fn: () => T): T | { error: string } {
  try {
    return fn();
  } catch (e) {
    return { error: errCode(e) };
  }
}

function typeOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isSocket()) return 'socket';
  return 'unknown';
}

/** What is at `p` (not following a last symlink), or the error code ('ENOENT'). */
function kind(p: string): string {
  try {
    return typeOf(lstatSync(p));
  } catch (e) {
    return errCode(e);
  }
}

const oct = (mode: number): string => (mode & 0o7777).toString(8);

/** The stat fields a filesystem must reproduce: type, permission bits, size and nlink of files. */
function fields(st: Stats): Record<string, unknown> {
  const type = typeOf(st);
  const out: Record<string, unknown> = { type, mode: oct(st.mode) };
  if (type === 'file' || type === 'symlink') out.size = st.size;
  if (type === 'file') out.nlink = st.nlink;
  return out;
}

const lview = (p: string): unknown => got(() => fields(lstatSync(p)));
const sview = (p: string): unknown => got(() => fields(statSync(p)));
const modeOf = (p: string): unknown => got(() => oct(lstatSync(p).mode));
const mtimeSec = (p: string): unknown => got(() => Math.floor(statSync(p).mtimeMs / 1000));

/** File contents as a string: bytes as latin1 (so NULs and high bytes survive JSON), or the error. */
const get = (p: string): unknown => got(() => readFileSync(p, 'latin1'));
const put = (p: string, data: string | Buffer): void => writeFileSync(p, data);

/** Sorted names in a folder (node leaves out . and ..), or the error. */
const ls = (p = '.'): unknown => got(() => readdirSync(p).sort());

/**
 * Everything below `p`, one line per entry, sorted: `d name`, `f name SIZE CONTENT` (content, or a
 * hash when long), `l name -> target`: the whole outcome of an operation in one value.
 */
function tree(p = '.'): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(rel === '' ? p : `${p}/${rel}`).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const full = `${p}/${r}`;
      const st = lstatSync(full);
      if (st.isDirectory()) {
        out.push(`d ${r}`);
        walk(r);
      } else if (st.isSymbolicLink()) out.push(`l ${r} -> ${readlinkSync(full)}`);
      else if (st.isFile()) {
        const data = readFileSync(full);
        out.push(`f ${r} ${data.length} ${data.length <= 64 ? data.toString('latin1') : sha(data)}`);
      } else out.push(`${typeOf(st)} ${r}`);
    }
  };
  walk('');
  return out;
}

// Descriptors a case opens are closed by the runner after it, whatever the case did.
const opened = new Set<number>();

function open(p: string, flags: number, mode?: number): number {
  const fd = openSync(p, flags, mode);
  opened.add(fd);
  return fd;
}

function close(fd: number): void {
  opened.delete(fd);
  closeSync(fd);
}

/** Close what the last case left open (the runner calls this after each case). */
export function closeOpened(): void {
  for (const fd of opened) {
    try {
      closeSync(fd);
    } catch {
      // the case closed it itself with closeSync
    }
  }
  opened.clear();
}

/** `len` bytes at `pos` through `fd` (null: at the file position), as latin1. */
function readAt(fd: number, pos: number | null, len: number): string {
  const b = Buffer.alloc(len);
  const n = readSync(fd, b, 0, len, pos);
  return b.subarray(0, n).toString('latin1');
}

/** Deterministic pseudo-random bytes (an LCG): the same on every run, no two chunks alike. */
function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** Block the thread: the time cases need a clock tick between two stats (ext4's clock is coarse). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A time in the past (2001-09-09) that a later change must move mtime away from. */
const PAST = 1_000_000_000;

const name255 = 'n'.repeat(255);
const name256 = 'n'.repeat(256);

// ---- the cases ---------------------------------------------------------------------------------

export const CASES: PosixCase[] = [];

function c(category: string, what: string, fn: (dir: string) => unknown, opts: { root?: boolean } = {}): void {
  const name = `${category}/${what}`;
  if (CASES.some((x) => x.name === name)) throw new Error(`duplicate POSIX case ${name}`);
  CASES.push({ name, category, fn, ...opts });
}

// open(2) ---------------------------------------------------------------------------------------

c('open', 'enoent-without-creat', () => ({
  rdonly: code(() => open('f', O_RDONLY)),
  rdwr: code(() => open('f', O_RDWR)),
  after: kind('f'),
}));

c('open', 'creat-new-and-existing', () => {
  open('f', O_CREAT | O_WRONLY, 0o644);
  const made = { stat: lview('f'), content: get('f'), ls: ls() };
  put('g', 'kept');
  const again = code(() => open('g', O_CREAT | O_WRONLY, 0o600));
  return { made, existing: { r: again, content: get('g'), mode: modeOf('g') } };
});

c('open', 'creat-mode-under-umask-022', () => {
  open('a', O_CREAT | O_WRONLY, 0o640);
  open('b', O_CREAT | O_WRONLY, 0o777);
  open('c', O_CREAT | O_WRONLY, 0o400);
  return { a: modeOf('a'), b: modeOf('b'), c: modeOf('c') };
});

c('open', 'excl-new-and-existing-eexist', () => {
  const made = code(() => open('f', O_CREAT | O_EXCL | O_WRONLY, 0o644));
  put('g', 'x');
  return { made, stat: lview('f'), existing: code(() => open('g', O_CREAT | O_EXCL | O_WRONLY, 0o644)), content: get('g') };
});

c('open', 'excl-on-dangling-symlink-eexist', () => {
  symlinkSync('target', 'l');
  return { r: code(() => open('l', O_CREAT | O_EXCL | O_WRONLY, 0o644)), target: kind('target'), link: kind('l') };
});

c('open', 'excl-on-directory-eexist', () => {
  mkdirSync('d');
  return code(() => open('d', O_CREAT | O_EXCL | O_WRONLY, 0o644));
});

c('open', 'creat-through-dangling-symlink-makes-target', () => {
  symlinkSync('target', 'l');
  const fd = open('l', O_CREAT | O_WRONLY, 0o644);
  writeSync(fd, 'via link');
  return { target: get('target'), link: kind('l'), tree: tree() };
});

c('open', 'trunc-empties-then-write', () => {
  put('f', 'a long first content');
  const fd = open('f', O_RDWR | O_TRUNC);
  const emptied = { stat: lview('f'), content: get('f') };
  writeSync(fd, 'short');
  return { emptied, content: get('f'), fdRead: readAt(fd, 0, 100) };
});

c('open', 'directory-for-writing-eisdir', () => {
  mkdirSync('d');
  return {
    wronly: code(() => open('d', O_WRONLY)),
    rdwr: code(() => open('d', O_RDWR)),
    creat: code(() => open('d', O_CREAT | O_WRONLY, 0o644)),
    rdonly: code(() => open('d', O_RDONLY)),
    readDirFd: code(() => readSync(open('d', O_RDONLY), Buffer.alloc(10), 0, 10, 0)),
  };
});

c('open', 'o-directory-enotdir-on-file', () => {
  put('f', 'x');
  mkdirSync('d');
  symlinkSync('d', 'l');
  return {
    file: code(() => open('f', O_RDONLY | O_DIRECTORY)),
    missing: code(() => open('m', O_RDONLY | O_DIRECTORY)),
    dir: code(() => open('d', O_RDONLY | O_DIRECTORY)),
    linkToDir: code(() => open('l', O_RDONLY | O_DIRECTORY)),
  };
});

c('open', 'file-as-path-component-enotdir', () => {
  put('f', 'x');
  return { read: code(() => open('f/x', O_RDONLY)), creat: code(() => open('f/x', O_CREAT | O_WRONLY, 0o644)) };
});

c('open', 'creat-in-missing-folder-enoent', () => ({ r: code(() => open('m/f', O_CREAT | O_WRONLY, 0o644)), tree: tree() }));

c('open', 'nofollow-on-symlink-eloop', () => {
  put('f', 'x');
  symlinkSync('f', 'l');
  return { link: code(() => open('l', O_RDONLY | O_NOFOLLOW)), file: code(() => open('f', O_RDONLY | O_NOFOLLOW)) };
});

c('open', 'follows-symlink', () => {
  put('f', 'target content');
  symlinkSync('f', 'l');
  const fd = open('l', O_RDWR);
  writeSync(fd, 'T', 0);
  return { viaLink: readAt(fd, 0, 100), file: get('f'), link: kind('l') };
});

c('open', 'trailing-slash-on-file-enotdir', () => {
  put('f', 'x');
  return { read: code(() => open('f/', O_RDONLY)), creatNew: code(() => open('n/', O_CREAT | O_WRONLY, 0o644)), n: kind('n') };
});

c('open', 'wrong-access-mode-ebadf', () => {
  put('f', 'abc');
  const w = open('f', O_WRONLY);
  const r = open('f', O_RDONLY);
  return {
    readWronly: code(() => readSync(w, Buffer.alloc(3), 0, 3, 0)),
    writeRdonly: code(() => writeSync(r, 'x', 0)),
    content: get('f'),
  };
});

c('open', 'rdwr-read-and-write', () => {
  put('f', 'hello');
  const fd = open('f', O_RDWR);
  writeSync(fd, 'J', 0);
  return { fd: readAt(fd, 0, 10), path: get('f') };
});

// read(2), write(2), pread(2), pwrite(2) -------------------------------------------------------------

c('write', 'write-then-read-back', () => {
  const fd = open('f', O_CREAT | O_WRONLY, 0o644);
  writeSync(fd, 'hello, world\n');
  close(fd);
  return { content: get('f'), stat: lview('f') };
});

c('write', 'file-position-advances', () => {
  const w = open('f', O_CREAT | O_WRONLY, 0o644);
  writeSync(w, 'ab');
  writeSync(w, 'cd');
  writeSync(w, Buffer.from('e'));
  const r = open('f', O_RDONLY);
  return { content: get('f'), size: fstatSync(w).size, reads: [readAt(r, null, 2), readAt(r, null, 2), readAt(r, null, 2), readAt(r, null, 2)] };
});

c('write', 'pread-at-offsets-and-past-eof', () => {
  put('f', 'abcdefghij');
  const fd = open('f', O_RDONLY);
  return { at2: readAt(fd, 2, 3), at8: readAt(fd, 8, 4), at10: readAt(fd, 10, 4), at100: readAt(fd, 100, 4), zero: readAt(fd, 0, 0) };
});

c('write', 'pwrite-middle-and-past-end', () => {
  put('f', 'hello world');
  const fd = open('f', O_WRONLY);
  writeSync(fd, 'WOR', 6);
  const middle = { content: get('f'), stat: lview('f') };
  writeSync(fd, 'end', 20);
  return { middle, pastEnd: get('f'), size: fstatSync(fd).size };
});

c('write', 'pwrite-does-not-move-position', () => {
  const fd = open('f', O_CREAT | O_WRONLY, 0o644);
  writeSync(fd, 'abc');
  writeSync(fd, 'Z', 0);
  writeSync(fd, 'd');
  return get('f');
});

c('write', 'zero-length-write', () => {
  put('f', 'abc');
  const fd = open('f', O_WRONLY);
  const n = writeSync(fd, Buffer.alloc(0), 0, 0, 1);
  return { n, content: get('f') };
});

c('write', 'across-64k-chunk-boundary', () => {
  put('f', pattern(131072));
  const fd = open('f', O_RDWR);
  writeSync(fd, 'XXXXXXXXXXXX', 65530);
  return { around: readAt(fd, 65525, 22), size: fstatSync(fd).size, sha: sha(readFileSync('f')) };
});

c('write', 'one-mib-in-4k-writes-and-in-one-call', () => {
  // One call is bigger than a FUSE request (128 KiB): the kernel splits it, the mount joins it.
  const data = pattern(1 << 20, 7);
  const fd = open('f', O_CREAT | O_WRONLY, 0o644);
  for (let off = 0; off < data.length; off += 4096) writeSync(fd, data, off, 4096);
  close(fd);
  const one = open('g', O_CREAT | O_RDWR, 0o644);
  const written = writeSync(one, data, 0, data.length, 0);
  const back = Buffer.alloc(data.length);
  const read = readSync(one, back, 0, back.length, 0);
  return { small: readFileSync('f').equals(data), written, read, one: back.equals(data) };
});

c('write', 'pwrites-in-shuffled-order', () => {
  const data = pattern(300 * 1024, 3);
  const fd = open('f', O_CREAT | O_WRONLY, 0o644);
  const blocks = data.length / 4096;
  for (let i = 0; i < blocks; i++) {
    const b = (i * 37) % blocks; // 37 is prime to 75 blocks: every block once, scattered
    writeSync(fd, data, b * 4096, 4096, b * 4096);
  }
  close(fd);
  const back = readFileSync('f');
  return { size: back.length, same: back.equals(data) };
});

c('write', 'all-256-byte-values', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  put('f', all);
  return readFileSync('f').equals(all);
});

c('write', 'two-fds-see-each-others-writes', () => {
  put('f', 'aaaa');
  const w = open('f', O_WRONLY);
  const r = open('f', O_RDONLY);
  writeSync(w, 'xyz', 0);
  const first = readAt(r, 0, 10);
  writeSync(w, '0123456789', 2);
  return { first, second: readAt(r, 0, 20) };
});

c('write', 'stat-size-while-open', () => {
  const fd = open('f', O_CREAT | O_WRONLY, 0o644);
  writeSync(fd, pattern(5000));
  return { path: statSync('f').size, fd: fstatSync(fd).size };
});

c('write', 'sparse-file-reads-zeros', () => {
  const fd = open('f', O_CREAT | O_RDWR, 0o644);
  ftruncateSync(fd, 10 << 20);
  writeSync(fd, 'tail', (10 << 20) - 4);
  const mid = Buffer.alloc(16);
  readSync(fd, mid, 0, 16, 5 << 20);
  return { size: fstatSync(fd).size, midZero: mid.every((b) => b === 0), tail: readAt(fd, (10 << 20) - 4, 10) };
});

c('write', 'mtime-is-now-and-moves', () => {
  put('f', 'a');
  const newIsNow = Math.abs(statSync('f').mtimeMs - Date.now()) < 10_000;
  utimesSync('f', PAST, PAST);
  const fd = open('f', O_WRONLY);
  writeSync(fd, 'b', 1);
  close(fd);
  return { newIsNow, writeMovesIt: Math.floor(statSync('f').mtimeMs / 1000) > PAST };
});

// truncate(2), ftruncate(2) ----------------------------------------------------------------------

c('truncate', 'grow-fills-zeros', () => {
  put('f', 'abc');
  truncateSync('f', 8);
  return { content: get('f'), stat: lview('f') };
});

c('truncate', 'shrink-and-to-zero', () => {
  put('f', 'hello world');
  truncateSync('f', 5);
  const shrunk = { content: get('f'), stat: lview('f') };
  truncateSync('f', 0);
  return { shrunk, zero: { content: get('f'), stat: lview('f') } };
});

c('truncate', 'shrink-then-grow-reads-zeros', () => {
  put('f', 'abcdefgh');
  truncateSync('f', 2);
  truncateSync('f', 6);
  return get('f');
});

c('truncate', 'ftruncate-grow-and-shrink-through-fd', () => {
  const fd = open('f', O_CREAT | O_RDWR, 0o644);
  writeSync(fd, 'abcdef', 0);
  ftruncateSync(fd, 3);
  const shrunk = readAt(fd, 0, 10);
  ftruncateSync(fd, 6);
  return { shrunk, grown: readAt(fd, 0, 10), path: get('f') };
});

c('truncate', 'across-chunks-zeros-old-data', () => {
  const data = pattern(150_000, 5);
  put('f', data);
  truncateSync('f', 70_000);
  truncateSync('f', 140_000);
  const back = readFileSync('f');
  return {
    size: back.length,
    keptPrefix: back.subarray(0, 70_000).equals(data.subarray(0, 70_000)),
    zeroTail: back.subarray(70_000).every((b) => b === 0),
  };
});

c('truncate', 'o-trunc-seen-by-other-fd', () => {
  put('f', 'hello');
  const r = open('f', O_RDONLY);
  open('f', O_WRONLY | O_TRUNC);
  return { fstat: fstatSync(r).size, read: readAt(r, 0, 10) };
});

c('truncate', 'follows-symlink', () => {
  put('f', 'hello');
  symlinkSync('f', 'l');
  truncateSync('l', 2);
  return { file: get('f'), link: lview('l') };
});

c('truncate', 'errors', () => {
  mkdirSync('d');
  put('f', 'abc');
  const fd = open('f', O_RDONLY);
  return {
    dir: code(() => truncateSync('d', 0)),
    missing: code(() => truncateSync('m', 0)),
    m: kind('m'),
    readOnlyFd: code(() => ftruncateSync(fd, 1)),
    content: get('f'),
  };
});

c('truncate', 'updates-mtime', () => {
  put('f', 'abc');
  utimesSync('f', PAST, PAST);
  truncateSync('f', 1);
  return Math.floor(statSync('f').mtimeMs / 1000) > PAST;
});

// mkdir(2) ---------------------------------------------------------------------------------------

c('mkdir', 'creates-empty-dir', () => {
  mkdirSync('d');
  return { stat: lview('d'), ls: ls('d'), trailingSlash: code(() => mkdirSync('e/')), e: kind('e') };
});

c('mkdir', 'mode-read-back', () => {
  mkdirSync('a', 0o700);
  mkdirSync('b', 0o750);
  mkdirSync('c', 0o777);
  return { a: modeOf('a'), b: modeOf('b'), c: modeOf('c') };
});

c('mkdir', 'existing-eexist', () => {
  mkdirSync('d');
  put('f', 'x');
  symlinkSync('d', 'l');
  return { dir: code(() => mkdirSync('d')), file: code(() => mkdirSync('f')), link: code(() => mkdirSync('l')), tree: tree() };
});

c('mkdir', 'on-dangling-symlink-eexist', () => {
  symlinkSync('target', 'l');
  return { r: code(() => mkdirSync('l')), target: kind('target') };
});

c('mkdir', 'missing-parent-enoent-file-parent-enotdir', () => {
  put('f', 'x');
  return { missing: code(() => mkdirSync('a/b')), file: code(() => mkdirSync('f/d')), tree: tree() };
});

c('mkdir', 'nested-with-recursive', () => {
  mkdirSync('a/b/c', { recursive: true });
  put('a/b/c/f', 'deep');
  return tree();
});

c('mkdir', 'nlink-counts-subdirs', () => {
  mkdirSync('d');
  const empty = statSync('d').nlink;
  mkdirSync('d/a');
  mkdirSync('d/b');
  put('d/f', 'x');
  return { empty, twoSubdirs: statSync('d').nlink, sub: statSync('d/a').nlink };
});

c('mkdir', 'updates-parent-mtime', () => {
  mkdirSync('p');
  utimesSync('p', PAST, PAST);
  mkdirSync('p/d');
  return Math.floor(statSync('p').mtimeMs / 1000) > PAST;
});

// rmdir(2) ---------------------------------------------------------------------------------------

c('rmdir', 'removes-empty-dir', () => {
  mkdirSync('d');
  return { r: code(() => rmdirSync('d')), d: kind('d'), again: code(() => rmdirSync('d')) };
});

c('rmdir', 'not-empty-enotempty', () => {
  mkdirSync('d');
  put('d/f', 'x');
  mkdirSync('e');
  mkdirSync('e/sub');
  return { file: code(() => rmdirSync('d')), subdir: code(() => rmdirSync('e')), tree: tree() };
});

c('rmdir', 'only-dangling-symlink-inside-enotempty', () => {
  mkdirSync('d');
  symlinkSync('nowhere', 'd/l');
  return code(() => rmdirSync('d'));
});

c('rmdir', 'missing-enoent-file-and-link-enotdir', () => {
  put('f', 'x');
  mkdirSync('d');
  symlinkSync('d', 'l');
  return { missing: code(() => rmdirSync('m')), file: code(() => rmdirSync('f')), link: code(() => rmdirSync('l')), tree: tree() };
});

c('rmdir', 'dot-einval-trailing-slash-ok', () => {
  mkdirSync('d');
  const dot = code(() => rmdirSync('d/.'));
  const kept = kind('d');
  return { dot, kept, slash: code(() => rmdirSync('d/')), d: kind('d') };
});

c('rmdir', 'updates-parent-mtime', () => {
  mkdirSync('p');
  mkdirSync('p/d');
  utimesSync('p', PAST, PAST);
  rmdirSync('p/d');
  return Math.floor(statSync('p').mtimeMs / 1000) > PAST;
});

// unlink(2) --------------------------------------------------------------------------------------

c('unlink', 'removes-file', () => {
  put('f', 'x');
  return { r: code(() => unlinkSync('f')), f: kind('f'), again: code(() => unlinkSync('f')), ls: ls() };
});

c('unlink', 'directory-eisdir-missing-enoent', () => {
  mkdirSync('d');
  return { dir: code(() => unlinkSync('d')), d: kind('d'), missing: code(() => unlinkSync('m')) };
});

c('unlink', 'symlink-not-its-target', () => {
  put('f', 'x');
  symlinkSync('f', 'l');
  unlinkSync('l');
  return tree();
});

c('unlink', 'file-as-path-component-enotdir', () => {
  put('f', 'x');
  return { component: code(() => unlinkSync('f/x')), trailingSlash: code(() => unlinkSync('f/')), f: kind('f') };
});

c('unlink', 'open-file-still-reads-and-writes', () => {
  put('f', 'old data');
  const fd = open('f', O_RDWR);
  unlinkSync('f');
  const before = readAt(fd, 0, 100);
  writeSync(fd, 'new', 0);
  writeSync(fd, '+appended', 8);
  return { before, after: readAt(fd, 0, 100), size: got(() => fstatSync(fd).size) };
});

c('unlink', 'open-file-gone-from-readdir', () => {
  put('f', 'x');
  open('f', O_RDONLY);
  unlinkSync('f');
  return { ls: ls(), f: kind('f') };
});

c('unlink', 'open-file-fstat-nlink-zero', () => {
  put('f', 'x');
  const fd = open('f', O_RDONLY);
  unlinkSync('f');
  return got(() => fstatSync(fd).nlink);
});

c('unlink', 'recreate-name-while-old-open', () => {
  put('f', 'one');
  const fd = open('f', O_RDONLY);
  unlinkSync('f');
  put('f', 'two!');
  return { oldFd: readAt(fd, 0, 10), path: get('f'), ls: ls() };
});

c('unlink', 'updates-parent-mtime', () => {
  mkdirSync('p');
  put('p/f', 'x');
  utimesSync('p', PAST, PAST);
  unlinkSync('p/f');
  return Math.floor(statSync('p').mtimeMs / 1000) > PAST;
});

// rename(2) --------------------------------------------------------------------------------------

c('rename', 'file-to-new-name', () => {
  put('a', 'content');
  return { r: code(() => renameSync('a', 'b')), tree: tree() };
});

c('rename', 'file-over-file', () => {
  put('a', 'from a');
  put('b', 'from b, longer');
  return { r: code(() => renameSync('a', 'b')), tree: tree() };
});

c('rename', 'dir-over-empty-dir', () => {
  mkdirSync('a');
  put('a/f', 'x');
  mkdirSync('b');
  return { r: code(() => renameSync('a', 'b')), tree: tree() };
});

c('rename', 'dir-over-nonempty-dir-enotempty', () => {
  mkdirSync('a');
  mkdirSync('b');
  put('b/f', 'x');
  return { r: code(() => renameSync('a', 'b')), tree: tree() };
});

c('rename', 'file-over-dir-eisdir', () => {
  put('f', 'x');
  mkdirSync('d');
  return { r: code(() => renameSync('f', 'd')), tree: tree() };
});

c('rename', 'dir-over-file-enotdir', () => {
  mkdirSync('d');
  put('f', 'x');
  return { r: code(() => renameSync('d', 'f')), tree: tree() };
});

c('rename', 'dir-into-own-subdir-einval', () => {
  mkdirSync('d/sub', { recursive: true });
  return { sub: code(() => renameSync('d', 'd/sub/x')), self: code(() => renameSync('d', 'd/x')), tree: tree() };
});

c('rename', 'same-name-is-a-no-op', () => {
  put('f', 'x');
  mkdirSync('d');
  return { file: code(() => renameSync('f', 'f')), dir: code(() => renameSync('d', 'd')), tree: tree() };
});

c('rename', 'across-dirs', () => {
  mkdirSync('a');
  mkdirSync('b');
  put('a/f', 'moved');
  return { r: code(() => renameSync('a/f', 'b/g')), tree: tree() };
});

c('rename', 'dir-with-contents', () => {
  mkdirSync('a/b', { recursive: true });
  put('a/b/f', 'deep');
  symlinkSync('b/f', 'a/l');
  renameSync('a', 'z');
  return { tree: tree(), viaLink: get('z/l') };
});

c('rename', 'missing-source-or-target-dir-enoent', () => {
  put('f', 'x');
  return { source: code(() => renameSync('m', 'n')), targetDir: code(() => renameSync('f', 'm/f')), tree: tree() };
});

c('rename', 'symlink-renames-the-link', () => {
  put('f', 'x');
  symlinkSync('f', 'l');
  renameSync('l', 'k');
  return tree();
});

c('rename', 'over-symlink-to-dir-replaces-link', () => {
  mkdirSync('d');
  symlinkSync('d', 'l');
  put('f', 'x');
  return { r: code(() => renameSync('f', 'l')), tree: tree() };
});

c('rename', 'open-fd-follows-the-file', () => {
  put('a', 'abc');
  const fd = open('a', O_RDWR);
  renameSync('a', 'b');
  writeSync(fd, 'XY', 1);
  return { b: get('b'), a: kind('a'), fd: readAt(fd, 0, 10) };
});

c('rename', 'over-open-file-old-fd-keeps-old-content', () => {
  put('a', 'new content');
  put('b', 'old');
  const fd = open('b', O_RDONLY);
  renameSync('a', 'b');
  return { oldFd: readAt(fd, 0, 20), b: get('b'), ls: ls() };
});

c('rename', 'keeps-mode-and-mtime', () => {
  put('f', 'x');
  chmodSync('f', 0o604);
  utimesSync('f', PAST, PAST);
  renameSync('f', 'g');
  return { mode: modeOf('g'), mtime: mtimeSec('g') };
});

c('rename', 'trailing-slash', () => {
  put('f', 'x');
  mkdirSync('d');
  return { file: code(() => renameSync('f/', 'g')), dir: code(() => renameSync('d/', 'e/')), tree: tree() };
});

c('rename', 'updates-both-parent-mtimes', () => {
  mkdirSync('a');
  mkdirSync('b');
  put('a/f', 'x');
  utimesSync('a', PAST, PAST);
  utimesSync('b', PAST, PAST);
  renameSync('a/f', 'b/f');
  return { from: Math.floor(statSync('a').mtimeMs / 1000) > PAST, to: Math.floor(statSync('b').mtimeMs / 1000) > PAST };
});

// symlink(2), readlink(2) ---------------------------------------------------------------------------

c('symlink', 'readlink-returns-target', () => {
  put('f', 'x');
  symlinkSync('f', 'l');
  symlinkSync('../some/where/else', 'rel');
  symlinkSync('/an/absolute/target', 'abs');
  return { l: readlinkSync('l'), rel: readlinkSync('rel'), abs: readlinkSync('abs') };
});

c('symlink', 'dangling', () => {
  symlinkSync('nowhere', 'l');
  return {
    readlink: got(() => readlinkSync('l')),
    lstat: lview('l'),
    stat: sview('l'),
    open: code(() => open('l', O_RDONLY)),
    ls: ls(),
  };
});

c('symlink', 'loop-eloop-when-followed', () => {
  symlinkSync('b', 'a');
  symlinkSync('a', 'b');
  symlinkSync('self', 'self');
  return {
    stat: sview('a'),
    open: code(() => open('a', O_RDONLY)),
    self: sview('self'),
    lstat: lview('a'),
    readlink: readlinkSync('a'),
  };
});

c('symlink', 'lstat-vs-stat', () => {
  put('f', '12345');
  symlinkSync('f', 'l');
  mkdirSync('d');
  symlinkSync('d', 'ld');
  return { lstat: lview('l'), stat: sview('l'), lstatDir: lview('ld'), statDir: sview('ld') };
});

c('symlink', 'existing-name-eexist', () => {
  put('f', 'x');
  mkdirSync('d');
  symlinkSync('f', 'l');
  return { file: code(() => symlinkSync('t', 'f')), dir: code(() => symlinkSync('t', 'd')), link: code(() => symlinkSync('t', 'l')), tree: tree() };
});

c('symlink', 'readlink-on-non-link-einval', () => {
  put('f', 'x');
  mkdirSync('d');
  return { file: code(() => readlinkSync('f')), dir: code(() => readlinkSync('d')), missing: code(() => readlinkSync('m')) };
});

c('symlink', 'relative-target-with-dotdot', () => {
  mkdirSync('a');
  mkdirSync('b');
  put('b/f', 'found');
  symlinkSync('../b/f', 'a/l');
  return get('a/l');
});

c('symlink', 'to-dir-readdir-through', () => {
  mkdirSync('d');
  put('d/x', '1');
  put('d/y', '2');
  symlinkSync('d', 'l');
  return { ls: ls('l'), viaLink: get('l/y'), lsSlash: ls('l/') };
});

c('symlink', 'in-the-middle-of-a-path', () => {
  mkdirSync('real/sub', { recursive: true });
  symlinkSync('real', 'l');
  put('l/sub/f', 'through the link');
  return tree();
});

c('symlink', 'chains-of-8-40-and-41', () => {
  // Linux follows at most 40 links in one lookup.
  put('f', 'end');
  let prev = 'f';
  for (let i = 0; i < 41; i++) {
    symlinkSync(prev, `l${i}`);
    prev = `l${i}`;
  }
  return { eight: get('l7'), forty: sview('l39'), fortyOne: sview('l40') };
});

c('symlink', 'long-targets', () => {
  const t1000 = 'x/'.repeat(499) + 'xy';
  const t4095 = 'y'.repeat(4095);
  return {
    r1000: code(() => symlinkSync(t1000, 'l')),
    back1000: got(() => readlinkSync('l') === t1000),
    lstat1000: lview('l'),
    r4095: code(() => symlinkSync(t4095, 'a')),
    back4095: got(() => readlinkSync('a') === t4095),
    r4096: code(() => symlinkSync(t4095 + 'y', 'b')),
    b: kind('b'),
  };
});

c('symlink', 'empty-target-enoent', () => ({ r: code(() => symlinkSync('', 'l')), l: kind('l') }));

c('symlink', 'trailing-slash-follows', () => {
  mkdirSync('d');
  symlinkSync('d', 'l');
  return { lstat: lview('l'), lstatSlash: lview('l/'), statSlash: sview('l/') };
});

c('symlink', 'lutimes-sets-the-link-not-the-target', () => {
  put('f', 'x');
  symlinkSync('f', 'l');
  lutimesSync('l', PAST, PAST);
  return { link: Math.floor(lstatSync('l').mtimeMs / 1000), targetTouched: Math.floor(statSync('f').mtimeMs / 1000) === PAST };
});

c('symlink', 'realpath-resolves', (dir) => {
  mkdirSync('a/b', { recursive: true });
  put('a/b/f', 'x');
  symlinkSync('a/b', 'lb');
  symlinkSync('lb/f', 'lf');
  const base = realpathSync(dir);
  return { lf: got(() => relative(base, realpathSync('lf'))), lb: got(() => relative(base, realpathSync('lb'))) };
});

// chmod(2), fchmod(2), access(2) ------------------------------------------------------------------

c('chmod', 'file-modes-read-back', () => {
  put('f', 'x');
  const out: Record<string, unknown> = {};
  for (const m of [0o600, 0o755, 0o000, 0o444, 0o777, 0o640, 0o111]) {
    chmodSync('f', m);
    out[oct(m)] = modeOf('f');
  }
  return out;
});

c('chmod', 'dir-modes-read-back', () => {
  mkdirSync('d');
  const out: Record<string, unknown> = {};
  for (const m of [0o700, 0o555, 0o711, 0o777]) {
    chmodSync('d', m);
    out[oct(m)] = modeOf('d');
  }
  chmodSync('d', 0o755);
  return out;
});

c('chmod', 'setuid-setgid-sticky-bits', () => {
  put('f', 'x');
  mkdirSync('d');
  const out: Record<string, unknown> = {};
  for (const m of [0o4755, 0o2755, 0o6755]) {
    chmodSync('f', m);
    out[`f${oct(m)}`] = modeOf('f');
  }
  chmodSync('d', 0o1777);
  out.sticky = modeOf('d');
  chmodSync('d', 0o755);
  return out;
});

c('chmod', 'fchmod-through-fd', () => {
  put('f', 'x');
  const fd = open('f', O_RDONLY);
  fchmodSync(fd, 0o600);
  return { path: modeOf('f'), fd: oct(fstatSync(fd).mode) };
});

c('chmod', 'follows-symlink', () => {
  put('f', 'x');
  symlinkSync('f', 'l');
  chmodSync('l', 0o600);
  return { file: modeOf('f'), link: modeOf('l'), missing: code(() => chmodSync('m', 0o644)) };
});

c('chmod', 'keeps-mtime-changes-ctime', () => {
  put('f', 'x');
  utimesSync('f', PAST, PAST);
  const ctime = statSync('f').ctimeMs;
  sleep(30);
  chmodSync('f', 0o600);
  return { mtime: mtimeSec('f'), ctimeMoved: statSync('f').ctimeMs > ctime };
});

c('chmod', 'ctime-moves-on-every-change', () => {
  // ctime cannot be set, so each step compares with the value before it, a clock tick apart.
  put('f', 'x');
  mkdirSync('d');
  const moved: Record<string, boolean> = {};
  const step = (what: string, p: string, fn: () => void, after = p): void => {
    const before = lstatSync(p).ctimeMs;
    sleep(30);
    fn();
    moved[what] = lstatSync(after).ctimeMs > before;
  };
  step('write', 'f', () => appendFileSync('f', 'y'));
  step('truncate', 'f', () => truncateSync('f', 1));
  step('utimes', 'f', () => utimesSync('f', PAST, PAST));
  step('rename', 'f', () => renameSync('f', 'g'), 'g');
  step('dirEntryAdded', 'd', () => put('d/x', ''));
  return moved;
});

c('chmod', 'access-follows-mode', () => {
  put('f', 'x');
  chmodSync('f', 0o644);
  const { F_OK, R_OK, W_OK, X_OK } = constants;
  const before = { F: code(() => accessSync('f', F_OK)), R: code(() => accessSync('f', R_OK)), W: code(() => accessSync('f', W_OK)), X: code(() => accessSync('f', X_OK)) };
  chmodSync('f', 0o755);
  return { before, afterX: code(() => accessSync('f', X_OK)), missing: code(() => accessSync('m', F_OK)) };
});

c('chmod', 'exec-a-script', (dir) => {
  put('s.sh', '#!/bin/sh\necho "ran $1"\n');
  chmodSync('s.sh', 0o755);
  const r = spawnSync('./s.sh', ['ok'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, error: r.error ? errCode(r.error) : null };
});

// chown(2) ---------------------------------------------------------------------------------------

c('chown', 'to-own-user-and-group', () => {
  put('f', 'x');
  const before = statSync('f').ctimeMs;
  sleep(30);
  const r = code(() => chownSync('f', process.getuid!(), process.getgid!()));
  return { r, ctimeMoved: statSync('f').ctimeMs > before };
});

c(
  'chown',
  'to-another-user',
  () => {
    put('f', 'x');
    const r = code(() => chownSync('f', 12345, 12346));
    const st = statSync('f');
    return { r, uid: st.uid === 12345, gid: st.gid === 12346 };
  },
  { root: true },
);

// utimes(2), futimes(2) -------------------------------------------------------------------------

c('utimes', 'mtime-read-back', () => {
  put('f', 'x');
  utimesSync('f', 1_100_000_000, 1_234_567_890);
  return mtimeSec('f');
});

c('utimes', 'atime-read-back', () => {
  put('f', 'x');
  utimesSync('f', 1_100_000_000, 1_234_567_890);
  return Math.floor(statSync('f').atimeMs / 1000);
});

c('utimes', 'milliseconds-read-back', () => {
  put('f', 'x');
  utimesSync('f', PAST, 1_234_567_890.25);
  return statSync('f').mtimeMs;
});

c('utimes', 'futimes-through-fd', () => {
  put('f', 'x');
  const fd = open('f', O_RDWR);
  futimesSync(fd, PAST, 1_234_567_890);
  return { fd: Math.floor(fstatSync(fd).mtimeMs / 1000), path: mtimeSec('f') };
});

c('utimes', 'on-directory', () => {
  mkdirSync('d');
  utimesSync('d', PAST, 1_234_567_890);
  return mtimeSec('d');
});

c('utimes', 'follows-symlink', () => {
  put('f', 'x');
  symlinkSync('f', 'l');
  utimesSync('l', PAST, 1_234_567_890);
  return { file: mtimeSec('f'), missing: code(() => utimesSync('m', PAST, PAST)) };
});

c('utimes', 'year-2100', () => {
  put('f', 'x');
  utimesSync('f', 4_102_444_800, 4_102_444_800);
  return mtimeSec('f');
});

c('utimes', 'now-is-now', () => {
  put('f', 'x');
  utimesSync('f', PAST, PAST);
  const now = Date.now() / 1000;
  utimesSync('f', now, now);
  return Math.abs(statSync('f').mtimeMs - now * 1000) < 2000;
});

// stat(2), lstat(2), fstat(2) ---------------------------------------------------------------------


c('stat', 'empty-dir-fields', () => {
  mkdirSync('d');
  return { stat: sview('d'), nlink: statSync('d').nlink };
});

c('stat', 'missing-enoent-and-enotdir', () => {
  put('f', 'x');
  return { missing: sview('m'), missingParent: sview('m/x'), fileParent: sview('f/x') };
});

c('stat', 'file-fields-stat-lstat-fstat', () => {
  put('f', 'some bytes');
  const fd = open('f', O_RDONLY);
  const a = fstatSync(fd);
  const b = statSync('f');
  return {
    stat: fields(b),
    lstat: lview('f'),
    fstat: fields(a),
    same: a.ino === b.ino && a.size === b.size && a.mode === b.mode && a.mtimeMs === b.mtimeMs,
  };
});

c('stat', 'blocks-cover-data', () => {
  put('f', pattern(100_000));
  const st = statSync('f');
  return { size: st.size, covered: st.blocks * 512 >= st.size };
});

c('stat', 'ino-distinct-and-stable-across-rename', () => {
  put('f', 'x');
  put('same', 'x');
  mkdirSync('d');
  const f = statSync('f').ino;
  const d = statSync('d').ino;
  const distinct = new Set([f, d, statSync('same').ino]).size;
  renameSync('f', 'g');
  renameSync('d', 'e');
  return { distinct, file: statSync('g').ino === f, dir: statSync('e').ino === d };
});

c('stat', 'dot-and-dotdot-are-the-right-dirs', () => {
  mkdirSync('d/e', { recursive: true });
  return {
    dot: statSync('d/.').ino === statSync('d').ino,
    dotdot: statSync('d/e/..').ino === statSync('d').ino,
    up: statSync('d/..').ino === statSync('.').ino,
  };
});

// names (NAME_MAX, PATH_MAX) ----------------------------------------------------------------------

c('names', '255-byte-name', () => {
  const d255 = 'd'.repeat(255);
  const l255 = 'l'.repeat(255);
  return {
    file: code(() => put(name255, 'max')),
    dir: code(() => mkdirSync(d255)),
    link: code(() => symlinkSync(name255, l255)),
    content: get(name255),
    viaLink: get(l255),
    ls: got(() => readdirSync('.').map((n) => Buffer.byteLength(n)).sort()),
    stat: lview(name255),
  };
});

c('names', '256-byte-name-enametoolong', () => {
  put('f', 'x');
  mkdirSync('d');
  return {
    creat: code(() => open(name256, O_CREAT | O_WRONLY, 0o644)),
    open: code(() => open(name256, O_RDONLY)),
    mkdir: code(() => mkdirSync(name256)),
    symlink: code(() => symlinkSync('f', name256)),
    renameTo: code(() => renameSync('f', name256)),
    renameDirTo: code(() => renameSync('d', `d/${name256}`)),
    stat: sview(name256),
    ls: ls(),
  };
});

c('names', '255-bytes-of-utf8', () => {
  const euro255 = '€'.repeat(85); // 3 bytes each
  const euro258 = '€'.repeat(86);
  return { ok: code(() => put(euro255, 'x')), tooLong: code(() => put(euro258, 'x')), ls: ls() };
});

c('names', 'nfc-and-nfd-are-different-names', () => {
  put('caf\u00e9', 'nfc');
  put('cafe\u0301', 'nfd');
  return { ls: ls(), nfc: get('caf\u00e9'), nfd: get('cafe\u0301') };
});

c('names', 'case-sensitive', () => {
  put('name', 'lower');
  put('NAME', 'upper');
  put('Name', 'mixed');
  return tree();
});

c('names', 'odd-characters', () => {
  const names = ['a b', 'tab\there', 'new\nline', 'back\\slash', 'colon:', 'star*', 'q?', '-dash', '..dots', '...', ' lead', 'trail ', '#hash', '%25', 'ümlaut', '日本語', 'emoji😀', '\x01ctrl', 'quote"\''];
  const made = names.map((n) => code(() => put(n, n)));
  return { made, tree: tree() };
});

c('names', 'dot-and-dotdot-are-taken', () => ({
  mkdirDot: code(() => mkdirSync('.')),
  mkdirDotDot: code(() => mkdirSync('..')),
  creatDot: code(() => open('.', O_CREAT | O_WRONLY, 0o644)),
  unlinkDot: code(() => unlinkSync('.')),
  ls: ls(),
}));

c('names', 'long-relative-path-under-path-max', () => {
  const seg = 's'.repeat(200);
  const dirs = Array.from({ length: 19 }, () => seg).join('/'); // 3,818 bytes
  mkdirSync(dirs, { recursive: true });
  put(`${dirs}/f`, 'far down');
  return { length: `${dirs}/f`.length, content: get(`${dirs}/f`), stat: lview(`${dirs}/f`) };
});

c('names', 'path-over-path-max-enametoolong', () => {
  const p = 'x/'.repeat(2100) + 'f'; // 4,201 bytes
  return { creat: code(() => open(p, O_CREAT | O_WRONLY, 0o644)), stat: sview(p), ls: ls() };
});

c('names', 'tree-deeper-than-path-max-by-chdir', () => {
  // Each call sees a short relative path, so the host allows any depth; the tree's own paths
  // reach 5,020 bytes. The case removes what it made (rm -r of the run folder could not: its
  // absolute paths would be over PATH_MAX).
  const seg = 'p'.repeat(250);
  let depth = 0;
  let failed = 'ok';
  for (let i = 0; i < 20; i++) {
    failed = code(() => mkdirSync(seg));
    if (failed !== 'ok') break;
    process.chdir(seg);
    depth++;
  }
  const write = code(() => put('f', 'deep'));
  const read = get('f');
  code(() => unlinkSync('f'));
  const removed: string[] = [];
  for (let i = 0; i < depth; i++) {
    process.chdir('..');
    removed.push(code(() => rmdirSync(seg)));
  }
  return { depth, failed, write, read, removed: [...new Set(removed)], ls: ls() };
});

// fsync(2), fdatasync(2) ---------------------------------------------------------------------------

c('fsync', 'file-fds', () => {
  const fd = open('f', O_CREAT | O_WRONLY, 0o644);
  writeSync(fd, 'durable');
  const ro = open('f', O_RDONLY);
  return {
    fsync: code(() => fsyncSync(fd)),
    fdatasync: code(() => fdatasyncSync(fd)),
    readOnlyFsync: code(() => fsyncSync(ro)),
    readOnlyFdatasync: code(() => fdatasyncSync(ro)),
    content: get('f'),
  };
});

c('fsync', 'directory-fd', () => {
  mkdirSync('d');
  put('d/f', 'x');
  const fd = open('d', O_RDONLY | O_DIRECTORY);
  return { fsync: code(() => fsyncSync(fd)), fdatasync: code(() => fdatasyncSync(fd)) };
});

// statfs(2) -----------------------------------------------------------------------------------------

c('statfs', 'fields-are-consistent', () => {
  const s = statfsSync('.');
  const nums = [s.bsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree];
  return {
    integers: nums.every((n) => Number.isInteger(n) && n >= 0),
    bsize: s.bsize > 0,
    blocks: s.blocks > 0,
    bavail: s.bavail > 0,
    order: s.blocks >= s.bfree && s.bfree >= s.bavail,
    files: s.files >= s.ffree,
  };
});

c('statfs', 'on-a-file-and-missing', () => {
  put('f', 'x');
  return { file: code(() => statfsSync('f')), missing: code(() => statfsSync('m')) };
});

// readdir(3) --------------------------------------------------------------------------------------

c('readdir', 'empty-dir-and-errors', () => {
  mkdirSync('d');
  put('f', 'x');
  return { empty: ls('d'), file: ls('f'), missing: ls('m') };
});

c('readdir', 'dot-and-dotdot-listed', (dir) => {
  put('x', '1');
  mkdirSync('d');
  // ls -f prints the raw getdents entries, . and .. included (node's readdir drops them).
  const r = spawnSync('ls', ['-1f', '.'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, names: r.stdout.split('\n').filter((n) => n !== '').sort() };
});

c('readdir', 'entry-types', () => {
  put('f', 'x');
  mkdirSync('d');
  symlinkSync('f', 'l');
  symlinkSync('nowhere', 'dangling');
  return readdirSync('.', { withFileTypes: true })
    .map((e) => `${e.name}:${e.isFile() ? 'file' : e.isDirectory() ? 'dir' : e.isSymbolicLink() ? 'symlink' : 'other'}`)
    .sort();
});

c('readdir', '300-entries', () => {
  for (let i = 0; i < 300; i++) put(`file-${String(i).padStart(3, '0')}`, String(i));
  const names = readdirSync('.');
  const want = Array.from({ length: 300 }, (_, i) => `file-${String(i).padStart(3, '0')}`);
  return { count: names.length, all: JSON.stringify(names.sort()) === JSON.stringify(want) };
});

c('readdir', '100-entries-of-255-bytes', () => {
  const want: string[] = [];
  for (let i = 0; i < 100; i++) {
    const n = String(i).padStart(3, '0') + 'q'.repeat(252);
    want.push(n);
    put(n, '');
  }
  const names = readdirSync('.').sort();
  return { count: names.length, all: JSON.stringify(names) === JSON.stringify(want) };
});

c('readdir', 'opendir-iterates-every-entry', () => {
  for (const n of ['a', 'b', 'c', 'd']) put(n, n);
  const d = opendirSync('.');
  const names: string[] = [];
  for (let e = d.readSync(); e !== null; e = d.readSync()) names.push(e.name);
  d.closeSync();
  return names.sort();
});

c('readdir', 'after-create-unlink-rename', () => {
  put('a', '1');
  put('b', '2');
  put('c', '3');
  const first = ls();
  unlinkSync('b');
  renameSync('c', 'z');
  mkdirSync('m');
  return { first, then: ls() };
});

// O_APPEND --------------------------------------------------------------------------------------

c('append', 'writes-go-to-end', () => {
  put('f', 'abc');
  const fd = open('f', O_WRONLY | O_APPEND);
  writeSync(fd, 'de');
  writeSync(fd, 'fg');
  appendFileSync('g', 'one,');
  appendFileSync('g', 'two');
  return { f: get('f'), appendFile: get('g'), mode: modeOf('g') };
});

c('append', 'positioned-write-still-appends', () => {
  // Linux pwrite(2) on an O_APPEND descriptor appends whatever the offset (a documented bug).
  put('f', 'abc');
  const fd = open('f', O_WRONLY | O_APPEND);
  writeSync(fd, 'Z', 0);
  return get('f');
});

c('append', 'two-fds-interleave', () => {
  put('f', '');
  const a = open('f', O_WRONLY | O_APPEND);
  const b = open('f', O_WRONLY | O_APPEND);
  writeSync(a, 'a1 ');
  writeSync(b, 'b1 ');
  writeSync(a, 'a2 ');
  writeSync(b, 'b2');
  return get('f');
});

c('append', 'after-another-fd-truncates', () => {
  put('f', 'abc');
  const a = open('f', O_WRONLY | O_APPEND);
  const t = open('f', O_WRONLY);
  ftruncateSync(t, 1);
  writeSync(a, 'd');
  return get('f');
});

// link(2) ---------------------------------------------------------------------------------------

c('link', 'hard-link-to-file', () => {
  put('f', 'shared');
  const r = code(() => linkSync('f', 'g'));
  const out: Record<string, unknown> = { r, f: lview('f'), g: lview('g') };
  if (r === 'ok') {
    put('g', 'written via g');
    out.fAfter = get('f');
    unlinkSync('f');
    out.gAfterUnlink = { content: get('g'), stat: lview('g') };
  }
  return out;
});

c('link', 'to-directory-eperm', () => {
  mkdirSync('d');
  return { r: code(() => linkSync('d', 'e')), e: kind('e') };
});

c('link', 'missing-source-enoent-existing-target-eexist', () => {
  put('f', 'x');
  put('g', 'y');
  return { missing: code(() => linkSync('m', 'n')), existing: code(() => linkSync('f', 'g')), g: get('g') };
});

// mkfifo(3), mknod(2) ------------------------------------------------------------------------------
// node has no mkfifo/mknod: the coreutils commands make them.

c('mknod', 'mkfifo', (dir) => {
  const r = spawnSync('mkfifo', ['p'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, p: kind('p') };
});

c(
  'mknod',
  'char-device',
  (dir) => {
    const r = spawnSync('mknod', ['null', 'c', '1', '3'], { cwd: dir, encoding: 'utf8' });
    return { status: r.status, null: kind('null') };
  },
  { root: true },
);

// everyday tools built on the calls above -----------------------------------------------------------

c('tools', 'copyfile', () => {
  const data = pattern(200_000, 11);
  put('a', data);
  copyFileSync('a', 'b');
  const excl = code(() => copyFileSync('a', 'b', constants.COPYFILE_EXCL));
  return { same: readFileSync('b').equals(data), excl };
});

c('tools', 'cp-recursive', () => {
  mkdirSync('src/sub', { recursive: true });
  put('src/f', 'top');
  put('src/sub/g', 'below');
  symlinkSync('f', 'src/l');
  cpSync('src', 'dst', { recursive: true, verbatimSymlinks: true });
  return tree('dst');
});

c('tools', 'rm-recursive', () => {
  mkdirSync('t/a/b', { recursive: true });
  put('t/a/b/f', 'x');
  put('t/g', 'y');
  symlinkSync('a', 't/l');
  return { r: code(() => rmSync('t', { recursive: true })), t: kind('t'), ls: ls() };
});
