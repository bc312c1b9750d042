// Path resolution: walk from the root one name at a time, following symlinks the way POSIX
// does (every component but the last always; the last only when asked), at most 40 links per
// lookup (ELOOP beyond). The walk keeps the stack of folders it went through, so a '..' that
// comes out of a symlink target goes back up the real folder, not the text of the path.
import { vfsError } from '../errors.js';
import { NAME_MAX, PATH_MAX, joinNames, splitPath } from './paths.js';
import { ROOT_INO, type Inode } from './records.js';
import type { ReadScope } from './scope.js';

export const SYMLINK_MAX = 40;

export interface Found {
  ino: number;
  node: Inode;
  parent: number; // the root is its own parent
  name: string; // '' for the root
  path: string; // canonical: every symlink on the way resolved (the last one only if followed)
}

export interface Missing {
  parent: number;
  parentNode: Inode;
  name: string;
  path: string; // canonical path the missing entry would have
}

export type Lookup = ({ found: true } & Found) | ({ found: false } & Missing);

/**
 * Resolve `path` (already normalised). A missing last name is not an error: the result says
 * where it would go, which is what create-type operations need. A missing or non-folder
 * component before the last is ENOENT / ENOTDIR.
 */
export async function lookup(s: ReadScope, path: string, followLast: boolean): Promise<Lookup> {
  const root = await s.inode(ROOT_INO);
  if (!root) throw vfsError('ECORRUPT', '/', 'the root folder is missing');
  const stack: { ino: number; node: Inode; name: string }[] = [{ ino: ROOT_INO, node: root, name: '' }];
  const queue = splitPath(path);
  let links = 0;
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name === '.' || name === '') continue;
    if (name === '..') {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const dir = stack[stack.length - 1];
    if (dir.node.type !== 'directory') throw vfsError('ENOTDIR', here(stack));
    // Only a symlink's target can bring a name this long (paths are checked when normalised).
    if (name.length > NAME_MAX / 3 && Buffer.byteLength(name) > NAME_MAX) throw vfsError('ENAMETOOLONG', here(stack, name.slice(0, 40) + '...'), `a name is longer than ${NAME_MAX} bytes`);
    const last = queue.length === 0;
    const entry = await s.child(dir.ino, name);
    if (!entry) {
      if (last) return { found: false, parent: dir.ino, parentNode: dir.node, name, path: here(stack, name) };
      throw vfsError('ENOENT', here(stack, name));
    }
    const node = await s.inode(entry.ino);
    if (!node) throw s.missingInode(here(stack, name), entry.ino);
    if (node.type === 'symlink' && (!last || followLast)) {
      if (++links > SYMLINK_MAX) throw vfsError('ELOOP', path);
      const target = node.target ?? '';
      if (target.startsWith('/')) stack.length = 1;
      queue.unshift(...target.split('/'));
      continue;
    }
    stack.push({ ino: entry.ino, node, name });
  }
  const top = stack[stack.length - 1];
  const parent = stack.length > 1 ? stack[stack.length - 2].ino : ROOT_INO;
  return { found: true, ino: top.ino, node: top.node, parent, name: top.name, path: here(stack) };
}

function here(stack: { name: string }[], extra?: string): string {
  const names = stack.slice(1).map((e) => e.name);
  if (extra !== undefined) names.push(extra);
  return joinNames(names);
}

/** Resolve an existing entry or fail with ENOENT. */
export async function resolve(s: ReadScope, path: string, followLast = true): Promise<Found> {
  const r = await lookup(s, path, followLast);
  if (!r.found) throw vfsError('ENOENT', r.path);
  return r;
}

/** Resolve a path that must be an existing folder. */
export async function resolveDir(s: ReadScope, path: string): Promise<Found> {
  const r = await resolve(s, path, true);
  if (r.node.type !== 'directory') throw vfsError('ENOTDIR', path);
  return r;
}

/**
 * The inode number of the folder at `path`, for listing it. Entries carry their type, so a path
 * of plain folder names is walked on entries alone, with no inode read (a listing is mostly
 * this walk); anything else (a symlink, '..', a missing name, a past view whose inodes may be
 * pruned) takes the full walk, which also gives the usual errors.
 */
export async function folderIno(s: ReadScope, path: string): Promise<number> {
  if (s.entriesOnly) {
    let ino = ROOT_INO;
    let plain = true;
    for (const name of splitPath(path)) {
      if (name === '' || name === '.') continue;
      const e = name === '..' ? undefined : await s.child(ino, name);
      if (e?.type !== 'directory') {
        plain = false;
        break;
      }
      ino = e.ino;
    }
    if (plain) return ino;
  }
  return (await resolveDir(s, path)).ino;
}

/** Normalise a symlink target for storage: kept as written, but it must be a valid path text. */
export function checkTarget(target: string): string {
  if (typeof target !== 'string' || target.length === 0) throw vfsError('EINVAL', undefined, 'symlink target is empty');
  // A target is text, as on Linux: any bytes but NUL, up to PATH_MAX - 1 (it is resolved, and
  // may fail, only when followed).
  if (target.includes('\0')) throw vfsError('EINVAL', undefined, 'symlink target contains a NUL byte');
  if (Buffer.byteLength(target) >= PATH_MAX) throw vfsError('ENAMETOOLONG', undefined, `symlink target longer than ${PATH_MAX - 1} bytes`);
  return target;
}
