// The argument checks of node:fs/promises, in Node's order and with its errors: a caller that
// passes something Node refuses gets the same ERR_* code here, before the vault is touched.
import { constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codedError, invalidArgType, invalidArgValue, outOfRange } from './errors.js';

export type PathLike = string | Buffer | URL;

function isURL(v: unknown): v is URL {
  const u = v as { href?: unknown; protocol?: unknown; auth?: unknown; path?: unknown } | null;
  return u !== null && typeof u === 'object' && !!u.href && !!u.protocol && u.auth === undefined && u.path === undefined;
}

/**
 * A path argument as text: a Buffer is read as UTF-8 and a file: URL becomes its path (other
 * URLs fail as in Node). A NUL byte is ERR_INVALID_ARG_VALUE, as Node has it, not a vault error.
 */
export function pathArg(value: unknown, name = 'path'): string {
  const v = isURL(value) ? fileURLToPath(value) : value;
  if (typeof v === 'string') {
    if (v.includes('\0')) throw invalidArgValue(name, v, 'must be a string, Uint8Array, or URL without null bytes');
    return v;
  }
  if (v instanceof Uint8Array) {
    if (v.includes(0)) throw invalidArgValue(name, v, 'must be a string, Uint8Array, or URL without null bytes');
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString();
  }
  throw invalidArgType(name, ['string', 'Buffer', 'URL'], value);
}

export function checkInteger(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
}

export function checkInt32(value: unknown, name: string, min = -2147483648): number {
  return checkInteger(value, name, min, 2147483647);
}

export function checkBoolean(value: unknown, name: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw invalidArgType(name, 'boolean', value);
  return value;
}

export function checkObject(value: unknown, name: string): void {
  if (value === null || Array.isArray(value) || typeof value !== 'object') throw invalidArgType(name, 'Object', value);
}

export function checkBuffer(value: unknown, name = 'buffer'): ArrayBufferView {
  if (!ArrayBuffer.isView(value)) throw invalidArgType(name, ['Buffer', 'TypedArray', 'DataView'], value);
  return value;
}

export function checkBufferArray(value: unknown, name = 'buffers'): ArrayBufferView[] {
  if (!Array.isArray(value) || !value.every((b) => ArrayBuffer.isView(b))) throw invalidArgType(name, 'ArrayBufferView[]', value);
  return value as ArrayBufferView[];
}

/** A Buffer over the same memory as any TypedArray or DataView (reads land in the caller's memory). */
export function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC } = constants;

const FLAGS: Record<string, number> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR,
  'rs+': O_RDWR | O_SYNC,
  'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

/** Open flags as a number: Node's strings ('r', 'wx', 'a+'...) or O_* bits. */
export function flagsArg(flags: unknown, name = 'flags'): number {
  if (typeof flags === 'number') return checkInt32(flags, name);
  if (flags === undefined || flags === null) return O_RDONLY;
  const n = typeof flags === 'string' ? FLAGS[flags] : undefined;
  if (n === undefined || !Object.hasOwn(FLAGS, flags as string)) throw invalidArgValue(name, flags);
  return n;
}

/** A mode: a number or an octal string ('644'), Node's parseFileMode. */
export function modeArg(value: unknown, name: string, def?: number): number {
  let v = value ?? def;
  if (typeof v === 'string') {
    if (!/^[0-7]+$/.test(v)) throw invalidArgValue(name, v, 'must be a 32-bit unsigned integer or an octal string');
    v = parseInt(v, 8);
  }
  return checkInteger(v, name, 0, 4294967295);
}

/** access() and copyFile() modes: checked by Node's C++ layer, hence their different messages. */
export function smallModeArg(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number') throw codedError('TypeError', 'ERR_INVALID_ARG_TYPE', 'mode must be int32 or null/undefined');
  const n = Math.trunc(value);
  if (!(n >= 0 && n <= 7)) throw codedError('RangeError', 'ERR_OUT_OF_RANGE', 'mode is out of range: >= 0 && <= 7');
  return n;
}

/** Node's getOptions: a string is the encoding; null and undefined take the defaults. */
export function optionsArg<T extends object>(options: unknown, defaults: T): T & { encoding?: BufferEncoding | 'buffer' | null; signal?: AbortSignal } {
  let o: Record<string, unknown>;
  if (options === null || options === undefined || typeof options === 'function') o = defaults as Record<string, unknown>;
  else if (typeof options === 'string') o = { ...defaults, encoding: options };
  else if (typeof options !== 'object') throw invalidArgType('options', ['string', 'Object'], options);
  else o = options as Record<string, unknown>;
  if (o.encoding !== 'buffer') checkEncoding(o.encoding);
  if (o.signal !== undefined) checkSignal(o.signal, 'options.signal');
  return o as T & { encoding?: BufferEncoding | 'buffer' | null; signal?: AbortSignal };
}

export function checkEncoding(enc: unknown): void {
  if (enc && !Buffer.isEncoding(enc as string)) throw invalidArgValue('encoding', enc, 'is invalid encoding');
}

export function checkSignal(signal: unknown, name: string): void {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) throw invalidArgType(name, 'AbortSignal', signal);
}

/** Bytes in the encoding asked for: a Buffer for none or 'buffer', else a string. */
export function encoded(buf: Buffer, encoding: unknown): Buffer | string {
  return encoding && encoding !== 'buffer' ? buf.toString(encoding as BufferEncoding) : buf;
}

/** A time given to utimes(): seconds (a number or a numeric string) or a Date; returned in ms. */
export function timeArg(time: unknown, name = 'time'): number {
  let seconds: number;
  // eslint-disable-next-line eqeqeq
  if (typeof time === 'string' && +time == (time as unknown as number)) seconds = +time;
  else if (typeof time === 'number' && Number.isFinite(time)) seconds = time < 0 ? Date.now() / 1000 : time;
  else if (time instanceof Date) seconds = time.getTime() / 1000;
  else throw invalidArgType(name, ['Date', 'Time in seconds'], time);
  // libuv turns the seconds into a timespec cut to microseconds; the same arithmetic here gives
  // the same mtimeMs a host reports (1.6e9 s + 0.123 reads back as ...122.999).
  let sec = Math.trunc(seconds);
  let nsec = Math.trunc((seconds - sec) * 1e9);
  nsec -= nsec % 1000;
  if (nsec < 0) {
    nsec += 1e9;
    sec -= 1;
  }
  return sec * 1e3 + nsec / 1e6;
}

function isIterable(v: unknown): v is Iterable<unknown> | AsyncIterable<unknown> {
  const o = v as Record<symbol, unknown> | null | undefined;
  return o !== null && o !== undefined && (typeof o[Symbol.iterator] === 'function' || typeof o[Symbol.asyncIterator] === 'function');
}

/** writeFile's data: bytes, a string in `encoding`, or an (async) iterable of either, gathered. */
export async function dataArg(data: unknown, encoding: unknown): Promise<Buffer> {
  if (ArrayBuffer.isView(data)) return bytesOf(data);
  if (isIterable(data) && typeof data !== 'string') {
    const parts: Buffer[] = [];
    for await (const piece of data as AsyncIterable<unknown>) {
      parts.push(ArrayBuffer.isView(piece) ? bytesOf(piece) : Buffer.from(piece as string, (encoding as BufferEncoding) || 'utf8'));
    }
    return Buffer.concat(parts);
  }
  if (typeof data !== 'string') throw invalidArgType('data', ['string', 'Buffer', 'TypedArray', 'DataView'], data);
  return Buffer.from(data, (encoding as BufferEncoding) || 'utf8');
}
