// Paths as the kernel reads them, for the facade. The vault normalises '.' and '..' lexically
// (src/core/paths.ts); Linux walks them: 'file/..' is ENOTDIR, 'missing/../x' is ENOENT, and
// 'link/..' is the parent of the link's target. A trailing slash says "a folder": 'file/' is
// ENOTDIR, and creating 'new/' as a file is EISDIR. Paths without dots or a trailing slash (the
// usual ones) cost nothing here.
import { isVfsError, vfsError } from '../../errors.js';
import { dirname } from '../../core/paths.js';
import type { FileOps } from '../fileops.js';
import type { Stat } from '../types.js';

export interface Target {
  /** The path as the caller gave it: what errors name. */
  given: string;
  /** The normalised absolute vault path. */
  abs: string;
  /** The path ends in '/', '/.' or '/..': it must name a folder. */
  dirOnly: boolean;
  /** The last name is '.' or '..': an existing folder, which no call may create, remove or move. */
  lastDot?: '.' | '..';
}

export async function resolveTarget(ops: FileOps, given: string): Promise<Target> {
  if (given === '') throw vfsError('ENOENT', given);
  const parts = given.split('/');
  const last = parts[parts.length - 1];
  const dirOnly = given !== '/' && (last === '' || last === '.' || last === '..');
  const lastName = parts.findLast((p) => p !== '');
  const lastDot = lastName === '.' || lastName === '..' ? lastName : undefined;
  if (!parts.some((p) => p === '.' || p === '..')) return { given, abs: ops.abs(given), dirOnly };
  let cur = given.startsWith('/') ? '/' : ops.abs('.');
  for (const part of parts) {
    if (part === '') continue;
    if (part === '.' || part === '..') {
      const st = await ops.stat(cur);
      if (st.type !== 'directory') throw vfsError('ENOTDIR', cur);
      cur = part === '..' ? dirname(st.path) : st.path;
      continue;
    }
    cur = ops.abs(cur === '/' ? `/${part}` : `${cur}/${part}`);
  }
  return { given, abs: ops.abs(cur), dirOnly, ...(lastDot ? { lastDot } : {}) };
}

/** What lstat finds at `abs`, or undefined when nothing is there. */
export function lstatOrNothing(ops: FileOps, abs: string): Promise<Stat | undefined> {
  return ops.lstat(abs).catch((e: unknown) => {
    if (isVfsError(e, 'ENOENT')) return undefined;
    throw e;
  });
}

/** The folder `abs` would be made in must be there (ENOENT) and be a folder (ENOTDIR). */
export async function parentDir(ops: FileOps, abs: string): Promise<void> {
  if ((await ops.stat(dirname(abs))).type !== 'directory') throw vfsError('ENOTDIR', abs);
}

/** A path with a trailing slash must be a folder if it exists (a missing one is the caller's call). */
export async function expectDir(ops: FileOps, t: Target): Promise<void> {
  if (!t.dirOnly) return;
  const st = await ops.stat(t.abs).catch((e: { code?: string }) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (st && st.type !== 'directory') throw vfsError('ENOTDIR', t.abs);
}
