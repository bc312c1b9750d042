// Errors as node:fs/promises makes them, so that code written for Node's fs handles the vault's
// failures unchanged: a system error is an Error with `code`, negative `errno`, `syscall`,
// `path` (and `dest` for two-path calls) and the message "ENOENT: no such file or directory,
// open '/x'"; bad arguments are TypeErrors and RangeErrors with Node's `ERR_*` codes and
// messages. Every error the facade gives is made here.
//
// A system error is also a VfsError (same POSIX code), so isVfsError() and `err.code` work on
// it as on every other error of the library.
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap, inspect } from 'node:util';
import { ERROR_CODES, VfsError, isVfsError, type ErrorCode } from '../../errors.js';

const ERRNO = osConstants.errno as Record<string, number | undefined>;
let systemMessages: Map<number, [string, string]> | undefined;

/** libuv's text for a code ("illegal operation on a directory"), as Node prints it. */
function describe(code: string): string {
  const n = ERRNO[code];
  if (n !== undefined) {
    systemMessages ??= getSystemErrorMap();
    const m = systemMessages.get(-n);
    if (m) return m[1];
  }
  return (ERROR_CODES as Record<string, string>)[code] ?? code;
}

/** Node's errno for a code: negative, as libuv reports it; the vault's own codes count as EIO. */
function errnoOf(code: string): number {
  return -(ERRNO[code] ?? ERRNO.EIO ?? 5);
}

export class FsError extends VfsError {
  declare readonly errno?: number;
  declare readonly syscall: string;
  declare readonly dest?: string;
  constructor(code: ErrorCode, syscall: string, opts: { path?: string; dest?: string; message?: string; errno?: boolean; cause?: unknown } = {}) {
    const where = (opts.path === undefined ? '' : ` '${opts.path}'`) + (opts.dest === undefined ? '' : ` -> '${opts.dest}'`);
    const message = opts.message ?? `${code}: ${describe(code)}, ${syscall}${where}`;
    super(code, message, { path: opts.path, cause: opts.cause });
    // Node's own message, names as they are (VfsError escapes control characters).
    this.message = message;
    // Own fields as Node's errors have them, in its order (errno, code, syscall, path, dest); the
    // name comes from the prototype ("Error: ENOENT: ..."), as Node's does.
    const self = this as unknown as Record<string, unknown>;
    delete self.name;
    delete self.code;
    delete self.path;
    if (opts.errno !== false) self.errno = errnoOf(code);
    self.code = code;
    self.syscall = syscall;
    if (opts.path !== undefined) self.path = opts.path;
    if (opts.dest !== undefined) self.dest = opts.dest;
  }
  override toJSON(): { error: ErrorCode; message: string; path?: string; errno?: number; code: ErrorCode; syscall: string; dest?: string } {
    return { ...super.toJSON(), ...(this.errno === undefined ? {} : { errno: this.errno }), code: this.code, syscall: this.syscall, ...(this.dest === undefined ? {} : { dest: this.dest }) };
  }
}
FsError.prototype.name = 'Error';

/** A system error: `fsError('ENOENT', 'open', '/x')`. */
export function fsError(code: ErrorCode, syscall: string, path?: string, dest?: string, cause?: unknown): FsError {
  return new FsError(code, syscall, { path, dest, cause });
}

/** What Node says about a FileHandle used after close(): EBADF "file closed", with no errno. */
export function closedError(syscall: string): FsError {
  return new FsError('EBADF', syscall, { message: 'file closed', errno: false });
}

/**
 * The error a failed vault call becomes: a VfsError takes Node's shape with the caller's path
 * (not the canonical one the vault names); Node-shaped errors and anything else pass unchanged.
 */
export function asFsError(e: unknown, syscall: string, path?: string, dest?: string): unknown {
  if (e instanceof FsError || !isVfsError(e)) return e;
  return fsError(e.code, syscall, path, dest, e);
}

// ---- argument errors (Node's ERR_* codes and messages) -------------------------------------

type ArgError = (TypeError | RangeError | Error) & { code: string };

