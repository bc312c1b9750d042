// What every tool file shares: the shape of a tool definition, the Stat as tools show it, and
// the one way a failure becomes a tool error ("ENOENT: /a: no such file or directory").
import { z } from 'zod';
import { ERROR_CODES, isVfsError, vfsError } from '../errors.js';
import type { Stat } from '../api/types.js';
import type { Confinement } from './confine.js';
import type { Session } from './session.js';

export type Shape = z.ZodRawShape;
export type Args<S extends Shape> = z.infer<z.ZodObject<S>>;

export interface ToolResult<O> {
  /** What a model reads: one text block, or several. */
  text: string | string[];
  /** The same result as data (structuredContent), matching the tool's output schema. */
  data: O;
}

export interface ToolDef<I extends Shape = Shape, O extends Shape = Shape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  /** Changes the vault: not offered with --read-only (its readOnlyHint is the opposite). */
  mutates: boolean;
  /** Changes the whole vault at once: not offered with --root. */
  wholeVault?: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  run(args: Args<I>, s: Session): Promise<ToolResult<Args<O>>>;
}

/** What every read-only tool declares: it changes nothing, so it destroys nothing and can be repeated. */
export const READ_ONLY = { mutates: false, destructiveHint: false, idempotentHint: true } as const;

/** Keeps each tool's input and output types tied to its schemas. */
export function tool<I extends Shape, O extends Shape>(d: ToolDef<I, O>): ToolDef<I, O> {
  return d;
}

// ---- shared schema pieces -------------------------------------------------------------------

export const PATH_HELP = "a path in the vault, absolute from '/' (the top of what this server shows)";

export const pathArg = (what = PATH_HELP): z.ZodString => z.string().describe(what);

export const atArg = z
  .string()
  .optional()
  .describe("read the vault as it was at this point: a snapshot name, an operation number ('42'), or a time (ISO 8601, or '10m' / '2h' / '3d' ago). Omit for now.");

export const FILE_TYPES = ['file', 'directory', 'symlink'] as const;

export const statShape = {
  path: z.string(),
  name: z.string(),
  type: z.enum(FILE_TYPES),
  size: z.number().describe('bytes (folders: 0)'),
  mode: z.string().describe("permission bits in octal, e.g. '0644'"),
  version: z.number().describe('content version: 1 when created, +1 on each change of content'),
  mtime: z.string().describe('last modification, ISO 8601'),
  ctime: z.string(),
  birthtime: z.string(),
  hash: z.string().optional().describe('SHA-256 of the content (files)'),
  target: z.string().optional().describe('where a symlink points'),
};
export const statSchema = z.object(statShape);
export type StatOut = z.infer<typeof statSchema>;

export function statOut(st: Stat, c: Confinement): StatOut {
  const out: StatOut = {
    path: c.show(st.path),
    name: st.path === c.root ? '/' : st.name,
    type: st.type,
    size: st.size,
    mode: '0' + st.mode.toString(8).padStart(3, '0'),
    version: st.version,
    mtime: new Date(st.mtimeMs).toISOString(),
    ctime: new Date(st.ctimeMs).toISOString(),
    birthtime: new Date(st.birthtimeMs).toISOString(),
  };
  if (st.hash !== undefined) out.hash = st.hash;
  if (st.target !== undefined) out.target = st.target;
  return out;
}

// ---- text helpers ---------------------------------------------------------------------------

/** The text, or undefined for binary content (a NUL byte, or bytes that are not UTF-8). */
export function utf8OrUndefined(buf: Buffer): string | undefined {
  if (buf.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    return undefined;
  }
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** One line whatever the input holds: control characters escaped, newlines included. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (ch) => (ch === '\n' ? '\\n' : ch === '\t' ? '\\t' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Content handed to write_file / append_file, as bytes, within the size a call may write. */
export const MAX_WRITE_BYTES = 32 * 1024 * 1024;

export function contentBytes(content: string, encoding: 'utf8' | 'base64' | undefined, path: string): Buffer {
  // Checked on the string first: a 100 MiB string is refused before it is copied again.
  const limit = MAX_WRITE_BYTES;
  if (encoding === 'base64') {
    if (content.length > Math.ceil(limit / 3) * 4 + 4) throw tooBig(path);
    if (!/^[A-Za-z0-9+/=\s_-]*$/.test(content)) throw vfsError('EINVAL', undefined, 'content is not base64 (encoding: "base64")');
    const buf = Buffer.from(content, 'base64');
    if (buf.length > limit) throw tooBig(path);
    return buf;
  }
  if (content.length > limit) throw tooBig(path);
  const buf = Buffer.from(content, 'utf8');
  if (buf.length > limit) throw tooBig(path);
  return buf;
}

function tooBig(path: string): Error {
  return vfsError('EFBIG', path, `content over ${MAX_WRITE_BYTES / 1024 / 1024} MiB: one call writes at most that much; write the first part with write_file, then the rest with append_file`);
}

// ---- errors ---------------------------------------------------------------------------------

export interface ToolErrorInfo {
  code: string;
  message: string;
}

/** Any failure as a code and one line; vault paths shown as the client sees them. */
export function describeError(e: unknown, c?: Confinement): ToolErrorInfo {
  let code: string;
  let message: string;
  if (isVfsError(e)) {
    code = e.code;
    message = e.message;
  } else {
    const host = (e as { code?: unknown })?.code;
    code = typeof host === 'string' && host in ERROR_CODES ? host : 'EIO';
    const text = e instanceof Error ? e.message : String(e);
    message = (text.split('\n')[0] || ERROR_CODES.EIO).trim();
  }
  if (c) message = c.message(message);
  return { code, message: oneLine(message) };
}

export function errorLine(info: ToolErrorInfo): string {
  return `${info.code}: ${info.message}`;
}
