// Public types of the library API (re-exported from src/index.ts).
import type { FileType, Inode } from '../core/records.js';
import type { Found } from '../core/resolve.js';

export type { FileType };

export interface Stat {
  /** Canonical vault path (symlinks on the way resolved). */
  path: string;
  name: string;
  type: FileType;
  ino: number;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  size: number;
  nlink: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  mtime: Date;
  ctime: Date;
  birthtime: Date;
  /** Content version (files): 1 when created, +1 on each change of content. */
  version: number;
  /** Content id, hex SHA-256 (files). */
  hash?: string;
  /** Where a symlink points. */
  target?: string;
  /** The entry's tags, in name order: only when asked for (`{ attrs: true }`), never on a view of the past. */
  tags?: string[];
  /** The entry's metadata: only when asked for (`{ attrs: true }`), never on a view of the past. */
  meta?: Record<string, string>;
}

/** Options of stat(), lstat(), list(). */
export interface StatOptions {
  /** Also load the entry's tags and metadata (Stat.tags, Stat.meta): a little more work per entry. */
  attrs?: boolean;
}

export type { TagInfo, TagChange } from '../tags/tags.js';
export type { MetaMap, MetaExport } from '../tags/rules.js';

export interface DirEntry {
  name: string;
  type: FileType;
  ino: number;
}

export function toStat(f: Pick<Found, 'path' | 'name' | 'node'>): Stat {
  const n: Inode = f.node;
  const st: Stat = {
    path: f.path,
    name: f.name === '' ? '/' : f.name,
    type: n.type,
    ino: n.ino,
    mode: n.mode,
    size: n.size,
    nlink: n.type === 'directory' ? 2 : 1,
    mtimeMs: n.mtimeMs,
    ctimeMs: n.ctimeMs,
    birthtimeMs: n.birthtimeMs,
    mtime: new Date(n.mtimeMs),
    ctime: new Date(n.ctimeMs),
    birthtime: new Date(n.birthtimeMs),
    version: n.version,
  };
  if (n.type === 'file') st.hash = n.hash;
  if (n.type === 'symlink') st.target = n.target;
  return st;
}

export interface WriteFileOptions {
  /** Add to the end instead of replacing. */
  append?: boolean;
  /** Permission bits for a new file (default 0o644). */
  mode?: number;
  /** Create missing parent folders (default true). */
  parents?: boolean;
  /** Fail with EEXIST if the file is already there. */
  exclusive?: boolean;
  /** Set this modification time (ms since the epoch) instead of now. */
  mtimeMs?: number;
}

export interface FindOptions {
  /** Glob on the entry's name (`*.ts`, `data-??.csv`). */
  name?: string;
  type?: FileType;
  /** Size bounds in bytes, inclusive. */
  minSize?: number;
  maxSize?: number;
  /** Modified at or after / before these times (ms since the epoch). */
  newerThanMs?: number;
  olderThanMs?: number;
  /** How deep to go below the start (0: only the start itself). */
  maxDepth?: number;
  /** Has this tag (several: every one of them). Not on a view of the past (ENOTSUP). */
  tag?: string | string[];
  /** Load each entry's tags and metadata into its Stat. */
  attrs?: boolean;
}

export interface WalkEntry {
  path: string;
  depth: number;
  stat: Stat;
}

export interface TransferProgress {
  files: number;
  bytes: number;
  /** Known after the scan that precedes the work. */
  totalFiles: number;
  totalBytes: number;
}

export interface TransferResult {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

export interface CheckResult {
  ok: boolean;
  problems: string[];
  files: number;
  dirs: number;
  symlinks: number;
  chunks: number;
}
