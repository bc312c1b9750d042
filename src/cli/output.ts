// Output: writers that respect backpressure, the one-line error report (plain or JSON), and
// the small formatters the listing commands share (mode strings, times, sizes).
import { ERROR_CODES, VfsError, isVfsError, type ErrorCode } from '../errors.js';
import type { FileType } from '../api/types.js';

export interface Writer {
  /** Resolves once the stream can take more (so a big `cat` never piles up in memory). */
  write(data: string | Uint8Array): Promise<void>;
  readonly isTTY: boolean;
  /** The reader went away (EPIPE): stop producing output. */
  readonly closed: boolean;
}

export function streamWriter(stream: NodeJS.WriteStream): Writer {
  let closed = false;
  // `avfs cat big | head`: the reader left (EPIPE); that is not our failure, so stop quietly.
  stream.on('error', () => {
    closed = true;
  });
  return {
    get isTTY() {
      return stream.isTTY === true;
    },
    get closed() {
      return closed;
    },
    write(data) {
      if (closed) return Promise.resolve();
      if (stream.write(data)) return Promise.resolve();
      return new Promise((res) => {
        const done = (): void => {
          stream.off('drain', done);
          stream.off('close', done);
          stream.off('error', done);
          res();
        };
        stream.on('drain', done);
        stream.on('close', done);
        stream.on('error', done);
      });
    },
  };
}

/** A writer that collects everything (for tests and for callers embedding the CLI). */
export function memoryWriter(): Writer & { chunks: Buffer[]; text(): string } {
  const chunks: Buffer[] = [];
  return {
    isTTY: false,
    closed: false,
    chunks,
    text: () => Buffer.concat(chunks).toString('utf8'),
    write(data) {
      chunks.push(typeof data === 'string' ? Buffer.from(data) : Buffer.from(data));
      return Promise.resolve();
    },
  };
}

/** Control characters would break the one-line promise (and could drive a terminal). */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\0' ? '\\0' : c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Any thrown value as a VfsError: host errors keep their POSIX code, the rest become EIO. */
export function toVfsError(e: unknown): VfsError {
  if (isVfsError(e)) return e;
  const err = e as { code?: unknown; message?: unknown } | undefined;
  const first = String(err?.message ?? e ?? 'unknown error').split('\n')[0];
  const code = typeof err?.code === 'string' && err.code in ERROR_CODES ? (err.code as ErrorCode) : 'EIO';
  return new VfsError(code, first, { cause: e });
}

export function exitCodeFor(e: VfsError): number {
  return e.code === 'EUSAGE' ? 2 : 1;
}

/**
 * Report an error: `avfs: message` on stderr, or with --json `{"error":...}` on stdout. With
 * AVFS_DEBUG set the stack goes to stderr as well. Returns the exit code.
 */
export async function reportError(e: unknown, io: { out: Writer; err: Writer; json: boolean; debug: boolean }): Promise<number> {
  const ve = toVfsError(e);
  const message = oneLine(ve.message);
  if (io.json) await io.out.write(JSON.stringify({ ...ve.toJSON(), message }) + '\n');
  else await io.err.write(`avfs: ${message}\n`);
  if (io.debug) {
    const orig = (ve.cause ?? ve) as { stack?: string };
    await io.err.write(`${orig.stack ?? String(orig)}\n`);
  }
  return exitCodeFor(ve);
}

// ---- formatting --------------------------------------------------------------------------

const TYPE_CHAR: Record<FileType, string> = { file: '-', directory: 'd', symlink: 'l' };

/** `drwxr-xr-x`, with setuid/setgid/sticky as s/S and t/T like ls. */
export function modeString(type: FileType, mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string): string =>
    (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-');
  return (
    TYPE_CHAR[type] +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't')
  );
}

export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/** Local time as `YYYY-MM-DD HH:MM` (ls -l). */
export function shortTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}`;
}

/** Local time as `YYYY-MM-DD HH:MM:SS.mmm +ZZZZ` (stat). */
export function longTime(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${shortTime(ms)}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')} ${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

/** `12.3 MiB`. */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
