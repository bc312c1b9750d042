// The filesystem model: every operation on folders, files and symlinks, each taking a scope
// (one transaction) and normalised paths. The api layer checks arguments, opens the
// transaction and names the caller; nothing here knows which engine is underneath.
import { isVfsError, vfsError } from '../errors.js';
import { EMPTY_HASH, putContent, readContent, truncateContent, writeAt, type ContentRef } from '../content/chunks.js';
import { checkName, dirname, isWithin, joinPath, splitPath, joinNames } from './paths.js';
import { decodeJson, direntPrefix, parseDirent, ROOT_INO, u64, type FileType, type Inode } from './records.js';
import { checkTarget, folderIno, lookup, resolve, resolveDir, type Found, type Lookup } from './resolve.js';
import type { ReadScope, WriteScope } from './scope.js';
import { copyAttrs, dropAttrs } from '../tags/rows.js';

export const DEFAULT_FILE_MODE = 0o644;
export const DEFAULT_DIR_MODE = 0o755;
export const SYMLINK_MODE = 0o777;

function now(): number {
  return Date.now();
}

async function newNode(s: WriteScope, type: FileType, mode: number, extra: Partial<Inode> = {}): Promise<Inode> {
  const t = now();
  return { ino: await s.allocIno(), type, mode: mode & 0o7777, size: 0, mtimeMs: t, ctimeMs: t, birthtimeMs: t, version: 1, ...extra };
}

/** Put a new node under a folder and touch the folder's times. */
async function attach(s: WriteScope, parent: number, parentNode: Inode, name: string, node: Inode): Promise<void> {
  checkName(name, name);
  await s.setInode(node);
  await s.link(parent, name, node.ino, node.type);
  await touchDir(s, parent, parentNode);
}

async function touchDir(s: WriteScope, ino: number, node: Inode): Promise<void> {
  const t = now();
  const current = (await s.inode(ino)) ?? node;
  await s.setInode({ ...current, mtimeMs: t, ctimeMs: t }, false);
}

/** The inode leaves the current tree, and its tags and metadata with it (docs/tags.md). */
async function drop(s: WriteScope, ino: number): Promise<void> {
  await s.dropInode(ino);
  await dropAttrs(s.tx, ino);
}

async function detach(s: WriteScope, parent: number, name: string): Promise<void> {
  await s.unlink(parent, name);
  const p = await s.inode(parent);
  if (p) await touchDir(s, parent, p);
}

// ---- reading -----------------------------------------------------------------------------

export async function stat(s: ReadScope, path: string, follow = true): Promise<Found> {
  return resolve(s, path, follow);
}

export type { Child } from './scope.js';
import type { Child } from './scope.js';

/** The entries of a folder, in name order (bytewise UTF-8). */
export async function readdir(s: ReadScope, path: string): Promise<Child[]> {
  return children(s, await folderIno(s, path));
}

export async function children(s: ReadScope, dirIno: number): Promise<Child[]> {
  return s.children(dirIno);
}

async function isEmptyDir(s: ReadScope, ino: number): Promise<boolean> {
  return (await s.tx.range('dirents', { prefix: direntPrefix(ino), limit: 1 })).length === 0;
}

export function contentOf(node: Inode): ContentRef {
  return { hash: node.hash ?? EMPTY_HASH, size: node.size };
}

export async function readFile(s: ReadScope, path: string, start?: number, end?: number): Promise<Buffer> {
  const f = await resolve(s, path, true);
  if (f.node.type === 'directory') throw vfsError('EISDIR', path);
  return readContent(s.tx, contentOf(f.node), s.settings.chunkSize, start, end);
}

export async function readlink(s: ReadScope, path: string): Promise<string> {
  const f = await resolve(s, path, false);
  if (f.node.type !== 'symlink') throw vfsError('EINVAL', path, 'not a symbolic link');
  return f.node.target ?? '';
}

// ---- folders -----------------------------------------------------------------------------

