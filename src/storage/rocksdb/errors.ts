// RocksDB's and the file system's errors become VfsErrors with one-line messages. The binding
// throws Errors whose `code` is LEVEL_CORRUPTION, LEVEL_LOCKED, LEVEL_IO_ERROR, ... and whose
// message is RocksDB's Status text ("IO error: No space left on device ..."); abstract-level
// wraps open failures in LEVEL_DATABASE_NOT_OPEN with the real error as `cause`.
import { ERROR_CODES, VfsError, vfsError, type ErrorCode } from '../../errors.js';
import { FS_ERRNO, oneLine } from '../messages.js';

const BY_ERRNO = FS_ERRNO;

/** Status texts of RocksDB's IO errors (strerror of the errno underneath). */
const BY_TEXT: [RegExp, ErrorCode][] = [
  [/no space left on device|disk quota exceeded/i, 'ENOSPC'],
  [/read-only file system/i, 'EROFS'],
  [/permission denied/i, 'EACCES'],
  [/operation not permitted/i, 'EPERM'],
];

export function corrupt(path: string, why: string): VfsError {
  return vfsError('ECORRUPT', path, `vault is damaged (${why})`);
}

export function fromRocks(e: unknown, path: string): unknown {
  if (e instanceof VfsError || !(e instanceof Error)) return e;
  let err = e as Error & { code?: unknown; cause?: unknown };
  if (err.code === 'LEVEL_DATABASE_NOT_OPEN' && err.cause instanceof Error) err = err.cause as typeof err;
  const code = err.code;
  const msg = oneLine(err.message);
  if (typeof code === 'string' && BY_ERRNO[code]) return vfsError(BY_ERRNO[code], path, `${ERROR_CODES[BY_ERRNO[code]]} (rocksdb: ${msg})`, e);
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return vfsError('EIO', path, `${ERROR_CODES.EIO} (rocksdb: ${msg})`, e);
  if (code === 'LEVEL_CORRUPTION') return corrupt(path, `rocksdb: ${msg}`);
  if (code === 'LEVEL_LOCKED') return vfsError('EBUSY', path, `store is in use by another process (rocksdb: ${msg})`, e);
  if (typeof code === 'string' && code.startsWith('LEVEL_') || /^(IO error|Invalid argument|Not implemented|Operation failed)/.test(msg)) {
    for (const [re, c] of BY_TEXT) if (re.test(msg)) return vfsError(c, path, `${ERROR_CODES[c]} (rocksdb: ${msg})`, e);
    // An open that finds files missing or unreadable (a MANIFEST or table gone) is a damaged store.
    if (/does not exist|No such file|MANIFEST|CURRENT|checksum|bad magic|truncated/i.test(msg)) return corrupt(path, `rocksdb: ${msg}`);
    return vfsError('EIO', path, `${ERROR_CODES.EIO} (rocksdb: ${msg})`, e);
  }
  return e;
}

/** Whether an open failed only because another process holds the database (its LOCK file). */
export function isLocked(e: unknown): boolean {
  let err = e as { code?: unknown; cause?: unknown; message?: string } | undefined;
  if (err?.code === 'LEVEL_DATABASE_NOT_OPEN' && err.cause) err = err.cause as typeof err;
  return err?.code === 'LEVEL_LOCKED' || /IO error: lock /.test(err?.message ?? '');
}
