// How filesystem state is laid out in the storage collections (format version 1).
//
//   meta       'vault' -> VaultRecord JSON; 'seq' -> u64 last operation number; 'next_ino' -> u64
//   inodes     ino(8)                   -> Inode JSON
//   dirents    parent(8) name           -> child ino(8) + type(1)
//   oplog      seq(8)                   -> OpRecord JSON
//   inode_log  ino(8) seq(8)            -> Inode JSON as it became at seq (history)
//   dirent_log parent(8) name 0x00 seq(8) -> child ino(8) + type(1), or empty (removed) at seq
//
// Numbers are big-endian so that byte order is numeric order; names sort bytewise (UTF-8),
// which is what `ls` shows. Names never hold NUL, so 0x00 can end a name inside a key.
export const FORMAT_VERSION = 1;
export const ROOT_INO = 1;

export type FileType = 'file' | 'directory' | 'symlink';
const TYPE_BYTE: Record<FileType, number> = { file: 0x66, directory: 0x64, symlink: 0x6c }; // f d l
const BYTE_TYPE = new Map<number, FileType>(Object.entries(TYPE_BYTE).map(([t, b]) => [b, t as FileType]));

export interface Inode {
  ino: number;
  type: FileType;
  /** Permission bits only (e.g. 0o644); the type is in `type`. */
  mode: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  /** Content id (hex SHA-256): of the bytes when size <= chunk size, else of the manifest. */
  hash?: string;
  /** Symlink target, stored as given. */
  target?: string;
  /** Content version: 1 at creation, +1 on every content change. */
  version: number;
}

export interface VaultRecord {
  format: number;
  backend: string;
  id: string;
  createdMs: number;
  chunkSize: number;
}

export interface OpRecord {
  seq: number;
  timeMs: number;
  op: string;
  paths: string[];
  actor: string;
  /** Operation-specific details (sizes, versions, flags). */
  info?: Record<string, unknown>;
  /** Absent when the operation succeeded; the error code when it was refused (nothing changed). */
  outcome?: string;
}

export function u64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(Math.floor(n / 0x100000000), 0);
  b.writeUInt32BE(n >>> 0, 4);
  return b;
}

export function readU64(b: Buffer, offset = 0): number {
  return b.readUInt32BE(offset) * 0x100000000 + b.readUInt32BE(offset + 4);
}

export const inodeKey = (ino: number): Buffer => u64(ino);

export const direntKey = (parent: number, name: string): Buffer => Buffer.concat([u64(parent), Buffer.from(name)]);
export const direntPrefix = (parent: number): Buffer => u64(parent);
export const direntName = (key: Buffer): string => key.subarray(8).toString();

export function direntValue(ino: number, type: FileType): Buffer {
  const b = Buffer.allocUnsafe(9);
  b.writeUInt32BE(Math.floor(ino / 0x100000000), 0);
  b.writeUInt32BE(ino >>> 0, 4);
  b[8] = TYPE_BYTE[type];
  return b;
}

export const DIRENT_VALUE_BYTES = 9;

/** The child and type of the directory entry value at `off` in `b` (entries end to end). */
export function direntAt(b: Buffer, off: number): { ino: number; type: FileType } {
  const type = BYTE_TYPE.get(b[off + 8]);
  if (type === undefined) throw new Error('malformed directory entry');
  return { ino: readU64(b, off), type };
}

export function parseDirent(v: Buffer): { ino: number; type: FileType } {
  const type = BYTE_TYPE.get(v[8]);
  if (v.length !== 9 || type === undefined) throw new Error('malformed directory entry');
  return { ino: readU64(v), type };
}

export const inodeLogKey = (ino: number, seq: number): Buffer => Buffer.concat([u64(ino), u64(seq)]);
export const direntLogKey = (parent: number, name: string, seq: number): Buffer =>
  Buffer.concat([u64(parent), Buffer.from(name), Buffer.from([0]), u64(seq)]);

export const encodeJson = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
export const decodeJson = <T>(b: Buffer): T => JSON.parse(b.toString()) as T;

export const META_VAULT = Buffer.from('vault');
export const META_SEQ = Buffer.from('seq');
export const META_NEXT_INO = Buffer.from('next_ino');