/** Create every missing folder on the way to `path` (inside the running operation). */
export async function ensureDir(s: WriteScope, path: string, mode = DEFAULT_DIR_MODE): Promise<Found> {
  const names = splitPath(path);
  let found = await resolve(s, '/', true);
  for (let i = 1; i <= names.length; i++) {
    const r = await lookup(s, joinNames(names.slice(0, i)), true);
    if (r.found) {
      if (r.node.type !== 'directory') throw vfsError('ENOTDIR', r.path);
      found = r;
      continue;
    }
    const node = await newNode(s, 'directory', mode);
    await attach(s, r.parent, r.parentNode, r.name, node);
    found = { found: true, ino: node.ino, node, parent: r.parent, name: r.name, path: r.path } as Found;
  }
  return found;
}

export async function mkdir(s: WriteScope, path: string, opts: { recursive?: boolean; mode?: number } = {}): Promise<void> {
  const mode = opts.mode ?? DEFAULT_DIR_MODE;
  if (opts.recursive) {
    await s.begin('mkdir', [path]);
    await ensureDir(s, path, mode);
    return;
  }
  const r = await lookup(s, path, false);
  if (r.found) throw vfsError('EEXIST', path);
  await s.begin('mkdir', [path]);
  await attach(s, r.parent, r.parentNode, r.name, await newNode(s, 'directory', mode));
}

export async function rmdir(s: WriteScope, path: string): Promise<void> {
  const r = await resolve(s, path, false);
  if (r.ino === ROOT_INO) throw vfsError('EBUSY', '/', 'cannot remove the root folder');
  if (r.node.type !== 'directory') throw vfsError('ENOTDIR', path);
  if (!(await isEmptyDir(s, r.ino))) throw vfsError('ENOTEMPTY', path);
  await s.begin('rmdir', [path]);
  await detach(s, r.parent, r.name);
  await drop(s, r.ino);
}

// ---- files -------------------------------------------------------------------------------

export interface WriteOptions {
  append?: boolean;
  mode?: number;
  /** Create missing parent folders (default true: agents write deep paths in one step). */
  parents?: boolean;
  /** Fail with EEXIST if the file exists. */
  exclusive?: boolean;
  /** Keep this mtime instead of now (import). */
  mtimeMs?: number;
}

/** Create or replace a file's content (or append to it). Returns the file's inode after. */
export async function writeFile(s: WriteScope, path: string, data: Buffer, opts: WriteOptions = {}): Promise<Inode> {
  return setFileContent(s, path, opts.append ? 'append' : 'write', opts, async (old) =>
    old && opts.append
      ? writeAt(s.tx, contentOf(old), old.size, data, s.settings.chunkSize)
      : putContent(s.tx, data, s.settings.chunkSize),
  );
}

/** Write bytes at an offset without touching the rest (the mount's random writes). */
export async function writeFileAt(s: WriteScope, path: string, offset: number, data: Buffer): Promise<Inode> {
  return setFileContent(s, path, 'write', { parents: false }, async (old) =>
    writeAt(s.tx, old ? contentOf(old) : { hash: EMPTY_HASH, size: 0 }, offset, data, s.settings.chunkSize),
  );
}

export async function truncate(s: WriteScope, path: string, size: number): Promise<Inode> {
  return setFileContent(s, path, 'truncate', { parents: false }, async (old) =>
    truncateContent(s.tx, old ? contentOf(old) : { hash: EMPTY_HASH, size: 0 }, size, s.settings.chunkSize),
  );
}

/** Point a file at content that is already stored (large writes store chunks first). */
export async function setContent(s: WriteScope, path: string, ref: ContentRef, opts: WriteOptions = {}): Promise<Inode> {
  return setFileContent(s, path, 'write', opts, async () => ref);
}

