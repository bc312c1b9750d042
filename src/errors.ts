// One list of error codes and one way to make an error (see docs/errors.md).
// POSIX codes carry their usual meaning in every interface (CLI, library, MCP, mount);
// the few codes that POSIX has no word for start with E and are listed last.

export const ERROR_CODES = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOTEMPTY: 'directory not empty',
  EINVAL: 'invalid argument',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EBUSY: 'resource busy',
  EBADF: 'bad file descriptor',
  EXDEV: 'cross-device link',
  EFBIG: 'file too large',
  EDQUOT: 'quota exceeded',
  ENOSPC: 'no space left',
  EIO: 'input/output error',
  EROFS: 'read-only vault',
  ENOTSUP: 'operation not supported',
  ECANCELED: 'operation canceled',
  // Not POSIX: vault and command-line failures.
  EUSAGE: 'usage error',
  ENOVAULT: 'no such vault',
  ENOTVAULT: 'not an agentvfs vault',
  ECORRUPT: 'vault is damaged',
  EVERSION: 'unsupported vault format version',
  EBACKEND: 'unknown or unavailable backend',
  ECONFLICT: 'version conflict',
  EPASSPHRASE: 'missing or wrong passphrase',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class VfsError extends Error {
  readonly code: ErrorCode;
  readonly path?: string;
  constructor(code: ErrorCode, message: string, opts: { path?: string; cause?: unknown } = {}) {
    // Names may hold any character but NUL and '/': a path or an argument quoted in a message
    // must not break it over lines (the fuzz job found "\n: no such file or directory").
    super(escapeControls(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VfsError';
    this.code = code;
    if (opts.path !== undefined) this.path = opts.path;
  }
  toJSON(): { error: ErrorCode; message: string; path?: string } {
    return this.path === undefined
      ? { error: this.code, message: this.message }
      : { error: this.code, message: this.message, path: this.path };
  }
}

/** Control characters as visible escapes (\n, \0, \x1b), so a message stays one line. */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, (c) =>
    c === '\0' ? '\\0' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : c.charCodeAt(0) > 0xff ? `\\u${c.charCodeAt(0).toString(16)}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** The one way to make an error: `vfsError('ENOENT', '/a/b')` reads "/a/b: no such file or directory". */
export function vfsError(code: ErrorCode, path?: string, detail?: string, cause?: unknown): VfsError {
  const what = detail ?? ERROR_CODES[code];
  const message = path === undefined ? what : `${path}: ${what}`;
  return new VfsError(code, message, { path, cause });
}

export function isVfsError(e: unknown, code?: ErrorCode): e is VfsError {
  return e instanceof VfsError && (code === undefined || e.code === code);
}
