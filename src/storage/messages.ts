// What the engines share about errors: one-line messages, and the file-system errnos they map.
import type { ErrorCode } from '../errors.js';

// Error messages from native libraries can span lines; ours are one line.
export function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}

/** File-system errnos an engine may meet and the code each becomes (anything else is EIO). */
export const FS_ERRNO: Record<string, ErrorCode> = {
  ENOSPC: 'ENOSPC',
  EDQUOT: 'ENOSPC',
  EROFS: 'EROFS',
  EACCES: 'EACCES',
  EPERM: 'EPERM',
  EFBIG: 'EFBIG',
  EIO: 'EIO',
  EMFILE: 'EIO',
  ENFILE: 'EIO',
};