async function setFileContent(
  s: WriteScope,
  path: string,
  op: string,
  opts: WriteOptions,
  make: (old: Inode | undefined) => Promise<ContentRef>,
): Promise<Inode> {
  await s.begin(op, [path]);
  let r: Lookup;
  try {
    r = await lookup(s, path, true);
  } catch (e) {
    // A missing folder on the way: create the folders (write's default), then look again.
    if (opts.parents === false || !isVfsError(e, 'ENOENT')) throw e;
    await ensureDir(s, dirname(path));
    r = await lookup(s, path, true);
  }
  const t = opts.mtimeMs ?? now();
  if (r.found) {
    if (r.node.type === 'directory') throw vfsError('EISDIR', path);
    if (opts.exclusive) throw vfsError('EEXIST', path);
    const ref = await make(r.node);
    const changed = ref.hash !== (r.node.hash ?? EMPTY_HASH) || ref.size !== r.node.size;
    const node: Inode = {
      ...r.node,
      hash: ref.hash,
      size: ref.size,
      mtimeMs: t,
      ctimeMs: now(),
      version: r.node.version + (changed ? 1 : 0),
      ...(opts.mode !== undefined ? { mode: opts.mode & 0o7777 } : {}),
    };
    await s.setInode(node, changed);
    s.note({ version: node.version, size: node.size });
    return node;
  }
  const ref = await make(undefined);
  const node = await newNode(s, 'file', opts.mode ?? DEFAULT_FILE_MODE, { hash: ref.hash, size: ref.size });
  node.mtimeMs = t;
  node.version = (await lastVersionAt(s, r.parent, r.name)) + 1;
  await attach(s, r.parent, r.parentNode, r.name, node);
  s.note({ version: node.version, size: node.size });
  return node;
}

/** An inode and its current path, by number (an open file's); ENOENT once it left the tree. */
export async function inodeAt(s: ReadScope, ino: number): Promise<{ node: Inode; path: string }> {
  const node = await s.inode(ino);
  const path = node ? await s.pathOf(ino) : undefined;
  if (!node || path === undefined) throw vfsError('ENOENT', undefined, `inode ${ino} is no longer in the tree (removed while open)`);
  return { node, path };
}

/**
 * Point the file `ino` at content already stored, wherever the file is now: the commit of an
 * open file's buffered writes (the mount, the fs facade), which may have been renamed since it
 * was opened. ENOENT when the file is no longer in the tree (its buffered bytes have nowhere to go).
 */
export async function setContentOf(s: WriteScope, ino: number, ref: ContentRef, mtimeMs: number): Promise<Inode> {
  const { node, path } = await inodeAt(s, ino);
  if (node.type !== 'file') throw vfsError('EISDIR', path);
  await s.begin('write', [path]);
  const changed = ref.hash !== (node.hash ?? EMPTY_HASH) || ref.size !== node.size;
  const next: Inode = { ...node, hash: ref.hash, size: ref.size, mtimeMs, ctimeMs: now(), version: node.version + (changed ? 1 : 0) };
  await s.setInode(next, changed);
  s.note({ version: next.version, size: next.size });
  return next;
}

/**
 * The content version of the file that last stood at (parent, name), 0 if none: a file made
 * where one was deleted continues its numbering, so versions along a path stay unique.
 */
export async function lastVersionAt(s: ReadScope, parent: number, name: string): Promise<number> {
  if (!s.mayHaveHistory(parent)) return 0;
  const base = Buffer.concat([u64(parent), Buffer.from(name), Buffer.from([0])]);
  const rows = await s.tx.range('dirent_log', { prefix: base, reverse: true, limit: 4 });
  const bound = rows.find((e) => e.value.length > 0);
  if (!bound) return 0;
  const ino = parseDirent(bound.value).ino;
  const last = await s.tx.range('inode_log', { prefix: u64(ino), reverse: true, limit: 1 });
  if (last.length === 0) return 0;
  const node = decodeJson<Inode>(last[0].value);
  return node.type === 'file' ? node.version : 0;
}

/** Create an empty file, or set an existing entry's mtime (to now unless given). */
export async function touch(s: WriteScope, path: string, mtimeMs?: number): Promise<void> {
  const r = await lookup(s, path, true);
  await s.begin('touch', [path]);
  if (r.found) {
    await s.setInode({ ...r.node, mtimeMs: mtimeMs ?? now(), ctimeMs: now() }, false);
    return;
  }
  const node = await newNode(s, 'file', DEFAULT_FILE_MODE, { hash: EMPTY_HASH });
  if (mtimeMs !== undefined) node.mtimeMs = mtimeMs;
  await attach(s, r.parent, r.parentNode, r.name, node);
}

