// LMDB errors become VfsErrors with one-line messages. lmdb-js throws plain Errors whose numeric
// `code` is an LMDB return code (negative, -30799..-30780) or an errno.
import { statfsSync } from 'node:fs';
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
  let vcode = BY_CODE.get(code) ?? 'EIO';
  // LMDB reports a short write as EIO (mdb_page_flush: "TODO: Use which error code?"), and a
  // full disk gives exactly that: the write that fills it gets fewer bytes than it asked for.
  if (vcode === 'EIO' && diskFull(path)) vcode = 'ENOSPC';
  return vfsError(vcode, path, `${ERROR_CODES[vcode]} (lmdb: ${oneLine(e.message)})`, e);
}

/** Less room left on the store's file system than one commit may need to write. */
const FULL_BELOW = 8 * 1024 * 1024;

function diskFull(path: string): boolean {
  try {
    const s = statfsSync(path);
    return s.bavail * s.bsize < FULL_BELOW;
  } catch {
    return false;
  }
}
