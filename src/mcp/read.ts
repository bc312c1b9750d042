// Reading a file for a model: a window of lines (offset and limit), streamed so that a line
// window of a huge file reads only as far as it needs, capped in characters so a reply stays
// a size a model can take; binary content comes back as base64 when it is small.
import { z } from 'zod';
import { vfsError } from '../errors.js';
import type { FileOps } from '../api/fileops.js';
import type { Session } from './session.js';
import { humanBytes } from './common.js';

export const DEFAULT_LINES = 2000;
/** Characters of text one read returns at most. */
export const MAX_CHARS = 256 * 1024;
/** Binary content is returned (base64) up to this size. */
export const MAX_BINARY = 1024 * 1024;

export const readShape = {
  path: z.string(),
  encoding: z.enum(['utf8', 'base64']).describe('utf8: content is the text; base64: the file is binary and content holds its bytes'),
  content: z.string(),
  size: z.number().describe('size of the whole file in bytes'),
  version: z.number().describe('content version of what was read'),
  offset: z.number().describe('line number (from 1) of the first line returned'),
  lines: z.number().describe('number of lines returned'),
  totalLines: z.number().optional().describe('lines in the file (known when the read reached its end)'),
  truncated: z.boolean().describe('true when the file goes on after what was returned'),
  nextOffset: z.number().optional().describe('offset to pass to read the next part'),
  at: z.string().optional().describe('the point in history read, when `at` or `version` was given'),
};
export type ReadOut = z.infer<z.ZodObject<typeof readShape>>;

interface Window {
  content: string;
  lines: number;
  totalLines?: number;
  truncated: boolean;
  nextOffset?: number;
  lineCut: boolean;
}

/** Lines [offset, offset + limit) of UTF-8 text arriving in chunks; 'binary' if it is not text. */
async function lineWindow(chunks: AsyncIterable<Buffer>, offset: number, limit: number, maxChars: number): Promise<Window | 'binary'> {
  const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const out: string[] = [];
  let outChars = 0;
  let lineNo = 0; // lines completed so far
  let taken = 0;
  let stopped = false;
  let lineCut = false;
  let carry = '';
  // false: stop reading (the window is full, and there is more).
  const take = (line: string): boolean => {
    lineNo++;
    if (lineNo < offset) return true;
    if (taken >= limit || outChars + line.length > maxChars) {
      if (taken === 0) {
        out.push(line.slice(0, maxChars));
        taken = 1;
        lineCut = true;
      }
      stopped = true;
      return false;
    }
    out.push(line);
    outChars += line.length;
    taken++;
    return true;
  };
  reading: for await (const chunk of chunks) {
    if (chunk.includes(0)) return 'binary';
    let text: string;
    try {
      text = carry + dec.decode(chunk, { stream: true });
    } catch {
      return 'binary';
    }
    let pos = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', pos)) {
      if (!take(text.slice(pos, nl + 1))) break reading;
      pos = nl + 1;
    }
    carry = text.slice(pos);
    // Hold only the line in progress: a skipped line not at all, a wanted one up to what fits.
    if (lineNo + 1 < offset) carry = '';
    else if (carry !== '' && (carry.length > maxChars - outChars || taken >= limit)) {
      if (!take(carry)) break reading;
    }
  }
  if (!stopped) {
    try {
      carry += dec.decode();
    } catch {
      return 'binary';
    }
    if (carry !== '') take(carry);
  }
  const w: Window = { content: out.join(''), lines: taken, truncated: stopped, lineCut };
  if (stopped) w.nextOffset = offset + taken;
  else w.totalLines = lineNo;
  return w;
}

export interface ReadArgs {
  path: string;
  offset?: number | undefined;
  limit?: number | undefined;
  version?: number | undefined;
  at?: string | undefined;
}

/** Read one file as read_file does; also used by read_multiple_files and resources. */
export async function readForModel(s: Session, a: ReadArgs, maxChars = MAX_CHARS): Promise<ReadOut> {
  const offset = a.offset ?? 1;
  const limit = a.limit ?? DEFAULT_LINES;
  if (a.version !== undefined && a.at !== undefined) throw vfsError('EINVAL', undefined, 'give either version or at, not both');
  if (a.version !== undefined) {
    const version = a.version;
    const p = await s.read((ops) => s.resolve(ops, a.path, false));
    const { version: v, data } = await s.vault.readVersion(p, version);
    return shape(s, p, data.length, v.version, offset, limit, maxChars, `version ${version}`, async function* () {
      yield data;
    }, async () => data);
  }
  return s.readAt(a.at, async (ops: FileOps, label?: string) => {
    const p = await s.resolve(ops, a.path, true);
    const st = await ops.stat(p);
    if (st.type === 'directory') throw vfsError('EISDIR', p, 'is a directory (use list_directory or directory_tree)');
    return shape(s, p, st.size, st.version, offset, limit, maxChars, label, () => ops.readStream(p), () => ops.readFile(p));
  });
}

async function shape(
  s: Session,
  p: string,
  size: number,
  version: number,
  offset: number,
  limit: number,
  maxChars: number,
  at: string | undefined,
  chunks: () => AsyncIterable<Buffer>,
  whole: () => Promise<Buffer>,
): Promise<ReadOut> {
  const w = await lineWindow(chunks(), offset, limit, maxChars);
  const base = { path: s.out(p), size, version, ...(at !== undefined ? { at } : {}) };
  if (w === 'binary') {
    if (size > MAX_BINARY) {
      throw vfsError('EFBIG', p, `binary file of ${humanBytes(size)}: read_file returns binary content (as base64) only up to ${humanBytes(MAX_BINARY)}`);
    }
    const data = await whole();
    return { ...base, encoding: 'base64', content: data.toString('base64'), offset: 1, lines: 0, truncated: false };
  }
  const out: ReadOut = { ...base, encoding: 'utf8', content: w.content, offset, lines: w.lines, truncated: w.truncated };
  if (w.totalLines !== undefined) out.totalLines = w.totalLines;
  if (w.nextOffset !== undefined) out.nextOffset = w.nextOffset;
  return out;
}

/** The note a model sees after the text when there is more, or the read went past the end. */
export function readNote(r: ReadOut): string | undefined {
  if (r.encoding === 'base64') return `[binary file, ${humanBytes(r.size)}: content is base64]`;
  const last = r.offset + r.lines - 1;
  if (r.truncated) {
    const what = r.lines === 1 && r.content.length >= MAX_CHARS ? `line ${r.offset} (cut: longer than ${humanBytes(MAX_CHARS)})` : `lines ${r.offset}-${last}`;
    return `[${what} of ${r.path}; more follows: call read_file with offset ${r.nextOffset}]`;
  }
  if (r.lines === 0 && r.totalLines !== undefined && r.offset > 1 && r.offset > r.totalLines) {
    return `[${r.path} has ${r.totalLines} lines; offset ${r.offset} is past the end]`;
  }
  return undefined;
}
