// Stats, BigIntStats and Dirent with node:fs's fields and methods, made from the vault's Stat.
// The vault has no atime (it would cost a write per read): atime is the mtime. uid and gid are
// the process's (a vault has no owners); dev is one number per vault; blksize and blocks are
// what a 4 KiB-block filesystem would report for the size.
import { constants } from 'node:fs';
import type { FileType } from '../../core/records.js';
import type { Stat } from '../types.js';

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = constants;

export const TYPE_BITS: Record<FileType, number> = { file: S_IFREG, directory: S_IFDIR, symlink: S_IFLNK };

/** The fields a Stats is made of: a vault Stat, with what an open file holds unwritten. */
export type StatFields = Pick<Stat, 'type' | 'ino' | 'mode' | 'size' | 'nlink' | 'mtimeMs' | 'ctimeMs' | 'birthtimeMs'>;

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

/** Node rounds the ms to make the Date (a time of ...122.999 ms is a Date at .123). */
const date = (ms: number): Date => new Date(Math.round(ms));

function blocksOf(f: StatFields): number {
  if (f.type === 'symlink') return 0;
  return f.type === 'directory' ? 8 : Math.ceil(f.size / 4096) * 8;
}

/** The type questions Stats and Dirent both answer (a vault holds no devices, FIFOs or sockets). */
abstract class StatsBase {
  protected abstract fmt(): number;
  isFile(): boolean {
    return this.fmt() === S_IFREG;
  }
  isDirectory(): boolean {
    return this.fmt() === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return this.fmt() === S_IFLNK;
  }
  isBlockDevice(): boolean {
    return false;
  }
  isCharacterDevice(): boolean {
    return false;
  }
  isFIFO(): boolean {
    return false;
  }
  isSocket(): boolean {
    return false;
  }
}

export class VaultStats extends StatsBase {
  // Declared in node:fs's order, so the objects list their fields as Node's do.
  dev: number;
  mode: number;
  nlink: number;
  uid = uid;
  gid = gid;
  rdev = 0;
  blksize = 4096;
  ino: number;
  size: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;
  constructor(f: StatFields, dev: number) {
    super();
    this.dev = dev;
    this.mode = TYPE_BITS[f.type] | f.mode;
    this.nlink = f.nlink;
    this.ino = f.ino;
    this.size = f.size;
    this.blocks = blocksOf(f);
    this.atimeMs = f.mtimeMs;
    this.mtimeMs = f.mtimeMs;
    this.ctimeMs = f.ctimeMs;
    this.birthtimeMs = f.birthtimeMs;
    this.atime = date(f.mtimeMs);
    this.mtime = date(f.mtimeMs);
    this.ctime = date(f.ctimeMs);
    this.birthtime = date(f.birthtimeMs);
  }
  protected fmt(): number {
    return this.mode & S_IFMT;
  }
}

const ns = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

export class VaultBigIntStats extends StatsBase {
  dev: bigint;
  mode: bigint;
  nlink: bigint;
  uid = BigInt(uid);
  gid = BigInt(gid);
  rdev = 0n;
  blksize = 4096n;
  ino: bigint;
  size: bigint;
  blocks: bigint;
  atimeMs: bigint;
  mtimeMs: bigint;
  ctimeMs: bigint;
  birthtimeMs: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;
  constructor(f: StatFields, dev: number) {
    super();
    this.dev = BigInt(dev);
    this.mode = BigInt(TYPE_BITS[f.type] | f.mode);
    this.nlink = BigInt(f.nlink);
    this.ino = BigInt(f.ino);
    this.size = BigInt(f.size);
    this.blocks = BigInt(blocksOf(f));
    this.atimeMs = BigInt(Math.floor(f.mtimeMs));
    this.mtimeMs = BigInt(Math.floor(f.mtimeMs));
    this.ctimeMs = BigInt(Math.floor(f.ctimeMs));
    this.birthtimeMs = BigInt(Math.floor(f.birthtimeMs));
    this.atimeNs = ns(f.mtimeMs);
    this.mtimeNs = ns(f.mtimeMs);
    this.ctimeNs = ns(f.ctimeMs);
    this.birthtimeNs = ns(f.birthtimeMs);
    this.atime = date(f.mtimeMs);
    this.mtime = date(f.mtimeMs);
    this.ctime = date(f.ctimeMs);
    this.birthtime = date(f.birthtimeMs);
  }
  protected fmt(): number {
    return Number(this.mode) & S_IFMT;
  }
}

export function makeStats(f: StatFields, dev: number, bigint: boolean): VaultStats | VaultBigIntStats {
  return bigint ? new VaultBigIntStats(f, dev) : new VaultStats(f, dev);
}

/** A folder entry as readdir({ withFileTypes: true }) and opendir() give it. */
export class VaultDirent<Name extends string | Buffer = string> extends StatsBase {
  name: Name;
  /** The folder it is in, as the caller named it. */
  parentPath: string;
  /** Node 20's older name for parentPath. */
  path: string;
  readonly #type: FileType;
  constructor(name: Name, type: FileType, parentPath: string) {
    super();
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    this.#type = type;
  }
  protected fmt(): number {
    return TYPE_BITS[this.#type];
  }
}
