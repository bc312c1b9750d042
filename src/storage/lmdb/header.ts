// Checks on an LMDB folder made in JavaScript before lmdb-js opens it. They are not optional:
// lmdb-js 3.5.6 frees its environment twice when mdb_env_open fails (src/env.cpp, openEnv:
// `delete extended_env` then closeEnv() reads it), so a bad data.mdb kills the process with
// SIGSEGV instead of throwing; and a data.mdb truncated under pages the tree points to kills it
// with SIGBUS on the first read of the mapping. Whatever these checks pass, LMDB can open.
import fs from 'node:fs';
import { join } from 'node:path';
import { vfsError } from '../../errors.js';

export const DATA_FILE = 'data.mdb';
export const LOCK_FILE = 'lock.mdb';

// Layout of LMDB's meta page as built into lmdb-js (data format 2, 64-bit, little-endian):
// a 24-byte page header, then MDB_meta {magic, version, address, mapsize, dbs[FREE, MAIN],
// last_pg, txnid}, each MDB_db being 48 bytes with its root page number at offset 40.
const PAGE_HEADER = 24;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_META = 0x08;
const F_SUBDATA = 0x02;
const MAGIC = 0xbeefc0de;
const DATA_VERSION = 2;
const META_BYTES = PAGE_HEADER + 160;
const NO_PAGE = 0xffffffffffffffffn;

interface Meta {
  pageSize: number;
  freeRoot: bigint;
  mainRoot: bigint;
  lastPage: bigint;
  txnid: bigint;
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  const n = fs.readSync(fd, b, 0, len, pos);
  return b.subarray(0, n);
}

function parseMeta(b: Buffer): Meta | undefined {
  if (b.length < META_BYTES) return undefined;
  if (!(b.readUInt16LE(18) & P_META) || b.readUInt32LE(24) !== MAGIC) return undefined;
  return {
    pageSize: b.readUInt32LE(48),
    freeRoot: b.readBigUInt64LE(48 + 40),
    mainRoot: b.readBigUInt64LE(96 + 40),
    lastPage: b.readBigUInt64LE(144),
    txnid: b.readBigUInt64LE(152),
  };
}

/** A named database's name as LMDB stores it: lmdb-js keeps the C string's terminating NUL. */
export function dbName(key: Uint8Array): string {
  const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return k.toString('latin1', 0, k.length > 0 && k[k.length - 1] === 0 ? k.length - 1 : k.length);
}

/** Roots of the named databases, read from the main database's root when it is a single leaf
 * (it is, for a handful of collections). Undefined when the page is not that shape. */
function namedRoots(page: Buffer, pgno: bigint): Map<string, bigint> | undefined {
  if (page.length < PAGE_HEADER || page.readBigUInt64LE(0) !== pgno) return undefined;
  const flags = page.readUInt16LE(18);
  if (flags & P_BRANCH || !(flags & P_LEAF)) return undefined;
  const nkeys = page.readUInt16LE(20) >> 1;
  const roots = new Map<string, bigint>();
  for (let i = 0; i < nkeys; i++) {
    const ptr = PAGE_HEADER + 2 * i;
    if (ptr + 2 > page.length) return undefined;
    const node = page.readUInt16LE(ptr) + PAGE_HEADER;
    if (node + 8 > page.length) return undefined;
    const nflags = page.readUInt16LE(node + 4);
    const ksize = page.readUInt16LE(node + 6);
    if (!(nflags & F_SUBDATA) || node + 8 + ksize + 48 > page.length) continue;
    const name = dbName(page.subarray(node + 8, node + 8 + ksize));
    roots.set(name, page.readBigUInt64LE(node + 8 + ksize + 40));
  }
  return roots;
}

/** Both meta pages, read together; undefined for one that is not stamped as a meta page. */
function readMetas(fd: number, pageSize: number): [Meta | undefined, Meta | undefined] {
  return [parseMeta(readAt(fd, 0, META_BYTES)), parseMeta(readAt(fd, pageSize, META_BYTES))];
}

const latest = (m0: Meta, m1: Meta): Meta => (m1.txnid > m0.txnid ? m1 : m0);

/**
 * Validate data.mdb: both meta pages present and stamped, page size sane, and the roots of
 * the trees (free, main, each collection) inside the file. Throws ENOTVAULT or ECORRUPT.
 *
 * Other processes may be committing meanwhile. Pages are written before the meta page that
 * points at them, so the metas are read before the file size; and the main root page is only
 * trusted when the latest txnid did not move while we looked (the page can be reused two
 * commits later). After a few moving tries only the meta's own roots are checked.
 */
