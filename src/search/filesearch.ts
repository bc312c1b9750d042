// Searching one file's content for a compiled grep pattern: how the bytes are looked at (bytes
// for a literal, latin1 for ASCII, UTF-16 otherwise), which lines are selected (-v, -m), with
// their context (-A, -B) and numbers. Used by src/api/grep-batches.ts on the calling thread and
// by grep-worker.ts on a second one (the work is the same, so is the code).
import { isAscii, isUtf8 } from 'node:buffer';
import type { ReadTx } from '../storage/contract.js';
import { vfsError } from '../errors.js';
import { chunkList } from '../content/chunks.js';
import { compilePatterns, type CompiledPattern, type PatternSpec } from './pattern.js';
import { Matcher, scanBytes } from './matcher.js';

export type Output = 'lines' | 'count' | 'files' | 'files-without-match';

export interface GrepLine {
  /** 1-based (0 when lineNumbers is false). */
  line: number;
  text: string;
  /** True for a selected line, false for a context line. */
  selected: boolean;
}

/** Everything that decides a file's outcome, as plain data (it crosses to a worker). */
export interface SearchSpec {
  pattern: PatternSpec;
  output: Output;
  invert: boolean;
  before: number;
  after: number;
  maxCount: number;
  lineNumbers: boolean;
  maxLineChars: number;
  timeoutMs?: number;
}

export function makeSearch(spec: SearchSpec): Search {
  const compiled = compilePatterns(spec.pattern);
  return {
    compiled,
    matcher: new Matcher(compiled, { timeoutMs: spec.timeoutMs }),
    needle: compiled.literal !== undefined ? Buffer.from(compiled.literal) : undefined,
    // A literal pattern is its own required string, searched by scanBytes instead.
    required: compiled.required !== undefined && compiled.literal === undefined ? Buffer.from(compiled.required) : undefined,
    output: spec.output,
    invert: spec.invert,
    before: spec.before,
    after: spec.after,
    maxCount: spec.maxCount,
    lineNumbers: spec.lineNumbers,
    maxLineChars: spec.maxLineChars,
  };
}

/** Most lines worth finding in one file: all for -v, the -m count for lines and -c, one for -l/-L. */
export const maxLines = (s: Search): number => (s.invert ? Infinity : s.output === 'lines' || s.output === 'count' ? s.maxCount : 1);

/**
 * The outcome of each content (by id). `contents`: id -> bytes, and whether the index vouches
 * for it being text. One round trip to the matcher for all of them.
 */
export async function searchContents(s: Search, contents: Map<string, { buf: Buffer; known: boolean; path: string }>): Promise<Map<string, Outcome>> {
  const max = maxLines(s);
  const jobs: [string, Job][] = [];
  for (const [hash, c] of contents) jobs.push([hash, prepare(s, c.buf, c.known, c.path)]);
  const withText = jobs.filter(([, j]) => j.text !== undefined);
  if (withText.length > 0) {
    const where = (): string => (withText.length === 1 ? withText[0][1].path : `${withText.length} files (${withText[0][1].path}, ...)`);
    const scanned = await s.matcher.scan(
      withText.map(([, j]) => j.text!),
      max,
      where,
    );
    withText.forEach(([, j], i) => (j.pairs = scanned[i]));
  }
  const out = new Map<string, Outcome>();
  for (const [hash, j] of jobs) {
    if (!j.binary && !j.done && j.text === undefined && s.needle) scanBytes(j.buf, s.needle, max, j.pairs);
    out.set(hash, j.binary ? 'binary' : fileResult(s, j.view, j.pairs));
  }
  return out;
}

