// PostgreSQL and network errors become VfsErrors with one-line messages naming the store by its
// redacted URL: nothing above the engine sees a pg error, and no password reaches a message.
import { VfsError, vfsError, type ErrorCode } from '../../errors.js';
import { oneLine } from '../messages.js';

/** SQLSTATE classes and codes we tell apart (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const BY_SQLSTATE: [string, ErrorCode, string][] = [
  ['28P01', 'EACCES', 'authentication failed'],
  ['28', 'EACCES', 'not allowed to connect'],
  ['3D000', 'EBACKEND', 'no such database'],
  // The schema or its tables went away under an open vault (vault delete from another machine).
  ['3F000', 'ENOVAULT', 'the vault\'s schema is gone'],
  ['42P01', 'ENOVAULT', 'the vault\'s tables are gone'],
  ['42501', 'EACCES', 'permission denied'],
  ['40001', 'EBUSY', 'serialization failure'],
  ['40P01', 'EBUSY', 'deadlock'],
  ['55P03', 'EBUSY', 'store is locked by another client (lock_timeout)'],
  ['57014', 'EBUSY', 'statement timed out'],
  ['53100', 'ENOSPC', 'the server is out of disk space'],
  ['53', 'EIO', 'the server is out of resources'],
  ['54000', 'EFBIG', 'value too large for the server'],
  ['57P', 'EBACKEND', 'the server is shutting down or restarting'],
  ['08', 'EBACKEND', 'connection failure'],
  ['XX001', 'ECORRUPT', 'the server reports damaged data'],
  ['XX002', 'ECORRUPT', 'the server reports a damaged index'],
];

const BY_ERRNO: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running, and on that host and port?)',
  ENOENT: 'no server socket there (is the server running, and is host= the right folder?)',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EACCES: 'permission denied on the server socket',
  EPIPE: 'connection closed by the server',
};

export function fromPg(e: unknown, display: string): unknown {
  if (e instanceof VfsError) return e;
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = oneLine(String(err?.message ?? e));
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    const hit = BY_SQLSTATE.find(([p]) => code.startsWith(p));
    if (hit) return vfsError(hit[1], display, `${hit[2]} (postgres: ${message})`, e);
    return vfsError('EIO', display, `postgres error ${code}: ${message}`, e);
  }
  if (code && code in BY_ERRNO) return vfsError('EBACKEND', display, `cannot reach the PostgreSQL server: ${BY_ERRNO[code]}`, e);
  if (/timeout exceeded when trying to connect|Connection terminated due to connection timeout/i.test(message)) {
    return vfsError('EBACKEND', display, 'cannot reach the PostgreSQL server: connection timed out (see connect_timeout_ms)', e);
  }
  if (/Connection terminated|connection closed|Client has encountered a connection error/i.test(message)) {
    return vfsError('EBACKEND', display, `lost the connection to the PostgreSQL server (${message})`, e);
  }
  if (/password authentication|SASL|password must be a string|no password/i.test(message)) {
    return vfsError('EACCES', display, `authentication failed (${message}); set PGPASSWORD or use ~/.pgpass`, e);
  }
  return e;
}
