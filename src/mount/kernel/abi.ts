// The FUSE kernel protocol (include/uapi/linux/fuse.h), the part the mount speaks: request
// opcodes, the fixed layouts we read from requests and write in replies. Everything is little
// endian (x86-64 and arm64 Linux); 64-bit fields are read as two 32-bit halves, since inode
// numbers, offsets and sizes here stay below 2^53.
//
// We answer as protocol 7.31: new enough for max_pages (1 MiB writes) and RENAME2, old enough
// that every kernel this runs on speaks it; the kernel adapts its requests to the minor we name.

export const FUSE_KERNEL_VERSION = 7;
export const FUSE_KERNEL_MINOR = 31;

export const Op = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  DESTROY: 38,
  BATCH_FORGET: 42,
  RENAME2: 45,
} as const;

/** Opcode -> name, for the trace log. */
export const OP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k.toLowerCase()]));

/** INIT flags we ask for (the kernel keeps those it also offers). */
export const Init = {
  ASYNC_READ: 1 << 0,
  ATOMIC_O_TRUNC: 1 << 3,
  BIG_WRITES: 1 << 5,
  PARALLEL_DIROPS: 1 << 18,
  MAX_PAGES: 1 << 22,
} as const;

/** SETATTR's `valid` bits. */
export const Fattr = {
  MODE: 1 << 0,
  UID: 1 << 1,
  GID: 1 << 2,
  SIZE: 1 << 3,
  ATIME: 1 << 4,
  MTIME: 1 << 5,
  FH: 1 << 6,
  ATIME_NOW: 1 << 7,
  MTIME_NOW: 1 << 8,
} as const;

export const GETATTR_FH = 1;
export const FOPEN_KEEP_CACHE = 1 << 1;
export const RENAME_NOREPLACE = 1;

export const IN_HEADER = 40;
export const OUT_HEADER = 16;
const ATTR = 88;
export const ENTRY_OUT = 40 + ATTR;
export const ATTR_OUT = 16 + ATTR;
export const OPEN_OUT = 16;

/** Largest write we accept (max_pages 256 of 4 KiB); the read buffer holds it plus headers. */
export const MAX_WRITE = 1 << 20;
export const READ_BUFFER = MAX_WRITE + 4096;

export function u64(b: Buffer, o: number): number {
  return b.readUInt32LE(o) + b.readUInt32LE(o + 4) * 4294967296;
}

export function putU64(b: Buffer, o: number, n: number): void {
  b.writeUInt32LE(n % 4294967296 >>> 0, o);
  b.writeUInt32LE(Math.floor(n / 4294967296) >>> 0, o + 4);
}

/** The 40-byte request header. `unique` is kept as its two halves, to echo back exactly. */
export interface InHeader {
  len: number;
  opcode: number;
  uniqueLo: number;
  uniqueHi: number;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
}

export function readHeader(b: Buffer): InHeader {
  return {
    len: b.readUInt32LE(0),
    opcode: b.readUInt32LE(4),
    uniqueLo: b.readUInt32LE(8),
    uniqueHi: b.readUInt32LE(12),
    nodeid: u64(b, 16),
    uid: b.readUInt32LE(24),
    gid: b.readUInt32LE(28),
    pid: b.readUInt32LE(32),
  };
}

/** A reply's 16-byte header: total length, -errno (or 0), the request's unique. */
export function outHeader(h: InHeader, error: number, bodyLen: number): Buffer {
  const b = Buffer.allocUnsafe(OUT_HEADER);
  b.writeUInt32LE(OUT_HEADER + bodyLen, 0);
  b.writeInt32LE(error, 4);
  b.writeUInt32LE(h.uniqueLo, 8);
  b.writeUInt32LE(h.uniqueHi, 12);
  return b;
}

/** NUL-terminated names, one after another from `at`. */
export function names(b: Buffer, at: number, end: number, count: number): string[] {
  const out: string[] = [];
  let o = at;
  for (let i = 0; i < count; i++) {
    let z = b.indexOf(0, o);
    if (z < 0 || z > end) z = end;
    out.push(b.toString('utf8', o, z));
    o = z + 1;
  }
  return out;
}

/** What the mount's operations answer for a stat (ops.ts toFuseStat): times in milliseconds. */
export interface StatLike {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  ino: number;
  blksize: number;
  blocks: number;
  atime: number;
  mtime: number;
  ctime: number;
}

function putTime(b: Buffer, secAt: number, nsecAt: number, ms: number): void {
  const t = Number.isFinite(ms) ? ms : 0;
  const sec = Math.floor(t / 1000);
  putU64(b, secAt, Math.max(0, sec));
  b.writeUInt32LE(Math.min(999_999_999, Math.max(0, Math.round((t - sec * 1000) * 1e6))), nsecAt);
}