/** A content's bytes by its id (one chunk, or a manifest's chunks); undefined if gone (collected since). */
export async function readBlob(tx: ReadTx, hash: string, size: number, chunkSize: number): Promise<Buffer | undefined> {
  if (size === 0) return Buffer.alloc(0);
  const id = Buffer.from(hash, 'hex');
  if (size <= chunkSize) return tx.get('chunks', id);
  let list: Buffer[];
  try {
    list = await chunkList(tx, { hash, size }, chunkSize);
  } catch (e) {
    if ((e as { code?: string }).code === 'ECORRUPT') return undefined;
    throw e;
  }
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const h of list) {
    const c = await tx.get('chunks', h);
    if (c === undefined) return undefined;
    if (off + c.length > size) throw vfsError('ECORRUPT', undefined, `content ${hash.slice(0, 12)} holds more bytes than its size`);
    c.copy(out, off);
    off += c.length;
  }
  return off === size ? out : out.subarray(0, off);
}

/** Counts newlines up to a position, moving forward only. */
class LineCounter {
  private pos = 0;
  private line = 1;
  constructor(private readonly nl: (from: number) => number) {}
  at(p: number): number {
    for (;;) {
      const i = this.nl(this.pos);
      if (i < 0 || i >= p) break;
      this.line++;
      this.pos = i + 1;
    }
    return this.line;
  }
}

/** One file's text as grep searches it: bytes (literal search), latin1 or UTF-16. */
export interface View {
  n: number;
  /** Index of the next newline at or after `from`, or -1. */
  nl(from: number): number;
  /** Index of the last newline at or before `from` (from >= 0), or -1. */
  prevNl(from: number): number;
  slice(a: number, b: number): string;
}

export function bufferView(buf: Buffer): View {
  return {
    n: buf.length,
    nl: (from) => buf.indexOf(10, from),
    prevNl: (from) => buf.lastIndexOf(10, from),
    slice: (a, b) => buf.toString('utf8', a, b),
  };
}

export function stringView(text: string): View {
  return {
    n: text.length,
    nl: (from) => text.indexOf('\n', from),
    prevNl: (from) => text.lastIndexOf('\n', from),
    slice: (a, b) => text.slice(a, b),
  };
}

/** A compiled search, ready for file contents: the spec's settings with the pattern compiled. */
export interface Search extends Omit<SearchSpec, 'pattern' | 'timeoutMs'> {
  compiled: CompiledPattern;
  matcher: Matcher;
  needle: Buffer | undefined;
  required: Buffer | undefined;
}

/** Turn one file's matching line ranges into its result. */
export function fileResult(s: Search, v: View, pairs: number[]): { count: number; lines: GrepLine[] } {
  const n = v.n;
  const lines: GrepLine[] = [];
  if (s.maxCount === 0) return { count: 0, lines }; // -m 0: GNU reads nothing
  if (!s.invert && s.output !== 'lines') return { count: Math.min(pairs.length / 2, s.maxCount), lines };
  if (s.invert && s.output !== 'lines') {
    // Lines that did not match: all lines minus the matched ones.
    let total = 0;
    for (let p = 0; p < n; ) {
      const e = v.nl(p);
      total++;
      if (e < 0) break;
      p = e + 1;
    }
    return { count: Math.min(total - pairs.length / 2, s.maxCount), lines };
  }
  const counter = s.lineNumbers || s.before > 0 || s.after > 0 ? new LineCounter(v.nl) : undefined;
  let printedTo = 0; // every line starting before this offset is out (or skipped for good)
  let afterLeft = 0;
  let count = 0;
  const lineEnd = (p: number): number => {
    const e = v.nl(p);
    return e < 0 ? n : e;
  };
  const emit = (a: number, b: number, selected: boolean): void => {
    let text = v.slice(a, b);
    if (text.length > s.maxLineChars) text = text.slice(0, s.maxLineChars);
    lines.push({ line: counter ? counter.at(a) : 0, text, selected });
    printedTo = b + 1;
  };
  const select = (a: number, b: number): boolean => {
    while (afterLeft > 0 && printedTo < a) {
      emit(printedTo, lineEnd(printedTo), false);
      afterLeft--;
    }
    afterLeft = 0;
    if (s.before > 0) {
      let p = a;
      for (let k = 0; k < s.before && p > printedTo; k++) p = p - 2 < 0 ? 0 : v.prevNl(p - 2) + 1;
      while (p < a) {
        const e = lineEnd(p);
        emit(p, e, false);
        p = e + 1;
      }
    }
    emit(a, b, true);
    afterLeft = s.after;
    return ++count < s.maxCount;
  };
  if (!s.invert) {
    for (let i = 0; i < pairs.length; i += 2) if (!select(pairs[i], pairs[i + 1])) break;
  } else {
    // The lines between matched ones are the selected ones.
    let pos = 0;
    let go = true;
    for (let i = 0; go && i <= pairs.length; i += 2) {
      const stop = i < pairs.length ? pairs[i] : n;
      while (pos < stop) {
        const e = lineEnd(pos);
        if (!(go = select(pos, e))) break;
        pos = e + 1;
      }
      if (i < pairs.length) pos = pairs[i + 1] + 1;
    }
  }
  while (afterLeft > 0 && printedTo < n) {
    emit(printedTo, lineEnd(printedTo), false);
    afterLeft--;
  }
  return { count, lines };
}

