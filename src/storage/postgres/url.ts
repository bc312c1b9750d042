// PostgreSQL store addresses. A postgres vault's "path" is a connection URL
// (postgres://user@host:port/db, or postgres://user@/db?host=/socket/dir) plus our own query
// parameter `schema`, the schema that holds the vault (default `avfs`). The parameter is taken
// off before the URL reaches pg; everything else (sslmode, host=..., application_name) is pg's.
//
// Passwords: pg reads PGPASSWORD and ~/.pgpass itself, so a URL needs none. One given in a URL
// is used to connect but never printed (redact) and never written to the config (withoutPassword).
import { createRequire } from 'node:module';
import { vfsError } from '../../errors.js';
import { oneLine } from '../messages.js';

export const DEFAULT_SCHEMA = 'avfs';
const URL_RE = /^(postgres(?:ql)?):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i;
const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Is this vault reference a PostgreSQL URL (rather than a name or a path)? */
export function isPgUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

export interface PgLocator {
  /** What pg connects with: the URL without `schema` (password included if one was given). */
  conn: string;
  schema: string;
  /** The URL for messages: password replaced by ***. */
  display: string;
}

interface Parts {
  scheme: string;
  auth: string;
  path: string;
  params: URLSearchParams;
}

function split(url: string): Parts {
  const m = URL_RE.exec(url.trim());
  if (!m) throw badUrl(url, 'expected postgres://[user[:password]@][host][:port]/database[?host=/socket/dir&schema=NAME]');
  return { scheme: m[1].toLowerCase(), auth: m[2], path: m[3] ?? '', params: new URLSearchParams((m[4] ?? '').slice(1)) };
}

function join(p: Parts): string {
  const q = p.params.toString();
  return `${p.scheme}://${p.auth}${p.path}${q ? `?${q.replace(/%2F/gi, '/')}` : ''}`;
}

function badUrl(url: string, why: string) {
  return vfsError('EINVAL', undefined, `bad PostgreSQL URL ${redact(url)}: ${why}`);
}

/** The URL with any password (in the user part or a password= parameter) shown as ***. */
export function redact(url: string): string {
  return url
    .replace(/^([a-z]+:\/\/[^:@/?#]*):[^@/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/i, '$1***');
}

/** The URL without a password, for the registry: pg then takes it from PGPASSWORD or ~/.pgpass. */
export function withoutPassword(url: string): string {
  const p = split(url);
  p.auth = p.auth.replace(/^([^:@]*):[^@]*@/, '$1@');
  p.params.delete('password');
  return join(p);
}

export function hasPassword(url: string): boolean {
  const p = split(url);
  return /^[^:@]*:[^@]*@/.test(p.auth) || p.params.has('password');
}

/** Check a URL and take it apart (EINVAL, one line, when it is not one we can use). */
export function parsePgUrl(url: string): PgLocator {
  const p = split(url);
  const db = decodeURIComponent(p.path.replace(/^\//, ''));
  if (db.includes('/')) throw badUrl(url, 'the database name may not contain "/"');
  const schema = p.params.get('schema') ?? DEFAULT_SCHEMA;
  if (!SCHEMA_RE.test(schema)) throw badUrl(url, `schema "${schema}" must be 1-63 lowercase letters, digits or '_', not starting with a digit`);
  const port = /:(\d*)$/.exec(p.auth.replace(/^.*@/, '').replace(/^\[.*\]/, ''))?.[1];
  if (port !== undefined && (port === '' || Number(port) > 65535)) throw badUrl(url, 'bad port');
  try {
    decodeURIComponent(p.auth);
  } catch {
    throw badUrl(url, 'bad %-escape in the user or host');
  }
  p.params.delete('schema');
  const conn = join(p);
  try {
    // pg's own parser, so that what we accept pg can use (loaded only here: start-up time).
    (createRequire(import.meta.url)('pg-connection-string') as { parse(s: string): unknown }).parse(conn);
  } catch (e) {
    throw badUrl(url, oneLine(String((e as Error).message ?? e)));
  }
  return { conn, schema, display: redact(url) };
}

/** The URL with `schema` set (replacing one it had). */
export function withSchema(url: string, schema: string): string {
  const p = split(url);
  p.params.set('schema', schema);
  const out = join(p);
  parsePgUrl(out);
  return out;
}

/** The schema for a vault registered as `name`: avfs_ + the name folded to [a-z0-9_]. */
export function schemaForName(name: string): string {
  return ('avfs_' + name.toLowerCase().replace(/[^a-z0-9_]/g, '_')).slice(0, 63);
}

/** Does the URL name its schema itself? */
export function hasSchema(url: string): boolean {
  return split(url).params.has('schema');
}