/** struct fuse_attr at `o`. */
export function putAttr(b: Buffer, o: number, s: StatLike): void {
  putU64(b, o, s.ino);
  putU64(b, o + 8, s.size);
  putU64(b, o + 16, s.blocks);
  putTime(b, o + 24, o + 48, s.atime);
  putTime(b, o + 32, o + 52, s.mtime);
  putTime(b, o + 40, o + 56, s.ctime);
  b.writeUInt32LE(s.mode >>> 0, o + 60);
  b.writeUInt32LE(s.nlink >>> 0, o + 64);
  b.writeUInt32LE(s.uid >>> 0, o + 68);
  b.writeUInt32LE(s.gid >>> 0, o + 72);
  b.writeUInt32LE(0, o + 76); // rdev
  b.writeUInt32LE(s.blksize >>> 0, o + 80);
  b.writeUInt32LE(0, o + 84); // flags
}

/** A validity in seconds as the (seconds, nanoseconds) pair the kernel takes. */
function putValid(b: Buffer, secAt: number, nsecAt: number, seconds: number): void {
  const s = Math.floor(seconds);
  putU64(b, secAt, s);
  b.writeUInt32LE(Math.round((seconds - s) * 1e9), nsecAt);
}

/** struct fuse_entry_out: a name's node, how long the name and the attributes may be kept. */
export function entryOut(nodeid: number, s: StatLike, entrySeconds: number, attrSeconds: number): Buffer {
  const b = Buffer.alloc(ENTRY_OUT);
  putU64(b, 0, nodeid);
  putU64(b, 8, 0); // generation: node ids are never reused
  putValid(b, 16, 32, entrySeconds);
  putValid(b, 24, 36, attrSeconds);
  putAttr(b, 40, s);
  return b;
}

/** struct fuse_attr_out. */
export function attrOut(s: StatLike, attrSeconds: number): Buffer {
  const b = Buffer.alloc(ATTR_OUT);
  putValid(b, 0, 8, attrSeconds);
  putAttr(b, 16, s);
  return b;
}

/** struct fuse_open_out. */
export function openOut(fh: number, flags: number): Buffer {
  const b = Buffer.alloc(OPEN_OUT);
  putU64(b, 0, fh);
  b.writeUInt32LE(flags, 8);
  return b;
}

export interface StatfsLike {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namemax: number;
}

/** struct fuse_statfs_out (a struct fuse_kstatfs). */
export function statfsOut(s: StatfsLike): Buffer {
  const b = Buffer.alloc(80);
  putU64(b, 0, s.blocks);
  putU64(b, 8, s.bfree);
  putU64(b, 16, s.bavail);
  putU64(b, 24, s.files);
  putU64(b, 32, s.ffree);
  b.writeUInt32LE(s.bsize, 40);
  b.writeUInt32LE(s.namemax, 44);
  b.writeUInt32LE(s.frsize, 48);
  return b;
}

/**
 * struct fuse_init_out, 64 bytes: the protocol we speak, what we accept, and 1 MiB writes
 * (max_pages) so a big write(2) arrives in few requests.
 */
export function initOut(maxReadahead: number, flags: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(FUSE_KERNEL_VERSION, 0);
  b.writeUInt32LE(FUSE_KERNEL_MINOR, 4);
  b.writeUInt32LE(maxReadahead, 8);
  b.writeUInt32LE(flags >>> 0, 12);
  b.writeUInt16LE(16, 16); // max_background
  b.writeUInt16LE(12, 18); // congestion_threshold
  b.writeUInt32LE(MAX_WRITE, 20);
  b.writeUInt32LE(1, 24); // time_gran: nanoseconds
  b.writeUInt16LE(MAX_WRITE / 4096, 28); // max_pages
  return b;
}

/**
 * One struct fuse_dirent (ino, the offset of the next entry, name length, type, the name padded
 * to 8 bytes), written at `o` if it fits before `end`. Returns the offset after it, or -1.
 */
export function putDirent(b: Buffer, o: number, end: number, ino: number, next: number, type: number, name: Buffer): number {
  const size = (24 + name.length + 7) & ~7;
  if (o + size > end) return -1;
  putU64(b, o, ino);
  putU64(b, o + 8, next);
  b.writeUInt32LE(name.length, o + 16);
  b.writeUInt32LE(type, o + 20);
  name.copy(b, o + 24);
  b.fill(0, o + 24 + name.length, o + size);
  return o + size;
}