export async function chmod(s: WriteScope, path: string, mode: number): Promise<void> {
  const r = await resolve(s, path, true);
  await s.begin('chmod', [path], { mode });
  await s.setInode({ ...r.node, mode: mode & 0o7777, ctimeMs: now() });
}

export async function utimes(s: WriteScope, path: string, mtimeMs: number, follow = true): Promise<void> {
  const r = await resolve(s, path, follow);
  await s.begin('utimes', [path]);
  await s.setInode({ ...r.node, mtimeMs, ctimeMs: now() }, false);
}

export async function symlink(s: WriteScope, target: string, path: string, mtimeMs?: number): Promise<void> {
  checkTarget(target);
  const r = await lookup(s, path, false);
  if (r.found) throw vfsError('EEXIST', path);
  await s.begin('symlink', [path], { target });
  const node = await newNode(s, 'symlink', SYMLINK_MODE, { target, size: Buffer.byteLength(target) });
  if (mtimeMs !== undefined) node.mtimeMs = mtimeMs;
  await attach(s, r.parent, r.parentNode, r.name, node);
}

// ---- removing ----------------------------------------------------------------------------

export async function unlink(s: WriteScope, path: string): Promise<void> {
  const r = await resolve(s, path, false);
  if (r.node.type === 'directory') throw vfsError('EISDIR', path);
  await s.begin('unlink', [path]);
  await detach(s, r.parent, r.name);
  await drop(s, r.ino);
}

