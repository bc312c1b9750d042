// `--at POINT` for the read commands (ls, cat, tree, find, stat, export): the same code runs on
// a read-only view of the vault as it was (vault.at), so every listing and format is the same
// for the past as for now. Also the small time helpers the history commands share.
import type { FileOps } from '../../api/fileops.js';
import type { FlagDef } from '../args.js';
import type { Context } from '../context.js';
import { VfsError, isVfsError, vfsError } from '../../errors.js';

export const AT_FLAG: FlagDef = {
  key: 'at',
  long: 'at',
  value: 'POINT',
  help: 'read the vault as it was at a snapshot, an operation number (42, seq:42) or a time (ISO 8601, or 10m/2h/3d/1w ago)',
};

/** Say which flag a point-in-time error is about: `--at: no operation 99 (...)`. */
export function pointError(flag: string, e: unknown): unknown {
  if (!isVfsError(e) || e.code === 'EUSAGE') return e;
  return new VfsError(e.code, `${flag}: ${e.message}`, { ...(e.path !== undefined ? { path: e.path } : {}), cause: e });
}

/** Resolve a point spec to a read-only view, with errors that name the flag. */
export async function viewAt(ctx: Context, spec: string, flag = '--at'): Promise<FileOps> {
  // A negative number reads as a typo for an operation number; say so rather than "not a time".
  if (/^-\d+$/.test(spec.trim())) throw vfsError('EINVAL', undefined, `${flag}: ${spec}: operation numbers count from 1`);
  const vault = await ctx.vault();
  try {
    return await vault.at(spec);
  } catch (e) {
    throw pointError(flag, e);
  }
}

/** The vault itself, or with --at the read-only view of it at that point. */
export async function readOps(ctx: Context): Promise<FileOps> {
  const at = ctx.flags.str('at');
  return at === undefined ? ctx.vault() : viewAt(ctx, at);
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/** Local time as `YYYY-MM-DD HH:MM:SS` (log, audit, snapshot list). */
export function secondsTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/** UTC as `2026-11-21T23:36:01Z` (the --oneline forms: one token, sortable). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A record with `timeMs` gets `time` (ISO 8601) beside it for --json, as Stat has mtime beside mtimeMs. */
export function withTime<T extends { timeMs: number }>(rec: T): T & { time: string } {
  return { ...rec, time: new Date(rec.timeMs).toISOString() };
}