function withCode<T extends Error>(e: T, code: string): T & { code: string } {
  Object.defineProperty(e, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return e as T & { code: string };
}

const TYPE_WORDS = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol'];

function formatList(list: string[], word: string): string {
  return list.length <= 2 ? list.join(` ${word} `) : `${list.slice(0, -1).join(', ')}, ${word} ${list[list.length - 1]}`;
}

/** How Node names a received value in its messages ("type number (5)", "an instance of Object"). */
function received(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      if (value === 0) return 1 / value === -Infinity ? 'type number (-0)' : 'type number (0)';
      return `type number (${value})`;
    case 'boolean':
      return `type boolean (${value})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      if (ctor && 'name' in ctor) return `an instance of ${ctor.name}`;
      return inspect(value, { depth: -1 });
    }
    case 'string': {
      const s = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return s.includes("'") ? `type string (${JSON.stringify(s)})` : `type string ('${s}')`;
    }
    default:
      return `type ${typeof value}`;
  }
}

/** ERR_INVALID_ARG_TYPE: `expected` as Node lists it, e.g. ['string', 'Buffer', 'URL']. */
export function invalidArgType(name: string, expected: string | string[], actual: unknown): ArgError {
  const list = Array.isArray(expected) ? expected : [expected];
  const types: string[] = [];
  const instances: string[] = [];
  const other: string[] = [];
  for (const v of list) {
    if (TYPE_WORDS.includes(v)) types.push(v.toLowerCase());
    else if (/^([A-Z][a-z0-9]*)+$/.test(v)) instances.push(v);
    else other.push(v);
  }
  if (instances.length > 0 && types.includes('object')) {
    types.splice(types.indexOf('object'), 1);
    instances.push('Object');
  }
  let msg = `The "${name}" ${name.includes('.') ? 'property' : 'argument'} must be `;
  if (types.length > 0) {
    msg += `${types.length > 1 ? 'one of type' : 'of type'} ${formatList(types, 'or')}`;
    if (instances.length > 0 || other.length > 0) msg += ' or ';
  }
  if (instances.length > 0) {
    msg += `an instance of ${formatList(instances, 'or')}`;
    if (other.length > 0) msg += ' or ';
  }
  if (other.length > 0) {
    if (other.length > 1) msg += `one of ${formatList(other, 'or')}`;
    else msg += (other[0].toLowerCase() !== other[0] ? 'an ' : '') + other[0];
  }
  return withCode(new TypeError(`${msg}. Received ${received(actual)}`), 'ERR_INVALID_ARG_TYPE');
}

/** ERR_INVALID_ARG_VALUE: "The argument 'flags' is invalid. Received 'q'". */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): ArgError {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return withCode(new TypeError(`The ${name.includes('.') ? 'property' : 'argument'} '${name}' ${reason}. Received ${shown}`), 'ERR_INVALID_ARG_VALUE');
}

/** ERR_OUT_OF_RANGE: 'The value of "offset" is out of range. It must be >= 0. Received -1'. */
export function outOfRange(name: string, range: string, value: unknown): ArgError {
  let shown: string;
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 32) shown = String(value).replace(/\B(?=(\d{3})+(?!\d))/g, '_');
  else if (typeof value === 'bigint') shown = `${value}n`;
  else shown = inspect(value);
  return withCode(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${shown}`), 'ERR_OUT_OF_RANGE');
}

/** An error with only a code and a message, as Node's C++ layer and a few JS checks throw them. */
export function codedError(kind: 'Error' | 'TypeError' | 'RangeError', code: string, message: string): ArgError {
  const e = kind === 'TypeError' ? new TypeError(message) : kind === 'RangeError' ? new RangeError(message) : new Error(message);
  return withCode(e, code);
}

// ---- Node's SystemErrors (rm of a folder, cp's refusals) -----------------------------------

const SYSTEM_PREFIX: Record<string, string> = {
  ERR_FS_EISDIR: 'Path is a directory',
  ERR_FS_CP_EINVAL: 'Invalid src or dest',
  ERR_FS_CP_DIR_TO_NON_DIR: 'Cannot overwrite non-directory with directory',
  ERR_FS_CP_NON_DIR_TO_DIR: 'Cannot overwrite directory with non-directory',
  ERR_FS_CP_EEXIST: 'Target already exists',
  ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY: 'Cannot overwrite symlink in subdirectory of self',
};

export interface SystemErrorInfo {
  code: ErrorCode;
  message: string;
  path: string;
  syscall: string;
  errno: number;
}

/** Node's SystemError ("Path is a directory: rm returned EISDIR (is a directory) /d"): errno positive. */
export class NodeSystemError extends Error {
  readonly code: string;
  readonly info: SystemErrorInfo;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string;
  constructor(code: keyof typeof SYSTEM_PREFIX, info: Omit<SystemErrorInfo, 'errno'>) {
    super(`${SYSTEM_PREFIX[code]}: ${info.syscall} returned ${info.code} (${info.message}) ${info.path}`);
    this.code = code;
    this.info = { ...info, errno: -errnoOf(info.code) };
    this.errno = this.info.errno;
    this.syscall = info.syscall;
    this.path = info.path;
  }
}

NodeSystemError.prototype.name = 'SystemError';

/** What an aborted call rejects with (Node's AbortError). */
export function abortError(signal: AbortSignal): Error {
  const e = new Error('The operation was aborted', { cause: signal.reason });
  e.name = 'AbortError';
  return withCode(e, 'ABORT_ERR');
}
