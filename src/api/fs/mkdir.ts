// mkdir({ recursive: true }) as Node does it. Node's C++ makes the path, and on ENOENT first the
// path's text up to its last '/' (again and again), then retries; what it returns is the first
// folder it made, spelled as that cut of the caller's text; an existing name on the way that is
// no folder stops it. The usual path (no '.' or '..' in it) is decided here by reads and made in
// one vault operation; a path spelled with dots is walked step by step as Node walks it.
import { vfsError, isVfsError, type ErrorCode } from '../../errors.js';
import { joinNames, splitPath } from '../../core/paths.js';
import type { FileOps } from '../fileops.js';
import { fsError } from './errors.js';
import { lstatOrNothing, parentDir, resolveTarget } from './paths.js';

export interface MkdirContext {
  ops: FileOps;
  /** The facade's stat(), with its path rules: Node stats the names it could not make. */
  stat(path: string): Promise<{ isDirectory(): boolean }>;
}

/** The first folder made (the caller's spelling), or undefined when the folder was there. */
export async function mkdirRecursive(ctx: MkdirContext, given: string, mode: number): Promise<string | undefined> {
  if (given.split('/').some((n) => n === '.' || n === '..')) return stepwise(ctx, given, mode);
  const { ops } = ctx;
  const t = await resolveTarget(ops, given);
  if (t.dirOnly && (await lstatOrNothing(ops, t.abs))) {
    // Node meets an existing 'name/' and stats it: a folder is fine, anything else ENOTDIR.
    if ((await ops.stat(t.abs)).type !== 'directory') throw vfsError('ENOTDIR', t.abs);
    return undefined;
  }
  const names = splitPath(t.abs);
  const existing = await existingDepth(ops, names, given);
  if (existing === names.length) return undefined;
  await ops.mkdir(t.abs, { recursive: true, mode });
  return cutTo(ops, given, existing + 1);
}

/** How many leading names of the path are folders already. */
async function existingDepth(ops: FileOps, names: string[], given: string): Promise<number> {
  for (let i = names.length; i > 0; i--) {
    const p = joinNames(names.slice(0, i));
    const st = await ops.stat(p).catch((e: unknown) => {
      if (isVfsError(e, 'ENOENT')) return undefined;
      throw e;
    });
    if (!st) {
      // A dangling symlink where a folder should go: mkdir says it exists, stat that it does
      // not. Node reports ENOENT for the path itself, and ENOTDIR naming the link's part of the
      // path when it is on the way.
      if (await lstatOrNothing(ops, p)) {
        if (i === names.length) throw vfsError('ENOENT', p);
        throw fsError('ENOTDIR', 'mkdir', cutTo(ops, given, i));
      }
      continue;
    }
    if (st.type !== 'directory') throw vfsError(i === names.length ? 'EEXIST' : 'ENOTDIR', p);
    return i;
  }
  return 0;
}

/** The caller's path cut at its last '/', step by step as Node's C++ cuts it, until it is `depth` names deep. */
function cutTo(ops: FileOps, given: string, depth: number): string {
  let cur = given;
  while (splitPath(ops.abs(cur)).length > depth) {
    const cut = cur.lastIndexOf('/');
    if (cut <= 0) break;
    cur = cur.slice(0, cut);
  }
  return cur;
}

/**
 * Node's loop itself, for a path spelled with '.' or '..': what is made and what is reported
 * follow the text. Each step is checked before it is made, so no refused write reaches the
 * operation log; each folder made is an operation of its own.
 */
async function stepwise(ctx: MkdirContext, given: string, mode: number): Promise<string | undefined> {
  const stack = [given];
  let first: string | undefined;
  for (let steps = 0; stack.length > 0; steps++) {
    if (steps > 10_000) throw vfsError('ENOENT', given);
    const next = stack.pop()!;
    let err = await mkdirOnce(ctx.ops, next, mode);
    if (err === undefined) {
      first ??= next;
      continue;
    }
    if (err === 'ENOENT') {
      const cut = next.lastIndexOf('/');
      const parent = cut < 0 ? next : next.slice(0, cut);
      if (parent !== next) {
        stack.push(next, parent);
        continue;
      }
      if (stack.length > 0) continue;
      err = 'EEXIST';
    }
    if (err === 'EACCES' || err === 'ENOSPC' || err === 'ENOTDIR' || err === 'EPERM') throw vfsError(err, given);
    const st = await ctx.stat(next).catch((e: { code?: ErrorCode }) => e.code ?? 'EIO');
    // An existing name on the way that is no folder (or a dangling link): ENOTDIR, naming it.
    if (err === 'EEXIST' && stack.length > 0) {
      if (typeof st === 'string' || !st.isDirectory()) throw fsError('ENOTDIR', 'mkdir', next);
      continue;
    }
    if (typeof st === 'string') throw fsError(st, 'mkdir', next);
    if (!st.isDirectory()) throw vfsError('EEXIST', given);
  }
  return first;
}

/** One mkdir as the kernel would answer it: undefined when made, else the error code. */
async function mkdirOnce(ops: FileOps, path: string, mode: number): Promise<ErrorCode | undefined> {
  try {
    const t = await resolveTarget(ops, path);
    if (t.lastDot || (await lstatOrNothing(ops, t.abs))) return 'EEXIST';
    await parentDir(ops, t.abs);
    await ops.mkdir(t.abs, { mode });
    return undefined;
  } catch (e) {
    if (isVfsError(e)) return e.code;
    throw e;
  }
}
