// grep over vault files, safe against hostile patterns. A regular expression from an agent can
// backtrack for longer than the universe lasts (`(a+)+$` on a long line of a's followed by a
// "b"), and V8 cannot interrupt a running match. So the matching runs in a worker thread: the
// text goes over in batches, each batch must be answered within a time limit, and a worker that
// does not answer is terminated and the search fails with a clear error. The caller supplies
// the files (walking, confinement and reading stay with it), so the search issue can replace
// this engine without touching its callers.
import { Worker } from 'node:worker_threads';
import { vfsError } from '../errors.js';

export interface GrepOptions {
  pattern: string;
  ignoreCase?: boolean;
  /** Take the pattern literally (no regular-expression syntax). */
  fixedStrings?: boolean;
  /** Stop after this many matching lines (default 200). */
  maxMatches?: number;
  /** How long one batch of text (at most `batchBytes`) may take, in ms (default 300: a sane pattern needs a few ms). */
  timeoutMs?: number;
  /** Characters of a matching line returned; longer lines are cut (default 400). */
  maxLineChars?: number;
  /** Text per batch sent to the worker (default 256 KiB). */
  batchBytes?: number;
  /** Files larger than this are skipped (default 32 MiB). */
  maxFileBytes?: number;
}

export interface GrepFile {
  path: string;
  size: number;
  /** Called only for files that will be searched (not for the skipped big ones). */
  read(): Promise<Buffer>;
}

export interface GrepMatch {
  path: string;
  /** 1-based line number. */
  line: number;
  text: string;
}

export interface GrepResult {
  matches: GrepMatch[];
  /** Files whose text was searched. */
  filesSearched: number;
  /** Files left out: binary content (a NUL byte or invalid UTF-8) or over maxFileBytes. */
  skipped: { path: string; reason: 'binary' | 'too large' }[];
  /** True when maxMatches was reached (there may be more). */
  truncated: boolean;
}

const MAX_PATTERN = 10_000;

// The worker: compiles the pattern once, then answers each batch with its matching lines.
// Plain JavaScript in a string (an `eval` worker): it works the same from tsc's output and
// from the CLI bundle, where a separate worker file would not be where a URL expects it.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const re = new RegExp(workerData.source, workerData.flags);
parentPort.on('message', (batch) => {
  const hits = [];
  for (const t of batch.texts) {
    const text = t.text;
    const n = text.length;
    let pos = 0;
    let line = 1;
    while (pos < n && hits.length < batch.max) {
      let nl = text.indexOf('\\n', pos);
      if (nl < 0) nl = n;
      const s = text.slice(pos, nl);
      re.lastIndex = 0;
      if (re.test(s)) hits.push({ i: t.i, line, text: s.length > batch.cut ? s.slice(0, batch.cut) : s });
      pos = nl + 1;
      line++;
    }
    if (hits.length >= batch.max) break;
  }
  parentPort.postMessage({ id: batch.id, hits });
});
`;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compile the pattern here first: a syntax error is the caller's EINVAL, not a dead worker. */
export function compilePattern(opts: Pick<GrepOptions, 'pattern' | 'ignoreCase' | 'fixedStrings'>): { source: string; flags: string } {
  if (typeof opts.pattern !== 'string' || opts.pattern.length === 0) throw vfsError('EINVAL', undefined, 'grep: empty pattern');
  if (opts.pattern.length > MAX_PATTERN) throw vfsError('EINVAL', undefined, `grep: pattern longer than ${MAX_PATTERN} characters`);
  const source = opts.fixedStrings ? escapeRegExp(opts.pattern) : opts.pattern;
  const flags = opts.ignoreCase ? 'i' : '';
  try {
    new RegExp(source, flags);
  } catch (e) {
    throw vfsError('EINVAL', undefined, `grep: invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  return { source, flags };
}

function utf8(buf: Buffer): string | undefined {
  if (buf.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    return undefined;
  }
}

interface Hit {
  i: number;
  line: number;
  text: string;
}

/** A worker that answers batches, each within `timeoutMs`, or is terminated. */
class Matcher {
  private worker: Worker;
  private ready: Promise<void>;
  private nextId = 1;
  private dead: Error | undefined;

