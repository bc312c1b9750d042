// LMDB errors become VfsErrors with one-line messages. lmdb-js throws plain Errors whose numeric
// `code` is an LMDB return code (negative, -30799..-30780) or an errno.
import { ERROR_CODES, VfsError, vfsError, type ErrorCode } from '../../errors.js';
import { oneLine } from '../messages.js';

const BY_CODE = new Map<number, ErrorCode>([
  [-30797, 'ECORRUPT'], // MDB_PAGE_NOTFOUND
  [-30796, 'ECORRUPT'], // MDB_CORRUPTED
  [-30795, 'ECORRUPT'], // MDB_PANIC
  [-30794, 'ENOTVAULT'], // MDB_VERSION_MISMATCH
  [-30793, 'ENOTVAULT'], // MDB_INVALID
  [-30784, 'ENOTVAULT'], // MDB_INCOMPATIBLE
  [-30792, 'ENOSPC'], // MDB_MAP_FULL
  [-30790, 'EBUSY'], // MDB_READERS_FULL
  [28, 'ENOSPC'],
  [13, 'EACCES'],
  [1, 'EPERM'],
  [30, 'EROFS'],
  [5, 'EIO'],
]);

export function fromLmdb(e: unknown, path: string): unknown {
  if (e instanceof VfsError || !(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'number') return e;
  const vcode = BY_CODE.get(code) ?? 'EIO';
  return vfsError(vcode, path, `${ERROR_CODES[vcode]} (lmdb: ${oneLine(e.message)})`, e);
}
