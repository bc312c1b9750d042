// SQLite errors become VfsErrors with one-line messages: nothing above the engine sees a SqliteError.
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { ERROR_CODES, VfsError, vfsError, type ErrorCode } from '../../errors.js';
import { oneLine } from '../messages.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

export function isBusy(e: unknown): boolean {
  const code = sqliteCode(e);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

const BY_PREFIX: [string, ErrorCode][] = [
  ['SQLITE_NOTADB', 'ENOTVAULT'],
  ['SQLITE_CORRUPT', 'ECORRUPT'],
  ['SQLITE_FULL', 'ENOSPC'],
  ['SQLITE_READONLY', 'EROFS'],
  ['SQLITE_BUSY', 'EBUSY'],
  ['SQLITE_LOCKED', 'EBUSY'],
  ['SQLITE_PERM', 'EACCES'],
  ['SQLITE_AUTH', 'EACCES'],
  ['SQLITE_TOOBIG', 'EFBIG'],
  ['SQLITE_NOMEM', 'EIO'],
];

/** Map a SqliteError to a VfsError about `path`; anything else passes through unchanged. */
export function fromSqlite(e: unknown, path: string): unknown {
  if (e instanceof VfsError) return e;
  const code = sqliteCode(e);
  if (code === undefined) return e;
  let vcode = BY_PREFIX.find(([p]) => code.startsWith(p))?.[1] ?? 'EIO';
  // On a read-only file system a WAL store cannot even be read: SQLite must create its -shm
  // file first, and says only "unable to open database file" (SQLITE_CANTOPEN).
  if (vcode === 'EIO' && readOnlyMedium(path)) vcode = 'EROFS';
  const detail = oneLine((e as Error).message);
  return vfsError(vcode, path, `${ERROR_CODES[vcode]} (sqlite: ${detail})`, e);
}

function readOnlyMedium(path: string): boolean {
  try {
    accessSync(dirname(path), constants.W_OK);
    return false;
  } catch (e) {
    return (e as { code?: string }).code === 'EROFS';
  }
}

/**
 * How long SQLite's own busy handler may block the thread in one go. better-sqlite3 is
 * synchronous, so a busy handler waiting out another process's long write would freeze the
 * whole event loop; we wait in slices, and between them let the loop run (see whileBusy).
 */
export const BUSY_SLICE_MS = 250;

/**
 * Run fn; while SQLite reports the file busy (after waiting up to BUSY_SLICE_MS inside its busy
 * handler), back off asynchronously (jittered, doubling to 100 ms) and run it again. This also
 * covers the cases where SQLite returns BUSY at once without calling its handler (WAL recovery,
 * lock upgrades). Gives up with EBUSY once `waitMs` has passed and at least 5 tries were made.
 */
export async function whileBusy<T>(fn: () => T, waitMs: number, path: string): Promise<T> {
  const start = Date.now();
  let delay = 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e)) throw fromSqlite(e, path);
      const waited = Date.now() - start;
      if (attempt >= 5 && waited >= waitMs) {
        throw vfsError('EBUSY', path, `store is locked by another process (waited ${waited} ms; see busy_timeout_ms)`, e);
      }
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 100);
    }
  }
}