/** rm: files and symlinks; folders with `recursive`; nothing and no error with `force`. */
export async function rm(s: WriteScope, path: string, opts: { recursive?: boolean; force?: boolean } = {}): Promise<boolean> {
  const r = await lookup(s, path, false).catch((e) => {
    if (opts.force && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return undefined;
    throw e;
  });
  if (!r || !r.found) {
    if (opts.force) return false;
    throw vfsError('ENOENT', path);
  }
  if (r.node.type !== 'directory') {
    await s.begin('unlink', [path]);
    await detach(s, r.parent, r.name);
    await drop(s, r.ino);
    return true;
  }
  if (r.ino === ROOT_INO) throw vfsError('EBUSY', '/', 'cannot remove the root folder');
  if (!opts.recursive) throw vfsError('EISDIR', path, 'is a directory (use -r to remove it)');
  await s.begin('rm', [path], { recursive: true });
  await removeTree(s, r.ino);
  await detach(s, r.parent, r.name);
  await drop(s, r.ino);
  return true;
}

async function removeTree(s: WriteScope, dirIno: number): Promise<void> {
  for (const c of await children(s, dirIno)) {
    if (c.type === 'directory') await removeTree(s, c.ino);
    await s.unlink(dirIno, c.name);
    await drop(s, c.ino);
  }
}

// ---- moving and copying ------------------------------------------------------------------

/**
 * Atomic rename, POSIX rules: a file may replace a file, a folder may replace an empty folder,
 * a folder never goes below itself. Returns false when `noClobber` kept an existing target.
 */
export async function rename(s: WriteScope, from: string, to: string, opts: { noClobber?: boolean } = {}): Promise<boolean> {
  const src = await resolve(s, from, false);
  if (src.ino === ROOT_INO) throw vfsError('EBUSY', '/', 'cannot move the root folder');
  const dst = await lookup(s, to, false);
  if (src.node.type === 'directory' && isWithin(dst.path, src.path)) {
    if (dst.path === src.path) return true;
    throw vfsError('EINVAL', to, `cannot move folder ${src.path} into itself`);
  }
  if (dst.found) {
    if (dst.ino === src.ino) return true;
    if (opts.noClobber) return false;
    if (src.node.type === 'directory') {
      if (dst.node.type !== 'directory') throw vfsError('ENOTDIR', to);
      if (!(await isEmptyDir(s, dst.ino))) throw vfsError('ENOTEMPTY', to);
    } else if (dst.node.type === 'directory') {
      throw vfsError('EISDIR', to);
    }
  }
  await s.begin('rename', [src.path, dst.path]);
  const dstParent = dst.parent;
  const dstName = dst.name;
  checkName(dstName, to);
  if (dst.found) {
    await s.unlink(dstParent, dstName);
    await drop(s, dst.ino);
  }
  await s.unlink(src.parent, src.name);
  await s.link(dstParent, dstName, src.ino, src.node.type);
  await s.setInode({ ...src.node, ctimeMs: now() }, false);
  const sp = await s.inode(src.parent);
  if (sp) await touchDir(s, src.parent, sp);
  const dp = await s.inode(dstParent);
  if (dp) await touchDir(s, dstParent, dp);
  return true;
}

/**
 * Copy a file, symlink or (with `recursive`) folder to exactly `to`. File content is shared,
 * not duplicated: the copy points at the same content id. Returns false when `noClobber` kept
 * an existing target.
 */
export async function copy(s: WriteScope, from: string, to: string, opts: { recursive?: boolean; noClobber?: boolean } = {}): Promise<boolean> {
  const src = await resolve(s, from, true);
  const dst = await lookup(s, to, true);
  if (src.node.type === 'directory') {
    if (!opts.recursive) throw vfsError('EISDIR', from, 'is a directory (use -r to copy it)');
    if (isWithin(dst.path, src.path)) throw vfsError('EINVAL', to, `cannot copy folder ${src.path} into itself`);
  }
  if (dst.found) {
    if (dst.ino === src.ino) throw vfsError('EINVAL', to, `${from} and ${to} are the same file`);
    if (opts.noClobber) return false;
    if (src.node.type === 'directory' && dst.node.type !== 'directory') throw vfsError('ENOTDIR', to);
    if (src.node.type !== 'directory' && dst.node.type === 'directory') throw vfsError('EISDIR', to);
  }
  await s.begin('copy', [src.path, dst.path], { recursive: !!opts.recursive });
  await copyNode(s, src.node, dst.path, !!opts.noClobber);
  return true;
}

async function copyNode(s: WriteScope, node: Inode, to: string, noClobber: boolean): Promise<void> {
  const dst = await lookup(s, to, false);
  if (node.type === 'directory') {
    if (dst.found) {
      if (dst.node.type !== 'directory') throw vfsError('ENOTDIR', to);
      await copyAttrs(s.tx, node.ino, dst.ino, true);
    } else {
      const made = await newNode(s, 'directory', node.mode);
      await attach(s, dst.parent, dst.parentNode, dst.name, made);
      await copyAttrs(s.tx, node.ino, made.ino, false);
    }
    for (const c of await children(s, node.ino)) {
      const child = await s.inode(c.ino);
      if (child) await copyNode(s, child, joinPath(to, c.name), noClobber);
    }
    return;
  }
  if (dst.found) {
    if (noClobber) return;
    if (dst.node.type === 'directory') throw vfsError('EISDIR', to);
    if (node.type === 'file' && dst.node.type === 'file') {
      const changed = dst.node.hash !== node.hash || dst.node.size !== node.size;
      await s.setInode({ ...dst.node, hash: node.hash, size: node.size, mode: node.mode, mtimeMs: now(), ctimeMs: now(), version: dst.node.version + (changed ? 1 : 0) }, changed);
      await copyAttrs(s.tx, node.ino, dst.ino, true);
      return;
    }
    await s.unlink(dst.parent, dst.name);
    await drop(s, dst.ino);
  }
  const fresh = await newNode(s, node.type, node.mode, { hash: node.hash, size: node.size, target: node.target });
  const parentNode = (await s.inode(dst.parent))!;
  await attach(s, dst.parent, parentNode, dst.name, fresh);
  await copyAttrs(s.tx, node.ino, fresh.ino, false);
}