/** What one content yields: its selected lines (and context), or the verdict binary. */
export type Outcome = { count: number; lines: GrepLine[] } | 'binary';

export interface Job {
  path: string;
  buf: Buffer;
  view: View;
  /** The text the matcher searches (latin1 or UTF-16); none for a literal found in the bytes. */
  text?: string;
  binary: boolean;
  /** The matching lines are known already (pairs final). */
  done?: boolean;
  pairs: number[];
}

/**
 * The lines holding `req` that match, tested one by one (on this thread: inThread patterns
 * only). Undefined when `req` turns out too common for that to beat one pass over the text.
 */
function linesWith(s: Search, buf: Buffer, req: Buffer, ascii: boolean, max: number, path: string): number[] | undefined {
  const n = buf.length;
  const out: number[] = [];
  const most = Math.max(32, n >> 12);
  const t0 = performance.now();
  let tested = 0;
  for (let pos = 0; pos < n && out.length < max * 2; ) {
    const at = buf.indexOf(req, pos);
    if (at < 0) break;
    if (++tested > most) return undefined;
    const ls = at === 0 ? 0 : buf.lastIndexOf(10, at - 1) + 1;
    let le = buf.indexOf(10, at);
    if (le < 0) le = n;
    if (s.matcher.testLine(buf.toString(ascii ? 'latin1' : 'utf8', ls, le))) out.push(ls, le);
    pos = le + 1;
  }
  s.matcher.check(t0, () => path);
  return out;
}

/** A file's content as grep will search it (or its verdict: binary). */
export function prepare(s: Search, buf: Buffer, known: boolean, path: string): Job {
  const job: Job = { path, buf, view: bufferView(buf), binary: false, pairs: [] };
  // The index vouches for the files it holds as text; any other is checked here.
  if (!known && (buf.includes(0) || !isUtf8(buf))) job.binary = true;
  else if (s.required && buf.indexOf(s.required) < 0) {
    // The string every match holds is not there: nothing to search.
    job.done = true;
  } else if (s.required && s.matcher.inThread && !s.compiled.perLine) {
    const max = s.invert ? Infinity : s.output === 'lines' || s.output === 'count' ? s.maxCount : 1;
    const pairs = linesWith(s, buf, s.required, s.compiled.asciiOnly, max, path);
    if (pairs !== undefined) {
      job.pairs = pairs;
      job.done = true;
      return job;
    }
    return prepareText(s, job, buf);
  } else if (s.needle) {
    // a literal: found with indexOf in the bytes, no text made at all
  } else prepareText(s, job, buf);
  return job;
}

function prepareText(s: Search, job: Job, buf: Buffer): Job {
  if (s.compiled.asciiOnly || isAscii(buf)) {
    // Bytes as latin1: a copy, no decoding. Right for a pattern of ASCII characters only (a
    // multi-byte character never matches any of it), and for any pattern on ASCII text.
    job.text = buf.toString('latin1');
  } else {
    job.text = buf.toString('utf8');
    job.view = stringView(job.text);
  }
  return job;
}

