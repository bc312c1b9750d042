// The store folder's signature file, `avfs-rocksdb`: the line "agentvfs rocksdb store", then one
// JSON line {"format":1,"db":"db-N"} naming the folder that holds the current RocksDB database.
// It is written last when a store is made and replaced with a rename (never rewritten in place),
// so a folder with it holds a complete store, and `detectBackend` recognises the folder by it.
// Compaction writes a fresh database into db-(N+1) and then points the signature at it.
import fs from 'node:fs';
import { join } from 'node:path';
import { vfsError } from '../../errors.js';
import { corrupt } from './errors.js';

export const SIGNATURE_FILE = 'avfs-rocksdb';
export const WAITING_DIR = 'waiting';
export const NOTIFY_FILE = 'notify';
const FIRST_LINE = 'agentvfs rocksdb store';
export const FORMAT = 1;
const DB_RE = /^db-([1-9]\d{0,8})$/;

export interface Signature {
  format: number;
  /** The database folder's name inside the store folder. */
  db: string;
}

export function isRocksStore(dir: string): boolean {
  return fs.existsSync(join(dir, SIGNATURE_FILE));
}

export function readSignature(dir: string): Signature {
  let text: string;
  try {
    text = fs.readFileSync(join(dir, SIGNATURE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw vfsError('ENOTVAULT', dir, `not an agentvfs vault (the folder holds no ${SIGNATURE_FILE})`);
    throw e;
  }
  const lines = text.split('\n');
  if (lines[0] !== FIRST_LINE) throw vfsError('ENOTVAULT', dir, `not an agentvfs vault (${SIGNATURE_FILE} does not start with "${FIRST_LINE}")`);
  let sig: Signature;
  try {
    sig = JSON.parse(lines[1] ?? '') as Signature;
  } catch {
    throw corrupt(dir, `${SIGNATURE_FILE} is unreadable`);
  }
  if (typeof sig?.format !== 'number' || typeof sig.db !== 'string') throw corrupt(dir, `${SIGNATURE_FILE} is unreadable`);
  if (sig.format !== FORMAT) throw vfsError('EVERSION', dir, `rocksdb store format ${sig.format} is not supported (this avfs reads format ${FORMAT})`);
  if (!DB_RE.test(sig.db)) throw corrupt(dir, `${SIGNATURE_FILE} names no database folder`);
  return sig;
}

/** The next database folder's name after `db` (compaction writes there). */
export function nextDb(db: string): string {
  return `db-${Number(DB_RE.exec(db)![1]) + 1}`;
}

export function isDbFolder(name: string): boolean {
  return DB_RE.test(name);
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replace the signature (temp file, fsync, rename, fsync of the folder). */
export function writeSignature(dir: string, sig: Signature): void {
  const tmp = join(dir, `${SIGNATURE_FILE}.tmp-${process.pid}`);
  fs.writeFileSync(tmp, `${FIRST_LINE}\n${JSON.stringify(sig)}\n`, { mode: 0o600 });
  const fd = fs.openSync(tmp, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, join(dir, SIGNATURE_FILE));
  fsyncDir(dir);
}