export function checkDataFile(dir: string, collections: readonly string[]): void {
  const file = join(dir, DATA_FILE);
  if (fs.statSync(file).size === 0) return; // LMDB initialises an empty file
  const fd = fs.openSync(file, 'r');
  try {
    const head = readAt(fd, 0, META_BYTES);
    const notLmdb = () => vfsError('ENOTVAULT', dir, `not an agentvfs vault (${DATA_FILE} is not an LMDB file)`);
    const m0 = parseMeta(head);
    if (!m0) throw notLmdb();
    const version = head.readUInt32LE(28) & 0xffff;
    if (version !== DATA_VERSION) throw vfsError('ENOTVAULT', dir, `not an agentvfs vault (unsupported LMDB data version ${version})`);
    const ps = m0.pageSize;
    if (ps < 512 || ps > 65536 || (ps & (ps - 1)) !== 0) throw notLmdb();
    const damaged = (why: string) => vfsError('ECORRUPT', dir, `vault is damaged (${DATA_FILE}: ${why})`);

    for (let attempt = 1; ; attempt++) {
      const [a, b] = readMetas(fd, ps);
      if (!a) throw notLmdb();
      if (!b) {
        const size = fs.fstatSync(fd).size;
        throw damaged(size < 2 * ps ? `truncated to ${size} bytes` : 'second meta page is not valid');
      }
      const m = latest(a, b);
      const roots = m.mainRoot === NO_PAGE ? new Map<string, bigint>() : namedRoots(readAt(fd, Number(m.mainRoot) * ps, ps), m.mainRoot);
      const size = fs.fstatSync(fd).size;
      const [a2, b2] = readMetas(fd, ps);
      const still = a2 !== undefined && b2 !== undefined && latest(a2, b2).txnid === m.txnid;
      if (!still && attempt < 5) continue;

      const pages = BigInt(Math.floor(size / ps));
      const outside = (root: bigint) => root !== NO_PAGE && root >= pages;
      for (const [what, root] of [['main tree', m.mainRoot], ['free list', m.freeRoot]] as const) {
        if (outside(root)) throw damaged(`truncated: ${size} bytes, but the ${what} starts at page ${root}`);
      }
      if (!still) return;
      for (const c of collections) {
        const r = roots?.get(c);
        if (r !== undefined && outside(r)) throw damaged(`truncated: ${size} bytes, but collection ${c} starts at page ${r}`);
      }
      return;
    }
  } finally {
    fs.closeSync(fd);
  }
}

export type FolderState = 'missing' | 'new' | 'existing';

/** What is at `dir`: nothing, a folder to create a store in, or a folder holding one. */
export function inspectFolder(dir: string): FolderState {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw vfsError('EIO', dir, `cannot read the store folder (${(e as Error).message})`, e);
  }
  if (!st.isDirectory()) throw vfsError('ENOTVAULT', dir, 'not an agentvfs vault (a file, where an LMDB store folder was expected)');
  if (fs.existsSync(join(dir, DATA_FILE))) return 'existing';
  // A folder with other things in it is someone else's: do not start a store among them.
  const others = fs.readdirSync(dir).filter((f) => f !== LOCK_FILE);
  if (others.length > 0) throw vfsError('ENOTVAULT', dir, `not an agentvfs vault (the folder holds no ${DATA_FILE})`);
  return 'new';
}

/** mdb_env_open fails (and lmdb-js crashes) on files it cannot open: find that out first. */
export function checkAccess(dir: string, readOnly: boolean): void {
  const need = (p: string, mode: number, what: string) => {
    try {
      fs.accessSync(p, mode);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code === 'EROFS' ? 'EROFS' : 'EACCES';
      // LMDB cannot even read from a read-only file system: every reader writes its slot in
      // the lock file. Say so in the words the code stands for.
      const why = code === 'EROFS' ? 'the file system is read-only' : (e as NodeJS.ErrnoException).code;
      throw vfsError(code, p, `cannot ${what} (${why})`, e);
    }
  };
  const rw = fs.constants.R_OK | (readOnly ? 0 : fs.constants.W_OK);
  need(dir, rw | fs.constants.X_OK, readOnly ? 'read the store folder' : 'write in the store folder');
  const data = join(dir, DATA_FILE);
  if (fs.existsSync(data)) need(data, rw, readOnly ? 'read the store' : 'write the store');
  const lock = join(dir, LOCK_FILE);
  // Even a read-only opener writes its reader slot into the lock file.
  if (fs.existsSync(lock)) need(lock, fs.constants.R_OK | fs.constants.W_OK, 'use the lock file');
  else need(dir, fs.constants.W_OK, 'create the lock file');
}