  constructor(
    compiled: { source: string; flags: string },
    private readonly timeoutMs: number,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: compiled, resourceLimits: { maxOldGenerationSizeMb: 256 } });
    // Always listened to: an 'error' nobody listens to would take the whole process down.
    this.worker.on('error', (e) => {
      this.dead ??= vfsError('EIO', undefined, `grep: the matcher failed: ${e.message.split('\n')[0]}`);
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('online', () => resolve());
      this.worker.once('error', () => reject(this.dead));
    });
    // Awaited only by run(): a worker that fails before any run must not be an unhandled rejection.
    this.ready.catch(() => {});
  }

  async run(texts: { i: number; text: string }[], max: number, cut: number, where: string): Promise<Hit[]> {
    if (this.dead) throw this.dead;
    await this.ready;
    const id = this.nextId++;
    const w = this.worker;
    return new Promise<Hit[]>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
      };
      const onMessage = (m: { id: number; hits: Hit[] }): void => {
        if (m.id !== id) return;
        done();
        resolve(m.hits);
      };
      const onError = (e: Error): void => {
        done();
        reject(vfsError('EIO', undefined, `grep: the matcher failed: ${e.message.split('\n')[0]}`));
      };
      const timer = setTimeout(() => {
        done();
        this.dead = vfsError(
          'EINVAL',
          undefined,
          `grep: the pattern took over ${this.timeoutMs} ms on ${where} and was stopped (catastrophic backtracking, as nested quantifiers like (a+)+ cause); simplify the pattern, or use fixed strings`,
        );
        void w.terminate();
        reject(this.dead);
      }, this.timeoutMs);
      w.on('message', onMessage);
      w.on('error', onError);
      w.postMessage({ id, texts, max, cut });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Search `files` line by line for a regular expression (or a fixed string). */
export async function grepFiles(files: AsyncIterable<GrepFile>, opts: GrepOptions): Promise<GrepResult> {
  const compiled = compilePattern(opts);
  const maxMatches = opts.maxMatches ?? 200;
  const cut = opts.maxLineChars ?? 400;
  const batchBytes = opts.batchBytes ?? 256 * 1024;
  const maxFileBytes = opts.maxFileBytes ?? 32 * 1024 * 1024;
  const result: GrepResult = { matches: [], filesSearched: 0, skipped: [], truncated: false };
  const matcher = new Matcher(compiled, opts.timeoutMs ?? 300);
  // One batch: slices of files, each with where its first line is in its file.
  let texts: { i: number; text: string }[] = [];
  let slices: { path: string; firstLine: number }[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (texts.length === 0) return;
    const names = [...new Set(slices.map((s) => s.path))];
    const where = names.length === 1 ? names[0] : `${names.length} files (${names[0]}, ...)`;
    const hits = await matcher.run(texts, maxMatches - result.matches.length, cut, where);
    for (const h of hits) result.matches.push({ path: slices[h.i].path, line: slices[h.i].firstLine + h.line - 1, text: h.text });
    texts = [];
    slices = [];
    bytes = 0;
    if (result.matches.length >= maxMatches) result.truncated = true;
  };
  try {
    for await (const f of files) {
      if (f.size > maxFileBytes) {
        result.skipped.push({ path: f.path, reason: 'too large' });
        continue;
      }
      const text = utf8(await f.read());
      if (text === undefined) {
        result.skipped.push({ path: f.path, reason: 'binary' });
        continue;
      }
      result.filesSearched++;
      // A big file goes over in slices of whole lines, so no batch holds much more than its share.
      let line = 1;
      for (let start = 0; start < text.length; ) {
        let end = Math.min(text.length, start + batchBytes);
        if (end < text.length) {
          const nl = text.lastIndexOf('\n', end - 1);
          if (nl >= start) end = nl + 1;
          else {
            // One line longer than a batch: it goes whole (a line is never cut in two).
            const next = text.indexOf('\n', end);
            end = next < 0 ? text.length : next + 1;
          }
        }
        const piece = text.slice(start, end);
        texts.push({ i: slices.length, text: piece });
        slices.push({ path: f.path, firstLine: line });
        line += countLines(piece);
        bytes += piece.length;
        start = end;
        if (bytes >= batchBytes) {
          await flush();
          if (result.truncated) return result;
        }
      }
    }
    await flush();
    return result;
  } finally {
    await matcher.close();
  }
}

function countLines(s: string): number {
  let n = 0;
  for (let p = s.indexOf('\n'); p >= 0; p = s.indexOf('\n', p + 1)) n++;
  return n;
}
