// File-system errors of the log engine become VfsErrors with one-line messages, the way the
// sqlite and lmdb engines translate theirs.
import { ERROR_CODES, VfsError, vfsError } from '../../errors.js';
import { FS_ERRNO, oneLine } from '../messages.js';

const BY_ERRNO = FS_ERRNO;

export function fromFs(e: unknown, path: string): unknown {
  if (e instanceof VfsError || !(e instanceof Error)) return e;
  const errno = (e as NodeJS.ErrnoException).code;
  if (typeof errno !== 'string') return e;
  const code = BY_ERRNO[errno] ?? 'EIO';
  return vfsError(code, path, `${ERROR_CODES[code]} (log: ${oneLine(e.message)})`, e);
}

export function corrupt(path: string, why: string): VfsError {
  return vfsError('ECORRUPT', path, `vault is damaged (${why})`);
}
